/**
 * Planting feet on the foot model (./foot.ts), shared by the foot-skate cleanup (./cleanup.ts) and the
 * retargeter's re-plant (./retarget.ts). Per foot, each sole point (heel, ball, toe tip) has its own
 * contact flags (contacts.ts pointContacts); while a point is down it is held still on the floor: the
 * first point of a contact at its mean position over its run, later ones where the foot, resting on the
 * points already down, puts them. The foot rolls heel → flat → ball → toe: with the heel alone down it
 * turns about the heel, with heel and ball down it lies flat between them, with the ball and toes down it
 * rolls over the ball's pad (rollCentre) and the toes bend to keep their tip on its pin. Where the planted
 * points leave the foot's rotation free, the correction of the frame before carries over, fading, so the
 * foot never turns in a jump. No sole point is left under the floor, any frame: the toes bend up, the
 * foot pitches about its planted point, or, in the air, the foot is lifted. Around a contact the
 * correction fades in and out over a few frames (a foot gliding in slowly is drawn onto its pin as it
 * comes down). A point the input peels off at the end of its run rises with the input, a point landing on
 * a foot already down settles onto the floor over the blend frames, and a toe tip left alone on the floor
 * lets the foot roll over it as the input's does, so the stance knee keeps the input's flexion. While the ball and the toe tip are down with the heel
 * up, on a rig whose toe joint sits above the ball's sole point, the two share the slide that a rigid
 * foot cannot avoid (splitBallAndTip). The legs are solved every frame by two-bone IK with a hinged knee
 * (./limits.ts KNEE) whose pole is where the input's knee points, turned with the correction made to the
 * foot (inputKneePole; the foot's forward when the thigh gives no direction), with a soft reach (easedReach beyond what the input's own leg reaches): a goal the leg cannot
 * reach pitches the planted foot about its pin (the heel peels up) so the ankle comes within the eased
 * reach, rather than a knee locked straight and a pin that slides.
 */
import type { Clip, Skeleton } from '../spec/motion.js';
import { pointContacts, type PointContactOptions } from './contacts.js';
import { footModel, footPointAt, type FootModel, type FootPoint } from './foot.js';
import type { HumanoidMap, HumanoidSide } from './humanoid.js';
import { easedReach, hingeReach, solveTwoBone, type TwoBoneOptions } from './ik.js';
import { KNEE } from './limits.js';
import { hypot2, hypot3, qfromTo, qget, qinv, qmul, qmulAt, qmulInvAt, qnormalizeAt, qrotate, qrotateAt, qset, qslerpAt, smoothstep, vset, type Quat, type Vec3 } from './quat.js';
import { ancestorsOf, childrenOf, clipForwardKinematics, restPositions } from './skeleton.js';

export interface PlantOptions {
  /** Frames over which a planted foot blends in before and out after its contact (default 4). */
  blendFrames?: number;
  /** A source sole point may be down while at most this far above the floor (m, default 0.02). */
  contactHeight?: number;
  /** … and while moving horizontally slower than this (m/s, default 0.35). */
  contactSpeed?: number;
  /**
   * The leg's reach eases in (soft IK) beyond the larger of what the input's own leg reaches at that
   * frame and this fraction short of full extension (default 0.03): a goal beyond the leg slows the
   * knee's straightening instead of locking it straight, and motion that needs no easing is kept.
   */
  softReach?: number;
}

/** Per side (left, right), per sole point (heel, ball, toe: FOOT_POINT_NAMES order): 1 where the point is down. */
export type SoleContacts = [Uint8Array[], Uint8Array[]];

const SIDES = ['left', 'right'] as const;
const HEEL = 0, BALL = 1, TOE = 2;

/** The joints whose world poses the planting reads: the hips, each leg down to its toes, and their ancestors. */
function legPath(s: Skeleton, map: HumanoidMap): Int32Array {
  const kids = childrenOf(s);
  const js: number[] = [map.hips];
  for (const side of SIDES) {
    for (const stack = [map[side].upperLeg]; stack.length; ) {
      const j = stack.pop()!;
      js.push(j);
      stack.push(...kids[j]);
    }
  }
  return ancestorsOf(s, js);
}

/** World positions (F×J×3) and rotations (F×J×4) of the leg joints of every frame of `clip`. */
export interface LegPose {
  positions: Float64Array;
  rotations: Float64Array;
}

export function legPose(s: Skeleton, map: HumanoidMap, clip: Clip): LegPose {
  const J = s.names.length;
  const positions = new Float64Array(clip.numFrames * J * 3);
  const rotations = new Float64Array(clip.numFrames * J * 4);
  clipForwardKinematics(s, clip, positions, rotations, legPath(s, map));
  return { positions, rotations };
}

/** The sole contacts of a clip, detected per point from its own pose (`pose`: legPose of the clip). */
export function soleContacts(s: Skeleton, map: HumanoidMap, clip: Clip, pose: LegPose, fm: FootModel = footModel(s, map), opts: PointContactOptions = {}): SoleContacts {
  const J = s.names.length;
  const F = clip.numFrames;
  const track = new Float64Array(F * 3);
  return [0, 1].map((k) => fm.sides[k].map((p) => {
    for (let f = 0; f < F; f++) footPointAt(p, J, pose.positions, pose.rotations, f, track, f * 3);
    return pointContacts(track, F, clip.fps, fm.floor, new Uint8Array(F), opts);
  })) as SoleContacts;
}

/** One foot's rigid parts: the foot (ankle) joint and, when the rig has one, the toe joint carrying the tip. */
interface FootRig {
  foot: number;
  toe: number;
  /** The toe joint's offset from the ankle (foot frame), when there is a toe joint. */
  toeOffset: Vec3;
  points: readonly FootPoint[];
  /** The toe joint's height above the floor with the foot standing flat (0 without a toe joint). */
  toeHeight: number;
  /**
   * The foot's forward in its own frame: +Z, where the knee points at rest (the rest pose's knee hinge),
   * so a foot at rest keeps a leg at rest and a turned foot turns the knee with it.
   */
  forward: Vec3;
}

/** A foot pose being built: the ankle's world position, the foot's and the toe's world rotations. */
interface FootPose {
  ankle: Vec3;
  foot: Quat;
  toe: Quat;
}

function pointOf(rig: FootRig, pose: FootPose, i: number): Vec3 {
  const p = rig.points[i];
  const A = pose.ankle;
  if (p.joint === rig.foot || rig.toe < 0) {
    qrotateAt(rotScratch, 0, pose.foot, 0, p.offset, 0);
    return [A[0] + rotScratch[0], A[1] + rotScratch[1], A[2] + rotScratch[2]];
  }
  qrotateAt(rotScratch, 0, pose.foot, 0, rig.toeOffset, 0);
  qrotateAt(rotScratch, 3, pose.toe, 0, p.offset, 0);
  return [A[0] + rotScratch[0] + rotScratch[3], A[1] + rotScratch[1] + rotScratch[4], A[2] + rotScratch[2] + rotScratch[5]];
}

