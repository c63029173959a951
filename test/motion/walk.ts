/** Test motion for retargeting and foot planting: a walk-like clip on any humanoid, and fixture rigs with their maps. */
import { restClip } from '../../src/motion/clip.js';
import type { Clip, Skeleton } from '../../src/spec/motion.js';
import { mapHumanoid, type HumanoidMap } from '../../src/motion/humanoid.js';
import { solveTwoBone } from '../../src/motion/ik.js';
import { KNEE } from '../../src/motion/limits.js';
import { IDENTITY, qaxisAngle, qfromTo, qget, qinv, qmul, qnormalize, qset, qx, qy, vget, vnormalize, vsub, type Quat, type Vec3 } from '../../src/motion/quat.js';
import { restFloor, restPositions } from '../../src/motion/skeleton.js';
import { fixtureSkeleton, type FixtureName } from '../fixtures/skeletons/index.js';

/**
 * A walk-like clip on any humanoid: feet planted by IK during stance (so the source has clean
 * contacts), the pelvis bobbing and yawing, the spine twisting evenly, arms hanging and swinging
 * opposite to the legs with bent elbows, the head nodding.
 */
export function walkClip(s: Skeleton, map: HumanoidMap, seconds = 4, fps = 30): Clip {
  const J = s.names.length;
  const F = Math.round(seconds * fps) + 1;
  const clip = restClip(s, F, fps);
  const rest = restPositions(s);
  const floor = restFloor(s);
  const hipsRest = vget(rest, map.hips);
  const scale = (hipsRest[1] - floor) / 0.95;
  const period = 2 / 1.8;
  const stride = 0.7 * scale;
  const speed = stride / period;
  const stance = 0.6;
  const world = new Float64Array(J * 4);
  const set = new Uint8Array(J);
  const dirOf = (a: number, b: number): Vec3 => vsub(vget(rest, b), vget(rest, a));

  for (let f = 0; f < F; f++) {
    const t = f / fps;
    const phase = (2 * Math.PI * t) / period;
    set.fill(0);
    const put = (j: number | undefined, q: Quat): void => {
      if (j === undefined) return;
      qset(world, j, q);
      set[j] = 1;
    };
    const hips = qmul(qy(0.07 * Math.sin(phase)), qx(0.03));
    put(map.hips, hips);
    let w = hips;
    map.spine.forEach((j) => {
      w = qmul(w, qmul(qy(-0.05 * Math.sin(phase)), qx(0.02 * Math.cos(2 * phase))));
      put(j, w);
    });
    put(map.neck, qmul(w, qx(0.05 * Math.sin(2 * phase))));
    put(map.head, qmul(qget(world, map.neck), qx(-0.08 * Math.sin(2 * phase))));
    for (const side of ['left', 'right'] as const) {
      const S = map[side];
      const sign = side === 'left' ? 1 : -1;
      const swing = 0.35 * Math.sin(phase + (side === 'left' ? 0 : Math.PI));
      const hang = vnormalize([sign * 0.2, -1, 0]);
      const upper = qmul(qaxisAngle([1, 0, 0], -swing), qfromTo(dirOf(S.upperArm, S.forearm), hang));
      put(S.upperArm, upper);
      const fore = qmul(qaxisAngle([1, 0, 0], -swing - 0.4), qfromTo(dirOf(S.forearm, S.hand), hang));
      put(S.forearm, fore);
      put(S.hand, qmul(fore, qmul(qinv(qfromTo(dirOf(S.forearm, S.hand), hang)), qx(0.2 * Math.sin(phase)))));
    }
    // Local rotations: joints without a role follow their parent.
    for (let j = 0; j < J; j++) {
      const p = s.parents[j];
      if (!set[j]) qset(world, j, p < 0 ? IDENTITY : qget(world, p));
      qset(clip.rotations, f * J + j, qnormalize(p < 0 ? qget(world, j) : qmul(qinv(qget(world, p)), qget(world, j))));
    }
    const hipsPos: Vec3 = [
      hipsRest[0] + 0.02 * scale * Math.sin(phase),
      hipsRest[1] - 0.06 * scale + 0.015 * scale * Math.cos(2 * phase),
      hipsRest[2] + speed * t,
    ];
    let root = hipsPos;
    for (let j = map.hips; s.parents[j] >= 0; j = s.parents[j]) root = vsub(root, vget(s.offsets, j));
    clip.rootPositions.set(root, f * 3);
    // Feet: planted during stance, an arc through the swing.
    for (const side of ['left', 'right'] as const) {
      const S = map[side];
      const u = (t / period + (side === 'left' ? 0 : 0.5)) % 1;
      const cycle = Math.floor(t / period + (side === 'left' ? 0 : 0.5));
      const land = (c: number): number => speed * (c - (side === 'left' ? 0 : 0.5) + 0.3) * period;
      const ankle = vget(rest, S.foot);
      let z = land(cycle);
      let lift = 0;
      if (u >= stance) {
        const k = (u - stance) / (1 - stance);
        const e = k * k * (3 - 2 * k);
        z = land(cycle) + (land(cycle + 1) - land(cycle)) * e;
        lift = 0.06 * scale * Math.sin(Math.PI * k);
      }
      solveTwoBone(s, clip.rotations, f * J, root, { upper: S.upperLeg, mid: S.lowerLeg, end: S.foot }, [ankle[0], ankle[1] + lift, ankle[2] + z], {
        poleHint: [0, 0, 1],
        endWorldRotation: [0, 0, 0, 1],
        hinge: KNEE,
      });
    }
  }
  return clip;
}

/** A fixture rig and its humanoid map. */
export interface Rig {
  s: Skeleton;
  map: HumanoidMap;
}
export const rig = (name: FixtureName): Rig => {
  const s = fixtureSkeleton(name);
  return { s, map: mapHumanoid(s) };
};
