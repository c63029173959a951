/** Foot-skate cleanup: pin each foot during its contact runs and solve the leg with two-bone IK, blended at the ends. */
import { clipWorldPositions } from './clip.js';
import type { Clip } from '../spec/motion.js';
import { contactRuns, footContacts } from './contacts.js';
import type { HumanoidMap, HumanoidSide } from './humanoid.js';
import { solveTwoBone } from './ik.js';
import { qget, qrotate, qslerpAt, smoothstep, vnormalize, type Vec3 } from './quat.js';
import { ancestorPath, forwardKinematicsPath, restFloor, restPositions } from './skeleton.js';
import type { Skeleton } from '../spec/motion.js';

/** Frames blended at each end of a contact run. */
const BLEND = 4;

/** Horizontal ankle travel within a contact run below which the run counts as clean. */
const SKATE_TOLERANCE_M = 0.01;

export function cloneClip(clip: Clip): Clip {
  return { ...clip, rotations: clip.rotations.slice(), rootPositions: clip.rootPositions.slice() };
}

/** The horizontal forward direction of the hips at one frame (for knee pole hints). */
export function bodyForward(skeleton: Skeleton, map: HumanoidMap, clip: Clip, f: number): Vec3 {
  const J = clip.jointCount;
  const pos = new Float64Array(J * 3);
  const world = new Float64Array(J * 4);
  forwardKinematicsPath(skeleton, ancestorPath(skeleton, map.hips), clip.rotations, clip.rootPositions.subarray(f * 3, f * 3 + 3), pos, world, f * J);
  return forwardOf(world, map.hips);
}

/** The horizontal forward (+Z) direction of joint j's world rotation in `world` (J×4); +Z when it points straight up or down. */
function forwardOf(world: Float64Array, j: number): Vec3 {
  const fwd = qrotate(qget(world, j), [0, 0, 1]);
  const h = vnormalize([fwd[0], 0, fwd[2]]);
  return h[0] === 0 && h[2] === 0 ? [0, 0, 1] : h;
}

/**
 * Pins the feet of `clip` during the contact runs given by `flags` (per side: left, right; one bool per
 * frame) at the mean position of each run, solving the legs with IK and blending BLEND frames at each end.
 * Pinned ankles never go below their rest height above the floor. Returns a new clip. `positions`, when
 * given, are the world positions of `clip` (clipWorldPositions), so a caller that has them saves a pass.
 */
export function pinFeet(
  skeleton: Skeleton,
  map: HumanoidMap,
  clip: Clip,
  flags: readonly (readonly boolean[])[],
  positions?: Float64Array,
): Clip {
  const out = cloneClip(clip);
  const J = clip.jointCount;
  const F = clip.numFrames;
  const floor = restFloor(skeleton);
  const rest = restPositions(skeleton);
  // Per frame only the joints above the foot (and the hips, for the pole) are posed and solved.
  const pos = new Float64Array(J * 3);
  const world = new Float64Array(J * 4);
  const solved = new Float64Array(J * 4);
  const root = new Float64Array(3);
  const hipsPath = ancestorPath(skeleton, map.hips);
  /** Joints whose rotations an earlier side changed: world positions below them are stale. */
  const changed = new Uint8Array(J);
  let world0 = positions ?? null;
  const sides: HumanoidSide[] = [map.left, map.right];
  sides.forEach((side, k) => {
    const runs = contactRuns(flags[k] ?? []);
    if (!runs.length) return;
    const chain = { upper: side.upperLeg, mid: side.lowerLeg, end: side.foot };
    const minY = floor + (rest[side.foot * 3 + 1] - floor);
    const footPath = ancestorPath(skeleton, side.foot);
    if (!world0 || footPath.some((j) => changed[j])) world0 = clipWorldPositions(skeleton, out);
    const positions = world0;
    for (const run of runs) {
      let mx = 0, my = 0, mz = 0;
      for (let f = run.start; f <= run.end; f++) {
        const o = (f * J + side.foot) * 3;
        mx += positions[o]; my += positions[o + 1]; mz += positions[o + 2];
      }
      // A run that does not skate is left alone: pinning the ankle would break a foot rolling over its toe.
      let spread = 0;
      const first = (run.start * J + side.foot) * 3;
      for (let f = run.start + 1; f <= run.end; f++) {
        const o = (f * J + side.foot) * 3;
        spread = Math.max(spread, Math.hypot(positions[o] - positions[first], positions[o + 2] - positions[first + 2]));
      }
      if (spread < SKATE_TOLERANCE_M) continue;
      const n = run.end - run.start + 1;
      const pin: Vec3 = [mx / n, Math.max(my / n, minY), mz / n];
      const from = Math.max(0, run.start - BLEND);
      const to = Math.min(F - 1, run.end + BLEND);
      for (let f = from; f <= to; f++) {
        const w = f < run.start ? smoothstep((f - (run.start - BLEND - 1)) / (BLEND + 1))
          : f > run.end ? smoothstep(((run.end + BLEND + 1) - f) / (BLEND + 1)) : 1;
        if (w <= 0) continue;
        root.set(out.rootPositions.subarray(f * 3, f * 3 + 3));
        forwardKinematicsPath(skeleton, hipsPath, out.rotations, root, pos, world, f * J);
        forwardKinematicsPath(skeleton, footPath, out.rotations, root, pos, world, f * J);
        for (const j of footPath) solved.set(out.rotations.subarray((f * J + j) * 4, (f * J + j) * 4 + 4), j * 4);
        solveTwoBone(skeleton, solved, 0, root, chain, pin, {
          poleHint: forwardOf(world, map.hips),
          endWorldRotation: qget(world, side.foot),
        });
        for (const j of [chain.upper, chain.mid, chain.end]) {
          qslerpAt(out.rotations, (f * J + j) * 4, out.rotations, (f * J + j) * 4, solved, j * 4, w);
        }
      }
      changed[chain.upper] = changed[chain.mid] = changed[chain.end] = 1;
    }
  });
  return out;
}

/** The contact flags of both feet (left, right) of a clip. */
export function feetFlags(skeleton: Skeleton, map: HumanoidMap, clip: Clip, positions?: Float64Array): boolean[][] {
  return footContacts(skeleton, clip, [map.left.foot, map.right.foot], { worldPositions: positions });
}

/** Foot-skate cleanup on contact frames: per contact run of each foot, pin the foot at the run's mean position. */
export function cleanupFootSkate(skeleton: Skeleton, map: HumanoidMap, clip: Clip): Clip {
  if (clip.numFrames < 2) return cloneClip(clip);
  const positions = clipWorldPositions(skeleton, clip);
  return pinFeet(skeleton, map, clip, feetFlags(skeleton, map, clip, positions), positions);
}
