/**
 * The shared store (STORE=redis): the same records as the SQLite store, in Redis, so every gateway
 * instance on one Redis sees every job, idempotency record, cached result and adapter state.
 *
 * Layout (every key starts with REDIS_PREFIX, `mg:` by default):
 * - `job:<id>`: a hash of the job row's non-null columns;
 * - `jobs:<state>`: a sorted set of job ids per state, scored by creation time (queued, running) or by
 *   expiry time (succeeded, failed, cancelled): the resume order, the counts and the retention sweep;
 * - `owner:<owner>:unfinished`: a set of the owner's queued and running job ids (RATE_LIMIT_CONCURRENT_JOBS),
 *   changed with the state sets;
 * - `result:<name>`: a result's GLB as one binary value (results are bounded by MAX_OUTPUT_BYTES, far
 *   below Redis's 512 MiB), read back in pieces with GETRANGE so a reader never holds it whole;
 * - `idem:<scope length>:<scope>:<key>`: an idempotency record (hash), first writer wins (Lua, atomic);
 * - `cache:<key>`: a seeded-result cache entry naming its own copy of the result;
 * - `kv:<provider>`: an adapter's key-value state (hash).
 * State changes run as Lua scripts: a final state is never overwritten, and a job's hash and its state
 * set change together. Finished jobs, their results, idempotency records and cache entries carry an
 * time to live so Redis forgets them itself; the sweep trims the state sets.
 */
import { Redis } from 'ioredis';
import { GatewayError, type StoredError } from '../spec/errors.js';
import type { JobState } from '../spec/wire.js';
import type { ResultRef, StoredResult } from './stored-result.js';
import type { IdempotencyRow, JobRow, NewJobRow, Store, StoreKv, StoreStatus, SweepCounts } from './store.js';

export interface RedisStoreOptions {
  /** redis:// URL (REDIS_URL). */
  url: string;
  /** Prefix of every key (REDIS_PREFIX). */
  prefix: string;
  /** How long open() waits for the first connection. */
  connectTimeoutMs?: number;
}

const STATES: JobState[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
const UNFINISHED = 'queued,running';
const NUMERIC = new Set(['seed', 'progress', 'queue_position', 'wait_ms', 'result_size', 'created_at', 'started_at', 'updated_at', 'finished_at', 'expires_at', 'deadline']);
const JOB_COLUMNS = ['id', 'owner', 'model', 'provider', 'request', 'seed', 'state', 'checkpoint', 'progress', 'queue_position', 'wait_ms', 'result_path', 'result_size', 'error', 'cache_key', 'ignored_fields', 'served_by', 'created_at', 'started_at', 'updated_at', 'finished_at', 'expires_at', 'deadline'] as const;
/** A claimed cache copy not yet named by a job row is forgotten after this long. */
const PROVISIONAL_COPY_MS = 3_600_000;

/**
 * KEYS: job hash, the five state sets (STATES order), the result value, the owner's unfinished set (only
 * touched when the job leaves queued/running).
 * ARGV: id, allowed current states (csv), new state, expiry (the gateway clock's epoch ms, or ''), time
 * to live in ms (or ''), started_at to set when absent (or ''), n, n field/value pairs to set, then
 * fields to delete. Redis expires by its own wall clock, so keys get a relative time to live: a gateway
 * on another clock (tests use a virtual one) keeps its records for the retention it configured. Returns 1 when applied, 0 when
 * the job is gone or not in an allowed state (a final state is never overwritten).
 */
const TRANSITION = `
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return 0 end
local ok = false
for s in string.gmatch(ARGV[2], '[^,]+') do if s == st then ok = true end end
if not ok then return 0 end
local n = tonumber(ARGV[7])
if n > 0 then
  local set = {}
  for i = 1, n * 2 do set[i] = ARGV[7 + i] end
  redis.call('HSET', KEYS[1], unpack(set))
end
local del = {}
for i = 8 + n * 2, #ARGV do del[#del + 1] = ARGV[i] end
if #del > 0 then redis.call('HDEL', KEYS[1], unpack(del)) end
if ARGV[6] ~= '' then redis.call('HSETNX', KEYS[1], 'started_at', ARGV[6]) end
local states = {queued = 2, running = 3, succeeded = 4, failed = 5, cancelled = 6}
local new = ARGV[3]
if new ~= st then
  redis.call('ZREM', KEYS[states[st]], ARGV[1])
end
if (st == 'queued' or st == 'running') and new ~= 'queued' and new ~= 'running' then redis.call('SREM', KEYS[8], ARGV[1]) end
local score
if new == 'queued' or new == 'running' then score = redis.call('HGET', KEYS[1], 'created_at') else score = ARGV[4] end
redis.call('ZADD', KEYS[states[new]], score, ARGV[1])
if ARGV[5] ~= '' then
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  redis.call('PEXPIRE', KEYS[7], ARGV[5])
end
return 1
`;

/** KEYS: a hash. ARGV: n, n pairs to set, then fields to delete. Changes only a hash that exists. */
const PATCH = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = tonumber(ARGV[1])
if n > 0 then
  local set = {}
  for i = 1, n * 2 do set[i] = ARGV[1 + i] end
  redis.call('HSET', KEYS[1], unpack(set))
end
local del = {}
for i = 2 + n * 2, #ARGV do del[#del + 1] = ARGV[i] end
if #del > 0 then redis.call('HDEL', KEYS[1], unpack(del)) end
return 1
`;

/** KEYS: the record. ARGV: time to live (ms), then field/value pairs. Creates it only when absent: first writer wins. */
const RESERVE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local set = {}
for i = 2, #ARGV do set[i - 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(set))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`;

type Scripted = Redis & {
  transition(...args: Array<string | number | Buffer>): Promise<number>;
  patch(...args: Array<string | number | Buffer>): Promise<number>;
  reserve(...args: Array<string | number | Buffer>): Promise<number>;
};

/** A key's time to live for an expiry on the gateway's clock (at least 1 ms: PEXPIRE 0 would be refused). */
const ttlMs = (expiresAt: number, now: number) => Math.max(1, Math.round(expiresAt - now));

/** The URL with any password hidden, for messages. */
function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the configured REDIS_URL';
  }
}

