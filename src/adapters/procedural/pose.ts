/**
 * Writes one frame of the canonical skeleton from a body description a generator can think in: where the
 * hips are, how the spine, head and arms bend, and where each foot is. Legs are solved with two-bone IK
 * toward the feet (so planted feet stay exactly where they are); hands may reach targets the same way.
 */
import type { Clip } from '../../spec/motion.js';
import type { TwoBoneChain } from '../../motion/ik.js';
import {
  IDENTITY, qaxisAngle, qget, qinv, qmul, qrotate, qset, qslerp, qx, qy, qz, vget, type Quat, type Vec3,
} from '../../motion/quat.js';
import { lerpAngle, smin } from './curves.js';
import type { FootPose } from './feet.js';
import { ARM, JOINT, JOINT_COUNT, LEG, PROCEDURAL_SKELETON, REST } from './rig.js';

/** Bend angles in radians: pitch + bends forward, yaw + turns toward the character's left (+X), roll + leans to its left. */
export type Bend = readonly [pitch: number, yaw: number, roll: number];
const STRAIGHT: Bend = [0, 0, 0];

/** Rotation of a bend in its parent's (world-aligned) frame. */
function bendRotation(b: Bend): Quat {
  return qmul(qy(b[1]), qmul(qx(b[0]), qz(-b[2])));
}

/**
 * One arm, described for its own side: the right arm's numbers mean the mirror image of the left's, so a
 * symmetric gesture uses the same values twice.
 */
export interface ArmPose {
  /** Forward raise of the upper arm from hanging (negative swings it back). */
  flex: number;
  /** Sideways raise from hanging (π/2 is the T-pose). */
  out: number;
  /** Elbow bend (0 straight). */
  elbow: number;
  /** Rotation of the upper arm about its own axis. */
  twist?: number;
  /** Collar-bone raise (a shrug) and forward pull. */
  shrug?: number;
  protract?: number;
  /** Hand (wrist) rotation relative to the forearm. */
  wrist?: Quat;
  /**
   * Pull the hand to `hand` (chest frame, x + outward from the midline, y up, z forward) with the elbow
   * toward `pole`, by weight w (0 keeps the angles above, 1 is the IK solution).
   */
  reach?: { hand: Vec3; pole: Vec3; w: number };
}

export const HANGING: ArmPose = { flex: 0, out: 6 * (Math.PI / 180), elbow: 10 * (Math.PI / 180) };

/** Everything above the feet for one frame. */
export interface BodyPose {
  /** Hips joint world position; its height is lowered where needed so both feet stay reachable. */
  root: Vec3;
  /** Facing about +Y (0 faces +Z, + turns toward +X). */
  heading: number;
  /** Pelvis bend relative to the heading. */
  pelvis: Bend;
  /** Total spine bend, shared over Spine, Spine1 and Spine2. */
  spine: Bend;
  neck: Bend;
  head: Bend;
  arms: readonly [ArmPose, ArmPose];
  /** Keep the root height as given even if a foot cannot be reached (feet in the air). */
  free?: boolean;
  /**
   * How softly (metres) the hips are lowered to keep both feet reachable (default REACH_SOFTNESS). A motion
   * whose hips rise onto a straightening leg (climbing) sets it larger, so the knee slows into its
   * extension instead of snapping straight at the reach limit.
   */
  reachSoftness?: number;
}

export const standingBody = (): BodyPose => ({
  root: [0, REST.hipsHeight, 0],
  heading: 0,
  pelvis: STRAIGHT,
  spine: STRAIGHT,
  neck: STRAIGHT,
  head: STRAIGHT,
  arms: [HANGING, HANGING],
});

/** Mirror images across the character's sagittal plane (x → −x). */
const mirrorQ = (q: Quat): Quat => [q[0], -q[1], -q[2], q[3]];
const mirrorV = (v: Vec3): Vec3 => [-v[0], v[1], v[2]];

const SPINE_SHARE = [0.3, 0.35, 0.35] as const;
const SPINE_JOINTS = [JOINT.Spine, JOINT.Spine1, JOINT.Spine2] as const;
const LEG_REACH = REST.legLength * 0.999;
const REACH_SOFTNESS = 0.006;
/** Hip-to-ankle distance of a leg extended as far as a kick goes (knee about 12° from straight). */
const EXTENDED_REACH = REST.legLength * 0.995;

