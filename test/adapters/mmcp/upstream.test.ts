/**
 * Another gateway as an upstream MMCP server: its models listed as `up/<id>`, sync and async generation on
 * the caller's own skeleton, its errors as our envelope, its API key sent to it and nowhere else, one
 * upstream job per job of ours across restarts, cancels forwarded, and an upstream that is down at
 * start-up served once it comes up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { idempotencyKeyOf } from '../../../src/adapters/mmcp/index.js';
import { validators } from '../../../src/protocol/schemas.js';
import { mixamo } from '../../fixtures/skeletons/mixamo.js';
import { validateGltf } from '../../helpers/gltf-validate.js';
import { loadConfig } from '../../../src/config.js';
import { canonicalSkeleton, startGateway } from '../../helpers/gateway.js';
import { captureLog, generate, request, settle, startDownstream, startUpstream, text, until, UPSTREAM_KEY, type Downstream, type Upstream } from './harness.js';

const tmp = mkdtempSync(join(tmpdir(), 'gw-mmcp-'));
let up: Upstream;
beforeAll(async () => {
  up = await startUpstream();
});
afterAll(async () => {
  await up?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  up.down = false;
  up.gate.open = false;
});

async function downstream(opts: Parameters<typeof startDownstream>[1] = {}): Promise<Downstream> {
  const d = await startDownstream(up, opts);
  cleanup.push(() => d.gw.close());
  return d;
}

/** The JSON chunk of a GLB. */
function glbJson(bytes: Uint8Array): any {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect(view.getUint32(0, true)).toBe(0x46546c67); // "glTF"
  const length = view.getUint32(12, true);
  return JSON.parse(Buffer.from(bytes.subarray(20, 20 + length)).toString('utf8'));
}

/** Jobs the upstream started (POSTs that reached its model, not retries it answered from its idempotency store). */
const upstreamPosts = () => up.count('POST', '/generate');

describe('capabilities', () => {
  it('lists each upstream model as up/<id>, on its canonical skeleton, with what our toolkit adds', async () => {
    const { gw } = await downstream();
    const caps = await (await fetch(`${gw.url}/capabilities`)).json();
    expect(validators.capabilities(caps)).toBe(true);
    const ids = caps.models.map((m: any) => m.id);
    expect(ids).toEqual(['procedural', 'up/procedural', 'up/gated', 'up/still']);
    const upCaps = await (await fetch(`${up.gateway.url}/capabilities`, { headers: { authorization: `Bearer ${UPSTREAM_KEY}` } })).json();
    const theirs = upCaps.models.find((m: any) => m.id === 'procedural');
    const ours = caps.models.find((m: any) => m.id === 'up/procedural');
    expect(ours.provider).toBe('up');
    expect(ours.canonical_skeleton.joints).toEqual(theirs.canonical_skeleton.joints);
    expect(ours.fps).toBe(theirs.fps);
    expect(ours.supports_retargeting).toBe(true);
    // Applied by our pipeline on the caller's skeleton, whatever the upstream supports.
    expect(ours.supported_constraints).toEqual(expect.arrayContaining(['root_path', 'effector_target', 'pose_keyframe']));
    expect(ours.supported_segments).toEqual(['text', 'unconditioned', 'pose', 'motion_reference']);
    expect(ours.limits.max_duration_seconds).toBe(theirs.limits.max_duration_seconds);
    const ready = await (await fetch(`${gw.url}/readyz`)).json();
    expect(ready.adapters.up).toEqual({ ready: true });
  });
});

