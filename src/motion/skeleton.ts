/** The internal skeleton: joints in parent-first order with world-axis rest offsets, and forward kinematics. */
import { IDENTITY, qmul, qnormalize, qrotate, qset, qget, vget, vset } from './quat.js';
import type { Skeleton } from '../spec/motion.js';
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
  for (let j = 0; j < s.names.length; j++) {
    const p = s.parents[j];
    const o = vget(s.offsets, j);
    vset(out, j, p < 0 ? o : [out[p * 3] + o[0], out[p * 3 + 1] + o[1], out[p * 3 + 2] + o[2]]);
  }
  return out;
}

/**
 * Forward kinematics of one pose in the protocol's convention (local rotations measured from a
 * world-aligned rest): world[j] = world[parent]·local[j]; p[j] = p[parent] + world[parent]·offset[j].
 * `rotations` is J×4 (starting at `rotOffset` quaternions), `root` the root's world position.
 * Writes world positions (J×3) and, when given, world rotations (J×4).
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
  const world = outRotations ?? new Float64Array(J * 4);
  for (let j = 0; j < J; j++) {
    const local = qget(rotations, rotOffset + j);
    const p = s.parents[j];
    if (p < 0) {
      qset(world, j, local);
      vset(outPositions, j, [root[0], root[1], root[2]]);
    } else {
      const wp = qget(world, p);
      qset(world, j, qmul(wp, local));
      const d = qrotate(wp, vget(s.offsets, j));
      vset(outPositions, j, [outPositions[p * 3] + d[0], outPositions[p * 3 + 1] + d[1], outPositions[p * 3 + 2] + d[2]]);
    }
  }
}

/** The height of the lowest joint at rest (the floor of the character). */
export function restFloor(s: Skeleton): number {
  const p = restPositions(s);
  let min = Infinity;
  for (let j = 0; j < s.names.length; j++) min = Math.min(min, p[j * 3 + 1]);
  return min;
}
