/** Scalar curves the generators are written with: easings, bumps, eased keyframe tracks, a soft minimum. */
import type { Vec3 } from '../../motion/quat.js';

export const DEG = Math.PI / 180;

export const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);
export const lerp = (a: number, b: number, t: number): number => a + (b - a) * t;

/** 3w² − 2w³ on [0, 1]: zero slope at both ends. */
export function smooth(w: number): number {
  const x = clamp(w, 0, 1);
  return x * x * (3 - 2 * x);
}

/** Minimum-jerk profile 10s³ − 15s⁴ + 6s⁵: zero velocity and acceleration at both ends (how limbs reach). */
export function minJerk(s: number): number {
  const x = clamp(s, 0, 1);
  return x * x * x * (10 + x * (-15 + 6 * x));
}

/** A bump on [0, 1]: 0 at both ends with zero slope, 1 at `apex` (0 < apex < 1). */
export function bump(s: number, apex = 0.5): number {
  if (s <= 0 || s >= 1) return 0;
  const a = Math.log(0.5) / Math.log(apex);
  const v = Math.sin(Math.PI * Math.pow(s, a));
  return v * v;
}

/** Position on [0, 1] of `t` within [t0, t1] (clamped). */
function progress(t: number, t0: number, t1: number): number {
  return t1 > t0 ? clamp((t - t0) / (t1 - t0), 0, 1) : t >= t1 ? 1 : 0;
}

/**
 * Eased keyframes: holds the first value before the first key and the last after the last; between keys
 * it moves with `smooth`, so every key is a resting point (the way a pose-to-pose animator times it).
 */
export type Keys = readonly (readonly [number, number])[];
export function track(keys: Keys, t: number): number {
  if (t <= keys[0][0]) return keys[0][1];
  for (let i = 1; i < keys.length; i++) {
    const t1 = keys[i][0], v1 = keys[i][1];
    if (t <= t1) {
      const t0 = keys[i - 1][0], v0 = keys[i - 1][1];
      return lerp(v0, v1, smooth(progress(t, t0, t1)));
    }
  }
  return keys[keys.length - 1][1];
}

export type Keys3 = readonly (readonly [number, Vec3])[];
export function track3(keys: Keys3, t: number): Vec3 {
  if (t <= keys[0][0]) return [...keys[0][1]] as Vec3;
  for (let i = 1; i < keys.length; i++) {
    const t1 = keys[i][0], v1 = keys[i][1];
    if (t <= t1) {
      const t0 = keys[i - 1][0], v0 = keys[i - 1][1];
      const w = smooth(progress(t, t0, t1));
      return [lerp(v0[0], v1[0], w), lerp(v0[1], v1[1], w), lerp(v0[2], v1[2], w)];
    }
  }
  return [...keys[keys.length - 1][1]] as Vec3;
}

/** Cubic Hermite between p0 and p1 with end slopes m0, m1 (per unit of u). */
export function hermite(p0: number, m0: number, p1: number, m1: number, u: number): number {
  const u2 = u * u;
  const u3 = u2 * u;
  return (2 * u3 - 3 * u2 + 1) * p0 + (u3 - 2 * u2 + u) * m0 + (-2 * u3 + 3 * u2) * p1 + (u3 - u2) * m1;
}

/** A smooth minimum never above min(a, b): blends within `k` of the crossing so limits bend, not kink. */
export function smin(a: number, b: number, k: number): number {
  const h = Math.max(k - Math.abs(a - b), 0) / k;
  return Math.min(a, b) - (h * h * k) / 4;
}

/** Angle interpolation along the shorter way. */
export function lerpAngle(a: number, b: number, t: number): number {
  let d = (b - a) % (2 * Math.PI);
  if (d > Math.PI) d -= 2 * Math.PI;
  if (d < -Math.PI) d += 2 * Math.PI;
  return a + d * t;
}

/** A 0→1 envelope over [t0, t0 + rise], held, then 1→0 over [t1 − fall, t1]. */
export function envelope(t: number, t0: number, rise: number, t1: number, fall: number): number {
  return smooth(progress(t, t0, t0 + rise)) * (1 - smooth(progress(t, t1 - fall, t1)));
}
