import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { contactRuns, footContacts, footDrift, pointContacts, removeShortRuns } from '../../src/motion/contacts.js';
import { allocClip, clipWorldPositions } from '../../src/motion/clip.js';
import type { Clip } from '../../src/spec/motion.js';
import { solveTwoBone } from '../../src/motion/ik.js';
import { jointIndex, skeletonFromWire } from '../../src/motion/skeleton.js';
import { qset, smoothstep, type Vec3 } from '../../src/motion/quat.js';

const rig = skeletonFromWire([
  { name: 'Hips', parent: null, rest_translation: [0, 0.95, 0] },
  { name: 'LeftUpLeg', parent: 'Hips', rest_translation: [0.09, -0.05, 0] },
  { name: 'LeftLeg', parent: 'LeftUpLeg', rest_translation: [0, -0.45, 0] },
  { name: 'LeftFoot', parent: 'LeftLeg', rest_translation: [0, -0.42, 0] },
  { name: 'LeftToe', parent: 'LeftFoot', rest_translation: [0, -0.03, 0.1] },
  { name: 'RightUpLeg', parent: 'Hips', rest_translation: [-0.09, -0.05, 0] },
  { name: 'RightLeg', parent: 'RightUpLeg', rest_translation: [0, -0.45, 0] },
  { name: 'RightFoot', parent: 'RightLeg', rest_translation: [0, -0.42, 0] },
  { name: 'RightToe', parent: 'RightFoot', rest_translation: [0, -0.03, 0.1] },
]);
const J = rig.names.length;
const LEFT = jointIndex(rig, 'LeftFoot');
const RIGHT = jointIndex(rig, 'RightFoot');
const ANKLE_REST = 0.03; // ankle height at rest above the floor (the toes at y = 0)

const CYCLE = 1.1; // seconds per step cycle of one foot
const STANCE = 0.6; // fraction of the cycle on the ground
const STRIDE = 0.7; // metres the root travels per cycle

interface Gait {
  clip: Clip;
  /** Ground truth per foot and frame: in its stance phase. */
  stance: boolean[][];
}

/**
 * A walk with planted feet by construction: feet targets fixed during stance, arcing during swing, legs
 * solved with two-bone IK. `skate` (m/s) makes stance feet slide forward instead.
 */
function stepping(frames: number, fps: number, skate = 0): Gait {
  const clip = allocClip(J, frames, fps);
  const stance: boolean[][] = [[], []];
  const speed = STRIDE / CYCLE;
  for (let f = 0; f < frames; f++) {
    const t = f / fps;
    for (let j = 0; j < J; j++) qset(clip.rotations, f * J + j, [0, 0, 0, 1]);
    const root: Vec3 = [0, 0.9, speed * t];
    clip.rootPositions.set(root, f * 3);
    [[LEFT, 0, 0.09], [RIGHT, 0.5, -0.09]].forEach(([foot, phase, x], side) => {
      const cyc = t / CYCLE + phase;
      const c = Math.floor(cyc);
      const u = cyc - c;
      const home = STRIDE * (STANCE / 2 - phase);
      let z: number, y = ANKLE_REST;
      if (u < STANCE) {
        z = c * STRIDE + home + skate * (u - STANCE / 2) * CYCLE;
        stance[side].push(true);
      } else {
        const s = (u - STANCE) / (1 - STANCE);
        z = (c + smoothstep(s)) * STRIDE + home;
        y += 0.08 * Math.sin(Math.PI * s);
        stance[side].push(false);
      }
      solveTwoBone(rig, clip.rotations, f * J, root, { upper: foot - 2, mid: foot - 1, end: foot }, [x, y, z], { poleHint: [0, 0, 1] });
    });
  }
  return { clip, stance };
}

function agreement(a: boolean[], b: boolean[]): number {
  return a.filter((v, i) => v === b[i]).length / a.length;
}

