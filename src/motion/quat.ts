/** Quaternion and vector math over plain arrays, [x, y, z, w] order, right-handed, as in glTF. */

export type Vec3 = [number, number, number];
export type Quat = [number, number, number, number];

export const IDENTITY: Readonly<Quat> = [0, 0, 0, 1];

/** Reads quaternion `i` of a packed array. */
export function qget(a: ArrayLike<number>, i: number): Quat {
  const o = i * 4;
  return [a[o], a[o + 1], a[o + 2], a[o + 3]];
}

/** Writes quaternion `q` at slot `i` of a packed array. */
export function qset(a: Float64Array | Float32Array | number[], i: number, q: ArrayLike<number>): void {
  const o = i * 4;
  a[o] = q[0];
  a[o + 1] = q[1];
  a[o + 2] = q[2];
  a[o + 3] = q[3];
}

export function vget(a: ArrayLike<number>, i: number): Vec3 {
  const o = i * 3;
  return [a[o], a[o + 1], a[o + 2]];
}

export function vset(a: Float64Array | Float32Array | number[], i: number, v: ArrayLike<number>): void {
  const o = i * 3;
  a[o] = v[0];
  a[o + 1] = v[1];
  a[o + 2] = v[2];
}

/** Hamilton product a·b: rotate by b, then by a. */
export function qmul(a: ArrayLike<number>, b: ArrayLike<number>): Quat {
  const ax = a[0], ay = a[1], az = a[2], aw = a[3];
  const bx = b[0], by = b[1], bz = b[2], bw = b[3];
  return [
    aw * bx + ax * bw + ay * bz - az * by,
    aw * by - ax * bz + ay * bw + az * bx,
    aw * bz + ax * by - ay * bx + az * bw,
    aw * bw - ax * bx - ay * by - az * bz,
  ];
}

/** Inverse of a unit quaternion (its conjugate). */
export function qinv(q: ArrayLike<number>): Quat {
  return [-q[0], -q[1], -q[2], q[3]];
}

export function qnormalize(q: ArrayLike<number>): Quat {
  const n = hypot4(q[0], q[1], q[2], q[3]);
  if (n < 1e-12) return [0, 0, 0, 1];
  return [q[0] / n, q[1] / n, q[2] / n, q[3] / n];
}

export function qdot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3];
}

/** Rotation of `angle` radians about the unit `axis`. */
export function qaxisAngle(axis: ArrayLike<number>, angle: number): Quat {
  const n = hypot3(axis[0], axis[1], axis[2]) || 1;
  const s = Math.sin(angle / 2) / n;
  return [axis[0] * s, axis[1] * s, axis[2] * s, Math.cos(angle / 2)];
}

// qaxisAngle about a unit basis axis, bit for bit (the length is 1; 0·s keeps the sign of a zero).
export const qx = (angle: number): Quat => {
  const s = Math.sin(angle / 2);
  return [s, 0 * s, 0 * s, Math.cos(angle / 2)];
};
export const qy = (angle: number): Quat => {
  const s = Math.sin(angle / 2);
  return [0 * s, s, 0 * s, Math.cos(angle / 2)];
};
export const qz = (angle: number): Quat => {
  const s = Math.sin(angle / 2);
  return [0 * s, 0 * s, s, Math.cos(angle / 2)];
};

/** Rotates vector v by unit quaternion q. */
export function qrotate(q: ArrayLike<number>, v: ArrayLike<number>): Vec3 {
  const x = q[0], y = q[1], z = q[2], w = q[3];
  // t = 2 * cross(q.xyz, v)
  const tx = 2 * (y * v[2] - z * v[1]);
  const ty = 2 * (z * v[0] - x * v[2]);
  const tz = 2 * (x * v[1] - y * v[0]);
  return [
    v[0] + w * tx + (y * tz - z * ty),
    v[1] + w * ty + (z * tx - x * tz),
    v[2] + w * tz + (x * ty - y * tx),
  ];
}

/** Spherical interpolation along the shorter arc; t in [0, 1]. */
export function qslerp(a: ArrayLike<number>, b: ArrayLike<number>, t: number): Quat {
  // Through typed scratch: qslerpAt then only ever writes typed arrays (one array kind keeps it fast).
  qslerpAt(slerpScratch, 0, a, 0, b, 0, t);
  return [slerpScratch[0], slerpScratch[1], slerpScratch[2], slerpScratch[3]];
}
const slerpScratch = new Float64Array(4);

