import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { alignToStart, composeSegments, rootHeading } from '../../src/motion/compose.js';
import { allocClip } from '../../src/motion/clip.js';
import type { Clip } from '../../src/spec/motion.js';
import { skeletonFromWire } from '../../src/motion/skeleton.js';
import { qangle, qdot, qget, qmul, qset, qslerp, qx, qy, qz, smoothstep, type Quat } from '../../src/motion/quat.js';

const rig = skeletonFromWire([
  { name: 'Hips', parent: null, rest_translation: [0, 0.95, 0] },
  { name: 'Spine', parent: 'Hips', rest_translation: [0, 0.2, 0] },
  { name: 'Head', parent: 'Spine', rest_translation: [0, 0.45, 0] },
  { name: 'LeftUpLeg', parent: 'Hips', rest_translation: [0.09, -0.05, 0] },
  { name: 'LeftLeg', parent: 'LeftUpLeg', rest_translation: [0, -0.45, 0] },
  { name: 'LeftFoot', parent: 'LeftLeg', rest_translation: [0, -0.42, 0] },
  { name: 'RightUpLeg', parent: 'Hips', rest_translation: [-0.09, -0.05, 0] },
  { name: 'RightLeg', parent: 'RightUpLeg', rest_translation: [0, -0.45, 0] },
  { name: 'RightFoot', parent: 'RightLeg', rest_translation: [0, -0.42, 0] },
]);
const J = rig.names.length;
const FPS = 30;
const SPEED = 1.3;

/** A walk as a generator would return it: from the origin facing +Z, turning at `turn` rad/s. */
function walk(frames: number, turn = 0, phase = 0): Clip {
  const c = allocClip(J, frames, FPS);
  let x = 0, z = 0;
  for (let f = 0; f < frames; f++) {
    const t = f / FPS;
    const h = turn * t;
    if (f > 0) {
      x += (SPEED / FPS) * Math.sin(h);
      z += (SPEED / FPS) * Math.cos(h);
    }
    c.rootPositions.set([x, 0.95 + 0.02 * Math.cos(4 * Math.PI * t + phase), z], f * 3);
    const swing = 0.4 * Math.sin(2 * Math.PI * t + phase);
    const pose: Quat[] = [qmul(qy(h), qz(0.03 * swing)), qy(-0.2 * swing), qx(0.05), qx(-swing), qx(Math.max(0, swing)), qx(0.1), qx(swing), qx(Math.max(0, -swing)), qx(0.1)];
    pose.forEach((q, j) => qset(c.rotations, f * J + j, q));
  }
  return c;
}

/** A clip holding one pose, the root at `root`. */
function hold(frames: number, pose: Quat[], root: [number, number, number] = [0, 0.95, 0]): Clip {
  const c = allocClip(J, frames, FPS);
  for (let f = 0; f < frames; f++) {
    pose.forEach((q, j) => qset(c.rotations, f * J + j, q));
    c.rootPositions.set(root, f * 3);
  }
  return c;
}

const identityPose = (): Quat[] => rig.names.map(() => [0, 0, 0, 1]);
const bentPose = (deg: number): Quat[] => rig.names.map((_, j) => (j === 0 ? [0, 0, 0, 1] : qx((deg * Math.PI) / 180 * (j % 2 ? 1 : -1))));

const pose = (c: Clip, f: number, j: number): Quat => qget(c.rotations, f * J + j);
const root = (c: Clip, f: number): number[] => Array.from(c.rootPositions.subarray(f * 3, f * 3 + 3));
const horizontal = (a: number[], b: number[]): number => Math.hypot(a[0] - b[0], a[2] - b[2]);
const same = (a: Quat, b: Quat): boolean => 1 - Math.abs(qdot(a, b)) < 1e-12;

/** Largest rotation change of any joint between consecutive frames in [from, to). */
function maxRotationStep(c: Clip, from: number, to: number): number {
  let m = 0;
  for (let f = Math.max(1, from); f < Math.min(to, c.numFrames); f++) {
    for (let j = 0; j < J; j++) m = Math.max(m, qangle(pose(c, f - 1, j), pose(c, f, j)));
  }
  return m;
}

function maxRootStep(c: Clip, from: number, to: number): number {
  let m = 0;
  for (let f = Math.max(1, from); f < Math.min(to, c.numFrames); f++) m = Math.max(m, horizontal(root(c, f - 1), root(c, f)));
  return m;
}

function angleDiff(a: number, b: number): number {
  return Math.abs(Math.atan2(Math.sin(a - b), Math.cos(a - b)));
}