describe('footContacts', () => {
  it('finds the stance phases of a stepping clip, one run per stance, no flicker', () => {
    for (const fps of [30, 60]) {
      const { clip, stance } = stepping(4 * fps, fps);
      const [left, right] = footContacts(rig, clip, [LEFT, RIGHT]);
      for (const [flags, truth] of [[left, stance[0]], [right, stance[1]]]) {
        expect(flags).toHaveLength(clip.numFrames);
        expect(agreement(flags, truth)).toBeGreaterThan(0.9);
        // Every stance frame is planted; a few frames of lift-off/touch-down may join them.
        expect(truth.every((s, f) => !s || flags[f])).toBe(true);
        expect(contactRuns(flags)).toHaveLength(contactRuns(truth).length);
        for (const r of contactRuns(flags)) expect(r.end - r.start + 1).toBeGreaterThanOrEqual(2);
      }
    }
  });

  it('marks nothing as planted while a foot swings high or slides fast', () => {
    const fps = 30;
    const clip = allocClip(J, 30, fps);
    for (let f = 0; f < 30; f++) {
      for (let j = 0; j < J; j++) qset(clip.rotations, f * J + j, [0, 0, 0, 1]);
      // Frames 0–9 lifted 10 cm, 10–19 sliding at 1 m/s on the floor, 20–29 standing.
      clip.rootPositions.set([0, 0.95 + (f < 10 ? 0.1 : 0), f >= 10 && f < 20 ? f / fps : 20 / fps], f * 3);
    }
    const [flags] = footContacts(rig, clip, [LEFT]);
    expect(flags.slice(0, 19).every((v) => !v)).toBe(true);
    expect(flags.slice(20).every((v) => v)).toBe(true);
  });

  it('ignores single-frame spikes and dips (hysteresis and minimum run length)', () => {
    const fps = 30;
    const clip = allocClip(J, 30, fps);
    for (let f = 0; f < 30; f++) {
      for (let j = 0; j < J; j++) qset(clip.rotations, f * J + j, [0, 0, 0, 1]);
      // Standing, but frame 8 lifts 5 cm; lifted 20 cm from frame 15 on, but frame 22 touches down.
      const lift = f === 8 ? 0.05 : f >= 15 && f !== 22 ? 0.2 : 0;
      clip.rootPositions.set([0, 0.95 + lift, 0], f * 3);
    }
    const [flags] = footContacts(rig, clip, [LEFT]);
    expect(flags.slice(0, 15).every((v) => v)).toBe(true);
    expect(flags.slice(15).every((v) => !v)).toBe(true);
  });

  it('measures heights against the rest height of each joint above the floor', () => {
    // The toe rests on the floor, the ankle 3 cm above it: both planted when standing at rest.
    const clip = allocClip(J, 10, 30);
    for (let f = 0; f < 10; f++) {
      for (let j = 0; j < J; j++) qset(clip.rotations, f * J + j, [0, 0, 0, 1]);
      clip.rootPositions.set([0.5, 0.95, -2], f * 3);
    }
    const flags = footContacts(rig, clip, [LEFT, jointIndex(rig, 'LeftToe'), 0]);
    expect(flags[0].every(Boolean)).toBe(true);
    expect(flags[1].every(Boolean)).toBe(true);
    expect(flags[2].every(Boolean)).toBe(true); // the hips too: at their rest height, not moving
    const single = allocClip(J, 1, 30);
    for (let j = 0; j < J; j++) qset(single.rotations, j, [0, 0, 0, 1]);
    single.rootPositions.set([0, 0.95, 0]);
    expect(footContacts(rig, single, [LEFT])).toEqual([[true]]);
  });
});

describe('contactRuns and removeShortRuns', () => {
  it('lists inclusive runs in order', () => {
    expect(contactRuns([])).toEqual([]);
    expect(contactRuns([false, false])).toEqual([]);
    expect(contactRuns([true, true, false, true, false, false, true])).toEqual([
      { start: 0, end: 1 },
      { start: 3, end: 3 },
      { start: 6, end: 6 },
    ]);
  });

  it('fills short gaps, then drops short runs', () => {
    const T = true, F = false;
    expect(removeShortRuns([T, T, F, T, T, F, F, F, T, F, F], 2)).toEqual([T, T, T, T, T, F, F, F, F, F, F]);
    expect(removeShortRuns([F, T, T, T, F], 3)).toEqual([F, T, T, T, F]);
  });

  it('runs cover exactly the true frames (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 80 }), (flags) => {
        const rebuilt = flags.map(() => false);
        let prevEnd = -2;
        for (const { start, end } of contactRuns(flags)) {
          expect(start).toBeGreaterThan(prevEnd + 1);
          for (let f = start; f <= end; f++) rebuilt[f] = true;
          prevEnd = end;
        }
        expect(rebuilt).toEqual(flags);
        // After filtering no run or inner gap is shorter than the minimum.
        const clean = removeShortRuns(flags, 3);
        for (const r of contactRuns(clean)) expect(r.end - r.start + 1).toBeGreaterThanOrEqual(3);
      }),
    );
  });
});

