/**
 * The stores side by side. Sync latency: one request at a time, a 5 s procedural clip, POST /generate
 * answered 200 with the GLB, on a SQLite file (the in-process queue), on Redis with one gateway (the job
 * under a lease, its rows and result through Redis), and on Redis with two gateways (requests to A, which
 * runs its own sync jobs). /capabilities throughput on each. Then 10,000 async jobs accepted by two
 * gateways that run none (WORKER_CONCURRENCY=0), so all stay queued in Redis: the accept rate, Redis's
 * memory and each instance's. SayMotion's status polling with one poller per instance: status calls per
 * poll interval for the same 20 jobs on one gateway and on two. Redis at REDIS_URL.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { proceduralBody, proceduralSkeleton, warmUp } from './requests.js';
import { startSayMotionSimulator } from '../test/fakes/saymotion/server.js';
import { dropRedisPrefix } from '../test/helpers/redis-prefix.js';
import { load, mib, msOf, startGateway, type ChildServer, type Row } from './util.js';

const REQUESTS = 50;
const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';


/** Sequential sync requests to `url`: latencies in ms, sorted. */
async function sequential(url: string, body: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t = performance.now();
    const res = await fetch(`${url}/generate`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'model/gltf-binary' }, body });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`a sync request answered ${res.status}`);
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

export async function clusterSuite(): Promise<Row[]> {
  const suite = 'sync latency by store (5 s procedural clip, 1 sample)';
  const rows: Row[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'bench-cluster-'));
  const prefix = `mgbench:${randomBytes(4).toString('hex')}:`;
  const setups: Array<{ name: string; env: Array<Record<string, string>> }> = [
    { name: 'STORE=sqlite (database file), one gateway', env: [{ STORE: 'sqlite', DB_PATH: join(dir, 'gateway.db') }] },
    { name: 'STORE=redis, one gateway', env: [{ STORE: 'redis', REDIS_URL: redisUrl, REDIS_PREFIX: `${prefix}one:` }] },
    {
      name: 'STORE=redis, two gateways (requests to A, which runs its sync jobs)',
      env: [0, 1].map(() => ({ STORE: 'redis', REDIS_URL: redisUrl, REDIS_PREFIX: `${prefix}two:` })),
    },
  ];
  let sqliteP50 = NaN;
  try {
    for (const setup of setups) {
      const gateways: ChildServer[] = [];
      try {
        for (const env of setup.env) gateways.push(await startGateway(env));
        for (const g of gateways) await warmUp(g.url);
        const body = proceduralBody({ skeleton: await proceduralSkeleton(gateways[0].url), seconds: 5, samples: 1 });
        const lat = await sequential(gateways[0].url, body);
        const p50 = pct(lat, 0.5);
        if (setup.env[0].STORE === 'sqlite') sqliteP50 = p50;
        rows.push({
          suite,
          metric: setup.name,
          value: `p50 ${msOf(p50)} / p90 ${msOf(pct(lat, 0.9))}`,
          note: `${REQUESTS} sequential requests, min ${msOf(lat[0])}, max ${msOf(lat.at(-1)!)}` + (setup.env[0].STORE === 'redis' ? `; p50 − SQLite's ${msOf(p50 - sqliteP50)}` : ''),
        });
        const caps = await load({ url: `${gateways[0].url}/capabilities`, duration: 3 });
        rows.push({ suite: 'GET /capabilities by store', metric: setup.name, value: `${caps.rps.toFixed(0)} req/s`, note: `p99 ${caps.p99} ms, non-2xx ${caps.non2xx}; 10 connections, 3 s` });
      } finally {
        await Promise.all(gateways.map((g) => g.stop()));
      }
    }
    rows.push(...(await queuedInRedis(`${prefix}queued:`)));
    rows.push(...(await sayMotionPolling(`${prefix}poll:`)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await dropRedisPrefix(redisUrl, prefix);
  }
  return rows;
}

const QUEUED = 10_000;

/** Redis's used_memory (bytes), from INFO memory. */
async function redisMemory(): Promise<number> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
  } finally {
    redis.disconnect();
  }
}