/** Scratch of the foot-pose helpers (never read across calls). */
const rotScratch = new Float64Array(6);
const quatScratch = new Float64Array(8);

/** The y of `q` rotating `v` (allocates nothing). */
function rotY(q: Quat, v: ArrayLike<number>): number {
  const x = q[0], y = q[1], z = q[2], w = q[3];
  const tx = 2 * (y * v[2] - z * v[1]), ty = 2 * (z * v[0] - x * v[2]), tz = 2 * (x * v[1] - y * v[0]);
  return v[1] + w * ty + (z * tx - x * tz);
}

/** The height of sole point i in `pose` (pointOf's y, allocating nothing). */
function pointY(rig: FootRig, pose: FootPose, i: number): number {
  const p = rig.points[i];
  if (p.joint === rig.foot || rig.toe < 0) return pose.ankle[1] + rotY(pose.foot, p.offset);
  return pose.ankle[1] + rotY(pose.foot, rig.toeOffset) + rotY(pose.toe, p.offset);
}

/** Turns the whole foot (and toes) rigidly by `q` about world point `c`. */
function turnAbout(pose: FootPose, q: Quat, c: Vec3): void {
  rotScratch[3] = pose.ankle[0] - c[0]; rotScratch[4] = pose.ankle[1] - c[1]; rotScratch[5] = pose.ankle[2] - c[2];
  qrotateAt(rotScratch, 0, q, 0, rotScratch, 3);
  pose.ankle = [c[0] + rotScratch[0], c[1] + rotScratch[1], c[2] + rotScratch[2]];
  // New arrays, never writes into the old ones: poses share their rotations (trial poses, `toe !== before`).
  pose.foot = turned(q, pose.foot);
  pose.toe = turned(q, pose.toe);
}

/** qnormalize(qmul(q, r)) as a new quaternion. */
function turned(q: Quat, r: Quat): Quat {
  // Into typed scratch, then copied out (a typed output keeps the in-place helpers monomorphic).
  qmulAt(quatScratch, 4, q, 0, r, 0);
  qnormalizeAt(quatScratch, 4, quatScratch, 4);
  return [quatScratch[4], quatScratch[5], quatScratch[6], quatScratch[7]];
}

/** The rotation about a horizontal axis through `c` that raises world point `p` to height `y` (null when it is there, or above it unless `lower`). */
function raiseAbout(c: Vec3, p: Vec3, y: number, lower = false): Quat | null {
  const rx = p[0] - c[0], ry = p[1] - c[1], rz = p[2] - c[2];
  const r = hypot3(rx, ry, rz);
  const h = hypot2(rx, rz);
  if (r < 1e-6 || h < 1e-6) return null;
  const want = Math.min(1, Math.max(-1, (y - c[1]) / r));
  const delta = Math.asin(want) - Math.asin(Math.min(1, Math.max(-1, ry / r)));
  if (lower ? Math.abs(delta) < 1e-9 : delta <= 0) return null;
  // Axis r × up (horizontal): a positive turn about it lifts r.
  const ax = -rz / h, az = rx / h;
  const s = Math.sin(delta / 2);
  return [ax * s, 0, az * s, Math.cos(delta / 2)];
}

/**
 * Keeps every sole point at or above `floor`: the toe tip by bending the toes up about the toe joint,
 * then the foot by turning it about `pivot` (a planted point) or, with none, by lifting it.
 */
function keepAboveFloor(rig: FootRig, pose: FootPose, floor: number, pivot: Vec3 | null): void {
  if (rig.toe >= 0) {
    const tip = pointOf(rig, pose, TOE);
    if (tip[1] < floor) {
      const a = qrotate(pose.foot, rig.toeOffset);
      const tj: Vec3 = [pose.ankle[0] + a[0], pose.ankle[1] + a[1], pose.ankle[2] + a[2]];
      const q = tj[1] > floor ? raiseAbout(tj, tip, floor) : null;
      if (q) pose.toe = turned(q, pose.toe);
    }
  }
  for (let iter = 0; iter < 3; iter++) {
    let low = -1, lowY = floor - 1e-6;
    for (let i = 0; i < 3; i++) {
      const y = pointY(rig, pose, i);
      if (y < lowY) { lowY = y; low = i; }
    }
    if (low < 0) return;
    const q = pivot && pivot[1] >= floor - 1e-6 ? raiseAbout(pivot, pointOf(rig, pose, low), floor) : null;
    if (q) turnAbout(pose, q, pivot!);
    else pose.ankle = [pose.ankle[0], pose.ankle[1] + (floor - lowY), pose.ankle[2]];
  }
}

/** The identity rotation (never written). */
const UNIT: Quat = [0, 0, 0, 1];

/** A sole point this close above the floor (m) touches it (contacts.ts pointContacts' default height). */
const BALL_ON_FLOOR = 0.02;

/** Pin slot of the roll centre (after heel, ball, toe tip): where the foot pivots while its toes are down (rollCentre). */
const TOE_JOINT = 3;

/** The point a planted set turns the foot about: the heel, else the ball (no toe down), else the toes' root or tip. */
function anchorOf(rig: FootRig, down: number): number {
  if (down & (1 << HEEL)) return HEEL;
  if (down & (1 << TOE)) return rig.toe >= 0 ? TOE_JOINT : down & (1 << BALL) ? BALL : TOE;
  return BALL;
}

/** The toe joint's world position in `pose` (the ankle when the rig has none). */
function toeJointOf(rig: FootRig, pose: FootPose): Vec3 {
  qrotateAt(rotScratch, 0, pose.foot, 0, rig.toeOffset, 0);
  return [pose.ankle[0] + rotScratch[0], pose.ankle[1] + rotScratch[1], pose.ankle[2] + rotScratch[2]];
}

/**
 * The centre the foot rolls about while its toes are down: halfway between the ball's sole point and
 * the toe joint above it (the ball's pad), so that the ball and the toe tip each move only a few
 * millimetres as the heel rises.
 */
function rollCentre(rig: FootRig, pose: FootPose): Vec3 {
  const j = toeJointOf(rig, pose);
  const b = pointOf(rig, pose, BALL);
  return [(j[0] + b[0]) / 2, (j[1] + b[1]) / 2, (j[2] + b[2]) / 2];
}

function anchorPoint(rig: FootRig, pose: FootPose, i: number): Vec3 {
  return i === TOE_JOINT ? rollCentre(rig, pose) : pointOf(rig, pose, i);
}

/**
 * Places the foot so that its planted points (`down`: bit i for point i) sit on their pins: flat between
 * heel and ball, about the one planted point otherwise (the toes' root while the toes are down), the toes
 * bending to keep a planted tip on its pin. Returns whether the planted points fixed the foot's rotation.
 */
