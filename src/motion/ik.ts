/** Analytic two-bone IK (hip→knee→ankle, shoulder→elbow→wrist) on one pose, in the protocol's rotation convention. */
import { ancestorPath, forwardKinematicsPath } from './skeleton.js';
import type { Skeleton } from '../spec/motion.js';
import {
  hypot3,
  qfromTo, qget, qinv, qmul, qmulInvAt, qrotate, qset, vget, vlen, vsub,
  type Quat, type Vec3,
} from './quat.js';
import { hingeFrame, type HingeLimit } from './limits.js';

export interface TwoBoneChain {
  /** Upper joint (hip / shoulder). */
  upper: number;
  /** Middle joint (knee / elbow). */
  mid: number;
  /** End effector (ankle / wrist). */
  end: number;
}

export interface TwoBoneOptions {
  /** World direction the middle joint should bend toward (knee: forward, elbow: backward); used when the limb is straight. */
  poleHint: Vec3;
  /** World rotation the end joint should keep or take (feet stay flat, hands keep orientation). */
  endWorldRotation?: Quat;
  /** Prefer the current bend direction over the hint when the limb is bent by more than this (radians). */
  keepBendAbove?: number;
  /**
   * Solve the middle joint as this hinge (KNEE, ELBOW from ./limits.ts): its local rotation becomes a
   * rotation about the hinge axis only, within the limit's flexion range, and the upper joint turns the
   * leg's plane to contain the pole (`poleHint`: where the middle joint points). Without it the legacy
   * shortest-arc solve runs.
   */
  hinge?: HingeLimit;
  /**
   * Hinge solves only: the last `soft` fraction of the limb's reach is approached smoothly (soft IK), so
   * a target drawn away from the hip slows the limb's straightening instead of locking it straight.
   */
  soft?: number;
}

/** Scratch world poses of one solve (grown on demand; only the end joint's ancestors are written). */
let scratchPos = new Float64Array(0);
let scratchWorld = new Float64Array(0);

/** Grows the solvers' scratch pose buffers to J joints (one pair per thread, reused; nothing allocated per call). */
function growScratch(J: number): void {
  if (scratchPos.length < J * 3) {
    scratchPos = new Float64Array(J * 3);
    scratchWorld = new Float64Array(J * 4);
  }
}

/** Per skeleton, the ancestor path of each end joint solved for. */
const paths = new WeakMap<Skeleton, Map<number, Int32Array>>();

/** Per skeleton, the part of pathTo(end) from `upper` on (keyed upper·J + end): what changes when `upper` turns. */
const tails = new WeakMap<Skeleton, Map<number, Int32Array>>();

function tailFrom(s: Skeleton, upper: number, end: number): Int32Array {
  let bySkeleton = tails.get(s);
  if (!bySkeleton) tails.set(s, (bySkeleton = new Map()));
  const key = upper * s.names.length + end;
  let tail = bySkeleton.get(key);
  if (!tail) {
    const full = pathTo(s, end);
    const at = full.indexOf(upper);
    bySkeleton.set(key, (tail = full.slice(at < 0 ? 0 : at)));
  }
  return tail;
}

function pathTo(s: Skeleton, end: number): Int32Array {
  let bySkeleton = paths.get(s);
  if (!bySkeleton) paths.set(s, (bySkeleton = new Map()));
  let path = bySkeleton.get(end);
  if (!path) bySkeleton.set(end, (path = ancestorPath(s, end)));
  return path;
}

/**
 * Moves the chain's end joint to `target` (world) by rotating the upper and middle joints of one pose.
 * `rotations` holds local rotations (J×4) starting at quaternion index `rotOffset` and is updated in place;
 * `root` is the root's world position. Targets beyond reach are clamped to the limb's length.
 * Returns the remaining distance between the end joint and the target (0 when reachable).
 */
