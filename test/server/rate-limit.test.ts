/**
 * Each API key's limits over real HTTP: requests per minute (RATE_LIMIT_RPM) and unfinished jobs
 * (RATE_LIMIT_CONCURRENT_JOBS), on one SQLite gateway and on two gateways sharing one Redis (one budget
 * for both). The Redis tests use REDIS_URL (default redis://127.0.0.1:6379) under a key prefix of their
 * own, deleted afterwards; an unreachable Redis fails them, naming REDIS_URL: they are never skipped.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createProceduralAdapter } from '../../src/adapters/procedural/index.js';
import { RedisStore } from '../../src/jobs/redis-store.js';
import { validators } from '../../src/protocol/schemas.js';
import type { Config } from '../../src/config.js';
import type { Logger } from '../../src/spec/adapter.js';
import { createGatedAdapter, type GatedAdapter } from '../helpers/gated-adapter.js';
import { canonicalSkeleton, postGenerate, startGateway, type Running } from '../helpers/gateway.js';

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const KEY_ONE = 'key-one-0123456789';
const KEY_TWO = 'key-two-0123456789';
const one = { authorization: `Bearer ${KEY_ONE}` };
const two = { authorization: `Bearer ${KEY_TWO}` };
const async = { prefer: 'respond-async' };

let skeleton: unknown;
const request = (model = 'gated') => ({ protocol_version: '1.2', model, skeleton, segments: [{ type: 'text', prompt: 'walk', duration_frames: 30 }] });

let running: Running[] = [];
async function start(over: Partial<Config>, adapters: GatedAdapter[] = [], logger?: Logger): Promise<Running> {
  const g = await startGateway({ store: 'sqlite', apiKeys: [KEY_ONE, KEY_TWO], ...over }, { adapters: [createProceduralAdapter(), ...adapters], logger });
  running.push(g);
  return g;
}
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(running.map((g) => g.close()));
  running = [];
});

beforeAll(async () => {
  const g = await startGateway({ store: 'sqlite' });
  skeleton = await canonicalSkeleton(g.url);
  await g.close();
});

/** The RateLimit field of an answer, read: remaining requests and seconds until the window resets. */
function counter(res: Response): { r: number; t: number } {
  const m = /^"rpm";r=(\d+);t=(\d+)$/.exec(res.headers.get('ratelimit') ?? '');
  if (!m) throw new Error(`no RateLimit field: ${res.headers.get('ratelimit')}`);
  return { r: Number(m[1]), t: Number(m[2]) };
}

const capabilities = (g: Running, headers: Record<string, string>) => fetch(`${g.url}/capabilities`, { headers });

/** Asserts a 429 of one of the limits in our envelope, with Retry-After; returns the envelope. */
async function expectRateLimited(res: Response, limit: 'requests_per_minute' | 'concurrent_jobs'): Promise<any> {
  expect(res.status).toBe(429);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = await res.json();
  expect(validators.errorEnvelope(body)).toBe(true);
  expect(body.error).toMatchObject({ code: 'rate_limited', details: { limit } });
  expect(body.detail.error_code).toBe('MG-AUT-003');
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(body.detail.action).toContain(`Retry after ${retryAfter} seconds`);
  return body;
}