function placeOnPins(rig: FootRig, pose: FootPose, down: number, pins: Float64Array): boolean {
  const toeOnFoot = rig.toe < 0;
  const anchor = anchorOf(rig, down);
  // A second planted point on the foot itself sets the foot's direction.
  const second = anchor === HEEL && down & (1 << BALL) ? BALL
    : (anchor === HEEL || anchor === BALL) && toeOnFoot && down & (1 << TOE) ? TOE : -1;
  if (second >= 0) {
    const a = anchorPoint(rig, pose, anchor), b = pointOf(rig, pose, second);
    const pa = anchor * 3, pb = second * 3;
    const q = qfromTo([b[0] - a[0], b[1] - a[1], b[2] - a[2]], [pins[pb] - pins[pa], pins[pb + 1] - pins[pa + 1], pins[pb + 2] - pins[pa + 2]]);
    turnAbout(pose, q, a);
  }
  const at = anchorPoint(rig, pose, anchor);
  const pa = anchor * 3;
  pose.ankle = [pose.ankle[0] + pins[pa] - at[0], pose.ankle[1] + pins[pa + 1] - at[1], pose.ankle[2] + pins[pa + 2] - at[2]];
  if (!toeOnFoot && down & (1 << TOE)) {
    bendToPin(rig, pose, pins);
    if (anchor === TOE_JOINT && down & (1 << BALL)) splitBallAndTip(rig, pose, pins);
  }
  return second >= 0;
}

/**
 * Ball and toe tip down, the heel up: where the toe joint sits above the ball's sole point (most rigs'
 * ball joint is 1–3 cm up), a rigid foot pitching over its ball cannot hold both still — the ball's point
 * swings back as the toe joint, and with it the toes' reach, goes forward. The toe joint keeps its
 * standing height (it does not sink into the pad as the heel rises, which would lengthen the toes'
 * reach), and the foot is slid so that the two miss their pins by the same, least, distance (the
 * midpoint of their misses), the toes bending to keep pointing at the tip's pin.
 */
function splitBallAndTip(rig: FootRig, pose: FootPose, pins: Float64Array): void {
  const sink = rig.toeHeight + pins[BALL * 3 + 1] - toeJointOf(rig, pose)[1];
  if (sink > 0) pose.ankle = [pose.ankle[0], pose.ankle[1] + sink, pose.ankle[2]];
  for (let iter = 0; iter < 2; iter++) {
    const b = pointOf(rig, pose, BALL), t = pointOf(rig, pose, TOE);
    const dx = (pins[BALL * 3] - b[0] + pins[TOE * 3] - t[0]) / 2, dz = (pins[BALL * 3 + 2] - b[2] + pins[TOE * 3 + 2] - t[2]) / 2;
    pose.ankle = [pose.ankle[0] + dx, pose.ankle[1], pose.ankle[2] + dz];
    bendToPin(rig, pose, pins);
  }
}

/** Bends the toes about their joint to point the tip at its pin. */
function bendToPin(rig: FootRig, pose: FootPose, pins: Float64Array): void {
  const tj = toeJointOf(rig, pose);
  const tip = pointOf(rig, pose, TOE);
  const o = TOE * 3;
  pose.toe = turned(qfromTo([tip[0] - tj[0], tip[1] - tj[1], tip[2] - tj[2]], [pins[o] - tj[0], pins[o + 1] - tj[1], pins[o + 2] - tj[2]]), pose.toe);
}

/** One leg's goals per frame: ankle position, foot and toe world rotations, and the planted pivot (NaN: none). */
interface LegGoals {
  ankle: Float64Array;
  foot: Float64Array;
  toe: Float64Array;
  pivot: Float64Array;
  /** The planted points of each frame (bit i for point i). */
  down: Uint8Array;
}

/**
 * Plants the feet of `clip` (in place) on the contacts given per sole point: see the module comment.
 * Only the upper legs, knees, feet and toe joints change. `pose`, when the caller has it, must be legPose(clip)
 * (the hips' positions are read from it: nothing above the legs changes);
 * `landing` (ownTouchDown) raises the pins of points held while still coming down.
 */
export function plantSoles(s: Skeleton, map: HumanoidMap, clip: Clip, contacts: SoleContacts, opts: PlantOptions = {}, pose?: LegPose, fm: FootModel = footModel(s, map), landing?: SoleLanding): void {
  const F = clip.numFrames;
  if (F === 0) return;
  const J = s.names.length;
  const posed = pose ?? legPose(s, map, clip);
  const blend = Math.max(0, opts.blendFrames ?? 4);
  const soft = opts.softReach ?? 0.03;
  SIDES.forEach((sideName, k) => {
    const side = map[sideName];
    const rig = footRig(s, side, fm, k);
    const goals = legGoals(rig, posed, J, F, clip.fps, contacts[k], fm.floor, blend, landing?.[k]);
    solveLeg(s, map, side, rig, clip, posed, goals, soft, fm.floor);
  });
}

function footRig(s: Skeleton, side: HumanoidSide, fm: FootModel, k: number): FootRig {
  const points = fm.sides[k];
  const toe = points[TOE].joint !== side.foot ? points[TOE].joint : -1;
  return {
    foot: side.foot,
    toe,
    toeOffset: toe >= 0 ? [s.offsets[toe * 3], s.offsets[toe * 3 + 1], s.offsets[toe * 3 + 2]] : [0, 0, 0],
    points,
    toeHeight: toe >= 0 ? Math.max(0, s.offsets[toe * 3 + 1] - points[BALL].offset[1]) : 0,
    forward: [0, 0, 1],
  };
}

function inputPose(rig: FootRig, posed: LegPose, J: number, f: number): FootPose {
  const a = (f * J + rig.foot) * 3;
  const foot = qget(posed.rotations, f * J + rig.foot);
  return {
    ankle: [posed.positions[a], posed.positions[a + 1], posed.positions[a + 2]],
    foot,
    toe: rig.toe >= 0 ? qget(posed.rotations, f * J + rig.toe) : foot,
  };
}

/** qnormalize(qmul(qslerp(UNIT, q, t), r)) as a new quaternion (the same bits, one allocation). */
function fadedTurn(q: Quat, t: number, r: Quat): Quat {
  qslerpAt(quatScratch, 0, UNIT, 0, q, 0, t);
  qmulAt(quatScratch, 4, quatScratch, 0, r, 0);
  qnormalizeAt(quatScratch, 4, quatScratch, 4);
  return [quatScratch[4], quatScratch[5], quatScratch[6], quatScratch[7]];
}

