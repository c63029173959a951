/** The procedural adapter as the job runner sees it: capabilities, one-step generation, understood entries, a full-size request. */
import { describe, expect, it } from 'vitest';
import type { GenerationPlan, PlannedSegment } from '../../../src/spec/plan.js';
import type { JobContext, Step } from '../../../src/spec/adapter.js';
import type { Motion } from '../../../src/spec/motion.js';
import { createWorkers } from '../../../src/jobs/pool.js';
import { GatewayError } from '../../../src/spec/errors.js';
import { createProceduralAdapter, generatePlan, PROCEDURAL_MODEL_ID } from '../../../src/adapters/procedural/index.js';
import { PROCEDURAL_SKELETON } from '../../../src/adapters/procedural/rig.js';

const adapter = createProceduralAdapter();
const model = adapter.models()[0];

function plan(segments: Omit<PlannedSegment, 'index' | 'startFrame' | 'seconds'>[], numSamples = 1, fps = 30): GenerationPlan {
  let start = 0;
  const planned = segments.map((s, index) => {
    const p = { ...s, index, startFrame: start, seconds: s.frames / fps };
    start += s.frames;
    return p;
  });
  return {
    request: {} as GenerationPlan['request'],
    model,
    fps,
    totalFrames: start,
    segments: planned,
    constraints: [],
    numSamples,
    seed: 1,
    seeded: true,
    transitionFrames: 5,
    postProcessing: true,
    loop: false,
    extensions: {},
  };
}

const ctx = {
  jobId: 'j1',
  signal: new AbortController().signal,
  deadline: Date.now() + 60_000,
  saveCheckpoint() {},
  store: { get: () => undefined, set() {}, delete() {} },
  log: { debug() {}, info() {}, warn() {}, error() {} },
  compute: createWorkers({ threads: 0 }),
} satisfies JobContext;

/** The motion a finished step hands over: the procedural model computes it on the gateway's workers. */
async function motionOf(step: Step): Promise<Motion> {
  if (step.kind === 'done') return step.motion;
  if (step.kind !== 'compute') throw new Error('not done');
  return ctx.compute.run<Motion>(step.task);
}

