/** The motion data type every adapter returns and the pipeline transforms: dense frames on one skeleton. */
import { clipForwardKinematics } from './skeleton.js';
import type { Clip, Skeleton } from '../spec/motion.js';
import { IDENTITY, qset } from './quat.js';

/** A clip holding the rest pose, the root at its rest position. */
export function restClip(s: Skeleton, numFrames: number, fps: number): Clip {
  const J = s.names.length;
  const rotations = new Float64Array(numFrames * J * 4);
  for (let i = 0; i < numFrames * J; i++) qset(rotations, i, IDENTITY);
  const rootPositions = new Float64Array(numFrames * 3);
  for (let f = 0; f < numFrames; f++) rootPositions.set(s.offsets.subarray(0, 3), f * 3);
  return { fps, numFrames, jointCount: J, rotations, rootPositions };
}

/** An empty clip of the given size (all zeros: fill every frame before use). */
export function allocClip(jointCount: number, numFrames: number, fps: number): Clip {
  return {
    fps,
    numFrames,
    jointCount,
    rotations: new Float64Array(numFrames * jointCount * 4),
    rootPositions: new Float64Array(numFrames * 3),
  };
}

/** World joint positions of every frame, [frame][joint][x,y,z]. */
export function clipWorldPositions(s: Skeleton, clip: Clip): Float64Array {
  const out = new Float64Array(clip.numFrames * clip.jointCount * 3);
  clipForwardKinematics(s, clip, out);
  return out;
}
