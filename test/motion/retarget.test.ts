/** Retargeting between humanoid rigs (src/motion/retarget.ts): rotation transfer, rest-pose compensation, spines, root travel, names. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { clipWorldPositions, restClip } from '../../src/motion/clip.js';
import type { Clip } from '../../src/spec/motion.js';
import { mapHumanoid, type HumanoidMap } from '../../src/motion/humanoid.js';
import { IDENTITY, qangle, qget, qmul, qnormalize, qset, vget, vlen, vnormalize, vsub, vdot, type Quat, type Vec3 } from '../../src/motion/quat.js';
import { forwardKinematics, restPositions, skeletonFromWire } from '../../src/motion/skeleton.js';
import type { Skeleton } from '../../src/spec/motion.js';
import { retarget } from '../../src/motion/retarget.js';
import { FIXTURE_RIGS } from '../fixtures/skeletons/index.js';
import { rig, walkClip } from './walk.js';

const DEG = Math.PI / 180;

/** Local rotations of `joints` at frame f. */
const localAt = (clip: Clip, j: number, f: number): Quat => qget(clip.rotations, f * clip.jointCount + j);

/** The role joints of two maps, paired (sides, neck, head, hips; spines when of equal length). */
function rolePairs(a: HumanoidMap, b: HumanoidMap): Array<[string, number, number]> {
  const out: Array<[string, number, number]> = [['hips', a.hips, b.hips], ['neck', a.neck, b.neck], ['head', a.head, b.head], ['chest', a.chest, b.chest]];
  if (a.spine.length === b.spine.length) a.spine.forEach((j, i) => out.push([`spine.${i}`, j, b.spine[i]]));
  for (const side of ['left', 'right'] as const) {
    for (const role of ['shoulder', 'upperArm', 'forearm', 'hand', 'upperLeg', 'lowerLeg', 'foot', 'toe'] as const) {
      const x = a[side][role];
      const y = b[side][role];
      if (x !== undefined && y !== undefined) out.push([`${side}.${role}`, x, y]);
    }
  }
  return out;
}

/** Largest angle (degrees) between the world rotations of paired joints, over all frames. */
function worstWorldAngle(sa: Skeleton, ca: Clip, sb: Skeleton, cb: Clip, pairs: Array<[string, number, number]>): { deg: number; role: string } {
  let worst = { deg: 0, role: '' };
  const pa = new Float64Array(sa.names.length * 3);
  const pb = new Float64Array(sb.names.length * 3);
  const wa = new Float64Array(sa.names.length * 4);
  const wb = new Float64Array(sb.names.length * 4);
  for (let f = 0; f < ca.numFrames; f++) {
    fk(sa, ca, f, pa, wa);
    fk(sb, cb, f, pb, wb);
    for (const [role, a, b] of pairs) {
      const d = qangle(qget(wa, a), qget(wb, b)) / DEG;
      if (d > worst.deg) worst = { deg: d, role: `${role}@${f}` };
    }
  }
  return worst;
}

function fk(s: Skeleton, c: Clip, f: number, pos: Float64Array, rot?: Float64Array): void {
  forwardKinematics(s, c.rotations, c.rootPositions.subarray(f * 3, f * 3 + 3), pos, rot, f * c.jointCount);
}

/** Largest angle (degrees) between world bone directions a→b of two rigs, over all frames. */
function worstBoneAngle(sa: Skeleton, ca: Clip, sb: Skeleton, cb: Clip, bones: Array<[[number, number], [number, number]]>): number {
  let worst = 0;
  const pa = new Float64Array(sa.names.length * 3);
  const pb = new Float64Array(sb.names.length * 3);
  for (let f = 0; f < ca.numFrames; f++) {
    fk(sa, ca, f, pa);
    fk(sb, cb, f, pb);
    for (const [[a0, a1], [b0, b1]] of bones) {
      const da = vnormalize(vsub(vget(pa, a1), vget(pa, a0)));
      const db = vnormalize(vsub(vget(pb, b1), vget(pb, b0)));
      worst = Math.max(worst, Math.acos(Math.min(1, vdot(da, db))) / DEG);
    }
  }
  return worst;
}

function armBones(a: HumanoidMap, b: HumanoidMap): Array<[[number, number], [number, number]]> {
  return (['left', 'right'] as const).flatMap((side) => [
    [[a[side].upperArm, a[side].forearm], [b[side].upperArm, b[side].forearm]],
    [[a[side].forearm, a[side].hand], [b[side].forearm, b[side].hand]],
  ] as Array<[[number, number], [number, number]]>);
}

