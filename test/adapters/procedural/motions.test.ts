/** Every motion: exact frame counts, unit quaternions, feet above the floor, determinism, sample variety; plus what each non-gait motion must look like. */
import { describe, expect, it } from 'vitest';
import { generateMotion } from '../../../src/adapters/procedural/generate.js';
import { MOTIONS } from '../../../src/adapters/procedural/motions/index.js';
import { MOTION_IDS, type MotionId } from '../../../src/adapters/procedural/prompt.js';
import { JOINT, REST } from '../../../src/adapters/procedural/rig.js';
import { CONTACT_INDEX, inContact, lowestJoint, maxDrift, positions, runs } from './measure.js';

const FPS = 30;

describe('every motion', () => {
  it('there are at least 20 motions, each with a generator', () => {
    expect(MOTION_IDS.length).toBeGreaterThanOrEqual(20);
    for (const id of MOTION_IDS) expect(typeof MOTIONS[id].generate).toBe('function');
  });

  for (const motion of MOTION_IDS) {
    it(`${motion}: exact frames at any fps, unit quaternions in one hemisphere, root at the origin on frame 0, feet above the floor`, () => {
      for (const [frames, fps] of [[1, 30], [17, 24], [95, 30], [181, 60]] as const) {
        const g = generateMotion(motion, frames, fps, frames * 7 + fps, 0);
        const c = g.clip;
        expect(c.numFrames).toBe(frames);
        expect(c.fps).toBe(fps);
        expect(c.jointCount).toBe(22);
        expect(c.rotations.length).toBe(frames * 22 * 4);
        expect(c.rootPositions.length).toBe(frames * 3);
        expect(g.contacts.length).toBe(frames * 4);
        expect(c.rootPositions[0]).toBe(0);
        expect(c.rootPositions[2]).toBe(0);
        for (let i = 0; i < frames * 22; i++) {
          const o = i * 4;
          const n = Math.hypot(c.rotations[o], c.rotations[o + 1], c.rotations[o + 2], c.rotations[o + 3]);
          expect(Math.abs(n - 1)).toBeLessThan(1e-9);
          if (i >= 22) {
            const p = o - 88;
            expect(c.rotations[o] * c.rotations[p] + c.rotations[o + 1] * c.rotations[p + 1] + c.rotations[o + 2] * c.rotations[p + 2] + c.rotations[o + 3] * c.rotations[p + 3]).toBeGreaterThanOrEqual(0);
          }
        }
        for (const v of c.rootPositions) expect(Number.isFinite(v)).toBe(true);
      }
      for (const seed of [3, 99, 123456]) {
        for (const sample of [0, 5]) {
          const g = generateMotion(motion, 150, FPS, seed, sample);
          expect(lowestJoint(positions(g.clip), 22)).toBeGreaterThan(-0.01);
        }
      }
    });

    it(`${motion}: same seed and sample give identical arrays; other samples differ`, () => {
      const a = generateMotion(motion, 90, FPS, 77, 1);
      const b = generateMotion(motion, 90, FPS, 77, 1);
      expect(b.clip.rotations).toEqual(a.clip.rotations);
      expect(b.clip.rootPositions).toEqual(a.clip.rootPositions);
      expect(b.contacts).toEqual(a.contacts);
      const others = [0, 2, 3].map((s) => generateMotion(motion, 90, FPS, 77, s));
      const differing = others.filter((o) => maxAbsDiff(o.clip.rotations, a.clip.rotations) > 0.02).length;
      expect(differing).toBeGreaterThanOrEqual(2);
      expect(maxAbsDiff(generateMotion(motion, 90, FPS, 78, 1).clip.rotations, a.clip.rotations)).toBeGreaterThan(0.01);
    });
  }
});

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Motions whose feet never move. */
const PLANTED: MotionId[] = ['idle', 'wave', 'clap', 'cheer', 'punch', 'bow', 'nod', 'shake_head', 'look_around', 'stretch', 'throw', 'shrug', 'point', 'sit_down', 'stand_up', 'crouch', 'squat'];