/** Highest root height for which the hip joint of `side` still reaches `ankle` (with a small margin). */
function reachHeight(root: Vec3, rootRot: Quat, side: 0 | 1, ankle: Vec3): number {
  const off = qrotate(rootRot, side === 0 ? REST.hipOffset : [-REST.hipOffset[0], REST.hipOffset[1], REST.hipOffset[2]]);
  const dx = ankle[0] - (root[0] + off[0]);
  const dz = ankle[2] - (root[2] + off[2]);
  const v = Math.sqrt(Math.max(LEG_REACH * LEG_REACH - dx * dx - dz * dz, 0));
  return ankle[1] + v - off[1];
}

/** Local rotations of an arm from its angles, for the left side (mirror for the right). */
function armLocals(a: ArmPose): { shoulder: Quat; upper: Quat; mid: Quat; hand: Quat } {
  const shoulder = qmul(qz(a.shrug ?? 0), qy(-(a.protract ?? 0)));
  // Hanging is the T-pose lowered by 90° about +Z; flex then swings it about the lateral axis.
  const upper = qmul(qx(-a.flex), qmul(qz(a.out - Math.PI / 2), qx(a.twist ?? 0)));
  const mid = qy(-a.elbow);
  return { shoulder, upper, mid, hand: a.wrist ?? [0, 0, 0, 1] };
}

/**
 * Writes frame `f` of `clip`: root, spine, head, arms and both legs. `contacts`, when given, receives the
 * planted flags of LeftFoot, LeftToeBase, RightFoot, RightToeBase at index f*4.
 */
export function renderFrame(clip: Clip, f: number, body: BodyPose, feet: readonly [FootPose, FootPose], contacts?: Uint8Array): void {
  const J = JOINT_COUNT;
  const off = f * J;
  const rot = clip.rotations;
  for (let j = 0; j < J; j++) qset(rot, off + j, IDENTITY);

  const rootRot = qmul(qy(body.heading), bendRotation(body.pelvis));
  const root: Vec3 = [body.root[0], body.root[1], body.root[2]];
  if (!body.free) {
    // Lower the hips (smoothly) rather than let IK fall short: a foot that cannot reach its plant would slide.
    const k = body.reachSoftness ?? REACH_SOFTNESS;
    root[1] = smin(root[1], reachHeight(root, rootRot, 0, feet[0].ankle) - (k - REACH_SOFTNESS) / 4, k);
    root[1] = smin(root[1], reachHeight(root, rootRot, 1, feet[1].ankle) - (k - REACH_SOFTNESS) / 4, k);
  }
  // + 0 turns −0 into 0 (a clip starts at exactly the origin).
  clip.rootPositions[f * 3] = root[0] + 0;
  clip.rootPositions[f * 3 + 1] = root[1];
  clip.rootPositions[f * 3 + 2] = root[2] + 0;
  qset(rot, off + JOINT.Hips, rootRot);

  const spine = bendRotation([body.spine[0], body.spine[1], body.spine[2]]);
  for (let i = 0; i < 3; i++) {
    const s = SPINE_SHARE[i];
    qset(rot, off + SPINE_JOINTS[i], qslerp(IDENTITY, spine, s));
  }
  qset(rot, off + JOINT.Neck, bendRotation(body.neck));
  qset(rot, off + JOINT.Head, bendRotation(body.head));

  for (let side = 0; side < 2; side++) {
    const a = armLocals(body.arms[side]);
    const m = side === 0 ? (q: Quat) => q : mirrorQ;
    const chain = ARM[side];
    qset(rot, off + chain.shoulder, m(a.shoulder));
    qset(rot, off + chain.upper, m(a.upper));
    qset(rot, off + chain.mid, m(a.mid));
    qset(rot, off + chain.end, m(a.hand));
  }

  for (let side = 0 as 0 | 1; side < 2; side = (side + 1) as 0 | 1) {
    const foot = feet[side];
    const leg = LEG[side];
    // The knee points where the foot and the body both face (between their headings), a little outward.
    const fwd = qrotate(foot.rot, [0, 0, 1]);
    const footYaw = Math.hypot(fwd[0], fwd[2]) > 1e-6 ? Math.atan2(fwd[0], fwd[2]) : body.heading;
    const kneeYaw = lerpAngle(body.heading, footYaw, 0.5);
    const pole = qrotate(qy(kneeYaw), [side === 0 ? 0.12 : -0.12, 0, 1]);
    const hipOff = qrotate(rootRot, vget(PROCEDURAL_SKELETON.offsets, leg.upper));
    const hip: Vec3 = [root[0] + hipOff[0], root[1] + hipOff[1], root[2] + hipOff[2]];
    let ankle = foot.ankle;
    if (foot.extend && foot.extend > 0) {
      // Straighten toward nearly full reach along the hip→ankle line (the knee keeps a few degrees).
      const d: Vec3 = [ankle[0] - hip[0], ankle[1] - hip[1], ankle[2] - hip[2]];
      const n = Math.hypot(d[0], d[1], d[2]);
      if (n > 1e-6) {
        const k = (n + (EXTENDED_REACH - n) * Math.min(1, foot.extend)) / n;
        ankle = [hip[0] + d[0] * k, hip[1] + d[1] * k, hip[2] + d[2] * k];
      }
    }
    solveHinge(rot, off, leg, rootRot, hip, ankle, pole, KNEE_AXIS, foot.rot);
    qset(rot, off + leg.toe, foot.toeLocal);
    if (contacts) {
      contacts[f * 4 + side * 2] = foot.heel ? 1 : 0;
      contacts[f * 4 + side * 2 + 1] = foot.toe ? 1 : 0;
    }
  }

  if (body.arms[0].reach || body.arms[1].reach) reachHands(clip, f, root, body.arms);
}

