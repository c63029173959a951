/**
 * Two real gateway processes on one Redis key prefix (STORE=redis), serving SayMotion against the
 * simulator running in this test process: jobs spread over both, polled on B; A is killed with kill -9
 * while it runs some of them, and B resumes those from their checkpoints once their locks expire
 * (JOB_LOCK_MS). The simulator counts provider jobs: exactly one per request. The same Idempotency-Key
 * sent to both at once makes one job; a DELETE on one instance stops the job the other runs, at the provider too; a key's rate limit is one budget for both; a worker-only process runs the jobs of a gateway that runs none. Redis must answer at REDIS_URL (default redis://127.0.0.1:6379).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSayMotionSimulator, type SayMotionSimulator } from '../fakes/saymotion/server.js';
import { dropRedisPrefix } from '../helpers/redis-prefix.js';

const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const prefix = `mgtest:cluster-${randomBytes(6).toString('hex')}:`;
const children: ChildProcessWithoutNullStreams[] = [];
let sim: SayMotionSimulator;
let skeleton: unknown;

interface Instance {
  child: ChildProcessWithoutNullStreams;
  url: string;
}

/** A gateway process (src/main.ts), or with `worker` a worker-only one (src/worker-main.ts: no url, it logs when running). */
function startInstance(name: string, extra: Record<string, string> = {}, worker = false): Promise<Instance> {
  const env = {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    STORE: 'redis',
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    JOB_LOCK_MS: '2000',
    WORKER_THREADS: '1',
    SAYMOTION_BASE_URL: sim.url,
    SAYMOTION_CLIENT_ID: sim.clientId,
    SAYMOTION_CLIENT_SECRET: sim.clientSecret,
    SAYMOTION_CHARACTER_ID: sim.characterId,
    SAYMOTION_POLL_INTERVAL_MS: '50',
    PROVIDER_ASSET_ORIGINS: sim.storageUrl,
    ...extra,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', worker ? 'src/worker-main.ts' : 'src/main.ts'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      output += d;
      const m = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (m) resolve({ child, url: m[1] });
      if (worker && output.includes('motion gateway worker running')) resolve({ child, url: '' });
    });
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) => reject(new Error(`gateway ${name} exited ${code}: ${output.slice(-2_000)}`)));
  });
}

beforeAll(async () => {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`this test needs Redis at REDIS_URL=${redisUrl}: ${(err as Error).message}`);
  } finally {
    redis.disconnect();
  }
  // Real time on both sides: each provider job queues briefly, then runs long enough to be caught by the kill.
  sim = await startSayMotionSimulator({ job: { queueMs: 200, queuePosition: 1, runMs: 2_500 } });
}, 30_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await sim?.close();
  await dropRedisPrefix(redisUrl, prefix);
});

const body = (prompt: string) => ({ protocol_version: '1.2', model: 'saymotion', skeleton, segments: [{ type: 'text', prompt, duration_frames: 60 }] });

function submit(g: Instance, prompt: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${g.url}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', prefer: 'respond-async', ...headers },
    body: JSON.stringify(body(prompt)),
  });
}

async function activeOn(g: Instance): Promise<number> {
  const ready = (await (await fetch(`${g.url}/readyz`)).json()) as { jobs?: { active: number } };
  return ready.jobs?.active ?? 0;
}

