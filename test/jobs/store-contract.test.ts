/**
 * The store contract: one suite, run against both implementations (SQLite in memory, Redis at REDIS_URL
 * under a random key prefix that is deleted afterwards). Every Store method: jobs and their states
 * (final states never overwritten, also by concurrent writers), checkpoints and progress, results small
 * and large read back piece by piece, a lost result, idempotency records with atomic first-writer-wins
 * (concurrent reservations from two connections = two instances), the seeded cache, the retention
 * sweep, adapter key-value state, counts, open/close. The Redis run fails, naming REDIS_URL, when Redis
 * cannot be reached: it is never skipped.
 */
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IdempotencyKeys } from '../../src/jobs/idempotency.js';
import { RedisStore } from '../../src/jobs/redis-store.js';
import { SqliteStore } from '../../src/jobs/sqlite-store.js';
import type { IdempotencyRow, NewJobRow, Store } from '../../src/jobs/store.js';
import { bytes, jobRow, readAll } from '../helpers/store-rows.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const T0 = 1_700_000_000_000;
const job = (id: string, over: Partial<NewJobRow> = {}): NewJobRow => jobRow(id, T0, over);
const FUTURE = Date.now() + 3_600_000;

interface Impl {
  name: 'sqlite' | 'redis';
  /** A fresh, open, empty store. */
  make(): Promise<Store>;
  /** A second handle on the same data, as another instance would have (SQLite: one process, the same store). */
  twin(s: Store): Promise<Store>;
  /** Removes a stored result behind the store's back (a lost file, an evicted key). */
  loseResult(s: Store, name: string): Promise<void>;
  /** Deletes whatever the store left behind. */
  dispose(s: Store): Promise<void>;
}

async function dropPrefix(s: RedisStore, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await s.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length) await s.redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

const prefixes = new WeakMap<Store, string>();

const IMPLS: Impl[] = [
  {
    name: 'sqlite',
    make: async () => {
      const s = new SqliteStore(':memory:', { inlineResultMaxBytes: 1024 });
      await s.open();
      return s;
    },
    twin: async (s) => s,
    loseResult: async (s, name) => unlinkSync(join((s as SqliteStore).files.dir, name)),
    dispose: async (s) => s.close(),
  },
  {
    name: 'redis',
    make: async () => {
      const prefix = `mgtest:${randomBytes(6).toString('hex')}:`;
      const s = new RedisStore({ url: REDIS_URL, prefix, connectTimeoutMs: 2_000 });
      prefixes.set(s, prefix);
      await s.open(); // rejects naming REDIS_URL when Redis is unreachable: the suite fails, never skips
      return s;
    },
    twin: async (s) => {
      const t = new RedisStore({ url: REDIS_URL, prefix: prefixes.get(s)! });
      prefixes.set(t, prefixes.get(s)!);
      await t.open();
      return t;
    },
    loseResult: async (s, name) => void (await (s as RedisStore).redis.del(`${prefixes.get(s)}result:${name}`)),
    dispose: async (s) => {
      if (s.isOpen()) await dropPrefix(s as RedisStore, prefixes.get(s)!);
      await s.close();
    },
  },
];



const idem = (over: Partial<IdempotencyRow> = {}): IdempotencyRow => ({
  scope: 'alice',
  key: 'k1',
  fingerprint: 'fp1',
  job_id: null,
  status: null,
  headers: null,
  body: null,
  created_at: Date.now(),
  expires_at: FUTURE,
  ...over,
});

