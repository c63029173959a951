/**
 * A gateway on Redis whose Redis goes away and comes back: /readyz reports the store and its connection
 * state, requests meanwhile answer 503 with Retry-After (not 500), and everything recovers without a
 * restart once Redis answers again. Runs a Redis of its own (redis-server on a free loopback port, in a
 * temporary directory), never the machine's shared one.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createGatedAdapter } from '../helpers/gated-adapter.js';
import { canonicalSkeleton, postGenerate, startGateway } from '../helpers/gateway.js';

/** The machine's Redis binaries (installed beside the shared Redis; see .ci/run). */
const SERVER = process.env.REDIS_SERVER_BIN ?? 'redis-server';
const CLI = process.env.REDIS_CLI_BIN ?? 'redis-cli';

const dir = mkdtempSync(join(tmpdir(), 'gw-redis-outage-'));
let port = 0;
afterAll(() => {
  if (port) stopRedis();
  rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
}

/** A Redis on `port` in `dir`: keeping nothing, or (`aof`) everything in an append-only file synced on every write. */
async function startRedis(aof = false): Promise<void> {
  const persistence = aof ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  spawn(SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir, '--daemonize', 'yes'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      if (execFileSync(CLI, ['-p', String(port), 'ping']).toString().includes('PONG')) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not start on port ${port}`);
}

/** Kills the Redis on `port` at once (SIGKILL): what it had not written to its file is lost. */
function killRedis(): void {
  const info = execFileSync(CLI, ['-p', String(port), 'info', 'server']).toString();
  process.kill(Number(/process_id:(\d+)/.exec(info)![1]), 'SIGKILL');
}

function stopRedis(): void {
  try {
    execFileSync(CLI, ['-p', String(port), 'shutdown', 'nosave'], { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

describe('a gateway on Redis when Redis goes away', () => {
  it('reports it on /readyz, answers 503 with Retry-After meanwhile, and recovers without a restart', async () => {
    port = await freePort();
    await startRedis();
    const g = await startGateway({ store: 'redis', redisUrl: `redis://127.0.0.1:${port}`, redisPrefix: 'outage:' });
    try {
      const ready = await fetch(`${g.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ready', store: 'ok', store_kind: 'redis' });
      const skeleton = await canonicalSkeleton(g.url);
      const body = { protocol_version: '1.2', model: 'procedural', skeleton, segments: [{ type: 'text', prompt: 'wave', duration_frames: 20 }] };
      const before = await postGenerate(g.url, body, { prefer: 'respond-async' });
      expect(before.status).toBe(202);
      const location = before.headers.get('location')!;

      stopRedis();
      await expect.poll(async () => (await fetch(`${g.url}/readyz`)).status, { timeout: 5_000 }).toBe(503);
      const down = await fetch(`${g.url}/readyz`);
      expect(down.headers.get('retry-after')).toBeTruthy();
      expect((await down.json()).error.details).toMatchObject({ store_kind: 'redis' });
      const poll = await fetch(g.url + location);
      expect(poll.status).toBe(503);
      expect(Number(poll.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

      await startRedis(); // empty: this Redis keeps nothing on disk, so the job itself is gone
      await expect.poll(async () => (await fetch(`${g.url}/readyz`)).status, { timeout: 10_000 }).toBe(200);
      const after = await postGenerate(g.url, body);
      expect(after.status).toBe(200);
      expect((await fetch(g.url + after.headers.get('content-location')!)).status).toBe(200);
    } finally {
      await g.close();
      stopRedis();
    }
  }, 30_000);

  it('keeps accepted jobs through a Redis killed and restarted on its append-only file: each finishes, none paid twice', async () => {
    port = await freePort();
    rmSync(join(dir, 'appendonlydir'), { recursive: true, force: true });
    await startRedis(true);
    const gated = createGatedAdapter();
    const g = await startGateway({ store: 'redis', redisUrl: `redis://127.0.0.1:${port}`, redisPrefix: 'aof:' }, { adapters: [gated] });
    try {
      const skeleton = await canonicalSkeleton(g.url, 'gated');
      const body = (i: number) => ({ protocol_version: '1.3', model: 'gated', skeleton, segments: [{ type: 'text', prompt: `wave ${i}`, duration_frames: 20 }] });
      const locations: string[] = [];
      for (let i = 0; i < 6; i++) {
        const res = await postGenerate(g.url, body(i), { prefer: 'respond-async' });
        expect(res.status).toBe(202);
        locations.push(res.headers.get('location')!);
      }
      await gated.advanced(1); // at least one job is running at its provider

      killRedis();
      await expect.poll(async () => (await fetch(`${g.url}/readyz`)).status, { timeout: 5_000 }).toBe(503);
      expect((await fetch(g.url + locations[0])).status).toBe(503);

      await startRedis(true); // the same directory: the jobs come back from the append-only file
      await expect.poll(async () => (await fetch(`${g.url}/readyz`)).status, { timeout: 10_000 }).toBe(200);
      gated.open();
      for (const location of locations) {
        await expect.poll(async () => (await fetch(g.url + location)).status, { timeout: 15_000, interval: 100 }).toBe(200);
      }
      expect(gated.calls.start).toBe(6);
    } finally {
      await g.close();
      stopRedis();
    }
  }, 45_000);
});
