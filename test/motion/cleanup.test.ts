/**
 * The foot-skate cleanup on the foot model (src/motion/cleanup.ts → plant.ts plantSoles), fed bad input
 * on purpose: a foot that pitches toe-down through the floor in stance, a sliding foot, a body sunk into
 * the floor, and a clean procedural walk. Measured on every sole point (heel, ball, toe tip), never the
 * ankle alone.
 */
import { describe, expect, it } from 'vitest';
import { generateMotion } from '../../src/adapters/procedural/generate.js';
import { PROCEDURAL_SKELETON } from '../../src/adapters/procedural/rig.js';
import { cleanupFootSkate, feetContacts } from '../../src/motion/cleanup.js';
import { mapHumanoid, type HumanoidMap } from '../../src/motion/humanoid.js';
import { KNEE, hingeFlexion, hingeFrame, offHingeAngle } from '../../src/motion/limits.js';
import { footModel, footPointAt } from '../../src/motion/foot.js';
import { legPose, soleDrift } from '../../src/motion/plant.js';
import { qmul, qget, qset, qx } from '../../src/motion/quat.js';
import type { Clip, Skeleton } from '../../src/spec/motion.js';
import { rig, walkClip } from './walk.js';

const DEG = Math.PI / 180;

function copy(clip: Clip): Clip {
  return { ...clip, rotations: clip.rotations.slice(), rootPositions: clip.rootPositions.slice() };
}

/** Largest off-hinge angle of either knee (deg), the flexion range (deg) and the largest per-frame flexion change (deg). */
function knees(s: Skeleton, map: HumanoidMap, clip: Clip): { off: number; min: number; max: number; step: number } {
  const J = s.names.length;
  let off = 0, min = Infinity, max = -Infinity, step = 0;
  for (const side of [map.left, map.right]) {
    const hf = hingeFrame(s, side.upperLeg, side.lowerLeg, side.foot, KNEE);
    let prev = NaN;
    for (let f = 0; f < clip.numFrames; f++) {
      const o = (f * J + side.lowerLeg) * 4;
      off = Math.max(off, offHingeAngle(clip.rotations, o, hf.axis) / DEG);
      const flex = (hingeFlexion(clip.rotations, o, hf.axis) + hf.restFlexion) / DEG;
      min = Math.min(min, flex);
      max = Math.max(max, flex);
      if (!Number.isNaN(prev)) step = Math.max(step, Math.abs(flex - prev));
      prev = flex;
    }
  }
  return { off, min, max, step };
}

const rigs = (): Array<[string, Skeleton, HumanoidMap, Clip]> => {
  const out: Array<[string, Skeleton, HumanoidMap, Clip]> = [];
  const map = mapHumanoid(PROCEDURAL_SKELETON);
  out.push(['canonical', PROCEDURAL_SKELETON, map, walkClip(PROCEDURAL_SKELETON, map)]);
  for (const name of ['mixamo', 'smpl', 'rigify'] as const) {
    const r = rig(name);
    out.push([name, r.s, r.map, walkClip(r.s, r.map)]);
  }
  return out;
};

