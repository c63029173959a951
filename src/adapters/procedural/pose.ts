/**
 * Writes one frame of the canonical skeleton from a body description a generator can think in: where the
 * hips are, how the spine, head and arms bend, and where each foot is. Legs are solved with two-bone IK
 * toward the feet (so planted feet stay exactly where they are); hands may reach targets the same way.
 */
import type { Clip } from '../../spec/motion.js';
import type { TwoBoneChain } from '../../motion/ik.js';
import {
  hypot2, hypot3, hypot4,
  IDENTITY, qaxisAngleAt, qget, qinv, qmul, qmulAt, qmulInvAt, qrotate, qrotateAt, qset, qslerp, qslerpAt, qxAt, qyAt, qzAt, vget, type Quat, type Vec3,
} from '../../motion/quat.js';
import { lerpAngle, smin } from './curves.js';
import type { FootPose } from './feet.js';
import { ARM, JOINT, JOINT_COUNT, LEG, PROCEDURAL_SKELETON, REST } from './rig.js';

/** Bend angles in radians: pitch + bends forward, yaw + turns toward the character's left (+X), roll + leans to its left. */
export type Bend = readonly [pitch: number, yaw: number, roll: number];
const STRAIGHT: Bend = [0, 0, 0];

/** Scratch of the in-place rotations below (never read across calls). */
const T = new Float64Array(12);