export function solveTwoBone(
  s: Skeleton,
  rotations: Float64Array,
  rotOffset: number,
  root: ArrayLike<number>,
  chain: TwoBoneChain,
  target: Vec3,
  opts: TwoBoneOptions,
): number {
  const J = s.names.length;
  if (opts.hinge) return solveHinge(s, rotations, rotOffset, root, chain, target, opts, opts.hinge);
  growScratch(J);
  const pos = scratchPos;
  const world = scratchWorld;
  const { upper, mid, end } = chain;
  // Only the end joint's ancestors matter (the chain and what carries it): pose just those.
  forwardKinematicsPath(s, pathTo(s, end), rotations, root, pos, world, rotOffset);
  // The vector part in scalars (this runs for every pinned frame of every leg): the same arithmetic,
  // in the same order, as vsub / vlen / vnormalize / vdot / vscale / vadd would do it.
  const pax = pos[upper * 3], pay = pos[upper * 3 + 1], paz = pos[upper * 3 + 2];
  const pbx = pos[mid * 3], pby = pos[mid * 3 + 1], pbz = pos[mid * 3 + 2];
  const pcx = pos[end * 3], pcy = pos[end * 3 + 1], pcz = pos[end * 3 + 2];
  const abx = pbx - pax, aby = pby - pay, abz = pbz - paz;
  const bcx = pcx - pbx, bcy = pcy - pby, bcz = pcz - pbz;
  const acx = pcx - pax, acy = pcy - pay, acz = pcz - paz;
  const lab = hypot3(abx, aby, abz);
  const lbc = hypot3(bcx, bcy, bcz);
  const tx = target[0] - pax, ty = target[1] - pay, tz = target[2] - paz;
  const dist = hypot3(tx, ty, tz);
  const minReach = Math.abs(lab - lbc) + 1e-4;
  const maxReach = (lab + lbc) * 0.99995;
  const lat = Math.min(maxReach, Math.max(minReach, dist));
  const lac = hypot3(acx, acy, acz);
  // The current hip→ankle axis (normalized), also the reach direction when the target sits on the hip.
  const cax = lac < 1e-12 ? 0 : acx / lac, cay = lac < 1e-12 ? 0 : acy / lac, caz = lac < 1e-12 ? 0 : acz / lac;
  let dtx = cax, dty = cay, dtz = caz;
  if (dist > 1e-9) {
    const inv = 1 / dist;
    dtx = tx * inv; dty = ty * inv; dtz = tz * inv;
  }

  // Bend direction: the current knee offset from the hip→ankle line, unless the limb is nearly straight.
  const along = abx * cax + aby * cay + abz * caz;
  const cbx = abx - cax * along, cby = aby - cay * along, cbz = abz - caz * along;
  const uab = lab < 1e-12 ? 0 : 1, ubc = lbc < 1e-12 ? 0 : 1;
  const bendCos = (uab && ubc) ? (abx / lab) * (bcx / lbc) + (aby / lab) * (bcy / lbc) + (abz / lab) * (bcz / lbc) : 0;
  const bendAngle = Math.acos(Math.min(1, Math.max(-1, bendCos)));
  const lcb = hypot3(cbx, cby, cbz);
  const hint = opts.poleHint;
  let polex = hint[0], poley = hint[1], polez = hint[2];
  if (bendAngle > (opts.keepBendAbove ?? 0.35) && lcb > 1e-6) {
    polex = cbx / lcb; poley = cby / lcb; polez = cbz / lcb;
  }
  let dp = polex * dtx + poley * dty + polez * dtz;
  let px = polex - dtx * dp, py = poley - dty * dp, pz = polez - dtz * dp;
  if (hypot3(px, py, pz) < 1e-6) {
    polex = hint[0]; poley = hint[1]; polez = hint[2];
    dp = polex * dtx + poley * dty + polez * dtz;
    px = polex - dtx * dp; py = poley - dty * dp; pz = polez - dtz * dp;
  }
  if (hypot3(px, py, pz) < 1e-6) {
    // dt × +X
    const cx = dty * 0 - dtz * 0, cy = dtz * 1 - dtx * 0, cz = dtx * 0 - dty * 1;
    const n = hypot3(cx, cy, cz);
    px = n < 1e-12 ? 0 : cx / n; py = n < 1e-12 ? 0 : cy / n; pz = n < 1e-12 ? 0 : cz / n;
  }
  const lp = hypot3(px, py, pz);
  if (lp < 1e-12) {
    px = 0; py = 0; pz = 0;
  } else {
    px /= lp; py /= lp; pz /= lp;
  }

  const cosA = Math.min(1, Math.max(-1, (lab * lab + lat * lat - lbc * lbc) / (2 * lab * lat)));
  const sinA = Math.sqrt(Math.max(0, 1 - cosA * cosA));
  const kc = lab * cosA, ks = lab * sinA;
  const pbNew: Vec3 = [pax + (dtx * kc + px * ks), pay + (dty * kc + py * ks), paz + (dtz * kc + pz * ks)];
  const reached: Vec3 = [pax + dtx * lat, pay + dty * lat, paz + dtz * lat];
  const pa: Vec3 = [pax, pay, paz];
  const pb: Vec3 = [pbx, pby, pbz];

  const parentWorld: Quat = s.parents[upper] >= 0 ? qget(world, s.parents[upper]) : [0, 0, 0, 1];
  const wa = qget(world, upper);
  const waNew = qmul(qfromTo(vsub(pb, pa), vsub(pbNew, pa)), wa);
  const localMid = qget(rotations, rotOffset + mid);
  const wbRaw = qmul(waNew, localMid);
  const endOffset = vget(s.offsets, end);
  const curDir = qrotate(wbRaw, endOffset);
  const wbNew = qmul(qfromTo(curDir, vsub(reached, pbNew)), wbRaw);

  qset(rotations, rotOffset + upper, qmul(qinv(parentWorld), waNew));
  qset(rotations, rotOffset + mid, qmul(qinv(waNew), wbNew));
  if (opts.endWorldRotation) qset(rotations, rotOffset + end, qmul(qinv(wbNew), opts.endWorldRotation));
  return vlen(vsub(reached, target));
}

