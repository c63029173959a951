/** Foot-skate cleanup: pin each foot during its contact runs and solve the leg with two-bone IK, blended at the ends. */
import { clipWorldPositions } from './clip.js';
import type { Clip } from '../spec/motion.js';
import { contactRuns, footContacts } from './contacts.js';
import type { HumanoidMap, HumanoidSide } from './humanoid.js';
import { solveTwoBone } from './ik.js';
import { qget, qrotate, qset, qslerp, smoothstep, vget, vnormalize, type Vec3 } from './quat.js';
import { forwardKinematics, restFloor, restPositions } from './skeleton.js';
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
  forwardKinematics(skeleton, clip.rotations, clip.rootPositions.subarray(f * 3, f * 3 + 3), pos, world, f * J);
  const fwd = qrotate(qget(world, map.hips), [0, 0, 1]);
  const h = vnormalize([fwd[0], 0, fwd[2]]);
  return h[0] === 0 && h[2] === 0 ? [0, 0, 1] : h;
}

/**
 * Pins the feet of `clip` during the contact runs given by `flags` (per side: left, right; one bool per
 * frame) at the mean position of each run, solving the legs with IK and blending BLEND frames at each end.
 * Pinned ankles never go below their rest height above the floor. Returns a new clip.
 */
export function pinFeet(skeleton: Skeleton, map: HumanoidMap, clip: Clip, flags: readonly (readonly boolean[])[]): Clip {
  const out = cloneClip(clip);
  const J = clip.jointCount;
  const F = clip.numFrames;
  const floor = restFloor(skeleton);
  const rest = restPositions(skeleton);
  const pos = new Float64Array(J * 3);
  const world = new Float64Array(J * 4);
  const sides: HumanoidSide[] = [map.left, map.right];
  sides.forEach((side, k) => {
    const runs = contactRuns(flags[k] ?? []);
    if (!runs.length) return;
    const chain = { upper: side.upperLeg, mid: side.lowerLeg, end: side.foot };
    const minY = floor + (rest[side.foot * 3 + 1] - floor);
    const positions = clipWorldPositions(skeleton, out);
    for (const run of runs) {
      let mx = 0, my = 0, mz = 0;
      for (let f = run.start; f <= run.end; f++) {
        const p = vget(positions, f * J + side.foot);
        mx += p[0]; my += p[1]; mz += p[2];
      }
      // A run that does not skate is left alone: pinning the ankle would break a foot rolling over its toe.
      let spread = 0;
      const first = vget(positions, run.start * J + side.foot);
      for (let f = run.start + 1; f <= run.end; f++) {
        const p = vget(positions, f * J + side.foot);
        spread = Math.max(spread, Math.hypot(p[0] - first[0], p[2] - first[2]));
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
        const root = out.rootPositions.subarray(f * 3, f * 3 + 3);
        forwardKinematics(skeleton, out.rotations, root, pos, world, f * J);
        const solved = out.rotations.slice(f * J * 4, (f + 1) * J * 4);
        solveTwoBone(skeleton, solved, 0, root, chain, pin, {
          poleHint: bodyForward(skeleton, map, out, f),
          endWorldRotation: qget(world, side.foot),
        });
        for (const j of [chain.upper, chain.mid, chain.end]) {
          qset(out.rotations, f * J + j, qslerp(qget(out.rotations, f * J + j), qget(solved, j), w));
        }
      }
    }
  });
  return out;
}

/** The contact flags of both feet (left, right) of a clip. */
export function feetFlags(skeleton: Skeleton, map: HumanoidMap, clip: Clip): boolean[][] {
  return footContacts(skeleton, clip, [map.left.foot, map.right.foot]);
}

/** Foot-skate cleanup on contact frames: per contact run of each foot, pin the foot at the run's mean position. */
export function cleanupFootSkate(skeleton: Skeleton, map: HumanoidMap, clip: Clip): Clip {
  if (clip.numFrames < 2) return cloneClip(clip);
  return pinFeet(skeleton, map, clip, feetFlags(skeleton, map, clip));
}