describe('procedural adapter', () => {
  it('advertises one model with the full capability set', () => {
    expect(adapter.provider).toBe('procedural');
    expect(adapter.models()).toHaveLength(1);
    expect(model).toMatchObject({
      id: PROCEDURAL_MODEL_ID,
      fps: 30,
      supports_retargeting: true,
      supports_async: true,
      supports_segment_seed: true,
      supports_loop: true,
      supports_trajectory: true,
      supports_batch: true,
      supports_motion_reference_mixed: false, // the registry sets it with the gateway limits, where motion_reference is listed
      supported_constraints: ["root_path", "effector_target", "pose_keyframe", "ground_height"],
      supported_segments: ['text', 'unconditioned', 'pose', 'motion_reference'],
      supported_guidance_types: [],
      predicted_contact_joints: ['LeftFoot', 'LeftToeBase', 'RightFoot', 'RightToeBase'],
      native_clip_seconds: 30,
      chunking: 'none',
      recommended_max_duration_seconds: 30,
      limits: { max_duration_seconds: 30, max_num_samples: 16, max_constraints_per_request: 64, max_prompt_length: 1000, max_request_bytes: 1048576, max_batch_size: 16 },
    });
    expect(model.canonical_skeleton.joints).toHaveLength(22);
    expect(adapter.readiness()).toEqual({ ready: true });
  });

  it('lets the lead override flags and limits without touching the skeleton', () => {
    const m = createProceduralAdapter({ modelId: 'procedural-loop', capabilities: { supports_loop: true, limits: { max_num_samples: 4 } } }).models()[0];
    expect(m.id).toBe('procedural-loop');
    expect(m.supports_loop).toBe(true);
    expect(m.limits.max_num_samples).toBe(4);
    expect(m.limits.max_batch_size).toBe(16);
    expect(m.canonical_skeleton).toEqual(model.canonical_skeleton);
  });

  it('starts with an empty checkpoint and finishes in one advance, one clip per segment per sample', async () => {
    const p = plan([
      { type: 'text', prompt: 'walk forward', frames: 60, seed: 11 },
      { type: 'unconditioned', frames: 15, seed: 12 },
      { type: 'text', prompt: 'wave with the left hand', frames: 45, seed: 13 },
    ], 3);
    expect(await adapter.start(p)).toEqual({});
    const step = await adapter.advance(p, {}, ctx);
    expect(step.kind).toBe('compute');
    const motion = await motionOf(step);
    expect(motion.skeleton).toEqual(PROCEDURAL_SKELETON);
    expect(motion.samples).toHaveLength(3);
    for (const s of motion.samples) {
      expect(s.segments.map((c) => c.numFrames)).toEqual([60, 15, 45]);
      expect(s.segments.every((c) => c.fps === 30 && c.jointCount === 22)).toBe(true);
      expect(s.chunkBoundaries).toEqual([[], [], []]);
      expect(s.understood?.map((u) => [u.segment, u.motion, u.source])).toEqual([[0, 'walk', 'prompt'], [1, 'idle', 'unconditioned'], [2, 'wave', 'prompt']]);
      expect(s.understood?.[2].params).toMatchObject({ hand: 'left' });
    }
    // Samples vary.
    const a = motion.samples[0].segments[0].rootPositions;
    const b = motion.samples[1].segments[0].rootPositions;
    expect(a).not.toEqual(b);
    await adapter.cancel(p, {}, ctx);
  });

  it('is deterministic: the same plan gives bit-identical clips', async () => {
    const p = plan([{ type: 'text', prompt: 'a happy dance', frames: 90, seed: 5 }], 2);
    const one = generatePlan(p);
    const two = generatePlan(p);
    for (let i = 0; i < 2; i++) {
      expect(two[i].segments[0].rotations).toEqual(one[i].segments[0].rotations);
      expect(two[i].segments[0].rootPositions).toEqual(one[i].segments[0].rootPositions);
    }
  });

  it('answers an unknown prompt with an idle and says it did not recognise it: the words it ignored, the nearest motions, never the prompt verbatim', async () => {
    const prompt = 'Zorbulate the frobnicator with quantum gusto';
    const motion = await motionOf(await adapter.advance(plan([{ type: 'text', prompt, frames: 30, seed: 1 }]), {}, ctx));
    const u = motion.samples[0].understood![0];
    expect(u).toMatchObject({ segment: 0, motion: 'idle', recognized: false, matched: [], confidence: 0 });
    expect(u.ignored).toEqual(['zorbulate', 'the', 'frobnicator', 'with', 'quantum', 'gusto']);
    expect(u.nearest).toHaveLength(3);
    expect(JSON.stringify(u)).not.toContain(prompt);
  });

  it('resamples to the plan fps', async () => {
    const motion = await motionOf(await adapter.advance(plan([{ type: 'text', prompt: 'run', frames: 48, seed: 2 }], 1, 24), {}, ctx));
    expect(motion.samples[0].segments[0]).toMatchObject({ fps: 24, numFrames: 48 });
  });

  it('refuses segment types it does not support before any work', async () => {
    const p = plan([{ type: 'video_reference', frames: 30, seed: 1 }]);
    await expect(adapter.start(p)).rejects.toBeInstanceOf(GatewayError);
    await expect(adapter.start(p)).rejects.toMatchObject({ code: 'unsupported_segment' });
  });

  // How fast this runs is measured by bench/motion.ts (`npm run bench`).
  it('generates a 10 s, 8-sample request: eight 300-frame clips of unit quaternions and finite roots per prompt', () => {
    for (const prompt of ['walk forward', 'wave hello', 'jump', 'dance']) {
      const samples = generatePlan(plan([{ type: 'text', prompt, frames: 300, seed: 3 }], 8));
      expect(samples).toHaveLength(8);
      for (const { segments: [clip] } of samples) {
        expect(clip).toMatchObject({ numFrames: 300, fps: 30, jointCount: 22 });
        expect(clip.rotations).toHaveLength(300 * 22 * 4);
        expect(clip.rootPositions).toHaveLength(300 * 3);
        expect(clip.rootPositions.every(Number.isFinite)).toBe(true);
        const r = clip.rotations;
        let worst = 0;
        for (let q = 0; q < r.length; q += 4) worst = Math.max(worst, Math.abs(r[q] ** 2 + r[q + 1] ** 2 + r[q + 2] ** 2 + r[q + 3] ** 2 - 1));
        expect(worst).toBeLessThan(1e-6);
      }
    }
  });
});
