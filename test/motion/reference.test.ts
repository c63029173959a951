/**
 * A motion_reference segment as a clip on the request skeleton (src/motion/reference.ts): joint names
 * mapped, unnamed joints at rest, the clip's own rig retargeted, resampled to the answer's fps at its
 * natural speed. Checked by forward kinematics against the reference.
 */
import { describe, expect, it } from 'vitest';
import { checkReferenceRig, referenceClip, referenceSourceClip } from '../../src/motion/reference.js';
import { clipWorldPositions } from '../../src/motion/clip.js';
import { qget, vget, vnormalize, vsub, vdot } from '../../src/motion/quat.js';
import { skeletonFromWire } from '../../src/motion/skeleton.js';
import type { PlannedReference } from '../../src/spec/plan.js';
import type { Clip, Skeleton } from '../../src/spec/motion.js';
import type { Joint } from '../../src/spec/wire.js';
import { FIXTURE_RIGS } from '../fixtures/skeletons/index.js';
import { rig, walkClip } from './walk.js';

/** The reference a client would send for `clip` on `s`, naming `names` (default: every joint). */
function referenceOf(s: Skeleton, clip: Clip, names: readonly string[] = s.names, skeleton?: Joint[]): PlannedReference {
  const J = s.names.length;
  const idx = names.map((n) => s.names.indexOf(n));
  const rotations = new Float64Array(clip.numFrames * names.length * 4);
  for (let t = 0; t < clip.numFrames; t++) idx.forEach((j, k) => rotations.set(qget(clip.rotations, t * J + j), (t * names.length + k) * 4));
  return { jointNames: [...names], frameCount: clip.numFrames, fps: clip.fps, rotations, rootPositions: clip.rootPositions.slice(), ...(skeleton ? { skeleton } : {}) };
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('referenceClip on the request skeleton', () => {
  const ue5 = rig('ue5');
  const walk = walkClip(ue5.s, ue5.map, 2, 30);

  it('reproduces the reference exactly at its own fps and length (every joint named)', () => {
    const out = referenceClip(referenceOf(ue5.s, walk), ue5.s, 30, walk.numFrames);
    expect(out.numFrames).toBe(walk.numFrames);
    expect(maxDiff(clipWorldPositions(ue5.s, out), clipWorldPositions(ue5.s, walk))).toBeLessThan(1e-9);
  });

  it('holds rest on the joints the reference does not name', () => {
    const named = ue5.s.names.filter((_, j) => j === ue5.map.hips || j === 0 || j === ue5.map.left.upperLeg);
    const out = referenceClip(referenceOf(ue5.s, walk, named), ue5.s, 30, walk.numFrames);
    const J = ue5.s.names.length;
    for (let t = 0; t < out.numFrames; t += 7) {
      for (let j = 0; j < J; j++) {
        const q = qget(out.rotations, t * J + j);
        if (named.includes(ue5.s.names[j])) expect(q).toEqual(qget(walk.rotations, t * J + j).map((v) => expect.closeTo(v, 12)));
        else expect(q).toEqual([0, 0, 0, 1]);
      }
    }
  });

  it('normalizes quaternions taken as sent', () => {
    const ref = referenceOf(ue5.s, walk);
    for (let i = 0; i < ref.rotations.length; i++) ref.rotations[i] *= 1.05;
    const out = referenceClip(ref, ue5.s, 30, walk.numFrames);
    for (let i = 0; i < out.rotations.length; i += 4) {
      expect(Math.hypot(out.rotations[i], out.rotations[i + 1], out.rotations[i + 2], out.rotations[i + 3])).toBeCloseTo(1, 12);
    }
    expect(maxDiff(clipWorldPositions(ue5.s, out), clipWorldPositions(ue5.s, walk))).toBeLessThan(1e-9);
  });

  it('resamples a 60 fps reference to a 30 fps answer at its natural speed', () => {
    const walk60 = walkClip(ue5.s, ue5.map, 2, 60);
    const out = referenceClip(referenceOf(ue5.s, walk60), ue5.s, 30, 61);
    const J = ue5.s.names.length;
    const src = clipWorldPositions(ue5.s, walk60);
    const got = clipWorldPositions(ue5.s, out);
    for (let i = 0; i < 61; i++) {
      // answer frame i is the reference's frame 2i (t = i / 30 s)
      expect(maxDiff(got.subarray(i * J * 3, (i + 1) * J * 3), src.subarray(2 * i * J * 3, (2 * i + 1) * J * 3))).toBeLessThan(1e-9);
    }
  });

  it('resamples a 30 fps reference to 24 fps: the root keeps its speed', () => {
    // A reference whose root glides at 1.2 m/s along +Z.
    const ref = referenceOf(ue5.s, walk);
    for (let t = 0; t < ref.frameCount; t++) ref.rootPositions[t * 3 + 2] = (1.2 * t) / 30;
    const out = referenceClip(ref, ue5.s, 24, 48);
    for (let i = 0; i < 48; i++) expect(out.rootPositions[i * 3 + 2]).toBeCloseTo((1.2 * i) / 24, 9);
    expect(out.fps).toBe(24);
  });

  it('holds the last frame when the segment outlasts the clip, and ends early when it is shorter', () => {
    const ref = referenceOf(ue5.s, walk);
    const T = walk.numFrames;
    const long = referenceClip(ref, ue5.s, 30, T + 20);
    const J = ue5.s.names.length;
    const last = long.rotations.subarray((T - 1) * J * 4, T * J * 4);
    for (let i = T; i < T + 20; i++) expect(maxDiff(long.rotations.subarray(i * J * 4, (i + 1) * J * 4), last)).toBeLessThan(1e-12);
    const short = referenceClip(ref, ue5.s, 30, 10);
    expect(short.numFrames).toBe(10);
    expect(maxDiff(short.rootPositions, walk.rootPositions.subarray(0, 30))).toBeLessThan(1e-12);
  });

  it('needs no retargeting when the reference brings the request skeleton as its own', () => {
    const own = referenceOf(ue5.s, walk, ue5.s.names, FIXTURE_RIGS.ue5.joints.map((j) => ({ ...j })));
    const plain = referenceClip(referenceOf(ue5.s, walk), ue5.s, 30, walk.numFrames);
    expect(maxDiff(referenceClip(own, ue5.s, 30, walk.numFrames).rotations, plain.rotations)).toBe(0);
  });
});

describe('referenceClip from the reference’s own rig', () => {
  const mixamo = rig('mixamo');
  const target = rig('vrm');
  const walk = walkClip(mixamo.s, mixamo.map, 2, 30);
  const ref = referenceOf(mixamo.s, walk, mixamo.s.names, FIXTURE_RIGS.mixamo.joints.map((j) => ({ ...j })));

  it('retargets a Mixamo clip onto another rig: arm bones point where the reference’s do', () => {
    const out = referenceClip(ref, target.s, 30, walk.numFrames);
    expect(out.jointCount).toBe(target.s.names.length);
    const ps = clipWorldPositions(mixamo.s, walk);
    const pt = clipWorldPositions(target.s, out);
    const Js = mixamo.s.names.length;
    const Jt = target.s.names.length;
    let worst = 0;
    for (let f = 0; f < walk.numFrames; f++) {
      for (const side of ['left', 'right'] as const) {
        for (const [a, b] of [['upperArm', 'forearm'], ['forearm', 'hand']] as const) {
          const ds = vnormalize(vsub(vget(ps, f * Js + mixamo.map[side][b]), vget(ps, f * Js + mixamo.map[side][a])));
          const dt = vnormalize(vsub(vget(pt, f * Jt + target.map[side][b]), vget(pt, f * Jt + target.map[side][a])));
          worst = Math.max(worst, Math.acos(Math.min(1, vdot(ds, dt))) * (180 / Math.PI));
        }
      }
    }
    expect(worst).toBeLessThan(0.5);
  });

  it('moves the hips as the reference’s hips move, scaled by hip height', () => {
    const out = referenceClip(ref, target.s, 30, walk.numFrames);
    const ps = clipWorldPositions(mixamo.s, walk);
    const pt = clipWorldPositions(target.s, out);
    const Js = mixamo.s.names.length;
    const Jt = target.s.names.length;
    const F = walk.numFrames - 1;
    const travelS = vsub(vget(ps, F * Js + mixamo.map.hips), vget(ps, mixamo.map.hips));
    const travelT = vsub(vget(pt, F * Jt + target.map.hips), vget(pt, target.map.hips));
    const hipY = (h: number, p: Float64Array, J: number) => p[h * 3 + 1] - Math.min(...Array.from({ length: J }, (_, j) => p[j * 3 + 1]));
    const ratio = hipY(target.map.hips, pt, Jt) / hipY(mixamo.map.hips, ps, Js);
    expect(Math.abs(travelS[2])).toBeGreaterThan(0.5);
    expect(travelT[2] / travelS[2]).toBeCloseTo(ratio, 2);
  });

  it('refuses a rig that is not a humanoid before any work (checkReferenceRig)', () => {
    const chain: Joint[] = [
      { name: 'mixamorig:Hips', parent: null, rest_translation: [0, 1, 0], rest_rotation: [0, 0, 0, 1] },
      { name: 'mixamorig:Spine', parent: 'mixamorig:Hips', rest_translation: [0, 0.1, 0], rest_rotation: [0, 0, 0, 1] },
      { name: 'mixamorig:Head', parent: 'mixamorig:Spine', rest_translation: [0, 0.5, 0], rest_rotation: [0, 0, 0, 1] },
    ];
    expect(() => checkReferenceRig({ skeleton: chain })).toThrow(expect.objectContaining({ code: 'invalid_skeleton' }));
    expect(() => checkReferenceRig({ skeleton: FIXTURE_RIGS.mixamo.joints.map((j) => ({ ...j })) })).not.toThrow();
    expect(() => checkReferenceRig({})).not.toThrow();
  });
});

describe('referenceSourceClip', () => {
  it('refuses data whose size does not match its frames and joints', () => {
    const s = skeletonFromWire(FIXTURE_RIGS.ue5.joints);
    const bad: PlannedReference = { jointNames: [s.names[0]], frameCount: 3, fps: 30, rotations: new Float64Array(8), rootPositions: new Float64Array(9) };
    expect(() => referenceSourceClip(bad, s)).toThrow(RangeError);
  });
});
