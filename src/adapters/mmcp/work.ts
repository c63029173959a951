/**
 * The mmcp adapter's CPU work, run on worker threads: an upstream's glTF answer (one animation per
 * sample, on the upstream model's canonical skeleton) decoded and cut into one clip per planned segment.
 */
import { decodeAnimationFile } from '../../motion/decode.js';
import { GatewayError } from '../../spec/errors.js';
import type { Clip, Motion } from '../../spec/motion.js';

/** This module, as a compute task names it. */
export const MMCP_WORK = import.meta.url;

export interface UpstreamMotionInput {
  provider: string;
  /** The upstream job's id, for the error details (absent for a synchronous answer). */
  upstreamJobId?: string;
  /** The answer (GLB or glTF JSON); transferred to the worker. */
  bytes: Uint8Array;
  fps: number;
  maxBytes: number;
  numSamples: number;
  /** The planned segments' places on the global timeline. */
  segments: Array<{ startFrame: number; frames: number }>;
}

/** The job's motion from the upstream's answer: sample i from the animation `sample_i` (else the i-th). */
export async function upstreamMotion(input: UpstreamMotionInput): Promise<Motion> {
  let decoded;
  try {
    decoded = await decodeAnimationFile(input.bytes, { fps: input.fps, maxBytes: input.maxBytes });
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    throw new GatewayError(err.id, `${input.provider}: ${err.message}`, { details: { ...err.details, ...origin(input) }, cause: err });
  }
  const animated = decoded.clips.filter((c) => c.clip.numFrames > 0);
  if (animated.length === 0) {
    throw new GatewayError('MG-PRV-502', `${input.provider}: the upstream's answer has no animation.`, { details: { reason: 'no_animation', ...origin(input) } });
  }
  const byName = new Map(animated.map((c) => [c.name, c.clip]));
  const samples = Array.from({ length: input.numSamples }, (_, i) => {
    // An upstream that answers fewer samples than asked: the last one stands in for the rest.
    const clip = byName.get(`sample_${i}`) ?? animated[Math.min(i, animated.length - 1)].clip;
    return { segments: input.segments.map((s) => frames(clip, s.startFrame, s.frames)) };
  });
  return { skeleton: decoded.skeleton, samples };
}

function origin(input: UpstreamMotionInput): Record<string, unknown> {
  return { provider: input.provider, ...(input.upstreamJobId ? { provider_job_id: input.upstreamJobId } : {}) };
}

/** Frames [start, start + count) of a clip; frames past its end hold its last pose (a clip a frame short). */
function frames(clip: Clip, start: number, count: number): Clip {
  const J = clip.jointCount;
  const rotations = new Float64Array(count * J * 4);
  const rootPositions = new Float64Array(count * 3);
  for (let f = 0; f < count; f++) {
    const src = Math.min(start + f, clip.numFrames - 1);
    rotations.set(clip.rotations.subarray(src * J * 4, (src + 1) * J * 4), f * J * 4);
    rootPositions.set(clip.rootPositions.subarray(src * 3, src * 3 + 3), f * 3);
  }
  return { fps: clip.fps, numFrames: count, jointCount: J, rotations, rootPositions };
}
