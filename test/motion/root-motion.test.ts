/** Floor-level roots and IK bones through the whole pipeline (issue 10, defect 5): root on the floor under the pelvis, IK bones on their effectors. */
import { describe, expect, it } from 'vitest';
import type { GenerationPlan } from '../../src/spec/plan.js';
import type { Clip, Skeleton } from '../../src/spec/motion.js';
import { createProceduralAdapter } from '../../src/adapters/procedural/index.js';
import { proceduralMotion } from '../../src/adapters/procedural/work.js';
import { buildPlan } from '../../src/protocol/plan.js';
import { renderMotion, renderSamples } from '../../src/motion/pipeline.js';
import { parseGlb, worldRestRotations } from '../../src/motion/gltf.js';
import { mapHumanoid } from '../../src/motion/humanoid.js';
import { applyRootMotion, bodyHeadings, rootMotionRig } from '../../src/motion/root-motion.js';
import { clipForwardKinematics } from '../../src/motion/skeleton.js';
import { qaxisAngle, qget, qmul, qrotate, qset, vget } from '../../src/motion/quat.js';
import { restClip } from '../../src/motion/clip.js';
import { readAnswer } from '../../src/tools/read-answer.js';
import { FIXTURE_RIGS, fixtureSkeleton, jointNumbersLabels } from '../fixtures/skeletons/index.js';
import { validateGltf } from '../helpers/gltf-validate.js';

const model = createProceduralAdapter().models()[0];

/** The plan of a one-segment procedural request on a fixture rig, as the gateway builds it. */
function plan(prompt: string, frames = 90, rig: keyof typeof FIXTURE_RIGS = 'ue5'): GenerationPlan {
  const request = {
    protocol_version: '1.3',
    model: model.id,
    skeleton: FIXTURE_RIGS[rig],
    segments: [{ type: 'text', prompt, duration_frames: frames }],
    timing: { fps: 30 },
  } as GenerationPlan['request'];
  return buildPlan(request, model, 'procedural', 1);
}

function posed(s: Skeleton, clip: Clip): { w: Float64Array; r: Float64Array } {
  const J = s.names.length;
  const w = new Float64Array(clip.numFrames * J * 3);
  const r = new Float64Array(clip.numFrames * J * 4);
  clipForwardKinematics(s, clip, w, r);
  return { w, r };
}

const dist = (w: Float64Array, J: number, f: number, a: number, b: number): number =>
  Math.hypot(w[(f * J + a) * 3] - w[(f * J + b) * 3], w[(f * J + a) * 3 + 1] - w[(f * J + b) * 3 + 1], w[(f * J + a) * 3 + 2] - w[(f * J + b) * 3 + 2]);

/** Angle between two unit quaternions (radians). */
const angle = (a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number): number =>
  2 * Math.acos(Math.min(1, Math.abs(a[ao] * b[bo] + a[ao + 1] * b[bo + 1] + a[ao + 2] * b[bo + 2] + a[ao + 3] * b[bo + 3])));

