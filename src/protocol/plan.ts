/** Turns a validated request into the GenerationPlan adapters and the motion pipeline work from. */
import { createHash, randomInt } from 'node:crypto';
import type { GenerationPlan, PlannedReference, PlannedSegment } from '../spec/plan.js';
import type { ModelCapabilities as ModelCapabilities } from '../spec/wire.js';
import type { Constraint, GenerateRequest, MotionReferenceSegment } from '../spec/wire.js';
import { segmentFrames } from './frames.js';

/** A fresh seed for requests that do not give one (stored with the job, so a resumed job is the same job). */
export function drawSeed(): number {
  return randomInt(0, 2 ** 31);
}

/** A deterministic seed derived from a parent seed and a path of labels (e.g. segment index, sample index). */
function deriveSeed(seed: number, ...parts: Array<string | number>): number {
  const h = createHash('sha256').update([seed, ...parts].join('/')).digest();
  return h.readUInt32LE(0) & 0x7fffffff;
}

/** A validated motion_reference segment in the plan's typed form. */
function plannedReference(s: MotionReferenceSegment): PlannedReference {
  const T = s.rotations.length;
  const J = s.joint_names.length;
  const rotations = new Float64Array(T * J * 4);
  const rootPositions = new Float64Array(T * 3);
  for (let t = 0; t < T; t++) {
    const frame = s.rotations[t];
    for (let j = 0; j < J; j++) rotations.set(frame[j], (t * J + j) * 4);
    rootPositions.set(s.root_positions[t], t * 3);
  }
  return {
    jointNames: [...s.joint_names],
    frameCount: T,
    fps: s.fps,
    rotations,
    rootPositions,
    ...(s.skeleton ? { skeleton: s.skeleton.joints.map((j) => ({ ...j })) } : {}),
  };
}

/** The ground profile of each ground_height constraint: n × [x, z, height] in the order given; undefined when none. */
function plannedGround(constraints: readonly Constraint[]): Float64Array[] | undefined {
  const profiles: Float64Array[] = [];
  for (const c of constraints) {
    if (c.type !== 'ground_height') continue;
    const out = new Float64Array(c.points.length * 3);
    c.points.forEach((p, i) => out.set(p, i * 3));
    profiles.push(out);
  }
  return profiles.length ? profiles : undefined;
}

export function buildPlan(request: GenerateRequest, model: ModelCapabilities, provider: string, seed: number, ignoredFields: string[] = []): GenerationPlan {
  const fps = request.timing?.fps ?? model.fps;
  const options = request.options ?? {};
  const segments: PlannedSegment[] = [];
  let start = 0;
  const wireSegments = request.segments ?? [];
  if (wireSegments.length === 0) {
    segments.push({ index: 0, type: 'unconditioned', startFrame: 0, frames: request.duration_frames!, seconds: request.duration_frames! / fps, seed: deriveSeed(seed, 0) });
  }
  for (const [index, s] of wireSegments.entries()) {
    const frames = segmentFrames(s);
    const own = 'seed' in s && typeof s.seed === 'number' && model.supports_segment_seed ? s.seed : undefined;
    segments.push({
      index,
      type: s.type,
      prompt: 'prompt' in s ? s.prompt : undefined,
      language: 'language' in s ? (s.language ?? 'en') : undefined,
      startFrame: start,
      frames,
      seconds: frames / fps,
      seed: own ?? deriveSeed(seed, index),
      ...(s.type === 'motion_reference' ? { reference: plannedReference(s) } : {}),
    });
    start += frames;
  }
  const ext = request.extensions?.[provider];
  const groundProfiles = plannedGround(request.constraints ?? []);
  return {
    request,
    model,
    fps,
    totalFrames: segments.reduce((n, s) => n + s.frames, 0),
    segments,
    constraints: request.constraints ?? [],
    ...(groundProfiles ? { groundProfiles } : {}),
    ...(ignoredFields.length ? { ignoredFields: [...ignoredFields] } : {}),
    numSamples: options.num_samples ?? 1,
    seed,
    seeded: typeof options.seed === 'number',
    transitionFrames: options.transition_frames ?? 5,
    postProcessing: options.post_processing ?? true,
    loop: options.loop ?? false,
    extensions: ext && typeof ext === 'object' ? (ext as Record<string, unknown>) : {},
  };
}

/**
 * The request with defaults made explicit, so equivalent requests share a result-cache key
 * (e.g. an omitted num_samples and num_samples: 1).
 */
export function normalizedRequest(request: GenerateRequest, model: ModelCapabilities): Record<string, unknown> {
  const o = request.options ?? {};
  return {
    ...request,
    protocol_version: request.protocol_version.split('.')[0],
    segments: request.segments ?? [],
    constraints: request.constraints ?? [],
    timing: { fps: request.timing?.fps ?? model.fps },
    options: {
      diffusion_steps: o.diffusion_steps ?? 100,
      num_samples: o.num_samples ?? 1,
      seed: o.seed ?? null,
      post_processing: o.post_processing ?? true,
      transition_frames: o.transition_frames ?? 5,
      guidance: o.guidance ?? null,
      loop: o.loop ?? false,
    },
  };
}
