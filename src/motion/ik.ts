/** Analytic two-bone IK (hip→knee→ankle, shoulder→elbow→wrist) on one pose, in the protocol's rotation convention. */
import { forwardKinematics } from './skeleton.js';
import type { Skeleton } from '../spec/motion.js';
import {
  qfromTo, qget, qinv, qmul, qrotate, qset, vadd, vcross, vdot, vget, vlen, vnormalize, vscale, vsub,
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
  const pos = new Float64Array(J * 3);
  const world = new Float64Array(J * 4);
  forwardKinematics(s, rotations, root, pos, world, rotOffset);
  const { upper, mid, end } = chain;
  const pa = vget(pos, upper);
  const pb = vget(pos, mid);
  const pc = vget(pos, end);
  const lab = vlen(vsub(pb, pa));
  const lbc = vlen(vsub(pc, pb));
  const toTarget = vsub(target, pa);
  const dist = vlen(toTarget);
  const minReach = Math.abs(lab - lbc) + 1e-4;
  const maxReach = (lab + lbc) * 0.99995;
  const lat = Math.min(maxReach, Math.max(minReach, dist));
  const dt = dist > 1e-9 ? vscale(toTarget, 1 / dist) : vnormalize(vsub(pc, pa));

  // Bend direction: the current knee offset from the hip→ankle line, unless the limb is nearly straight.
  const curAxis = vnormalize(vsub(pc, pa));
  const curBendVec = vsub(vsub(pb, pa), vscale(curAxis, vdot(vsub(pb, pa), curAxis)));
  const bendAngle = Math.acos(Math.min(1, Math.max(-1, vdot(vnormalize(vsub(pb, pa)), vnormalize(vsub(pc, pb))))));
  let pole: Vec3 = bendAngle > (opts.keepBendAbove ?? 0.35) && vlen(curBendVec) > 1e-6 ? vnormalize(curBendVec) : opts.poleHint;
  let perp = vsub(pole, vscale(dt, vdot(pole, dt)));
  if (vlen(perp) < 1e-6) {
    pole = opts.poleHint;
    perp = vsub(pole, vscale(dt, vdot(pole, dt)));
  }
  if (vlen(perp) < 1e-6) perp = vnormalize(vcross(dt, [1, 0, 0]));
  perp = vnormalize(perp);

  const cosA = Math.min(1, Math.max(-1, (lab * lab + lat * lat - lbc * lbc) / (2 * lab * lat)));
  const sinA = Math.sqrt(Math.max(0, 1 - cosA * cosA));
  const pbNew = vadd(pa, vadd(vscale(dt, lab * cosA), vscale(perp, lab * sinA)));
  const reached = vadd(pa, vscale(dt, lat));

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
