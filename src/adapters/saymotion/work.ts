/**
 * The SayMotion adapter's CPU work, run on worker threads: decode a downloaded result file onto the
 * DeepMotion rig, and put a finished job's samples together (a text segment's chunks resampled and
 * stitched, an unconditioned segment holding its neighbour's pose). Files and clips cross by transfer.
 */
import { restClip } from '../../motion/clip.js';
import type { Clip, Motion, SampleMotion, Skeleton } from '../../spec/motion.js';
import type { GenerationPlan } from '../../spec/plan.js';
import type { SayMotionCheckpoint } from './checkpoint.js';
import { alignToCanonical, decodeResult, resampleChunk, stitchChunks, type DecodedResult } from './motion.js';
import { DEEPMOTION_SKELETON } from './rig.js';
import { frameClip, representativeFrame } from '../kit/pose-frame.js';

/** This module, as a compute task names it. */
export const SAYMOTION_WORK = import.meta.url;

/** A result file decoded and put in the canonical joint order when it is the canonical rig. */
export async function decodeAligned(input: { bytes: Uint8Array; fps: number; maxBytes: number; rid: string }): Promise<DecodedResult> {
  return alignToCanonical(await decodeResult(input.bytes, input.fps, input.maxBytes, input.rid), DEEPMOTION_SKELETON);
}

export interface AssembleInput {
  plan: GenerationPlan;
  state: SayMotionCheckpoint;
  /** Per variant, the decoded file of each unit (empty when the provider was never called). */
  results: DecodedResult[][];
}

/** The job's motion: every sample from its variant (the last variant repeated if there are fewer). */
export function assembleMotion({ plan, state, results }: AssembleInput): Motion {
  // A constraints-only request (or one of unconditioned segments only) never called the provider.
  if (results.length === 0) {
    const rest = restClip(DEEPMOTION_SKELETON, 1, plan.fps);
    const samples = Array.from({ length: plan.numSamples }, () => ({ segments: plan.segments.map((s) => repeatFrame(rest, 0, s.frames, plan.fps)) }));
    return { skeleton: DEEPMOTION_SKELETON, samples };
  }
  const skeleton = results[0][0].skeleton;
  const samples = Array.from({ length: plan.numSamples }, (_, i) => sampleOf(plan, state, skeleton, results[Math.min(i, results.length - 1)]));
  return { skeleton, samples };
}

/** One sample's clips: text segments stitched from their chunks, unconditioned ones holding the neighbouring pose. */
function sampleOf(plan: GenerationPlan, state: SayMotionCheckpoint, skeleton: Skeleton, decoded: DecodedResult[]): SampleMotion {
  const clips: Array<Clip | undefined> = [];
  const boundaries: number[][] = [];
  const poseFrames = new Map<number, { frame: number; of: number }>();
  for (const seg of plan.segments) {
    const idx = state.units.map((u, i) => (u.segment === seg.index ? i : -1)).filter((i) => i >= 0);
    if (seg.type === 'pose' && idx.length > 0) {
      // One frame: the representative frame of the short motion asked for the pose (kit/pose-frame.ts).
      const motion = resampleChunk(decoded[idx[0]].clip, plan.fps, state.units[idx[0]].frames);
      const frame = representativeFrame(motion);
      clips.push(frameClip(motion, frame, plan.fps));
      boundaries.push([]);
      poseFrames.set(seg.index, { frame, of: motion.numFrames });
      continue;
    }
    if (seg.type !== 'text' || idx.length === 0) {
      clips.push(undefined);
      boundaries.push([]);
      continue;
    }
    const chunks = idx.map((i) => resampleChunk(decoded[i].clip, plan.fps, state.units[i].frames));
    const stitched = stitchChunks(skeleton, chunks);
    clips.push(stitched.clip);
    boundaries.push(stitched.boundaries);
  }
  const segments = plan.segments.map((seg, i) => clips[i] ?? heldPose(skeleton, clips, i, seg.frames, plan.fps));
  const understood = plan.segments
    .filter((seg) => seg.type === 'text' || seg.type === 'pose')
    .map((seg) => {
      const pose = poseFrames.get(seg.index);
      const ids = { segment: seg.index, provider_job_ids: state.units.filter((u) => u.segment === seg.index).map((u) => u.rid) };
      return pose ? { ...ids, source: 'pose', pose_frame: pose.frame, pose_motion_frames: pose.of } : ids;
    });
  return { segments, chunkBoundaries: boundaries, understood };
}

/**
 * An unconditioned segment's clip: the pose the previous text segment ends in (or the next one starts
 * with) held still; the gateway's composition bridges it. The rest pose only when there is no text at all.
 */
function heldPose(skeleton: Skeleton, clips: ReadonlyArray<Clip | undefined>, i: number, frames: number, fps: number): Clip {
  for (let k = i - 1; k >= 0; k--) {
    const c = clips[k];
    if (c && c.numFrames > 0) return repeatFrame(c, c.numFrames - 1, frames, fps);
  }
  for (let k = i + 1; k < clips.length; k++) {
    const c = clips[k];
    if (c && c.numFrames > 0) return repeatFrame(c, 0, frames, fps);
  }
  return restClip(skeleton, frames, fps);
}

/** A clip holding frame `frame` of `clip` for `frames` frames. */
function repeatFrame(clip: Clip, frame: number, frames: number, fps: number): Clip {
  const J = clip.jointCount;
  const rotations = new Float64Array(frames * J * 4);
  const rootPositions = new Float64Array(frames * 3);
  const rot = clip.rotations.subarray(frame * J * 4, (frame + 1) * J * 4);
  const root = clip.rootPositions.subarray(frame * 3, frame * 3 + 3);
  for (let f = 0; f < frames; f++) {
    rotations.set(rot, f * J * 4);
    rootPositions.set(root, f * 3);
  }
  return { fps, numFrames: frames, jointCount: J, rotations, rootPositions };
}