describe('a floor-level root (Unreal mannequin) through the pipeline', () => {
  const IK: Array<[string, string]> = [['ik_foot_l', 'foot_l'], ['ik_foot_r', 'foot_r'], ['ik_hand_gun', 'hand_r'], ['ik_hand_r', 'hand_r'], ['ik_hand_l', 'hand_l']];
  for (const prompt of ['walk forward', 'jump', 'turn left']) {
    it(`${prompt}: root on the floor under the pelvis facing the body's way, IK bones on their effectors`, () => {
      const { target, samples } = renderSamples(plan(prompt), proceduralMotion(plan(prompt)));
      const clip = samples[0].clip;
      const J = target.names.length;
      const { w, r } = posed(target, clip);
      const ix = (n: string) => target.names.indexOf(n);
      const root = ix('root'), pelvis = ix('pelvis');
      const headings = bodyHeadings(mapHumanoid(target), w, J, clip.numFrames);
      let worstY = 0, worstUnder = 0, worstYaw = 0, worstIk = 0, worstIkTurn = 0;
      for (let f = 0; f < clip.numFrames; f++) {
        worstY = Math.max(worstY, Math.abs(w[(f * J + root) * 3 + 1]));
        worstUnder = Math.max(worstUnder, Math.hypot(w[(f * J + root) * 3] - w[(f * J + pelvis) * 3], w[(f * J + root) * 3 + 2] - w[(f * J + pelvis) * 3 + 2]));
        const q = r.subarray((f * J + root) * 4, (f * J + root) * 4 + 4);
        expect(Math.hypot(q[0], q[2])).toBeLessThan(1e-9); // a yaw only
        const d = 2 * Math.atan2(q[1], q[3]) - headings[f];
        worstYaw = Math.max(worstYaw, Math.abs(Math.atan2(Math.sin(d), Math.cos(d))));
        for (const [ik, eff] of IK) {
          worstIk = Math.max(worstIk, dist(w, J, f, ix(ik), ix(eff)));
          worstIkTurn = Math.max(worstIkTurn, angle(r, (f * J + ix(ik)) * 4, r, (f * J + ix(eff)) * 4));
        }
      }
      expect(worstY).toBeLessThan(0.001);
      expect(worstUnder).toBeLessThan(0.05);
      expect((worstYaw * 180) / Math.PI).toBeLessThan(6);
      expect(worstIk).toBeLessThan(0.001);
      expect(worstIkTurn).toBeLessThan(1e-6);
      expect(samples[0].extras?.x_root_motion).toMatchObject({ root: 'root', translated: ['pelvis'], followers: { ik_foot_l: 'foot_l', ik_hand_gun: 'hand_r', ik_hand_l: 'hand_l', center_of_mass: 'center_of_mass', interaction: 'root' } });
    });
  }

  it('keeps every body joint where it was: the root change is carried by the pelvis translation', () => {
    const s = fixtureSkeleton('ue5');
    const map = mapHumanoid(s);
    const { samples } = renderSamples(plan('jump', 60), proceduralMotion(plan('jump', 60)));
    const after = samples[0].clip;
    const J = s.names.length;
    const F = after.numFrames;
    const { w, r } = posed(s, after);
    // The same body pose with everything on the root, as a retargeter leaves it: root = pelvis pose.
    const pre: Clip = { ...after, rotations: after.rotations.slice(), rootPositions: new Float64Array(F * 3), jointTranslations: undefined };
    const hips = map.hips;
    for (let f = 0; f < F; f++) {
      const q = qget(r, f * J + hips);
      const o = qrotate(q, vget(s.offsets, hips));
      for (let k = 0; k < 3; k++) pre.rootPositions[f * 3 + k] = w[(f * J + hips) * 3 + k] - o[k];
      qset(pre.rotations, f * J, q);
      qset(pre.rotations, f * J + hips, [0, 0, 0, 1]);
    }
    const redone = posed(s, applyRootMotion(s, map, pre, rootMotionRig(s, map))).w;
    const followers = new Set(rootMotionRig(s, map).followers.map((x) => x.joint));
    let worst = 0;
    for (let f = 0; f < F; f++) {
      for (let j = 1; j < J; j++) {
        if (followers.has(j) || s.parents[j] === 0) continue;
        for (let k = 0; k < 3; k++) worst = Math.max(worst, Math.abs(redone[(f * J + j) * 3 + k] - w[(f * J + j) * 3 + k]));
      }
    }
    expect(worst).toBeLessThan(1e-9);
    // The jump lifts the pelvis by its translation alone: the root never leaves the floor.
    let lift = 0;
    for (let f = 0; f < F; f++) lift = Math.max(lift, w[(f * J + hips) * 3 + 1] - w[hips * 3 + 1]);
    expect(lift).toBeGreaterThan(0.05);
  });

  it('writes a translation channel for the pelvis and each moved IK bone into a glTF the Khronos validator accepts', async () => {
    const glb = renderMotion(plan('walk forward', 30), proceduralMotion(plan('walk forward', 30)));
    const { json } = parseGlb(glb);
    const translated = json.animations![0].channels.filter((c) => c.target.path === 'translation').map((c) => json.nodes![c.target.node!].name);
    expect(translated).toEqual(['root', 'pelvis', 'ik_foot_l', 'ik_foot_r', 'ik_hand_gun', 'ik_hand_r', 'ik_hand_l', 'center_of_mass']);
    const report = await validateGltf(glb, 'glb');
    expect(report.errors).toEqual([]);
    expect(report.warnings).toEqual([]);
  });

  it('reads back from the GLB to the same world positions (pelvis and IK translations in the parents\' rest frames)', async () => {
    const p = plan('turn left', 45);
    const motion = proceduralMotion(p);
    const { target, samples } = renderSamples(p, motion);
    const back = await readAnswer(renderMotion(p, motion), 30);
    const a = posed(target, samples[0].clip).w;
    const b = posed(back.skeleton, back.samples[0].clip).w;
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    expect(worst).toBeLessThan(1e-5);
  });
});

