/** Locomotion: planted feet stay put, legs alternate, arms answer the legs, speed follows stride × cadence, turns turn the documented way. */
import { describe, expect, it } from 'vitest';
import { generateMotion } from '../../../src/adapters/procedural/generate.js';
import { JOINT, PROCEDURAL_SKELETON } from '../../../src/adapters/procedural/rig.js';
import { footModel, footPointAt } from '../../../src/motion/foot.js';
import { mapHumanoid } from '../../../src/motion/humanoid.js';
import { clipForwardKinematics } from '../../../src/motion/skeleton.js';
import type { MotionId } from '../../../src/adapters/procedural/prompt.js';
import { correlation, inContact, maxDrift, positions, rootForward, rootYaw, runs, CONTACT_INDEX } from './measure.js';

const FPS = 30;
const GAITS: MotionId[] = ['walk', 'jog', 'run', 'walk_backward', 'sidestep_left', 'sidestep_right', 'march', 'sneak', 'turn_left', 'turn_right', 'turn_around'];
const SEEDS = [1, 42, 2024, 987654321];

describe('planted feet do not slide', () => {
  for (const motion of GAITS) {
    it(`${motion}: every contact joint drifts < 2 cm while the generator has it planted`, () => {
      for (const seed of SEEDS) {
        const g = generateMotion(motion, 240, FPS, seed, seed % 3);
        const pos = positions(g.clip);
        for (let k = 0; k < 4; k++) {
          const spans = runs(g.clip.numFrames, inContact(g.contacts, k));
          expect(spans.length).toBeGreaterThan(0);
          expect(maxDrift(pos, CONTACT_INDEX[k], spans)).toBeLessThan(0.02);
        }
      }
    });
  }

  // The foot rolls heel → flat → ball → toe tip: the ankle is placed from whichever sole point is
  // planted, so it sits above its flat height at heel strike and heel-off (it used to be pinned there).
  it('a planted heel has its heel sole point on the floor; a planted toe has its ball or toe tip there', () => {
    const g = generateMotion('walk', 180, FPS, 3, 0);
    const F = g.clip.numFrames;
    const P = new Float64Array(F * 22 * 3), R = new Float64Array(F * 22 * 4);
    clipForwardKinematics(PROCEDURAL_SKELETON, g.clip, P, R);
    const feet = footModel(PROCEDURAL_SKELETON, mapHumanoid(PROCEDURAL_SKELETON));
    const at = new Float64Array(3);
    const height = (side: 0 | 1, k: number, f: number) => {
      footPointAt(feet.sides[side][k], 22, P, R, f, at);
      return at[1];
    };
    for (let f = 0; f < F; f++) {
      for (const side of [0, 1] as const) {
        if (g.contacts[f * 4 + side * 2] === 1) expect(Math.abs(height(side, 0, f))).toBeLessThan(1e-6);
        if (g.contacts[f * 4 + side * 2 + 1] === 1) expect(Math.min(Math.abs(height(side, 1, f)), Math.abs(height(side, 2, f)))).toBeLessThan(1e-6);
      }
    }
  });
});

/** Frames where each foot lands (starts a toe contact run), tagged by foot. */
function landings(contacts: Uint8Array, frames: number): { frame: number; foot: 0 | 1 }[] {
  const out: { frame: number; foot: 0 | 1 }[] = [];
  for (const foot of [0, 1] as const) {
    for (const [a] of runs(frames, inContact(contacts, foot * 2 + 1))) if (a > 0) out.push({ frame: a, foot });
  }
  return out.sort((x, y) => x.frame - y.frame);
}