/**
 * Soft IK's reach: distances up to (1 − soft)·maxReach stand; beyond, the reach approaches maxReach
 * exponentially (continuous in value and slope), so a limb never snaps straight.
 */
function softReach(dist: number, maxReach: number, soft: number): number {
  if (!(soft > 0)) return Math.min(dist, maxReach);
  const band = soft * maxReach;
  const start = maxReach - band;
  return dist > start ? start + band * (1 - Math.exp(-(dist - start) / band)) : dist;
}

/**
 * Soft reach above a floor: distances up to `base` stand; beyond it the reach approaches `maxReach`
 * exponentially, with slope 1 at `base` (so the result is smooth in `dist` and in `base`). softReach is
 * this with base = (1 − soft)·maxReach; a caller that knows a distance the limb already reaches passes
 * the larger of the two, so that motion which needs no easing is left exactly as it is.
 */
export function easedReach(dist: number, base: number, maxReach: number): number {
  const band = maxReach - base;
  if (!(band > 1e-9)) return Math.min(dist, maxReach);
  return dist > base ? base + band * (1 - Math.exp(-(dist - base) / band)) : dist;
}

/** The limb's reach at a hinge's least flexion (the longest hip → end distance). */
export function hingeReach(s: Skeleton, chain: TwoBoneChain, limit: HingeLimit): number {
  const hf = hingeFrame(s, chain.upper, chain.mid, chain.end, limit);
  const lab = hf.upperLength, lbc = hf.lowerLength;
  return Math.sqrt(Math.max(0, lab * lab + lbc * lbc + 2 * lab * lbc * Math.cos(limit.min)));
}

/**
 * The hinge solve: flexion from the reach (soft near full extension, clamped to the limit), the middle
 * joint's local rotation about the hinge axis only, and the upper joint's world rotation taking the
 * limb's rest frame (hip→end, hinge axis) onto (hip→target, pole × hip→target).
 */
