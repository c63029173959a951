/** Measurements the procedural-model tests share: world positions by forward kinematics, drift during contact, headings. */
import { clipWorldPositions } from '../../../src/motion/clip.js';
import type { Clip } from '../../../src/spec/motion.js';
import { qget, qrotate, qyaw } from '../../../src/motion/quat.js';
import { JOINT, PROCEDURAL_SKELETON } from '../../../src/adapters/procedural/rig.js';

export const CONTACT_INDEX = [JOINT.LeftFoot, JOINT.LeftToeBase, JOINT.RightFoot, JOINT.RightToeBase] as const;

export interface Positions {
  frames: number;
  at(f: number, joint: number): [number, number, number];
}

export function positions(clip: Clip): Positions {
  const P = clipWorldPositions(PROCEDURAL_SKELETON, clip);
  const J = clip.jointCount;
  return {
    frames: clip.numFrames,
    at: (f, j) => [P[(f * J + j) * 3], P[(f * J + j) * 3 + 1], P[(f * J + j) * 3 + 2]],
  };
}

/** Runs of consecutive frames where `flag(f)` holds: [first, last] inclusive. */
export function runs(frames: number, flag: (f: number) => boolean): [number, number][] {
  const out: [number, number][] = [];
  let start = -1;
  for (let f = 0; f <= frames; f++) {
    const on = f < frames && flag(f);
    if (on && start < 0) start = f;
    if (!on && start >= 0) {
      out.push([start, f - 1]);
      start = -1;
    }
  }
  return out;
}

/** Largest distance a joint moves from where it was at the start of each run. */
export function maxDrift(pos: Positions, joint: number, spans: [number, number][]): number {
  let worst = 0;
  for (const [a, b] of spans) {
    const p0 = pos.at(a, joint);
    for (let f = a; f <= b; f++) {
      const p = pos.at(f, joint);
      worst = Math.max(worst, Math.hypot(p[0] - p0[0], p[1] - p0[1], p[2] - p0[2]));
    }
  }
  return worst;
}

/** Generator contact flag of contact joint k (0 LeftFoot, 1 LeftToeBase, 2 RightFoot, 3 RightToeBase) at frame f. */
export const inContact = (contacts: Uint8Array, k: number) => (f: number) => contacts[f * 4 + k] === 1;

/** Lowest joint height over the whole clip. */
export function lowestJoint(pos: Positions, jointCount: number): number {
  let min = Infinity;
  for (let f = 0; f < pos.frames; f++) for (let j = 0; j < jointCount; j++) min = Math.min(min, pos.at(f, j)[1]);
  return min;
}

/** Heading of the root at frame f (qyaw: 0 faces +Z, + turns toward +X). */
export function rootYaw(clip: Clip, f: number): number {
  return qyaw(qget(clip.rotations, f * clip.jointCount));
}

/** The root's facing direction at frame f. */
export function rootForward(clip: Clip, f: number): [number, number, number] {
  return qrotate(qget(clip.rotations, f * clip.jointCount), [0, 0, 1]);
}

export function correlation(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  const ma = a.reduce((s, x) => s + x, 0) / n;
  const mb = b.reduce((s, x) => s + x, 0) / n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}
