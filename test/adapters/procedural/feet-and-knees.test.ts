/**
 * The procedural model's feet, knees and timing, measured on its raw output (no cleanup) by forward
 * kinematics of the canonical skeleton: every sole point (heel, ball, toe tip) stays on or above the
 * floor, a planted sole point stays put, knees and elbows bend about their hinge only, a walk's knee
 * never turns faster than a walking knee does, the foot rolls heel → flat → ball → toe, turns step
 * their feet and keep living after the turn, kicks straighten the leg, punches never stop dead.
 */
import { describe, expect, it } from 'vitest';
import { footAt, WALK_SWING, type Plant } from '../../../src/adapters/procedural/feet.js';
import { generateMotion } from '../../../src/adapters/procedural/generate.js';
import { MOTIONS } from '../../../src/adapters/procedural/motions/index.js';
import type { MotionId } from '../../../src/adapters/procedural/prompt.js';
import { JOINT, PROCEDURAL_SKELETON } from '../../../src/adapters/procedural/rig.js';
import { footModel, footPointAt } from '../../../src/motion/foot.js';
import { mapHumanoid } from '../../../src/motion/humanoid.js';
import { qmul, qrotate, vget } from '../../../src/motion/quat.js';
import { DRIFT_BOUND, LOWEST_BOUND, measureClip, OFF_HINGE_BOUND } from '../../../src/motion/quality.js';
import { clipForwardKinematics } from '../../../src/motion/skeleton.js';
import type { Clip } from '../../../src/spec/motion.js';

const FPS = 30;
const S = PROCEDURAL_SKELETON;
const J = S.names.length;
const MAP = mapHumanoid(S);
const FEET = footModel(S, MAP);
const DEG = 180 / Math.PI;

interface Posed {
  F: number;
  positions: Float64Array;
  rotations: Float64Array;
  /** F × 6 × 3 sole points: left heel, ball, toe, right heel, ball, toe. */
  soles: Float64Array;
}

function posed(clip: Clip): Posed {
  const F = clip.numFrames;
  const positions = new Float64Array(F * J * 3);
  const rotations = new Float64Array(F * J * 4);
  clipForwardKinematics(S, clip, positions, rotations);
  const soles = new Float64Array(F * 18);
  for (let f = 0; f < F; f++) for (let k = 0; k < 6; k++) footPointAt(FEET.sides[k < 3 ? 0 : 1][k % 3], J, positions, rotations, f, soles, (f * 6 + k) * 3);
  return { F, positions, rotations, soles };
}

/**
 * Off-hinge angle (degrees) of a local rotation: what remains after the rotation about the hinge axis
 * (swing–twist about `axis`, a unit vector in the upper bone's local frame) is taken out; and the flexion.
 */
function hingeParts(r: ArrayLike<number>, o: number, axis: readonly [number, number, number]): { off: number; flex: number } {
  const x = r[o], y = r[o + 1], z = r[o + 2], w = r[o + 3];
  const along = x * axis[0] + y * axis[1] + z * axis[2];
  return { off: 2 * Math.acos(Math.min(1, Math.hypot(along, w))) * DEG, flex: 2 * Math.atan2(along, w) * DEG };
}
const KNEES = [[JOINT.LeftLeg, [1, 0, 0]], [JOINT.RightLeg, [1, 0, 0]]] as const;
const ELBOWS = [[JOINT.LeftForeArm, [0, -1, 0]], [JOINT.RightForeArm, [0, 1, 0]]] as const;

function worstOffHinge(clip: Clip, joints: typeof KNEES | typeof ELBOWS): number {
  let worst = 0;
  for (let f = 0; f < clip.numFrames; f++) for (const [j, axis] of joints) worst = Math.max(worst, hingeParts(clip.rotations, (f * J + j) * 4, axis).off);
  return worst;
}

/** Largest rotation of joint j between consecutive frames, in degrees per frame at the clip's fps. */
function maxStep(clip: Clip, j: number): number {
  let worst = 0;
  const r = clip.rotations;
  for (let f = 1; f < clip.numFrames; f++) {
    const a = ((f - 1) * J + j) * 4, b = (f * J + j) * 4;
    const dot = Math.abs(r[a] * r[b] + r[a + 1] * r[b + 1] + r[a + 2] * r[b + 2] + r[a + 3] * r[b + 3]);
    worst = Math.max(worst, 2 * Math.acos(Math.min(1, dot)) * DEG);
  }
  return worst;
}

const MOTION_LIST = Object.keys(MOTIONS) as MotionId[];
const SEEDS = [1, 7, 2024];

