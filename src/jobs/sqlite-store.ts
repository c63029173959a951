/**
 * The embedded store (STORE=sqlite, the default): jobs and their checkpoints, idempotency records, seeded
 * results and adapter state, in one SQLite file owned by one process (an exclusive lock, see
 * lockExclusively). A result up to `inlineResultMaxBytes` lives in its row; a larger one in a file of the
 * result directory (result-files.ts) that the row names, written before the row so no row points at a
 * missing file. The statements are synchronous (better-sqlite3); the Store methods wrap them in promises.
 */
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { GatewayError, type StoredError } from '../spec/errors.js';
import { ResultFiles } from './result-files.js';
import { inlineResult, type ResultRef, type StoredResult } from './stored-result.js';
import type { IdempotencyRow, JobRow, NewJobRow, Store, StoreKv, StoreStatus, SweepCounts } from './store.js';

export interface StoreOptions {
  /** Results up to this many bytes are kept in their SQLite row; larger ones in files. */
  inlineResultMaxBytes?: number;
  /** An unreferenced file younger than this (file time) may be a write in progress and is kept. */
  orphanGraceMs?: number;
  /**
   * `normal` (default): in WAL mode every commit survives a crash of the process (kill -9, OOM) without an
   * fsync on the event loop; a power cut may lose the last commits. `full`: every commit is fsync'd
   * (survives power loss; each commit then blocks the event loop for the disk's sync time).
   */
  synchronous?: 'normal' | 'full';
}

/**
 * 256 KiB: a row write is synchronous (it blocks the event loop, fsync included), so results past a
 * few hundred KiB are written to files asynchronously instead.
 */
const DEFAULT_INLINE_RESULT_MAX_BYTES = 256 * 1024;
const DEFAULT_ORPHAN_GRACE_MS = 10 * 60_000;


/**
 * SQLite mode is one process per database file. Two processes on one file would each resume the other's
 * unfinished jobs and pay for provider work twice, so the file is locked exclusively for as long as the
 * store is open: `locking_mode = EXCLUSIVE` before WAL (the WAL index then lives in this process's memory)
 * and a write at once, which takes SQLite's exclusive lock and keeps it until close. The lock is an OS
 * file lock: it goes with the process, kill -9 included, so a crashed instance never blocks its successor.
 */
function lockExclusively(db: Database.Database, path: string): void {
  db.pragma('locking_mode = EXCLUSIVE');
  db.pragma('busy_timeout = 0');
  try {
    db.pragma('journal_mode = WAL');
    db.exec('BEGIN EXCLUSIVE; COMMIT;');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY')) throw new DatabaseLockedError(path);
    throw err;
  }
}

/** Start-up refusal: another process has this database open. */
class DatabaseLockedError extends Error {
  constructor(readonly path: string) {
    super(
      `The database ${path} is in use by another gateway process. STORE=sqlite serves one process per database file; ` +
        'stop the other process, give this one its own DB_PATH, or run every instance with STORE=redis (REDIS_URL) to serve more than one.',
    );
    this.name = 'DatabaseLockedError';
  }
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  model TEXT NOT NULL,
  provider TEXT NOT NULL,
  request TEXT NOT NULL,
  seed INTEGER NOT NULL,
  state TEXT NOT NULL,
  checkpoint TEXT,
  progress REAL,
  queue_position INTEGER,
  wait_ms INTEGER,
  result BLOB,
  result_path TEXT,
  result_size INTEGER,
  error TEXT,
  cache_key TEXT,
  ignored_fields TEXT,
  served_by TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  updated_at INTEGER NOT NULL,
  finished_at INTEGER,
  expires_at INTEGER,
  deadline INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, created_at);
