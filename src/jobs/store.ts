/**
 * The durable store, as the gateway sees it: jobs and their checkpoints, idempotency records, the seeded
 * result cache and adapter state. One interface, asynchronous because a networked store is; two
 * implementations chosen by STORE: `sqlite` (sqlite-store.ts, the embedded single-process default) and
 * `redis` (redis-store.ts, shared by every instance of a cluster). test/jobs/store-contract.test.ts runs
 * the same suite against both.
 */
import type { StoredError } from '../spec/errors.js';
import type { ServedBy } from '../spec/plan.js';
import type { JobState } from '../spec/wire.js';
import type { Config } from '../config.js';
import type { ResultRef, StoredResult } from './stored-result.js';
import { SqliteStore } from './sqlite-store.js';
import { RedisStore } from './redis-store.js';

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
  /** The GLB of a small result kept in the row (SQLite); null when it is stored by name (or there is none). */
  result: Buffer | null;
  /** Name of a large result: a file of the result directory (SQLite), or the job's result value (Redis). */
  result_path: string | null;
  /** Byte length of the file at `result_path`. */
  result_size: number | null;
  error: string | null;
  cache_key: string | null;
  /**
   * The fields of a newer-minor request that were ignored, as a JSON array of paths (null when none): the
   * answer lists them (MMCP_motion.x_ignored_fields, X-MMCP-Ignored-Fields) on every answer of the job,
   * including after a restart rebuilt its plan.
   */
  ignored_fields: string | null;
  /**
   * Who serves the job, as JSON ServedBy ({model, provider, attempts}; src/spec/plan.ts): the model itself,
   * or the route target chosen at admission. A resumed job runs on this target; every answer names it
   * (MMCP_motion.x_served_by, X-Served-By). Null for jobs recorded before it existed.
   */
  served_by: string | null;
  created_at: number;
  started_at: number | null;
  updated_at: number;
  finished_at: number | null;
  expires_at: number | null;
  deadline: number;
}

/** A job to insert: the file columns, ignored_fields and served_by may be left out (no result file, nothing ignored). */
export type NewJobRow = Omit<JobRow, 'result_path' | 'result_size' | 'ignored_fields' | 'served_by'> & Partial<Pick<JobRow, 'result_path' | 'result_size' | 'ignored_fields' | 'served_by'>>;

/** Who serves a job (JobRow.served_by); for an older row without one, its model and provider. */
export function servedByOf(row: Pick<JobRow, 'served_by' | 'model' | 'provider'>): ServedBy {
  if (row.served_by) {
    const parsed = JSON.parse(row.served_by) as Partial<ServedBy>;
    if (typeof parsed.model === 'string' && typeof parsed.provider === 'string') return { model: parsed.model, provider: parsed.provider, attempts: Array.isArray(parsed.attempts) ? parsed.attempts : [] };
  }
  return { model: row.model, provider: row.provider, attempts: [] };
}

/** The ignored-field paths of a job (JobRow.ignored_fields), [] when none. */
export function ignoredFieldsOf(row: Pick<JobRow, 'ignored_fields'>): string[] {
  if (!row.ignored_fields) return [];
  const parsed = JSON.parse(row.ignored_fields) as unknown;
  return Array.isArray(parsed) ? parsed.filter((p): p is string => typeof p === 'string') : [];
}

/** The row columns that store a result. */
export function resultColumns(ref: ResultRef | undefined): Pick<JobRow, 'result' | 'result_path' | 'result_size'> {
  if (!ref) return { result: null, result_path: null, result_size: null };
  return ref.kind === 'inline' ? { result: ref.glb, result_path: null, result_size: null } : { result: null, result_path: ref.name, result_size: ref.byteLength };
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


export interface SweepCounts {
  jobs: number;
  keys: number;
  cache: number;
  orphans: number;
}

/** An adapter's own durable key-value state (AdapterStore), one namespace per provider. */
export interface StoreKv {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, opts?: { ttlMs?: number }): Promise<void>;
  delete(key: string): Promise<void>;
}