describe('motions on planted feet', () => {
  for (const motion of PLANTED) {
    it(`${motion}: both feet stay planted (< 2 cm) for the whole clip`, () => {
      for (const seed of [1, 2, 3, 4]) {
        const g = generateMotion(motion, 180, FPS, seed, seed);
        const pos = positions(g.clip);
        for (let k = 0; k < 4; k++) {
          expect(runs(180, inContact(g.contacts, k))).toEqual([[0, 179]]);
          expect(maxDrift(pos, CONTACT_INDEX[k], [[0, 179]])).toBeLessThan(0.02);
        }
      }
    });
  }

  const handHeight = (motion: MotionId, seed: number, side: 'Left' | 'Right', frame: number) =>
    positions(generateMotion(motion, 120, FPS, seed, 0, side === 'Left' ? { side: 'left' } : { side: 'right' }).clip).at(frame, side === 'Left' ? JOINT.LeftHand : JOINT.RightHand)[1];

  it('wave raises the named hand above the shoulder and moves it side to side', () => {
    for (const side of ['Left', 'Right'] as const) {
      expect(handHeight('wave', 1, side, 60)).toBeGreaterThan(1.45);
      const g = generateMotion('wave', 120, FPS, 1, 0, { side: side === 'Left' ? 'left' : 'right' });
      const pos = positions(g.clip);
      const j = side === 'Left' ? JOINT.LeftHand : JOINT.RightHand;
      const xs = Array.from({ length: 40 }, (_, i) => pos.at(40 + i, j)[0]);
      expect(Math.max(...xs) - Math.min(...xs)).toBeGreaterThan(0.06);
      const other = side === 'Left' ? JOINT.RightHand : JOINT.LeftHand;
      expect(pos.at(60, other)[1]).toBeLessThan(1.1);
    }
  });

  it('cheer lifts at least one hand over the head; clap brings the hands together repeatedly', () => {
    for (const seed of [1, 2, 3]) {
      const pos = positions(generateMotion('cheer', 90, FPS, seed, 0).clip);
      expect(Math.max(pos.at(45, JOINT.LeftHand)[1], pos.at(45, JOINT.RightHand)[1])).toBeGreaterThan(1.5);
    }
    const pos = positions(generateMotion('clap', 120, FPS, 1, 0).clip);
    const gaps = Array.from({ length: 80 }, (_, i) => {
      const l = pos.at(20 + i, JOINT.LeftHand);
      const r = pos.at(20 + i, JOINT.RightHand);
      return Math.hypot(l[0] - r[0], l[1] - r[1], l[2] - r[2]);
    });
    expect(Math.min(...gaps)).toBeLessThan(0.12);
    expect(Math.max(...gaps)).toBeGreaterThan(0.2);
    const closings = gaps.filter((g, i) => i > 0 && i < gaps.length - 1 && g < gaps[i - 1] && g <= gaps[i + 1] && g < 0.15).length;
    expect(closings).toBeGreaterThanOrEqual(3);
  });

  it('punch extends a fist forward, well in front of the chest', () => {
    const pos = positions(generateMotion('punch', 120, FPS, 2, 0).clip);
    let reach = 0;
    for (let f = 0; f < 120; f++) reach = Math.max(reach, pos.at(f, JOINT.LeftHand)[2], pos.at(f, JOINT.RightHand)[2]);
    expect(reach).toBeGreaterThan(0.45);
  });

  it('bow tips the head forward and down, then comes back up', () => {
    const pos = positions(generateMotion('bow', 120, FPS, 4, 0, { size: 'big' }).clip);
    const heads = Array.from({ length: 120 }, (_, f) => pos.at(f, JOINT.Head));
    const lowest = heads.reduce((m, h) => Math.min(m, h[1]), Infinity);
    expect(lowest).toBeLessThan(heads[0][1] - 0.18);
    expect(Math.max(...heads.map((h) => h[2]))).toBeGreaterThan(0.3);
    expect(heads[119][1]).toBeGreaterThan(heads[0][1] - 0.05);
  });

  it('sit down lowers the hips behind the feet with the knees bent; stand up does the reverse', () => {
    for (const seed of [1, 2, 3]) {
      const g = generateMotion('sit_down', 90, FPS, seed, 0);
      const pos = positions(g.clip);
      const hips = pos.at(89, JOINT.Hips);
      expect(hips[1]).toBeLessThan(0.6);
      expect(hips[2]).toBeLessThan(-0.25);
      expect(kneeBend(pos, 89)).toBeGreaterThan(70);
      const up = positions(generateMotion('stand_up', 90, FPS, seed, 0).clip);
      expect(up.at(0, JOINT.Hips)[1]).toBeLessThan(0.6);
      expect(up.at(89, JOINT.Hips)[1]).toBeGreaterThan(0.9);
      expect(kneeBend(up, 89)).toBeLessThan(20);
    }
  });

  it('crouch stays low with bent knees; squat goes down and comes back up', () => {
    const c = positions(generateMotion('crouch', 90, FPS, 5, 0).clip);
    expect(c.at(89, JOINT.Hips)[1]).toBeLessThan(0.8);
    expect(kneeBend(c, 89)).toBeGreaterThan(50);
    const s = generateMotion('squat', 150, FPS, 5, 0).clip;
    const ys = Array.from({ length: 150 }, (_, f) => s.rootPositions[f * 3 + 1]);
    expect(Math.min(...ys)).toBeLessThan(0.65);
    expect(ys[0]).toBeGreaterThan(0.9);
  });
});