function solveHinge(
  s: Skeleton,
  rotations: Float64Array,
  rotOffset: number,
  root: ArrayLike<number>,
  chain: TwoBoneChain,
  target: Vec3,
  opts: TwoBoneOptions,
  limit: HingeLimit,
): number {
  const J = s.names.length;
  growScratch(J);
  const pos = scratchPos;
  const world = scratchWorld;
  const { upper, mid, end } = chain;
  forwardKinematicsPath(s, pathTo(s, upper), rotations, root, pos, world, rotOffset);
  const hf = hingeFrame(s, upper, mid, end, limit);
  const lab = hf.upperLength, lbc = hf.lowerLength;
  const pax = pos[upper * 3], pay = pos[upper * 3 + 1], paz = pos[upper * 3 + 2];
  const tx = target[0] - pax, ty = target[1] - pay, tz = target[2] - paz;
  const dist = hypot3(tx, ty, tz);
  // Reach at the least and the greatest flexion.
  const maxReach = Math.sqrt(Math.max(0, lab * lab + lbc * lbc + 2 * lab * lbc * Math.cos(limit.min)));
  const minReach = Math.sqrt(Math.max(0, lab * lab + lbc * lbc + 2 * lab * lbc * Math.cos(limit.max)));
  const lat = Math.min(maxReach, Math.max(minReach, softReach(dist, maxReach, opts.soft ?? 0)));
  const cosPhi = Math.min(1, Math.max(-1, (lat * lat - lab * lab - lbc * lbc) / (2 * lab * lbc || 1)));
  const phi = Math.min(limit.max, Math.max(limit.min, Math.acos(cosPhi)));
  const theta = phi - hf.restFlexion;
  const hx = hf.axis[0], hy = hf.axis[1], hz = hf.axis[2];
  const sh = Math.sin(theta / 2), ch = Math.cos(theta / 2);
  const kx = hx * sh, ky = hy * sh, kz = hz * sh, kw = ch;
  // e = u·lab + knee·v·lbc, in the upper joint's rest frame.
  const vx = hf.lower[0], vy = hf.lower[1], vz = hf.lower[2];
  const t2x = 2 * (ky * vz - kz * vy), t2y = 2 * (kz * vx - kx * vz), t2z = 2 * (kx * vy - ky * vx);
  const rvx = vx + kw * t2x + (ky * t2z - kz * t2y);
  const rvy = vy + kw * t2y + (kz * t2x - kx * t2z);
  const rvz = vz + kw * t2z + (kx * t2y - ky * t2x);
  const ux = hf.upper[0], uy = hf.upper[1], uz = hf.upper[2];
  let ex = ux * lab + rvx * lbc, ey = uy * lab + rvy * lbc, ez = uz * lab + rvz * lbc;
  const el = hypot3(ex, ey, ez) || 1;
  ex /= el; ey /= el; ez /= el;
  // The rest frame: e, the axis made perpendicular to e, and their cross product.
  const he = hx * ex + hy * ey + hz * ez;
  let ax = hx - ex * he, ay = hy - ey * he, az = hz - ez * he;
  const al = hypot3(ax, ay, az) || 1;
  ax /= al; ay /= al; az /= al;
  // The world frame: hip → target, the hinge axis pole × (hip → target), their cross product.
  let dx: number, dy: number, dz: number;
  if (dist > 1e-9) { dx = tx / dist; dy = ty / dist; dz = tz / dist; } else {
    const c = (upper * 4);
    const q: Quat = [world[c], world[c + 1], world[c + 2], world[c + 3]];
    [dx, dy, dz] = qrotate(q, [ex, ey, ez]);
  }
  let px = opts.poleHint[0], py = opts.poleHint[1], pz = opts.poleHint[2];
  if (opts.keepBendAbove !== undefined) {
    // The current bend, when it is clear enough, wins over the hint.
    forwardKinematicsPath(s, pathTo(s, end), rotations, root, pos, world, rotOffset);
    const bx = pos[mid * 3] - pax, by = pos[mid * 3 + 1] - pay, bz = pos[mid * 3 + 2] - paz;
    const cx = pos[end * 3] - pax, cy = pos[end * 3 + 1] - pay, cz = pos[end * 3 + 2] - paz;
    const cl = hypot3(cx, cy, cz);
    const bl = hypot3(bx, by, bz);
    if (cl > 1e-9 && bl > 1e-9) {
      const k = (bx * cx + by * cy + bz * cz) / (cl * cl);
      const ox = bx - cx * k, oy = by - cy * k, oz = bz - cz * k;
      const ol = hypot3(ox, oy, oz);
      const bend = Math.asin(Math.min(1, ol / bl));
      if (bend > opts.keepBendAbove && ol > 1e-6) { px = ox / ol; py = oy / ol; pz = oz / ol; }
    }
  }
  let wx = py * dz - pz * dy, wy = pz * dx - px * dz, wz = px * dy - py * dx;
  let wl = hypot3(wx, wy, wz);
  if (wl < 1e-6) {
    // The pole along the limb: keep the upper joint's current hinge axis.
    const c = upper * 4;
    const q: Quat = [world[c], world[c + 1], world[c + 2], world[c + 3]];
    [wx, wy, wz] = qrotate(q, hf.axis);
    const k = wx * dx + wy * dy + wz * dz;
    wx -= dx * k; wy -= dy * k; wz -= dz * k;
    wl = hypot3(wx, wy, wz);
    if (wl < 1e-6) { wx = 1; wy = 0; wz = 0; wl = 1; }
  }
  wx /= wl; wy /= wl; wz /= wl;
  const bx = ey * az - ez * ay, by = ez * ax - ex * az, bz = ex * ay - ey * ax;
  const cx = dy * wz - dz * wy, cy = dz * wx - dx * wz, cz = dx * wy - dy * wx;
  // M = D·Eᵀ with E = [e a b], D = [d w c] (columns): the rotation taking the rest frame onto the world frame.
  const m00 = dx * ex + wx * ax + cx * bx, m01 = dx * ey + wx * ay + cx * by, m02 = dx * ez + wx * az + cx * bz;
  const m10 = dy * ex + wy * ax + cy * bx, m11 = dy * ey + wy * ay + cy * by, m12 = dy * ez + wy * az + cy * bz;
  const m20 = dz * ex + wz * ax + cz * bx, m21 = dz * ey + wz * ay + cz * by, m22 = dz * ez + wz * az + cz * bz;
  matrixQuat(m00, m01, m02, m10, m11, m12, m20, m21, m22, hingeScratch, 0);
  const p = s.parents[upper];
  const ro = rotOffset * 4;
  if (p >= 0) qmulInvAt(rotations, ro + upper * 4, world, p * 4, hingeScratch, 0);
  else { rotations[ro + upper * 4] = hingeScratch[0]; rotations[ro + upper * 4 + 1] = hingeScratch[1]; rotations[ro + upper * 4 + 2] = hingeScratch[2]; rotations[ro + upper * 4 + 3] = hingeScratch[3]; }
  rotations[ro + mid * 4] = kx; rotations[ro + mid * 4 + 1] = ky; rotations[ro + mid * 4 + 2] = kz; rotations[ro + mid * 4 + 3] = kw;
  // Joints between the chain's joints (twist bones) keep their local rotations. Only the upper joint and
  // what it carries moved: the joints above it are posed in the scratch already (by the pass above).
  forwardKinematicsPath(s, tailFrom(s, upper, end), rotations, root, pos, world, rotOffset);
  if (opts.endWorldRotation) qmulInvAt(rotations, ro + end * 4, world, s.parents[end] * 4, opts.endWorldRotation, 0);
  return hypot3(pos[end * 3] - target[0], pos[end * 3 + 1] - target[1], pos[end * 3 + 2] - target[2]);
}

