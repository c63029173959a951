/** What clients receive: capabilities, glTF answers in both formats (validated by Khronos), batches, envelopes on every route. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProceduralAdapter } from '../../src/adapters/procedural/index.js';
import { parseGlb } from '../../src/motion/gltf.js';
import { validators } from '../../src/protocol/schemas.js';
import { createGatedAdapter } from '../helpers/gated-adapter.js';
import { canonicalSkeleton, postGenerate, rawRequest, startGateway, type Running } from '../helpers/gateway.js';
import { validateGltf } from '../helpers/gltf-validate.js';
import { sharedWorkers } from '../helpers/workers.js';

let g: Running;
let skeleton: any;
const req = (over: Record<string, unknown> = {}) => ({
  protocol_version: '1.2',
  model: 'procedural',
  skeleton,
  segments: [{ type: 'text', prompt: 'walk forward', duration_frames: 45 }],
  ...over,
});

beforeAll(async () => {
  const workers = sharedWorkers();
  g = await startGateway({}, {
    adapters: [
      createProceduralAdapter(),
      createGatedAdapter({ modelId: 'broken', open: true }),
    ],
    // Workers whose rendering fails for one model only, to see how an internal failure is answered.
    workers: {
      run: (task) => workers.run(task),
      stats: () => workers.stats(),
      close: async () => {},
      render: (plan, source) => (plan.model.id === 'broken' ? Promise.reject(new Error('secret internal detail')) : workers.render(plan, source)),
    },
  });
  skeleton = await canonicalSkeleton(g.url);
});
afterAll(() => g.close());


async function gltfJson(res: Response): Promise<any> {
  const bytes = new Uint8Array(await res.arrayBuffer());
  const report = await validateGltf(bytes, 'json');
  expect(report.errors).toEqual([]);
  return JSON.parse(Buffer.from(bytes).toString('utf8'));
}

describe('capabilities and descriptive endpoints', () => {
  it('serves capabilities that match the schema, built from the adapters', async () => {
    const res = await fetch(`${g.url}/capabilities`);
    expect(res.status).toBe(200);
    const caps = await res.json();
    expect(validators.capabilities(caps)).toBe(true);
    expect(caps).toMatchObject({ protocol_version: '1.3', rotation_format: 'quaternion_xyzw', coordinate_system: 'right_handed_y_up', units: 'meters' });
    expect(caps.response_formats).toEqual(['gltf_2.0_json', 'gltf_2.0_binary']);
    expect(caps.models.map((m: any) => m.id)).toEqual(['procedural', 'broken']);
    const p = caps.models[0];
    expect(p.supports_async).toBe(true);
    expect(p.limits).toMatchObject({ max_duration_seconds: 30, max_num_samples: 16, max_batch_size: 16, max_request_bytes: 1048576 });
    const lowest = Math.min(...restHeights(p.canonical_skeleton));
    expect(lowest).toBeCloseTo(0, 6);
  });

  it('serves the schemas and an OpenAPI 3.1 document built from them', async () => {
    const doc = await (await fetch(`${g.url}/openapi.json`)).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.schemas.GenerateRequest.properties.segments).toBeTruthy();
    expect(doc.paths['/generate'].post).toBeTruthy();
    expect(JSON.stringify(doc)).not.toContain('urn:mmcp');
    // Every route the app serves is documented, and nothing else.
    const served = (g.gw.app.router as unknown as { stack: Array<{ route?: { path: string } }> }).stack.flatMap((l) => (l.route ? [l.route.path.replace(/:(\w+)/g, '{$1}')] : []));
    expect([...new Set(served)].sort()).toEqual(Object.keys(doc.paths).sort());
    expect(doc.paths['/generate/jobs/{id}/events'].get.responses['200'].content['text/event-stream']).toBeTruthy();
    const schema = await (await fetch(`${g.url}/schemas/generate-request`)).json();
    expect(schema.$id).toBe('urn:mmcp:generate-request');
  });

  it('answers health, readiness and metrics', async () => {
    expect((await fetch(`${g.url}/healthz`)).status).toBe(200);
    const ready = await (await fetch(`${g.url}/readyz`)).json();
    expect(ready).toMatchObject({ status: 'ready', store: 'ok', adapters: { procedural: { ready: true } } });
    const metrics = await (await fetch(`${g.url}/metrics`)).text();
    expect(metrics).toContain('http_request_duration_seconds');
    await postGenerate(g.url, req());
    const after = await (await fetch(`${g.url}/metrics`)).text();
    expect(after).toMatch(/gateway_jobs_finished_total\{model="procedural",state="succeeded"\} [1-9]/);
    expect(after).toMatch(/gateway_worker_threads [1-9]/);
    expect(after).toMatch(/gateway_worker_tasks\{kind="queued"\} 0/);
  });
});

function restHeights(sk: any): number[] {
  const pos = new Map<string, number>();
  return sk.joints.map((j: any) => {
    const y = (j.parent === null ? 0 : pos.get(j.parent)!) + j.rest_translation[1];
    pos.set(j.name, y);
    return y;
  });
}

describe('glTF answers', () => {
  it('answers JSON glTF by default with data: URIs and MMCP_motion', async () => {
    const res = await postGenerate(g.url, req({ options: { num_samples: 3, seed: 5 } }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('model/gltf+json; charset=utf-8');
    expect(res.headers.get('x-request-id')).toBeTruthy();
    const doc = await gltfJson(res);
    expect(doc.buffers[0].uri).toMatch(/^data:application\/octet-stream;base64,/);
    expect(doc.extensionsUsed).toContain('MMCP_motion');
    expect(doc.animations.map((a: any) => a.name)).toEqual(['sample_0', 'sample_1', 'sample_2']);
    expect(doc.nodes.map((n: any) => n.name)).toEqual(expect.arrayContaining(skeleton.joints.map((j: any) => j.name)));
    expect(doc.skins[0].joints).toHaveLength(skeleton.joints.length);
    const motion = doc.extensions.MMCP_motion;
    expect(validators.mmcpMotion(motion)).toBe(true);
    expect(motion).toMatchObject({ version: '1.3', model: 'procedural', fps: 30 });
    expect(motion.samples).toHaveLength(3);
    for (const s of motion.samples) {
      expect(s.num_frames).toBe(45);
      expect(s.chunk_boundaries).toEqual([]);
      expect(Object.keys(s.foot_contacts).sort()).toEqual(['LeftFoot', 'LeftToeBase', 'RightFoot', 'RightToeBase']);
      for (const flags of Object.values(s.foot_contacts) as boolean[][]) expect(flags).toHaveLength(45);
      expect(s.x_understood[0]).toMatchObject({ segment: 0 });
    }
    // Dense channels: one rotation channel per joint and one root translation per sample.
    const a0 = doc.animations[0];
    expect(a0.channels.filter((c: any) => c.target.path === 'rotation')).toHaveLength(skeleton.joints.length);
    expect(a0.channels.filter((c: any) => c.target.path === 'translation')).toHaveLength(1);
    expect(doc.accessors[a0.samplers[0].input].count).toBe(45);
  });

  it('answers GLB for Accept: model/gltf-binary and honours q-values', async () => {
    const glb = await postGenerate(g.url, req(), { accept: 'model/gltf-binary' });
    expect(glb.headers.get('content-type')).toBe('model/gltf-binary');
    const bytes = new Uint8Array(await glb.arrayBuffer());
    expect((await validateGltf(bytes, 'glb')).errors).toEqual([]);
    expect(parseGlb(bytes).json.animations).toHaveLength(1);

    const prefersGlb = await postGenerate(g.url, req(), { accept: 'model/gltf+json;q=0.5, model/gltf-binary' });
    expect(prefersGlb.headers.get('content-type')).toBe('model/gltf-binary');
    // The reference Python client's header prefers JSON.
    const python = await postGenerate(g.url, req(), { accept: 'model/gltf+json, application/json, model/gltf-binary;q=0.9' });
    expect(python.headers.get('content-type')).toContain('model/gltf+json');
    const wildcard = await postGenerate(g.url, req(), { accept: '*/*' });
    expect(wildcard.headers.get('content-type')).toContain('model/gltf+json');
    const refused = await postGenerate(g.url, req(), { accept: 'text/html' });
    expect(refused.status).toBe(406);
    expect((await refused.json()).error.code).toBe('not_acceptable');
  });

  it('has exactly total_frames frames at timing.fps, across composed segments', async () => {
    const res = await postGenerate(g.url, req({
      timing: { fps: 24 },
      segments: [
        { type: 'text', prompt: 'walk', duration_frames: 40 },
        { type: 'unconditioned', duration_frames: 10 },
        { type: 'text', prompt: 'wave', duration_frames: 25 },
      ],
      options: { transition_frames: 6 },
    }));
    expect(res.status).toBe(200);
    const doc = await gltfJson(res);
    expect(doc.extensions.MMCP_motion.fps).toBe(24);
    expect(doc.extensions.MMCP_motion.samples[0].num_frames).toBe(75);
    const times = doc.accessors[doc.animations[0].samplers[0].input];
    expect(times.count).toBe(75);
    expect(times.max[0]).toBeCloseTo(74 / 24, 5);
  });

  it('answers a one-frame clip that still validates', async () => {
    const res = await postGenerate(g.url, req({ segments: [{ type: 'text', prompt: 'stand', duration_frames: 1 }] }), { accept: 'model/gltf-binary' });
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect((await validateGltf(bytes, 'glb')).errors).toEqual([]);
  });

  it('reproduces byte-identical answers for the same seed, and varies without one', async () => {
    const a = new Uint8Array(await (await postGenerate(g.url, req({ options: { seed: 11, num_samples: 2 } }), { accept: 'model/gltf-binary' })).arrayBuffer());
    const b = new Uint8Array(await (await postGenerate(g.url, req({ options: { seed: 11, num_samples: 2 } }), { accept: 'model/gltf-binary' })).arrayBuffer());
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const c = new Uint8Array(await (await postGenerate(g.url, req({ options: { seed: 12, num_samples: 2 } }), { accept: 'model/gltf-binary' })).arrayBuffer());
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
  });

  it('polls and replays negotiate formats the same way', async () => {
    const res = await postGenerate(g.url, req(), { 'idempotency-key': 'neg-1' });
    const location = res.headers.get('content-location')!;
    const poll = await fetch(g.url + location, { headers: { accept: 'model/gltf-binary' } });
    expect(poll.headers.get('content-type')).toBe('model/gltf-binary');
    expect((await validateGltf(new Uint8Array(await poll.arrayBuffer()), 'glb')).errors).toEqual([]);
    const replay = await postGenerate(g.url, req(), { 'idempotency-key': 'neg-1', accept: 'model/gltf-binary' });
    expect(replay.headers.get('content-type')).toBe('model/gltf-binary');
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
  });
});

