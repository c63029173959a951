import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { resampleClip } from '../../src/motion/resample.js';
import { allocClip } from '../../src/motion/clip.js';
import type { Clip } from '../../src/spec/motion.js';
import { qdot, qget, qnormalize, qset, qy, qx, type Quat } from '../../src/motion/quat.js';

/** True when a and b are the same rotation (either sign), to ~1e-6 rad. */
const same = (a: Quat, b: Quat): boolean => 1 - Math.abs(qdot(a, b)) < 1e-12;

/** Joint 0 turns about +Y by `rate` rad per frame, joint 1 about +X by twice that; the root walks +X. */
function ramp(frames: number, fps: number, rate = 0.1): Clip {
  const c = allocClip(2, frames, fps);
  for (let f = 0; f < frames; f++) {
    qset(c.rotations, f * 2, qy(rate * f));
    qset(c.rotations, f * 2 + 1, qx(2 * rate * f));
    c.rootPositions.set([0.05 * f, 1, -0.01 * f], f * 3);
  }
  return c;
}

const unitQuat = fc
  .tuple(fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true }))
  .filter((q) => Math.hypot(...q) > 0.1)
  .map((q) => qnormalize(q));

const clipArb = fc
  .record({ J: fc.integer({ min: 1, max: 4 }), F: fc.integer({ min: 1, max: 20 }), fps: fc.constantFrom(10, 24, 25, 29.97, 30, 60) })
  .chain(({ J, F, fps }) =>
    fc.record({
      rotations: fc.array(unitQuat, { minLength: J * F, maxLength: J * F }),
      roots: fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: F * 3, maxLength: F * 3 }),
    }).map(({ rotations, roots }) => {
      const c = allocClip(J, F, fps);
      rotations.forEach((q, i) => qset(c.rotations, i, q));
      c.rootPositions.set(roots);
      return c;
    }),
  );

describe('resampleClip', () => {
  it('returns exactly the requested frame count at the requested fps', () => {
    const c = ramp(31, 30);
    for (const [fps, n] of [[60, 61], [24, 25], [30, 31], [120, 1], [12, 200], [30, 0]] as const) {
      const r = resampleClip(c, fps, n);
      expect(r.numFrames).toBe(n);
      expect(r.fps).toBe(fps);
      expect(r.rotations.length).toBe(n * 2 * 4);
      expect(r.rootPositions.length).toBe(n * 3);
    }
  });

  it('interpolates rotations along the arc and the root linearly at known times', () => {
    const c = ramp(31, 30);
    const up = resampleClip(c, 60, 61); // t = i/60 → source frame i/2
    for (const i of [0, 1, 7, 33, 60]) {
      expect(same(qget(up.rotations, i * 2), qy(0.05 * i))).toBe(true);
      expect(same(qget(up.rotations, i * 2 + 1), qx(0.1 * i))).toBe(true);
      expect(up.rootPositions[i * 3]).toBeCloseTo(0.025 * i, 12);
      expect(up.rootPositions[i * 3 + 2]).toBeCloseTo(-0.005 * i, 12);
    }
    const down = resampleClip(c, 24, 25); // source frame 1.25 i
    for (const i of [0, 3, 10, 24]) {
      expect(same(qget(down.rotations, i * 2), qy(0.125 * i))).toBe(true);
      expect(down.rootPositions[i * 3]).toBeCloseTo(0.0625 * i, 12);
    }
  });

  it('holds the last frame past the end of the clip', () => {
    const c = ramp(10, 30);
    const r = resampleClip(c, 30, 25);
    for (let i = 9; i < 25; i++) {
      expect(same(qget(r.rotations, i * 2), qy(0.9))).toBe(true);
      expect(r.rootPositions[i * 3]).toBeCloseTo(0.45, 12);
    }
  });

  it('slerps the short way and keeps consecutive keys in one hemisphere', () => {
    const c = allocClip(1, 3, 10);
    qset(c.rotations, 0, qy(0));
    qset(c.rotations, 1, qy(0.4).map((v) => -v)); // same rotation, other hemisphere
    qset(c.rotations, 2, qy(0.8));
    const r = resampleClip(c, 40, 9);
    for (let i = 0; i < 9; i++) {
      expect(same(qget(r.rotations, i), qy(Math.min(0.8, 0.1 * i)))).toBe(true);
      if (i > 0) {
        const a = qget(r.rotations, i - 1), b = qget(r.rotations, i);
        expect(a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3]).toBeGreaterThan(0);
      }
    }
  });

  it('is the identity when resampling to the same fps and frame count (property)', () => {
    fc.assert(
      fc.property(clipArb, (c) => {
        const r = resampleClip(c, c.fps, c.numFrames);
        expect(Array.from(r.rootPositions)).toEqual(Array.from(c.rootPositions));
        for (let i = 0; i < c.numFrames * c.jointCount; i++) expect(same(qget(r.rotations, i), qget(c.rotations, i))).toBe(true);
      }),
    );
  });

  it('always yields unit quaternions and finite roots (property)', () => {
    fc.assert(
      fc.property(clipArb, fc.double({ min: 1, max: 240, noNaN: true }), fc.integer({ min: 0, max: 60 }), (c, fps, n) => {
        const r = resampleClip(c, fps, n);
        for (let i = 0; i < n * c.jointCount; i++) {
          const q = qget(r.rotations, i);
          expect(Math.abs(Math.hypot(...q) - 1)).toBeLessThan(1e-9);
        }
        expect(r.rootPositions.every(Number.isFinite)).toBe(true);
      }),
    );
  });

  it('leaves the input untouched and refuses nonsense', () => {
    const c = ramp(5, 30);
    const before = c.rotations.slice();
    resampleClip(c, 17, 11);
    expect(c.rotations).toEqual(before);
    expect(() => resampleClip(c, 0, 3)).toThrow(RangeError);
    expect(() => resampleClip(c, 30, 2.5)).toThrow(RangeError);
    expect(() => resampleClip(allocClip(2, 0, 30), 30, 3)).toThrow(RangeError);
  });
});