function legGoals(rig: FootRig, posed: LegPose, J: number, F: number, fps: number, down: Uint8Array[], floor: number, blend: number, landing?: Float64Array): LegGoals {
  const goals: LegGoals = {
    ankle: new Float64Array(F * 3),
    foot: new Float64Array(F * 4),
    toe: new Float64Array(F * 4),
    pivot: new Float64Array(F * 3).fill(NaN),
    down: new Uint8Array(F),
  };
  const pins = new Float64Array(12);
  const weight = new Float64Array(F);
  const mask = new Uint8Array(F);
  for (let f = 0; f < F; f++) mask[f] = (down[HEEL][f] ? 1 : 0) | (down[BALL][f] ? 2 : 0) | (down[TOE][f] ? 4 : 0);
  goals.down.set(mask);
  const tmp = new Float64Array(3);
  const put = (f: number, p: FootPose): void => {
    vset(goals.ankle, f, p.ankle);
    qset(goals.foot, f, p.foot);
    qset(goals.toe, f, p.toe);
  };
  /**
   * The foot's rotation correction of the previous frame (world, before the input's rotation): while the
   * planted points leave the rotation free it carries over, fading, so the foot never turns in a jump.
   */
  let carry: Quat = UNIT;
  let carryToe: Quat = UNIT;
  /** The input pose with the carried correction, faded by a frame. */
  const carried = (input: FootPose): FootPose => ({
    ankle: input.ankle,
    foot: fadedTurn(carry, keep, input.foot),
    toe: fadedTurn(carryToe, keep, input.toe),
  });
  const keep = Math.exp(-1 / (0.25 * fps));
  const lift = liftOff(rig, posed, J, F, mask);
  if (landing) for (let j = 0; j < 3 * F; j++) lift[j] += landing[j];
  let held = 0;
  /** Per sole point, its height above the floor when it landed on a foot already down, and that frame. */
  const landOff = [0, 0, 0], landAt = [0, 0, 0];
  /** The toes' root pin's height before the tip's lift-off (see `lift`). */
  let toeJointY = floor;
  let tipMissX = 0, tipMissZ = 0;
  /** Whether the ball has been down in this contact episode (its pin is this step's). */
  let ballThisStep = false;
  for (let f = 0; f < F; f++) {
    const m = mask[f];
    const input = inputPose(rig, posed, J, f);
    if (!m) {
      held = 0;
      ballThisStep = false;
      carry = UNIT;
      carryToe = UNIT;
      put(f, input);
      continue;
    }
    weight[f] = 1;
    let pose = carried(input);
    // Points that just landed: the first of an episode at its mean input position over its run (a sliding
    // foot is held in the middle of its slide, so neither landing nor lift-off is far from the input),
    // later ones where the foot, placed on the points already down, puts them.
    const landed = m & ~held;
    if (landed) {
      if (held) placeOnPins(rig, pose, held, pins);
      for (let i = 0; i < 3; i++) {
        if (!(landed & (1 << i))) continue;
        if (!held) {
          let x = 0, z = 0, n = 0;
          for (let g = f; g < F && mask[g] & (1 << i); g++, n++) {
            footPointAt(rig.points[i], J, posed.positions, posed.rotations, g, tmp, 0);
            x += tmp[0]; z += tmp[2];
          }
          pins[i * 3] = x / n; pins[i * 3 + 2] = z / n;
          landOff[i] = 0;
        } else {
          const p = pointOf(rig, pose, i);
          pins[i * 3] = p[0]; pins[i * 3 + 2] = p[2];
          landOff[i] = Math.max(0, p[1] - floor);
          // (It settles from where the foot puts it, not on its own landing profile.)
          if (landing) for (let g = f; g < F && mask[g] & (1 << i); g++) lift[i * F + g] -= landing[i * F + g];
          landAt[i] = f;
        }
        pins[i * 3 + 1] = floor;
      }
      if (held) pose = carried(input);
    }
    // A point lifting off at the end of its run rises with the input (its pin keeps its place on the floor's plane).
    // A point landing while the foot already rests on others (a heel coming down after the ball, on a rig
    // whose foot the source's contacts catch still above the floor) settles onto it over the blend
    // frames instead of snapping down in one.
    for (let i = 0; i < 3; i++) {
      if (!(m & (1 << i))) continue;
      const settle = landOff[i] > 0 ? landOff[i] * (1 - smoothstep(Math.min(1, (f - landAt[i]) / (blend + 1)))) : 0;
      pins[i * 3 + 1] = floor + lift[i * F + f] + settle;
    }
    const anchorNow = anchorOf(rig, m);
    if (anchorNow === TOE_JOINT && (!held || anchorOf(rig, held) !== TOE_JOINT)) {
      // The toes' root becomes the pivot: it stays where the foot had it (the previous frame's goal, or
      // at landing where the tip's pin puts it).
      let tj: Vec3;
      if (held) {
        const prev: FootPose = { ankle: [goals.ankle[(f - 1) * 3], goals.ankle[(f - 1) * 3 + 1], goals.ankle[(f - 1) * 3 + 2]], foot: qget(goals.foot, f - 1), toe: qget(goals.toe, f - 1) };
        tj = rollCentre(rig, prev);
      } else {
        const tip = pointOf(rig, pose, TOE);
        const j = rollCentre(rig, pose);
        tj = [j[0] + pins[TOE * 3] - tip[0], Math.max(j[1] + floor - tip[1], floor), j[2] + pins[TOE * 3 + 2] - tip[2]];
      }
      pins[TOE_JOINT * 3] = tj[0]; pins[TOE_JOINT * 3 + 1] = tj[1]; pins[TOE_JOINT * 3 + 2] = tj[2];
      toeJointY = tj[1] - lift[TOE * F + f];
    }
    // The toes' root rises with the tip as it lifts off.
    if (anchorNow === TOE_JOINT) pins[TOE_JOINT * 3 + 1] = toeJointY + lift[TOE * F + f];
    held = m;
    placeOnPins(rig, pose, m, pins);
    if (m & (1 << BALL)) ballThisStep = true;
    if (rig.toe >= 0 && m & (1 << TOE) && !(m & (1 << HEEL))) {
      // The toe tip alone down after the ball: while the ball's point is still on the floor (the source's
      // ball, with its joint at the floor, lifted earlier) the two keep sharing the slide; then the tip is
      // held where that left it, the miss fading onto its pin, so it neither slides on nor jumps.
      const alone = !(m & (1 << BALL));
      if (alone && ballThisStep && pointY(rig, pose, BALL) - floor < BALL_ON_FLOOR) splitBallAndTip(rig, pose, pins);
      else if (alone) {
        tipMissX *= keep; tipMissZ *= keep;
        const tip = pointOf(rig, pose, TOE);
        pose.ankle = [pose.ankle[0] + pins[TOE * 3] + tipMissX - tip[0], pose.ankle[1], pose.ankle[2] + pins[TOE * 3 + 2] + tipMissZ - tip[2]];
      }
      if (alone) {
        // The ball peeling up as the input's does: the toes' joint rising to the input's (the foot and
        // toes rolling over the tip), then the heel to the input's (the foot pitching about the toes'
        // joint, the toes staying). Held at the floor, the ball would pull the ankle down and straighten
        // the knee for a frame before it lets go.
        // (Heights taken over the input's own tip: a retargeted foot's tip need not be on the floor.)
        const tip = pointOf(rig, pose, TOE);
        footPointAt(rig.points[TOE], J, posed.positions, posed.rotations, f, tmp, 0);
        const over = tip[1] - tmp[1];
        const tjIn = (f * J + rig.toe) * 3;
        const tj = toeJointOf(rig, pose);
        const up = raiseAbout(tip, tj, posed.positions[tjIn + 1] + over);
        if (up) turnAbout(pose, up, tip);
        footPointAt(rig.points[HEEL], J, posed.positions, posed.rotations, f, tmp, 0);
        const at = toeJointOf(rig, pose);
        const heel = pointOf(rig, pose, HEEL);
        // The heel is turned about the toes' joint, in the foot's vertical plane, to the input's pitch of
        // the foot (the sine of the heel's rise above the joint) and on the input's side of the joint: on a
        // retargeted foot of other proportions the input heel's height itself may be out of the foot's
        // reach (which stood the foot on end), and raising the toes' joint may have swung the heel over it.
        const ix = tmp[0] - posed.positions[tjIn], iy = tmp[1] - posed.positions[tjIn + 1], iz = tmp[2] - posed.positions[tjIn + 2];
        const il = hypot3(ix, iy, iz);
        const vx = heel[0] - at[0], vy = heel[1] - at[1], vz = heel[2] - at[2];
        const vl = hypot3(vx, vy, vz), vh = hypot2(vx, vz);
        let pitch: Quat | null = null;
        if (il > 1e-9 && vl > 1e-9 && vh > 1e-6) {
          const side = vx * ix + vz * iz < 0 ? -1 : 1;
          const sin = iy / il, cos = Math.sqrt(Math.max(0, 1 - sin * sin));
          const hx = (side * vx) / vh, hz = (side * vz) / vh;
          pitch = qfromTo([vx, vy, vz], [hx * cos * vl, sin * vl, hz * cos * vl]);
        }
        if (pitch) {
          const toe = pose.toe;
          turnAbout(pose, pitch, at);
          pose.toe = toe;
        }
      }
      const tip = pointOf(rig, pose, TOE);
      tipMissX = tip[0] - pins[TOE * 3]; tipMissZ = tip[2] - pins[TOE * 3 + 2];
    } else {
      tipMissX = 0; tipMissZ = 0;
    }
    const anchor = anchorOf(rig, m);
    const pivot: Vec3 = [pins[anchor * 3], pins[anchor * 3 + 1], pins[anchor * 3 + 2]];
    keepAboveFloor(rig, pose, floor, pivot);
    carry = qmul(pose.foot, qinv(input.foot));
    carryToe = qmul(pose.toe, qinv(input.toe));
    // The point the foot rolls over when the leg falls short: the foremost planted one (a flat foot
    // peels its heel up about the ball).
    const roll = m & (1 << BALL) || (m & (1 << TOE) && rig.toe < 0) ? (m & (1 << BALL) ? BALL : TOE) : anchor;
    const rp = roll === anchor ? pivot : pointOf(rig, pose, roll);
    vset(goals.pivot, f, rp);
    put(f, pose);
  }
  // Around each episode the correction at its edge fades out (the nearer, stronger edge wins).
  const fade = new Float64Array(F);
  for (let f = 0; f < F; f++) {
    if (!weight[f]) continue;
    const edges: Array<[number, number]> = [];
    if (f === 0 || !weight[f - 1]) edges.push([f, -1]);
    if (f === F - 1 || !weight[f + 1]) edges.push([f, 1]);
    for (const [edge, dir] of edges) {
      const input = inputPose(rig, posed, J, edge);
      const dAnkle: Vec3 = [goals.ankle[edge * 3] - input.ankle[0], goals.ankle[edge * 3 + 1] - input.ankle[1], goals.ankle[edge * 3 + 2] - input.ankle[2]];
      const dFoot = qmul(qget(goals.foot, edge), qinv(input.foot));
      const dToe = qmul(qget(goals.toe, edge), qinv(input.toe));
      // The planted anchor's place at the edge: before a landing the foot's anchor point is drawn toward
      // it, by the fade, so that a foot coming down while the input still slides nears the floor already
      // slowing onto its pin instead of gliding along the floor with the edge's offset. (After a lift-off
      // the edge's offset fades out as it is: drawing a leaving foot back would hold it on the floor.)
      const anchor = anchorOf(rig, mask[edge]);
      const edgePose: FootPose = { ankle: [goals.ankle[edge * 3], goals.ankle[edge * 3 + 1], goals.ankle[edge * 3 + 2]], foot: qget(goals.foot, edge), toe: qget(goals.toe, edge) };
      const at = anchorPoint(rig, edgePose, anchor);
      for (let i = 1; i <= blend; i++) {
        const g = edge + dir * i;
        if (g < 0 || g >= F || weight[g]) break;
        const w = smoothstep(1 - i / (blend + 1));
        if (w <= fade[g]) continue;
        fade[g] = w;
        const p = inputPose(rig, posed, J, g);
        p.ankle = [p.ankle[0], p.ankle[1] + dAnkle[1] * w, p.ankle[2]];
        p.foot = fadedTurn(dFoot, w, p.foot);
        p.toe = fadedTurn(dToe, w, p.toe);
        // Drawn to the pin only as far as the input's anchor point moves slowly there (a foot gliding in
        // along the floor); a swinging foot keeps the edge's offset (drawing it in would jerk it).
        const a0 = anchorPoint(rig, inputPose(rig, posed, J, Math.max(0, g - 1)), anchor);
        const a1 = anchorPoint(rig, inputPose(rig, posed, J, Math.min(F - 1, g + 1)), anchor);
        const speed = (hypot2(a1[0] - a0[0], a1[2] - a0[2]) * fps) / Math.max(1, Math.min(F - 1, g + 1) - Math.max(0, g - 1));
        const glide = dir < 0 ? 1 - smoothstep(Math.min(1, speed / GLIDE_SPEED)) : 0;
        const here = anchorPoint(rig, p, anchor);
        const hx = (at[0] - here[0]) * glide + dAnkle[0] * (1 - glide), hz = (at[2] - here[2]) * glide + dAnkle[2] * (1 - glide);
        p.ankle = [p.ankle[0] + hx * w, p.ankle[1], p.ankle[2] + hz * w];
        put(g, p);
      }
    }
  }
  // Every frame off the floor keeps its points above it too.
  for (let f = 0; f < F; f++) {
    if (weight[f]) continue;
    const p: FootPose = { ankle: [goals.ankle[f * 3], goals.ankle[f * 3 + 1], goals.ankle[f * 3 + 2]], foot: qget(goals.foot, f), toe: qget(goals.toe, f) };
    const before = p.ankle[1];
    const toeBefore = p.toe;
    keepAboveFloor(rig, p, floor, null);
    if (p.ankle[1] !== before || p.toe !== toeBefore) put(f, p);
  }
  return goals;
}

