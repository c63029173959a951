/** The typed client and the job events stream, against real gateways on loopback (a gated provider holds jobs open). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProceduralAdapter } from '../../src/adapters/procedural/index.js';
import { MotionGatewayClient, MotionGatewayError, readMotion, type JobStatus } from '../../src/client/index.js';
import { createGatedAdapter, type GatedAdapter } from '../helpers/gated-adapter.js';
import { canonicalSkeleton, startGateway, type Running } from '../helpers/gateway.js';
import { validateGltf } from '../helpers/gltf-validate.js';

let g: Running;
let gated: GatedAdapter;
let held: GatedAdapter;
let streamed: GatedAdapter;
let skeleton: any;
let client: MotionGatewayClient;

const request = (model: string, prompt = 'walk forward') => ({ protocol_version: '1.2', model, skeleton, segments: [{ type: 'text' as const, prompt, duration_frames: 30 }], options: { seed: 3 } });

/** Polls `check` until it holds (or fails the test after 5 s). */
async function eventually(check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached within 5 s');
    await new Promise((r) => setImmediate(r));
  }
}

beforeAll(async () => {
  // One gate per test that holds a job open: an opened gate stays open.
  gated = createGatedAdapter();
  held = createGatedAdapter({ modelId: 'held', provider: 'held' });
  streamed = createGatedAdapter({ modelId: 'streamed', provider: 'streamed' });
  g = await startGateway({}, { adapters: [createProceduralAdapter(), gated, held, streamed] });
  skeleton = await canonicalSkeleton(g.url);
  client = new MotionGatewayClient({ baseUrl: g.url });
});
afterAll(() => g.close());