/** out[o] = the rotation of a bend in its parent's (world-aligned) frame: qy(yaw)·(qx(pitch)·qz(−roll)). */
function bendRotationAt(out: Float64Array, o: number, b: Bend): void {
  qxAt(T, 0, b[0]);
  qzAt(T, 4, -b[2]);
  qmulAt(T, 8, T, 0, T, 4);
  qyAt(T, 0, b[1]);
  qmulAt(out, o, T, 0, T, 8);
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
function mirrorAt(q: Float64Array, o: number): void {
  q[o + 1] = -q[o + 1];
  q[o + 2] = -q[o + 2];
}
const mirrorV = (v: Vec3): Vec3 => [-v[0], v[1], v[2]];

const SPINE_SHARE = [0.3, 0.35, 0.35] as const;
const SPINE_JOINTS = [JOINT.Spine, JOINT.Spine1, JOINT.Spine2] as const;
const LEG_REACH = REST.legLength * 0.999;
const REACH_SOFTNESS = 0.006;
/** Hip-to-ankle distance of a leg extended as far as a kick goes (knee about 12° from straight). */
const EXTENDED_REACH = REST.legLength * 0.995;

/** Highest root height for which the hip joint of `side` still reaches `ankle` (with a small margin). */
function reachHeight(root: Vec3, rootRot: ArrayLike<number>, side: 0 | 1, ankle: Vec3): number {
  qrotateAt(V, 0, rootRot, 0, side === 0 ? LEFT_HIP : RIGHT_HIP, 0);
  const dx = ankle[0] - (root[0] + V[0]);
  const dz = ankle[2] - (root[2] + V[2]);
  const v = Math.sqrt(Math.max(LEG_REACH * LEG_REACH - dx * dx - dz * dz, 0));
  return ankle[1] + v - V[1];
}
const RIGHT_HIP = Float64Array.of(-REST.hipOffset[0], REST.hipOffset[1], REST.hipOffset[2]);

/** Scratch vectors and rotations of renderFrame (never read across calls). */
const V = new Float64Array(3);
const R4 = new Float64Array(8);
const ROOT_ROT = new Float64Array(4);
const POLE = new Float64Array(3);
// Typed constants, like the scratch: the in-place helpers then see one array kind.
const FORWARD = Float64Array.of(0, 0, 1);
const KNEE_OUT = [Float64Array.of(0.12, 0, 1), Float64Array.of(-0.12, 0, 1)] as const;
const LEFT_HIP = Float64Array.from(REST.hipOffset);
const spineScratch = new Float64Array(4);

/**
 * Writes an arm's local rotations from its angles at frame offset `off` (joint slots), mirrored for the
 * right side: the shoulder qz(shrug)·qy(−protract), the upper arm qx(−flex)·(qz(out − π/2)·qx(twist)) (hanging
 * is the T-pose lowered by 90° about +Z; flex then swings it about the lateral axis), the elbow
 * qy(−elbow), the wrist as given. Allocates nothing.
 */
function writeArm(rot: Float64Array, off: number, chain: (typeof ARM)[number], a: ArmPose, mirror: boolean): void {
  qzAt(T, 0, a.shrug ?? 0);
  qyAt(T, 4, -(a.protract ?? 0));
  qmulAt(rot, (off + chain.shoulder) * 4, T, 0, T, 4);
  qzAt(T, 0, a.out - Math.PI / 2);
  qxAt(T, 4, a.twist ?? 0);
  qmulAt(T, 8, T, 0, T, 4);
  qxAt(T, 0, -a.flex);
  qmulAt(rot, (off + chain.upper) * 4, T, 0, T, 8);
  qyAt(rot, (off + chain.mid) * 4, -a.elbow);
  qset(rot, off + chain.end, a.wrist ?? IDENTITY);
  if (mirror) {
    // The mirror image across the sagittal plane: [x, −y, −z, w].
    mirrorAt(rot, (off + chain.shoulder) * 4);
    mirrorAt(rot, (off + chain.upper) * 4);
    mirrorAt(rot, (off + chain.mid) * 4);
    mirrorAt(rot, (off + chain.end) * 4);
  }
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

  // rootRot = qy(heading) · bendRotation(pelvis)
  bendRotationAt(R4, 0, body.pelvis);
  qyAt(R4, 4, body.heading);
  qmulAt(ROOT_ROT, 0, R4, 4, R4, 0);
  const rootRot = ROOT_ROT;
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

  bendRotationAt(spineScratch, 0, body.spine);
  for (let i = 0; i < 3; i++) qslerpAt(rot, (off + SPINE_JOINTS[i]) * 4, IDENTITY, 0, spineScratch, 0, SPINE_SHARE[i]);
  bendRotationAt(rot, (off + JOINT.Neck) * 4, body.neck);
  bendRotationAt(rot, (off + JOINT.Head) * 4, body.head);

  for (let side = 0; side < 2; side++) {
    writeArm(rot, off, ARM[side], body.arms[side], side === 1);
  }

  for (let side = 0 as 0 | 1; side < 2; side = (side + 1) as 0 | 1) {
    const foot = feet[side];
    const leg = LEG[side];
    // The knee points where the foot and the body both face (between their headings), a little outward.
    qrotateAt(V, 0, foot.rot, 0, FORWARD, 0);
    const footYaw = hypot2(V[0], V[2]) > 1e-6 ? Math.atan2(V[0], V[2]) : body.heading;
    const kneeYaw = lerpAngle(body.heading, footYaw, 0.5);
    qyAt(R4, 0, kneeYaw);
    const pole = POLE;
    qrotateAt(pole, 0, R4, 0, KNEE_OUT[side], 0);
    qrotateAt(V, 0, rootRot, 0, PROCEDURAL_SKELETON.offsets, leg.upper * 3);
    const hip: Vec3 = [root[0] + V[0], root[1] + V[1], root[2] + V[2]];
    let ankle = foot.ankle;
    if (foot.extend && foot.extend > 0) {
      // Straighten toward nearly full reach along the hip→ankle line (the knee keeps a few degrees).
      const d: Vec3 = [ankle[0] - hip[0], ankle[1] - hip[1], ankle[2] - hip[2]];
      const n = hypot3(d[0], d[1], d[2]);
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

/** Quaternion of the rotation matrix with columns c0, c1, c2 (orthonormal, right-handed), into `out` at float offset `o`. */
function quatFromColumnsAt(out: Float64Array, o: number, m00: number, m10: number, m20: number, m01: number, m11: number, m21: number, m02: number, m12: number, m22: number): void {
  const tr = m00 + m11 + m22;
  let x: number, y: number, z: number, w: number;
  if (tr > 0) {
    const S = Math.sqrt(tr + 1) * 2;
    x = (m21 - m12) / S; y = (m02 - m20) / S; z = (m10 - m01) / S; w = 0.25 * S;
  } else if (m00 > m11 && m00 > m22) {
    const S = Math.sqrt(1 + m00 - m11 - m22) * 2;
    x = 0.25 * S; y = (m01 + m10) / S; z = (m02 + m20) / S; w = (m21 - m12) / S;
  } else if (m11 > m22) {
    const S = Math.sqrt(1 + m11 - m00 - m22) * 2;
    x = (m01 + m10) / S; y = 0.25 * S; z = (m12 + m21) / S; w = (m02 - m20) / S;
  } else {
    const S = Math.sqrt(1 + m22 - m00 - m11) * 2;
    x = (m02 + m20) / S; y = (m12 + m21) / S; z = 0.25 * S; w = (m10 - m01) / S;
  }
  const n = hypot4(x, y, z, w);
  out[o] = x / n; out[o + 1] = y / n; out[o + 2] = z / n; out[o + 3] = w / n;
}

/** Quaternion of the rotation matrix with columns c0, c1, c2 (orthonormal, right-handed). */
function quatFromColumns(c0: Vec3, c1: Vec3, c2: Vec3): Quat {
  quatFromColumnsAt(H, 0, c0[0], c0[1], c0[2], c1[0], c1[1], c1[2], c2[0], c2[1], c2[2]);
  return [H[0], H[1], H[2], H[3]];
}

const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
function unit(a: Vec3): Vec3 {
  const n = hypot3(a[0], a[1], a[2]);
  return n < 1e-12 ? [0, 0, 0] : [a[0] / n, a[1] / n, a[2] / n];
}

/** What a hinge solve needs of its chain's rest pose: the bone lengths, the upper bone's direction, the rest frame's inverse. */
interface HingeRest {
  axis: Vec3;
  a: number;
  c: number;
  b: Vec3;
  restInv: Quat;
}

/** Per chain (the rig's constant chains), its rest terms: the same every frame, so computed once. */
const hingeRests = new WeakMap<TwoBoneChain, HingeRest>();

function hingeRest(chain: TwoBoneChain, axis: Vec3): HingeRest {
  const hit = hingeRests.get(chain);
  if (hit && hit.axis === axis) return hit;
  const o = PROCEDURAL_SKELETON.offsets;
  const midOff = vget(o, chain.mid);
  const endOff = vget(o, chain.end);
  const b = unit(midOff);
  const rest: HingeRest = {
    axis,
    a: hypot3(midOff[0], midOff[1], midOff[2]),
    c: hypot3(endOff[0], endOff[1], endOff[2]),
    b,
    restInv: qinv(quatFromColumns(b, cross(axis, b), axis)),
  };
  hingeRests.set(chain, rest);
  return rest;
}

/**
 * Two-bone IK with a true hinge: the middle joint's local rotation is a rotation about `axis` (upper-bone
 * local frame) only, and the upper bone is rolled so that hinge axis is the normal of the limb's plane,
 * which contains the middle joint displaced toward `pole` (world). The canonical rig's limbs are straight
 * at rest (both bones along one direction), which is what makes the middle joint's rotation one angle.
 * Targets beyond reach are met with the limb straight, along the line to the target.
 */
function solveHinge(rot: Float64Array, off: number, chain: TwoBoneChain, parentWorld: ArrayLike<number>, upperPos: Vec3, target: Vec3, pole: ArrayLike<number>, axis: Vec3, endWorld?: Quat): void {
  const { a, c, b, restInv } = hingeRest(chain, axis);
  // In scalars (this runs for both legs every frame, and the arms when reaching): the same arithmetic,
  // in the same order, as the Vec3 helpers (cross, dot, unit) and quaternion helpers would do it.
  const d0 = target[0] - upperPos[0], d1 = target[1] - upperPos[1], d2 = target[2] - upperPos[2];
  const dist = hypot3(d0, d1, d2);
  const L = Math.min((a + c) * 0.99995, Math.max(Math.abs(a - c) + 1e-4, dist));
  let h0: number, h1: number, h2: number;
  if (dist > 1e-9) {
    h0 = d0 / dist; h1 = d1 / dist; h2 = d2 / dist;
  } else {
    [h0, h1, h2] = qrotate(qmul(parentWorld, qget(rot, off + chain.upper)), b);
  }
  const pd = pole[0] * h0 + pole[1] * h1 + pole[2] * h2;
  let p0 = pole[0] - h0 * pd, p1 = pole[1] - h1 * pd, p2 = pole[2] - h2 * pd;
  if (hypot3(p0, p1, p2) < 1e-6) [p0, p1, p2] = cross([h0, h1, h2], Math.abs(h1) < 0.9 ? [0, 1, 0] : [1, 0, 0]);
  const pn = hypot3(p0, p1, p2);
  if (pn < 1e-12) { p0 = 0; p1 = 0; p2 = 0; } else { p0 /= pn; p1 /= pn; p2 /= pn; }
  const cosA = Math.min(1, Math.max(-1, (a * a + L * L - c * c) / (2 * a * L)));
  const sinA = Math.sqrt(Math.max(0, 1 - cosA * cosA));
  // Upper bone direction and the in-plane direction the middle joint is displaced toward.
  const u0 = h0 * cosA + p0 * sinA, u1 = h1 * cosA + p1 * sinA, u2 = h2 * cosA + p2 * sinA;
  const k0 = p0 * cosA - h0 * sinA, k1 = p1 * cosA - h1 * sinA, k2 = p2 * cosA - h2 * sinA;
  // Rest frame (b, bend, axis) maps to world (u, −k, u × −k).
  const e0 = -k0, e1 = -k1, e2 = -k2;
  const f0 = u1 * e2 - u2 * e1, f1 = u2 * e0 - u0 * e2, f2 = u0 * e1 - u1 * e0;
  quatFromColumnsAt(H, 0, u0, u1, u2, e0, e1, e2, f0, f1, f2);
  // H[4..8) = upperWorld = worldM · rest⁻¹.
  qmulAt(H, 4, H, 0, restInv, 0);
  // Flexion: the distal bone's angle from the upper bone's direction, toward the bend side.
  const m0 = upperPos[0] + u0 * a, m1 = upperPos[1] + u1 * a, m2 = upperPos[2] + u2 * a;
  let v0 = upperPos[0] + h0 * L - m0, v1 = upperPos[1] + h1 * L - m1, v2 = upperPos[2] + h2 * L - m2;
  const vn = hypot3(v0, v1, v2);
  if (vn < 1e-12) { v0 = 0; v1 = 0; v2 = 0; } else { v0 /= vn; v1 /= vn; v2 /= vn; }
  const theta = Math.atan2(v0 * e0 + v1 * e1 + v2 * e2, v0 * u0 + v1 * u1 + v2 * u2);
  const mo = (off + chain.mid) * 4;
  qaxisAngleAt(rot, mo, axis, theta);
  qmulInvAt(rot, (off + chain.upper) * 4, parentWorld, 0, H, 4);
  if (endWorld) {
    qmulAt(H, 0, H, 4, rot, mo);
    qmulInvAt(rot, (off + chain.end) * 4, H, 0, endWorld, 0);
  }
}

/** Scratch of solveHinge: the world frame's rotation, then the upper bone's world rotation. */
const H = new Float64Array(8);

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
