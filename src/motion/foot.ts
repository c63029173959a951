/**
 * The foot model's geometry: the points of each foot that can touch the floor (heel, ball, toe tip),
 * read off any rig's rest pose, and their world positions in any posed frame. Generation, cleanup,
 * retargeting and the quality measurements all ask these points, never the ankle, where the foot is.
 *
 * Each point is the floor projection of a place on the foot at rest (the sole under the heel, under
 * the ball joint, under the tip of the toes), carried rigidly by the joint it belongs to: the heel and
 * the ball by the foot (ankle) joint, the toe tip by the toe joint when the rig has one.
 */
import type { Skeleton } from '../spec/motion.js';
import type { HumanoidMap, HumanoidSide } from './humanoid.js';
import { childrenOf, restFloor, restPositions } from './skeleton.js';
import { hypot2 } from './quat.js';

export const FOOT_POINT_NAMES = ['heel', 'ball', 'toe'] as const;
export type FootPointName = (typeof FOOT_POINT_NAMES)[number];

/** One sole point: the joint that carries it and its rest offset from that joint (world axes). */
export interface FootPoint {
  name: FootPointName;
  joint: number;
  offset: readonly [number, number, number];
}

/** The sole points of both feet, and the floor height they stand on at rest. */
export interface FootModel {
  /** Left then right; per side heel, ball, toe (FOOT_POINT_NAMES order). */
  sides: readonly [readonly FootPoint[], readonly FootPoint[]];
  /** Height of the floor under the rest pose (y of every sole point at rest). */
  floor: number;
  /** Horizontal heel-to-toe-tip length of each foot at rest (metres). */
  length: readonly [number, number];
}

/** Proportions of a human foot, as fractions of the ankle-to-ball horizontal distance. */
const HEEL_BEHIND_ANKLE = 0.4;
const TOES_AHEAD_OF_BALL = 0.45;
/** Ankle to ball of the foot as a fraction of standing height, for rigs without a toe joint. */
const BALL_OF_HEIGHT = 0.075;
/** A lowest joint this close above y = 0 (fraction of height) stands on y = 0: the sole is below the joints. */
const SOLE_BELOW_JOINTS = 0.12;

/**
 * The floor a rig stands on at rest: y = 0 when its lowest joint is at or a little above 0 (a sole
 * below the foot joints), otherwise the lowest joint itself (rigs modelled away from the origin).
 */
function restSoleFloor(s: Skeleton): number {
  const rest = restPositions(s);
  let top = -Infinity;
  for (let j = 0; j < s.names.length; j++) top = Math.max(top, rest[j * 3 + 1]);
  const low = restFloor(s);
  const height = Math.max(top - low, 1e-6);
  return low >= 0 && low <= SOLE_BELOW_JOINTS * height ? 0 : low;
}

function sidePoints(rest: Float64Array, kids: number[][], side: HumanoidSide, floor: number, height: number): { points: FootPoint[]; length: number } {
  const a = side.foot;
  const ax = rest[a * 3], az = rest[a * 3 + 2];
  let bx: number, bz: number;
  let fx = 0, fz = 1;
  if (side.toe !== undefined) {
    bx = rest[side.toe * 3];
    bz = rest[side.toe * 3 + 2];
    const h = hypot2(bx - ax, bz - az);
    if (h > 1e-4) { fx = (bx - ax) / h; fz = (bz - az) / h; }
  } else {
    bx = ax;
    bz = az + BALL_OF_HEIGHT * height;
  }
  const toBall = Math.max(hypot2(bx - ax, bz - az), 0.02 * height);
  if (side.toe === undefined) { bx = ax + fx * toBall; bz = az + fz * toBall; }
  // The toe tip: the toe joint's own child when the rig has one ahead of it, else human proportions.
  let tip = TOES_AHEAD_OF_BALL * toBall;
  if (side.toe !== undefined) {
    for (const c of kids[side.toe]) {
      const ahead = (rest[c * 3] - bx) * fx + (rest[c * 3 + 2] - bz) * fz;
      if (ahead > 0.2 * tip && ahead < 3 * tip) { tip = ahead; break; }
    }
  }
  const heel = HEEL_BEHIND_ANKLE * toBall;
  const tipJoint = side.toe ?? a;
  const at = (j: number, x: number, z: number): [number, number, number] => [x - rest[j * 3], floor - rest[j * 3 + 1], z - rest[j * 3 + 2]];
  return {
    points: [
      { name: 'heel', joint: a, offset: at(a, ax - fx * heel, az - fz * heel) },
      { name: 'ball', joint: a, offset: at(a, bx, bz) },
      { name: 'toe', joint: tipJoint, offset: at(tipJoint, bx + fx * tip, bz + fz * tip) },
    ],
    length: heel + toBall + tip,
  };
}

/** The sole points of a mapped humanoid's feet, from its rest pose. */
export function footModel(s: Skeleton, map: HumanoidMap): FootModel {
  const rest = restPositions(s);
  const kids = childrenOf(s);
  let top = -Infinity;
  for (let j = 0; j < s.names.length; j++) top = Math.max(top, rest[j * 3 + 1]);
  const floor = restSoleFloor(s);
  const height = Math.max(top - floor, 1e-6);
  const l = sidePoints(rest, kids, map.left, floor, height);
  const r = sidePoints(rest, kids, map.right, floor, height);
  return { sides: [l.points, r.points], floor, length: [l.length, r.length] };
}

/**
 * World position of sole point `p` in frame `f`, from a clip's world positions (F×J×3) and world
 * rotations (F×J×4) as clipForwardKinematics writes them; into `out` at `o`. Allocates nothing.
 */
export function footPointAt(p: FootPoint, J: number, positions: ArrayLike<number>, rotations: ArrayLike<number>, f: number, out: Float64Array, o = 0): void {
  const q = (f * J + p.joint) * 4;
  const x = rotations[q], y = rotations[q + 1], z = rotations[q + 2], w = rotations[q + 3];
  const vx = p.offset[0], vy = p.offset[1], vz = p.offset[2];
  const tx = 2 * (y * vz - z * vy);
  const ty = 2 * (z * vx - x * vz);
  const tz = 2 * (x * vy - y * vx);
  const b = (f * J + p.joint) * 3;
  out[o] = positions[b] + vx + w * tx + (y * tz - z * ty);
  out[o + 1] = positions[b + 1] + vy + w * ty + (z * tx - x * tz);
  out[o + 2] = positions[b + 2] + vz + w * tz + (x * ty - y * tx);
}
