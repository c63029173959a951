/**
 * The cost model's budgets through a real gateway: the timing.fps bound (in the MMCP validation order), the
 * per-request output and work budgets and the batch budget refuse hostile requests with 400 before a job
 * exists; requests at the budget are admitted; /capabilities publishes the budgets read from the
 * environment; the estimate is within 20 % of the answers really produced (GLB and JSON glTF).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { estimateCost } from '../../src/protocol/cost.js';
import { validators } from '../../src/protocol/schemas.js';
import type { GenerateRequest, ModelCapabilities } from '../../src/spec/wire.js';
import { canonicalSkeleton, postGenerate, startGateway, type Running } from '../helpers/gateway.js';

const MiB = 1_048_576;
let byDefault: Running;
/** MAX_FPS raised to 480, so the output budget is what refuses a hostile request. */
let fastFps: Running;
/** Small output budgets, set through the environment as an operator would. */
let small: Running;
/** A small work budget. */
let lowWork: Running;
let canonical: any;

const smallEnv = { MAX_FPS: '100', MAX_OUTPUT_BYTES: String(2 * MiB), MAX_BATCH_OUTPUT_BYTES: String(3 * MiB), MAX_WORK: '9000000' };

beforeAll(async () => {
  const env = loadConfig({ ...smallEnv, DB_PATH: ':memory:' });
  [byDefault, fastFps, small, lowWork] = await Promise.all([
    startGateway({ syncWaitMs: 120_000 }),
    startGateway({ maxFps: 480 }),
    startGateway({ maxFps: env.maxFps, maxOutputBytes: env.maxOutputBytes, maxBatchOutputBytes: env.maxBatchOutputBytes, maxWork: env.maxWork }),
    startGateway({ maxWork: 100_000 }),
  ]);
  canonical = await canonicalSkeleton(byDefault.url);
});
afterAll(() => Promise.all([byDefault, fastFps, small, lowWork].map((g) => g.close())));

/** The canonical rig plus hair chains of ten under the head, `n` joints in all. */
function rigOf(n: number) {
  const joints = [...canonical.joints];
  for (let i = 0; joints.length < n; i++) {
    joints.push({ name: `Hair_${i}`, parent: i % 10 === 0 ? 'Head' : `Hair_${i - 1}`, rest_translation: [0, 0.02, 0], rest_rotation: [0, 0, 0, 1] });
  }
  return { ...canonical, joints };
}

const request = (o: { frames: number; fps?: number; samples?: number; joints?: number; seed?: number; extra?: Record<string, unknown> }) => ({
  protocol_version: '1.2',
  model: 'procedural',
  skeleton: o.joints ? rigOf(o.joints) : canonical,
  ...(o.fps ? { timing: { fps: o.fps } } : {}),
  options: { num_samples: o.samples ?? 1, seed: o.seed ?? 1 },
  segments: [{ type: 'text', prompt: 'walk forward', duration_frames: o.frames }],
  ...o.extra,
});

const modelOf = (g: Running): ModelCapabilities => g.gw.registry.model('procedural')!;
const estimate = (g: Running, body: unknown) => estimateCost(body as GenerateRequest, modelOf(g));
const jobCount = async (g: Running) => Object.values((await g.gw.store.countsByState())).reduce((a, b) => a + b, 0);

