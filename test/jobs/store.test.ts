/**
 * The store's results: small ones in their SQLite row, large ones in files beside the database (written
 * before the row, read back piece by piece), retention deleting files, a vanished file answered with
 * MG-JOB-007, orphans of a crash removed at start-up, the seeded cache by hard link, and old databases
 * migrated. Real SQLite and a real directory; no HTTP.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/spec/errors.js';
import type { NewJobRow } from '../../src/jobs/store.js';
import { SqliteStore as Store } from '../../src/jobs/sqlite-store.js';
import { bytes, jobRow, readAll as readPiecewise } from '../helpers/store-rows.js';

const tmp = mkdtempSync(join(tmpdir(), 'gw-store-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const open: Store[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

const INLINE_MAX = 1024;
const T0 = 1_700_000_000_000;
/** A running job started at T0 (the contract suite's rows start queued). */
const job = (id: string, over: Partial<NewJobRow> = {}): NewJobRow =>
  jobRow(id, T0, { request: '{}', seed: 1, state: 'running', started_at: T0, deadline: T0 + 60_000, ...over });
/** Odd-sized pieces, so piece boundaries fall anywhere. */
const readAll = (s: Store, id: string) => readPiecewise(s, id, 777);

function store(path = ':memory:', opts: ConstructorParameters<typeof Store>[1] = {}): Store {
  const s = new Store(path, { inlineResultMaxBytes: INLINE_MAX, ...opts });
  open.push(s);
  return s;
}



