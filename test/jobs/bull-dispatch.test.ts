/**
 * Jobs on BullMQ (STORE=redis): two gateways A and B in this process on one Redis key prefix, as two
 * instances behind a load balancer. A job accepted by one is answered by the other; a sync request waiting
 * on A wakes when B finishes its job; a DELETE on B stops the job where it runs (at the provider too);
 * a provider's cap holds across both; a graceful stop hands a running job to the other instance; a sync
 * job runs on the instance that accepted it, under a lease that another instance reclaims when it expires.
 * Redis must answer at REDIS_URL (default redis://127.0.0.1:6379): startGateway fails naming it otherwise.
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createProceduralAdapter } from '../../src/adapters/procedural/index.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Adapter } from '../../src/spec/adapter.js';
import { createGatedAdapter, type GatedAdapter } from '../helpers/gated-adapter.js';
import { postGenerate, startGateway, type Running } from '../helpers/gateway.js';

/** What both instances' adapters share: the gate, call counts, and which provider jobs are running now. */
interface Cluster {
  shared: { calls: GatedAdapter['calls']; gate: { open: boolean } };
  running: Set<string>;
  /** Most provider jobs seen running at once, over both instances. */
  peak: number;
  /** Resolves once both instances together have stepped jobs `n` times. */
  stepped(n: number): Promise<void>;
  wake(): void;
}

function newCluster(): Cluster {
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const cluster: Cluster = {
    shared: { calls: { start: 0, advance: 0, cancel: 0 }, gate: { open: false } },
    running: new Set(),
    peak: 0,
    stepped: (n) => new Promise<void>((resolve) => (cluster.shared.calls.advance >= n ? resolve() : waiters.push({ n, resolve }))),
    wake() {
      for (const w of waiters.splice(0)) {
        if (cluster.shared.calls.advance >= w.n) w.resolve();
        else waiters.push(w);
      }
    },
  };
  return cluster;
}

/** One instance's gated adapter: counts the steps it ran, and the cluster's provider jobs between their first step and their last. */
function instanceAdapter(cluster: Cluster, maxInFlight?: number): GatedAdapter & { steps: number } {
  const gated = createGatedAdapter({ shared: cluster.shared, maxInFlight });
  const adapter: GatedAdapter & { steps: number } = {
    ...gated,
    steps: 0,
    async advance(plan, checkpoint, ctx) {
      adapter.steps++;
      const job = String((checkpoint as { providerJob?: string }).providerJob);
      cluster.running.add(job);
      cluster.peak = Math.max(cluster.peak, cluster.running.size);
      const step = await gated.advance(plan, checkpoint, ctx);
      if (step.kind !== 'pending') cluster.running.delete(job);
      cluster.wake();
      return step;
    },
  };
  return adapter;
}

let prefix = '';
let running: Running[] = [];
afterEach(async () => {
  await Promise.all(running.map((g) => g.close()));
  running = [];
});

/** An instance on the test's prefix (a file-like DB_PATH keeps the prefix until the file's end: closing A must not delete B's keys). */
async function instance(adapter: Adapter, over: Partial<Config> = {}): Promise<Running> {
  const g = await startGateway(
    { store: 'redis', redisPrefix: prefix, dbPath: `cluster-${prefix}`, jobLockMs: 2_000, syncWaitMs: 15_000, ...over },
    { adapters: [createProceduralAdapter(), adapter] },
  );
  running.push(g);
  return g;
}

function newPrefix(): void {
  prefix = `mgtest:bull-${randomBytes(6).toString('hex')}:`;
}

const body = (g: Running) => ({
  protocol_version: '1.2',
  model: 'gated',
  skeleton: g.gw.registry.model('gated')!.canonical_skeleton,
  segments: [{ type: 'text', prompt: 'walk', duration_frames: 30 }],
});

async function submitAsync(g: Running): Promise<string> {
  const res = await postGenerate(g.url, body(g), { prefer: 'respond-async' });
  expect(res.status).toBe(202);
  return ((await res.json()) as { job_id: string }).job_id;
}