describe('cleanupFootSkate on the foot model', () => {
  for (const [name, s, map, walk] of rigs()) {
    it(`${name}: a foot that pitches toe-down through the floor in stance comes out with no sole point under it`, () => {
      const J = s.names.length;
      const bad = copy(walk);
      // Pitch both feet 25° toe-down about the ankle on every frame: the toes dig ~5 cm into the floor in stance.
      for (let f = 0; f < bad.numFrames; f++) {
        for (const side of [map.left, map.right]) qset(bad.rotations, f * J + side.foot, qmul(qget(bad.rotations, f * J + side.foot), qx(25 * DEG)));
      }
      const contacts = feetContacts(s, map, bad);
      const before = soleDrift(s, map, bad, contacts);
      expect(before.lowest).toBeLessThan(-0.03);
      const clean = cleanupFootSkate(s, map, bad);
      const after = soleDrift(s, map, clean, contacts);
      expect(after.lowest).toBeGreaterThan(-0.002);
      expect(after.drift).toBeLessThan(0.01);
    });

    it(`${name}: a sliding foot is held still on every planted point (< 1 cm), knees hinged`, () => {
      const bad = copy(walk);
      for (let f = 0; f < bad.numFrames; f++) bad.rootPositions[f * 3 + 2] *= 1.08;
      const contacts = feetContacts(s, map, bad);
      expect(soleDrift(s, map, bad, contacts).drift).toBeGreaterThan(0.03);
      const clean = cleanupFootSkate(s, map, bad);
      const after = soleDrift(s, map, clean, contacts);
      expect(after.drift).toBeLessThan(0.01);
      expect(after.lowest).toBeGreaterThan(-0.002);
      const k = knees(s, map, clean);
      expect(k.off).toBeLessThan(0.01);
      expect(k.min).toBeGreaterThan(-0.01);
      expect(k.max).toBeLessThan(150.01);
    });

    it(`${name}: a body sunk 3 cm into the floor gets its feet back on top of it`, () => {
      const bad = copy(walk);
      for (let f = 0; f < bad.numFrames; f++) bad.rootPositions[f * 3 + 1] -= 0.03;
      const contacts = feetContacts(s, map, bad);
      expect(soleDrift(s, map, bad, contacts).lowest).toBeLessThan(-0.025);
      const after = soleDrift(s, map, cleanupFootSkate(s, map, bad), contacts);
      expect(after.lowest).toBeGreaterThan(-0.002);
      expect(after.drift).toBeLessThan(0.01);
    });
  }

  for (const motion of ['walk', 'run', 'jump', 'kick', 'sit_down'] as const) {
    it(`the procedural ${motion}: no sole point under the floor, planted points still, hinged knees that never snap`, () => {
      const s = PROCEDURAL_SKELETON;
      const map = mapHumanoid(s);
      const clip = generateMotion(motion, 90, 30, 3, 0).clip;
      const contacts = feetContacts(s, map, clip);
      const clean = cleanupFootSkate(s, map, clip);
      const { drift, lowest } = soleDrift(s, map, clean, contacts);
      expect(lowest).toBeGreaterThan(-0.002);
      expect(drift).toBeLessThan(0.01);
      const k = knees(s, map, clean);
      expect(k.off).toBeLessThan(0.01);
      expect(k.min).toBeGreaterThan(-0.01);
      // No snap: the cleaned knee turns per frame no faster than the input's hip-to-ankle motion asks
      // (bounded by the input's own largest per-frame knee flexion change plus a few degrees).
      const input = knees(s, map, clip);
      expect(k.step).toBeLessThan(input.step + 6);
    });
  }

  it('leaves a clean standing idle standing: every ankle where it was (< 2 mm), heels down, nothing on tiptoe', () => {
    const s = PROCEDURAL_SKELETON;
    const map = mapHumanoid(s);
    const J = s.names.length;
    const clip = generateMotion('idle', 90, 30, 3, 0).clip;
    const clean = cleanupFootSkate(s, map, clip);
    const a = legPose(s, map, clip), b = legPose(s, map, clean);
    const fm = footModel(s, map);
    const p = new Float64Array(3), q = new Float64Array(3);
    for (let f = 0; f < clip.numFrames; f++) {
      for (const [k, side] of [map.left, map.right].entries()) {
        const o = (f * J + side.foot) * 3;
        expect(Math.hypot(a.positions[o] - b.positions[o], a.positions[o + 1] - b.positions[o + 1], a.positions[o + 2] - b.positions[o + 2])).toBeLessThan(0.002);
        footPointAt(fm.sides[k][0], J, a.positions, a.rotations, f, p);
        footPointAt(fm.sides[k][0], J, b.positions, b.rotations, f, q);
        expect(Math.abs(q[1] - p[1])).toBeLessThan(0.002);
      }
    }
  });
});
