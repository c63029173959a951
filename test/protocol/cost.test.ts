/**
 * The cost model against the real glTF encoder (sizes of GLB and JSON glTF over a sweep of joints, frames,
 * samples and foot-contact flags), its work and sample-seconds measures, and the budget checks' errors.
 */
import { describe, expect, it } from 'vitest';
import { createProceduralAdapter } from '../../src/adapters/procedural/index.js';
import { encodeGlb, glbToJson, type EncodeSample } from '../../src/motion/gltf.js';
import { skeletonFromWire } from '../../src/motion/skeleton.js';
import { checkBatchBudget, checkFps, checkRequestBudgets } from '../../src/protocol/budgets.js';
import { estimateCost, type RequestCost } from '../../src/protocol/cost.js';
import { GatewayError } from '../../src/spec/errors.js';
import type { GenerateRequest, Joint, Limits, ModelCapabilities } from '../../src/spec/wire.js';

const procedural = createProceduralAdapter().models()[0];
/** The procedural model without trajectories: what encodeGlb alone writes (no pipeline extras). */
const plainModel: ModelCapabilities = { ...procedural, supports_trajectory: false, supports_retargeting: false };

/** A chain of `n` joints with names of realistic length and non-trivial rest offsets. */
function chain(n: number): Joint[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `mixamorig:Joint_${i}`,
    parent: i === 0 ? null : `mixamorig:Joint_${i - 1}`,
    rest_translation: [0.013 * i, 0.1 + 0.007 * i, -0.002 * i],
    rest_rotation: [0, 0, 0, 1],
  }));
}

function requestOf(joints: Joint[], frames: number, samples: number, fps = 30): GenerateRequest {
  return {
    protocol_version: '1.2',
    model: 'procedural',
    skeleton: { joints: joints as [Joint, ...Joint[]], coordinate_system: 'right_handed_y_up', units: 'meters' },
    segments: [{ type: 'text', prompt: 'walk', duration_frames: frames }],
    timing: { fps },
    options: { num_samples: samples },
  };
}

/** The real encoder's answer for the request: seeded wobbling rotations, a walking root, random contacts. */
function encode(req: GenerateRequest, model: ModelCapabilities): Uint8Array {
  const skeleton = skeletonFromWire(req.skeleton.joints);
  const J = skeleton.names.length;
  const F = (req.segments![0] as { duration_frames: number }).duration_frames;
  const fps = req.timing!.fps;
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const samples: EncodeSample[] = Array.from({ length: req.options!.num_samples! }, (_, s) => {
    const rotations = new Float64Array(F * J * 4);
    for (let k = 0; k < F * J; k++) {
      const a = 0.3 * Math.sin(k * 0.37 + s);
      rotations.set([Math.sin(a) * rand(), Math.sin(a) * 0.3, 0, Math.cos(a)], k * 4);
    }
    const rootPositions = new Float64Array(F * 3);
    for (let f = 0; f < F; f++) rootPositions.set([0.01 * Math.sin(f), 0.95, (1.3 * f) / fps], f * 3);
    const contacts = model.predicted_contact_joints.slice(0, J).map((_, c) => [req.skeleton.joints[c].name, Array.from({ length: F }, () => rand() < 0.5)]);
    return {
      name: `sample_${s}`,
      clip: { fps, numFrames: F, jointCount: J, rotations, rootPositions },
      chunkBoundaries: [],
      footContacts: contacts.length ? Object.fromEntries(contacts) : null,
    };
  });
  return encodeGlb({ skeleton, fps, samples, motion: { version: '1.2', model: model.id, canonicalToRequest: null } });
}