describe('batches', () => {
  it('answers one result per item, in order; one item failing does not fail the others', async () => {
    const res = await postGenerate(g.url, {
      protocol_version: '1.2',
      requests: [
        { model: 'procedural', skeleton, segments: [{ type: 'text', prompt: 'jump', duration_frames: 30 }] },
        { protocol_version: '1.2', model: 'nope', skeleton, segments: [{ type: 'text', prompt: 'jump', duration_frames: 30 }] },
        { model: 'procedural', skeleton, segments: [{ type: 'text', prompt: 'bow', duration_frames: 20 }], options: { num_samples: 2 } },
      ],
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(validators.batchResponse(body)).toBe(true);
    expect(body.results).toHaveLength(3);
    expect(body.results[1].error.code).toBe('unknown_model');
    for (const i of [0, 2]) {
      const bytes = Buffer.from(JSON.stringify(body.results[i].gltf));
      expect((await validateGltf(new Uint8Array(bytes), 'json')).errors).toEqual([]);
    }
    expect(body.results[2].gltf.animations).toHaveLength(2);
  });
});

describe('the envelope on every route', () => {
  const cases: Array<[string, () => Promise<{ status: number; body: any; headers: any }>, number, string]> = [
    ['unknown path', async () => wrap(await fetch(`${g.url}/nope`)), 404, 'not_found'],
    ['wrong method on /generate', async () => wrap(await fetch(`${g.url}/generate`)), 405, 'method_not_allowed'],
    ['wrong method on /capabilities', async () => wrap(await fetch(`${g.url}/capabilities`, { method: 'POST' })), 405, 'method_not_allowed'],
    ['unknown job', async () => wrap(await fetch(`${g.url}/generate/jobs/job_doesnotexist123`)), 404, 'job_not_found'],
    ['unknown job status', async () => wrap(await fetch(`${g.url}/generate/jobs/nope/status`)), 404, 'job_not_found'],
    ['malformed URL encoding', async () => {
      const r = await rawRequest(g.url, { method: 'GET', path: '/generate/jobs/%E0%A4%A' });
      return { status: r.status, body: r.json(), headers: r.headers };
    }, 400, 'invalid_request'],
    ['an internal failure', async () => wrap(await postGenerate(g.url, req({ model: 'broken' }))), 500, 'internal_error'],
  ];
  async function wrap(res: Response) {
    return { status: res.status, body: await res.json(), headers: Object.fromEntries(res.headers) };
  }
  it.each(cases)('%s', async (_name, call, status, code) => {
    const r = await call();
    expect(r.status).toBe(status);
    expect(r.body.error.code).toBe(code);
    expect(validators.errorEnvelope(r.body)).toBe(true);
    expect(r.headers['x-request-id']).toBeTruthy();
    expect(JSON.stringify(r.body)).not.toContain('secret internal detail');
  });

  it('echoes a sane X-Request-ID and replaces an insane one', async () => {
    const sane = await fetch(`${g.url}/healthz`, { headers: { 'x-request-id': 'abc-123_DEF.4' } });
    expect(sane.headers.get('x-request-id')).toBe('abc-123_DEF.4');
    const insane = await fetch(`${g.url}/healthz`, { headers: { 'x-request-id': 'a b<script>' } });
    expect(insane.headers.get('x-request-id')).not.toBe('a b<script>');
    expect(insane.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('gateway auth', () => {
  it('requires a Bearer key when keys are configured: 401 without, 403 for an unknown key', async () => {
    const a = await startGateway({ apiKeys: ['a-very-long-key-0001'] });
    try {
      const none = await fetch(`${a.url}/capabilities`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer');
      expect((await none.json()).error.code).toBe('unauthorized');
      const wrong = await fetch(`${a.url}/capabilities`, { headers: { authorization: 'Bearer another-key-000000' } });
      expect(wrong.status).toBe(403);
      expect((await wrong.json()).error.code).toBe('forbidden');
      expect((await fetch(`${a.url}/capabilities`, { headers: { authorization: 'Bearer a-very-long-key-0001' } })).status).toBe(200);
      expect((await fetch(`${a.url}/healthz`)).status).toBe(200);
    } finally {
      await a.close();
    }
  });
});