CREATE INDEX IF NOT EXISTS jobs_expiry ON jobs(expires_at);
CREATE INDEX IF NOT EXISTS jobs_owner_state ON jobs(owner, state);
CREATE TABLE IF NOT EXISTS idempotency (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  job_id TEXT,
  status INTEGER,
  headers TEXT,
  body BLOB,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE TABLE IF NOT EXISTS result_cache (
  key TEXT PRIMARY KEY,
  glb BLOB,
  glb_path TEXT,
  glb_size INTEGER,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS adapter_kv (
  provider TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  expires_at INTEGER,
  PRIMARY KEY (provider, key)
);
`;

const hasColumn = (db: Database.Database, table: string, column: string) =>
  (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).some((c) => c.name === column);

/** Brings a database written before result files existed up to SCHEMA, keeping its rows. */
function migrate(db: Database.Database): void {
  db.transaction(() => {
    if (!hasColumn(db, 'jobs', 'result_path')) {
      db.exec('ALTER TABLE jobs ADD COLUMN result_path TEXT; ALTER TABLE jobs ADD COLUMN result_size INTEGER;');
    }
    if (!hasColumn(db, 'adapter_kv', 'expires_at')) db.exec('ALTER TABLE adapter_kv ADD COLUMN expires_at INTEGER;');
    if (!hasColumn(db, 'jobs', 'ignored_fields')) db.exec('ALTER TABLE jobs ADD COLUMN ignored_fields TEXT;');
    if (!hasColumn(db, 'jobs', 'served_by')) db.exec('ALTER TABLE jobs ADD COLUMN served_by TEXT;');
    if (!hasColumn(db, 'result_cache', 'glb_path')) {
      // glb was NOT NULL: SQLite changes a constraint only by rebuilding the table.
      db.exec(`ALTER TABLE result_cache RENAME TO result_cache_v1;
        CREATE TABLE result_cache (key TEXT PRIMARY KEY, glb BLOB, glb_path TEXT, glb_size INTEGER, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
        INSERT INTO result_cache (key, glb, created_at, expires_at) SELECT key, glb, created_at, expires_at FROM result_cache_v1;
        DROP TABLE result_cache_v1;`);
    }
  })();
}

const resultLost = (id: string) => JSON.stringify(new GatewayError('MG-JOB-007', undefined, { details: { job_id: id } }).toJSON());

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly shared = false;
  readonly db: Database.Database;
  /** Where results too large for a row are kept. */
  readonly files: ResultFiles;
  private readonly stmts;
  private readonly inlineResultMaxBytes: number;
  private readonly orphanGraceMs: number;

  constructor(path: string, opts: StoreOptions = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.inlineResultMaxBytes = opts.inlineResultMaxBytes ?? DEFAULT_INLINE_RESULT_MAX_BYTES;
    this.orphanGraceMs = opts.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS;
    this.db = new Database(path);
    if (path !== ':memory:') lockExclusively(this.db, path);
    // A job answered with 202 must survive a crash of the process; `full` also survives power loss.
    this.db.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    migrate(this.db);
    this.files = new ResultFiles(path);
    const d = this.db;
    this.stmts = {
      insertJob: d.prepare(`INSERT INTO jobs (id, owner, model, provider, request, seed, state, checkpoint, progress, queue_position, wait_ms, result, result_path, result_size, error, cache_key, ignored_fields, served_by, created_at, started_at, updated_at, finished_at, expires_at, deadline)
        VALUES (@id, @owner, @model, @provider, @request, @seed, @state, @checkpoint, @progress, @queue_position, @wait_ms, @result, @result_path, @result_size, @error, @cache_key, @ignored_fields, @served_by, @created_at, @started_at, @updated_at, @finished_at, @expires_at, @deadline)`),
      getJob: d.prepare('SELECT * FROM jobs WHERE id = ?'),
      unfinished: d.prepare(`SELECT * FROM jobs WHERE state IN ('queued', 'running') ORDER BY state = 'queued', created_at`),
      checkpoint: d.prepare('UPDATE jobs SET checkpoint = ?, updated_at = ? WHERE id = ?'),
      target: d.prepare('UPDATE jobs SET provider = ?, served_by = ?, checkpoint = ?, updated_at = ? WHERE id = ?'),
      progress: d.prepare('UPDATE jobs SET checkpoint = ?, progress = ?, queue_position = ?, wait_ms = ?, updated_at = ? WHERE id = ?'),
      started: d.prepare(`UPDATE jobs SET state = 'running', started_at = COALESCE(started_at, ?), queue_position = NULL, updated_at = ? WHERE id = ? AND state IN ('queued','running')`),
      succeed: d.prepare(`UPDATE jobs SET state = 'succeeded', result = ?, result_path = ?, result_size = ?, progress = 1, queue_position = NULL, wait_ms = NULL, finished_at = ?, updated_at = ?, expires_at = ? WHERE id = ? AND state IN ('queued','running')`),
      fail: d.prepare(`UPDATE jobs SET state = 'failed', error = ?, queue_position = NULL, wait_ms = NULL, finished_at = ?, updated_at = ?, expires_at = ? WHERE id = ? AND state IN ('queued','running')`),
      cancel: d.prepare(`UPDATE jobs SET state = 'cancelled', queue_position = NULL, wait_ms = NULL, finished_at = ?, updated_at = ?, expires_at = ? WHERE id = ? AND state IN ('queued','running')`),
      resultLost: d.prepare(`UPDATE jobs SET state = 'failed', error = ?, result = NULL, result_path = NULL, result_size = NULL WHERE id = ? AND state = 'succeeded'`),
      deleteJob: d.prepare('DELETE FROM jobs WHERE id = ? RETURNING result_path'),
      expireJobs: d.prepare(`DELETE FROM jobs WHERE expires_at IS NOT NULL AND expires_at <= ? AND state NOT IN ('queued','running') RETURNING result_path`),
      jobFiles: d.prepare('SELECT id, result_path, result_size FROM jobs WHERE result_path IS NOT NULL'),
      getIdem: d.prepare('SELECT * FROM idempotency WHERE scope = ? AND key = ?'),
      insertIdem: d.prepare(`INSERT OR REPLACE INTO idempotency (scope, key, fingerprint, job_id, status, headers, body, created_at, expires_at)
        VALUES (@scope, @key, @fingerprint, @job_id, @status, @headers, @body, @created_at, @expires_at)`),
      reserveIdem: d.prepare(`INSERT INTO idempotency (scope, key, fingerprint, job_id, status, headers, body, created_at, expires_at)
        VALUES (@scope, @key, @fingerprint, @job_id, @status, @headers, @body, @created_at, @expires_at) ON CONFLICT (scope, key) DO NOTHING`),
      completeIdem: d.prepare('UPDATE idempotency SET status = ?, headers = ?, body = ? WHERE scope = ? AND key = ?'),
      deleteIdem: d.prepare('DELETE FROM idempotency WHERE scope = ? AND key = ?'),
      expireIdem: d.prepare('DELETE FROM idempotency WHERE expires_at <= ?'),
      getCache: d.prepare('SELECT glb, glb_path, glb_size FROM result_cache WHERE key = ? AND expires_at > ?'),
      cacheFileOf: d.prepare('SELECT glb_path FROM result_cache WHERE key = ?'),
      putCache: d.prepare('INSERT OR REPLACE INTO result_cache (key, glb, glb_path, glb_size, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)'),
      dropCacheFile: d.prepare('DELETE FROM result_cache WHERE glb_path = ?'),
      expireCache: d.prepare('DELETE FROM result_cache WHERE expires_at <= ? RETURNING glb_path'),
      cacheFiles: d.prepare('SELECT glb_path, glb_size FROM result_cache WHERE glb_path IS NOT NULL'),
      kvGet: d.prepare('SELECT value FROM adapter_kv WHERE provider = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)'),
      kvSet: d.prepare('INSERT OR REPLACE INTO adapter_kv (provider, key, value, updated_at, expires_at) VALUES (?, ?, ?, ?, ?)'),
      expireKv: d.prepare('DELETE FROM adapter_kv WHERE expires_at IS NOT NULL AND expires_at <= ?'),
      kvDelete: d.prepare('DELETE FROM adapter_kv WHERE provider = ? AND key = ?'),
      countByState: d.prepare('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state'),
      countUnfinishedByOwner: d.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE owner = ? AND state IN ('queued', 'running')`),
    };
    this.reconcileFiles();
  }

  async insertJob(row: NewJobRow): Promise<void> {
    this.stmts.insertJob.run({ result_path: null, result_size: null, ignored_fields: null, served_by: null, ...row });
  }

  async getJob(id: string): Promise<JobRow | undefined> {
    return this.stmts.getJob.get(id) as JobRow | undefined;
  }

  /** Jobs to resume after a restart: running ones first, then the queue in arrival order. */
  async unfinishedJobs(): Promise<JobRow[]> {
    return this.stmts.unfinished.all() as JobRow[];
  }

  async saveCheckpoint(id: string, checkpoint: unknown, now: number): Promise<void> {
    this.stmts.checkpoint.run(JSON.stringify(checkpoint), now, id);
  }

  async saveTarget(id: string, provider: string, servedBy: string, checkpoint: unknown, now: number): Promise<void> {
    this.stmts.target.run(provider, servedBy, JSON.stringify(checkpoint), now, id);
  }

  async saveProgress(id: string, checkpoint: unknown, progress: number | null, queuePosition: number | null, waitMs: number | null, now: number): Promise<void> {
    this.stmts.progress.run(JSON.stringify(checkpoint), progress, queuePosition, waitMs, now, id);
  }

  async markStarted(id: string, now: number): Promise<boolean> {
    return this.stmts.started.run(now, now, id).changes > 0;
  }

  /**
   * Stores the result and marks the job succeeded, in that order: a large result is written to its file
   * (asynchronously, durably) before the row changes. Returns where it was stored, or undefined when the
   * job was no longer unfinished (e.g. cancelled meanwhile), in which case nothing is kept.
   */
  async markSucceeded(id: string, glb: Uint8Array, now: number, expiresAt: number): Promise<ResultRef | undefined> {
    const bytes = Buffer.from(glb.buffer, glb.byteOffset, glb.byteLength);
    if (bytes.byteLength <= this.inlineResultMaxBytes) {
      return this.stmts.succeed.run(bytes, null, null, now, now, expiresAt, id).changes > 0 ? { kind: 'inline', glb: bytes } : undefined;
    }
    const name = `${id}.glb`;
    await this.files.write(name, bytes);
    if (!this.db.open || this.stmts.succeed.run(null, name, bytes.byteLength, now, now, expiresAt, id).changes === 0) {
      this.files.remove(name);
      return undefined;
    }
    return { kind: 'file', name, byteLength: bytes.byteLength };
  }

  /**
   * Opens a succeeded job's result for reading. A result file that vanished or was cut short marks the
   * job failed with MG-JOB-007 and throws that error (404 job_not_found), never a 500.
   */
  async openResult(row: JobRow): Promise<StoredResult> {
    if (row.result_path === null) {
      if (row.result) return inlineResult(row.result);
    } else {
      const opened = await this.files.open(row.result_path, row.result_size ?? -1);
      if (opened) return opened;
    }
    if (this.db.open) this.stmts.resultLost.run(resultLost(row.id), row.id);
    throw new GatewayError('MG-JOB-007', undefined, { details: { job_id: row.id } });
  }

  async markFailed(id: string, error: StoredError, now: number, expiresAt: number): Promise<boolean> {
    return this.stmts.fail.run(JSON.stringify(error), now, now, expiresAt, id).changes > 0;
  }

  async markCancelled(id: string, now: number, expiresAt: number): Promise<boolean> {
    return this.stmts.cancel.run(now, now, expiresAt, id).changes > 0;
  }

  /** Forgets a job and deletes its result file (row first: a crash in between leaves an orphan, not a dangling row). */
  async deleteJob(id: string): Promise<void> {
    this.removeFiles(this.stmts.deleteJob.all(id) as Array<{ result_path: string | null }>, 'result_path');
  }

  async getIdempotency(scope: string, key: string): Promise<IdempotencyRow | undefined> {
    return this.stmts.getIdem.get(scope, key) as IdempotencyRow | undefined;
  }

  async putIdempotency(row: IdempotencyRow): Promise<void> {
    this.stmts.insertIdem.run(row);
  }

  async completeIdempotency(scope: string, key: string, status: number, headers: Record<string, string>, body: Uint8Array | null): Promise<void> {
    this.stmts.completeIdem.run(status, JSON.stringify(headers), body ? Buffer.from(body) : null, scope, key);
  }

  async deleteIdempotency(scope: string, key: string): Promise<void> {
    this.stmts.deleteIdem.run(scope, key);
  }

  /**
   * A cached result as the job `jobId`'s own copy: the bytes of a small one, or a second name (hard
   * link) of a large one's file, so the job and the cache entry expire independently. Undefined on a
   * miss; a cache entry whose file vanished is dropped and counts as a miss.
   */
  async claimCachedResult(key: string, now: number, jobId: string): Promise<ResultRef | undefined> {
    const hit = this.stmts.getCache.get(key, now) as { glb: Buffer | null; glb_path: string | null; glb_size: number | null } | undefined;
    if (!hit) return undefined;
    if (hit.glb_path === null) return hit.glb ? { kind: 'inline', glb: hit.glb } : undefined;
    const name = `${jobId}.glb`;
    try {
      await this.files.share(hit.glb_path, name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (this.db.open) this.stmts.dropCacheFile.run(hit.glb_path);
      return undefined;
    }
    return { kind: 'file', name, byteLength: hit.glb_size! };
  }

  /** Caches a job's stored result under `key`: small ones by value, large ones as a hard link to the job's file. */
  async putCachedResult(key: string, result: ResultRef, now: number, expiresAt: number): Promise<void> {
    let name: string | null = null;
    if (result.kind === 'file') {
      name = `cache-${randomBytes(12).toString('base64url')}.glb`;
      await this.files.share(result.name, name);
      if (!this.db.open) return this.files.remove(name);
    }
    const replaced = this.stmts.cacheFileOf.get(key) as { glb_path: string | null } | undefined;
    this.stmts.putCache.run(key, result.kind === 'inline' ? result.glb : null, name, result.kind === 'file' ? result.byteLength : null, now, expiresAt);
    if (replaced?.glb_path) this.files.remove(replaced.glb_path);
  }

  /** Forgets expired jobs, idempotency records and cached results, deletes their files, and removes orphan files. */
  async sweep(now: number): Promise<SweepCounts> {
    const jobs = this.stmts.expireJobs.all(now) as Array<{ result_path: string | null }>;
    const keys = this.stmts.expireIdem.run(now).changes;
    const cache = this.stmts.expireCache.all(now) as Array<{ glb_path: string | null }>;
    this.stmts.expireKv.run(Date.now());
    this.removeFiles(jobs, 'result_path');
    this.removeFiles(cache, 'glb_path');
    return { jobs: jobs.length, keys, cache: cache.length, orphans: this.files.removeOrphans(this.referencedFiles(), this.orphanGraceMs) };
  }

  private removeFiles<K extends string>(rows: Array<Record<K, string | null>>, column: K): void {
    for (const r of rows) if (r[column]) this.files.remove(r[column]);
  }

  private referencedFiles(): Set<string> {
    const names = new Set<string>();
    for (const r of this.stmts.jobFiles.all() as Array<{ result_path: string }>) names.add(r.result_path);
    for (const r of this.stmts.cacheFiles.all() as Array<{ glb_path: string }>) names.add(r.glb_path);
    return names;
  }

  /**
   * Start-up check of rows against files: a succeeded job whose file is missing or cut short is marked
   * failed with MG-JOB-007 (polls answer that envelope), such a cache entry is dropped, and orphan files
   * past the grace period are deleted.
   */
  private reconcileFiles(): void {
    for (const r of this.stmts.jobFiles.all() as Array<{ id: string; result_path: string; result_size: number | null }>) {
      if (!this.files.isIntact(r.result_path, r.result_size)) this.stmts.resultLost.run(resultLost(r.id), r.id);
    }
    for (const r of this.stmts.cacheFiles.all() as Array<{ glb_path: string; glb_size: number | null }>) {
      if (!this.files.isIntact(r.glb_path, r.glb_size)) this.stmts.dropCacheFile.run(r.glb_path);
    }
    this.files.removeOrphans(this.referencedFiles(), this.orphanGraceMs);
  }

  kv(provider: string): StoreKv {
    return {
      // Entry lifetimes are wall-clock times (as Redis keeps them), not the gateway clock's.
      get: async (key: string) => (this.stmts.kvGet.get(provider, key, Date.now()) as { value: string } | undefined)?.value,
      set: async (key: string, value: string, opts?: { ttlMs?: number }) => {
        const now = Date.now();
        this.stmts.kvSet.run(provider, key, value, now, opts?.ttlMs !== undefined ? now + opts.ttlMs : null);
      },
      delete: async (key: string) => void this.stmts.kvDelete.run(provider, key),
    };
  }

  async reserveIdempotency(row: IdempotencyRow): Promise<IdempotencyRow | undefined> {
    // One synchronous transaction: no other caller runs in between.
    if (this.stmts.reserveIdem.run(row).changes > 0) return undefined;
    return (this.stmts.getIdem.get(row.scope, row.key) as IdempotencyRow | undefined) ?? row;
  }

  status(): StoreStatus {
    return { kind: 'sqlite', state: this.db.open ? 'ok' : 'closed' };
  }

  async countsByState(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const r of this.stmts.countByState.all() as Array<{ state: string; n: number }>) out[r.state] = r.n;
    return out;
  }

  async countUnfinishedByOwner(owner: string): Promise<number> {
    return (this.stmts.countUnfinishedByOwner.get(owner) as { n: number }).n;
  }

  isOpen(): boolean {
    return this.db.open;
  }

  async open(): Promise<void> {}

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
    this.files.close();
  }
}
