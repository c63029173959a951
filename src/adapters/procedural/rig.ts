/** The procedural model's canonical skeleton: a 22-joint, 1.75 m humanoid in a standing T-pose, facing +Z with its left at +X. */
import { vget, type Vec3 } from '../../motion/quat.js';
import { skeletonFromWire, skeletonToWire } from '../../motion/skeleton.js';
import type { Skeleton } from '../../spec/motion.js';
import { type Joint as WireJoint } from '../../spec/wire.js';
import type { Skeleton as WireSkeleton } from '../../spec/wire.js';

/**
 * Rest offsets (joint minus parent, world axes, metres). Lengths follow average adult proportions for a
 * 1.75 m stature: hips 0.953 m, shoulders 1.44 m, head joint 1.60 m (the crown is about 0.15 m higher),
 * thigh 0.422 m, shin 0.406 m, ankle 0.078 m above the floor, toes 0.13 m ahead of the ankle.
 * The vertical leg offsets are multiples of 1/64 m so the toes land at exactly y = 0 in floating point
 * (0.95 − 0.05 − 0.42 − 0.40 − 0.08 is −1e−16 in doubles; clients check "lowest joint at y = 0").
 */
const JOINTS: readonly WireJoint[] = [
  { name: 'Hips', parent: null, rest_translation: [0, 0.953125, 0] },
  { name: 'Spine', parent: 'Hips', rest_translation: [0, 0.096875, 0] },
  { name: 'Spine1', parent: 'Spine', rest_translation: [0, 0.12, 0] },
  { name: 'Spine2', parent: 'Spine1', rest_translation: [0, 0.13, 0] },
  { name: 'Neck', parent: 'Spine2', rest_translation: [0, 0.2, 0] },
  { name: 'Head', parent: 'Neck', rest_translation: [0, 0.1, 0] },
  { name: 'LeftShoulder', parent: 'Spine2', rest_translation: [0.04, 0.14, 0] },
  { name: 'LeftArm', parent: 'LeftShoulder', rest_translation: [0.14, 0, 0] },
  { name: 'LeftForeArm', parent: 'LeftArm', rest_translation: [0.28, 0, 0] },
  { name: 'LeftHand', parent: 'LeftForeArm', rest_translation: [0.25, 0, 0] },
  { name: 'RightShoulder', parent: 'Spine2', rest_translation: [-0.04, 0.14, 0] },
  { name: 'RightArm', parent: 'RightShoulder', rest_translation: [-0.14, 0, 0] },
  { name: 'RightForeArm', parent: 'RightArm', rest_translation: [-0.28, 0, 0] },
  { name: 'RightHand', parent: 'RightForeArm', rest_translation: [-0.25, 0, 0] },
  { name: 'LeftUpLeg', parent: 'Hips', rest_translation: [0.09, -0.046875, 0] },
  { name: 'LeftLeg', parent: 'LeftUpLeg', rest_translation: [0, -0.421875, 0] },
  { name: 'LeftFoot', parent: 'LeftLeg', rest_translation: [0, -0.40625, 0] },
  { name: 'LeftToeBase', parent: 'LeftFoot', rest_translation: [0, -0.078125, 0.13] },
  { name: 'RightUpLeg', parent: 'Hips', rest_translation: [-0.09, -0.046875, 0] },
  { name: 'RightLeg', parent: 'RightUpLeg', rest_translation: [0, -0.421875, 0] },
  { name: 'RightFoot', parent: 'RightLeg', rest_translation: [0, -0.40625, 0] },
  { name: 'RightToeBase', parent: 'RightFoot', rest_translation: [0, -0.078125, 0.13] },
];

/** Joint indices by name (parents first, as in the skeleton). */
export const JOINT = {
  Hips: 0,
  Spine: 1,
  Spine1: 2,
  Spine2: 3,
  Neck: 4,
  Head: 5,
  LeftShoulder: 6,
  LeftArm: 7,
  LeftForeArm: 8,
  LeftHand: 9,
  RightShoulder: 10,
  RightArm: 11,
  RightForeArm: 12,
  RightHand: 13,
  LeftUpLeg: 14,
  LeftLeg: 15,
  LeftFoot: 16,
  LeftToeBase: 17,
  RightUpLeg: 18,
  RightLeg: 19,
  RightFoot: 20,
  RightToeBase: 21,
} as const;

export const JOINT_COUNT = JOINTS.length;

/** The joints that touch the ground; the model predicts their contacts. */
export const CONTACT_JOINTS = ['LeftFoot', 'LeftToeBase', 'RightFoot', 'RightToeBase'] as const;

/** Per side (0 = left, 1 = right): the leg and arm chains. */
export const LEG = [
  { upper: JOINT.LeftUpLeg, mid: JOINT.LeftLeg, end: JOINT.LeftFoot, toe: JOINT.LeftToeBase },
  { upper: JOINT.RightUpLeg, mid: JOINT.RightLeg, end: JOINT.RightFoot, toe: JOINT.RightToeBase },
] as const;
export const ARM = [
  { shoulder: JOINT.LeftShoulder, upper: JOINT.LeftArm, mid: JOINT.LeftForeArm, end: JOINT.LeftHand },
  { shoulder: JOINT.RightShoulder, upper: JOINT.RightArm, mid: JOINT.RightForeArm, end: JOINT.RightHand },
] as const;

/** The internal skeleton the generators animate. */
export const PROCEDURAL_SKELETON: Skeleton = skeletonFromWire(JOINTS);

/** The wire form advertised as `canonical_skeleton` (a fresh copy per call, so callers may mutate it). */
export function proceduralSkeletonWire(): WireSkeleton {
  return skeletonToWire(PROCEDURAL_SKELETON) as WireSkeleton;
}

const offset = (j: number): Vec3 => vget(PROCEDURAL_SKELETON.offsets, j);

/** Rest geometry the generators plan with (metres), read off the skeleton so the two never disagree. */
export const REST = {
  hipsHeight: offset(JOINT.Hips)[1],
  /** Ankle joint height above the floor with the foot flat. */
  ankleHeight: -offset(JOINT.LeftToeBase)[1],
  /** Half the distance between the ankles at rest. */
  footWidth: offset(JOINT.LeftUpLeg)[0],
  /** Hip joint (UpLeg) relative to the Hips joint, for the left side. */
  hipOffset: offset(JOINT.LeftUpLeg),
  /** Hip joint to ankle with the leg straight. */
  legLength: -offset(JOINT.LeftLeg)[1] - offset(JOINT.LeftFoot)[1],
  /** Toe joint relative to the ankle with the foot flat. */
  toeOffset: offset(JOINT.LeftToeBase),
} as const;