describe('every motion, raw procedural output on the canonical rig (src/motion/quality.ts measures)', () => {
  for (const motion of MOTION_LIST) {
    it(`${motion}: sole points ≥ −1 cm, planted sole points drift < 1 cm, knees and elbows hinge (< 10° off)`, () => {
      for (const seed of SEEDS) {
        const g = generateMotion(motion, 150, FPS, seed, seed % 2);
        const q = measureClip(S, MAP, g.clip, { feet: FEET });
        expect(q.lowest.height, `${motion} seed ${seed} lowest sole point (${q.lowest.side} ${q.lowest.point} @${q.lowest.frame})`).toBeGreaterThanOrEqual(LOWEST_BOUND);
        const d = q.drift;
        expect(d?.drift ?? 0, `${motion} seed ${seed} planted drift (${d?.side} ${d?.point} @${d?.from}-${d?.to})`).toBeLessThan(DRIFT_BOUND);
        expect(q.knee.offHinge, `${motion} seed ${seed} knee off-hinge @${q.knee.frame}`).toBeLessThan(OFF_HINGE_BOUND);
        expect(q.elbow.offHinge, `${motion} seed ${seed} elbow off-hinge @${q.elbow.frame}`).toBeLessThan(OFF_HINGE_BOUND);
        // Exactly about the hinge axis, bent or not: the generator's own hinge solve.
        expect(worstOffHinge(g.clip, KNEES), `${motion} seed ${seed} knee local rotation off its lateral axis`).toBeLessThan(OFF_HINGE_BOUND);
      }
    });
  }
});

describe('smooth timing', () => {
  it('a walk turns a knee at most 15° per frame at 30 fps', () => {
    for (let seed = 1; seed <= 8; seed++) {
      const g = generateMotion('walk', 240, FPS, seed, seed % 3);
      for (const [j] of KNEES) expect(maxStep(g.clip, j), `seed ${seed}`).toBeLessThanOrEqual(15);
      expect(measureClip(S, MAP, g.clip, { feet: FEET }).perFrame.knee.deg, `seed ${seed} (quality.ts)`).toBeLessThanOrEqual(15);
    }
  });

  it('punches never stop dead between strokes: the hands keep moving from the first stroke to the last', () => {
    for (const seed of SEEDS) {
      const g = generateMotion('punch', 150, FPS, seed, 0);
      const p = posed(g.clip);
      const hands = [JOINT.LeftHand, JOINT.RightHand];
      let still = 0, longest = 0;
      // From the first stroke (0.45 s) to a second before the end (the guard comes down).
      for (let f = 15; f < 120; f++) {
        const speed = Math.max(...hands.map((h) => Math.hypot(...[0, 1, 2].map((i) => p.positions[(f * J + h) * 3 + i] - p.positions[((f - 1) * J + h) * 3 + i])) * FPS));
        still = speed < 0.05 ? still + 1 : 0;
        longest = Math.max(longest, still);
      }
      expect(longest, `seed ${seed}: frames with both hands under 5 cm/s`).toBeLessThan(3);
    }
  });
});

describe('the foot rolls heel → flat → ball → toe', () => {
  it('a walking stance lands on the heel, goes flat, peels the heel up over the ball, then pivots about the toe tip', () => {
    const plant: Plant = { land: 0, lift: 0.6, x: 0.09, z: 0, yaw: 0, roll: 0.3, strike: 0.09 };
    const plants: Plant[] = [{ land: -Infinity, lift: -0.5, x: 0.09, z: -0.7, yaw: 0, roll: 0.3 }, plant];
    // Sole points of the foot alone: the Foot joint at the ankle with its world rotation, the toe joint
    // one rest offset further with the toe's local rotation on top.
    const sole = (t: number) => {
      const foot = footAt(plants, t, WALK_SWING);
      const rot = new Float64Array(J * 4), pos = new Float64Array(J * 3);
      rot.set(foot.rot, JOINT.LeftFoot * 4);
      pos.set(foot.ankle, JOINT.LeftFoot * 3);
      rot.set(qmul(foot.rot, foot.toeLocal), JOINT.LeftToeBase * 4);
      const d = qrotate(foot.rot, vget(S.offsets, JOINT.LeftToeBase));
      pos.set([foot.ankle[0] + d[0], foot.ankle[1] + d[1], foot.ankle[2] + d[2]], JOINT.LeftToeBase * 3);
      const out = new Float64Array(9);
      FEET.sides[0].forEach((pt, i) => footPointAt(pt, J, pos, rot, 0, out, i * 3));
      return { heel: [out[0], out[1], out[2]], ball: [out[3], out[4], out[5]], toe: [out[6], out[7], out[8]], foot };
    };
    const at0 = sole(0.0001);
    // Heel strike: the heel is down, the toes up.
    expect(at0.heel[1]).toBeLessThan(1e-6);
    expect(at0.toe[1]).toBeGreaterThan(0.01);
    expect(at0.foot.heel && !at0.foot.toe).toBe(true);
    // Flat.
    const flat = sole(0.2);
    for (const p of [flat.heel, flat.ball, flat.toe]) expect(Math.abs(p[1])).toBeLessThan(1e-9);
    // Heel-off: heel up, ball and toe tip planted where they were when flat.
    const heelOff = sole(0.4);
    expect(heelOff.heel[1]).toBeGreaterThan(0.01);
    expect(Math.hypot(heelOff.ball[0] - flat.ball[0], heelOff.ball[1] - flat.ball[1], heelOff.ball[2] - flat.ball[2])).toBeLessThan(1e-6);
    // Toe-off: only the toe tip is down, where it was when flat.
    const toeOff = sole(0.59);
    expect(toeOff.ball[1]).toBeGreaterThan(0.002);
    expect(Math.hypot(toeOff.toe[0] - flat.toe[0], toeOff.toe[1] - flat.toe[1], toeOff.toe[2] - flat.toe[2])).toBeLessThan(1e-6);
    // The heel stays where it struck until the foot is flat.
    const mid = sole(0.045);
    expect(Math.hypot(mid.heel[0] - at0.heel[0], mid.heel[1] - at0.heel[1], mid.heel[2] - at0.heel[2])).toBeLessThan(1e-6);
  });

  it('gaits place the ankle from the planted point: at heel strike the ankle is above its flat height', () => {
    const g = generateMotion('walk', 180, FPS, 3, 0);
    const p = posed(g.clip);
    let strikes = 0;
    for (let f = 1; f < p.F; f++) {
      // Heel contact without toe contact: the heel rocker.
      if (g.contacts[f * 4] === 1 && g.contacts[f * 4 + 1] === 0) {
        strikes++;
        expect(p.soles[(f * 6) * 3 + 1]).toBeLessThan(1e-6);
        expect(p.positions[(f * J + JOINT.LeftFoot) * 3 + 1]).toBeGreaterThan(FEET.floor + 0.078125 + 1e-4);
      }
    }
    expect(strikes).toBeGreaterThan(0);
  });
});