/** What /readyz reports about the store. */
export interface StoreStatus {
  kind: 'sqlite' | 'redis';
  /** `ok` when commands are answered; for Redis otherwise the connection's state (connecting, reconnecting, end). */
  state: string;
}

export interface Store {
  readonly kind: 'sqlite' | 'redis';
  /** Whether other processes may share this store (Redis): a reservation not made here may be another instance's. */
  readonly shared: boolean;
  /** Connects (Redis) and rejects with a message naming the address when the store cannot be reached. */
  open(): Promise<void>;
  close(): Promise<void>;
  isOpen(): boolean;
  status(): StoreStatus;

  insertJob(row: NewJobRow): Promise<void>;
  getJob(id: string): Promise<JobRow | undefined>;
  /** Jobs to resume after a restart: running ones first, then the queue in arrival order. */
  unfinishedJobs(): Promise<JobRow[]>;
  saveCheckpoint(id: string, checkpoint: unknown, now: number): Promise<void>;
  saveProgress(id: string, checkpoint: unknown, progress: number | null, queuePosition: number | null, waitMs: number | null, now: number): Promise<void>;
  /** Moves a job to another route target (provider, served_by as JSON ServedBy) with that target's first checkpoint. */
  saveTarget(id: string, provider: string, servedBy: string, checkpoint: unknown, now: number): Promise<void>;
  /** Marks an unfinished job running; false (nothing changed) when it already reached a final state. */
  markStarted(id: string, now: number): Promise<boolean>;
  /**
   * Stores the result and marks the job succeeded, result first. Returns where it was stored, or undefined
   * when the job was no longer unfinished (e.g. cancelled meanwhile), in which case nothing is kept.
   */
  markSucceeded(id: string, glb: Uint8Array, now: number, expiresAt: number): Promise<ResultRef | undefined>;
  /** Opens a succeeded job's result for reading; a lost result marks the job failed with MG-JOB-007 and throws it. */
  openResult(row: JobRow): Promise<StoredResult>;
  /** Final states are never overwritten: these return false when the job had already finished. */
  markFailed(id: string, error: StoredError, now: number, expiresAt: number): Promise<boolean>;
  markCancelled(id: string, now: number, expiresAt: number): Promise<boolean>;
  /** Forgets a job and its result. */
  deleteJob(id: string): Promise<void>;

  getIdempotency(scope: string, key: string): Promise<IdempotencyRow | undefined>;
  /**
   * Atomic first-writer-wins: stores `row` when no record of its scope and key exists and resolves
   * undefined; otherwise leaves the record as it is and resolves it.
   */
  reserveIdempotency(row: IdempotencyRow): Promise<IdempotencyRow | undefined>;
  /** Stores a record, replacing any of the same scope and key. */
  putIdempotency(row: IdempotencyRow): Promise<void>;
  /** Stores the final answer of an existing record (a record gone meanwhile stays gone). */
  completeIdempotency(scope: string, key: string, status: number, headers: Record<string, string>, body: Uint8Array | null): Promise<void>;
  deleteIdempotency(scope: string, key: string): Promise<void>;

  /** A cached result as the job `jobId`'s own stored copy, or undefined on a miss. */
  claimCachedResult(key: string, now: number, jobId: string): Promise<ResultRef | undefined>;
  putCachedResult(key: string, result: ResultRef, now: number, expiresAt: number): Promise<void>;

  /** Forgets what expired (jobs in a final state, idempotency records, cached results). */
  sweep(now: number): Promise<SweepCounts>;
  kv(provider: string): StoreKv;
  countsByState(): Promise<Record<string, number>>;
  /** How many of `owner`'s jobs are unfinished (queued or running): RATE_LIMIT_CONCURRENT_JOBS counts these. */
  countUnfinishedByOwner(owner: string): Promise<number>;
}

/** The store the configuration asks for (not yet opened: call open()). */
export function createStore(config: Pick<Config, 'store' | 'dbPath' | 'dbSync' | 'redisUrl' | 'redisPrefix'>): Store {
  return config.store === 'redis'
    ? new RedisStore({ url: config.redisUrl, prefix: config.redisPrefix })
    : new SqliteStore(config.dbPath, { synchronous: config.dbSync });
}