describe('applyRootMotion', () => {
  it('keeps a loop seamless: the pelvis offset and the root heading of the last frame are the first\'s', () => {
    const p = { ...plan('run', 64), loop: true };
    const { target, samples } = renderSamples(p, proceduralMotion(p));
    const c = samples[0].clip;
    const t = c.jointTranslations!;
    const K = t.joints.length, F = c.numFrames;
    for (let k = 0; k < K; k++) {
      if (target.names[t.joints[k]] !== 'pelvis') continue;
      for (let i = 0; i < 3; i++) expect(Math.abs(t.offsets[k * 3 + i] - t.offsets[((F - 1) * K + k) * 3 + i])).toBeLessThan(1e-4);
    }
    expect(angle(c.rotations, 0, c.rotations, (F - 1) * c.jointCount * 4)).toBeLessThan(1e-3);
  });

  it('gives an IK bone its effector bone\'s frame in glTF terms when their rest rotations differ', () => {
    const base = fixtureSkeleton('ue5');
    const restRotations = base.restRotations.slice();
    const ik = base.names.indexOf('ik_foot_l'), foot = base.names.indexOf('foot_l'), calf = base.names.indexOf('calf_l');
    qset(restRotations, foot, qaxisAngle([1, 0, 0], 0.6));
    qset(restRotations, ik, qaxisAngle([0, 1, 0], 1.1));
    const s: Skeleton = { ...base, restRotations };
    const map = mapHumanoid(s);
    const clip = restClip(s, 10, 30);
    for (let f = 0; f < 10; f++) {
      qset(clip.rotations, f * s.names.length + calf, qaxisAngle([1, 0, 0], 0.1 * f));
      clip.rootPositions[f * 3 + 2] = 0.05 * f;
    }
    const wrest = worldRestRotations(s);
    const out = applyRootMotion(s, map, clip, rootMotionRig(s, map), wrest);
    const { w, r } = posed(s, out);
    const J = s.names.length;
    for (let f = 0; f < 10; f++) {
      const a = qmul(qget(r, f * J + ik), qget(wrest, ik));
      const b = qmul(qget(r, f * J + foot), qget(wrest, foot));
      expect(angle(a, 0, b, 0)).toBeLessThan(1e-6);
      expect(dist(w, J, f, ik, foot)).toBeLessThan(1e-9);
    }
  });
});

describe('rootMotionRig', () => {
  it('recognises a floor-level root from structure alone (j00 under the hips, no names)', () => {
    const s = fixtureSkeleton('jointNumbers');
    const rig = rootMotionRig(s, mapHumanoid(s));
    expect(rig.floorRoot && s.names[rig.floorRoot.hips]).toBe(jointNumbersLabels.hips);
    expect(rig.followers).toEqual([]);
  });

  it('leaves rigs whose root is the hips alone', () => {
    for (const name of ['mixamo', 'blenderBones', 'child'] as const) {
      const s = fixtureSkeleton(name);
      const rig = rootMotionRig(s, mapHumanoid(s));
      expect(rig.floorRoot).toBeNull();
      expect(rig.followers).toEqual([]);
    }
  });

  it('puts the j00 root on the floor under the walking hips', () => {
    const { target, samples } = renderSamples(plan('walk forward', 60, 'jointNumbers'), proceduralMotion(plan('walk forward', 60, 'jointNumbers')));
    const J = target.names.length;
    const { w } = posed(target, samples[0].clip);
    const hips = target.names.indexOf(jointNumbersLabels.hips);
    let travelled = 0;
    for (let f = 0; f < samples[0].clip.numFrames; f++) {
      expect(Math.abs(w[f * J * 3 + 1])).toBeLessThan(0.001);
      expect(Math.hypot(w[f * J * 3] - w[(f * J + hips) * 3], w[f * J * 3 + 2] - w[(f * J + hips) * 3 + 2])).toBeLessThan(0.05);
      travelled = Math.max(travelled, w[f * J * 3 + 2] - w[2]);
    }
    expect(travelled).toBeGreaterThan(0.5);
  });
});
