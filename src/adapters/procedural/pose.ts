/**
 * Writes one frame of the canonical skeleton from a body description a generator can think in: where the
 * hips are, how the spine, head and arms bend, and where each foot is. Legs are solved with two-bone IK
 * toward the feet (so planted feet stay exactly where they are); hands may reach targets the same way.
 */
import type { Clip } from '../../spec/motion.js';
import { solveTwoBone, type TwoBoneChain, type TwoBoneOptions } from '../../motion/ik.js';
import {
  IDENTITY, qget, qinv, qmul, qrotate, qset, qslerp, qx, qy, qz, vget, type Quat, type Vec3,
} from '../../motion/quat.js';
import { skeletonFromWire } from '../../motion/skeleton.js';
import type { Skeleton } from '../../spec/motion.js';
import { smin } from './curves.js';
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
    root[1] = smin(root[1], reachHeight(root, rootRot, 0, feet[0].ankle), 0.006);
    root[1] = smin(root[1], reachHeight(root, rootRot, 1, feet[1].ankle), 0.006);
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
    const pole = qrotate(qy(body.heading), [side === 0 ? 0.15 : -0.15, 0, 1]);
    const hip = qrotate(rootRot, vget(PROCEDURAL_SKELETON.offsets, leg.upper));
    solveChain(rot, off, leg, rootRot, [root[0] + hip[0], root[1] + hip[1], root[2] + hip[2]], foot.ankle, { poleHint: pole, endWorldRotation: foot.rot, keepBendAbove: 10 });
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
    solveChain(rot, off, chain, shoulderRot, upperPos, target, { poleHint: qrotate(chest.rot, pole), keepBendAbove: 10 });
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

/** Three-joint skeletons of each limb, so IK runs forward kinematics over 3 joints instead of 22. */
const CHAIN_SKELETONS = new Map<number, Skeleton>();
function chainSkeleton(chain: TwoBoneChain): Skeleton {
  let s = CHAIN_SKELETONS.get(chain.upper);
  if (!s) {
    const o = PROCEDURAL_SKELETON.offsets;
    s = skeletonFromWire([
      { name: 'upper', parent: null, rest_translation: [0, 0, 0] },
      { name: 'mid', parent: 'upper', rest_translation: [...vget(o, chain.mid)] },
      { name: 'end', parent: 'mid', rest_translation: [...vget(o, chain.end)] },
    ]);
    CHAIN_SKELETONS.set(chain.upper, s);
  }
  return s;
}
const chainRot = new Float64Array(12);

/**
 * solveTwoBone on the limb alone: the limb's upper joint becomes the root of a 3-joint skeleton whose
 * root rotation is the upper joint's world rotation, and the results are written back as local rotations.
 */
function solveChain(rot: Float64Array, off: number, chain: TwoBoneChain, parentWorld: Quat, upperPos: Vec3, target: Vec3, opts: TwoBoneOptions): void {
  qset(chainRot, 0, qmul(parentWorld, qget(rot, off + chain.upper)));
  qset(chainRot, 1, qget(rot, off + chain.mid));
  qset(chainRot, 2, qget(rot, off + chain.end));
  solveTwoBone(chainSkeleton(chain), chainRot, 0, upperPos, { upper: 0, mid: 1, end: 2 }, target, opts);
  qset(rot, off + chain.upper, qmul(qinv(parentWorld), qget(chainRot, 0)));
  qset(rot, off + chain.mid, qget(chainRot, 1));
  qset(rot, off + chain.end, qget(chainRot, 2));
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
