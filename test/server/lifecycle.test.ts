/** Jobs as clients see them: sync and async answers, polling, cancel, retention, idempotency and restarts. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createProceduralAdapter } from '../../src/adapters/procedural/index.js';
import { validators } from '../../src/protocol/schemas.js';
import { SqliteStore as Store } from '../../src/jobs/sqlite-store.js';
import { RedisStore } from '../../src/jobs/redis-store.js';
import { createStore } from '../../src/jobs/store.js';
import { testConfig } from '../helpers/config.js';
import { createGatedAdapter, type GatedAdapter } from '../helpers/gated-adapter.js';
import { canonicalSkeleton, postGenerate, startGateway, type Running } from '../helpers/gateway.js';
import { validateGltf } from '../helpers/gltf-validate.js';

const tmp = mkdtempSync(join(tmpdir(), 'gw-lifecycle-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let skeleton: any;
const request = (over: Record<string, unknown> = {}) => ({
  protocol_version: '1.2',
  model: 'gated',
  skeleton,
  segments: [{ type: 'text', prompt: 'walk', duration_frames: 30 }],
  ...over,
});

let running: Running[] = [];
/** Sets every job's expiry (retention is at least 5 minutes by configuration). */
async function ageJobs(g: Running, expiresAt: number): Promise<void> {
  const store = g.gw.store;
  if (store instanceof Store) store.db.prepare('UPDATE jobs SET expires_at = ?').run(expiresAt);
  else if (store instanceof RedisStore) {
    for (const key of await store.redis.keys(`${g.gw.config.redisPrefix}job:*`)) {
      const [id, state] = await store.redis.hmget(key, 'id', 'state');
      await store.redis.hset(key, 'expires_at', expiresAt);
      await store.redis.zadd(`${g.gw.config.redisPrefix}jobs:${state}`, expiresAt, id!);
    }
  }
}

async function start(adapter: GatedAdapter, over: Parameters<typeof startGateway>[0] = {}): Promise<Running> {
  const g = await startGateway(over, { adapters: [createProceduralAdapter(), adapter] });
  running.push(g);
  return g;
}
afterEach(async () => {
  await Promise.all(running.map((g) => g.close()));
  running = [];
});

beforeAll(async () => {
  const g = await startGateway();
  skeleton = await canonicalSkeleton(g.url);
  await g.close();
});