/** Below this horizontal speed (m/s) a foot fading in or out of a contact is drawn onto its pin (legGoals). */
const GLIDE_SPEED = 0.7;

/** A point this close to its lowest height of a contact run (m) is still pressed on the floor. */
const LIFT_SLACK = 0.002;

/**
 * Per sole point (i·F + f), how far the input raises the point above where it lay during the last frames
 * of each contact run: from the last frame where it is within LIFT_SLACK of its lowest height in the run
 * to the run's end, its rise since that frame (0 elsewhere). Holding a point that the input is already
 * peeling off (a heel rising at heel-off, a ball at toe-off, still within the contact height) flat on the
 * floor pulls the ankle down and straightens the knee for a frame or two, then lets it go: a wobble of
 * the stance knee. Its pin follows the input's rise instead, still held in place on the floor's plane.
 */
function liftOff(rig: FootRig, posed: LegPose, J: number, F: number, mask: Uint8Array): Float64Array {
  const out = new Float64Array(3 * F);
  const h = new Float64Array(F);
  const tmp = new Float64Array(3);
  for (let i = 0; i < 3; i++) {
    for (let f = 0; f < F; f++) {
      footPointAt(rig.points[i], J, posed.positions, posed.rotations, f, tmp, 0);
      h[f] = tmp[1];
    }
    for (let a = 0; a < F; ) {
      if (!(mask[a] & (1 << i))) { a++; continue; }
      let b = a;
      while (b + 1 < F && mask[b + 1] & (1 << i)) b++;
      let low = Infinity;
      for (let f = a; f <= b; f++) low = Math.min(low, h[f]);
      let t = b;
      while (t > a && h[t] > low + LIFT_SLACK) t--;
      // A run that ends the clip has no lift-off.
      if (b < F - 1) for (let f = t + 1; f <= b; f++) out[i * F + f] = Math.max(0, h[f] - h[t]);
      a = b + 1;
    }
  }
  return out;
}