describe('footDrift', () => {
  it('is near zero for planted feet and large for skating ones', () => {
    const fps = 30;
    const clean = stepping(120, fps);
    const skating = stepping(120, fps, 0.2); // slides 0.2 m/s, slow enough to pass as contact
    for (const [foot, side] of [[LEFT, 0], [RIGHT, 1]]) {
      const flagsClean = footContacts(rig, clean.clip, [foot])[0];
      expect(footDrift(rig, clean.clip, foot, clean.stance[side])).toBeLessThan(1e-6);
      expect(footDrift(rig, clean.clip, foot, flagsClean)).toBeLessThan(0.02);
      const flagsSkate = footContacts(rig, skating.clip, [foot])[0];
      expect(agreement(flagsSkate, skating.stance[side])).toBeGreaterThan(0.85);
      // 0.2 m/s over a 0.66 s stance.
      expect(footDrift(rig, skating.clip, foot, skating.stance[side])).toBeCloseTo(0.2 * STANCE * CYCLE, 1);
    }
    expect(footDrift(rig, clean.clip, LEFT, new Array(120).fill(false))).toBe(0);
  });

  it('is the largest horizontal spread within a run, ignoring height', () => {
    const clip = allocClip(J, 6, 30);
    const xs = [0, 0.01, 0.03, 5, 5.02, 5.0];
    for (let f = 0; f < 6; f++) {
      for (let j = 0; j < J; j++) qset(clip.rotations, f * J + j, [0, 0, 0, 1]);
      clip.rootPositions.set([xs[f], 0.95 + f * 0.1, 0], f * 3);
    }
    const world = clipWorldPositions(rig, clip);
    expect(world[(2 * J + LEFT) * 3]).toBeCloseTo(0.12, 12);
    expect(footDrift(rig, clip, LEFT, [true, true, true, false, true, true])).toBeCloseTo(0.03, 12);
  });
});

describe('pointContacts (one sole point)', () => {
  /** A point track: on the floor and still, then rising away at 1 m/s, then landing again. */
  const track = (F: number, at: (f: number) => [number, number, number]): Float64Array => {
    const t = new Float64Array(F * 3);
    for (let f = 0; f < F; f++) t.set(at(f), f * 3);
    return t;
  };

  it('is down while low and slow, up while moving fast or high, with the lift-off and landing frames trimmed', () => {
    const F = 60;
    const t = track(F, (f) => {
      if (f < 20) return [0, 0, 0];
      if (f < 40) {
        const k = (f - 19) / 20;
        return [0, 0.1 * Math.sin(Math.PI * k), k * 0.7];
      }
      return [0, 0, 0.7];
    });
    const out = pointContacts(t, F, 30, 0, new Uint8Array(F));
    expect(Array.from(out.subarray(0, 20)).every((v) => v === 1)).toBe(true);
    expect(Array.from(out.subarray(21, 39)).every((v) => v === 0)).toBe(true);
    expect(Array.from(out.subarray(41)).every((v) => v === 1)).toBe(true);
  });

  it('counts a point under the floor as down, and a point resting 1.4 cm up (a sole on its padding) too', () => {
    const F = 20;
    expect(Array.from(pointContacts(track(F, () => [0, -0.03, 0]), F, 30, 0, new Uint8Array(F))).every((v) => v === 1)).toBe(true);
    expect(Array.from(pointContacts(track(F, () => [0, 0.014, 0]), F, 30, 0, new Uint8Array(F))).every((v) => v === 1)).toBe(true);
    expect(Array.from(pointContacts(track(F, () => [0, 0.05, 0]), F, 30, 0, new Uint8Array(F))).every((v) => v === 0)).toBe(true);
  });

  it('drops a one-frame touch and fills a one-frame gap', () => {
    const F = 30;
    const touch = track(F, (f) => (f === 10 ? [0, 0, 0] : [f * 0.2, 0.2, 0]));
    expect(Array.from(pointContacts(touch, F, 30, 0, new Uint8Array(F))).every((v) => v === 0)).toBe(true);
    const gap = track(F, (f) => (f === 15 ? [0, 0.04, 0] : [0, 0, 0]));
    expect(Array.from(pointContacts(gap, F, 30, 0, new Uint8Array(F))).every((v) => v === 1)).toBe(true);
  });
});