/** Moves hands toward their chest-frame targets with two-bone IK, blended with the angle pose by weight. */
function reachHands(clip: Clip, f: number, root: Vec3, arms: readonly [ArmPose, ArmPose]): void {
  const off = f * JOINT_COUNT;
  const rot = clip.rotations;
  const chest = worldOf(rot, off, root, JOINT.Spine2);
  for (let side = 0; side < 2; side++) {
    const r = arms[side].reach;
    if (!r || r.w <= 0) continue;
    const chain = ARM[side];
    const hand = side === 0 ? r.hand : mirrorV(r.hand);
    const pole = side === 0 ? r.pole : mirrorV(r.pole);
    const d = qrotate(chest.rot, hand);
    const target: Vec3 = [chest.pos[0] + d[0], chest.pos[1] + d[1], chest.pos[2] + d[2]];
    // The shoulder (collar bone) is a child of the chest: its world frame is one step further.
    const shoulderRot = qmul(chest.rot, qget(rot, off + chain.shoulder));
    const s0 = qrotate(chest.rot, vget(PROCEDURAL_SKELETON.offsets, chain.shoulder));
    const s1 = qrotate(shoulderRot, vget(PROCEDURAL_SKELETON.offsets, chain.upper));
    const upperPos: Vec3 = [chest.pos[0] + s0[0] + s1[0], chest.pos[1] + s0[1] + s1[1], chest.pos[2] + s0[2] + s1[2]];
    const upper0 = qget(rot, off + chain.upper);
    const mid0 = qget(rot, off + chain.mid);
    solveHinge(rot, off, chain, shoulderRot, upperPos, target, qrotate(chest.rot, pole), ELBOW_AXIS[side]);
    if (r.w < 1) {
      qset(rot, off + chain.upper, qslerp(upper0, qget(rot, off + chain.upper), r.w));
      qset(rot, off + chain.mid, qslerp(mid0, qget(rot, off + chain.mid), r.w));
    }
  }
}