describe('requests per minute (SQLite: counted in the process)', () => {
  it('refuses a key past RATE_LIMIT_RPM with 429 rate_limited, Retry-After and the RateLimit fields; another key has its own budget', async () => {
    const g = await start({ rateLimitRpm: 3 });
    for (const left of [2, 1, 0]) {
      const res = await capabilities(g, one);
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-policy')).toBe('"rpm";q=3;w=60');
      const c = counter(res);
      expect(c.r).toBe(left);
      expect(c.t).toBeGreaterThanOrEqual(1);
      expect(c.t).toBeLessThanOrEqual(60);
    }
    const refused = await capabilities(g, one);
    const body = await expectRateLimited(refused, 'requests_per_minute');
    expect(body.error.details).toMatchObject({ max: 3, window_s: 60 });
    expect(refused.headers.get('ratelimit-policy')).toBe('"rpm";q=3;w=60');
    const c = counter(refused);
    expect(c.r).toBe(0);
    // Retry-After is when the window resets: the same instant the RateLimit field announces.
    expect(Number(refused.headers.get('retry-after'))).toBe(c.t);
    expect(body.error.details.retry_after_s).toBe(c.t);
    // POST /generate draws on the same budget: refused before its body is read.
    await expectRateLimited(await postGenerate(g.url, request('procedural'), one), 'requests_per_minute');

    const other = await capabilities(g, two);
    expect(other.status).toBe(200);
    expect(counter(other).r).toBe(2);
  });

  it('never counts polls, health, readiness or metrics, nor callers without a valid key', async () => {
    const g = await start({ rateLimitRpm: 1 });
    expect((await capabilities(g, one)).status).toBe(200);
    expect((await capabilities(g, one)).status).toBe(429);
    const poll = await fetch(`${g.url}/generate/jobs/job_AAAAAAAAAAAAAAAAAAAAAA`, { headers: one });
    expect(poll.status).toBe(404);
    expect(poll.headers.get('ratelimit')).toBeNull();
    expect((await fetch(`${g.url}/generate/jobs/job_AAAAAAAAAAAAAAAAAAAAAA/status`, { headers: one })).status).toBe(404);
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      const res = await fetch(g.url + path);
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit')).toBeNull();
    }
    // Authentication comes first: no key is 401, never charged to a budget.
    expect((await fetch(`${g.url}/capabilities`)).status).toBe(401);
  });

  it('starts a fresh budget when the minute is over', async () => {
    const g = await start({ rateLimitRpm: 2 });
    // rate-limiter-flexible reads Date: only Date is faked, timers and sockets stay real.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now());
    expect((await capabilities(g, one)).status).toBe(200);
    expect((await capabilities(g, one)).status).toBe(200);
    const refused = await capabilities(g, one);
    expect(refused.status).toBe(429);
    vi.setSystemTime(Date.now() + 59_000);
    expect((await capabilities(g, one)).status).toBe(429); // still within the first minute
    vi.setSystemTime(Date.now() + 1_001);
    const fresh = await capabilities(g, one);
    expect(fresh.status).toBe(200);
    expect(counter(fresh)).toEqual({ r: 1, t: 60 });
  });

  it('adds no fields and refuses nothing when RATE_LIMIT_RPM is 0', async () => {
    const g = await start({ rateLimitRpm: 0 });
    for (let i = 0; i < 5; i++) {
      const res = await capabilities(g, one);
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit')).toBeNull();
      expect(res.headers.get('ratelimit-policy')).toBeNull();
    }
  });
});

describe('concurrent jobs (SQLite)', () => {
  it('accepts N unfinished jobs per key, refuses the next with 429 (each batch item counts, a replay does not), and accepts again once one finishes', async () => {
    const gated = createGatedAdapter();
    const other = createGatedAdapter({ modelId: 'gated-b', provider: 'gated-b' });
    const g = await start({ rateLimitConcurrentJobs: 2, syncWaitMs: 50 }, [gated, other]);

    const first = await postGenerate(g.url, request('gated-b'), { ...one, ...async, 'idempotency-key': 'first' });
    expect(first.status).toBe(202);
    const firstId = first.headers.get('x-job-id')!;

    // A batch of two with one place left: the first item becomes a job, the second is refused.
    const batch = await postGenerate(g.url, { protocol_version: '1.2', requests: [request(), request()] }, one);
    expect(batch.status).toBe(200);
    const items = (await batch.json()).results;
    expect(items[0].error.details.job_id).toMatch(/^job_/); // admitted, still running
    expect(items[1].error).toMatchObject({ code: 'rate_limited', details: { limit: 'concurrent_jobs', max: 2, unfinished: 2 } });

    const refused = await postGenerate(g.url, request(), { ...one, ...async });
    const body = await expectRateLimited(refused, 'concurrent_jobs');
    expect(body.error.details).toMatchObject({ max: 2, unfinished: 2 });
    expect(refused.headers.get('retry-after')).toBe('5');

    // The replay of an accepted request is its first answer, not a new job.
    const replay = await postGenerate(g.url, request('gated-b'), { ...one, ...async, 'idempotency-key': 'first' });
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.headers.get('x-job-id')).toBe(firstId);
    // Another key has places of its own.
    expect((await postGenerate(g.url, request(), { ...two, ...async })).status).toBe(202);
    expect(await g.gw.store.countUnfinishedByOwner((await g.gw.store.getJob(firstId))!.owner)).toBe(2);

    other.open();
    await g.gw.runner.waitFor(firstId, 20_000);
    expect((await g.gw.store.getJob(firstId))!.state).toBe('succeeded');
    const again = await postGenerate(g.url, request(), { ...one, ...async });
    expect(again.status).toBe(202);
    expect((await postGenerate(g.url, request(), { ...one, ...async })).status).toBe(429);
  });
});

