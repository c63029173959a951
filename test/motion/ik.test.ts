import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { solveTwoBone } from '../../src/motion/ik.js';
import { ELBOW, KNEE, hingeFlexion, hingeFrame, offHingeAngle } from '../../src/motion/limits.js';
import { forwardKinematics, skeletonFromWire } from '../../src/motion/skeleton.js';
import { vget, vlen, vsub, type Vec3 } from '../../src/motion/quat.js';

const leg = skeletonFromWire([
  { name: 'Hips', parent: null, rest_translation: [0, 1, 0] },
  { name: 'UpLeg', parent: 'Hips', rest_translation: [0.1, -0.05, 0] },
  { name: 'Leg', parent: 'UpLeg', rest_translation: [0, -0.45, 0] },
  { name: 'Foot', parent: 'Leg', rest_translation: [0, -0.42, 0] },
]);

function endPos(rot: Float64Array, root: Vec3): { foot: Vec3; knee: Vec3 } {
  const pos = new Float64Array(12);
  forwardKinematics(leg, rot, root, pos);
  return { foot: vget(pos, 3), knee: vget(pos, 2) };
}

describe('solveTwoBone', () => {
  const identity = () => Float64Array.from([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]);
  it('reaches reachable targets, bending the knee toward the pole', () => {
    for (const target of [[0.1, 0.2, 0.2], [0.15, 0.3, -0.1], [0.05, 0.1, 0.05]] as Vec3[]) {
      const rot = identity();
      const residual = solveTwoBone(leg, rot, 0, [0, 1, 0], { upper: 1, mid: 2, end: 3 }, target, { poleHint: [0, 0, 1] });
      const { foot, knee } = endPos(rot, [0, 1, 0]);
      expect(residual).toBeLessThan(1e-6);
      expect(vlen(vsub(foot, target))).toBeLessThan(1e-6);
      expect(knee[2]).toBeGreaterThan(Math.min(target[2], 0) - 1e-9);
    }
  });
  it('clamps unreachable targets to the limb length and reports the residual', () => {
    const rot = identity();
    const residual = solveTwoBone(leg, rot, 0, [0, 1, 0], { upper: 1, mid: 2, end: 3 }, [0.1, -1, 0], { poleHint: [0, 0, 1] });
    expect(residual).toBeGreaterThan(0.05);
    const { foot } = endPos(rot, [0, 1, 0]);
    expect(foot[1]).toBeCloseTo(0.95 - 0.87 * 0.99995, 3);
  });
});