/** World rotation and position of `joint` in one pose, walking down from the root (cheaper than full FK for one joint). */
function worldOf(rot: Float64Array, off: number, root: Vec3, joint: number): { rot: Quat; pos: Vec3 } {
  const path: number[] = [];
  for (let j = joint; j >= 0; j = PROCEDURAL_SKELETON.parents[j]) path.unshift(j);
  let w: Quat = qget(rot, off + path[0]);
  const p: Vec3 = [root[0], root[1], root[2]];
  for (let i = 1; i < path.length; i++) {
    const d = qrotate(w, vget(PROCEDURAL_SKELETON.offsets, path[i]));
    p[0] += d[0];
    p[1] += d[1];
    p[2] += d[2];
    w = qmul(w, qget(rot, off + path[i]));
  }
  return { rot: w, pos: p };
}

/**
 * Hinge axes in the upper bone's local frame (the rest pose is world-aligned): the knee flexes about the
 * thigh's lateral axis (+X; a positive angle swings the shin back), the elbow about the upper arm's
 * vertical axis (the forearm swings forward: −Y on the left, +Y on the mirrored right).
 */
const KNEE_AXIS: Vec3 = [1, 0, 0];
const ELBOW_AXIS: readonly [Vec3, Vec3] = [[0, -1, 0], [0, 1, 0]];

/** Quaternion of the rotation matrix with columns c0, c1, c2 (orthonormal, right-handed). */
function quatFromColumns(c0: Vec3, c1: Vec3, c2: Vec3): Quat {
  const m00 = c0[0], m10 = c0[1], m20 = c0[2];
  const m01 = c1[0], m11 = c1[1], m21 = c1[2];
  const m02 = c2[0], m12 = c2[1], m22 = c2[2];
  const tr = m00 + m11 + m22;
  let q: Quat;
  if (tr > 0) {
    const S = Math.sqrt(tr + 1) * 2;
    q = [(m21 - m12) / S, (m02 - m20) / S, (m10 - m01) / S, 0.25 * S];
  } else if (m00 > m11 && m00 > m22) {
    const S = Math.sqrt(1 + m00 - m11 - m22) * 2;
    q = [0.25 * S, (m01 + m10) / S, (m02 + m20) / S, (m21 - m12) / S];
  } else if (m11 > m22) {
    const S = Math.sqrt(1 + m11 - m00 - m22) * 2;
    q = [(m01 + m10) / S, 0.25 * S, (m12 + m21) / S, (m02 - m20) / S];
  } else {
    const S = Math.sqrt(1 + m22 - m00 - m11) * 2;
    q = [(m02 + m20) / S, (m12 + m21) / S, 0.25 * S, (m10 - m01) / S];
  }
  const n = Math.hypot(q[0], q[1], q[2], q[3]);
  return [q[0] / n, q[1] / n, q[2] / n, q[3] / n];
}

const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
function unit(a: Vec3): Vec3 {
  const n = Math.hypot(a[0], a[1], a[2]);
  return n < 1e-12 ? [0, 0, 0] : [a[0] / n, a[1] / n, a[2] / n];
}

/**
 * Two-bone IK with a true hinge: the middle joint's local rotation is a rotation about `axis` (upper-bone
 * local frame) only, and the upper bone is rolled so that hinge axis is the normal of the limb's plane,
 * which contains the middle joint displaced toward `pole` (world). The canonical rig's limbs are straight
 * at rest (both bones along one direction), which is what makes the middle joint's rotation one angle.
 * Targets beyond reach are met with the limb straight, along the line to the target.
 */