describe('alignToStart', () => {
  it('turns and moves a clip so it starts at a position and heading, keeping heights and its shape', () => {
    const c = walk(40, 0.3);
    const a = alignToStart(c, [2, 99, -1], 1.2);
    expect(rootHeading(a, 0)).toBeCloseTo(1.2, 12);
    expect(root(a, 0)[0]).toBeCloseTo(2, 12);
    expect(root(a, 0)[2]).toBeCloseTo(-1, 12);
    for (let f = 0; f < 40; f++) {
      expect(root(a, f)[1]).toBe(root(c, f)[1]);
      expect(horizontal(root(a, f), root(a, 0))).toBeCloseTo(horizontal(root(c, f), root(c, 0)), 12);
      expect(angleDiff(rootHeading(a, f) - 1.2, rootHeading(c, f))).toBeLessThan(1e-9);
      for (let j = 1; j < J; j++) expect(pose(a, f, j)).toEqual(pose(c, f, j));
    }
  });
});

describe('composeSegments', () => {
  it('concatenates on one timeline: total frames and segment starts', () => {
    const { clip, segmentStarts } = composeSegments(rig, [walk(30), walk(45), walk(7)], ['text', 'text', 'text'], 5);
    expect(clip.numFrames).toBe(82);
    expect(clip.fps).toBe(FPS);
    expect(segmentStarts).toEqual([0, 30, 75]);
  });

  it('starts the second walk where the first ended, with its heading, and keeps its shape', () => {
    const first = walk(60, 0.8);
    const second = walk(60, 0);
    const { clip } = composeSegments(rig, [first, second], ['text', 'text'], 0);
    // The first segment is untouched.
    expect(clip.rotations.subarray(0, 60 * J * 4)).toEqual(first.rotations);
    expect(clip.rootPositions.subarray(0, 180)).toEqual(first.rootPositions);
    const endHeading = rootHeading(first, 59);
    expect(endHeading).toBeGreaterThan(1.5); // it really turned
    // Continues from the end position, one natural step further, at the end heading.
    const step = SPEED / FPS;
    expect(horizontal(root(clip, 60), root(clip, 59))).toBeCloseTo(step, 3);
    for (let f = 60; f < 120; f++) expect(angleDiff(rootHeading(clip, f), endHeading)).toBeLessThan(1e-9);
    const dx = root(clip, 119)[0] - root(clip, 60)[0];
    const dz = root(clip, 119)[2] - root(clip, 60)[2];
    expect(angleDiff(Math.atan2(dx, dz), endHeading)).toBeLessThan(1e-9);
    expect(Math.hypot(dx, dz)).toBeCloseTo(horizontal(root(second, 59), root(second, 0)), 9);
    // Heights are the segment's own.
    for (let f = 60; f < 120; f++) expect(root(clip, f)[1]).toBe(root(second, f - 60)[1]);
  });

  it('blends boundaries so no frame jumps, where a hard cut would', () => {
    const clips = [hold(40, identityPose()), hold(40, bentPose(60))];
    const hard = composeSegments(rig, clips, ['text', 'text'], 0).clip;
    expect(maxRotationStep(hard, 0, 80)).toBeCloseTo(Math.PI / 3, 6);
    const soft = composeSegments(rig, clips, ['text', 'text'], 8).clip;
    // Smoothstep's steepest slope is 1.5: 60° spread over 9 steps → at most 10° per frame.
    expect(maxRotationStep(soft, 0, 80)).toBeLessThan((10.01 * Math.PI) / 180);
    // The window is 8 frames centred on the boundary; frames outside it are the segments' own.
    for (const f of [0, 35, 44, 79]) for (let j = 0; j < J; j++) expect(same(pose(soft, f, j), pose(hard, f, j))).toBe(true);
    for (const f of [36, 43]) expect(same(pose(soft, f, 1), pose(hard, f, 1))).toBe(false);
    // Symmetric about the cut: halfway between the two poses between frames 39 and 40.
    const mid = qslerp(pose(hard, 39, 1), pose(hard, 40, 1), 0.5);
    expect(qangle(pose(soft, 39, 1), mid)).toBeCloseTo(qangle(pose(soft, 40, 1), mid), 9);
  });

  it('keeps root pace and heading continuous across blended walk boundaries', () => {
    const segs = [walk(50, 0.6), walk(50, -0.4, 1.0), walk(50, 0, 2.0)]; // leg phases jump at both cuts
    const { clip } = composeSegments(rig, segs, ['text', 'text', 'text'], 5);
    const hard = composeSegments(rig, segs, ['text', 'text', 'text'], 0).clip;
    const step = SPEED / FPS;
    expect(maxRootStep(clip, 1, 150)).toBeLessThan(step * 1.05);
    for (let f = 1; f < 150; f++) {
      expect(horizontal(root(clip, f), root(clip, f - 1))).toBeGreaterThan(step * 0.9);
      expect(angleDiff(rootHeading(clip, f), rootHeading(clip, f - 1))).toBeLessThan(0.03);
    }
    expect(maxRotationStep(hard, 40, 110)).toBeGreaterThan(0.5);
    expect(maxRotationStep(clip, 40, 110)).toBeLessThan(0.4 * maxRotationStep(hard, 40, 110));
  });

  it('fills an unconditioned segment between two others with a smooth bridge', () => {
    const spinning = allocClip(J, 30, FPS); // garbage a bridge must not show
    for (let i = 0; i < 30 * J; i++) qset(spinning.rotations, i, qz(i));
    spinning.rootPositions.fill(7);
    const a = walk(40, 0.5);
    const b = hold(40, bentPose(45));
    const { clip, segmentStarts } = composeSegments(rig, [a, spinning, b], ['text', 'unconditioned', 'text'], 0);
    expect(segmentStarts).toEqual([0, 40, 70]);
    const endHeading = rootHeading(a, 39);
    // The next segment starts where the previous ended (no step: the bridge stands), with its heading.
    expect(horizontal(root(clip, 70), root(a, 39))).toBeLessThan(1e-12);
    expect(angleDiff(rootHeading(clip, 70), endHeading)).toBeLessThan(1e-9);
    expect(root(clip, 70)[1]).toBe(0.95);
    // Bridge frames interpolate the last pose before it to the first pose after it.
    for (const k of [0, 14, 29]) {
      const w = smoothstep((k + 1) / 31);
      for (let j = 0; j < J; j++) expect(same(pose(clip, 40 + k, j), qslerp(pose(clip, 39, j), pose(clip, 70, j), w))).toBe(true);
      expect(horizontal(root(clip, 40 + k), root(a, 39))).toBeLessThan(1e-12);
      expect(root(clip, 40 + k)[1]).toBeCloseTo(root(a, 39)[1] + (0.95 - root(a, 39)[1]) * w, 12);
    }
    expect(maxRotationStep(clip, 39, 71)).toBeLessThan(0.06);
  });

  it('bridges across several consecutive unconditioned segments as one span', () => {
    const { clip } = composeSegments(rig, [hold(10, identityPose()), hold(10, bentPose(90)), hold(10, bentPose(-90)), hold(10, bentPose(30))], ['text', 'unconditioned', 'unconditioned', 'text'], 0);
    for (let k = 0; k < 20; k++) {
      expect(same(pose(clip, 10 + k, 1), qslerp([0, 0, 0, 1], pose(clip, 30, 1), smoothstep((k + 1) / 21)))).toBe(true);
    }
  });

  it('keeps an unconditioned segment at either end as its own clip, aligned like any other', () => {
    const idle = walk(30, 0, 0.5);
    const { clip } = composeSegments(rig, [idle, walk(30, 0.5)], ['unconditioned', 'text'], 0);
    expect(clip.rotations.subarray(0, 30 * J * 4)).toEqual(idle.rotations);
    const tail = walk(30, 0.2, 1);
    const end = composeSegments(rig, [walk(30, 0.5), tail], ['text', 'unconditioned'], 0).clip;
    expect(angleDiff(rootHeading(end, 30), rootHeading(end, 29))).toBeLessThan(1e-9);
    for (let j = 1; j < J; j++) expect(same(pose(end, 45, j), pose(tail, 15, j))).toBe(true);
  });

  it('handles tiny segments and windows wider than them', () => {
    const { clip } = composeSegments(rig, [walk(1), hold(2, bentPose(20)), walk(3), hold(1, bentPose(-20))], ['text', 'unconditioned', 'text', 'pose'], 60);
    expect(clip.numFrames).toBe(7);
    for (let i = 0; i < 7 * J; i++) expect(Math.hypot(...qget(clip.rotations, i)) - 1).toBeCloseTo(0, 12);
  });

  it('yields unit quaternions in one hemisphere and finite roots for any segment mix (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ frames: fc.integer({ min: 1, max: 25 }), kind: fc.constantFrom('text', 'unconditioned', 'motion_reference'), turn: fc.double({ min: -2, max: 2, noNaN: true }) }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 0, max: 60 }),
        (segs, T) => {
          const { clip, segmentStarts } = composeSegments(rig, segs.map((s, i) => walk(s.frames, s.turn, i)), segs.map((s) => s.kind), T);
          expect(clip.numFrames).toBe(segs.reduce((n, s) => n + s.frames, 0));
          expect(segmentStarts.length).toBe(segs.length);
          for (let f = 0; f < clip.numFrames; f++) {
            for (let j = 0; j < J; j++) {
              const q = pose(clip, f, j);
              expect(Math.abs(Math.hypot(...q) - 1)).toBeLessThan(1e-9);
              if (f > 0) expect(qdot(q, pose(clip, f - 1, j))).toBeGreaterThanOrEqual(0);
            }
          }
          expect(clip.rootPositions.every(Number.isFinite)).toBe(true);
          // The root never jumps by more than a couple of natural steps in one frame.
          expect(maxRootStep(clip, 1, clip.numFrames)).toBeLessThan((2 * SPEED) / FPS);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses clips that do not share fps or joints', () => {
    const other = walk(10);
    other.fps = 24;
    expect(() => composeSegments(rig, [walk(10), other], ['text', 'text'], 5)).toThrow(RangeError);
    expect(() => composeSegments(rig, [walk(10)], ['text', 'text'], 5)).toThrow(RangeError);
    expect(() => composeSegments(rig, [], [], 5)).toThrow(RangeError);
  });
});
