/** Foot re-planting after retargeting (src/motion/plant.ts), checked through retarget() on a synthetic walk. */
import { describe, expect, it } from 'vitest';
import { clipWorldPositions } from '../../src/motion/clip.js';
import { contactRuns, footContacts } from '../../src/motion/contacts.js';
import { vget, vlen, vsub } from '../../src/motion/quat.js';
import { restFloor, restPositions } from '../../src/motion/skeleton.js';
import { retarget } from '../../src/motion/retarget.js';
import type { HumanoidMap } from '../../src/motion/humanoid.js';
import { KNEE, hingeFlexion, hingeFrame, offHingeAngle } from '../../src/motion/limits.js';
import { legPose, soleContacts, soleDrift } from '../../src/motion/plant.js';
import type { Clip, Skeleton } from '../../src/spec/motion.js';

const DEG = Math.PI / 180;
import { rig, walkClip } from './walk.js';

describe('the synthetic walk', () => {
  it('has planted feet in stance (a sound source for the planting tests)', () => {
    const { s, map } = rig('mixamo');
    const clip = walkClip(s, map);
    const flags = footContacts(s, clip, [map.left.foot, map.right.foot]);
    const world = clipWorldPositions(s, clip);
    for (const [i, foot] of [map.left.foot, map.right.foot].entries()) {
      const runs = contactRuns(flags[i]);
      expect(runs.length).toBeGreaterThanOrEqual(3);
      for (const run of runs) {
        const first = vget(world, run.start * s.names.length + foot);
        // Exactly still in stance; the detector may add a frame of lift-off or landing at either end.
        for (let f = run.start; f <= run.end; f++) expect(vlen(vsub(vget(world, f * s.names.length + foot), first))).toBeLessThan(0.025);
      }
    }
  });
});

describe('retarget re-plants the feet', () => {
  for (const [a, b] of [['mixamo', 'ue5'], ['ue5', 'vrm'], ['smpl', 'character1'], ['cmu', 'nameless'], ['deepmotion', 'meshy']] as const) {
    it(`keeps feet on the floor and planted feet planted, ${a} → ${b}`, () => {
      const A = rig(a);
      const B = rig(b);
      const clip = walkClip(A.s, A.map);
      const out = retarget(A.s, A.map, clip, B.s, B.map).clip;
      const flags = footContacts(A.s, clip, [A.map.left.foot, A.map.right.foot]);
      const world = clipWorldPositions(B.s, out);
      const J = B.s.names.length;
      const rest = restPositions(B.s);
      const floor = restFloor(B.s);
      let runsChecked = 0;
      for (const [i, side] of (['left', 'right'] as const).entries()) {
        const foot = B.map[side].foot;
        for (const run of contactRuns(flags[i])) {
          const first = vget(world, run.start * J + foot);
          for (let f = run.start; f <= run.end; f++) expect(vlen(vsub(vget(world, f * J + foot), first))).toBeLessThan(0.02);
          runsChecked++;
        }
        // No penetration: the foot and its toes never sink below their rest heights, nothing below the floor.
        for (let f = 0; f < out.numFrames; f++) {
          for (const j of [foot, B.map[side].toe].filter((x): x is number => x !== undefined)) {
            expect(world[(f * J + j) * 3 + 1]).toBeGreaterThan(rest[j * 3 + 1] - 0.002);
          }
        }
      }
      expect(runsChecked).toBeGreaterThanOrEqual(6);
      // Nothing of the body sinks below the floor (a root above the hips, like UE5's, bobs with them).
      const body = B.s.names.map((_, j) => j).filter((j) => {
        for (let k = j; k >= 0; k = B.s.parents[k]) if (k === B.map.hips) return true;
        return false;
      });
      let lowest = Infinity;
      for (let f = 0; f < out.numFrames; f++) for (const j of body) lowest = Math.min(lowest, world[(f * J + j) * 3 + 1]);
      expect(lowest).toBeGreaterThan(floor - 0.002);
    });
  }
});

describe('retarget re-plants on the foot model', () => {
  /** Knee flexion (deg) per frame of one side, from its hinge. */
  const flexion = (s: Skeleton, map: HumanoidMap, clip: Clip, side: 'left' | 'right'): number[] => {
    const S = map[side];
    const hf = hingeFrame(s, S.upperLeg, S.lowerLeg, S.foot, KNEE);
    const J = s.names.length;
    return Array.from({ length: clip.numFrames }, (_, f) => (hingeFlexion(clip.rotations, (f * J + S.lowerLeg) * 4, hf.axis) + hf.restFlexion) / DEG);
  };

  for (const [a, b] of [['mixamo', 'ue5'], ['smpl', 'rigify'], ['tPose', 'aPose'], ['vrm', 'character1'], ['cmu', 'nameless']] as const) {
    it(`holds the source's planted sole points still on the target, above the floor, knees hinged and never snapping, ${a} → ${b}`, () => {
      const A = rig(a);
      const B = rig(b);
      // A source whose feet skate a little, as a provider's might.
      const clip = walkClip(A.s, A.map);
      for (let f = 0; f < clip.numFrames; f++) clip.rootPositions[f * 3 + 2] *= 1.05;
      const contacts = soleContacts(A.s, A.map, clip, legPose(A.s, A.map, clip));
      const out = retarget(A.s, A.map, clip, B.s, B.map).clip;
      const { drift, lowest } = soleDrift(B.s, B.map, out, contacts);
      expect(drift).toBeLessThan(0.01);
      expect(lowest).toBeGreaterThan(-0.002);
      const J = B.s.names.length;
      for (const side of ['left', 'right'] as const) {
        const S = B.map[side];
        const hf = hingeFrame(B.s, S.upperLeg, S.lowerLeg, S.foot, KNEE);
        for (let f = 0; f < out.numFrames; f++) expect(offHingeAngle(out.rotations, (f * J + S.lowerLeg) * 4, hf.axis) / DEG).toBeLessThan(0.01);
        const src = flexion(A.s, A.map, clip, side);
        const dst = flexion(B.s, B.map, out, side);
        const step = (xs: number[]) => Math.max(...xs.slice(1).map((x, i) => Math.abs(x - xs[i])));
        // No knee locked straight then released: the target's knee turns per frame at most a few degrees
        // faster than the source's, and never sits at full extension.
        expect(step(dst)).toBeLessThan(step(src) + 5);
        expect(Math.min(...dst)).toBeGreaterThan(0.5);
      }
    });
  }
});