describe('two gateways on one Redis', () => {
  const prefix = () => `mgtest:rl-${randomBytes(6).toString('hex')}:`;
  const redis = (p: string): Partial<Config> => ({ store: 'redis', redisUrl: REDIS_URL, redisPrefix: p });

  it('share one request budget: requests split across A and B are refused together at the limit', async () => {
    const p = prefix();
    const a = await start({ ...redis(p), rateLimitRpm: 4 });
    const b = await start({ ...redis(p), rateLimitRpm: 4 });
    const seen: number[] = [];
    for (const g of [a, b, a, b]) {
      const res = await capabilities(g, one);
      expect(res.status).toBe(200);
      seen.push(counter(res).r);
    }
    expect(seen).toEqual([3, 2, 1, 0]);
    await expectRateLimited(await capabilities(a, one), 'requests_per_minute');
    const fromB = await capabilities(b, one);
    await expectRateLimited(fromB, 'requests_per_minute');
    expect(counter(fromB).t).toBeLessThanOrEqual(60);
    expect((await capabilities(b, two)).status).toBe(200);
    // The budget lives under REDIS_PREFIX with the gateway's other keys.
    const keys = await (a.gw.store as RedisStore).redis.keys(`${p}ratelimit:*`);
    expect(keys).toHaveLength(2);
  });

  it('count one key’s unfinished jobs across both instances', async () => {
    const p = prefix();
    const a = await start({ ...redis(p), rateLimitConcurrentJobs: 2 }, [createGatedAdapter()]);
    const b = await start({ ...redis(p), rateLimitConcurrentJobs: 2 }, [createGatedAdapter()]);
    const onA = await postGenerate(a.url, request(), { ...one, ...async });
    expect(onA.status).toBe(202);
    expect((await postGenerate(b.url, request(), { ...one, ...async })).status).toBe(202);
    await expectRateLimited(await postGenerate(a.url, request(), { ...one, ...async }), 'concurrent_jobs');
    await expectRateLimited(await postGenerate(b.url, request(), { ...one, ...async }), 'concurrent_jobs');
    // Cancelled through B, the job A admitted no longer counts anywhere.
    expect((await fetch(b.url + onA.headers.get('location'), { method: 'DELETE', headers: one })).status).toBe(204);
    expect((await postGenerate(b.url, request(), { ...one, ...async })).status).toBe(202);
    await expectRateLimited(await postGenerate(a.url, request(), { ...one, ...async }), 'concurrent_jobs');
  });

  it('take turns within one instance: of simultaneous requests for the last places exactly that many are accepted', async () => {
    // On Redis the count and the insert are round trips apart: without turns, all eight would count 0.
    const g = await start({ ...redis(prefix()), rateLimitConcurrentJobs: 3 }, [createGatedAdapter()]);
    const answers = await Promise.all(Array.from({ length: 8 }, () => postGenerate(g.url, request(), { ...one, ...async })));
    expect(answers.map((a) => a.status).sort()).toEqual([202, 202, 202, 429, 429, 429, 429, 429]);
    expect(await g.gw.store.countUnfinishedByOwner((await g.gw.store.getJob(answers.find((a) => a.status === 202)!.headers.get('x-job-id')!))!.owner)).toBe(3);
  });

  it('count in each instance’s memory while Redis does not answer: still limited, never a 500', async () => {
    const warnings: string[] = [];
    const quiet = () => {};
    const logger: Logger = { debug: quiet, info: quiet, error: quiet, warn: (_obj, msg) => void warnings.push(msg ?? '') };
    const g = await start({ ...redis(prefix()), rateLimitRpm: 2 }, [], logger);
    (g.gw.store as RedisStore).redis.disconnect();
    expect(counter(await capabilities(g, one)).r).toBe(1);
    expect((await capabilities(g, one)).status).toBe(200);
    await expectRateLimited(await capabilities(g, one), 'requests_per_minute');
    // Said once when the outage begins, not on every request.
    expect(warnings.filter((w) => w.startsWith('rate limits:'))).toHaveLength(1);
  });
});