/** Solves the leg to its goals every frame (a hinged knee everywhere) and writes the leg's rotations. */
function solveLeg(s: Skeleton, map: HumanoidMap, side: HumanoidSide, rig: FootRig, clip: Clip, posed: LegPose, goals: LegGoals, soft: number, floor: number): void {
  const J = s.names.length;
  const F = clip.numFrames;
  const chain = { upper: side.upperLeg, mid: side.lowerLeg, end: side.foot };
  const R = clip.rotations;
  const reach = hingeReach(s, chain, KNEE);
  const hipAt: Vec3 = [0, 0, 0];
  // Per-frame inputs of the solve, reused (solveTwoBone keeps none of them).
  const rootAt = new Float64Array(3);
  const target: Vec3 = [0, 0, 0];
  const ik: TwoBoneOptions = { poleHint: target, endWorldRotation: UNIT, hinge: KNEE };
  for (let f = 0; f < F; f++) {
    const pose: FootPose = {
      ankle: [goals.ankle[f * 3], goals.ankle[f * 3 + 1], goals.ankle[f * 3 + 2]],
      foot: qget(goals.foot, f),
      toe: qget(goals.toe, f),
    };
    // The hip joint's position: the planting changes no joint above it, so it is the input pose's.
    const h = (f * J + side.upperLeg) * 3;
    hipAt[0] = posed.positions[h]; hipAt[1] = posed.positions[h + 1]; hipAt[2] = posed.positions[h + 2];
    const hip = hipAt;
    const dist = hypot3(pose.ankle[0] - hip[0], pose.ankle[1] - hip[1], pose.ankle[2] - hip[2]);
    // The reach eases in only beyond what the input's own leg reaches at this frame (and beyond the soft
    // band), so a pose that needs no easing is kept as it is.
    const u = (f * J + side.upperLeg) * 3, a = (f * J + side.foot) * 3;
    const P = posed.positions;
    const own = hypot3(P[a] - P[u], P[a + 1] - P[u + 1], P[a + 2] - P[u + 2]);
    const r = easedReach(dist, Math.min(reach, Math.max(own, (1 - soft) * reach)), reach);
    let exact = false;
    if (r < dist - 1e-4) {
      // The leg eases short of the goal: a planted foot pitches about its pin so the ankle comes within
      // that reach (the heel peels up early) instead of the pin sliding.
      const px = goals.pivot[f * 3];
      if (!Number.isNaN(px)) {
        exact = pitchToReach(rig, pose, [px, goals.pivot[f * 3 + 1], goals.pivot[f * 3 + 2]], hip, r, goals.down[f], floor);
        if (exact) {
          keepAboveFloor(rig, pose, floor, [px, goals.pivot[f * 3 + 1], goals.pivot[f * 3 + 2]]);
          // Lifting a point back above the floor may take the ankle out of reach again: then the soft reach decides.
          exact = hypot3(pose.ankle[0] - hip[0], pose.ankle[1] - hip[1], pose.ankle[2] - hip[2]) <= r + 1e-4;
        }
      }
    }
    // Short of the goal (no planted point to pitch about): the ankle stops at the eased reach on its way.
    const d = hypot3(pose.ankle[0] - hip[0], pose.ankle[1] - hip[1], pose.ankle[2] - hip[2]);
    const k = !exact && d > r && d > 1e-9 ? r / d : 1;
    target[0] = hip[0] + (pose.ankle[0] - hip[0]) * k; target[1] = hip[1] + (pose.ankle[1] - hip[1]) * k; target[2] = hip[2] + (pose.ankle[2] - hip[2]) * k;
    rootAt[0] = clip.rootPositions[f * 3]; rootAt[1] = clip.rootPositions[f * 3 + 1]; rootAt[2] = clip.rootPositions[f * 3 + 2];
    ik.poleHint = inputKneePole(rig, posed, f * J, side, pose.foot) ?? kneePole(rig, pose.foot, qget(posed.rotations, f * J + map.hips));
    ik.endWorldRotation = pose.foot;
    solveTwoBone(s, R, f * J, rootAt, chain, target, ik);
    if (rig.toe >= 0) {
      // The toe's world rotation relative to the foot's (joints between them, if any, keep theirs):
      // qnormalize(qinv(foot · between) · toe).
      let between: Quat = UNIT;
      for (let j = s.parents[rig.toe]; j !== rig.foot && j >= 0; j = s.parents[j]) between = qmul(qget(R, f * J + j), between);
      qmulAt(quatScratch, 0, pose.foot, 0, between, 0);
      qmulInvAt(quatScratch, 4, quatScratch, 0, pose.toe, 0);
      qnormalizeAt(R, (f * J + rig.toe) * 4, quatScratch, 4);
    }
  }
}

/** pitchToReach's distance past `r` of the ankle turned by angle `a` about the pin (Rodrigues' formula in scalars). */
function reachGap(a: number, along: number, rx: number, ry: number, rz: number, cx: number, cy: number, cz: number, ux: number, uz: number, bx: number, by: number, bz: number, r: number): number {
  const c = Math.cos(a), sn = Math.sin(a), t = along * (1 - c);
  return hypot3(bx + rx * c + cx * sn + ux * t, by + ry * c + cy * sn, bz + rz * c + cz * sn + uz * t) - r;
}

/**
 * Turns the foot about the horizontal axis across it through `pin` by the smallest angle (within ±70°)
 * that brings the ankle to distance `r` from `hip`; false (pose unchanged) when no such angle exists. Of
 * the two directions, the one that keeps the planted points (`down`) on the floor and no point under it
 * wins: the heel peels up rather than the toes leaving their pin.
 */