function solveHinge(rot: Float64Array, off: number, chain: TwoBoneChain, parentWorld: Quat, upperPos: Vec3, target: Vec3, pole: Vec3, axis: Vec3, endWorld?: Quat): void {
  const o = PROCEDURAL_SKELETON.offsets;
  const midOff = vget(o, chain.mid);
  const endOff = vget(o, chain.end);
  const a = Math.hypot(midOff[0], midOff[1], midOff[2]);
  const c = Math.hypot(endOff[0], endOff[1], endOff[2]);
  const b = unit(midOff);
  const bend = cross(axis, b);
  const d: Vec3 = [target[0] - upperPos[0], target[1] - upperPos[1], target[2] - upperPos[2]];
  const dist = Math.hypot(d[0], d[1], d[2]);
  const L = Math.min((a + c) * 0.99995, Math.max(Math.abs(a - c) + 1e-4, dist));
  const dh: Vec3 = dist > 1e-9 ? [d[0] / dist, d[1] / dist, d[2] / dist] : qrotate(qmul(parentWorld, qget(rot, off + chain.upper)), b);
  let pp: Vec3 = [pole[0] - dh[0] * dot(pole, dh), pole[1] - dh[1] * dot(pole, dh), pole[2] - dh[2] * dot(pole, dh)];
  if (Math.hypot(pp[0], pp[1], pp[2]) < 1e-6) pp = cross(dh, Math.abs(dh[1]) < 0.9 ? [0, 1, 0] : [1, 0, 0]);
  pp = unit(pp);
  const cosA = Math.min(1, Math.max(-1, (a * a + L * L - c * c) / (2 * a * L)));
  const sinA = Math.sqrt(Math.max(0, 1 - cosA * cosA));
  // Upper bone direction and the in-plane direction the middle joint is displaced toward.
  const u: Vec3 = [dh[0] * cosA + pp[0] * sinA, dh[1] * cosA + pp[1] * sinA, dh[2] * cosA + pp[2] * sinA];
  const k: Vec3 = [pp[0] * cosA - dh[0] * sinA, pp[1] * cosA - dh[1] * sinA, pp[2] * cosA - dh[2] * sinA];
  // Rest frame (b, bend, axis) maps to world (u, −k, u × −k).
  const e2: Vec3 = [-k[0], -k[1], -k[2]];
  const e3 = cross(u, e2);
  const restM = quatFromColumns(b, bend, axis);
  const worldM = quatFromColumns(u, e2, e3);
  const upperWorld = qmul(worldM, qinv(restM));
  // Flexion: the distal bone's angle from the upper bone's direction, toward the bend side.
  const mid: Vec3 = [upperPos[0] + u[0] * a, upperPos[1] + u[1] * a, upperPos[2] + u[2] * a];
  const v = unit([upperPos[0] + dh[0] * L - mid[0], upperPos[1] + dh[1] * L - mid[1], upperPos[2] + dh[2] * L - mid[2]]);
  const theta = Math.atan2(dot(v, e2), dot(v, u));
  const midLocal = qaxisAngle(axis, theta);
  qset(rot, off + chain.upper, qmul(qinv(parentWorld), upperWorld));
  qset(rot, off + chain.mid, midLocal);
  if (endWorld) qset(rot, off + chain.end, qmul(qinv(qmul(upperWorld, midLocal)), endWorld));
}

/**
 * Final touches shared by every generator: moves the clip so its root starts at x = z = 0 (the whole body
 * moves with it, feet included), normalizes every rotation and keeps each joint's keys in one hemisphere
 * (so LINEAR playback never takes the long way round).
 */
export function finishClip(clip: Clip): void {
  const J = clip.jointCount;
  const r = clip.rotations;
  const rp = clip.rootPositions;
  const x0 = rp[0];
  const z0 = rp[2];
  for (let f = 0; f < clip.numFrames; f++) {
    rp[f * 3] = rp[f * 3] - x0 + 0;
    rp[f * 3 + 2] = rp[f * 3 + 2] - z0 + 0;
  }
  for (let f = 0; f < clip.numFrames; f++) {
    for (let j = 0; j < J; j++) {
      const o = (f * J + j) * 4;
      // Plain sqrt rather than Math.hypot: this runs for every key of every sample.
      let n = Math.sqrt(r[o] * r[o] + r[o + 1] * r[o + 1] + r[o + 2] * r[o + 2] + r[o + 3] * r[o + 3]);
      if (n < 1e-12) {
        r[o] = 0; r[o + 1] = 0; r[o + 2] = 0; r[o + 3] = 1;
        n = 1;
      }
      const p = o - J * 4;
      if (f > 0 && r[o] * r[p] + r[o + 1] * r[p + 1] + r[o + 2] * r[p + 2] + r[o + 3] * r[p + 3] < 0) n = -n;
      r[o] /= n;
      r[o + 1] /= n;
      r[o + 2] /= n;
      r[o + 3] /= n;
    }
  }
}