/** The largest frame count (≤ max) whose estimate `pick` stays within `budget`. */
function largestWithin(budget: number, max: number, bodyOf: (frames: number) => unknown, pick: (c: ReturnType<typeof estimate>) => number, g: Running): number {
  let lo = 1;
  let hi = max;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (pick(estimate(g, bodyOf(mid))) <= budget) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

describe('the timing.fps bound', () => {
  it('refuses timing.fps above MAX_FPS with 400 invalid_options naming the field and the bound', async () => {
    const res = await postGenerate(byDefault.url, request({ frames: 121, fps: 121 }));
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.code).toBe('invalid_options');
    expect(body.error.details).toMatchObject({ field: 'timing.fps', limit: 'x_max_fps', max: 120, value: 121 });
    expect(body.detail.error_code).toBe('MG-PRO-012');
  });

  it('admits timing.fps at the bound', async () => {
    const res = await postGenerate(byDefault.url, request({ frames: 12, fps: 120 }), { accept: 'model/gltf-binary' });
    expect(res.status).toBe(200);
  });

  it('is a step-9 limit: schema errors, out-of-range frames and the sample limit answer first', async () => {
    const schema = await postGenerate(byDefault.url, request({ frames: 30, fps: 480, extra: { surprise: true } }));
    expect([schema.status, (await schema.json()).error.code]).toEqual([422, 'schema_validation']);
    const frame = await postGenerate(byDefault.url, request({ frames: 30, fps: 480, extra: { constraints: [{ type: 'pose_keyframe', frame: 40, joint_rotations: { Head: [0, 0, 0, 1] } }] } }));
    expect([frame.status, (await frame.json()).error.code]).toEqual([400, 'frame_out_of_range']);
    const samples = await postGenerate(byDefault.url, request({ frames: 30, fps: 480, samples: 17 }));
    expect((await samples.json()).error.details.limit).toBe('max_num_samples');
  });
});

describe('the hostile requests of the issue', () => {
  const wide = () => request({ joints: 1024, fps: 480, frames: 30 * 480, samples: 4 });

  it('1,024 joints × 480 fps × 4 samples: 400 at the default fps bound, fast, and no job exists', async () => {
    const before = (await jobCount(byDefault));
    const started = performance.now();
    const res = await postGenerate(byDefault.url, wide());
    const body = await res.json();
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(res.status).toBe(400);
    expect(body.error.details).toMatchObject({ field: 'timing.fps', max: 120 });
    expect((await jobCount(byDefault))).toBe(before);
  });

  it('1,024 joints × 480 fps × 4 samples with fps allowed: 400 naming x_max_output_bytes, the estimate and what to lower; no job row', async () => {
    const before = (await jobCount(fastFps));
    const started = performance.now();
    const res = await postGenerate(fastFps.url, wide());
    const body = await res.json();
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(res.status).toBe(400);
    expect(body.error.code).toBe('invalid_options');
    expect(body.detail.error_code).toBe('MG-PRO-016');
    expect(body.error.details).toMatchObject({ budget: 'x_max_output_bytes', max: 64 * MiB, frames: 14_400, samples: 4, joints: 1024 });
    expect(body.error.details.estimate).toBe(estimate(fastFps, wide()).outputBytes);
    expect(body.error.details.estimate).toBeGreaterThan(900 * MiB);
    expect(body.error.details.lower).toEqual(['num_samples', 'timing.fps', 'duration_frames', 'skeleton joints']);
    expect((await jobCount(fastFps))).toBe(before);
    expect(fastFps.gw.runner.stats()).toEqual({ active: 0, queued: 0 });
  });

  it('a 16-item batch of 30 s × 480 fps × 16 samples: 400 naming the batch budget, before any item is a job', async () => {
    const item = () => {
      const { protocol_version: _v, ...rest } = request({ fps: 480, frames: 30 * 480, samples: 16 });
      return rest;
    };
    const batch = { protocol_version: '1.2', requests: Array.from({ length: 16 }, item) };
    expect(JSON.stringify(batch).length).toBeLessThan(64 * 1024);
    for (const g of [byDefault, fastFps]) {
      const before = (await jobCount(g));
      const started = performance.now();
      const res = await postGenerate(g.url, batch, { accept: 'application/json' });
      const body = await res.json();
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(res.status).toBe(400);
      expect(body.error.code).toBe('invalid_options');
      expect(body.error.details).toMatchObject({ budget: 'x_max_batch_output_bytes', max: 256 * MiB });
      expect(body.error.details.items).toHaveLength(16);
      expect(body.error.details.estimate).toBeGreaterThan(1_000 * MiB);
      expect(body.error.details.lower).toContain('requests');
      expect((await jobCount(g))).toBe(before);
    }
    expect((await fetch(`${byDefault.url}/healthz`)).status).toBe(200);
  });
});