describe('async lifecycle', () => {
  it('answers 202 at once with Prefer: respond-async, then 202 while running, then 200 with the glTF', async () => {
    const gated = createGatedAdapter();
    const g = await start(gated);
    const res = await postGenerate(g.url, request(), { prefer: 'respond-async' });
    expect(res.status).toBe(202);
    expect(res.headers.get('preference-applied')).toBe('respond-async');
    const location = res.headers.get('location')!;
    expect(location).toMatch(/^\/generate\/jobs\/job_[A-Za-z0-9_-]{22}$/);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const accepted = await res.json();
    expect(location.endsWith(accepted.job_id)).toBe(true);
    expect(Date.parse(accepted.submitted_at)).not.toBeNaN();

    await gated.advanced(2);
    const poll = await fetch(g.url + location);
    expect(poll.status).toBe(202);
    expect(Number(poll.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const status = await (await fetch(`${g.url}${location}/status`)).json();
    expect(validators.jobStatus(status)).toBe(true);
    expect(status).toMatchObject({ state: 'running', queue_position: 2 });
    expect(status.progress).toBeGreaterThan(0);

    gated.open();
    await g.gw.runner.waitFor(accepted.job_id, 5_000);
    const done = await fetch(g.url + location, { headers: { accept: 'model/gltf-binary' } });
    expect(done.status).toBe(200);
    expect(done.headers.get('content-type')).toBe('model/gltf-binary');
    const glb = new Uint8Array(await done.arrayBuffer());
    expect((await validateGltf(glb, 'glb')).errors).toEqual([]);
    const final = await (await fetch(`${g.url}${location}/status`)).json();
    expect(final).toMatchObject({ state: 'succeeded', progress: 1, queue_position: null });
  });

  it('answers 202 after the sync wait runs out, and 200 when the job finishes within it', async () => {
    const gated = createGatedAdapter();
    // Long enough for an open gate's job on a loaded machine (a cold worker thread compiles its modules; the browser test may run beside it).
    const g = await start(gated, { syncWaitMs: 4_000 });
    const slow = await postGenerate(g.url, request());
    expect(slow.status).toBe(202);
    expect(slow.headers.get('location')).toBeTruthy();
    gated.open();
    const fast = await postGenerate(g.url, request());
    expect(fast.status).toBe(200);
    expect(fast.headers.get('content-type')).toContain('model/gltf+json');
  });

  it('cancels with DELETE: 204, the provider work is cancelled, polls answer 410', async () => {
    const gated = createGatedAdapter();
    const g = await start(gated);
    const res = await postGenerate(g.url, request(), { prefer: 'respond-async' });
    const location = res.headers.get('location')!;
    await gated.advanced(1);
    const del = await fetch(g.url + location, { method: 'DELETE' });
    expect(del.status).toBe(204);
    const poll = await fetch(g.url + location);
    expect(poll.status).toBe(410);
    expect((await poll.json()).error.code).toBe('job_cancelled');
    await expect.poll(() => gated.calls.cancel).toBe(1);
    const status = await (await fetch(`${g.url}${location}/status`)).json();
    expect(status.state).toBe('cancelled');
  });

  it('forgets jobs after retention: 404 job_not_found', async () => {
    const gated = createGatedAdapter({ open: true });
    const g = await start(gated, { jobRetentionS: 300 });
    const res = await postGenerate(g.url, request());
    expect(res.status).toBe(200);
    const location = res.headers.get('content-location')!;
    expect((await fetch(g.url + location)).status).toBe(200);
    // Retention is at least 5 minutes by configuration; age the row instead of waiting.
    await ageJobs(g, Date.now() - 1);
    const gone = await fetch(g.url + location);
    expect(gone.status).toBe(404);
    expect((await gone.json()).error.code).toBe('job_not_found');
    await g.gw.runner.sweep();
    expect((await g.gw.store.getJob(location.split('/').pop()!))).toBeUndefined();
  });

  it('answers 404 for unknown ids and for other keys\' jobs', async () => {
    const gated = createGatedAdapter({ open: true });
    const g = await start(gated, { apiKeys: ['key-one-0123456789', 'key-two-0123456789'] });
    const one = { authorization: 'Bearer key-one-0123456789' };
    const res = await postGenerate(g.url, request(), one);
    expect(res.status).toBe(200);
    const location = res.headers.get('content-location')!;
    expect((await fetch(g.url + location, { headers: one })).status).toBe(200);
    expect((await fetch(g.url + location, { headers: { authorization: 'Bearer key-two-0123456789' } })).status).toBe(404);
    expect((await fetch(`${g.url}/generate/jobs/job_AAAAAAAAAAAAAAAAAAAAAA`, { headers: one })).status).toBe(404);
  });
});

describe('back-pressure', () => {
  it('answers 503 resource_exhausted with Retry-After beyond the queue bound', async () => {
    const gated = createGatedAdapter();
    const g = await start(gated, { maxConcurrentJobs: 1, maxQueuedJobs: 1 });
    const a = await postGenerate(g.url, request(), { prefer: 'respond-async' });
    const b = await postGenerate(g.url, request(), { prefer: 'respond-async' });
    const c = await postGenerate(g.url, request(), { prefer: 'respond-async' });
    expect([a.status, b.status, c.status]).toEqual([202, 202, 503]);
    expect(Number(c.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = await c.json();
    expect(body.error.code).toBe('resource_exhausted');
    const queued = await (await fetch(`${g.url}${b.headers.get('location')}/status`)).json();
    expect(queued).toMatchObject({ state: 'queued', queue_position: 0 });
  });
});

describe('idempotency', () => {
  it('replays the first answer for the same key and body, even after a restart', async () => {
    const db = join(tmp, 'idem.db');
    const shared = { calls: { start: 0, advance: 0, cancel: 0 }, gate: { open: true } };
    const g1 = await start(createGatedAdapter({ shared }), { dbPath: db });
    const key = { 'idempotency-key': 'order-42' };
    const first = await postGenerate(g1.url, request(), key);
    expect(first.status).toBe(200);
    const firstBody = await first.text();
    const again = await postGenerate(g1.url, request(), key);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.text()).toBe(firstBody);
    await g1.close();
    running = [];

    const g2 = await start(createGatedAdapter({ shared }), { dbPath: db });
    const replay = await postGenerate(g2.url, request(), { ...key, accept: 'model/gltf-binary' });
    expect(replay.status).toBe(200);
    expect(replay.headers.get('content-type')).toBe('model/gltf-binary');
    expect(replay.headers.get('x-job-id')).toBe(first.headers.get('x-job-id'));
    expect(shared.calls.start).toBe(1);
  });

  it('answers 409 for the same key with a different body', async () => {
    const g = await start(createGatedAdapter({ open: true }));
    const key = { 'idempotency-key': 'k-409' };
    expect((await postGenerate(g.url, request(), key)).status).toBe(200);
    const conflict = await postGenerate(g.url, request({ segments: [{ type: 'text', prompt: 'run', duration_frames: 30 }] }), key);
    expect(conflict.status).toBe(409);
    expect((await conflict.json()).error.code).toBe('idempotency_conflict');
  });

  it('gives concurrent duplicates one job', async () => {
    const gated = createGatedAdapter();
    const g = await start(gated, { syncWaitMs: 10_000 });
    const key = { 'idempotency-key': 'dup-1' };
    const pending = Array.from({ length: 5 }, () => postGenerate(g.url, request(), key));
    await gated.advanced(1);
    gated.open();
    const answers = await Promise.all(pending);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(answers.map((a) => a.headers.get('x-job-id'))).size).toBe(1);
    expect(gated.calls.start).toBe(1);
  });

  it('replays an async answer as the same job', async () => {
    const gated = createGatedAdapter();
    const g = await start(gated);
    const key = { 'idempotency-key': 'async-1', prefer: 'respond-async' };
    const a = await postGenerate(g.url, request(), key);
    const b = await postGenerate(g.url, request(), key);
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(b.headers.get('location')).toBe(a.headers.get('location'));
    expect(b.headers.get('retry-after')).toBeTruthy();
    expect(gated.calls.start).toBe(1);
  });

  it('declines expensive requests with Idempotency-Status: declined', async () => {
    const g = await start(createGatedAdapter({ open: true }), { idempotencyMaxCost: 1 });
    const res = await postGenerate(g.url, request({ options: { num_samples: 2 } }), { 'idempotency-key': 'big-1' });
    expect(res.status).toBe(200);
    expect(res.headers.get('idempotency-status')).toBe('declined');
    const again = await postGenerate(g.url, request({ options: { num_samples: 2 } }), { 'idempotency-key': 'big-1' });
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect(again.headers.get('x-job-id')).not.toBe(res.headers.get('x-job-id'));
  });

  it('does not store refusals: a corrected request may reuse the key', async () => {
    const g = await start(createGatedAdapter({ open: true }));
    const key = { 'idempotency-key': 'fix-me' };
    expect((await postGenerate(g.url, request({ model: 'nope' }), key)).status).toBe(400);
    expect((await postGenerate(g.url, request(), key)).status).toBe(200);
  });
});

describe('reproducibility', () => {
  it('answers a repeated seeded request from the result cache, without new provider work', async () => {
    const gated = createGatedAdapter({ open: true });
    const g = await start(gated);
    const body = request({ options: { seed: 99 } });
    const a = await postGenerate(g.url, body, { accept: 'model/gltf-binary' });
    const b = await postGenerate(g.url, body, { accept: 'model/gltf-binary' });
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(Buffer.from(await a.arrayBuffer()).equals(Buffer.from(await b.arrayBuffer()))).toBe(true);
    expect(gated.calls.start).toBe(1); // the cached answer needed nothing from the provider
    expect(gated.calls.advance).toBe(1);
    // Without a seed, every request is new work.
    await postGenerate(g.url, request());
    expect(gated.calls.advance).toBe(2);
  });
});

describe('durability', () => {
  it('resumes an accepted job after a restart without starting the provider work again', async () => {
    const db = join(tmp, 'restart.db');
    const shared = { calls: { start: 0, advance: 0, cancel: 0 }, gate: { open: false } };
    const g1 = await start(createGatedAdapter({ shared }), { dbPath: db });
    const res = await postGenerate(g1.url, request(), { prefer: 'respond-async' });
    expect(res.status).toBe(202);
    const location = res.headers.get('location')!;
    await new Promise<void>((r) => {
      const t = setInterval(() => shared.calls.advance >= 2 && (clearInterval(t), r()), 5);
    });
    await g1.close();
    running = [];
    // The provider job and its progress were checkpointed before the stop.
    const store = createStore(testConfig({ dbPath: db })); // the same records the gateway had, SQLite or Redis
    await store.open();
    const saved = (await store.getJob(location.split('/').pop()!))!;
    await store.close();
    expect(saved.state).toBe('running');
    expect(JSON.parse(saved.checkpoint!)).toMatchObject({ providerJob: 'p-1' });

    shared.gate.open = true;
    const g2 = await start(createGatedAdapter({ shared }), { dbPath: db });
    const id = location.split('/').pop()!;
    await g2.gw.runner.waitFor(id, 5_000);
    const done = await fetch(g2.url + location);
    expect(done.status).toBe(200);
    expect(shared.calls.start).toBe(1);
    const row = (await g2.gw.store.getJob(id))!;
    expect(JSON.parse(row.checkpoint!).polls).toBeGreaterThanOrEqual(2);
  });
});