/** The upper joint's world rotation of a hinge solve (scratch). */
const hingeScratch = new Float64Array(4);

/** The unit quaternion of a rotation matrix (rows m0*, m1*, m2*), by Shepperd's method, into `out` at float offset `o`. */
function matrixQuat(m00: number, m01: number, m02: number, m10: number, m11: number, m12: number, m20: number, m21: number, m22: number, out: Float64Array, o: number): void {
  const tr = m00 + m11 + m22;
  let x: number, y: number, z: number, w: number;
  if (tr > 0) {
    const k = 0.5 / Math.sqrt(tr + 1);
    w = 0.25 / k; x = (m21 - m12) * k; y = (m02 - m20) * k; z = (m10 - m01) * k;
  } else if (m00 > m11 && m00 > m22) {
    const k = 2 * Math.sqrt(1 + m00 - m11 - m22);
    w = (m21 - m12) / k; x = 0.25 * k; y = (m01 + m10) / k; z = (m02 + m20) / k;
  } else if (m11 > m22) {
    const k = 2 * Math.sqrt(1 + m11 - m00 - m22);
    w = (m02 - m20) / k; x = (m01 + m10) / k; y = 0.25 * k; z = (m12 + m21) / k;
  } else {
    const k = 2 * Math.sqrt(1 + m22 - m00 - m11);
    w = (m10 - m01) / k; x = (m02 + m20) / k; y = (m12 + m21) / k; z = 0.25 * k;
  }
  const n = Math.sqrt(x * x + y * y + z * z + w * w) || 1;
  out[o] = x / n; out[o + 1] = y / n; out[o + 2] = z / n; out[o + 3] = w / n;
}