describe('estimateCost against the glTF encoder', () => {
  const sweep: Array<[joints: number, frames: number, samples: number, fps: number]> = [
    [1, 1, 1, 30], [5, 30, 1, 30], [22, 45, 1, 30], [22, 900, 4, 30], [60, 240, 2, 60], [150, 1200, 1, 120], [300, 50, 16, 24],
  ];
  it.each(sweep)('is within 5 percent of the GLB and JSON glTF sizes for %i joints × %i frames × %i samples at %i fps', (J, F, S, fps) => {
    const req = requestOf(chain(J), F, S, fps);
    for (const model of [plainModel, { ...plainModel, predicted_contact_joints: [] }]) {
      const glb = encode(req, model);
      const json = glbToJson(glb);
      const cost = estimateCost(req, model);
      expect(cost.outputBytes / glb.byteLength).toBeGreaterThan(0.95);
      expect(cost.outputBytes / glb.byteLength).toBeLessThan(1.05);
      expect(cost.jsonBytes / json.byteLength).toBeGreaterThan(0.95);
      expect(cost.jsonBytes / json.byteLength).toBeLessThan(1.05);
    }
  });

  it('counts work as samples × frames × (request joints + model joints) and sample-seconds at the effective fps', () => {
    const cost = estimateCost(requestOf(chain(10), 240, 3, 120), procedural);
    const modelJoints = procedural.canonical_skeleton.joints.length;
    expect(cost).toMatchObject({ frames: 240, samples: 3, joints: 10, work: 3 * 240 * (10 + modelJoints), sampleSeconds: 6 });
  });

  it('adds the trajectory of models that fit one, per frame and sample', () => {
    const req = requestOf(chain(22), 600, 2);
    const without = estimateCost(req, plainModel).outputBytes;
    const withTrajectory = estimateCost(req, { ...plainModel, supports_trajectory: true }).outputBytes;
    expect(withTrajectory - without).toBeGreaterThan(2 * 600 * 15);
    expect(withTrajectory - without).toBeLessThan(2 * 600 * 30);
  });

  it('weighs a request without a duration as asking for no frames (the shape check refuses it later)', () => {
    const req = { ...requestOf(chain(3), 10, 1), segments: [], duration_frames: undefined };
    expect(estimateCost(req, plainModel).frames).toBe(0);
  });
});

const limits: Limits = {
  ...procedural.limits,
  max_request_bytes: 1_048_576,
  max_batch_size: 16,
  x_max_fps: 120,
  x_max_output_bytes: 64 * 1_048_576,
  x_max_batch_output_bytes: 256 * 1_048_576,
  x_max_work: 8_000_000,
};

function thrown(fn: () => void): GatewayError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a GatewayError');
}

const costOf = (over: Partial<RequestCost>): RequestCost => ({ frames: 900, samples: 1, joints: 22, outputBytes: 1000, jsonBytes: 1300, work: 1000, sampleSeconds: 30, ...over });

describe('budget checks', () => {
  it('accept fps up to the bound and refuse above it naming timing.fps and x_max_fps', () => {
    expect(() => checkFps(120, limits)).not.toThrow();
    const err = thrown(() => checkFps(120.5, limits));
    expect([err.status, err.code]).toEqual([400, 'invalid_options']);
    expect(err.details).toMatchObject({ field: 'timing.fps', limit: 'x_max_fps', max: 120, value: 120.5 });
  });

  it('refuse an answer over x_max_output_bytes with the estimate and what to lower', () => {
    expect(() => checkRequestBudgets(costOf({ outputBytes: limits.x_max_output_bytes! }), limits)).not.toThrow();
    const err = thrown(() => checkRequestBudgets(costOf({ outputBytes: limits.x_max_output_bytes! + 1 }), limits));
    expect([err.status, err.code]).toEqual([400, 'invalid_options']);
    expect(err.details).toMatchObject({ budget: 'x_max_output_bytes', max: 64 * 1_048_576, estimate: 64 * 1_048_576 + 1 });
    expect(err.details!.lower).toEqual(['num_samples', 'timing.fps', 'duration_frames', 'skeleton joints']);
  });

  it('refuse work over x_max_work', () => {
    expect(() => checkRequestBudgets(costOf({ work: 8_000_000 }), limits)).not.toThrow();
    expect(thrown(() => checkRequestBudgets(costOf({ work: 8_000_001 }), limits)).details).toMatchObject({ budget: 'x_max_work', max: 8_000_000, estimate: 8_000_001 });
  });

  it('enforce nothing a model does not publish', () => {
    const bare: Limits = { ...limits, x_max_fps: undefined, x_max_output_bytes: undefined, x_max_work: undefined };
    expect(() => checkFps(10_000, bare)).not.toThrow();
    expect(() => checkRequestBudgets(costOf({ outputBytes: 2 ** 40, work: 2 ** 40 }), bare)).not.toThrow();
  });

  it('refuse a batch whose items together exceed the batch budget, listing each item', () => {
    const half = 128 * 1_048_576;
    expect(() => checkBatchBudget([costOf({ outputBytes: half }), undefined, costOf({ outputBytes: half })], 256 * 1_048_576)).not.toThrow();
    const err = thrown(() => checkBatchBudget([costOf({ outputBytes: half }), undefined, costOf({ outputBytes: half + 1 })], 256 * 1_048_576));
    expect(err.details).toMatchObject({ budget: 'x_max_batch_output_bytes', estimate: 2 * half + 1, items: [half, 0, half + 1] });
    expect(err.details!.lower).toContain('requests');
  });
});
