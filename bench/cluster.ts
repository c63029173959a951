/**
 * Sync latency by store: one request at a time, a 5 s procedural clip, POST /generate answered 200 with
 * the GLB, on a SQLite file (the in-process queue), on Redis with one gateway (BullMQ: enqueue, a worker's
 * pick-up, the result through Redis), and on Redis with two gateways (requests to A; either instance's
 * worker runs the job, A is woken over pub/sub when B finished it). Redis at REDIS_URL.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { proceduralBody, proceduralSkeleton, warmUp } from './requests.js';
import { msOf, startGateway, type ChildServer, type Row } from './util.js';

const REQUESTS = 50;
const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

async function dropPrefix(prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
}

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
      name: 'STORE=redis, two gateways (requests to A, either runs them)',
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
      } finally {
        await Promise.all(gateways.map((g) => g.stop()));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await dropPrefix(prefix);
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { markdownTable } = await import('./util.js');
  console.log(markdownTable(await clusterSuite()));
}