/** A hash's fields as set/delete lists: null and undefined values are deleted. */
function split(fields: Record<string, string | number | Buffer | null | undefined>): { set: Array<string | Buffer>; del: string[] } {
  const set: Array<string | Buffer> = [];
  const del: string[] = [];
  for (const [k, v] of Object.entries(fields)) {
    if (v === null || v === undefined) del.push(k);
    else set.push(k, Buffer.isBuffer(v) ? v : String(v));
  }
  return { set, del };
}

function decodeJob(h: Record<string, string>): JobRow | undefined {
  if (!h.id) return undefined;
  const row: Record<string, unknown> = { result: null };
  for (const c of JOB_COLUMNS) {
    const v = h[c];
    row[c] = v === undefined ? null : NUMERIC.has(c) ? Number(v) : v;
  }
  return row as unknown as JobRow;
}

function decodeIdem(h: Record<string, Buffer>): IdempotencyRow | undefined {
  if (!h.scope) return undefined;
  const s = (k: string) => (h[k] === undefined ? null : h[k].toString('utf8'));
  return {
    scope: s('scope')!,
    key: s('key')!,
    fingerprint: s('fingerprint')!,
    job_id: s('job_id'),
    status: h.status === undefined ? null : Number(h.status.toString()),
    headers: s('headers'),
    body: h.body ?? null,
    created_at: Number(s('created_at')),
    expires_at: Number(s('expires_at')),
  };
}

const resultLostError = (id: string) => new GatewayError('MG-JOB-007', undefined, { details: { job_id: id } });

export class RedisStore implements Store {
  readonly kind = 'redis';
  readonly shared = true;
  readonly redis: Scripted;
  private readonly p: string;
  private readonly url: string;
  private readonly connectTimeoutMs: number;
  private closed = false;

  constructor(opts: RedisStoreOptions) {
    this.p = opts.prefix;
    this.url = opts.url;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
    // lazyConnect: nothing happens before open(); afterwards ioredis reconnects on its own and queues
    // commands meanwhile, failing each after a few attempts rather than hanging a request forever.
    const redis = new Redis(opts.url, { lazyConnect: true, maxRetriesPerRequest: 3, connectTimeout: this.connectTimeoutMs, connectionName: 'motion-gateway' });
    redis.defineCommand('transition', { numberOfKeys: 8, lua: TRANSITION });
    redis.defineCommand('patch', { numberOfKeys: 1, lua: PATCH });
    redis.defineCommand('reserve', { numberOfKeys: 1, lua: RESERVE });
    // Connection errors are reported by status() and by the commands that fail; without a listener ioredis logs each one.
    redis.on('error', () => {});
    this.redis = redis as Scripted;
  }

  private jobKey = (id: string) => `${this.p}job:${id}`;
  private stateKey = (state: string) => `${this.p}jobs:${state}`;
  private resultKey = (name: string) => `${this.p}result:${name}`;
  private idemKey = (scope: string, key: string) => `${this.p}idem:${scope.length}:${scope}:${key}`;
  private cacheKey = (key: string) => `${this.p}cache:${key}`;
  private kvKey = (provider: string) => `${this.p}kv:${provider}`;
  private ownerKey = (owner: string) => `${this.p}owner:${owner}:unfinished`;
  private stateKeys = () => STATES.map(this.stateKey);