/** Knee flexion in degrees (0 straight) of the left leg at frame f. */
function kneeBend(pos: ReturnType<typeof positions>, f: number): number {
  const h = pos.at(f, JOINT.LeftUpLeg);
  const k = pos.at(f, JOINT.LeftLeg);
  const a = pos.at(f, JOINT.LeftFoot);
  const u = [k[0] - h[0], k[1] - h[1], k[2] - h[2]];
  const v = [a[0] - k[0], a[1] - k[1], a[2] - k[2]];
  const cos = (u[0] * v[0] + u[1] * v[1] + u[2] * v[2]) / (Math.hypot(...u) * Math.hypot(...v));
  return (Math.acos(Math.min(1, cos)) * 180) / Math.PI;
}

describe('jump', () => {
  for (const mods of [{}, { forward: true }, { size: 'big' as const }]) {
    it(`leaves the ground and lands planted ${JSON.stringify(mods)}`, () => {
      for (const seed of [1, 2, 3, 4, 5]) {
        const g = generateMotion('jump', 75, FPS, seed, seed, mods);
        const pos = positions(g.clip);
        // Apex: the frame where the lowest contact joint is highest.
        let apex = 0, best = -Infinity;
        for (let f = 0; f < 75; f++) {
          const low = Math.min(...CONTACT_INDEX.map((j) => pos.at(f, j)[1]));
          if (low > best) { best = low; apex = f; }
        }
        expect(best).toBeGreaterThan(0.1);
        expect([0, 1, 2, 3].every((k) => g.contacts[apex * 4 + k] === 0)).toBe(true);
        // It crouches first, and it lands: planted at the start and again at the end, each run drift-free.
        expect(Math.min(...Array.from({ length: apex }, (_, f) => g.clip.rootPositions[f * 3 + 1]))).toBeLessThan(0.85);
        for (let k = 0; k < 4; k++) {
          const spans = runs(75, inContact(g.contacts, k));
          expect(spans.length).toBe(2);
          expect(spans[1][1]).toBe(74);
          expect(maxDrift(pos, CONTACT_INDEX[k], spans)).toBeLessThan(0.02);
        }
        expect(pos.at(74, JOINT.LeftFoot)[1]).toBeCloseTo(REST.ankleHeight, 6);
        const travelled = g.clip.rootPositions[74 * 3 + 2];
        if ('forward' in mods) expect(travelled).toBeGreaterThan(0.5);
        else expect(Math.abs(travelled)).toBeLessThan(0.05);
      }
    });
  }

  it('the knees absorb the landing: the hips dip below standing height after touch-down', () => {
    const g = generateMotion('jump', 75, FPS, 9, 0);
    const firstAir = runs(75, (f) => g.contacts[f * 4] === 0)[0];
    const after = Array.from({ length: 74 - firstAir[1] }, (_, i) => g.clip.rootPositions[(firstAir[1] + 1 + i) * 3 + 1]);
    expect(Math.min(...after)).toBeLessThan(0.85);
    expect(after[after.length - 1]).toBeGreaterThan(0.9);
  });
});

describe('kick and dance', () => {
  it('kick: the support foot never moves, the kicking foot rises high and comes back to where it was', () => {
    for (const [side, kj, sj] of [['right', JOINT.RightFoot, JOINT.LeftFoot], ['left', JOINT.LeftFoot, JOINT.RightFoot]] as const) {
      const g = generateMotion('kick', 75, FPS, 3, 0, { side });
      const pos = positions(g.clip);
      expect(maxDrift(pos, sj, [[0, 74]])).toBeLessThan(0.02);
      let top = 0;
      for (let f = 0; f < 75; f++) top = Math.max(top, pos.at(f, kj)[1]);
      expect(top).toBeGreaterThan(0.3);
      const a = pos.at(0, kj);
      const b = pos.at(74, kj);
      expect(Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2])).toBeLessThan(0.02);
    }
  });

  it('dance steps on a beat without foot skate and without the feet colliding', () => {
    for (const seed of [1, 2, 3, 4]) {
      const g = generateMotion('dance', 240, FPS, seed, 0);
      const pos = positions(g.clip);
      for (let k = 0; k < 4; k++) {
        const spans = runs(240, inContact(g.contacts, k));
        expect(spans.length).toBeGreaterThan(2);
        expect(maxDrift(pos, CONTACT_INDEX[k], spans)).toBeLessThan(0.02);
      }
      for (let f = 0; f < 240; f++) expect(pos.at(f, JOINT.LeftFoot)[0] - pos.at(f, JOINT.RightFoot)[0]).toBeGreaterThan(0.15);
    }
  });
});
