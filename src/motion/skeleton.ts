/** The internal skeleton: joints in parent-first order with world-axis rest offsets, and forward kinematics. */
import { IDENTITY, qnormalize, qset, qget, vget, vset } from './quat.js';
import type { Clip, Skeleton } from '../spec/motion.js';
import type { Joint } from '../spec/wire.js';

/**
 * Builds a Skeleton from wire joints that already passed topology checks (one root, parents first).
 * Rest rotations are normalized.
 */
export function skeletonFromWire(joints: readonly Joint[]): Skeleton {
  const names = joints.map((j) => j.name);
  const index = new Map(names.map((n, i) => [n, i]));
  const parents = new Int32Array(joints.length);
  const offsets = new Float64Array(joints.length * 3);
  const restRotations = new Float64Array(joints.length * 4);
  joints.forEach((j, i) => {
    parents[i] = j.parent === null ? -1 : (index.get(j.parent) ?? -1);
    vset(offsets, i, j.rest_translation);
    qset(restRotations, i, qnormalize(j.rest_rotation ?? IDENTITY));
  });
  return { names, parents, offsets, restRotations };
}

/** The wire form of a skeleton (identity rest rotations are written out explicitly). */
export function skeletonToWire(s: Skeleton): { joints: Joint[]; coordinate_system: 'right_handed_y_up'; units: 'meters' } {
  return {
    joints: s.names.map((name, i) => {
      const [x, y, z] = vget(s.offsets, i);
      const [qx, qy, qz, qw] = qget(s.restRotations, i);
      return {
        name,
        parent: s.parents[i] < 0 ? null : s.names[s.parents[i]],
        rest_translation: [round6(x), round6(y), round6(z)],
        rest_rotation: [round6(qx), round6(qy), round6(qz), round6(qw)],
      };
    }),
    coordinate_system: 'right_handed_y_up',
    units: 'meters',
  };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6 + 0; // + 0 turns -0 into 0
}

export function jointIndex(s: Skeleton, name: string): number {
  return s.names.indexOf(name);
}

/** Children of each joint. */
export function childrenOf(s: Skeleton): number[][] {
  const out: number[][] = s.names.map(() => []);
  for (let j = 1; j < s.parents.length; j++) if (s.parents[j] >= 0) out[s.parents[j]].push(j);
  return out;
}

/** World rest positions (J×3). */
export function restPositions(s: Skeleton): Float64Array {
  const out = new Float64Array(s.names.length * 3);
  const off = s.offsets;
  for (let j = 0; j < s.names.length; j++) {
    const p = s.parents[j];
    for (let k = 0; k < 3; k++) out[j * 3 + k] = p < 0 ? off[j * 3 + k] : out[p * 3 + k] + off[j * 3 + k];
  }
  return out;
}

/** Scratch world rotations for callers of forwardKinematics that do not want them (grown on demand). */
let scratchWorld = new Float64Array(0);

/**
 * Forward kinematics of one pose in the protocol's convention (local rotations measured from a
 * world-aligned rest): world[j] = world[parent]·local[j]; p[j] = p[parent] + world[parent]·offset[j].
 * `rotations` is J×4 (starting at `rotOffset` quaternions), `root` the root's world position.
 * Writes world positions (J×3) and, when given, world rotations (J×4). Allocates nothing: this runs
 * once per frame of every clip the pipeline measures.
 */
export function forwardKinematics(
  s: Skeleton,
  rotations: ArrayLike<number>,
  root: ArrayLike<number>,
  outPositions: Float64Array,
  outRotations?: Float64Array,
  rotOffset = 0,
): void {
  const J = s.names.length;
  let world = outRotations;
  if (!world) {
    if (scratchWorld.length < J * 4) scratchWorld = new Float64Array(J * 4);
    world = scratchWorld;
  }
  for (let j = 0; j < J; j++) poseJoint(s, s.offsets, j, rotations, rotOffset * 4, root, 0, outPositions, 0, world, 0);
}

/**
 * Forward kinematics of only the joints of `path` (ascending, every joint's parent included, e.g.
 * `ancestorPath`): the same arithmetic as forwardKinematics for those joints, the other slots untouched.
 */
export function forwardKinematicsPath(
  s: Skeleton,
  path: ArrayLike<number>,
  rotations: ArrayLike<number>,
  root: ArrayLike<number>,
  outPositions: Float64Array,
  outRotations: Float64Array,
  rotOffset = 0,
): void {
  for (let i = 0; i < path.length; i++) poseJoint(s, s.offsets, path[i], rotations, rotOffset * 4, root, 0, outPositions, 0, outRotations, 0);
}

/**
 * Forward kinematics of every frame of a clip (F×J): world positions into `positions` (F×J×3) and, when
 * given, world rotations into `rotations` (F×J×4). With `path` (ascending, closed under parents, e.g. a
 * union of `ancestorPath`s) only those joints are posed; the others' slots are left untouched.
 * Allocates nothing beyond the scratch it may grow.
 */