  async open(): Promise<void> {
    if (this.redis.status === 'ready') return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.redis.connect(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer in ${this.connectTimeoutMs} ms`)), this.connectTimeoutMs);
        }),
      ]);
      await this.redis.ping();
    } catch (err) {
      this.redis.disconnect();
      throw new Error(`STORE=redis: cannot reach Redis at REDIS_URL=${redactedUrl(this.url)} (${(err as Error).message}). Start Redis or set REDIS_URL.`);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.redis.status === 'end') return;
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis.disconnect());
    else this.redis.disconnect();
  }

  isOpen(): boolean {
    return !this.closed && this.redis.status === 'ready';
  }

  status(): StoreStatus {
    return { kind: 'redis', state: this.closed ? 'end' : this.redis.status === 'ready' ? 'ok' : this.redis.status };
  }

  private async transition(id: string, allowed: string, state: JobState, expiresAt: number | null, fields: Record<string, string | number | null>, startedAt?: number, now?: number): Promise<number> {
    const { set, del } = split({ ...fields, state });
    const ttl = expiresAt === null ? '' : ttlMs(expiresAt, now ?? Date.now());
    // A job's owner never changes, so reading it first is safe; only a final state leaves the owner's set.
    const owner = state === 'queued' || state === 'running' ? '' : ((await this.redis.hget(this.jobKey(id), 'owner')) ?? '');
    return this.redis.transition(
      this.jobKey(id),
      ...this.stateKeys(),
      this.resultKey(`${id}.glb`),
      this.ownerKey(owner),
      id,
      allowed,
      state,
      expiresAt === null ? '' : expiresAt,
      ttl,
      startedAt === undefined ? '' : startedAt,
      set.length / 2,
      ...set,
      ...del,
    );
  }

  private patch(key: string, fields: Record<string, string | number | Buffer | null>): Promise<number> {
    const { set, del } = split(fields);
    return this.redis.patch(key, set.length / 2, ...set, ...del);
  }

  async insertJob(row: NewJobRow): Promise<void> {
    const { result, ...rest } = row;
    const { set } = split(rest as unknown as Record<string, string | number | null>);
    const tx = this.redis.multi().hset(this.jobKey(row.id), ...(set as string[]));
    if (result) tx.set(this.resultKey(`${row.id}.glb`), result).hset(this.jobKey(row.id), 'result_path', `${row.id}.glb`, 'result_size', result.byteLength);
    const unfinished = row.state === 'queued' || row.state === 'running';
    tx.zadd(this.stateKey(row.state), unfinished ? row.created_at : (row.expires_at ?? row.created_at), row.id);
    if (unfinished) tx.sadd(this.ownerKey(row.owner), row.id);
    if (row.expires_at !== null) {
      const ttl = ttlMs(row.expires_at, row.updated_at);
      tx.pexpire(this.jobKey(row.id), ttl);
      if (row.result_path || result) tx.pexpire(this.resultKey(row.result_path ?? `${row.id}.glb`), ttl);
    }
    await tx.exec();
  }

  async getJob(id: string): Promise<JobRow | undefined> {
    return decodeJob(await this.redis.hgetall(this.jobKey(id)));
  }

  async unfinishedJobs(): Promise<JobRow[]> {
    const ids = [...(await this.redis.zrange(this.stateKey('running'), 0, -1)), ...(await this.redis.zrange(this.stateKey('queued'), 0, -1))];
    if (!ids.length) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hgetall(this.jobKey(id));
    const rows: JobRow[] = [];
    for (const [err, h] of (await pipe.exec()) ?? []) {
      if (err) throw err;
      const row = decodeJob(h as Record<string, string>);
      if (row && (row.state === 'queued' || row.state === 'running')) rows.push(row);
    }
    return rows;
  }

  async saveCheckpoint(id: string, checkpoint: unknown, now: number): Promise<void> {
    await this.patch(this.jobKey(id), { checkpoint: JSON.stringify(checkpoint), updated_at: now });
  }

  async saveTarget(id: string, provider: string, servedBy: string, checkpoint: unknown, now: number): Promise<void> {
    await this.patch(this.jobKey(id), { provider, served_by: servedBy, checkpoint: JSON.stringify(checkpoint), updated_at: now });
  }

  async saveProgress(id: string, checkpoint: unknown, progress: number | null, queuePosition: number | null, waitMs: number | null, now: number): Promise<void> {
    await this.patch(this.jobKey(id), { checkpoint: JSON.stringify(checkpoint), progress, queue_position: queuePosition, wait_ms: waitMs, updated_at: now });
  }

  async markStarted(id: string, now: number): Promise<boolean> {
    return (await this.transition(id, UNFINISHED, 'running', null, { queue_position: null, updated_at: now }, now)) === 1;
  }

  async markSucceeded(id: string, glb: Uint8Array, now: number, expiresAt: number): Promise<ResultRef | undefined> {
    const bytes = Buffer.from(glb.buffer, glb.byteOffset, glb.byteLength);
    const name = `${id}.glb`;
    // The result first, with the job's expiry: a crash before the state change leaves nothing behind for long.
    await this.redis.set(this.resultKey(name), bytes, 'PX', ttlMs(expiresAt, now));
    const fields = { result_path: name, result_size: bytes.byteLength, progress: 1, queue_position: null, wait_ms: null, finished_at: now, updated_at: now, expires_at: expiresAt };
    if ((await this.transition(id, UNFINISHED, 'succeeded', expiresAt, fields, undefined, now)) === 0) {
      await this.redis.del(this.resultKey(name));
      return undefined;
    }
    return { kind: 'file', name, byteLength: bytes.byteLength };
  }

  async openResult(row: JobRow): Promise<StoredResult> {
    if (row.result_path !== null && row.result_size !== null) {
      const key = this.resultKey(row.result_path);
      const byteLength = row.result_size;
      if ((await this.redis.strlen(key)) === byteLength) {
        const redis = this.redis;
        return {
          byteLength,
          async read(position, length) {
            const end = Math.min(byteLength, position + length);
            if (end <= position) return Buffer.alloc(0);
            const piece = await redis.getrangeBuffer(key, position, end - 1);
            if (piece.byteLength !== end - position) throw new Error(`stored result ended at ${position + piece.byteLength} of ${byteLength} bytes`);
            return piece;
          },
          close: async () => {},
        };
      }
    }
    if (this.isOpen()) {
      const error = JSON.stringify(resultLostError(row.id).toJSON());
      await this.transition(row.id, 'succeeded', 'failed', row.expires_at, { error, result_path: null, result_size: null }, undefined, row.finished_at ?? undefined);
    }
    throw resultLostError(row.id);
  }

  async markFailed(id: string, error: StoredError, now: number, expiresAt: number): Promise<boolean> {
    const fields = { error: JSON.stringify(error), queue_position: null, wait_ms: null, finished_at: now, updated_at: now, expires_at: expiresAt };
    return (await this.transition(id, UNFINISHED, 'failed', expiresAt, fields, undefined, now)) === 1;
  }

  async markCancelled(id: string, now: number, expiresAt: number): Promise<boolean> {
    const fields = { queue_position: null, wait_ms: null, finished_at: now, updated_at: now, expires_at: expiresAt };
    return (await this.transition(id, UNFINISHED, 'cancelled', expiresAt, fields, undefined, now)) === 1;
  }

  async deleteJob(id: string): Promise<void> {
    const owner = await this.redis.hget(this.jobKey(id), 'owner');
    const tx = this.redis.multi().del(this.jobKey(id), this.resultKey(`${id}.glb`));
    if (owner !== null) tx.srem(this.ownerKey(owner), id);
    for (const k of this.stateKeys()) tx.zrem(k, id);
    await tx.exec();
  }

  async getIdempotency(scope: string, key: string): Promise<IdempotencyRow | undefined> {
    return decodeIdem((await this.redis.hgetallBuffer(this.idemKey(scope, key))) as Record<string, Buffer>);
  }

  async reserveIdempotency(row: IdempotencyRow): Promise<IdempotencyRow | undefined> {
    const { set } = split(row as unknown as Record<string, string | number | Buffer | null>);
    for (;;) {
      if ((await this.redis.reserve(this.idemKey(row.scope, row.key), ttlMs(row.expires_at, row.created_at), ...set)) === 1) return undefined;
      const existing = await this.getIdempotency(row.scope, row.key);
      if (existing) return existing;
      // Deleted (or expired) between the two calls: try to be first again.
    }
  }

  async putIdempotency(row: IdempotencyRow): Promise<void> {
    const k = this.idemKey(row.scope, row.key);
    const { set } = split(row as unknown as Record<string, string | number | Buffer | null>);
    await this.redis.multi().del(k).hset(k, ...(set as string[])).pexpire(k, ttlMs(row.expires_at, row.created_at)).exec();
  }

  async completeIdempotency(scope: string, key: string, status: number, headers: Record<string, string>, body: Uint8Array | null): Promise<void> {
    await this.patch(this.idemKey(scope, key), { status, headers: JSON.stringify(headers), body: body ? Buffer.from(body) : null });
  }

  async deleteIdempotency(scope: string, key: string): Promise<void> {
    await this.redis.del(this.idemKey(scope, key));
  }

  async claimCachedResult(key: string, now: number, jobId: string): Promise<ResultRef | undefined> {
    const [name, size, expires] = await this.redis.hmget(this.cacheKey(key), 'name', 'size', 'expires_at');
    if (!name || !size || Number(expires) <= now) return undefined;
    const copy = `${jobId}.glb`;
    const copied = await this.redis.copy(this.resultKey(name), this.resultKey(copy), 'REPLACE');
    if (copied !== 1) {
      await this.redis.del(this.cacheKey(key));
      return undefined;
    }
    await this.redis.pexpire(this.resultKey(copy), PROVISIONAL_COPY_MS);
    return { kind: 'file', name: copy, byteLength: Number(size) };
  }

  async putCachedResult(key: string, result: ResultRef, now: number, expiresAt: number): Promise<void> {
    const name = `cache-${key}.glb`;
    const target = this.resultKey(name);
    const ttl = ttlMs(expiresAt, now);
    if (result.kind === 'inline') await this.redis.set(target, result.glb, 'PX', ttl);
    else if ((await this.redis.copy(this.resultKey(result.name), target, 'REPLACE')) !== 1) throw new Error(`result ${result.name} is gone`);
    const size = result.kind === 'inline' ? result.glb.byteLength : result.byteLength;
    await this.redis
      .multi()
      .pexpire(target, ttl)
      .del(this.cacheKey(key))
      .hset(this.cacheKey(key), 'name', name, 'size', size, 'created_at', now, 'expires_at', expiresAt)
      .pexpire(this.cacheKey(key), ttl)
      .exec();
  }

  /**
   * Forgets jobs in a final state whose retention ended by `now` (Redis also expires them itself at that
   * time). Idempotency records and cache entries need no sweep: their keys expire in Redis.
   */
  async sweep(now: number): Promise<SweepCounts> {
    let jobs = 0;
    for (const state of ['succeeded', 'failed', 'cancelled']) {
      const ids = await this.redis.zrangebyscore(this.stateKey(state), '-inf', now);
      if (!ids.length) continue;
      const tx = this.redis.multi();
      for (const id of ids) tx.del(this.jobKey(id), this.resultKey(`${id}.glb`));
      tx.zrem(this.stateKey(state), ...ids);
      await tx.exec();
      jobs += ids.length;
    }
    return { jobs, keys: 0, cache: 0, orphans: 0 };
  }

  kv(provider: string): StoreKv {
    const k = this.kvKey(provider);
    // Entries with a lifetime are keys of their own (a hash field has none before Redis 7.4).
    const timed = (key: string) => `${k}:ttl:${key}`;
    return {
      get: async (key) => (await this.redis.hget(k, key)) ?? (await this.redis.get(timed(key))) ?? undefined,
      set: async (key, value, opts) => {
        if (opts?.ttlMs === undefined) await this.redis.multi().hset(k, key, value).del(timed(key)).exec();
        else await this.redis.multi().set(timed(key), value, 'PX', Math.max(1, Math.round(opts.ttlMs))).hdel(k, key).exec();
      },
      delete: async (key) => void (await this.redis.multi().hdel(k, key).del(timed(key)).exec()),
    };
  }

  /** The owner's set, less ids whose hash is gone or final (evicted keys): those are dropped from the set. */
  async countUnfinishedByOwner(owner: string): Promise<number> {
    const key = this.ownerKey(owner);
    const ids = await this.redis.smembers(key);
    if (!ids.length) return 0;
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hget(this.jobKey(id), 'state');
    const stale: string[] = [];
    ((await pipe.exec()) ?? []).forEach(([err, state], i) => {
      if (err) throw err;
      if (state !== 'queued' && state !== 'running') stale.push(ids[i]);
    });
    if (stale.length) await this.redis.srem(key, ...stale);
    return ids.length - stale.length;
  }

  async countsByState(): Promise<Record<string, number>> {
    const pipe = this.redis.pipeline();
    for (const s of STATES) pipe.zcard(this.stateKey(s));
    const out: Record<string, number> = {};
    ((await pipe.exec()) ?? []).forEach(([err, n], i) => {
      if (err) throw err;
      if ((n as number) > 0) out[STATES[i]] = n as number;
    });
    return out;
  }
}
