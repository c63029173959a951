/** The durable store: jobs and their checkpoints, idempotency records, seeded results and adapter state, in SQLite. */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { StoredError } from '../spec/errors.js';
import type { JobState } from '../spec/wire.js';

export interface JobRow {
  id: string;
  owner: string;
  model: string;
  provider: string;
  /** The validated request, as JSON. */
  request: string;
  seed: number;
  state: JobState;
  checkpoint: string | null;
  progress: number | null;
  queue_position: number | null;
  wait_ms: number | null;
  result: Buffer | null;
  error: string | null;
  cache_key: string | null;
  created_at: number;
  started_at: number | null;
  updated_at: number;
  finished_at: number | null;
  expires_at: number | null;
  deadline: number;
}

export interface IdempotencyRow {
  scope: string;
  key: string;
  fingerprint: string;
  job_id: string | null;
  status: number | null;
  headers: string | null;
  body: Buffer | null;
  created_at: number;
  expires_at: number;
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
  error TEXT,
  cache_key TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  updated_at INTEGER NOT NULL,
  finished_at INTEGER,
  expires_at INTEGER,
  deadline INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, created_at);
CREATE INDEX IF NOT EXISTS jobs_expiry ON jobs(expires_at);
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
  glb BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS adapter_kv (
  provider TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (provider, key)
);
`;

export class Store {
  readonly db: Database.Database;
  private readonly stmts;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    if (path !== ':memory:') this.db.pragma('journal_mode = WAL');
    // A job answered with 202 must survive a crash: sync every commit.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    const d = this.db;
    this.stmts = {
      insertJob: d.prepare(`INSERT INTO jobs (id, owner, model, provider, request, seed, state, checkpoint, progress, queue_position, wait_ms, result, error, cache_key, created_at, started_at, updated_at, finished_at, expires_at, deadline)
        VALUES (@id, @owner, @model, @provider, @request, @seed, @state, @checkpoint, @progress, @queue_position, @wait_ms, @result, @error, @cache_key, @created_at, @started_at, @updated_at, @finished_at, @expires_at, @deadline)`),
      getJob: d.prepare('SELECT * FROM jobs WHERE id = ?'),
      unfinished: d.prepare(`SELECT * FROM jobs WHERE state IN ('queued', 'running') ORDER BY state = 'queued', created_at`),
      checkpoint: d.prepare('UPDATE jobs SET checkpoint = ?, updated_at = ? WHERE id = ?'),
      progress: d.prepare('UPDATE jobs SET checkpoint = ?, progress = ?, queue_position = ?, wait_ms = ?, updated_at = ? WHERE id = ?'),
      started: d.prepare(`UPDATE jobs SET state = 'running', started_at = COALESCE(started_at, ?), queue_position = NULL, updated_at = ? WHERE id = ?`),
      succeed: d.prepare(`UPDATE jobs SET state = 'succeeded', result = ?, progress = 1, queue_position = NULL, wait_ms = NULL, finished_at = ?, updated_at = ?, expires_at = ? WHERE id = ? AND state IN ('queued','running')`),
      fail: d.prepare(`UPDATE jobs SET state = 'failed', error = ?, queue_position = NULL, wait_ms = NULL, finished_at = ?, updated_at = ?, expires_at = ? WHERE id = ? AND state IN ('queued','running')`),
      cancel: d.prepare(`UPDATE jobs SET state = 'cancelled', queue_position = NULL, wait_ms = NULL, finished_at = ?, updated_at = ?, expires_at = ? WHERE id = ? AND state IN ('queued','running')`),
      deleteJob: d.prepare('DELETE FROM jobs WHERE id = ?'),
      expireJobs: d.prepare(`DELETE FROM jobs WHERE expires_at IS NOT NULL AND expires_at <= ? AND state NOT IN ('queued','running')`),
      getIdem: d.prepare('SELECT * FROM idempotency WHERE scope = ? AND key = ?'),
      insertIdem: d.prepare(`INSERT OR REPLACE INTO idempotency (scope, key, fingerprint, job_id, status, headers, body, created_at, expires_at)
        VALUES (@scope, @key, @fingerprint, @job_id, @status, @headers, @body, @created_at, @expires_at)`),
      completeIdem: d.prepare('UPDATE idempotency SET status = ?, headers = ?, body = ? WHERE scope = ? AND key = ?'),
      deleteIdem: d.prepare('DELETE FROM idempotency WHERE scope = ? AND key = ?'),
      expireIdem: d.prepare('DELETE FROM idempotency WHERE expires_at <= ?'),
      getCache: d.prepare('SELECT glb FROM result_cache WHERE key = ? AND expires_at > ?'),
      putCache: d.prepare('INSERT OR REPLACE INTO result_cache (key, glb, created_at, expires_at) VALUES (?, ?, ?, ?)'),
      expireCache: d.prepare('DELETE FROM result_cache WHERE expires_at <= ?'),
      kvGet: d.prepare('SELECT value FROM adapter_kv WHERE provider = ? AND key = ?'),
      kvSet: d.prepare('INSERT OR REPLACE INTO adapter_kv (provider, key, value, updated_at) VALUES (?, ?, ?, ?)'),
      kvDelete: d.prepare('DELETE FROM adapter_kv WHERE provider = ? AND key = ?'),
      countByState: d.prepare('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state'),
    };
  }

  insertJob(row: JobRow): void {
    this.stmts.insertJob.run(row);
  }

  getJob(id: string): JobRow | undefined {
    return this.stmts.getJob.get(id) as JobRow | undefined;
  }

  /** Jobs to resume after a restart: running ones first, then the queue in arrival order. */
  unfinishedJobs(): JobRow[] {
    return this.stmts.unfinished.all() as JobRow[];
  }

  saveCheckpoint(id: string, checkpoint: unknown, now: number): void {
    this.stmts.checkpoint.run(JSON.stringify(checkpoint), now, id);
  }

  saveProgress(id: string, checkpoint: unknown, progress: number | null, queuePosition: number | null, waitMs: number | null, now: number): void {
    this.stmts.progress.run(JSON.stringify(checkpoint), progress, queuePosition, waitMs, now, id);
  }

  markStarted(id: string, now: number): void {
    this.stmts.started.run(now, now, id);
  }

  /** Returns false when the job was no longer unfinished (e.g. cancelled meanwhile). */
  markSucceeded(id: string, glb: Uint8Array, now: number, expiresAt: number): boolean {
    return this.stmts.succeed.run(Buffer.from(glb.buffer, glb.byteOffset, glb.byteLength), now, now, expiresAt, id).changes > 0;
  }

  markFailed(id: string, error: StoredError, now: number, expiresAt: number): boolean {
    return this.stmts.fail.run(JSON.stringify(error), now, now, expiresAt, id).changes > 0;
  }

  markCancelled(id: string, now: number, expiresAt: number): boolean {
    return this.stmts.cancel.run(now, now, expiresAt, id).changes > 0;
  }

  deleteJob(id: string): void {
    this.stmts.deleteJob.run(id);
  }

  getIdempotency(scope: string, key: string): IdempotencyRow | undefined {
    return this.stmts.getIdem.get(scope, key) as IdempotencyRow | undefined;
  }

  putIdempotency(row: IdempotencyRow): void {
    this.stmts.insertIdem.run(row);
  }

  completeIdempotency(scope: string, key: string, status: number, headers: Record<string, string>, body: Uint8Array | null): void {
    this.stmts.completeIdem.run(status, JSON.stringify(headers), body ? Buffer.from(body) : null, scope, key);
  }

  deleteIdempotency(scope: string, key: string): void {
    this.stmts.deleteIdem.run(scope, key);
  }

  getCachedResult(key: string, now: number): Buffer | undefined {
    return (this.stmts.getCache.get(key, now) as { glb: Buffer } | undefined)?.glb;
  }

  putCachedResult(key: string, glb: Uint8Array, now: number, expiresAt: number): void {
    this.stmts.putCache.run(key, Buffer.from(glb), now, expiresAt);
  }

  /** Forgets expired jobs, idempotency records and cached results. */
  sweep(now: number): { jobs: number; keys: number; cache: number } {
    return {
      jobs: this.stmts.expireJobs.run(now).changes,
      keys: this.stmts.expireIdem.run(now).changes,
      cache: this.stmts.expireCache.run(now).changes,
    };
  }

  kv(provider: string) {
    return {
      get: (key: string) => (this.stmts.kvGet.get(provider, key) as { value: string } | undefined)?.value,
      set: (key: string, value: string) => void this.stmts.kvSet.run(provider, key, value, Date.now()),
      delete: (key: string) => void this.stmts.kvDelete.run(provider, key),
    };
  }

  countsByState(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.stmts.countByState.all() as Array<{ state: string; n: number }>) out[r.state] = r.n;
    return out;
  }

  isOpen(): boolean {
    return this.db.open;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