describe('requests at the budget', () => {
  it('are admitted up to x_max_output_bytes, and one frame more is refused', async () => {
    const bodyOf = (frames: number) => request({ frames, fps: 100, samples: 2 });
    const frames = largestWithin(2 * MiB, 3000, bodyOf, (c) => c.outputBytes, small);
    expect(frames).toBeLessThan(3000);
    const admitted = await postGenerate(small.url, bodyOf(frames), { accept: 'model/gltf-binary' });
    expect(admitted.status).toBe(200);
    await admitted.arrayBuffer();
    const refused = await postGenerate(small.url, bodyOf(frames + 1));
    expect(refused.status).toBe(400);
    expect((await refused.json()).error.details).toMatchObject({ budget: 'x_max_output_bytes', max: 2 * MiB });
  });

  it('are admitted up to x_max_work, and one frame more is refused', async () => {
    const bodyOf = (frames: number) => request({ frames, fps: 100 });
    const frames = largestWithin(100_000, 3000, bodyOf, (c) => c.work, lowWork);
    const admitted = await postGenerate(lowWork.url, bodyOf(frames), { accept: 'model/gltf-binary' });
    expect(admitted.status).toBe(200);
    await admitted.arrayBuffer();
    const refused = await (await postGenerate(lowWork.url, bodyOf(frames + 1))).json();
    expect(refused.error.details).toMatchObject({ budget: 'x_max_work', max: 100_000, estimate: estimate(lowWork, bodyOf(frames + 1)).work });
  });

  it('batches are admitted up to x_max_batch_output_bytes, and one frame more is refused', async () => {
    const itemOf = (frames: number, samples: number) => {
      const { protocol_version: _v, ...rest } = request({ frames, fps: 100, samples });
      return rest;
    };
    const weigh = (item: object) => estimate(small, { protocol_version: '1.2', ...item }).outputBytes;
    const fixed = [itemOf(1500, 1), itemOf(1500, 1)];
    const room = 3 * MiB - fixed.reduce((n, i) => n + weigh(i), 0);
    const frames = largestWithin(room, 3000, (f) => ({ protocol_version: '1.2', ...itemOf(f, 2) }), (c) => c.outputBytes, small);
    // The last item alone stays within the per-request budget and the duration limit: only the batch budget is tight.
    expect(frames).toBeLessThan(3000);
    expect(weigh(itemOf(frames + 1, 2))).toBeLessThan(2 * MiB);
    const ok = await postGenerate(small.url, { protocol_version: '1.2', requests: [...fixed, itemOf(frames, 2)] }, { accept: 'application/json' });
    expect(ok.status).toBe(200);
    const answer = await ok.json();
    expect(answer.results.map((r: any) => Object.keys(r)[0])).toEqual(['gltf', 'gltf', 'gltf']);
    const over = await postGenerate(small.url, { protocol_version: '1.2', requests: [...fixed, itemOf(frames + 1, 2)] }, { accept: 'application/json' });
    expect(over.status).toBe(400);
    expect((await over.json()).error.details).toMatchObject({ budget: 'x_max_batch_output_bytes', max: 3 * MiB, estimate: 3 * MiB - room + weigh(itemOf(frames + 1, 2)) });
  });

  it('the largest requests the other tests and benches make pass at the defaults', async () => {
    for (const body of [request({ joints: 200, fps: 60, frames: 1800, samples: 4 }), request({ fps: 120, frames: 3600, samples: 16 })]) {
      const res = await postGenerate(byDefault.url, body, { accept: 'model/gltf-binary' });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
  }, 60_000);
});

describe('/capabilities', () => {
  it('publishes the default fps bound and budgets as x_ fields of every model, valid against the schema', async () => {
    const caps = await (await fetch(`${byDefault.url}/capabilities`)).json();
    expect(validators.capabilities(caps)).toBe(true);
    for (const m of caps.models) {
      expect(m.limits).toMatchObject({ x_max_fps: 120, x_max_output_bytes: 64 * MiB, x_max_batch_output_bytes: 256 * MiB, x_max_work: 8_000_000 });
    }
  });

  it('publishes the budgets read from MAX_FPS, MAX_OUTPUT_BYTES, MAX_BATCH_OUTPUT_BYTES and MAX_WORK, and enforces them', async () => {
    const caps = await (await fetch(`${small.url}/capabilities`)).json();
    expect(caps.models[0].limits).toMatchObject({ x_max_fps: 100, x_max_output_bytes: 2 * MiB, x_max_batch_output_bytes: 3 * MiB, x_max_work: 9_000_000 });
    const res = await postGenerate(small.url, request({ frames: 101, fps: 101 }));
    expect((await res.json()).error.details).toMatchObject({ field: 'timing.fps', max: 100 });
  });

  it('refuses a budget variable that is not a positive figure', async () => {
    expect(() => loadConfig({ MAX_OUTPUT_BYTES: 'lots' })).toThrow(/MAX_OUTPUT_BYTES/);
    expect(() => loadConfig({ MAX_FPS: '0' })).toThrow(/MAX_FPS/);
  });
});

describe('the estimate', () => {
  const renamed = () => ({ ...canonical, joints: canonical.joints.map((j: any) => ({ ...j, name: `rig:${j.name}`, parent: j.parent && `rig:${j.parent}` })) });
  const cases: Array<[string, () => Record<string, unknown>]> = [
    ['a short clip', () => request({ frames: 12 })],
    ['three samples at 60 fps on a renamed rig with constraints', () => request({ frames: 180, fps: 60, samples: 3, extra: { skeleton: renamed(), constraints: [{ type: 'root_path', frames: [0, 179], positions_xz: [[0, 0], [0, 3]] }] } })],
    ['200 joints × 600 frames × 2 samples', () => request({ joints: 200, frames: 600, fps: 60, samples: 2 })],
    ['two segments at 24 fps', () => ({ ...request({ frames: 48, fps: 24, samples: 2 }), segments: [{ type: 'text', prompt: 'wave', duration_frames: 48 }, { type: 'text', prompt: 'jump', duration_frames: 40 }] })],
  ];

  it.each(cases)('is within 20 percent of the real GLB and JSON glTF for %s', async (_name, bodyOf) => {
    const body = bodyOf();
    const cost = estimate(byDefault, body);
    const glb = await postGenerate(byDefault.url, body, { accept: 'model/gltf-binary' });
    const json = await postGenerate(byDefault.url, body, { accept: 'model/gltf+json' });
    expect([glb.status, json.status]).toEqual([200, 200]);
    const glbBytes = (await glb.arrayBuffer()).byteLength;
    const jsonBytes = (await json.arrayBuffer()).byteLength;
    expect(Math.abs(cost.outputBytes / glbBytes - 1)).toBeLessThan(0.2);
    expect(Math.abs(cost.jsonBytes / jsonBytes - 1)).toBeLessThan(0.2);
  });
});

describe('the idempotency decline rule', () => {
  it('weighs the same cost: sample-seconds at the effective fps', async () => {
    const g = await startGateway({ idempotencyMaxCost: 2 });
    try {
      // 2 samples × 60 frames at 60 fps = 2 sample-seconds: kept; 61 frames is over.
      const at = await postGenerate(g.url, request({ frames: 60, fps: 60, samples: 2 }), { 'idempotency-key': 'at-cost', accept: 'model/gltf-binary' });
      expect(at.status).toBe(200);
      expect(at.headers.get('idempotency-status')).toBeNull();
      await at.arrayBuffer();
      const over = await postGenerate(g.url, request({ frames: 61, fps: 60, samples: 2 }), { 'idempotency-key': 'over-cost', accept: 'model/gltf-binary' });
      expect(over.headers.get('idempotency-status')).toBe('declined');
      await over.arrayBuffer();
    } finally {
      await g.close();
    }
  });
});
