/**
 * The graceful stop over real sockets: requests in flight when close() starts get complete answers (held
 * sync requests their 202, slow downloads every byte, half-sent uploads an answer), idle kept-alive
 * connections close at once, new connections are refused, a request on a kept-alive connection during the
 * drain gets 503 + Retry-After + Connection: close; after the grace what is left is refused or cut.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createProceduralAdapter } from '../../src/adapters/procedural/index.js';
import { createStore } from '../../src/jobs/store.js';
import { testConfig } from '../helpers/config.js';
import { validators } from '../../src/protocol/schemas.js';
import type { Config } from '../../src/config.js';
import type { GatewayOptions } from '../../src/server/app.js';
import { manualClock } from '../helpers/clock.js';
import { createGatedAdapter } from '../helpers/gated-adapter.js';
import { canonicalSkeleton, postGenerate, startGateway, type Running } from '../helpers/gateway.js';
import { IncompleteResponse, RawConnection, requestBytes, type RawHttpResponse } from '../helpers/raw-http.js';

const tmp = mkdtempSync(join(tmpdir(), 'gw-drain-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let skeleton: any;
/** The procedural rig plus hair chains: 200 joints, for answers of several megabytes. */
let bigSkeleton: any;

beforeAll(async () => {
  const g = await startGateway();
  skeleton = await canonicalSkeleton(g.url);
  await g.close();
  const joints = [...skeleton.joints];
  for (let i = 0; joints.length < 200; i++) {
    joints.push({ name: `Hair_${i}`, parent: i % 10 === 0 ? 'Head' : `Hair_${i - 1}`, rest_translation: [0, 0.02, 0], rest_rotation: [0, 0, 0, 1] });
  }
  bigSkeleton = { ...skeleton, joints };
});

const request = (model: string, over: Record<string, unknown> = {}) => ({
  protocol_version: '1.2',
  model,
  skeleton,
  segments: [{ type: 'text', prompt: 'walk', duration_frames: 30 }],
  ...over,
});

/** A request whose answer is large: 200 joints at 60 fps for `seconds`, `samples` samples. */
const large = (seconds: number, samples: number) => ({
  protocol_version: '1.2',
  model: 'procedural',
  skeleton: bigSkeleton,
  timing: { fps: 60 },
  options: { num_samples: samples, seed: 5 },
  segments: [{ type: 'text', prompt: 'walk forward', duration_frames: seconds * 60 }],
});

let running: Running[] = [];
let dbCount = 0;
async function start(over: Partial<Config> = {}, opts: GatewayOptions = {}): Promise<Running & { dbPath: string }> {
  const dbPath = join(tmp, `gw-${++dbCount}.db`);
  const g = await startGateway({ dbPath, syncWaitMs: 60_000, ...over }, opts);
  running.push(g);
  return { ...g, dbPath };
}
afterEach(async () => {
  await Promise.all(running.map((g) => g.close()));
  running = [];
});

/** Resolves once the server has seen `n` more requests (their headers parsed, their handlers called). */
function requestsSeen(g: Running, n: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const onRequest = () => {
      if (++seen < n) return;
      g.gw.server.off('request', onRequest);
      resolve();
    };
    g.gw.server.on('request', onRequest);
  });
}

/** A finished job with a large answer; returns its id. */
async function largeJob(g: Running, seconds: number, samples: number): Promise<string> {
  const res = await postGenerate(g.url, large(seconds, samples), { accept: 'model/gltf-binary' });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  return res.headers.get('x-job-id')!;
}