describe('client', () => {
  it('reads capabilities and generates a sync GLB and a JSON glTF', async () => {
    const caps = await client.capabilities();
    expect(caps.models.map((m) => m.id)).toContain('procedural');
    const glb = await client.generate(request('procedural'));
    expect(glb.format).toBe('glb');
    expect((await validateGltf(glb.bytes, 'glb')).errors).toEqual([]);
    expect(glb.motion?.model).toBe('procedural');
    expect(readMotion(glb.bytes)?.samples[0].num_frames).toBe(30);
    expect(glb.servedBy).toBe('procedural');
    expect(glb.jobId).toMatch(/^job_/);
    const json = await client.generate(request('procedural'), { format: 'json' });
    expect(new TextDecoder().decode(json.bytes).startsWith('{')).toBe(true);
    expect(readMotion(json.gltf)?.fps).toBe(glb.motion?.fps);
  });

  it('replays with an explicit Idempotency-Key', async () => {
    const first = await client.generate(request('procedural', 'wave'), { idempotencyKey: 'client-test-key-1' });
    const again = await client.generate(request('procedural', 'wave'), { idempotencyKey: 'client-test-key-1' });
    expect(first.replayed).toBe(false);
    expect(again.replayed).toBe(true);
    expect(Buffer.from(again.bytes).equals(Buffer.from(first.bytes))).toBe(true);
  });

  it('maps an error envelope to a typed error', async () => {
    const err = await client.generate(request('no-such-model')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MotionGatewayError);
    const e = err as MotionGatewayError;
    expect(e.status).toBe(400);
    expect(e.code).toBe('unknown_model');
    expect(e.errorCode).toMatch(/^MG-/);
    expect(e.action).toBeTruthy();
    expect(e.retryable).toBe(false);
    expect(e.details?.available_models).toContain('procedural');
    const missing = await client.jobs.status('job_doesnotexist000').catch((x: unknown) => x as MotionGatewayError);
    expect(missing).toMatchObject({ status: 404, code: 'job_not_found' });
  });

  it('follows a 202 with increasing progress, then answers the motion', async () => {
    const seen: JobStatus[] = [];
    const done = client.generate(request('gated'), {
      async: true,
      onProgress: (s) => {
        seen.push(s);
        if (seen.length === 2) gated.open();
      },
    });
    const res = await done;
    expect((await validateGltf(res.bytes, 'glb')).errors).toEqual([]);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    const progress = seen.map((s) => s.progress ?? 0);
    for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThanOrEqual(progress[i - 1]);
    expect(progress[0]).toBeGreaterThan(0);
    expect(seen.at(-1)?.state === 'succeeded' || seen.at(-1)?.state === 'running').toBe(true);
  });

  it('follows a job by its live events (no polls), and polls /status when the stream is refused or follow is poll', async () => {
    gated.open();
    const paths: string[] = [];
    const counting = (refuseEvents: boolean): typeof fetch => async (input, init) => {
      const path = new URL(String(input)).pathname;
      paths.push(path);
      if (refuseEvents && path.endsWith('/events')) throw new TypeError('fetch failed');
      return fetch(input, init);
    };
    let seed = 100; // a fresh seed per run: a cached answer would be a 200, not a job to follow
    const follows = async (opts: { refuseEvents: boolean; follow?: 'events' | 'poll' }) => {
      paths.length = 0;
      const c = new MotionGatewayClient({ baseUrl: g.url, fetch: counting(opts.refuseEvents), follow: opts.follow, minPollMs: 10 });
      const res = await c.generate({ ...request('gated'), options: { seed: ++seed } }, { async: true });
      expect((await validateGltf(res.bytes, 'glb')).errors).toEqual([]);
      return { events: paths.filter((p) => p.endsWith('/events')).length, polls: paths.filter((p) => p.endsWith('/status')).length };
    };
    expect(await follows({ refuseEvents: false })).toEqual({ events: 1, polls: 0 });
    expect((await follows({ refuseEvents: true })).polls).toBeGreaterThan(0);
    expect(await follows({ refuseEvents: false, follow: 'poll' })).toMatchObject({ events: 0 });
  });

  it('cancels the job on the gateway when its AbortSignal aborts', async () => {
    const abort = new AbortController();
    let jobId = '';
    const done = client.generate(request('held'), { signal: abort.signal, onAccepted: (id) => (jobId = id) });
    await held.advanced(1);
    await eventually(() => jobId !== '');
    abort.abort(new Error('stop'));
    await expect(done).rejects.toThrow('stop');
    await eventually(async () => (await client.jobs.status(jobId)).state === 'cancelled');
    const gone = await client.jobs.result(jobId).catch((e: unknown) => e as MotionGatewayError);
    expect(gone).toMatchObject({ status: 410, code: 'job_cancelled' });
  });

  it('retries a 503 with Retry-After, with the same Idempotency-Key', async () => {
    const keys: string[] = [];
    let refused = 0;
    const proxy: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        if (req.method === 'POST') keys.push(String(req.headers['idempotency-key']));
        if (req.method === 'POST' && refused++ === 0) {
          res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
          res.end(JSON.stringify({ error: { code: 'resource_exhausted', message: 'busy', details: null }, detail: { error_code: 'MG-JOB-003', message: 'busy', action: 'Retry after 1 seconds.' } }));
          return;
        }
        const up = await fetch(g.url + req.url, { method: req.method, headers: { 'content-type': 'application/json', accept: String(req.headers.accept), 'idempotency-key': String(req.headers['idempotency-key']) }, body: req.method === 'POST' ? Buffer.concat(chunks) : undefined });
        res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? '', 'x-job-id': up.headers.get('x-job-id') ?? '' });
        res.end(Buffer.from(await up.arrayBuffer()));
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    try {
      const via = new MotionGatewayClient({ baseUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` });
      const res = await via.generate(request('procedural', 'jump'));
      expect((await validateGltf(res.bytes, 'glb')).errors).toEqual([]);
      expect(keys).toHaveLength(2);
      expect(keys[1]).toBe(keys[0]);
      const once = new MotionGatewayClient({ baseUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, maxAttempts: 1 });
      refused = 0;
      const err = await once.generate(request('procedural', 'jump')).catch((e: unknown) => e as MotionGatewayError);
      expect(err).toMatchObject({ status: 503, code: 'resource_exhausted', retryable: true, retryAfterS: 1 });
    } finally {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    }
  });
});

describe('GET /generate/jobs/{id}/events', () => {
  it('streams status changes, then done with the final status, then ends', async () => {
    const accepted = await fetch(`${g.url}/generate`, { method: 'POST', headers: { 'content-type': 'application/json', prefer: 'respond-async' }, body: JSON.stringify(request('streamed')) });
    const { job_id: id } = (await accepted.json()) as { job_id: string };
    const head = await fetch(`${g.url}/generate/jobs/${id}/events`);
    expect(head.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(head.headers.get('cache-control')).toBe('no-store');
    expect(head.headers.get('x-accel-buffering')).toBe('no');
    await head.body?.cancel();
    const events = [];
    for await (const ev of client.jobs.events(id)) {
      events.push(ev);
      if (ev.type === 'status' && (ev.status.progress ?? 0) > 0) streamed.open();
    }
    expect(events.at(-1)).toMatchObject({ type: 'done', status: { job_id: id, state: 'succeeded', progress: 1 } });
    expect(events.filter((e) => e.type === 'done')).toHaveLength(1);
    const statuses = events.filter((e) => e.type === 'status').map((e) => JSON.stringify([e.status.state, e.status.progress, e.status.queue_position]));
    expect(new Set(statuses).size).toBe(statuses.length); // only changes are sent
  });

  it('answers 404 before streaming for an unknown job', async () => {
    const res = await fetch(`${g.url}/generate/jobs/job_doesnotexist000/events`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.code).toBe('job_not_found');
  });

  it('stops waiting when the client disconnects', async () => {
    const gate = createGatedAdapter({ modelId: 'left', provider: 'left' });
    const own = await startGateway({}, { adapters: [gate] });
    try {
      const sk = await canonicalSkeleton(own.url, 'left');
      const accepted = await fetch(`${own.url}/generate`, { method: 'POST', headers: { 'content-type': 'application/json', prefer: 'respond-async' }, body: JSON.stringify({ ...request('left'), skeleton: sk }) });
      const { job_id: id } = (await accepted.json()) as { job_id: string };
      const abort = new AbortController();
      const it = new MotionGatewayClient({ baseUrl: own.url }).jobs.events(id, { signal: abort.signal });
      expect((await it.next()).value?.type).toBe('status');
      const waiters = (own.gw.runner as unknown as { waiters: Map<string, Set<unknown>> }).waiters;
      await eventually(() => waiters.has(id));
      abort.abort();
      await expect(it.next()).rejects.toThrow();
      await eventually(() => !waiters.has(id));
    } finally {
      await own.close();
    }
  });

  it('ends open streams when the gateway stops, within its grace', async () => {
    const gate = createGatedAdapter({ modelId: 'stopping', provider: 'stopping' });
    const own = await startGateway({ shutdownGraceMs: 10_000 }, { adapters: [gate] });
    const sk = await canonicalSkeleton(own.url, 'stopping');
    const accepted = await fetch(`${own.url}/generate`, { method: 'POST', headers: { 'content-type': 'application/json', prefer: 'respond-async' }, body: JSON.stringify({ ...request('stopping'), skeleton: sk }) });
    const { job_id: id } = (await accepted.json()) as { job_id: string };
    const it = new MotionGatewayClient({ baseUrl: own.url }).jobs.events(id);
    expect((await it.next()).value?.type).toBe('status');
    const t0 = Date.now();
    await own.close();
    expect(Date.now() - t0).toBeLessThan(5_000);
    const rest = [];
    try {
      for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value);
    } catch {
      // a cut stream is an end too
    }
    expect(rest.every((e) => e.type === 'status')).toBe(true);
  });
});
