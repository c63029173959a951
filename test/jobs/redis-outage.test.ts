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

async function startRedis(): Promise<void> {
  spawn(SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'yes'], { stdio: 'ignore' });
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
    }
  }, 30_000);
});