describe('stepping', () => {
  for (const motion of ['walk', 'run', 'jog', 'walk_backward', 'sidestep_left', 'march'] as MotionId[]) {
    it(`${motion}: left and right steps alternate`, () => {
      for (const seed of SEEDS) {
        const g = generateMotion(motion, 240, FPS, seed, 0);
        const steps = landings(g.contacts, 240);
        expect(steps.length).toBeGreaterThan(5);
        for (let i = 1; i < steps.length; i++) expect(steps[i].foot).not.toBe(steps[i - 1].foot);
      }
    });
  }

  it('runs and jogs have a flight phase; walks always keep a foot down', () => {
    for (const seed of SEEDS) {
      for (const [motion, flies] of [['run', true], ['jog', true], ['walk', false], ['march', false]] as const) {
        const g = generateMotion(motion, 240, FPS, seed, 1);
        const airborne = runs(240, (f) => [0, 1, 2, 3].every((k) => g.contacts[f * 4 + k] === 0)).reduce((n, [a, b]) => n + b - a + 1, 0);
        if (flies) expect(airborne).toBeGreaterThan(10);
        else expect(airborne).toBe(0);
      }
    }
  });

  it('root speed is derived from step length × cadence, and same-foot plants are two steps apart', () => {
    for (const motion of ['walk', 'jog', 'run', 'walk_backward', 'sidestep_left'] as MotionId[]) {
      for (const seed of SEEDS) {
        const g = generateMotion(motion, 300, FPS, seed, 2);
        const step = g.info.step as number;
        const cadence = g.info.cadence as number;
        const r = g.clip.rootPositions;
        // After the start-up ramp: distance over 5 s ≈ steps taken × step length.
        const a = 90, b = 240;
        const dist = Math.hypot(r[b * 3] - r[a * 3], r[b * 3 + 2] - r[a * 3 + 2]);
        const steps = ((b - a) / FPS) * cadence;
        expect(Math.abs(dist - steps * step) / (steps * step)).toBeLessThan(0.03);
        const plants = g.plants![0].filter((p) => p.land > 1.5 && p.land < 8);
        for (let i = 1; i < plants.length; i++) {
          const d = Math.hypot(plants[i].x - plants[i - 1].x, plants[i].z - plants[i - 1].z);
          expect(d).toBeCloseTo(2 * step, 2);
        }
      }
    }
  });

  it('walk and run travel along +Z, backward along −Z, sidesteps along ±X, starting at the origin', () => {
    const end = (m: MotionId) => {
      const g = generateMotion(m, 150, FPS, 5, 0);
      const r = g.clip.rootPositions;
      expect(r[0]).toBe(0);
      expect(r[2]).toBe(0);
      const f = 149 * 3;
      return [r[f], r[f + 2]];
    };
    expect(end('walk')[1]).toBeGreaterThan(4);
    expect(Math.abs(end('walk')[0])).toBeLessThan(0.1);
    expect(end('run')[1]).toBeGreaterThan(10);
    expect(end('walk_backward')[1]).toBeLessThan(-2);
    expect(end('sidestep_left')[0]).toBeGreaterThan(1.5);
    expect(end('sidestep_right')[0]).toBeLessThan(-1.5);
    expect(Math.abs(end('sidestep_left')[1])).toBeLessThan(0.05);
  });

  it('arms swing against the legs: the left hand is forward while the right foot is forward', () => {
    for (const motion of ['walk', 'run', 'jog', 'march'] as MotionId[]) {
      for (const seed of SEEDS) {
        const g = generateMotion(motion, 240, FPS, seed, 0);
        const pos = positions(g.clip);
        const leftHand: number[] = [], rightHand: number[] = [], leftFoot: number[] = [], rightFoot: number[] = [];
        for (let f = 45; f < 240; f++) {
          const hips = pos.at(f, JOINT.Hips)[2];
          leftHand.push(pos.at(f, JOINT.LeftHand)[2] - hips);
          rightHand.push(pos.at(f, JOINT.RightHand)[2] - hips);
          leftFoot.push(pos.at(f, JOINT.LeftFoot)[2] - hips);
          rightFoot.push(pos.at(f, JOINT.RightFoot)[2] - hips);
        }
        expect(correlation(leftHand, rightFoot)).toBeGreaterThan(0.6);
        expect(correlation(rightHand, leftFoot)).toBeGreaterThan(0.6);
        expect(correlation(leftHand, leftFoot)).toBeLessThan(-0.6);
      }
    }
  });
});

describe('turns', () => {
  // Convention: "turn left" turns a character facing +Z (left side at +X) toward +X, i.e. a positive
  // rotation about +Y (qyaw > 0). In MMCP root_path terms that is heading_radians = −π/2.
  it('turn_left ends facing +X, turn_right facing −X, turn_around facing −Z, all on the spot', () => {
    const cases: [MotionId, [number, number]][] = [['turn_left', [1, 0]], ['turn_right', [-1, 0]], ['turn_around', [0, -1]]];
    for (const [motion, [fx, fz]] of cases) {
      for (const seed of SEEDS) {
        const g = generateMotion(motion, 90, FPS, seed, 0);
        expect(rootYaw(g.clip, 0)).toBeCloseTo(0, 6);
        const fwd = rootForward(g.clip, 89);
        expect(fwd[0]).toBeCloseTo(fx, 1);
        expect(fwd[2]).toBeCloseTo(fz, 1);
        const r = g.clip.rootPositions;
        expect(Math.hypot(r[89 * 3], r[89 * 3 + 2])).toBeLessThan(0.05);
      }
    }
    expect(rootYaw(generateMotion('turn_left', 90, FPS, 1, 0).clip, 89)).toBeCloseTo(Math.PI / 2, 1);
  });

  it('the turn steps around: both feet end beside each other at the new heading', () => {
    const g = generateMotion('turn_left', 90, FPS, 8, 0);
    const pos = positions(g.clip);
    const l = pos.at(89, JOINT.LeftFoot);
    const r = pos.at(89, JOINT.RightFoot);
    // Facing +X, the character's left is −Z.
    expect(l[2]).toBeLessThan(r[2] - 0.12);
    expect(Math.abs(l[0] - r[0])).toBeLessThan(0.03);
  });

  it('short segments still complete the turn', () => {
    const g = generateMotion('turn_right', 40, FPS, 3, 0);
    expect(rootYaw(g.clip, 39)).toBeCloseTo(-Math.PI / 2, 1);
  });
});
