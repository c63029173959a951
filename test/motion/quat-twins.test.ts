/**
 * The allocation-free quaternion helpers added for the per-frame loops (src/motion/quat.ts hypot2/3/4,
 * the scalar qfromTo, qaxisAngleAt, qxAt/qyAt/qzAt, qmulInvAt) give exactly the bits of the helpers they
 * replace: Math.hypot, and qfromTo / qaxisAngle / qx / qy / qz / qmul(qinv(a), b) built from the Vec3
 * helpers.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  hypot2, hypot3, hypot4, qaxisAngle, qaxisAngleAt, qfromTo, qinv, qmul, qmulInvAt, qnormalize, qx, qxAt, qy, qyAt, qz, qzAt,
  vdot, vlen, vnormalize, type Quat, type Vec3,
} from '../../src/motion/quat.js';

/** Doubles over many magnitudes, with zeros of both signs, infinities and NaN now and then. */
const num = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: -10, max: 10 }) },
  { weight: 2, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.constantFrom(0, -0, 1e-300, -1e300, Infinity, -Infinity, NaN) },
);
const params = { seed: 9, numRuns: 2000 };

describe('hypot twins', () => {
  it('hypot2, hypot3 and hypot4 return Math.hypot bit for bit (signed zeros, infinities and NaN included)', () => {
    fc.assert(fc.property(num, num, num, num, (a, b, c, d) => {
      expect(Object.is(hypot2(a, b), Math.hypot(a, b))).toBe(true);
      expect(Object.is(hypot3(a, b, c), Math.hypot(a, b, c))).toBe(true);
      expect(Object.is(hypot4(a, b, c, d), Math.hypot(a, b, c, d))).toBe(true);
    }), params);
  });
});

/** qfromTo as it was written with the allocating Vec3 helpers (the reference the scalar version must match). */
function qfromToReference(from: Vec3, to: Vec3): Quat {
  const a = vnormalize(from);
  const b = vnormalize(to);
  const d = vdot(a, b);
  if (d < -0.999999) return qfromTo(from, to);
  const c: Vec3 = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
  return qnormalize([c[0], c[1], c[2], 1 + d]);
}

const finite = fc.double({ min: -5, max: 5, noNaN: true });
const vec = fc.tuple(finite, finite, finite);

describe('scalar qfromTo', () => {
  it('returns the bits of the Vec3-helper composition, zero-length inputs included', () => {
    const v = fc.oneof({ weight: 9, arbitrary: vec }, { weight: 1, arbitrary: fc.constant<Vec3>([0, 0, 0]) });
    fc.assert(fc.property(v, v, (a: Vec3, b: Vec3) => {
      expect(qfromTo(a, b)).toEqual(qfromToReference(a, b));
    }), params);
  });

  it('still turns a direction onto its opposite by half a turn', () => {
    const q = qfromTo([0, 0, 2], [0, 0, -1]);
    expect(Math.abs(q[3])).toBeLessThan(1e-12);
    expect(vlen([q[0], q[1], q[2]])).toBeCloseTo(1, 12);
  });
});

describe('in-place rotation constructors', () => {
  it('qxAt, qyAt, qzAt and qaxisAngleAt write the bits qx, qy, qz and qaxisAngle return', () => {
    fc.assert(fc.property(num, vec, (angle, axis: Vec3) => {
      const out = new Float64Array(8);
      qxAt(out, 4, angle);
      expect(Array.from(out.subarray(4))).toEqual(qx(angle));
      qyAt(out, 4, angle);
      expect(Array.from(out.subarray(4))).toEqual(qy(angle));
      qzAt(out, 4, angle);
      expect(Array.from(out.subarray(4))).toEqual(qz(angle));
      qaxisAngleAt(out, 0, axis, angle);
      expect(Array.from(out.subarray(0, 4))).toEqual(qaxisAngle(axis, angle));
    }), params);
  });

  it('qx, qy, qz keep qaxisAngle about the basis axes, sign of zero included', () => {
    fc.assert(fc.property(num, (angle) => {
      expect(qx(angle)).toEqual(qaxisAngle([1, 0, 0], angle));
      expect(qy(angle)).toEqual(qaxisAngle([0, 1, 0], angle));
      expect(qz(angle)).toEqual(qaxisAngle([0, 0, 1], angle));
    }), params);
    expect(Object.is(qx(-1)[1], -0)).toBe(true);
  });

  it('qmulInvAt writes qmul(qinv(a), b), also into its own input', () => {
    const unit = fc.tuple(finite, finite, finite, finite).map((q) => qnormalize(q));
    fc.assert(fc.property(unit, unit, (a, b) => {
      const out = Float64Array.from(b);
      qmulInvAt(out, 0, a, 0, out, 0);
      expect(Array.from(out)).toEqual(qmul(qinv(a), b));
    }), params);
  });
});