/** Polls a job on an instance until it is final; returns the final answer's status. */
async function pollUntilFinal(g: Running, id: string): Promise<number> {
  for (;;) {
    const res = await fetch(`${g.url}/generate/jobs/${id}`, { headers: { accept: 'model/gltf-binary' } });
    await res.arrayBuffer();
    if (res.status !== 202) return res.status;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('jobs on BullMQ across two instances', () => {
  it('runs a job accepted by A on either instance, and B answers its polls', async () => {
    newPrefix();
    const cluster = newCluster();
    cluster.shared.gate.open = true;
    const a = await instance(instanceAdapter(cluster));
    const b = await instance(instanceAdapter(cluster));
    const id = await submitAsync(a);
    expect(await pollUntilFinal(b, id)).toBe(200);
    const status = await (await fetch(`${b.url}/generate/jobs/${id}/status`)).json();
    expect(status).toMatchObject({ job_id: id, state: 'succeeded', progress: 1 });
    expect(cluster.shared.calls.start).toBe(1);
  });

  it('wakes a sync request waiting on A when B finishes its job', async () => {
    newPrefix();
    const cluster = newCluster();
    const onA = instanceAdapter(cluster);
    const onB = instanceAdapter(cluster);
    const a = await instance(onA, { workerConcurrency: 0 }); // accepts and answers, runs nothing
    const b = await instance(onB);
    const started = Date.now();
    const sync = postGenerate(a.url, body(a), { accept: 'model/gltf-binary' });
    await cluster.stepped(2); // B is stepping it
    cluster.shared.gate.open = true;
    const res = await sync;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('model/gltf-binary');
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(1_000);
    // Woken by B's announcement, well before the 15 s sync wait would have run out.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(onA.steps).toBe(0);
    expect(onB.steps).toBeGreaterThanOrEqual(2);
    expect(b.gw.runner.stats().active).toBe(0);
  });

  it('cancels a job running on A with a DELETE on B, at the provider once', async () => {
    newPrefix();
    const cluster = newCluster();
    const onA = instanceAdapter(cluster);
    const a = await instance(onA);
    const b = await instance(instanceAdapter(cluster), { workerConcurrency: 0 });
    const id = await submitAsync(a);
    await cluster.stepped(1);
    expect(a.gw.runner.stats().active).toBe(1);
    const del = await fetch(`${b.url}/generate/jobs/${id}`, { method: 'DELETE' });
    expect(del.status).toBe(204);
    await expect.poll(() => a.gw.runner.stats().active, { timeout: 5_000 }).toBe(0);
    expect(cluster.shared.calls.cancel).toBe(1);
    const poll = await fetch(`${a.url}/generate/jobs/${id}`);
    expect(poll.status).toBe(410);
    expect((await poll.json()).error.code).toBe('job_cancelled');
  });

  it('holds a provider cap of 2 across both instances (each would run 2 on its own)', async () => {
    newPrefix();
    const cluster = newCluster();
    const onA = instanceAdapter(cluster, 2);
    const onB = instanceAdapter(cluster, 2);
    const a = await instance(onA);
    const b = await instance(onB);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await submitAsync(i % 2 ? b : a));
    // Two jobs running and polling their provider for a while: room for a third to start if the cap leaked.
    await expect.poll(() => cluster.running.size, { timeout: 10_000 }).toBe(2);
    await cluster.stepped(cluster.shared.calls.advance + 30);
    expect(cluster.running.size).toBe(2);
    const waiting = await (await fetch(`${b.url}/generate/jobs/${ids[5]}/status`)).json();
    expect(waiting.state).toBe('queued');
    expect(waiting.queue_position).toBeGreaterThanOrEqual(0);
    cluster.shared.gate.open = true;
    for (const [i, id] of ids.entries()) expect(await pollUntilFinal(i % 2 ? a : b, id)).toBe(200);
    expect(cluster.peak).toBe(2);
    expect(cluster.shared.calls.start).toBe(6);
  });

  it('queues at start-up an unfinished job BullMQ does not hold (a crash between insert and add), once', async () => {
    newPrefix();
    const cluster = newCluster();
    cluster.shared.gate.open = true;
    const a = await instance(instanceAdapter(cluster), { workerConcurrency: 0 });
    const lost = await submitAsync(a);
    const kept = await submitAsync(a);
    const connection = new Redis(a.gw.config.redisUrl, { maxRetriesPerRequest: null });
    const queue = new Queue('gated', { connection, prefix: `${prefix}bull` });
    try {
      expect(await queue.remove(lost)).toBe(1);
      expect(await queue.getJob(lost)).toBeUndefined();
      expect(await queue.getJob(kept)).toBeDefined();
      const onB = instanceAdapter(cluster);
      const b = await instance(onB);
      expect(await pollUntilFinal(b, lost)).toBe(200);
      expect(await pollUntilFinal(b, kept)).toBe(200);
      // Each ran once: one step each with the gate open, none repeated for the job BullMQ still held.
      expect(onB.steps).toBe(2);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });

  it('hands a running job to B when A stops gracefully: B finishes it from its checkpoint, start() called once', async () => {
    newPrefix();
    const cluster = newCluster();
    const onA = instanceAdapter(cluster);
    const onB = instanceAdapter(cluster);
    // A lock far longer than the test: only the hand-over of a graceful stop lets B have the job in time.
    const a = await instance(onA, { jobLockMs: 60_000 });
    const id = await submitAsync(a);
    await cluster.stepped(2);
    const b = await instance(onB, { jobLockMs: 60_000 });
    await a.close();
    running = running.filter((g) => g !== a);
    expect(onA.steps).toBeGreaterThanOrEqual(2);
    const stepsOnA = onA.steps;
    cluster.shared.gate.open = true;
    const handedOver = Date.now();
    expect(await pollUntilFinal(b, id)).toBe(200);
    expect(Date.now() - handedOver).toBeLessThan(5_000);
    expect(onB.steps).toBeGreaterThanOrEqual(1);
    expect(onA.steps).toBe(stepsOnA);
    expect(cluster.shared.calls.start).toBe(1);
    // B resumed from A's checkpoint: the provider job A polled, with A's polls counted.
    const row = (await b.gw.store.getJob(id))!;
    expect(JSON.parse(row.checkpoint!)).toMatchObject({ providerJob: 'p-1' });
    expect(JSON.parse(row.checkpoint!).polls).toBeGreaterThanOrEqual(2);
  });
});

describe('sync jobs run where they were accepted (under a lease)', () => {
  const leaseKey = () => `${prefix}direct-leases`;

  it('runs every sync request accepted by A on A, though B has free workers too', async () => {
    newPrefix();
    const cluster = newCluster();
    cluster.shared.gate.open = true;
    const onA = instanceAdapter(cluster);
    const onB = instanceAdapter(cluster);
    const a = await instance(onA);
    await instance(onB);
    for (let i = 0; i < 8; i++) {
      const res = await postGenerate(a.url, { ...body(a), options: { seed: i } }, { accept: 'model/gltf-binary' });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    expect(onA.steps).toBe(8);
    expect(onB.steps).toBe(0);
    const redis = new Redis(a.gw.config.redisUrl);
    try {
      expect(await redis.zcard(leaseKey())).toBe(0); // every lease released
    } finally {
      redis.disconnect();
    }
  });

  it('hands a sync job running on A to B when A stops gracefully; the caller gets its 202', async () => {
    newPrefix();
    const cluster = newCluster();
    const onA = instanceAdapter(cluster);
    const onB = instanceAdapter(cluster);
    const a = await instance(onA, { jobLockMs: 60_000 });
    const b = await instance(onB, { jobLockMs: 60_000 });
    const sync = postGenerate(a.url, body(a), { accept: 'model/gltf-binary' });
    await cluster.stepped(2);
    expect(onB.steps).toBe(0);
    await a.close();
    running = running.filter((g) => g !== a);
    const res = await sync;
    expect(res.status).toBe(202);
    const id = ((await res.json()) as { job_id: string }).job_id;
    cluster.shared.gate.open = true;
    const handedOver = Date.now();
    expect(await pollUntilFinal(b, id)).toBe(200);
    expect(Date.now() - handedOver).toBeLessThan(5_000); // not a 60 s lease expiry
    expect(onB.steps).toBeGreaterThanOrEqual(1);
    expect(cluster.shared.calls.start).toBe(1);
  });

  it('leaves a job under a live lease to its instance, and queues it once the lease expires (its instance died)', async () => {
    newPrefix();
    const cluster = newCluster();
    cluster.shared.gate.open = true;
    const a = await instance(instanceAdapter(cluster), { workerConcurrency: 0 });
    const id = await submitAsync(a);
    const connection = new Redis(a.gw.config.redisUrl, { maxRetriesPerRequest: null });
    const queue = new Queue('gated', { connection, prefix: `${prefix}bull` });
    try {
      // As an instance running the job under a lease leaves it: not in BullMQ, leased.
      expect(await queue.remove(id)).toBe(1);
      await connection.zadd(leaseKey(), Date.now() + 60_000, `gated ${id}`);
      const onB = instanceAdapter(cluster);
      const b = await instance(onB);
      expect(await queue.getJob(id)).toBeUndefined(); // B's start-up left the leased job alone
      expect(onB.steps).toBe(0);
      // The lease runs out unrenewed: B's periodic check (every JOB_LOCK_MS) queues the job, and it runs.
      await connection.zadd(leaseKey(), Date.now() - 1, `gated ${id}`);
      expect(await pollUntilFinal(b, id)).toBe(200);
      expect(onB.steps).toBe(1);
      expect(await connection.zscore(leaseKey(), `gated ${id}`)).toBeNull();
      expect(cluster.shared.calls.start).toBe(1);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });
});

describe('the configuration of jobs on Redis', () => {
  it('reads JOB_LOCK_MS and WORKER_CONCURRENCY, and refuses WORKER_CONCURRENCY=0 without STORE=redis', () => {
    expect(loadConfig({})).toMatchObject({ jobLockMs: 30_000, workerConcurrency: undefined });
    expect(loadConfig({ STORE: 'redis', JOB_LOCK_MS: '2000', WORKER_CONCURRENCY: '0' })).toMatchObject({ jobLockMs: 2_000, workerConcurrency: 0 });
    expect(loadConfig({ WORKER_CONCURRENCY: '4' }).workerConcurrency).toBe(4);
    expect(() => loadConfig({ WORKER_CONCURRENCY: '0' })).toThrow(/WORKER_CONCURRENCY=0.*STORE=redis/);
    expect(() => loadConfig({ JOB_LOCK_MS: '500' })).toThrow(/JOB_LOCK_MS/);
  });
});