describe('retarget', () => {
  it('is the identity from a rig onto itself (any pose)', () => {
    const { s, map } = rig('ue5');
    const J = s.names.length;
    const quat = fc.tuple(fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: 0.2, max: 1, noNaN: true }));
    fc.assert(
      fc.property(fc.array(quat, { minLength: J, maxLength: J }), (qs) => {
        const clip = restClip(s, 1, 30);
        qs.forEach((q, j) => qset(clip.rotations, j, qnormalize(q)));
        const out = retarget(s, map, clip, s, map, { plantFeet: false }).clip;
        // Mapped joints carry over exactly; joints without a role (twist, IK, fingers) rest on their parent.
        for (const [, j] of rolePairs(map, map)) {
          const worldOf = (c: Clip, k: number): Quat => {
            let w: Quat = [0, 0, 0, 1];
            const chain: number[] = [];
            for (let x = k; x >= 0; x = s.parents[x]) chain.unshift(x);
            for (const x of chain) w = qmul(w, localAt(c, x, 0));
            return w;
          };
          expect(qangle(worldOf(out, j), worldOf(clip, j)) / DEG).toBeLessThan(1e-4);
        }
        // The hips land where they were (the target's `root` rests unrotated above them, the source's may not).
        const hipsAt = (c: Clip): Vec3 => {
          const pos = new Float64Array(J * 3);
          fk(s, c, 0, pos);
          return vget(pos, map.hips);
        };
        expect(vlen(vsub(hipsAt(out), hipsAt(clip)))).toBeLessThan(1e-9);
      }),
      { numRuns: 30 },
    );
  });

  for (const [a, b] of [['mixamo', 'ue5'], ['mixamo', 'smpl'], ['tPose', 'aPose'], ['cmu', 'rigify'], ['vrm', 'character1']] as const) {
    it(`round-trips a walk ${a} → ${b} → ${a} within a few degrees per mapped joint`, () => {
      const A = rig(a);
      const B = rig(b);
      const clip = walkClip(A.s, A.map);
      const there = retarget(A.s, A.map, clip, B.s, B.map, { plantFeet: false }).clip;
      const back = retarget(B.s, B.map, there, A.s, A.map, { plantFeet: false }).clip;
      const strict = worstWorldAngle(A.s, clip, A.s, back, rolePairs(A.map, A.map));
      expect(strict.deg, strict.role).toBeLessThan(3);
      // With the feet re-planted both ways the legs move a little more, never much: the re-plant solves the
      // legs with hinged knees and fades each pin out over a few frames after lift-off, so a thigh lags
      // the source's by a few degrees for a frame or two there.
      const there2 = retarget(A.s, A.map, clip, B.s, B.map).clip;
      const back2 = retarget(B.s, B.map, there2, A.s, A.map).clip;
      const planted = worstWorldAngle(A.s, clip, A.s, back2, rolePairs(A.map, A.map));
      expect(planted.deg, planted.role).toBeLessThan(8);
      const rootDrift = Math.max(...Array.from({ length: clip.numFrames }, (_, f) => vlen(vsub(vget(back.rootPositions, f), vget(clip.rootPositions, f)))));
      expect(rootDrift).toBeLessThan(1e-6);
    });
  }

  for (const [a, b] of [['tPose', 'aPose'], ['aPose', 'tPose'], ['mixamo', 'ue5'], ['ue5', 'rigify'], ['smpl', 'meshy']] as const) {
    it(`keeps arm bones pointing the same way in the world, ${a} → ${b} (rest poses differ)`, () => {
      const A = rig(a);
      const B = rig(b);
      const clip = walkClip(A.s, A.map);
      const out = retarget(A.s, A.map, clip, B.s, B.map).clip;
      expect(worstBoneAngle(A.s, clip, B.s, out, armBones(A.map, B.map))).toBeLessThan(5);
    });
  }

  it('raises an A-pose target\'s arms into the T-pose when the T-pose source rests, and moves nothing else', () => {
    const A = rig('tPose');
    const B = rig('aPose');
    const clip = restClip(A.s, 2, 30);
    const out = retarget(A.s, A.map, clip, B.s, B.map, { plantFeet: false }).clip;
    expect(worstBoneAngle(A.s, clip, B.s, out, armBones(A.map, B.map))).toBeLessThan(0.01);
    for (const side of ['left', 'right'] as const) {
      const lift = qangle(qget(out.rotations, B.map[side].upperArm), IDENTITY) / DEG;
      expect(lift).toBeGreaterThan(44);
      expect(lift).toBeLessThan(46);
    }
    for (const j of [B.map.hips, ...B.map.spine, B.map.neck, B.map.head, B.map.left.upperLeg, B.map.right.lowerLeg, B.map.right.foot, B.map.left.shoulder!]) {
      expect(qangle(qget(out.rotations, j), IDENTITY) / DEG).toBeLessThan(0.01);
    }
  });

  it('scales root travel by the ratio of hip heights, at the target\'s own height', () => {
    const A = rig('mixamo');
    const B = rig('vrm');
    const clip = walkClip(A.s, A.map);
    const out = retarget(A.s, A.map, clip, B.s, B.map, { plantFeet: false }).clip;
    const ra = restPositions(A.s);
    const rb = restPositions(B.s);
    const ratio = rb[B.map.hips * 3 + 1] / ra[A.map.hips * 3 + 1];
    const last = clip.numFrames - 1;
    const travelA = clip.rootPositions[last * 3 + 2] - clip.rootPositions[2];
    const travelB = out.rootPositions[last * 3 + 2] - out.rootPositions[2];
    expect(travelB / travelA).toBeCloseTo(ratio, 6);
    const meanY = (c: Clip) => Array.from({ length: c.numFrames }, (_, f) => c.rootPositions[f * 3 + 1]).reduce((x, y) => x + y) / c.numFrames;
    expect((meanY(out) - rb[B.map.hips * 3 + 1]) / (meanY(clip) - ra[A.map.hips * 3 + 1])).toBeCloseTo(ratio, 6);
  });

  it('places a root above the hips (UE5 `root`) so that the pelvis lands where it should', () => {
    const A = rig('mixamo');
    const B = rig('ue5');
    const clip = walkClip(A.s, A.map);
    const out = retarget(A.s, A.map, clip, B.s, B.map, { plantFeet: false }).clip;
    const ratio = restPositions(B.s)[B.map.hips * 3 + 1] / restPositions(A.s)[A.map.hips * 3 + 1];
    const pa = clipWorldPositions(A.s, clip);
    const pb = clipWorldPositions(B.s, out);
    const restA = vget(restPositions(A.s), A.map.hips);
    const restB = vget(restPositions(B.s), B.map.hips);
    for (let f = 0; f < clip.numFrames; f += 7) {
      const want = vsub(vget(pa, f * A.s.names.length + A.map.hips), restA).map((v, i) => restB[i] + v * ratio);
      expect(vlen(vsub(vget(pb, f * B.s.names.length + B.map.hips), want as Vec3))).toBeLessThan(1e-9);
    }
  });

  it('leaves joints the source lacks at rest on their parents (twist, IK, fingers) and keeps quaternions continuous', () => {
    const A = rig('meshy');
    const B = rig('ue5');
    const out = retarget(A.s, A.map, walkClip(A.s, A.map), B.s, B.map).clip;
    const J = B.s.names.length;
    for (const name of ['upperarm_twist_01_l', 'ik_foot_l', 'index_01_r', 'neck_02', 'thigh_twist_02_r', 'root']) {
      const j = B.s.names.indexOf(name);
      for (let f = 0; f < out.numFrames; f++) expect(qangle(localAt(out, j, f), IDENTITY)).toBeLessThan(1e-9);
    }
    for (let f = 1; f < out.numFrames; f++) {
      for (let j = 0; j < J; j++) {
        const a = localAt(out, j, f - 1);
        const b = localAt(out, j, f);
        expect(a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3]).toBeGreaterThanOrEqual(0);
        expect(Math.abs(Math.hypot(...b) - 1)).toBeLessThan(1e-9);
      }
    }
  });

  it('spreads a three-joint spine over five and keeps the chest and neck where the source has them', () => {
    const A = rig('mixamo');
    const B = rig('ue5');
    const clip = walkClip(A.s, A.map);
    const out = retarget(A.s, A.map, clip, B.s, B.map, { plantFeet: false }).clip;
    const chest = worstWorldAngle(A.s, clip, B.s, out, [['chest', A.map.chest, B.map.chest]]);
    expect(chest.deg).toBeLessThan(3);
    // The spine's span (first spine joint → neck) points as the source's does.
    expect(
      worstBoneAngle(A.s, clip, B.s, out, [[[A.map.spine[0], A.map.neck], [B.map.spine[0], B.map.neck]]]) -
        worstBoneAngle(A.s, restClip(A.s, 1, 30), B.s, restClip(B.s, 1, 30), [[[A.map.spine[0], A.map.neck], [B.map.spine[0], B.map.neck]]]),
    ).toBeLessThan(2);
    // Each of the five joints takes a share: none is left at rest while the source bends.
    for (const j of B.map.spine.slice(0, -1)) {
      let moved = 0;
      for (let f = 0; f < out.numFrames; f++) moved = Math.max(moved, qangle(localAt(out, j, f), IDENTITY));
      expect(moved / DEG).toBeGreaterThan(1);
    }
  });

  it('ignores the target\'s rest rotations: the answer is in the protocol\'s convention either way', () => {
    const A = rig('mixamo');
    const plain = FIXTURE_RIGS.ue5.joints;
    const rotated = skeletonFromWire(plain.map((j, i) => ({ ...j, rest_rotation: qnormalize([Math.sin(i), 0.4, Math.cos(2 * i), 1]) })));
    const clip = walkClip(A.s, A.map, 1);
    const B = rig('ue5');
    const a = retarget(A.s, A.map, clip, B.s, B.map).clip;
    const b = retarget(A.s, A.map, clip, rotated, mapHumanoid(rotated)).clip;
    expect(Array.from(b.rotations)).toEqual(Array.from(a.rotations));
    expect(Array.from(b.rootPositions)).toEqual(Array.from(a.rootPositions));
  });

  it('reports which source joint drives which target joint', () => {
    const A = rig('mixamo');
    const B = rig('ue5');
    const { canonicalToRequest } = retarget(A.s, A.map, walkClip(A.s, A.map, 0.5), B.s, B.map);
    expect(canonicalToRequest).toMatchObject({
      'mixamorig:Hips': 'pelvis',
      'mixamorig:Spine': 'spine_01',
      'mixamorig:Spine1': 'spine_03',
      'mixamorig:Spine2': 'spine_05',
      'mixamorig:Neck': 'neck_01',
      'mixamorig:Head': 'head',
      'mixamorig:LeftShoulder': 'clavicle_l',
      'mixamorig:LeftArm': 'upperarm_l',
      'mixamorig:LeftForeArm': 'lowerarm_l',
      'mixamorig:LeftHand': 'hand_l',
      'mixamorig:RightUpLeg': 'thigh_r',
      'mixamorig:RightLeg': 'calf_r',
      'mixamorig:RightFoot': 'foot_r',
      'mixamorig:RightToeBase': 'ball_r',
    });
    expect(Object.keys(canonicalToRequest)).toHaveLength(22); // hips, 3 spine, neck, head, 8 per side
    expect(canonicalToRequest).not.toHaveProperty('mixamorig:HeadTop_End');
    // SMPL → Meshy: no clavicle is dropped, toes pair, and the misleading names pair by role.
    const S = rig('smpl');
    const M = rig('meshy');
    const back = retarget(S.s, S.map, walkClip(S.s, S.map, 0.5), M.s, M.map).canonicalToRequest;
    expect(back).toMatchObject({ L_Shoulder: 'LeftArm', L_Collar: 'LeftShoulder', L_Hip: 'LeftUpLeg', L_Foot: 'LeftToeBase', L_Wrist: 'LeftHand' });
    expect(back).not.toHaveProperty('L_Hand');
  });

  // How fast this runs is measured by bench/motion.ts (`npm run bench`).
  it('retargets 10 s at 30 fps onto a 65-joint rig: every frame, unit quaternions, the same bits every run', () => {
    const A = rig('ue5');
    const B = rig('mixamo');
    expect(B.s.names.length).toBe(65);
    const clip = walkClip(A.s, A.map, 10);
    const one = retarget(A.s, A.map, clip, B.s, B.map).clip;
    expect(one).toMatchObject({ jointCount: 65, numFrames: 301, fps: 30 });
    expect(one.rotations).toHaveLength(301 * 65 * 4);
    const r = one.rotations;
    let worst = 0;
    for (let q = 0; q < r.length; q += 4) worst = Math.max(worst, Math.abs(r[q] ** 2 + r[q + 1] ** 2 + r[q + 2] ** 2 + r[q + 3] ** 2 - 1));
    expect(worst).toBeLessThan(1e-9);
    expect(one.rootPositions.every(Number.isFinite)).toBe(true);
    const two = retarget(A.s, A.map, clip, B.s, B.map).clip;
    expect(two.rotations).toEqual(one.rotations);
    expect(two.rootPositions).toEqual(one.rootPositions);
  });
});