function pitchToReach(rig: FootRig, pose: FootPose, pin: Vec3, hip: Vec3, r: number, down: number, floor: number): boolean {
  const fw = qrotate(pose.foot, rig.forward);
  const l = hypot2(fw[0], fw[2]);
  if (l < 1e-6) return false;
  const axis: Vec3 = [fw[2] / l, 0, -fw[0] / l];
  // With the ball or the toes down the foot rolls over its toe joint and the toes stay put.
  const toesStay = rig.toe >= 0 && (down & ((1 << TOE) | (1 << BALL))) !== 0;
  if (toesStay) pin = toeJointOf(rig, pose);
  const rel: Vec3 = [pose.ankle[0] - pin[0], pose.ankle[1] - pin[1], pose.ankle[2] - pin[2]];
  // The ankle turned by angle a about the (unit, horizontal) axis through the pin: Rodrigues' formula
  // in scalars, as the search below evaluates it a hundred times a frame.
  const ux = axis[0], uz = axis[2];
  const cx = uz * rel[1], cy = ux * rel[2] - uz * rel[0], cz = -ux * rel[1];
  const along = ux * rel[0] + uz * rel[2];
  const bx = pin[0] - hip[0], by = pin[1] - hip[1], bz = pin[2] - hip[2];
  // (A plain function, not a closure: a closure made every call costs more than its hundred evaluations.)
  const rx = rel[0], ry = rel[1], rz = rel[2];
  if (reachGap(0, along, rx, ry, rz, cx, cy, cz, ux, uz, bx, by, bz, r) <= 0) return true;
  const STEP = 0.04, LIMIT = 1.22;
  let best: FootPose | null = null, bestCost = Infinity;
  for (let sign = 1; sign >= -1; sign -= 2) {
    for (let k = 1; k * STEP <= LIMIT; k++) {
      const a = sign * k * STEP;
      if (reachGap(a, along, rx, ry, rz, cx, cy, cz, ux, uz, bx, by, bz, r) > 0) continue;
      let lo = sign * (k - 1) * STEP, hi = a;
      for (let i = 0; i < 24; i++) {
        const m = (lo + hi) / 2;
        if (reachGap(m, along, rx, ry, rz, cx, cy, cz, ux, uz, bx, by, bz, r) > 0) lo = m; else hi = m;
      }
      const h = hi / 2;
      const trial: FootPose = { ankle: pose.ankle, foot: pose.foot, toe: pose.toe };
      turnAbout(trial, [axis[0] * Math.sin(h), 0, axis[2] * Math.sin(h), Math.cos(h)], pin);
      if (toesStay) trial.toe = pose.toe;
      let cost = Math.abs(hi) * 1e-3;
      for (let i = 0; i < 3; i++) {
        const y = pointY(rig, trial, i) - floor;
        if (y < 0) cost -= 10 * y;
        else if (down & (1 << i)) cost += y;
      }
      if (cost < bestCost) { best = trial; bestCost = cost; }
      break;
    }
  }
  if (!best) return false;
  pose.ankle = best.ankle; pose.foot = best.foot; pose.toe = best.toe;
  return true;
}

/**
 * Where the input's knee points (its thigh's forward, +Z at rest), turned with the correction the goal
 * makes to the foot's rotation: a leg keeps the input's own knee direction (a swinging foot that turns
 * fast in a turning step does not drag the thigh's twist along with it), and a foot the planting turns
 * turns its knee with it. Null when the thigh's forward lies along the thigh (no direction).
 */
function inputKneePole(rig: FootRig, posed: LegPose, row: number, side: HumanoidSide, goalFoot: Quat): Vec3 | null {
  const R = posed.rotations, f = (row + rig.foot) * 4;
  // The thigh's forward, back into the input foot's frame, then out by the goal foot (no allocation).
  qrotateAt(poleScratch, 0, R, (row + side.upperLeg) * 4, rig.forward, 0);
  footConj[0] = -R[f]; footConj[1] = -R[f + 1]; footConj[2] = -R[f + 2]; footConj[3] = R[f + 3];
  qrotateAt(poleScratch, 0, footConj, 0, poleScratch, 0);
  qrotateAt(poleScratch, 0, goalFoot, 0, poleScratch, 0);
  const u = (row + side.upperLeg) * 3, k = (row + side.lowerLeg) * 3;
  const P = posed.positions;
  const dx = P[k] - P[u], dy = P[k + 1] - P[u + 1], dz = P[k + 2] - P[u + 2];
  const dl = hypot3(dx, dy, dz);
  if (dl < 1e-9) return null;
  const along = (poleScratch[0] * dx + poleScratch[1] * dy + poleScratch[2] * dz) / dl;
  if (Math.abs(along) > 0.9) return null;
  pole[0] = poleScratch[0]; pole[1] = poleScratch[1]; pole[2] = poleScratch[2];
  return pole;
}
const poleScratch = new Float64Array(3);
const footConj = new Float64Array(4);
const pole: Vec3 = [0, 0, 0];

/**
 * Where the knee points: over the toes (the foot's horizontal forward), or, when the foot points
 * straight up or down or backward relative to the hips, the hips' forward — blended between the two
 * (by how horizontal the foot is and how far it turns from the hips), so that a foot turning past the
 * hips in a turn swings the knee over instead of flipping it in one frame.
 */
function kneePole(rig: FootRig, foot: Quat, hips: Quat): Vec3 {
  const h = qrotate(hips, [0, 0, 1]);
  const hl = hypot2(h[0], h[2]);
  const hx = hl > 1e-6 ? h[0] / hl : 0, hz = hl > 1e-6 ? h[2] / hl : 1;
  const v = qrotate(foot, rig.forward);
  const l = hypot2(v[0], v[2]);
  if (l < 1e-6) return [hx, 0, hz];
  const fx = v[0] / l, fz = v[2] / l;
  const w = smoothstep(Math.min(1, Math.max(0, (l - 0.15) / 0.3))) * smoothstep(Math.min(1, Math.max(0, (fx * hx + fz * hz + 0.5) / 0.6)));
  const x = w * fx + (1 - w) * hx, z = w * fz + (1 - w) * hz;
  const n = hypot2(x, z);
  return n > 1e-6 ? [x / n, 0, z / n] : [hx, 0, hz];
}

/**
 * Re-plants the feet of a retargeted clip `out` (the transfer of `clip` from `source` onto `target`), in
 * place: the source's sole points' contacts (heel, ball, toe, detected on the source), each run widened
 * to the target's own touch-down and lift-off of that point (ownTouchDown), plant the same points of the
 * target's feet (plantSoles). `sourcePositions` is accepted for compatibility and unused:
 * the contacts need the source's rotations too.
 */
export function plantFeet(
  source: Skeleton,
  sm: HumanoidMap,
  clip: Clip,
  target: Skeleton,
  tm: HumanoidMap,
  out: Clip,
  opts: PlantOptions = {},
  sourcePose?: LegPose,
): void {
  const sp = sourcePose ?? legPose(source, sm, clip);
  const contacts = soleContacts(source, sm, clip, sp, footModel(source, sm), {
    heightTolerance: opts.contactHeight,
    speedThreshold: opts.contactSpeed,
  });
  const fm = footModel(target, tm);
  const tp = legPose(target, tm, out);
  const landing = ownTouchDown(target, tm, out, tp, fm, contacts, opts);
  plantSoles(target, tm, out, contacts, opts, tp, fm, landing);
}