interface AgentAnswer {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** POST /generate through a keep-alive agent, read to the end (rejects if the connection is cut). */
function agentPost(g: Running, agent: Agent, body: unknown, headers: Record<string, string> = {}): Promise<AgentAnswer> {
  const u = new URL(g.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, method: 'POST', path: '/generate', agent, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** Asserts the drain's refusal: 503 MG-SRV-002 in the envelope, with Retry-After, X-Request-ID and Connection: close. */
function expectShuttingDown(res: RawHttpResponse): void {
  expect(res.status).toBe(503);
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  expect(res.headers.connection).toBe('close');
  expect(res.headers['x-request-id']).toMatch(/^[A-Za-z0-9._:@-]{1,128}$/);
  const envelope = res.json();
  expect(validators.errorEnvelope(envelope)).toBe(true);
  expect(envelope.detail.error_code).toBe('MG-SRV-002');
}

describe('close() while requests are in flight', () => {
  it('answers every sync request still waiting for its job with 202, Location and Connection: close, and the jobs stay durable', async () => {
    const gated = createGatedAdapter();
    const g = await start({ maxConcurrentJobs: 8 }, { adapters: [createProceduralAdapter(), gated] });
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    const held = Array.from({ length: 20 }, () => agentPost(g, agent, request('gated')));
    // Two CPU-heavy procedural requests too: whether they finish (200) or not (202), the answer is whole.
    const heavy = Array.from({ length: 2 }, (_, i) => agentPost(g, agent, large(10, 2 + i)));
    await gated.advanced(8);
    // Every request has its job before the drain starts (a request admitted later is refused with 503).
    await expect.poll(async () => Object.values(await g.gw.store.countsByState()).reduce((n, c) => n + c, 0)).toBe(22);

    await g.gw.close();
    const answers = await Promise.all(held);
    for (const a of answers) {
      expect(a.status).toBe(202);
      expect(a.headers.location).toMatch(/^\/generate\/jobs\/job_[A-Za-z0-9_-]{22}$/);
      expect(Number(a.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(a.headers.connection).toBe('close');
      expect(JSON.parse(a.body.toString()).job_id).toBe(a.headers.location!.split('/').pop());
    }
    for (const a of await Promise.all(heavy)) {
      expect([200, 202], a.body.toString().slice(0, 300)).toContain(a.status);
      if (a.status === 200) expect(a.body.byteLength).toBe(Number(a.headers['content-length']));
    }
    agent.destroy();
    // Durable: a restarted gateway finds every accepted job, unfinished, to resume.
    const store = createStore(testConfig({ dbPath: g.dbPath })); // the gateway's records, SQLite or Redis
    await store.open();
    for (const a of answers) expect((await store.getJob(a.headers.location!.split('/').pop()!))?.state).toMatch(/^(queued|running)$/);
    await store.close();
  }, 60_000);

  it('finishes a slow download, closes idle kept-alive connections at once, refuses new connections, and answers a request pipelined during the drain with 503', async () => {
    const g = await start();
    const jobId = await largeJob(g, 30, 1);
    const idle = await RawConnection.open(g.url);
    await idle.write(requestBytes('GET', '/healthz'));
    expect((await idle.response()).status).toBe(200);

    const download = await RawConnection.open(g.url);
    await download.write(requestBytes('GET', `/generate/jobs/${jobId}`, { accept: 'model/gltf+json' }));
    await download.nextData();
    download.socket.pause(); // the client reads slowly: the server is held by backpressure

    let closed = false;
    const closing = g.gw.close().then(() => (closed = true));
    await idle.ended; // idle: closed at once, long before the download is done
    await expect(RawConnection.open(g.url)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const pipelined = requestsSeen(g, 1);
    await download.write(requestBytes('GET', '/healthz', { 'x-request-id': 'during-drain-1' }));
    await pipelined;
    expect(closed).toBe(false);

    // Read the rest in small steps.
    const answer = download.response();
    let ended = false;
    void download.ended.then(() => (ended = true));
    while (!ended && download.partialBodyBytes < 4 * 1024 * 1024) {
      download.socket.resume();
      await Promise.race([download.nextData(), download.ended]);
      download.socket.pause();
      await new Promise((r) => setImmediate(r));
    }
    download.socket.resume();
    const body = await answer;
    expect(body.status).toBe(200);
    expect(body.body.byteLength).toBe(Number(body.headers['content-length']));
    expect(body.body.byteLength).toBeGreaterThan(7 * 1024 * 1024);
    expect(JSON.parse(body.body.toString('utf8')).asset.version).toBe('2.0');

    const refused = await download.response();
    expectShuttingDown(refused);
    expect(refused.headers['x-request-id']).toBe('during-drain-1');
    await download.ended;
    await closing;
  }, 60_000);

  it('answers half-sent uploads (Content-Length and chunked) once their bodies arrive during the drain, then closes their connections', async () => {
    const g = await start();
    const body = JSON.stringify(request('procedural'));
    const parts = [body.slice(0, 10), body.slice(10, 200), body.slice(200, body.length - 5), body.slice(body.length - 5)];
    const sized = await RawConnection.open(g.url);
    const chunked = await RawConnection.open(g.url);
    const seen = requestsSeen(g, 2);
    await sized.write(requestBytes('POST', '/generate', { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }));
    await sized.write(parts[0]);
    await chunked.write(requestBytes('POST', '/generate', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }));
    await chunked.write(`${Buffer.byteLength(parts[0]).toString(16)}\r\n${parts[0]}\r\n`);
    await seen;

    const closing = g.gw.close();
    for (const p of parts.slice(1)) {
      await sized.write(p);
      await chunked.write(`${Buffer.byteLength(p).toString(16)}\r\n${p}\r\n`);
    }
    await chunked.write('0\r\n\r\n');
    // The runner takes no new jobs while stopping: the answer is the shutdown refusal, complete and in the envelope.
    for (const c of [sized, chunked]) {
      expectShuttingDown(await c.response());
      await c.ended;
    }
    await closing;
  });
});

describe('close() after the grace', () => {
  it('refuses requests still unanswered with 503, cuts unfinished downloads, and closes every connection', async () => {
    const clock = manualClock();
    const g = await start({ shutdownGraceMs: 5_000 }, { clock });
    const jobId = await largeJob(g, 30, 4);

    const download = await RawConnection.open(g.url);
    await download.write(requestBytes('GET', `/generate/jobs/${jobId}`, { accept: 'model/gltf-binary' }));
    await download.nextData();
    download.socket.pause();
    const upload = await RawConnection.open(g.url);
    const seen = requestsSeen(g, 1);
    await upload.write(requestBytes('POST', '/generate', { 'content-type': 'application/json', 'content-length': '500', 'x-request-id': 'never-finished' }));
    await upload.write('{"protocol_version":');
    await seen;

    let closed = false;
    const closing = g.gw.close().then(() => (closed = true));
    await expect.poll(() => clock.pending).toBe(1); // the drain waits out its grace on the gateway's clock
    expect(closed).toBe(false);
    await clock.advance(5_000);

    const refused = await upload.response();
    expectShuttingDown(refused);
    expect(refused.headers['x-request-id']).toBe('never-finished');
    download.socket.resume();
    const cut = await download.response().catch((e: unknown) => e);
    expect(cut).toBeInstanceOf(IncompleteResponse);
    expect((cut as IncompleteResponse).bodyBytes).toBeLessThan((cut as IncompleteResponse).expectedBytes!);
    await closing;
    expect(closed).toBe(true);
  }, 60_000);
});

describe('the gateway process on SIGTERM', () => {
  it('keeps serving a download in flight, refuses new connections, and exits 0 once it is done', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DB_PATH: join(tmp, 'process.db'), LOG_LEVEL: 'info', SHUTDOWN_GRACE_MS: '20000', WORKER_THREADS: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let log = '';
    const logged = (pattern: RegExp) =>
      new Promise<RegExpExecArray>((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(log);
          if (m) {
            child.stdout.off('data', check);
            resolve(m);
          }
        };
        child.stdout.on('data', (d) => {
          log += d;
          check();
        });
        child.once('exit', (c) => reject(new Error(`exited ${c} before logging ${pattern}`)));
        check();
      });
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    try {
      const url = (await logged(/"url":"(http:\/\/[^"]+)"/))[1];
      const g = { url } as Running;
      const jobId = await largeJob(g, 30, 1);
      const download = await RawConnection.open(url);
      await download.write(requestBytes('GET', `/generate/jobs/${jobId}`, { accept: 'model/gltf+json' }));
      await download.nextData();
      download.socket.pause();

      child.kill('SIGTERM');
      await logged(/draining HTTP connections/);
      await expect(RawConnection.open(url)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      download.socket.resume();
      const answer = await download.response();
      expect(answer.status).toBe(200);
      expect(answer.body.byteLength).toBe(Number(answer.headers['content-length']));
      expect(answer.body.byteLength).toBeGreaterThan(7 * 1024 * 1024);
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});