/** 10,000 async jobs accepted half by A, half by B, none run: the accept rate and what holding them costs. */
async function queuedInRedis(prefix: string): Promise<Row[]> {
  const env = { STORE: 'redis', REDIS_URL: redisUrl, REDIS_PREFIX: prefix, WORKER_CONCURRENCY: '0', MAX_QUEUED_JOBS: String(QUEUED * 2), LOG_LEVEL: 'error' };
  const gateways = [await startGateway(env), await startGateway(env)];
  try {
    const body = proceduralBody({ skeleton: await proceduralSkeleton(gateways[0].url), seconds: 5, samples: 1 });
    const memBefore = await redisMemory();
    const rssBefore = gateways.map((g) => g.rssMiB());
    const t0 = performance.now();
    const runs = await Promise.all(
      gateways.map((g) =>
        load({ url: `${g.url}/generate`, method: 'POST', amount: QUEUED / 2, connections: 8, body, headers: { 'content-type': 'application/json', prefer: 'respond-async' } }),
      ),
    );
    const wallS = (performance.now() - t0) / 1000;
    const accepted = runs.reduce((n, r) => n + (r.statuses['202'] ?? 0), 0);
    if (accepted !== QUEUED) throw new Error(`cluster bench: ${accepted} of ${QUEUED} async requests answered 202 (${runs.map((r) => JSON.stringify(r.statuses)).join(' ')})`);
    const memAfter = await redisMemory();
    const suite = `${QUEUED.toLocaleString('en')} queued async jobs in Redis (two gateways accepting, none running)`;
    return [
      { suite, metric: 'accept rate', value: `${(QUEUED / wallS).toFixed(0)} jobs/s`, note: `202 × ${accepted} in ${wallS.toFixed(1)} s; 8 connections to each gateway; 202 p99 ${Math.max(...runs.map((r) => r.p99))} ms` },
      { suite, metric: 'Redis memory', value: `+${mib(memAfter - memBefore)}`, note: `${((memAfter - memBefore) / QUEUED / 1024).toFixed(1)} KiB per job (row with its request, BullMQ entry)` },
      { suite, metric: 'gateway RSS, A and B', value: gateways.map((g) => `${g.rssMiB().toFixed(0)} MiB`).join(' and '), note: `before: ${rssBefore.map((r) => r.toFixed(0)).join(' and ')} MiB; peaks ${gateways.map((g) => g.peakRssMiB().toFixed(0)).join(' and ')} MiB` },
    ];
  } finally {
    await Promise.all(gateways.map((g) => g.stop()));
  }
}


const POLL_MS = 200;
const POLLED_JOBS = 20;

/**
 * SayMotion status calls with one batched poller per instance: the same 20 async jobs on one gateway,
 * then on two (half accepted by each; each instance polls the jobs its workers run). Calls per poll
 * interval over the time the jobs were in flight.
 */
async function sayMotionPolling(prefix: string): Promise<Row[]> {
  const sim = await startSayMotionSimulator({ job: { queueMs: 300, queuePosition: 2, runMs: 1_500 } });
  const rows: Row[] = [];
  try {
    for (const count of [1, 2]) {
      const env = {
        STORE: 'redis', REDIS_URL: redisUrl, REDIS_PREFIX: `${prefix}${count}:`, LOG_LEVEL: 'error',
        SAYMOTION_BASE_URL: sim.url, SAYMOTION_CLIENT_ID: sim.clientId, SAYMOTION_CLIENT_SECRET: sim.clientSecret,
        SAYMOTION_CHARACTER_ID: sim.characterId, SAYMOTION_POLL_INTERVAL_MS: String(POLL_MS), PROVIDER_ASSET_ORIGINS: sim.storageUrl,
      };
      const gateways: ChildServer[] = [];
      try {
        for (let i = 0; i < count; i++) gateways.push(await startGateway(env));
        const caps = (await (await fetch(`${gateways[0].url}/capabilities`)).json()) as { models: Array<{ id: string; fps: number; canonical_skeleton: unknown }> };
        const model = caps.models.find((m) => m.id === 'saymotion')!;
        sim.resetCounts();
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: POLLED_JOBS }, async (_, i) => {
            const g = gateways[i % count];
            const body = JSON.stringify({ protocol_version: '1.3', model: 'saymotion', skeleton: model.canonical_skeleton, segments: [{ type: 'text', prompt: `walk, take ${i}`, duration_frames: 3 * model.fps }] });
            let res = await fetch(`${g.url}/generate`, { method: 'POST', headers: { 'content-type': 'application/json', prefer: 'respond-async' }, body });
            const location = res.headers.get('location');
            await res.arrayBuffer();
            for (;;) {
              res = await fetch(`${g.url}${location}`, { headers: { accept: 'model/gltf-binary' } });
              await res.arrayBuffer();
              if (res.status !== 202) break;
              await new Promise((r) => setTimeout(r, 100));
            }
            if (res.status !== 200) throw new Error(`cluster bench: a SayMotion job answered ${res.status}`);
          }),
        );
        const wallMs = performance.now() - t0;
        const status = sim.count('status');
        rows.push({
          suite: 'SayMotion status polling, one poller per instance',
          metric: `${POLLED_JOBS} jobs on ${count} gateway${count > 1 ? 's' : ''}`,
          value: `${((status * POLL_MS) / wallMs).toFixed(2)} status calls per ${POLL_MS} ms tick`,
          note: `${status} status calls for ${POLLED_JOBS} jobs (${(status / POLLED_JOBS).toFixed(2)} per job) in ${(wallMs / 1000).toFixed(1)} s; simulated jobs of 1.8 s`,
        });
      } finally {
        await Promise.all(gateways.map((g) => g.stop()));
      }
    }
  } finally {
    await sim.close();
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { markdownTable } = await import('./util.js');
  console.log(markdownTable(await clusterSuite()));
}