/** The shortest rotation taking direction `from` onto direction `to`. */
export function qfromTo(from: ArrayLike<number>, to: ArrayLike<number>): Quat {
  // vnormalize, vdot, vcross and qnormalize in scalars (the same arithmetic in the same order): this
  // runs several times a frame per planted foot.
  const na = hypot3(from[0], from[1], from[2]);
  const ax = na < 1e-12 ? 0 : from[0] / na, ay = na < 1e-12 ? 0 : from[1] / na, az = na < 1e-12 ? 0 : from[2] / na;
  const nb = hypot3(to[0], to[1], to[2]);
  const bx = nb < 1e-12 ? 0 : to[0] / nb, by = nb < 1e-12 ? 0 : to[1] / nb, bz = nb < 1e-12 ? 0 : to[2] / nb;
  const d = ax * bx + ay * by + az * bz;
  if (d < -0.999999) {
    // Opposite: rotate 180° about any axis perpendicular to a.
    const a: Vec3 = [ax, ay, az];
    let axis = vcross([1, 0, 0], a);
    if (vlen(axis) < 1e-6) axis = vcross([0, 1, 0], a);
    return qaxisAngle(vnormalize(axis), Math.PI);
  }
  const cx = ay * bz - az * by, cy = az * bx - ax * bz, cz = ax * by - ay * bx, cw = 1 + d;
  const n = hypot4(cx, cy, cz, cw);
  if (n < 1e-12) return [0, 0, 0, 1];
  return [cx / n, cy / n, cz / n, cw / n];
}

/** Angle in radians between two rotations (0..π). */
export function qangle(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const d = Math.min(1, Math.abs(qdot(qnormalize(a), qnormalize(b))));
  return 2 * Math.acos(d);
}

/** Rotation about +Y only (the heading) of q, as an angle in radians; 0 faces +Z. */
export function qyaw(q: ArrayLike<number>): number {
  const f = qrotate(q, [0, 0, 1]);
  return Math.atan2(f[0], f[2]);
}

export const vadd = (a: ArrayLike<number>, b: ArrayLike<number>): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
export const vsub = (a: ArrayLike<number>, b: ArrayLike<number>): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
export const vscale = (a: ArrayLike<number>, s: number): Vec3 => [a[0] * s, a[1] * s, a[2] * s];
export const vdot = (a: ArrayLike<number>, b: ArrayLike<number>): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
export const vlen = (a: ArrayLike<number>): number => hypot3(a[0], a[1], a[2]);
export const vlerp = (a: ArrayLike<number>, b: ArrayLike<number>, t: number): Vec3 => [
  a[0] + (b[0] - a[0]) * t,
  a[1] + (b[1] - a[1]) * t,
  a[2] + (b[2] - a[2]) * t,
];
function vcross(a: ArrayLike<number>, b: ArrayLike<number>): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}
export function vnormalize(a: ArrayLike<number>): Vec3 {
  const n = vlen(a);
  return n < 1e-12 ? [0, 0, 0] : [a[0] / n, a[1] / n, a[2] / n];
}

/** Smoothstep weight 3w² − 2w³ for blend windows (no kink at either end). */
export function smoothstep(w: number): number {
  const x = Math.min(1, Math.max(0, w));
  return x * x * (3 - 2 * x);
}

/*
 * In-place twins of the helpers above for the per-frame loops: the same arithmetic in the same order
 * (so results are bit-identical), reading and writing packed arrays at float offsets, allocating nothing.
 */

/** out[o] = a[ao]·b[bo] (as qmul); `out` may alias either input. */
export function qmulAt(out: Float64Array, o: number, a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number): void {
  const ax = a[ao], ay = a[ao + 1], az = a[ao + 2], aw = a[ao + 3];
  const bx = b[bo], by = b[bo + 1], bz = b[bo + 2], bw = b[bo + 3];
  out[o] = aw * bx + ax * bw + ay * bz - az * by;
  out[o + 1] = aw * by - ax * bz + ay * bw + az * bx;
  out[o + 2] = aw * bz + ax * by - ay * bx + az * bw;
  out[o + 3] = aw * bw - ax * bx - ay * by - az * bz;
}