describe.each(IMPLS)('the $name store', (impl) => {
  let s: Store;
  const extra: Store[] = [];
  beforeEach(async () => {
    s = await impl.make();
  });
  afterEach(async () => {
    for (const t of extra.splice(0)) if (t !== s) await t.close();
    await impl.dispose(s);
  });
  const twin = async () => {
    const t = await impl.twin(s);
    extra.push(t);
    return t;
  };

  it('opens, reports its state, and closes', async () => {
    expect(s.kind).toBe(impl.name);
    expect(s.isOpen()).toBe(true);
    expect(s.status()).toEqual({ kind: impl.name, state: 'ok' });
    const t = await impl.make();
    await t.close();
    expect(t.isOpen()).toBe(false);
    expect(t.status().state).not.toBe('ok');
  });

  it('stores a job row and reads every column back, nulls included; an unknown id is undefined', async () => {
    const row = job('job_contract_0001', { progress: 0.25, queue_position: 3, wait_ms: 1500, cache_key: 'ck', checkpoint: '{"a":[1,2]}', ignored_fields: '["mood"]', served_by: '{"model":"m","provider":"p","attempts":[]}' });
    await s.insertJob(row);
    expect(await s.getJob('job_contract_0001')).toEqual({ ...row, result_path: null, result_size: null });
    expect(await s.getJob('job_contract_none')).toBeUndefined();
    // A route's job moved to another target: provider, served_by and the new first checkpoint together.
    await s.saveTarget('job_contract_0001', 'beta', '{"model":"b","provider":"beta","attempts":[]}', { providerJob: 'b-1' }, T0 + 5);
    expect(await s.getJob('job_contract_0001')).toMatchObject({ provider: 'beta', served_by: '{"model":"b","provider":"beta","attempts":[]}', checkpoint: '{"providerJob":"b-1"}', updated_at: T0 + 5 });
  });

  it('saves checkpoints and progress, and lists unfinished jobs running first, then queued by arrival', async () => {
    await s.insertJob(job('job_q_late_00001', { created_at: T0 + 20 }));
    await s.insertJob(job('job_q_early_0001', { created_at: T0 + 10 }));
    await s.insertJob(job('job_running_0001', { created_at: T0 + 30 }));
    await s.insertJob(job('job_done_0000001', { state: 'failed', error: '{}', finished_at: T0, expires_at: FUTURE }));
    expect(await s.markStarted('job_running_0001', T0 + 40)).toBe(true);
    await s.saveCheckpoint('job_running_0001', { providerJob: 'p-1' }, T0 + 41);
    await s.saveProgress('job_q_early_0001', { polls: 2 }, 0.5, 4, 2000, T0 + 42);
    expect((await s.unfinishedJobs()).map((r) => r.id)).toEqual(['job_running_0001', 'job_q_early_0001', 'job_q_late_00001']);
    expect(await s.getJob('job_running_0001')).toMatchObject({ state: 'running', started_at: T0 + 40, checkpoint: '{"providerJob":"p-1"}', updated_at: T0 + 41 });
    expect(await s.getJob('job_q_early_0001')).toMatchObject({ checkpoint: '{"polls":2}', progress: 0.5, queue_position: 4, wait_ms: 2000, updated_at: T0 + 42 });
    await s.saveProgress('job_q_early_0001', { polls: 3 }, null, null, null, T0 + 43);
    expect(await s.getJob('job_q_early_0001')).toMatchObject({ progress: null, queue_position: null, wait_ms: null });
    // A second start keeps the first start time.
    expect(await s.markStarted('job_running_0001', T0 + 50)).toBe(true);
    expect((await s.getJob('job_running_0001'))!.started_at).toBe(T0 + 40);
  });

  it('never overwrites a final state, and of concurrent finishers on two instances exactly one wins', async () => {
    await s.insertJob(job('job_guarded_0001', { state: 'running' }));
    expect(await s.markCancelled('job_guarded_0001', T0 + 1, FUTURE)).toBe(true);
    expect(await s.markSucceeded('job_guarded_0001', bytes(100), T0 + 2, FUTURE)).toBeUndefined();
    expect(await s.markFailed('job_guarded_0001', { id: 'MG-SRV-001', message: 'x' } as never, T0 + 3, FUTURE)).toBe(false);
    expect(await s.markStarted('job_guarded_0001', T0 + 4)).toBe(false);
    expect(await s.getJob('job_guarded_0001')).toMatchObject({ state: 'cancelled', finished_at: T0 + 1, result_path: null, result: null, error: null });

    const other = await twin();
    for (let i = 0; i < 5; i++) {
      const id = `job_race_${String(i).padStart(8, '0')}`;
      await s.insertJob(job(id, { state: 'running' }));
      const outcomes = await Promise.all([
        s.markSucceeded(id, bytes(2048, i), T0 + 5, FUTURE).then((r) => (r ? 'succeeded' : null)),
        other.markCancelled(id, T0 + 5, FUTURE).then((ok) => (ok ? 'cancelled' : null)),
        other.markFailed(id, { id: 'MG-JOB-004', message: 'late' } as never, T0 + 5, FUTURE).then((ok) => (ok ? 'failed' : null)),
      ]);
      const winners = outcomes.filter(Boolean);
      expect(winners).toHaveLength(1);
      expect((await s.getJob(id))!.state).toBe(winners[0]);
    }
  });

  it('stores a small and a large result, reads them back piece by piece, and forgets a deleted job with its result', async () => {
    const small = bytes(300, 2);
    const large = bytes(3 * 1_048_576 + 17, 3);
    for (const [id, glb] of [['job_small_000001', small], ['job_large_000001', large]] as const) {
      await s.insertJob(job(id, { state: 'running' }));
      const ref = await s.markSucceeded(id, glb, T0 + 9, FUTURE);
      expect(ref).toBeDefined();
      const row = (await s.getJob(id))!;
      expect(row).toMatchObject({ state: 'succeeded', progress: 1, finished_at: T0 + 9, expires_at: FUTURE });
      expect((await readAll(s, id)).equals(glb)).toBe(true);
      const result = await s.openResult(row);
      expect(result.byteLength).toBe(glb.byteLength);
      expect((await result.read(glb.byteLength - 5, 100)).equals(glb.subarray(glb.byteLength - 5))).toBe(true);
      await result.close();
    }
    await s.deleteJob('job_large_000001');
    expect(await s.getJob('job_large_000001')).toBeUndefined();
    expect(await s.countsByState()).toEqual({ succeeded: 1 });
  });

  it('answers a lost result with MG-JOB-007 and marks the job failed with it', async () => {
    await s.insertJob(job('job_lost_0000001', { state: 'running' }));
    const ref = await s.markSucceeded('job_lost_0000001', bytes(5000, 4), T0, FUTURE);
    expect(ref?.kind).toBe('file');
    await impl.loseResult(s, (ref as { name: string }).name);
    await expect(s.openResult((await s.getJob('job_lost_0000001'))!)).rejects.toMatchObject({ id: 'MG-JOB-007' });
    const row = (await s.getJob('job_lost_0000001'))!;
    expect(row.state).toBe('failed');
    expect(JSON.parse(row.error!)).toMatchObject({ id: 'MG-JOB-007' });
  });

  it('keeps idempotency records: first writer wins among concurrent reservations from two instances', async () => {
    const other = await twin();
    const attempts = Array.from({ length: 20 }, (_, i) => (i % 2 ? other : s).reserveIdempotency(idem({ key: 'race', fingerprint: `fp-${i}` })));
    const results = await Promise.all(attempts);
    const won = results.map((r, i) => (r === undefined ? i : -1)).filter((i) => i >= 0);
    expect(won).toHaveLength(1);
    for (const r of results) if (r) expect(r.fingerprint).toBe(`fp-${won[0]}`);
    expect((await s.getIdempotency('alice', 'race'))!.fingerprint).toBe(`fp-${won[0]}`);

    const body = Buffer.from([0, 255, 1, 254, 10, 13]);
    await s.putIdempotency(idem({ job_id: 'job_x' }));
    await s.completeIdempotency('alice', 'k1', 202, { Location: '/generate/jobs/job_x' }, body);
    expect(await other.getIdempotency('alice', 'k1')).toMatchObject({ job_id: 'job_x', status: 202, headers: '{"Location":"/generate/jobs/job_x"}', fingerprint: 'fp1' });
    expect((await other.getIdempotency('alice', 'k1'))!.body!.equals(body)).toBe(true);
    expect(await s.getIdempotency('bob', 'k1')).toBeUndefined();
    await s.deleteIdempotency('alice', 'k1');
    expect(await s.getIdempotency('alice', 'k1')).toBeUndefined();
    // Completing a record that is gone does not bring it back.
    await s.completeIdempotency('alice', 'k1', 200, {}, null);
    expect(await s.getIdempotency('alice', 'k1')).toBeUndefined();
  });

  it('makes concurrent duplicate Idempotency-Keys on two instances attach to one job', async () => {
    const a = new IdempotencyKeys(s, 60);
    // SQLite is one process: its instances share one IdempotencyKeys. Redis: two instances, two of them.
    const b = impl.name === 'redis' ? new IdempotencyKeys(await twin(), 60) : a;
    const pa = a.begin('alice', 'dup', 'fp');
    const pb = b.begin('alice', 'dup', 'fp');
    const first = await Promise.race([pa.then((d) => ({ d, who: a, other: pb })), pb.then((d) => ({ d, who: b, other: pa }))]);
    expect(first.d).toEqual({ kind: 'new' });
    let settled = false;
    void first.other.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 60));
    expect(settled).toBe(false); // the duplicate waits for the first request's job
    await first.who.assignJob('alice', 'dup', 'job_only_one', 'fp');
    expect(await first.other).toEqual({ kind: 'attach', jobId: 'job_only_one' });
  });

  it('answers from the seeded cache with the job’s own copy, which outlives the job it was cached from', async () => {
    const glb = bytes(4000, 5);
    await s.insertJob(job('job_cached_00001', { state: 'running' }));
    const ref = (await s.markSucceeded('job_cached_00001', glb, T0, FUTURE))!;
    await s.putCachedResult('seeded-key', ref, T0, FUTURE);
    expect(await s.claimCachedResult('other-key', T0, 'job_miss_0000001')).toBeUndefined();
    expect(await s.claimCachedResult('seeded-key', FUTURE + 1, 'job_late_0000001')).toBeUndefined(); // expired
    const claimed = await s.claimCachedResult('seeded-key', T0 + 1, 'job_claimed_0001');
    expect(claimed).toBeDefined();
    const cols = claimed!.kind === 'inline' ? { result: claimed!.glb } : { result_path: claimed!.name, result_size: claimed!.byteLength };
    await s.insertJob(job('job_claimed_0001', { state: 'succeeded', progress: 1, finished_at: T0 + 1, expires_at: FUTURE, ...cols }));
    await s.deleteJob('job_cached_00001');
    expect((await readAll(s, 'job_claimed_0001')).equals(glb)).toBe(true);
  });

  it('sweeps finished jobs past retention and keeps live and unfinished ones', async () => {
    await s.insertJob(job('job_expired_0001', { state: 'running' }));
    await s.markFailed('job_expired_0001', { id: 'MG-JOB-004', message: 'late' } as never, T0, Date.now() + 1_000);
    await s.insertJob(job('job_live_0000001', { state: 'running' }));
    await s.markSucceeded('job_live_0000001', bytes(2000), T0, FUTURE);
    await s.insertJob(job('job_unfinished01'));
    const swept = await s.sweep(Date.now() + 2_000);
    expect(swept.jobs).toBe(1);
    expect(await s.getJob('job_expired_0001')).toBeUndefined();
    expect((await s.getJob('job_live_0000001'))!.state).toBe('succeeded');
    expect((await s.getJob('job_unfinished01'))!.state).toBe('queued');
    expect(await s.countsByState()).toEqual({ succeeded: 1, queued: 1 });
  });

  it('keeps adapter key-value state per provider, shared by every instance', async () => {
    const other = await twin();
    await s.kv('meshy').set('rig', '{"task_id":"t1"}');
    expect(await other.kv('meshy').get('rig')).toBe('{"task_id":"t1"}');
    expect(await s.kv('saymotion').get('rig')).toBeUndefined();
    await other.kv('meshy').set('rig', '{"task_id":"t2"}');
    expect(await s.kv('meshy').get('rig')).toBe('{"task_id":"t2"}');
    await s.kv('meshy').delete('rig');
    expect(await other.kv('meshy').get('rig')).toBeUndefined();
  });

  it('forgets an adapter entry set with a lifetime once it has passed; entries of other keys stay', async () => {
    const other = await twin();
    const kv = s.kv('saymotion');
    await Promise.all([kv.set('claim:r1', '1', { ttlMs: 40 }), other.kv('saymotion').set('claim:r2', '2', { ttlMs: 60_000 }), kv.set('plain', 'p')]);
    expect(await other.kv('saymotion').get('claim:r1')).toBe('1');
    await expect.poll(() => kv.get('claim:r1'), { timeout: 2_000, interval: 20 }).toBeUndefined();
    expect(await kv.get('claim:r2')).toBe('2');
    expect(await kv.get('plain')).toBe('p');
    // A later write without a lifetime keeps the entry for good; a delete removes either kind.
    await kv.set('claim:r2', '3');
    expect(await other.kv('saymotion').get('claim:r2')).toBe('3');
    await kv.delete('claim:r2');
    expect(await kv.get('claim:r2')).toBeUndefined();
    await s.sweep(Date.now());
  });

  it('counts each owner’s unfinished jobs, seen from every instance, until they reach a final state or are deleted', async () => {
    const other = await twin();
    await s.insertJob(job('job_own_a_000001'));
    await s.insertJob(job('job_own_a_000002', { state: 'running' }));
    await s.insertJob(job('job_own_a_000003'));
    await other.insertJob(job('job_own_b_000001', { owner: 'bob' }));
    await s.insertJob(job('job_own_a_cached', { state: 'succeeded', progress: 1, finished_at: T0, expires_at: FUTURE }));
    expect(await other.countUnfinishedByOwner('alice')).toBe(3);
    expect(await s.countUnfinishedByOwner('bob')).toBe(1);
    expect(await s.countUnfinishedByOwner('carol')).toBe(0);
    expect(await s.markStarted('job_own_a_000001', T0 + 1)).toBe(true);
    expect(await s.countUnfinishedByOwner('alice')).toBe(3);
    expect(await other.markSucceeded('job_own_a_000001', bytes(100), T0 + 2, FUTURE)).toBeDefined();
    expect(await s.markFailed('job_own_a_000002', { id: 'MG-JOB-004', message: 'late' } as never, T0 + 2, FUTURE)).toBe(true);
    expect(await other.markCancelled('job_own_b_000001', T0 + 2, FUTURE)).toBe(true);
    expect(await s.countUnfinishedByOwner('alice')).toBe(1);
    expect(await other.countUnfinishedByOwner('bob')).toBe(0);
    // A refused change of a final job does not count it again.
    expect(await s.markStarted('job_own_a_000002', T0 + 3)).toBe(false);
    expect(await s.countUnfinishedByOwner('alice')).toBe(1);
    await other.deleteJob('job_own_a_000003');
    expect(await s.countUnfinishedByOwner('alice')).toBe(0);
  });
});