describe('configured by MMCP_UPSTREAMS', () => {
  it('serves the upstream through the configuration loader, with production defaults', async () => {
    const env = { DB_PATH: ':memory:', LOG_LEVEL: 'silent', MMCP_UPSTREAMS: JSON.stringify([{ id: 'lab', base_url: up.url, api_key_env: 'MMCP_LAB_KEY' }]), MMCP_LAB_KEY: UPSTREAM_KEY };
    const { providers, secrets } = loadConfig(env);
    const g = await startGateway({ providers, secrets });
    cleanup.push(() => g.close());
    const caps = await (await fetch(`${g.url}/capabilities`)).json();
    expect(caps.models.map((m: any) => m.id)).toEqual(['procedural', 'lab/procedural', 'lab/gated', 'lab/still']);
    const res = await generate(g.url, request('lab/procedural', mixamo, [text('a person runs', 30)], { options: { seed: 11 }, extensions: { lab: { procedural: { strict: true } } } }));
    expect(res.status).toBe(200);
    expect(res.body.extensions.MMCP_motion.model).toBe('lab/procedural');
    expect(res.body.nodes.map((n: any) => n.name)).toEqual(expect.arrayContaining(mixamo.joints.map((j) => j.name)));
  });
});

describe('generation', () => {
  it('answers a sync request on another skeleton with a valid GLB on the caller\'s joints (one upstream job, async upstream)', async () => {
    const { gw } = await downstream();
    const posts = upstreamPosts();
    const res = await fetch(`${gw.url}/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'model/gltf-binary' },
      body: JSON.stringify(request('up/procedural', mixamo, [text('a person walks forward', 60)], { constraints: [{ type: 'root_path', frames: [0, 59], positions_xz: [[0, 0], [0, 1.5]] }] })),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('model/gltf-binary');
    const bytes = new Uint8Array(await res.arrayBuffer());
    const report = await validateGltf(bytes, 'glb');
    expect(report.errors).toEqual([]);
    const doc = glbJson(bytes);
    const mixamoNames = mixamo.joints.map((j) => j.name);
    expect(doc.skins[0].joints.map((i: number) => doc.nodes[i].name)).toEqual(mixamoNames);
    const ext = doc.extensions.MMCP_motion;
    expect(ext.model).toBe('up/procedural');
    expect(ext.samples[0].num_frames).toBe(60);
    expect(Object.values(ext.canonical_to_request)).toContain('mixamorig:Hips');
    // One upstream generation, asked asynchronously on the upstream's own skeleton, without our constraints.
    expect(upstreamPosts()).toBe(posts + 1);
    const post = up.calls.filter((c) => c.method === 'POST').at(-1)!;
    expect(post.prefer).toBe('respond-async');
    expect(post.accept).toContain('model/gltf-binary');
    expect(post.idempotencyKey).toMatch(/^mg-[0-9a-f]{40}$/);
    const sent = JSON.parse(post.body!);
    expect(sent.model).toBe('procedural');
    expect(sent.skeleton.joints).toEqual((await canonicalSkeleton(gw.url, 'up/procedural')).joints);
    expect(sent.constraints).toBeUndefined();
    expect(sent.options).toMatchObject({ seed: 7, num_samples: 1 });
    expect(up.count('GET', '/generate/jobs/')).toBeGreaterThan(0);
  });

  it('calls a sync-only upstream model synchronously and decodes its 200', async () => {
    const { gw } = await downstream();
    const polls = up.count('GET', '/generate/jobs/');
    const res = await generate(gw.url, request('up/still', mixamo, [text('a person jumps', 30)]));
    expect(res.status).toBe(200);
    expect(res.body.extensions.MMCP_motion.model).toBe('up/still');
    const post = up.calls.filter((c) => c.method === 'POST').at(-1)!;
    expect(post.prefer).toBeUndefined();
    expect(up.count('GET', '/generate/jobs/')).toBe(polls);
  });

  it('answers Prefer: respond-async with 202, then 200 on the poll', async () => {
    const { gw } = await downstream();
    up.gated.calls.start = 0;
    const res = await generate(gw.url, request('up/gated', mixamo, [text('a person waves', 30)], { options: { seed: 3, num_samples: 2 } }), { prefer: 'respond-async' });
    expect(res.status).toBe(202);
    const location = res.headers.get('location')!;
    expect(location).toMatch(/^\/generate\/jobs\//);
    // The upstream's Idempotency-Key is derived from our job id (so a resumed job asks for the same upstream job).
    const key = idempotencyKeyOf('up', res.headers.get('x-job-id')!);
    await until(() => up.calls.some((c) => c.method === 'POST' && c.idempotencyKey === key));
    const pending = await fetch(gw.url + location, { headers: { accept: 'model/gltf+json' } });
    expect(pending.status).toBe(202);
    await pending.arrayBuffer();
    up.gated.open();
    const done = await settle(gw.url, location);
    expect(done.status).toBe(200);
    expect(done.body.animations.map((a: any) => a.name)).toEqual(['sample_0', 'sample_1']);
    expect(up.gated.calls.start).toBe(1);
  });
});

describe('upstream errors', () => {
  it('passes a prompt the upstream refuses (strict) through as 400 with its message', async () => {
    const { gw } = await downstream();
    const res = await generate(gw.url, request('up/procedural', mixamo, [text('zzqx flurble', 30)], { extensions: { up: { procedural: { strict: true } } } }));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.message).toMatch(/^up: Segment 0: the prompt names no motion the procedural model knows/);
    expect(res.body.error.details).toMatchObject({ provider: 'up', provider_status: 400, provider_code: 'invalid_request', upstream: { code: 'invalid_request', error_code: 'MG-PRO-014' } });
    expect(res.body.detail.error_code).toBe('MG-PRV-400');
  });

  it('passes a field the upstream refuses through as 400 with its message', async () => {
    const { gw } = await downstream();
    const res = await generate(gw.url, request('up/procedural', mixamo, [text('walk', 30)], { extensions: { up: { procedural: { bogus: 1 } } } }));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe('up: extensions.procedural.bogus is not a procedural-model option.');
    expect(res.body.error.details.upstream).toEqual({ code: 'invalid_options', message: 'extensions.procedural.bogus is not a procedural-model option.', error_code: 'MG-PRO-007' });
  });

  it('makes an upstream at capacity (503 resource_exhausted, after our retries) a retryable 503 with its Retry-After', async () => {
    const { gw } = await downstream();
    const busy = { error: { code: 'resource_exhausted', message: 'The gateway is at capacity.', details: null } };
    up.inject({ method: 'POST', path: '/generate', status: 503, headers: { 'retry-after': '1' }, body: busy, times: 3 });
    const res = await generate(gw.url, request('up/procedural', mixamo, [text('walk', 30)]));
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('resource_exhausted');
    expect(res.body.detail.error_code).toBe('MG-PRV-429');
    expect(res.body.error.details).toMatchObject({ provider: 'up', provider_status: 503, retry_after_s: 1, upstream: { code: 'resource_exhausted' } });
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it('refuses a job location on another origin (the key would go there): 503 MG-PRV-403, nothing sent to it', async () => {
    const elsewhere = await startUpstream();
    cleanup.push(() => elsewhere.close());
    const { gw } = await downstream();
    up.inject({ method: 'POST', path: '/generate', status: 202, headers: { location: `${elsewhere.url}/generate/jobs/job_elsewhere0001` }, body: {}, times: 1 });
    const res = await generate(gw.url, request('up/procedural', mixamo, [text('walk', 30)], { options: { seed: 12 } }));
    expect(res.status).toBe(503);
    expect(res.body.detail.error_code).toBe('MG-PRV-403');
    expect(elsewhere.calls).toEqual([]);
  });

  it('retries a transient upstream failure and then succeeds', async () => {
    const { gw } = await downstream();
    up.inject({ method: 'POST', path: '/generate', status: 502, body: { error: { code: 'internal_error', message: 'bad gateway', details: null } }, times: 1 });
    const posts = upstreamPosts();
    const res = await generate(gw.url, request('up/procedural', mixamo, [text('walk', 30)]));
    expect(res.status).toBe(200);
    expect(upstreamPosts()).toBe(posts + 2);
    // The retry carried the same idempotency key.
    const [a, b] = up.calls.filter((c) => c.method === 'POST').slice(-2);
    expect(a.idempotencyKey).toBe(b.idempotencyKey);
  });
});

describe('the API key', () => {
  it('is sent to the upstream on every call and appears in no answer and no log line', async () => {
    const log = captureLog();
    const { gw } = await downstream({ logger: log.logger });
    const from = up.calls.length;
    // An upstream that quotes the key back in its error message.
    up.inject({ method: 'POST', path: '/generate', status: 422, body: { error: { code: 'schema_validation', message: `key ${UPSTREAM_KEY} may not ask for this`, details: null } }, times: 1 });
    const refused = await generate(gw.url, request('up/procedural', mixamo, [text('walk', 30)]));
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toBe('up: key [redacted] may not ask for this');
    const ok = await generate(gw.url, request('up/procedural', mixamo, [text('walk', 30)]), { prefer: 'respond-async' });
    const done = await settle(gw.url, ok.headers.get('location')!);
    expect(done.status).toBe(200);
    const status = await (await fetch(`${gw.url}${ok.headers.get('location')}/status`)).text();
    const caps = await (await fetch(`${gw.url}/capabilities`)).text();
    const ready = await (await fetch(`${gw.url}/readyz`)).text();
    const seen = up.calls.slice(from);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    for (const c of seen) expect(c.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    for (const t of [refused.text, done.text, status, caps, ready, ...log.lines]) expect(t).not.toContain(UPSTREAM_KEY);
    expect(log.lines.some((l) => l.includes('job failed'))).toBe(true);
  });

  it('a wrong key is the operator\'s problem: 503 model_unavailable, the key redacted', async () => {
    const { gw } = await downstream({ config: { apiKey: 'wrong-key-0123456789abcdef' } });
    // The upstream refuses even its capabilities: nothing is served.
    const caps = await (await fetch(`${gw.url}/capabilities`)).json();
    expect(caps.models.map((m: any) => m.id)).not.toContain('up/procedural');
    const ready = await (await fetch(`${gw.url}/readyz`)).json();
    expect(ready.adapters.up.ready).toBe(false);
    expect(ready.adapters.up.reason).toMatch(/not reachable: up GET \/capabilities: http 403/);
    expect(JSON.stringify(ready)).not.toContain('wrong-key-0123456789abcdef');
  });
});

// Each test below asks with its own seed: the upstream gateway answers a seeded request it has answered before from its cache.
describe('jobs over time', () => {
  it('resumes polling the same upstream job after a restart mid-job: the upstream ran one job', async () => {
    const db = join(tmp, 'resume.db');
    up.gated.calls.start = 0;
    const posts = upstreamPosts();
    const g1 = await startDownstream(up, { dbPath: db });
    const from = up.calls.length;
    const res = await generate(g1.gw.url, request('up/gated', mixamo, [text('a person walks', 30)], { options: { seed: 101 } }), { prefer: 'respond-async' });
    expect(res.status).toBe(202);
    await until(() => up.calls.slice(from).some((c) => c.method === 'GET' && c.path.startsWith('/generate/jobs/')));
    const polled = up.count('GET', '/generate/jobs/');
    await g1.gw.close();

    const g2 = await downstream({ dbPath: db });
    up.gated.open();
    const done = await settle(g2.gw.url, res.headers.get('location')!);
    expect(done.status).toBe(200);
    expect(up.count('GET', '/generate/jobs/')).toBeGreaterThan(polled);
    expect(upstreamPosts()).toBe(posts + 1);
    expect(up.gated.calls.start).toBe(1);
  });

  it('asks again with the same idempotency key after a crash before the upstream answered: still one upstream job', async () => {
    const db = join(tmp, 'window.db');
    up.gated.calls.start = 0;
    const posts = upstreamPosts();
    // The upstream takes the job at once but its answer is held back: the gateway stops in between.
    up.inject({ method: 'POST', path: '/generate', status: 0, times: 1, delayMs: 3_000 });
    const g1 = await startDownstream(up, { dbPath: db, gateway: { shutdownGraceMs: 200 } });
    const res = await generate(g1.gw.url, request('up/gated', mixamo, [text('a person walks', 30)], { options: { seed: 102 } }), { prefer: 'respond-async' });
    await until(() => up.gated.calls.start === 1);
    await g1.gw.close();

    const g2 = await downstream({ dbPath: db });
    up.gated.open();
    const done = await settle(g2.gw.url, res.headers.get('location')!);
    expect(done.status).toBe(200);
    expect(upstreamPosts()).toBe(posts + 2);
    const [a, b] = up.calls.filter((c) => c.method === 'POST').slice(-2);
    expect(b.idempotencyKey).toBe(a.idempotencyKey);
    expect(up.gated.calls.start).toBe(1);
  });

  it('warns when the upstream declines idempotency (a crash before its answer would start a second job)', async () => {
    const declining = await startUpstream({ idempotencyMaxCost: 0 });
    cleanup.push(() => declining.close());
    const log = captureLog();
    const d = await startDownstream(declining, { logger: log.logger });
    cleanup.push(() => d.gw.close());
    const res = await generate(d.gw.url, request('up/procedural', mixamo, [text('walk', 30)], { options: { seed: 13 } }));
    expect(res.status).toBe(200);
    expect(log.lines.filter((l) => l.includes('declined idempotency'))).toHaveLength(1);
  });

  it('DELETE cancels the upstream job', async () => {
    const { gw } = await downstream();
    const from = up.calls.length;
    const res = await generate(gw.url, request('up/gated', mixamo, [text('a person walks', 30)], { options: { seed: 103 } }), { prefer: 'respond-async' });
    await until(() => up.calls.slice(from).some((c) => c.method === 'GET' && c.path.startsWith('/generate/jobs/')));
    const upstreamJob = up.calls.slice(from).find((c) => c.method === 'GET' && c.path.startsWith('/generate/jobs/'))!.path;
    const del = await fetch(gw.url + res.headers.get('location')!, { method: 'DELETE' });
    expect(del.status).toBe(204);
    await until(() => up.count('DELETE', upstreamJob) === 1);
    const there = await fetch(up.gateway.url + upstreamJob, { headers: { authorization: `Bearer ${UPSTREAM_KEY}`, accept: 'model/gltf+json' } });
    const body = await there.json();
    expect(there.status).toBe(410);
    expect(body.error.code).toBe('job_cancelled');
  });
});

describe('an upstream down at start-up', () => {
  it('has its models served once it comes up (first start: listed when its capabilities arrive)', async () => {
    up.down = true;
    const { gw } = await downstream({ deps: { initWaitMs: 100 } });
    const caps = await (await fetch(`${gw.url}/capabilities`)).json();
    expect(caps.models.map((m: any) => m.id)).toEqual(['procedural']);
    const ready = await fetch(`${gw.url}/readyz`);
    expect((await ready.json()).adapters.up).toMatchObject({ ready: false, reason: expect.stringMatching(/^the upstream "up" is not reachable/) });
    up.down = false;
    await until(async () => (await (await fetch(`${gw.url}/readyz`)).json()).adapters.up.ready === true);
    const res = await generate(gw.url, request('up/procedural', mixamo, [text('walk', 30)]));
    expect(res.status).toBe(200);
  });

  it('a restart while it is down lists its last known models as not ready (503 model_unavailable), then serves them', async () => {
    const db = join(tmp, 'down.db');
    const g1 = await startDownstream(up, { dbPath: db });
    await g1.gw.close();
    up.down = true;
    const { gw } = await downstream({ dbPath: db, deps: { initWaitMs: 100, catalog: { retryMinMs: 300, retryMaxMs: 300 } } });
    const caps = await (await fetch(`${gw.url}/capabilities`)).json();
    expect(caps.models.map((m: any) => m.id)).toContain('up/procedural');
    const refused = await generate(gw.url, request('up/procedural', mixamo, [text('walk', 30)]));
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('model_unavailable');
    expect(refused.body.detail.error_code).toBe('MG-SRV-003');
    expect(refused.body.error.details).toMatchObject({ model: 'up/procedural', provider: 'up' });
    up.down = false;
    await until(async () => (await (await fetch(`${gw.url}/readyz`)).json()).adapters.up.ready === true);
    const res = await generate(gw.url, request('up/procedural', mixamo, [text('walk', 30)]));
    expect(res.status).toBe(200);
  });
});
