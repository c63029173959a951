/**
 * Foot-skate cleanup on the foot model: contacts detected per sole point (heel, ball, toe tip) of the
 * clip itself, each planted point held still on the floor while it is down, the foot rolling heel →
 * flat → ball → toe, no sole point under the floor, and the legs solved by two-bone IK with hinged
 * knees (./plant.ts plantSoles).
 */
import type { Clip } from '../spec/motion.js';
import { footModel } from './foot.js';
import type { HumanoidMap } from './humanoid.js';
import { legPose, plantSoles, soleContacts, type SoleContacts } from './plant.js';
import { qget, qrotate, vnormalize, type Vec3 } from './quat.js';
import { ancestorPath, forwardKinematicsPath } from './skeleton.js';
import type { Skeleton } from '../spec/motion.js';

export function cloneClip(clip: Clip): Clip {
  return { ...clip, rotations: clip.rotations.slice(), rootPositions: clip.rootPositions.slice() };
}

/** The horizontal forward direction of the hips at one frame (for knee and elbow pole hints). */
export function bodyForward(skeleton: Skeleton, map: HumanoidMap, clip: Clip, f: number): Vec3 {
  const J = clip.jointCount;
  const pos = new Float64Array(J * 3);
  const world = new Float64Array(J * 4);
  forwardKinematicsPath(skeleton, ancestorPath(skeleton, map.hips), clip.rotations, clip.rootPositions.subarray(f * 3, f * 3 + 3), pos, world, f * J);
  const fwd = qrotate(qget(world, map.hips), [0, 0, 1]);
  const h = vnormalize([fwd[0], 0, fwd[2]]);
  return h[0] === 0 && h[2] === 0 ? [0, 0, 1] : h;
}

/** The sole contacts (per side, per point) of a clip, from its own pose. */
export function feetContacts(skeleton: Skeleton, map: HumanoidMap, clip: Clip): SoleContacts {
  return soleContacts(skeleton, map, clip, legPose(skeleton, map, clip));
}

/**
 * Plants the feet of `clip` on the given sole contacts (e.g. detected before an edit of the clip moved
 * the body). Returns a new clip.
 */
export function pinFeet(skeleton: Skeleton, map: HumanoidMap, clip: Clip, contacts: SoleContacts): Clip {
  const out = cloneClip(clip);
  plantSoles(skeleton, map, out, contacts);
  return out;
}

/** Foot-skate cleanup: the clip's own sole contacts planted (see the module comment). Returns a new clip. */
export function cleanupFootSkate(skeleton: Skeleton, map: HumanoidMap, clip: Clip): Clip {
  const out = cloneClip(clip);
  if (clip.numFrames < 1) return out;
  const fm = footModel(skeleton, map);
  const pose = legPose(skeleton, map, clip);
  plantSoles(skeleton, map, out, soleContacts(skeleton, map, clip, pose, fm), {}, pose, fm);
  return out;
}