/** Per side, per sole point (i·F + f): how far above the floor the point's pin is held while it comes down (m). */
export type SoleLanding = [Float64Array, Float64Array];

/** The hips height (above the floor) of the body the target contact thresholds are set for (m). */
const THRESHOLD_HIPS_HEIGHT = 0.95;

/** A point whose own touch-down moves it less than this (m, at THRESHOLD_HIPS_HEIGHT) is not held sooner, unless the foot is already down. */
const TRAVEL_SLACK = 0.002;

/**
 * A sole point that, on the target, reaches the floor before the source's does (a rig whose heel sits
 * lower, or whose foot is longer, touches down while the source's point is still gliding in) or leaves
 * it after the source's: its contact run (`contacts`, the source's, extended in place) runs from its
 * own touch-down to its own lift-off on the target, the frames around the source's run where the
 * target's point, before planting, is already (still) within the contact height of the floor and
 * slower than the contact speed (both scaled by the rig's hips height). Held there, it no longer creeps
 * along the floor for those frames. Before the source's landing its pin comes down with it, from the
 * point's own height at its touch-down to the floor at the source's landing (the returned profile,
 * added to the pin's height), so the foot neither snaps down nor stops short; after the source's
 * lift-off it rises with the input's (liftOff). See the comments inside for the points left as they are.
 */
function ownTouchDown(s: Skeleton, map: HumanoidMap, clip: Clip, pose: LegPose, fm: FootModel, contacts: SoleContacts, opts: PlantOptions): SoleLanding {
  const F = clip.numFrames, J = s.names.length;
  const rest = restPositions(s);
  const hips = rest[map.hips * 3 + 1] - fm.floor;
  const scale = hips > 0 ? hips / THRESHOLD_HIPS_HEIGHT : 1;
  const height = (opts.contactHeight ?? BALL_ON_FLOOR) * scale, slow = (opts.contactSpeed ?? 0.35) * scale;
  const slack = TRAVEL_SLACK * scale;
  const track = new Float64Array(F * 3);
  const out: SoleLanding = [new Float64Array(3 * F), new Float64Array(3 * F)];
  for (let k = 0; k < 2; k++) {
    const source = contacts[k].map((c) => c.slice());
    for (let i = 0; i < 3; i++) {
      /** Whether another point of this foot is down (on the source's contacts) at some frame of [a, b). */
      const othersDown = (a: number, b: number): boolean => {
        for (let j = 0; j < 3; j++) {
          if (j === i) continue;
          for (let g = Math.max(0, a); g < Math.min(F, b); g++) if (source[j][g]) return true;
        }
        return false;
      };
      for (let f = 0; f < F; f++) footPointAt(fm.sides[k][i], J, pose.positions, pose.rotations, f, track, f * 3);
      const c = contacts[k][i];
      const down = (f: number): boolean => {
        const a = Math.max(0, f - 1), b = Math.min(F - 1, f + 1);
        const speed = b > a ? (hypot2(track[b * 3] - track[a * 3], track[b * 3 + 2] - track[a * 3 + 2]) * clip.fps) / (b - a) : 0;
        return track[f * 3 + 1] - fm.floor <= height && speed <= slow;
      };
      // The farthest the point moves (horizontally) over frames [a, b) from where it is at frame b.
      const travel = (a: number, b: number): number => {
        let d = 0;
        for (let g = Math.min(a, b); g <= Math.max(a, b); g++) d = Math.max(d, hypot2(track[g * 3] - track[b * 3], track[g * 3 + 2] - track[b * 3 + 2]));
        return d;
      };
      let prevEnd = -1;
      for (let f = 0; f < F; f++) {
        if (!c[f]) continue;
        if (f > 0 && !c[f - 1]) {
          // Back from the source's landing while the target's point is already down (a frame's gap kept
          // after the run before).
          let e = f;
          while (e - 1 > prevEnd + 1 && down(e - 1)) e--;
          // Only the heel where it starts the foot's contact (a foot gliding in heel first), and the ball
          // and toe tip where they come down on a foot already down (a foot rolling onto them from the
          // heel). A ball or tip held sooner while starting the contact (a step back, toes first) and a
          // heel held sooner on a foot already resting on its ball both change the foot's roll the
          // source's contacts give (measured: an ankle turning in a jump, the toes sliding, a knee whose
          // bend reverses once more a stride). And not where the
          // foot would only start its contact a frame sooner for a point that hardly moves.
          const onFoot = othersDown(e - 1, e + 1);
          if ((i === HEEL) === onFoot || (travel(e, f) < slack && !othersDown(e - 1, f))) e = f;
          for (let g = e; g < f; g++) {
            c[g] = 1;
            out[k][i * F + g] = Math.max(0, track[g * 3 + 1] - fm.floor) * (1 - (g - e + 1) / (f - e + 1));
          }
        }
        let b = f;
        while (b + 1 < F && c[b + 1]) b++;
        // On past the source's lift-off while the target's point is still down (a frame's gap kept
        // before the next run); its pin rises with it there (liftOff). Not the toe tip: held on past the
        // ball's lift-off, it would hold the foot's toe-off roll (the ankle's turn) for frames the input
        // has already left, then release it in one.
        let next = b + 1;
        while (next < F && !c[next]) next++;
        if (b + 1 < F && i !== TOE) {
          let e = b;
          while (e + 1 < next - 1 && down(e + 1)) e++;
          if (travel(e, b) >= slack || othersDown(b + 1, e + 2)) {
            c.fill(1, b + 1, e + 1);
            b = e;
          }
        }
        prevEnd = b;
        f = b;
      }
    }
  }
  return out;
}

/**
 * How well a clip's feet keep their contacts: the largest horizontal distance any sole point moves
 * within one of its contact runs of `contacts` (m), and the lowest height of any sole point above the
 * floor over the whole clip (m; negative under it). Measured by forward kinematics.
 */
export function soleDrift(s: Skeleton, map: HumanoidMap, clip: Clip, contacts: SoleContacts, fm: FootModel = footModel(s, map)): { drift: number; lowest: number } {
  const J = s.names.length;
  const F = clip.numFrames;
  const pose = legPose(s, map, clip);
  const p = new Float64Array(3);
  let drift = 0, lowest = Infinity;
  for (let k = 0; k < 2; k++) {
    for (let i = 0; i < 3; i++) {
      const flags = contacts[k][i];
      let sx = 0, sz = 0;
      for (let f = 0; f < F; f++) {
        footPointAt(fm.sides[k][i], J, pose.positions, pose.rotations, f, p);
        lowest = Math.min(lowest, p[1] - fm.floor);
        if (!flags[f]) continue;
        if (f === 0 || !flags[f - 1]) { sx = p[0]; sz = p[2]; }
        drift = Math.max(drift, hypot2(p[0] - sx, p[2] - sz));
      }
    }
  }
  return { drift, lowest };
}