/** out[o] = slerp(a[ao], b[bo], t) exactly as qslerp computes it; `out` may alias either input. */
export function qslerpAt(out: Float64Array | Quat, o: number, a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, t: number): void {
  const ax = a[ao], ay = a[ao + 1], az = a[ao + 2], aw = a[ao + 3];
  let bx = b[bo], by = b[bo + 1], bz = b[bo + 2], bw = b[bo + 3];
  let cos = ax * bx + ay * by + az * bz + aw * bw;
  if (cos < 0) {
    cos = -cos;
    bx = -bx; by = -by; bz = -bz; bw = -bw;
  }
  let s0: number, s1: number;
  if (cos > 0.9995) {
    s0 = 1 - t;
    s1 = t;
  } else {
    const theta = Math.acos(Math.min(1, cos));
    const sin = Math.sin(theta);
    s0 = Math.sin((1 - t) * theta) / sin;
    s1 = Math.sin(t * theta) / sin;
  }
  const x = s0 * ax + s1 * bx, y = s0 * ay + s1 * by, z = s0 * az + s1 * bz, w = s0 * aw + s1 * bw;
  const n = hypot4(x, y, z, w);
  if (n < 1e-12) {
    out[o] = 0; out[o + 1] = 0; out[o + 2] = 0; out[o + 3] = 1;
    return;
  }
  out[o] = x / n; out[o + 1] = y / n; out[o + 2] = z / n; out[o + 3] = w / n;
}

/** out[o] = qaxisAngle(axis, angle) (the same bits). */
export function qaxisAngleAt(out: Float64Array, o: number, axis: ArrayLike<number>, angle: number): void {
  const n = hypot3(axis[0], axis[1], axis[2]) || 1;
  const s = Math.sin(angle / 2) / n;
  out[o] = axis[0] * s; out[o + 1] = axis[1] * s; out[o + 2] = axis[2] * s; out[o + 3] = Math.cos(angle / 2);
}

/** out[o] = qx(angle), qy(angle), qz(angle) (the same bits). */
export function qxAt(out: Float64Array, o: number, angle: number): void {
  const s = Math.sin(angle / 2);
  out[o] = s; out[o + 1] = 0 * s; out[o + 2] = 0 * s; out[o + 3] = Math.cos(angle / 2);
}
export function qyAt(out: Float64Array, o: number, angle: number): void {
  const s = Math.sin(angle / 2);
  out[o] = 0 * s; out[o + 1] = s; out[o + 2] = 0 * s; out[o + 3] = Math.cos(angle / 2);
}
export function qzAt(out: Float64Array, o: number, angle: number): void {
  const s = Math.sin(angle / 2);
  out[o] = 0 * s; out[o + 1] = 0 * s; out[o + 2] = s; out[o + 3] = Math.cos(angle / 2);
}

/** out[o] = q[qo] applied to v[vo] (as qrotate); `out` may alias `v`. */
export function qrotateAt(out: Float64Array, o: number, q: ArrayLike<number>, qo: number, v: ArrayLike<number>, vo: number): void {
  const x = q[qo], y = q[qo + 1], z = q[qo + 2], w = q[qo + 3];
  const v0 = v[vo], v1 = v[vo + 1], v2 = v[vo + 2];
  const tx = 2 * (y * v2 - z * v1);
  const ty = 2 * (z * v0 - x * v2);
  const tz = 2 * (x * v1 - y * v0);
  out[o] = v0 + w * tx + (y * tz - z * ty);
  out[o + 1] = v1 + w * ty + (z * tx - x * tz);
  out[o + 2] = v2 + w * tz + (x * ty - y * tx);
}

/**
 * Math.hypot of four numbers by V8's own algorithm (largest magnitude first as the scale, then a Kahan
 * sum of the scaled squares), bit for bit, but inlinable and without the builtin's per-call array
 * (several times faster than the builtin; hypot2 and hypot3 below are its twins).
 */