describe('Store results', () => {
  it('keeps a result up to the row limit in its row and writes no file', async () => {
    const s = store();
    await s.insertJob(job('job_small_0001'));
    const glb = bytes(INLINE_MAX, 2);
    expect(await s.markSucceeded('job_small_0001', glb, T0 + 5, T0 + 1000)).toMatchObject({ kind: 'inline' });
    const row = (await s.getJob('job_small_0001'))!;
    expect(row).toMatchObject({ state: 'succeeded', result_path: null, result_size: null });
    expect(row.result!.equals(glb)).toBe(true);
    expect(readdirSync(s.files.dir)).toEqual([]);
    expect((await readAll(s, 'job_small_0001')).equals(glb)).toBe(true);
  });

  it('writes a result over the row limit to <id>.glb, durably named before the row succeeds, and reads it back', async () => {
    const s = store(join(tmp, 'large.db'));
    await s.insertJob(job('job_large_0001'));
    const glb = bytes(INLINE_MAX * 40 + 7, 3);
    const pending = s.markSucceeded('job_large_0001', glb, T0 + 5, T0 + 1000);
    expect((await s.getJob('job_large_0001'))!.state).toBe('running'); // not succeeded while the file is being written
    expect(await pending).toEqual({ kind: 'file', name: 'job_large_0001.glb', byteLength: glb.byteLength });
    const row = (await s.getJob('job_large_0001'))!;
    expect(row).toMatchObject({ state: 'succeeded', result: null, result_path: 'job_large_0001.glb', result_size: glb.byteLength });
    expect(s.files.dir).toBe(join(tmp, 'large.db.results'));
    expect(readdirSync(s.files.dir)).toEqual(['job_large_0001.glb']); // no temporary file left behind
    expect(readFileSync(join(s.files.dir, 'job_large_0001.glb')).equals(glb)).toBe(true);
    expect((await readAll(s, 'job_large_0001')).equals(glb)).toBe(true);
  });

  it('keeps no file for a job cancelled while its result was being written', async () => {
    const s = store();
    await s.insertJob(job('job_cancel_001'));
    const pending = s.markSucceeded('job_cancel_001', bytes(INLINE_MAX * 8), T0 + 5, T0 + 1000);
    expect((await s.markCancelled('job_cancel_001', T0 + 1, T0 + 1000))).toBe(true);
    expect(await pending).toBeUndefined();
    expect((await s.getJob('job_cancel_001'))).toMatchObject({ state: 'cancelled', result_path: null });
    expect(readdirSync(s.files.dir)).toEqual([]);
  });

  it('gives a :memory: store a temporary result directory that close() removes', async () => {
    const s = new Store(':memory:', { inlineResultMaxBytes: INLINE_MAX });
    await s.insertJob(job('job_memory_001'));
    await s.markSucceeded('job_memory_001', bytes(INLINE_MAX * 2), T0, T0 + 1000);
    const dir = s.files.dir;
    expect(readdirSync(dir)).toEqual(['job_memory_001.glb']);
    s.close();
    expect(existsSync(dir)).toBe(false);
  });

  it('sweep deletes the files of expired jobs and expired cached results, and keeps those of live ones', async () => {
    const s = store();
    for (const id of ['job_expired_01', 'job_live_00001']) await s.insertJob(job(id));
    const expired = await s.markSucceeded('job_expired_01', bytes(INLINE_MAX * 3, 4), T0, T0 + 1000);
    const live = await s.markSucceeded('job_live_00001', bytes(INLINE_MAX * 3, 5), T0, T0 + 9000);
    await s.putCachedResult('k-expired', expired!, T0, T0 + 1000);
    await s.putCachedResult('k-live', live!, T0, T0 + 9000);
    expect(readdirSync(s.files.dir)).toHaveLength(4);

    const swept = (await s.sweep(T0 + 1000));
    expect(swept).toMatchObject({ jobs: 1, cache: 1 });
    expect((await s.getJob('job_expired_01'))).toBeUndefined();
    const left = readdirSync(s.files.dir).sort();
    expect(left).toHaveLength(2);
    expect(left).toContain('job_live_00001.glb');
    expect((await readAll(s, 'job_live_00001')).equals(bytes(INLINE_MAX * 3, 5))).toBe(true);
    expect(await s.claimCachedResult('k-live', T0 + 1000, 'job_from_cache')).toMatchObject({ kind: 'file' });
  });

  it('deleting a finished job deletes its file', async () => {
    const s = store();
    await s.insertJob(job('job_deleted_01'));
    await s.markSucceeded('job_deleted_01', bytes(INLINE_MAX * 2), T0, T0 + 1000);
    (await s.deleteJob('job_deleted_01'));
    expect(readdirSync(s.files.dir)).toEqual([]);
  });

  it('answers a vanished result file with MG-JOB-007 (404 job_not_found) and marks the job failed with it', async () => {
    const s = store();
    await s.insertJob(job('job_vanished_1'));
    await s.markSucceeded('job_vanished_1', bytes(INLINE_MAX * 2), T0, T0 + 1000);
    unlinkSync(join(s.files.dir, 'job_vanished_1.glb'));
    const err = await s.openResult((await s.getJob('job_vanished_1'))!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ id: 'MG-JOB-007', status: 404, code: 'job_not_found' });
    const row = (await s.getJob('job_vanished_1'))!;
    expect(row).toMatchObject({ state: 'failed', result_path: null });
    expect(JSON.parse(row.error!).id).toBe('MG-JOB-007');
  });

  it('treats a result file cut short as lost, not as a shorter answer', async () => {
    const s = store();
    await s.insertJob(job('job_truncated1'));
    await s.markSucceeded('job_truncated1', bytes(INLINE_MAX * 2), T0, T0 + 1000);
    writeFileSync(join(s.files.dir, 'job_truncated1.glb'), bytes(10));
    await expect(s.openResult((await s.getJob('job_truncated1'))!)).rejects.toMatchObject({ id: 'MG-JOB-007' });
  });

  it('at start-up removes orphans past the grace period, keeps fresh and referenced files, and fails rows whose file is gone', async () => {
    const db = join(tmp, 'crash.db');
    const s1 = new Store(db, { inlineResultMaxBytes: INLINE_MAX });
    for (const id of ['job_kept_00001', 'job_lost_00001']) s1.insertJob(job(id));
    await s1.markSucceeded('job_kept_00001', bytes(INLINE_MAX * 2, 6), T0, T0 + 1000);
    await s1.markSucceeded('job_lost_00001', bytes(INLINE_MAX * 2, 7), T0, T0 + 1000);
    await s1.putCachedResult('k-lost', { kind: 'file', name: 'job_lost_00001.glb', byteLength: INLINE_MAX * 2 }, T0, T0 + 1000);
    const dir = s1.files.dir;
    s1.close();
    // A crash left a renamed file whose row was never updated and a half-written temporary file, an hour ago.
    const hourAgo = new Date(Date.now() - 3_600_000);
    for (const name of ['job_orphan_001.glb', 'job_orphan_002.glb.1a2b3c.tmp']) {
      writeFileSync(join(dir, name), bytes(100));
      utimesSync(join(dir, name), hourAgo, hourAgo);
    }
    writeFileSync(join(dir, 'job_inflight_1.glb.4d5e6f.tmp'), bytes(100)); // a write that may still be going on
    utimesSync(join(dir, 'job_kept_00001.glb'), hourAgo, hourAgo); // age alone never removes a referenced file
    for (const name of readdirSync(dir)) if (name.startsWith('cache-')) unlinkSync(join(dir, name));
    unlinkSync(join(dir, 'job_lost_00001.glb'));

    const s2 = store(db);
    expect(readdirSync(dir).sort()).toEqual(['job_inflight_1.glb.4d5e6f.tmp', 'job_kept_00001.glb']);
    expect((await s2.getJob('job_kept_00001'))!.state).toBe('succeeded');
    expect((await s2.getJob('job_lost_00001'))).toMatchObject({ state: 'failed', result_path: null });
    expect(await s2.claimCachedResult('k-lost', T0, 'job_new_000001')).toBeUndefined();
    expect(s2.db.prepare('SELECT COUNT(*) AS n FROM result_cache').get()).toEqual({ n: 0 });
    expect(statSync(join(dir, 'job_kept_00001.glb')).size).toBe(INLINE_MAX * 2);
  });

  it('caches a large result as a second name of the same file: job and cache entry outlive each other', async () => {
    const s = store();
    await s.insertJob(job('job_cached_001'));
    const glb = bytes(INLINE_MAX * 5, 8);
    const stored = await s.markSucceeded('job_cached_001', glb, T0, T0 + 1000);
    await s.putCachedResult('k', stored!, T0, T0 + 5000);
    (await s.deleteJob('job_cached_001'));
    const claimed = await s.claimCachedResult('k', T0 + 1, 'job_claimed_01');
    expect(claimed).toEqual({ kind: 'file', name: 'job_claimed_01.glb', byteLength: glb.byteLength });
    await s.insertJob(job('job_claimed_01', { state: 'succeeded', result_path: claimed!.kind === 'file' ? claimed!.name : null, result_size: glb.byteLength }));
    expect((await readAll(s, 'job_claimed_01')).equals(glb)).toBe(true);
    // Replacing the entry deletes the replaced file; the claimed job keeps its own.
    await s.putCachedResult('k', { kind: 'inline', glb: bytes(10) }, T0 + 2, T0 + 5000);
    expect(readdirSync(s.files.dir)).toEqual(['job_claimed_01.glb']);
    expect(await s.claimCachedResult('k', T0 + 3, 'job_claimed_02')).toEqual({ kind: 'inline', glb: bytes(10) });
  });

  it('opens a database written before result files existed and keeps its jobs and cached results', async () => {
    const db = join(tmp, 'old.db');
    const old = new Database(db);
    old.exec(`CREATE TABLE jobs (id TEXT PRIMARY KEY, owner TEXT NOT NULL, model TEXT NOT NULL, provider TEXT NOT NULL, request TEXT NOT NULL, seed INTEGER NOT NULL,
        state TEXT NOT NULL, checkpoint TEXT, progress REAL, queue_position INTEGER, wait_ms INTEGER, result BLOB, error TEXT, cache_key TEXT, created_at INTEGER NOT NULL,
        started_at INTEGER, updated_at INTEGER NOT NULL, finished_at INTEGER, expires_at INTEGER, deadline INTEGER NOT NULL);
      CREATE TABLE result_cache (key TEXT PRIMARY KEY, glb BLOB NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);`);
    old.prepare(`INSERT INTO jobs (id, owner, model, provider, request, seed, state, result, created_at, updated_at, deadline) VALUES ('job_old_000001', 'a', 'm', 'p', '{}', 1, 'succeeded', ?, 1, 1, 2)`).run(bytes(50));
    old.prepare(`INSERT INTO result_cache VALUES ('k-old', ?, 1, ?)`).run(bytes(60), T0 + 1000);
    old.close();

    const s = store(db);
    expect((await s.getJob('job_old_000001'))).toMatchObject({ state: 'succeeded', result_path: null, result_size: null });
    expect((await readAll(s, 'job_old_000001')).equals(bytes(50))).toBe(true);
    expect(await s.claimCachedResult('k-old', T0, 'job_x_00000001')).toEqual({ kind: 'inline', glb: bytes(60) });
    await s.insertJob(job('job_new_large1'));
    expect(await s.markSucceeded('job_new_large1', bytes(INLINE_MAX * 2), T0, T0 + 1000)).toMatchObject({ kind: 'file' });
  });
});
