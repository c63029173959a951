/** Resampling of clips to another frame rate: slerp for rotations, lerp for the root, exact frame counts. */
import { allocClip } from './clip.js';
import type { Clip } from '../spec/motion.js';

/** Source positions closer than this to a whole frame snap to it (so equal rates copy frames exactly). */
const SNAP = 1e-9;

/**
 * Samples `clip` at t = i / fps for i = 0 … numFrames − 1 and returns a new clip of exactly `numFrames`
 * frames at `fps`. Rotations are slerped along the shorter arc, the root is lerped; times past the
 * clip's last frame hold the last frame. Each joint's output keys stay in one hemisphere (a key is
 * negated when it would be more than 180° of quaternion space from the previous one). The input is
 * left untouched.
 */
export function resampleClip(clip: Clip, fps: number, numFrames: number): Clip {
  if (!(fps > 0) || !Number.isFinite(fps)) throw new RangeError(`resampleClip: fps must be positive, got ${fps}`);
  if (!Number.isInteger(numFrames) || numFrames < 0) throw new RangeError(`resampleClip: bad frame count ${numFrames}`);
  if (clip.numFrames < 1 && numFrames > 0) throw new RangeError('resampleClip: cannot sample an empty clip');
  const J = clip.jointCount;
  const out = allocClip(J, numFrames, fps);
  const last = clip.numFrames - 1;
  for (let i = 0; i < numFrames; i++) {
    let src = (i * clip.fps) / fps;
    const near = Math.round(src);
    if (Math.abs(src - near) < SNAP) src = near;
    let f0 = Math.floor(src);
    let a = src - f0;
    if (f0 >= last) {
      f0 = last;
      a = 0;
    }
    const f1 = a > 0 ? f0 + 1 : f0;
    for (let j = 0; j < J; j++) {
      const o = (i * J + j) * 4;
      slerpInto(out.rotations, o, clip.rotations, (f0 * J + j) * 4, (f1 * J + j) * 4, a);
      if (i > 0) keepHemisphere(out.rotations, o, o - J * 4);
    }
    const ro = i * 3, p0 = f0 * 3, p1 = f1 * 3;
    for (let k = 0; k < 3; k++) {
      const v0 = clip.rootPositions[p0 + k];
      out.rootPositions[ro + k] = a === 0 ? v0 : v0 + (clip.rootPositions[p1 + k] - v0) * a;
    }
  }
  return out;
}

/**
 * Writes slerp(src[a], src[b], t) (quaternions at float offsets `a` and `b`), normalized, at `out[o]`.
 * Takes the shorter arc; nlerp when the two are nearly equal. Allocates nothing.
 */
export function slerpInto(out: Float64Array, o: number, src: ArrayLike<number>, a: number, b: number, t: number): void {
  const ax = src[a], ay = src[a + 1], az = src[a + 2], aw = src[a + 3];
  let bx = src[b], by = src[b + 1], bz = src[b + 2], bw = src[b + 3];
  let cos = ax * bx + ay * by + az * bz + aw * bw;
  if (cos < 0) {
    cos = -cos;
    bx = -bx; by = -by; bz = -bz; bw = -bw;
  }
  let s0 = 1 - t, s1 = t;
  if (t !== 0 && cos < 0.9995) {
    const theta = Math.acos(Math.min(1, cos));
    const sin = Math.sin(theta);
    s0 = Math.sin((1 - t) * theta) / sin;
    s1 = Math.sin(t * theta) / sin;
  }
  const x = s0 * ax + s1 * bx, y = s0 * ay + s1 * by, z = s0 * az + s1 * bz, w = s0 * aw + s1 * bw;
  // Quaternion components are at most 1 in size: a plain square root cannot overflow, and it is several
  // times cheaper than Math.hypot (this runs for every joint of every resampled frame).
  const n = Math.sqrt(x * x + y * y + z * z + w * w);
  if (n < 1e-12) {
    out[o] = 0; out[o + 1] = 0; out[o + 2] = 0; out[o + 3] = 1;
    return;
  }
  out[o] = x / n; out[o + 1] = y / n; out[o + 2] = z / n; out[o + 3] = w / n;
}

/** Negates the quaternion at `q[o]` when it lies in the opposite hemisphere of the one at `q[prev]`. */
export function keepHemisphere(q: Float64Array | Float32Array, o: number, prev: number): void {
  if (q[o] * q[prev] + q[o + 1] * q[prev + 1] + q[o + 2] * q[prev + 2] + q[o + 3] * q[prev + 3] < 0) {
    q[o] = -q[o]; q[o + 1] = -q[o + 1]; q[o + 2] = -q[o + 2]; q[o + 3] = -q[o + 3];
  }
}