export function hypot4(x: number, y: number, z: number, w: number): number {
  const ax = Math.abs(x), ay = Math.abs(y), az = Math.abs(z), aw = Math.abs(w);
  let max = 0;
  if (ax > max) max = ax;
  if (ay > max) max = ay;
  if (az > max) max = az;
  if (aw > max) max = aw;
  if (max === Infinity) return Infinity;
  if (Number.isNaN(x) || Number.isNaN(y) || Number.isNaN(z) || Number.isNaN(w)) return NaN;
  if (max === 0) return 0;
  let sum = 0, compensation = 0, n: number, summand: number, next: number;
  n = ax / max; summand = n * n - compensation; next = sum + summand; compensation = (next - sum) - summand; sum = next;
  n = ay / max; summand = n * n - compensation; next = sum + summand; compensation = (next - sum) - summand; sum = next;
  n = az / max; summand = n * n - compensation; next = sum + summand; compensation = (next - sum) - summand; sum = next;
  n = aw / max; summand = n * n - compensation; next = sum + summand; sum = next;
  return Math.sqrt(sum) * max;
}

/** Math.hypot of two numbers, bit for bit, by the same algorithm as hypot4. */
export function hypot2(x: number, y: number): number {
  const ax = Math.abs(x), ay = Math.abs(y);
  let max = 0;
  if (ax > max) max = ax;
  if (ay > max) max = ay;
  if (max === Infinity) return Infinity;
  if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
  if (max === 0) return 0;
  let sum = 0, compensation = 0, n: number, summand: number, next: number;
  n = ax / max; summand = n * n - compensation; next = sum + summand; compensation = (next - sum) - summand; sum = next;
  n = ay / max; summand = n * n - compensation; next = sum + summand; sum = next;
  return Math.sqrt(sum) * max;
}

/** Math.hypot of three numbers, bit for bit, by the same algorithm as hypot4. */
export function hypot3(x: number, y: number, z: number): number {
  const ax = Math.abs(x), ay = Math.abs(y), az = Math.abs(z);
  let max = 0;
  if (ax > max) max = ax;
  if (ay > max) max = ay;
  if (az > max) max = az;
  if (max === Infinity) return Infinity;
  if (Number.isNaN(x) || Number.isNaN(y) || Number.isNaN(z)) return NaN;
  if (max === 0) return 0;
  let sum = 0, compensation = 0, n: number, summand: number, next: number;
  n = ax / max; summand = n * n - compensation; next = sum + summand; compensation = (next - sum) - summand; sum = next;
  n = ay / max; summand = n * n - compensation; next = sum + summand; compensation = (next - sum) - summand; sum = next;
  n = az / max; summand = n * n - compensation; next = sum + summand; sum = next;
  return Math.sqrt(sum) * max;
}

/** out[o] = q[qo] normalized (as qnormalize, identity when near zero); `out` may alias `q`. */
export function qnormalizeAt(out: Float64Array, o: number, q: ArrayLike<number>, qo: number): void {
  const x = q[qo], y = q[qo + 1], z = q[qo + 2], w = q[qo + 3];
  const n = hypot4(x, y, z, w);
  if (n < 1e-12) {
    out[o] = 0; out[o + 1] = 0; out[o + 2] = 0; out[o + 3] = 1;
    return;
  }
  out[o] = x / n; out[o + 1] = y / n; out[o + 2] = z / n; out[o + 3] = w / n;
}

/** out[o] = a[ao]⁻¹·b[bo] (as qmul(qinv(a), b)) for a unit `a`; `out` may alias either input. */
export function qmulInvAt(out: Float64Array, o: number, a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number): void {
  const ax = -a[ao], ay = -a[ao + 1], az = -a[ao + 2], aw = a[ao + 3];
  const bx = b[bo], by = b[bo + 1], bz = b[bo + 2], bw = b[bo + 3];
  out[o] = aw * bx + ax * bw + ay * bz - az * by;
  out[o + 1] = aw * by - ax * bz + ay * bw + az * bx;
  out[o + 2] = aw * bz + ax * by - ay * bx + az * bw;
  out[o + 3] = aw * bw - ax * bx - ay * by - az * bz;
}

/**
 * out[o] = qnormalize(qslerp(a[ao], b[bo], t)) in one pass: qslerpAt's arithmetic followed by
 * qnormalizeAt's, bit for bit (the decoder's per-key rotation sampling); `out` may alias either input.
 */
export function qslerpNormalizedAt(out: Float64Array, o: number, a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, t: number): void {
  qslerpAt(out, o, a, ao, b, bo, t);
  qnormalizeAt(out, o, out, o);
}