describe('solveTwoBone with a hinge (KNEE, ELBOW)', () => {
  const hipsAt: Vec3 = [0, 1, 0];
  const chain = { upper: 1, mid: 2, end: 3 };
  const hf = hingeFrame(leg, 1, 2, 3, KNEE);
  const fresh = () => Float64Array.from([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]);

  it('reaches reachable targets with a knee that turns about its one axis only, bending toward the pole', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -0.35, max: 0.35, noNaN: true }),
        fc.double({ min: -0.8, max: -0.3, noNaN: true }),
        fc.double({ min: -0.35, max: 0.45, noNaN: true }),
        fc.double({ min: -0.6, max: 0.6, noNaN: true }),
        (x, y, z, yaw) => {
          const rot = fresh();
          const target: Vec3 = [0.1 + x, 1 + y, z];
          const pole: Vec3 = [Math.sin(yaw), 0, Math.cos(yaw)];
          const miss = solveTwoBone(leg, rot, 0, hipsAt, chain, target, { poleHint: pole, hinge: KNEE });
          const { foot, knee } = endPos(rot, hipsAt);
          const hip: Vec3 = [0.1, 0.95, 0];
          const d = vlen(vsub(target, hip));
          if (d < 0.86 && d > 0.2) expect(vlen(vsub(foot, target))).toBeLessThan(1e-6);
          expect(miss).toBeCloseTo(vlen(vsub(foot, target)), 9);
          expect(offHingeAngle(rot, 2 * 4, hf.axis)).toBeLessThan(1e-6);
          const flex = hingeFlexion(rot, 2 * 4, hf.axis) + hf.restFlexion;
          expect(flex).toBeGreaterThanOrEqual(KNEE.min - 1e-9);
          expect(flex).toBeLessThanOrEqual(KNEE.max + 1e-9);
          // The knee bulges off the hip→ankle line toward the pole.
          const axis = vsub(foot, hip);
          const along = (knee[0] - hip[0]) * axis[0] + (knee[1] - hip[1]) * axis[1] + (knee[2] - hip[2]) * axis[2];
          const t = along / (vlen(axis) ** 2);
          const off = [knee[0] - hip[0] - axis[0] * t, knee[1] - hip[1] - axis[1] * t, knee[2] - hip[2] - axis[2] * t];
          if (Math.hypot(off[0], off[1], off[2]) > 1e-3) expect(off[0] * pole[0] + off[2] * pole[2]).toBeGreaterThan(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never hyperextends: a target beyond reach leaves the knee straight at 0° flexion, not bent backward', () => {
    const rot = fresh();
    const miss = solveTwoBone(leg, rot, 0, hipsAt, chain, [0.1, -0.2, 0.3], { poleHint: [0, 0, 1], hinge: KNEE });
    expect(miss).toBeGreaterThan(0.1);
    expect(hingeFlexion(rot, 2 * 4, hf.axis) + hf.restFlexion).toBeCloseTo(0, 9);
  });

  it('with a soft reach, eases toward full extension: the reached distance rises smoothly with the target, no plateau and no jump', () => {
    const hip: Vec3 = [0.1, 0.95, 0];
    const reached: number[] = [];
    for (let k = 0; k <= 60; k++) {
      const d = 0.75 + k * 0.004;
      const rot = fresh();
      solveTwoBone(leg, rot, 0, hipsAt, chain, [0.1, 0.95 - d * Math.cos(0.2), d * Math.sin(0.2)], { poleHint: [0, 0, 1], hinge: KNEE, soft: 0.05 });
      reached.push(vlen(vsub(endPos(rot, hipsAt).foot, hip)));
    }
    const steps = reached.slice(1).map((r, i) => r - reached[i]);
    // Strictly rising (never locked straight) and never faster than the target moves (no snap).
    for (const s of steps) {
      expect(s).toBeGreaterThan(0);
      expect(s).toBeLessThanOrEqual(0.004 + 1e-9);
    }
    expect(reached[reached.length - 1]).toBeLessThan(0.87);
  });

  it('bends an elbow forward about its one axis, on a T-pose arm', () => {
    const arm = skeletonFromWire([
      { name: 'Chest', parent: null, rest_translation: [0, 1.4, 0] },
      { name: 'Arm', parent: 'Chest', rest_translation: [0.2, 0, 0] },
      { name: 'ForeArm', parent: 'Arm', rest_translation: [0.28, 0, 0] },
      { name: 'Hand', parent: 'ForeArm', rest_translation: [0.25, 0, 0] },
    ]);
    const rot = fresh();
    const target: Vec3 = [0.45, 1.3, 0.25];
    const miss = solveTwoBone(arm, rot, 0, [0, 1.4, 0], chain, target, { poleHint: [0, 0, -1], hinge: ELBOW });
    expect(miss).toBeLessThan(1e-6);
    const ef = hingeFrame(arm, 1, 2, 3, ELBOW);
    expect(offHingeAngle(rot, 2 * 4, ef.axis)).toBeLessThan(1e-6);
    expect(hingeFlexion(rot, 2 * 4, ef.axis)).toBeGreaterThan(0.3);
    const pos = new Float64Array(12);
    forwardKinematics(arm, rot, [0, 1.4, 0], pos);
    // The elbow points back (the pole), the hand is in front of it.
    expect(pos[2 * 3 + 2]).toBeLessThan(target[2]);
  });
});