describe('two gateway processes on one Redis', () => {
  let a: Instance;
  let b: Instance;

  it('finishes every job after kill -9 of the instance running some of them, one provider job per request', async () => {
    [a, b] = await Promise.all([startInstance('A'), startInstance('B')]);
    const caps = (await (await fetch(`${b.url}/capabilities`)).json()) as { models: Array<{ id: string; canonical_skeleton: unknown }> };
    skeleton = caps.models.find((m) => m.id === 'saymotion')!.canonical_skeleton;
    const before = sim.jobs.size;

    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await submit(i % 2 ? b : a, `walk forward ${i}`);
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as { job_id: string }).job_id);
    }
    // A is running some of them (at the provider) when it dies.
    while ((await activeOn(a)) === 0) await new Promise((r) => setTimeout(r, 20));
    const killed = new Promise((r) => a.child.once('exit', r));
    a.child.kill('SIGKILL');
    await killed;

    const states = await Promise.all(
      ids.map(async (id) => {
        for (;;) {
          const res = await fetch(`${b.url}/generate/jobs/${id}`, { headers: { accept: 'model/gltf-binary' } });
          await res.arrayBuffer();
          if (res.status !== 202) return res.status;
          await new Promise((r) => setTimeout(r, 200));
        }
      }),
    );
    expect(states).toEqual(ids.map(() => 200));
    expect(sim.jobs.size - before).toBe(40);
  }, 60_000);

  it('makes one job of the same Idempotency-Key sent to both instances at once', async () => {
    a = await startInstance('A2');
    const before = sim.jobs.size;
    const key = { 'idempotency-key': `dup-${randomBytes(4).toString('hex')}` };
    const answers = await Promise.all([a, b, a, b, a, b].map((g) => submit(g, 'jump twice', key)));
    expect(answers.map((r) => r.status)).toEqual([202, 202, 202, 202, 202, 202]);
    const jobIds = new Set(answers.map((r) => r.headers.get('x-job-id')));
    expect(jobIds.size).toBe(1);
    const [id] = [...jobIds];
    for (;;) {
      const res = await fetch(`${a.url}/generate/jobs/${id}`);
      await res.arrayBuffer();
      if (res.status !== 202) {
        expect(res.status).toBe(200);
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(sim.jobs.size - before).toBe(1);
  }, 30_000);

  it('cancels with a DELETE on one instance the job the other is running, at the provider too', async () => {
    const cancels = sim.count('cancel');
    const res = await submit(a, 'walk in a circle');
    expect(res.status).toBe(202);
    const id = ((await res.json()) as { job_id: string }).job_id;
    // Whichever instance's worker took it runs it at the provider; the DELETE goes to the other one.
    let runner: Instance | undefined;
    while (!runner) {
      const [onA, onB] = await Promise.all([activeOn(a), activeOn(b)]);
      runner = onA ? a : onB ? b : undefined;
      if (!runner) await new Promise((r) => setTimeout(r, 20));
    }
    const other = runner === a ? b : a;
    while (![...sim.jobs.values()].some((j) => j.prompt.includes('walk in a circle'))) await new Promise((r) => setTimeout(r, 20));
    const del = await fetch(`${other.url}/generate/jobs/${id}`, { method: 'DELETE' });
    expect(del.status).toBe(204);
    const poll = await fetch(`${runner.url}/generate/jobs/${id}`);
    expect(poll.status).toBe(410);
    while ((await activeOn(runner)) !== 0) await new Promise((r) => setTimeout(r, 20));
    while (sim.count('cancel') === cancels) await new Promise((r) => setTimeout(r, 20));
    expect(sim.count('cancel') - cancels).toBe(1);
  }, 30_000);

  it('runs the jobs of a gateway that runs none on a worker-only process (npm run worker), which stops cleanly on SIGTERM', async () => {
    const own = { REDIS_PREFIX: `${prefix}worker:` };
    const front = await startInstance('F', { ...own, WORKER_CONCURRENCY: '0' });
    const worker = await startInstance('W', own, true);
    const res = await submit(front, 'wave hello');
    expect(res.status).toBe(202);
    const id = ((await res.json()) as { job_id: string }).job_id;
    for (;;) {
      const poll = await fetch(`${front.url}/generate/jobs/${id}`, { headers: { accept: 'model/gltf-binary' } });
      await poll.arrayBuffer();
      if (poll.status !== 202) {
        expect(poll.status).toBe(200);
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await activeOn(front)).toBe(0);
    const exited = new Promise<number | null>((r) => worker.child.once('exit', (code) => r(code)));
    worker.child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 30_000);

  it('holds a key\'s request budget across both instances (RATE_LIMIT_RPM, counted in Redis)', async () => {
    const limited = { RATE_LIMIT_RPM: '10', GATEWAY_API_KEYS: 'cluster-key-one-0001,cluster-key-two-0002', REDIS_PREFIX: `${prefix}rl:` };
    const pair = await Promise.all([startInstance('A3', limited), startInstance('B3', limited)]);
    const get = (g: Instance, key: string) => fetch(`${g.url}/capabilities`, { headers: { authorization: `Bearer ${key}` } });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await get(pair[i % 2], 'cluster-key-one-0001');
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    expect(statuses).toEqual(Array(10).fill(200));
    for (const g of pair) {
      const refused = await get(g, 'cluster-key-one-0001');
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await refused.json()).error.code).toBe('rate_limited');
    }
    const otherKey = await get(pair[1], 'cluster-key-two-0002');
    expect(otherKey.status).toBe(200); // a budget per key
    await otherKey.arrayBuffer();
  }, 30_000);
});
