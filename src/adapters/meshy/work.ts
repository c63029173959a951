/**
 * The Meshy adapter's CPU work, run on a worker thread: decode each downloaded animation file, put every
 * clip on one rig, and fit each picked action to its segment (time-scaled, trimmed or looped), giving the
 * job's motion. The files arrive by transfer, not copy.
 */
import { decodeAnimationFile } from '../../motion/decode.js';
import { IDENTITY, qset } from '../../motion/quat.js';
import { GatewayError } from '../../spec/errors.js';
import type { Clip, Motion, SampleMotion, Skeleton, Understanding } from '../../spec/motion.js';
import type { GenerationPlan } from '../../spec/plan.js';
import { frameClip, POSE_MOTION_SECONDS, representativeFrame } from '../kit/pose-frame.js';
import { meshyError } from './errors.js';
import { closeLoop, fitClip, isCyclic } from './fit.js';
import type { MeshyAction } from './library.js';
import type { ChosenAction } from './select.js';

/** This module, as a compute task names it. */
export const MESHY_WORK = import.meta.url;

export interface MeshyMotionInput {
  plan: GenerationPlan;
  /** One downloaded GLB per animation task. */
  files: Array<{ actionId: number; taskId?: string; bytes: Uint8Array }>;
  /** The library entries of every action involved. */
  actions: Record<number, MeshyAction>;
  /** Per sample, the action picked for each segment (with why it was picked). */
  picks: ChosenAction[][];
  maxBytes: number;
}

/** Adds the provider's origin to an error raised while reading its file. */
function withProvider(err: GatewayError, taskId?: string): GatewayError {
  return new GatewayError(err.id, err.message, { details: { ...err.details, provider: 'meshy', ...(taskId ? { provider_job_id: taskId } : {}) }, cause: err });
}

/**
 * A clip on `target` from a clip on `source` (two files of the same rig may list joints differently):
 * joints are matched by name; joints the source lacks hold their rest pose.
 */
function conformTo(target: Skeleton, source: Skeleton, clip: Clip): Clip {
  if (target === source || (target.names.length === source.names.length && target.names.every((n, i) => n === source.names[i]))) return clip;
  const J = target.names.length;
  const from = target.names.map((n) => source.names.indexOf(n));
  const rotations = new Float64Array(clip.numFrames * J * 4);
  for (let f = 0; f < clip.numFrames; f++) {
    for (let j = 0; j < J; j++) {
      const s = from[j];
      if (s < 0) qset(rotations, f * J + j, IDENTITY);
      else rotations.set(clip.rotations.subarray((f * clip.jointCount + s) * 4, (f * clip.jointCount + s) * 4 + 4), (f * J + j) * 4);
    }
  }
  return { fps: clip.fps, numFrames: clip.numFrames, jointCount: J, rotations, rootPositions: clip.rootPositions.slice() };
}

/** The task's function: the job's motion from its files. */
export async function meshyMotion(input: MeshyMotionInput): Promise<Motion> {
  const { plan } = input;
  const clips = new Map<number, Clip>();
  let skeleton: Skeleton | undefined;
  for (const file of input.files) {
    const decoded = await decodeAnimationFile(file.bytes, { fps: plan.fps, maxBytes: input.maxBytes }).catch((err: unknown) => {
      throw err instanceof GatewayError ? withProvider(err, file.taskId) : err;
    });
    const name = input.actions[file.actionId]?.name ?? '';
    const chosen = decoded.clips.find((c) => c.name.split('|').includes(name)) ?? decoded.clips[0];
    if (!chosen || chosen.clip.numFrames < 1) {
      throw meshyError({ stage: 'download', kind: 'parse', taskId: file.taskId, message: 'the animation file has no animation' });
    }
    skeleton ??= decoded.skeleton;
    clips.set(file.actionId, conformTo(skeleton, decoded.skeleton, chosen.clip));
  }
  const samples = input.picks.map((picks): SampleMotion => {
    const understood: Understanding[] = [];
    const segments = picks.map((pick, i) => {
      const action = input.actions[pick.action_id];
      if (plan.segments[i].type === 'pose') {
        // A pose: the action fitted to a short motion, answered by its representative frame.
        const { clip, fit } = fitClip(clips.get(pick.action_id)!, Math.max(2, Math.round(POSE_MOTION_SECONDS * plan.fps)), isCyclic(action));
        const frame = representativeFrame(clip);
        understood.push({ segment: i, ...pick, category: action.category, subcategory: action.subcategory, fit: fit.mode, rate: fit.rate, clip_seconds: fit.clip_seconds, source: 'pose', pose_frame: frame, pose_motion_frames: clip.numFrames });
        return frameClip(clip, frame, plan.fps);
      }
      const { clip, fit } = fitClip(clips.get(pick.action_id)!, plan.segments[i].frames, isCyclic(action));
      understood.push({ segment: i, ...pick, category: action.category, subcategory: action.subcategory, fit: fit.mode, rate: fit.rate, clip_seconds: fit.clip_seconds });
      return plan.loop ? closeLoop(clip) : clip;
    });
    return { segments, understood };
  });
  return { skeleton: skeleton!, samples };
}