export function clipForwardKinematics(s: Skeleton, clip: Clip, positions: Float64Array, rotations?: Float64Array, path?: ArrayLike<number>): void {
  const J = s.names.length;
  // Frames are strided by the clip's joint count (the skeleton's, for any clip that fits it).
  const C = clip.jointCount;
  if (!rotations && scratchWorld.length < J * 4) scratchWorld = new Float64Array(J * 4);
  const world = rotations ?? scratchWorld;
  // Joints with animated translations (clip.jointTranslations) take their offset of the frame instead of the rest one.
  const moved = clip.jointTranslations;
  let off: Float64Array = s.offsets;
  if (moved && moved.joints.length) {
    if (scratchOffsets.length < J * 3) scratchOffsets = new Float64Array(J * 3);
    scratchOffsets.set(s.offsets.subarray(0, J * 3));
    off = scratchOffsets;
  }
  for (let f = 0; f < clip.numFrames; f++) {
    const wb = rotations ? f * C * 4 : 0;
    if (off !== s.offsets) {
      const K = moved!.joints.length;
      for (let k = 0; k < K; k++) {
        const j = moved!.joints[k] * 3;
        const src = (f * K + k) * 3;
        off[j] = moved!.offsets[src]; off[j + 1] = moved!.offsets[src + 1]; off[j + 2] = moved!.offsets[src + 2];
      }
    }
    if (path) {
      for (let i = 0; i < path.length; i++) poseJoint(s, off, path[i], clip.rotations, f * C * 4, clip.rootPositions, f * 3, positions, f * C * 3, world, wb);
    } else {
      for (let j = 0; j < J; j++) poseJoint(s, off, j, clip.rotations, f * C * 4, clip.rootPositions, f * 3, positions, f * C * 3, world, wb);
    }
  }
}

/** Scratch rest offsets with a frame's animated translations written in (grown on demand). */
let scratchOffsets = new Float64Array(0);

/** The joints of `joints` and all their ancestors, ascending (a path for clipForwardKinematics). */
export function ancestorsOf(s: Skeleton, joints: Iterable<number>): Int32Array {
  const seen = new Uint8Array(s.names.length);
  for (const j of joints) for (let k = j; k >= 0 && !seen[k]; k = s.parents[k]) seen[k] = 1;
  const out: number[] = [];
  seen.forEach((v, j) => v && out.push(j));
  return Int32Array.from(out);
}

/**
 * World rotation and position of joint j from its local rotation and its parent's (already posed) world
 * pose, its offset from the parent read from `off` (the rest offsets, or a frame's animated ones);
 * `base`, `rootBase`, `posBase` and `worldBase` are float offsets of the frame in each array.
 */
function poseJoint(
  s: Skeleton,
  off: ArrayLike<number>,
  j: number,
  rotations: ArrayLike<number>,
  base: number,
  root: ArrayLike<number>,
  rootBase: number,
  pos: Float64Array,
  posBase: number,
  world: Float64Array,
  worldBase: number,
): void {
  const r = base + j * 4;
  const bx = rotations[r], by = rotations[r + 1], bz = rotations[r + 2], bw = rotations[r + 3];
  const p = s.parents[j];
  const o = worldBase + j * 4;
  const v = posBase + j * 3;
  if (p < 0) {
    world[o] = bx; world[o + 1] = by; world[o + 2] = bz; world[o + 3] = bw;
    pos[v] = root[rootBase]; pos[v + 1] = root[rootBase + 1]; pos[v + 2] = root[rootBase + 2];
    return;
  }
  const q = worldBase + p * 4;
  const ax = world[q], ay = world[q + 1], az = world[q + 2], aw = world[q + 3];
  world[o] = aw * bx + ax * bw + ay * bz - az * by;
  world[o + 1] = aw * by - ax * bz + ay * bw + az * bx;
  world[o + 2] = aw * bz + ax * by - ay * bx + az * bw;
  world[o + 3] = aw * bw - ax * bx - ay * by - az * bz;
  // The parent's world rotation applied to the rest offset (as qrotate).
  const k = j * 3;
  const v0 = off[k], v1 = off[k + 1], v2 = off[k + 2];
  const tx = 2 * (ay * v2 - az * v1);
  const ty = 2 * (az * v0 - ax * v2);
  const tz = 2 * (ax * v1 - ay * v0);
  const pp = posBase + p * 3;
  pos[v] = pos[pp] + (v0 + aw * tx + (ay * tz - az * ty));
  pos[v + 1] = pos[pp + 1] + (v1 + aw * ty + (az * tx - ax * tz));
  pos[v + 2] = pos[pp + 2] + (v2 + aw * tz + (ax * ty - ay * tx));
}

/** Joint j and all its ancestors, root first (ascending, as joints are parent-first). */
export function ancestorPath(s: Skeleton, j: number): Int32Array {
  const up: number[] = [];
  for (let k = j; k >= 0; k = s.parents[k]) up.push(k);
  return Int32Array.from(up.reverse());
}

/** The height of the lowest joint at rest (the floor of the character). */
export function restFloor(s: Skeleton): number {
  const p = restPositions(s);
  let min = Infinity;
  for (let j = 0; j < s.names.length; j++) min = Math.min(min, p[j * 3 + 1]);
  return min;
}
