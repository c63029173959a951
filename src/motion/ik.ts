/** Analytic two-bone IK (hip→knee→ankle, shoulder→elbow→wrist) on one pose, in the protocol's rotation convention. */
import { ancestorPath, forwardKinematicsPath } from './skeleton.js';
import type { Skeleton } from '../spec/motion.js';
import {
  qfromTo, qget, qinv, qmul, qrotate, qset, vget, vlen, vsub,
  type Quat, type Vec3,
} from './quat.js';

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
}

/** Scratch world poses of one solve (grown on demand; only the end joint's ancestors are written). */
let scratchPos = new Float64Array(0);
let scratchWorld = new Float64Array(0);

/** Per skeleton, the ancestor path of each end joint solved for. */
const paths = new WeakMap<Skeleton, Map<number, Int32Array>>();

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
  if (scratchPos.length < J * 3) {
    scratchPos = new Float64Array(J * 3);
    scratchWorld = new Float64Array(J * 4);
  }
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
  const lab = Math.hypot(abx, aby, abz);
  const lbc = Math.hypot(bcx, bcy, bcz);
  const tx = target[0] - pax, ty = target[1] - pay, tz = target[2] - paz;
  const dist = Math.hypot(tx, ty, tz);
  const minReach = Math.abs(lab - lbc) + 1e-4;
  const maxReach = (lab + lbc) * 0.99995;
  const lat = Math.min(maxReach, Math.max(minReach, dist));
  const lac = Math.hypot(acx, acy, acz);
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
  const lcb = Math.hypot(cbx, cby, cbz);
  const hint = opts.poleHint;
  let polex = hint[0], poley = hint[1], polez = hint[2];
  if (bendAngle > (opts.keepBendAbove ?? 0.35) && lcb > 1e-6) {
    polex = cbx / lcb; poley = cby / lcb; polez = cbz / lcb;
  }
  let dp = polex * dtx + poley * dty + polez * dtz;
  let px = polex - dtx * dp, py = poley - dty * dp, pz = polez - dtz * dp;
  if (Math.hypot(px, py, pz) < 1e-6) {
    polex = hint[0]; poley = hint[1]; polez = hint[2];
    dp = polex * dtx + poley * dty + polez * dtz;
    px = polex - dtx * dp; py = poley - dty * dp; pz = polez - dtz * dp;
  }
  if (Math.hypot(px, py, pz) < 1e-6) {
    // dt × +X
    const cx = dty * 0 - dtz * 0, cy = dtz * 1 - dtx * 0, cz = dtx * 0 - dty * 1;
    const n = Math.hypot(cx, cy, cz);
    px = n < 1e-12 ? 0 : cx / n; py = n < 1e-12 ? 0 : cy / n; pz = n < 1e-12 ? 0 : cz / n;
  }
  const lp = Math.hypot(px, py, pz);
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