describe('kicks, turns', () => {
  it('a kick chambers, extends the leg to nearly straight (< 20° flexion), re-chambers and sets the foot down', () => {
    for (const seed of SEEDS) {
      const g = generateMotion('kick', 90, FPS, seed, 0);
      const side = g.info.leg === 'left' ? 0 : 1;
      const knee = KNEES[side][0];
      const foot = side === 0 ? JOINT.LeftFoot : JOINT.RightFoot;
      const p = posed(g.clip);
      let minAirFlex = Infinity, maxFlex = 0, airborne = 0;
      for (let f = 0; f < p.F; f++) {
        const flex = hingeParts(g.clip.rotations, (f * J + knee) * 4, [1, 0, 0]).flex;
        maxFlex = Math.max(maxFlex, flex);
        if (p.positions[(f * J + foot) * 3 + 1] > 0.3) { airborne++; minAirFlex = Math.min(minAirFlex, flex); }
      }
      expect(airborne).toBeGreaterThan(5);
      expect(maxFlex, 'chamber').toBeGreaterThan(80);
      expect(minAirFlex, 'extension').toBeLessThan(20);
      // Set down flat where it started.
      const last = p.F - 1;
      expect(p.positions[(last * J + foot) * 3 + 1]).toBeCloseTo(0.078125, 3);
    }
  });

  for (const motion of ['turn_left', 'turn_right', 'turn_around'] as MotionId[]) {
    it(`${motion}: each foot steps (lifts ≥ 2 cm, moves, plants) and the body keeps living after the turn`, () => {
      for (const seed of SEEDS) {
        const g = generateMotion(motion, 150, FPS, seed, 0);
        const p = posed(g.clip);
        for (const side of [0, 1]) {
          // Every run of frames with the foot off the floor (no contact flag) lifts its lowest sole point ≥ 2 cm.
          let lifted = 0, peak = 0, swings = 0;
          for (let f = 0; f <= p.F; f++) {
            const up = f < p.F && g.contacts[f * 4 + side * 2] === 0 && g.contacts[f * 4 + side * 2 + 1] === 0;
            if (up) {
              lifted++;
              let low = Infinity;
              for (let k = 0; k < 3; k++) low = Math.min(low, p.soles[(f * 6 + side * 3 + k) * 3 + 1]);
              peak = Math.max(peak, low);
            } else if (lifted > 0) {
              swings++;
              expect(peak, `${motion} seed ${seed} side ${side} step height`).toBeGreaterThanOrEqual(0.02);
              lifted = 0;
              peak = 0;
            }
          }
          expect(swings, `${motion} seed ${seed} side ${side} steps`).toBeGreaterThan(0);
        }
        // No frozen hold: in every half second of the last two seconds some joint still turns.
        for (let a = p.F - 60; a + 15 <= p.F; a += 15) {
          let motionDeg = 0;
          for (let f = a + 1; f < a + 15; f++) {
            for (let j = 0; j < J; j++) {
              const r = g.clip.rotations, o = (f * J + j) * 4, q = o - J * 4;
              const dot = Math.abs(r[o] * r[q] + r[o + 1] * r[q + 1] + r[o + 2] * r[q + 2] + r[o + 3] * r[q + 3]);
              motionDeg = Math.max(motionDeg, 2 * Math.acos(Math.min(1, dot)) * DEG);
            }
          }
          expect(motionDeg, `${motion} seed ${seed} frames ${a}-${a + 15}`).toBeGreaterThan(0.05);
        }
      }
    });
  }
});
