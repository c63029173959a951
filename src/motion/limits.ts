/**
 * Joint limits of the body's hinges (knees, elbows). A hinge's rotation from rest is about one axis:
 * the axis perpendicular to the upper bone's rest direction and to the direction the lower bone swings
 * when the joint flexes (the shin backward, the forearm forward). Flexion is the angle between the two
 * bones' directions (0 straight), kept within [min, max]: no hyperextension, no over-folding.
 */
import type { Skeleton } from '../spec/motion.js';
import { restPositions } from './skeleton.js';
import { hypot2, hypot3 } from './quat.js';

export interface HingeLimit {
  /** Rest-frame (world-axis) direction the lower bone swings toward as the joint flexes. */
  flex: readonly [number, number, number];
  /** Least flexion (radians; 0: the bones in line, no hyperextension). */
  min: number;
  /** Greatest flexion (radians). */
  max: number;
}

const DEG = Math.PI / 180;

/** The knee: the shin swings backward (−Z), 0° to 150°. */
export const KNEE: HingeLimit = { flex: [0, 0, -1], min: 0, max: 150 * DEG };
/** The elbow: the forearm swings forward (+Z), 0° to 150°. */
export const ELBOW: HingeLimit = { flex: [0, 0, 1], min: 0, max: 150 * DEG };

/** A chain's hinge in its upper joint's rest frame: the axis, and the rest flexion about it. */
export interface HingeFrame {
  /** Unit hinge axis (rest / local frame of the middle joint). */
  axis: [number, number, number];
  /** Unit rest direction of the upper bone (upper → mid) and of the lower bone (mid → end). */
  upper: [number, number, number];
  lower: [number, number, number];
  /** Signed rest flexion of the lower bone from the upper's direction about `axis` (radians). */
  restFlexion: number;
  /** Rest lengths upper → mid and mid → end (through any joints between them, e.g. twist bones). */
  upperLength: number;
  lowerLength: number;
  /** The limit's flex direction the frame was made for. */
  flex: readonly [number, number, number];
}

/** Per skeleton and limit, the frames by chain (upper, mid, end packed into one number: no string key per solve). */
const frames = new WeakMap<Skeleton, WeakMap<HingeLimit, Map<number, HingeFrame>>>();

function unit(x: number, y: number, z: number): [number, number, number] {
  const n = hypot3(x, y, z);
  return n < 1e-12 ? [0, 0, 0] : [x / n, y / n, z / n];
}

/**
 * The hinge frame of the chain upper → mid → end of `s` for `limit`, from the rest pose (cached). The
 * bones run between the joints' rest positions, so joints between them (twist bones) are spanned as they
 * rest. The axis is upper-bone × flex direction (made perpendicular to the upper bone); a flex direction
 * along the bone falls back to the rest bend, then to +X.
 */
export function hingeFrame(s: Skeleton, upper: number, mid: number, end: number, limit: HingeLimit): HingeFrame {
  let bySkeleton = frames.get(s);
  if (!bySkeleton) frames.set(s, (bySkeleton = new WeakMap()));
  let byLimit = bySkeleton.get(limit);
  if (!byLimit) bySkeleton.set(limit, (byLimit = new Map()));
  const J = s.names.length;
  const key = (upper * J + mid) * J + end;
  let frame = byLimit.get(key);
  // The frame depends on the flex direction, which a caller's limit object could change after the first call.
  if (frame && frame.flex[0] === limit.flex[0] && frame.flex[1] === limit.flex[1] && frame.flex[2] === limit.flex[2]) return frame;
  const r = restPositions(s);
  const ux = r[mid * 3] - r[upper * 3], uy = r[mid * 3 + 1] - r[upper * 3 + 1], uz = r[mid * 3 + 2] - r[upper * 3 + 2];
  const vx = r[end * 3] - r[mid * 3], vy = r[end * 3 + 1] - r[mid * 3 + 1], vz = r[end * 3 + 2] - r[mid * 3 + 2];
  const u = unit(ux, uy, uz);
  const v = unit(vx, vy, vz);
  const [fx, fy, fz] = limit.flex;
  let axis = unit(u[1] * fz - u[2] * fy, u[2] * fx - u[0] * fz, u[0] * fy - u[1] * fx);
  if (axis[0] === 0 && axis[1] === 0 && axis[2] === 0) axis = unit(u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]);
  if (axis[0] === 0 && axis[1] === 0 && axis[2] === 0) axis = [1, 0, 0];
  // The rest bend about the axis: the signed angle from u to v in the plane perpendicular to the axis.
  const d = v[0] * axis[0] + v[1] * axis[1] + v[2] * axis[2];
  const vp = unit(v[0] - axis[0] * d, v[1] - axis[1] * d, v[2] - axis[2] * d);
  const cx = u[1] * vp[2] - u[2] * vp[1], cy = u[2] * vp[0] - u[0] * vp[2], cz = u[0] * vp[1] - u[1] * vp[0];
  const restFlexion = Math.atan2(cx * axis[0] + cy * axis[1] + cz * axis[2], u[0] * vp[0] + u[1] * vp[1] + u[2] * vp[2]);
  frame = { axis, upper: u, lower: v, restFlexion, upperLength: hypot3(ux, uy, uz), lowerLength: hypot3(vx, vy, vz), flex: [fx, fy, fz] };
  byLimit.set(key, frame);
  return frame;
}

/**
 * How far a hinge joint's local rotation `q` (at `o`) is from a pure rotation about `axis`: the angle of
 * its swing part in a swing–twist decomposition about the axis (radians). 0 for a perfect hinge.
 */
export function offHingeAngle(q: ArrayLike<number>, o: number, axis: ArrayLike<number>): number {
  const x = q[o], y = q[o + 1], z = q[o + 2], w = q[o + 3];
  const d = x * axis[0] + y * axis[1] + z * axis[2];
  const n = hypot2(d, w);
  if (n < 1e-12) return Math.PI;
  // swing = q · twist⁻¹, twist = (axis·d, w)/n; only its w is needed: (q · twist⁻¹).w = (w·w + d·d)/n.
  const sw = (w * w + d * d) / n;
  return 2 * Math.acos(Math.min(1, Math.abs(sw)));
}

/** The signed flexion about `axis` of a hinge rotation (radians), from its twist part. */
export function hingeFlexion(q: ArrayLike<number>, o: number, axis: ArrayLike<number>): number {
  const d = q[o] * axis[0] + q[o + 1] * axis[1] + q[o + 2] * axis[2];
  const a = 2 * Math.atan2(d, q[o + 3]);
  return a > Math.PI ? a - 2 * Math.PI : a < -Math.PI ? a + 2 * Math.PI : a;
}
