/**
 * Motion-quality measurements of a finished clip, by forward kinematics, as an animator would judge it:
 * the lowest sole point (heel, ball, toe tip) against the rest floor, the drift of each planted sole
 * point while it is down, how far knees and elbows turn off their hinge, the largest per-frame rotation
 * per joint class, the stance knee's flexion reversals per stride, and at segment seams the hips' speed
 * change and the feet's drift; on rigs with a floor-level root, how far the root leaves the floor, and
 * how far IK helper bones stray from the feet and hands they follow. Pure functions over a Skeleton, its HumanoidMap and a Clip; one FK pass
 * per clip (`measureClip`), typed arrays throughout.
 */
import type { Clip, Skeleton } from '../spec/motion.js';
import { FOOT_POINT_NAMES, footModel, footPointAt, type FootModel } from './foot.js';
import { humanoidRoles, type HumanoidMap, type HumanoidSide } from './humanoid.js';
import { clipForwardKinematics, restPositions } from './skeleton.js';

/** A sole point of an adult-sized rig is down when it is within this height of the floor… */
const CONTACT_HEIGHT = 0.02;
/** …and moves horizontally slower than this (m/s). */
const CONTACT_SPEED = 0.3;
/**
 * The rest hips height above the floor (m) those two thresholds are for: the procedural model's adult
 * skeleton (0.95 m; the adult fixture rigs are 0.90–0.97 m). On another rig both scale with its rest hips
 * height: a motion retargeted onto a smaller body is scaled with it (the retargeter scales the root's
 * path and a step's clearance by the legs' ratio), so the 2 cm heel lift of an adult's turning step is a
 * 1.1 cm lift on a 1.1 m child (hips 0.52 m), which a fixed 2 cm threshold would count as a planted,
 * sliding heel.
 */
const CONTACT_HIPS_HEIGHT = 0.95;
/** Frames a contact must hold (or be broken) before the contact state changes: the short-run hysteresis. */
const CONTACT_HOLD = 2;
/** A hinge joint bent less than this (degrees from rest) is straight: it has no plane to leave. */
const BENT_DEG = 10;
/** Deadband of a knee flexion reversal (degrees): a turn of direction smaller than this is not counted. */
const REVERSAL_DEADBAND_DEG = 1;
/** Half-width of the speed difference used for seam accelerations (frames at 30 fps). */
const SEAM_DIFF_FRAMES = 2;
/** Window each side of a seam (seconds) over which speeds, accelerations and drift are taken. */
const SEAM_WINDOW_S = 1;
/** Window each side of a seam (seconds) over which the before / after speeds are averaged. */
const SEAM_SPEED_S = 0.5;

const DEG = 180 / Math.PI;

/** The joint classes per-frame rotation is reported for. */
export const JOINT_CLASSES = ['root', 'hips', 'spine', 'neck', 'head', 'shoulder', 'upperArm', 'elbow', 'wrist', 'hip', 'knee', 'ankle', 'toe', 'other'] as const;
export type JointClass = (typeof JOINT_CLASSES)[number];

/** Which sole point: side 0 left / 1 right, point index into FOOT_POINT_NAMES. */
export interface SolePointRef {
  side: 'left' | 'right';
  point: (typeof FOOT_POINT_NAMES)[number];
}

export interface LowestPoint extends SolePointRef {
  /** Height above the rest floor (metres; negative is under the floor). */
  height: number;
  frame: number;
}

export interface WorstDrift extends SolePointRef {
  /** Largest horizontal distance from where the point landed, over the contact run (metres). */
  drift: number;
  /** First and last frame of that contact run. */
  from: number;
  to: number;
}

export interface HingeResult {
  /** Largest off-hinge angle (degrees) over frames where the joint is bent more than BENT_DEG; 0 when never bent. */
  offHinge: number;
  side: 'left' | 'right';
  frame: number;
  /** Frames where the joint was bent more than BENT_DEG (either side). */
  bentFrames: number;
}

export interface SeamResult {
  frame: number;
  /** Mean horizontal hips speed over half a second before and after the seam (m/s). */
  speedBefore: number;
  speedAfter: number;
  /** Largest decrease / increase rate of horizontal hips speed within a second of the seam (m/s²). */
  peakDecel: number;
  peakAccel: number;
  /** Worst drift of a sole point over contact runs that overlap the seam window. */
  drift: WorstDrift | null;
  /** Lowest sole point within the seam window. */
  lowest: LowestPoint;
}

export interface ClipQuality {
  frames: number;
  fps: number;
  lowest: LowestPoint;
  /** Contact runs found, over all six sole points. */
  contactRuns: number;
  /** Worst planted drift (null when no sole point is ever down). */
  drift: WorstDrift | null;
  knee: HingeResult;
  elbow: HingeResult;
  /** Largest per-frame local rotation per joint class (degrees per frame at 30 fps), with the joint's name and the frame. */
  perFrame: Record<JointClass, { deg: number; joint: string; frame: number }>;
  /** Most flexion reversals of one knee within one stride (heel strike to heel strike of that foot); null without two strikes. */
  kneeReversalsPerStride: number | null;
  seams: SeamResult[];
  /** A root joint above the hips (a floor-level root, as Unreal's): null on rigs whose root is the hips. */
  floorRoot: FloorRootResult | null;
  /** IK helper bones (`ik_foot_l`, `ik_hand_r`…): the largest distance from the foot or hand each should follow, or null without any. */
  ikGap: { gap: number; joint: string; frame: number } | null;
  /**
   * The lowest mapped body joint (hips, spine, neck, head, arms, legs, toes) against the rest floor
   * (metres; negative under it): a joint sits inside the body, so one under the floor means flesh through it.
   */
  lowestJoint: { height: number; joint: string; frame: number };
}

export interface FloorRootResult {
  /** Largest distance of the root from the floor height (metres): a ground root stays on it. */
  offFloor: number;
  /** Largest horizontal distance of the root from the hips (metres): it travels under the pelvis. */
  fromHips: number;
  frame: number;
}

export interface MeasureOptions {
  /** Frames where composed segments meet (the first frame of each later segment). */
  seams?: readonly number[];
  /** The foot model, when the caller has it (else built from the rest pose). */
  feet?: FootModel;
}

/** The measurements' scratch: FK output and the sole points' world positions of every frame. */
interface Posed {
  F: number;
  J: number;
  positions: Float64Array;
  rotations: Float64Array;
  /** F × 6 × 3: left heel, ball, toe, right heel, ball, toe. */
  soles: Float64Array;
}

function pose(s: Skeleton, clip: Clip, feet: FootModel): Posed {
  const F = clip.numFrames, J = s.names.length;
  const positions = new Float64Array(F * J * 3);
  const rotations = new Float64Array(F * J * 4);
  clipForwardKinematics(s, clip, positions, rotations);
  const soles = new Float64Array(F * 18);
  for (let f = 0; f < F; f++) {
    for (let k = 0; k < 6; k++) footPointAt(feet.sides[k < 3 ? 0 : 1][k % 3], J, positions, rotations, f, soles, (f * 6 + k) * 3);
  }
  return { F, J, positions, rotations, soles };
}

const pointRef = (k: number): SolePointRef => ({ side: k < 3 ? 'left' : 'right', point: FOOT_POINT_NAMES[k % 3] });

/**
 * Contact flags of the six sole points (F × 6, 1 = down): down when within CONTACT_HEIGHT of `floor`
 * and slower than CONTACT_SPEED horizontally, both times `scale` (contactScale: the rig's size); a change of state needs CONTACT_HOLD frames in a row, so a
 * one-frame jerk of a planted point stays inside its run (and its displacement counts as drift).
 */
function solePointContacts(soles: Float64Array, F: number, fps: number, floor: number, scale: number): Uint8Array {
  const height = CONTACT_HEIGHT * scale, slow = CONTACT_SPEED * scale;
  const out = new Uint8Array(F * 6);
  const raw = new Uint8Array(F);
  for (let k = 0; k < 6; k++) {
    for (let f = 0; f < F; f++) {
      const a = Math.max(0, f - 1), b = Math.min(F - 1, f + 1);
      const pa = (a * 6 + k) * 3, pb = (b * 6 + k) * 3;
      const speed = b > a ? (Math.hypot(soles[pb] - soles[pa], soles[pb + 2] - soles[pa + 2]) * fps) / (b - a) : 0;
      raw[f] = soles[(f * 6 + k) * 3 + 1] - floor <= height && speed <= slow ? 1 : 0;
    }
    let state = 0;
    for (let f = 0; f < F; f++) {
      if (raw[f] !== state) {
        let hold = 1;
        while (hold < CONTACT_HOLD && f + hold < F && raw[f + hold] === raw[f]) hold++;
        // A state that holds to the end of the clip counts even if shorter.
        if (hold >= CONTACT_HOLD || f + hold >= F) state = raw[f];
      }
      out[f * 6 + k] = state;
    }
  }
  return out;
}

/** The contact thresholds' scale on a rig: its rest hips height above its feet's floor over CONTACT_HIPS_HEIGHT. */
function contactScale(s: Skeleton, map: HumanoidMap, feet: FootModel): number {
  const h = restPositions(s)[map.hips * 3 + 1] - feet.floor;
  return h > 0 ? h / CONTACT_HIPS_HEIGHT : 1;
}

/** Lowest sole point over frames [from, to). */
function lowestIn(p: Posed, floor: number, from: number, to: number): LowestPoint {
  let best = Infinity, bf = from, bk = 0;
  for (let f = from; f < to; f++) {
    for (let k = 0; k < 6; k++) {
      const h = p.soles[(f * 6 + k) * 3 + 1] - floor;
      if (h < best) { best = h; bf = f; bk = k; }
    }
  }
  return { ...pointRef(bk), height: best === Infinity ? 0 : best, frame: bf };
}

/** Worst drift over contact runs that overlap [from, to), and the number of runs there. */
function driftIn(p: Posed, contacts: Uint8Array, from: number, to: number): { worst: WorstDrift | null; runs: number } {
  let worst: WorstDrift | null = null;
  let runs = 0;
  for (let k = 0; k < 6; k++) {
    let f = 0;
    while (f < p.F) {
      if (!contacts[f * 6 + k]) { f++; continue; }
      const start = f;
      const o = (start * 6 + k) * 3;
      const x0 = p.soles[o], z0 = p.soles[o + 2];
      let d = 0;
      while (f < p.F && contacts[f * 6 + k]) {
        const q = (f * 6 + k) * 3;
        d = Math.max(d, Math.hypot(p.soles[q] - x0, p.soles[q + 2] - z0));
        f++;
      }
      if (f <= from || start >= to) continue;
      runs++;
      if (!worst || d > worst.drift) worst = { ...pointRef(k), drift: d, from: start, to: f - 1 };
    }
  }
  return { worst, runs };
}

/** Unit vector from rest position of a to b. */
function restDir(rest: Float64Array, a: number, b: number): [number, number, number] {
  const x = rest[b * 3] - rest[a * 3], y = rest[b * 3 + 1] - rest[a * 3 + 1], z = rest[b * 3 + 2] - rest[a * 3 + 2];
  const n = Math.hypot(x, y, z) || 1;
  return [x / n, y / n, z / n];
}

/**
 * The hinge of a two-segment limb (upper joint u, lower joint l whose segment ends at e), from the rest
 * pose: `hinge` is perpendicular to the upper segment and to the body's forward (+Z at rest), the lateral
 * axis of the upper segment's frame; `distal` the lower segment's rest direction.
 */
export interface Hinge {
  upper: number;
  lower: number;
  hinge: [number, number, number];
  distal: [number, number, number];
}

function hingeOf(rest: Float64Array, upper: number, lower: number, end: number): Hinge {
  const b = restDir(rest, upper, lower);
  // hinge = b × forward (forward = +Z): (b.y, −b.x, 0), normalized; a bone along Z has no lateral axis: use X.
  let hx = b[1], hy = -b[0];
  const n = Math.hypot(hx, hy);
  if (n < 1e-6) { hx = 1; hy = 0; } else { hx /= n; hy /= n; }
  return { upper, lower, hinge: [hx, hy, 0], distal: restDir(rest, lower, end) };
}

/**
 * The relative rotation of a limb's lower segment to its upper one in frame f, from rest:
 * rel = W[upper]⁻¹ · W[lower] (rest-world axes), into `out` [x, y, z, w] with w ≥ 0.
 */
function relativeRotation(rot: Float64Array, J: number, f: number, h: Hinge, out: Float64Array): void {
  const a = (f * J + h.upper) * 4, b = (f * J + h.lower) * 4;
  // conj(A)·B
  const ax = -rot[a], ay = -rot[a + 1], az = -rot[a + 2], aw = rot[a + 3];
  const bx = rot[b], by = rot[b + 1], bz = rot[b + 2], bw = rot[b + 3];
  let x = aw * bx + ax * bw + ay * bz - az * by;
  let y = aw * by - ax * bz + ay * bw + az * bx;
  let z = aw * bz + ax * by - ay * bx + az * bw;
  let w = aw * bw - ax * bx - ay * by - az * bz;
  if (w < 0) { x = -x; y = -y; z = -z; w = -w; }
  out[0] = x; out[1] = y; out[2] = z; out[3] = w;
}

/**
 * Off-hinge angle (degrees) of a relative rotation q: the angle of what remains after the rotation
 * about the hinge axis is taken out (swing–twist: remainder angle = 2·acos(√((h·v)² + w²))). With
 * `axialFree`, a twist of the lower segment about its own rest axis is taken out first (a forearm's
 * pronation lives on the forearm joint in many rigs; a knee has none).
 * Also returns the bend (degrees): the angle the lower segment's direction turned from rest.
 */
function offHingeAngle(q: ArrayLike<number>, h: Hinge, axialFree: boolean): { off: number; bend: number; flex: number } {
  let x = q[0], y = q[1], z = q[2], w = q[3];
  const [dx, dy, dz] = h.distal;
  if (axialFree) {
    // q = swing_d · twist_d (twist about the distal axis applied first); keep swing_d = q · twist_d⁻¹.
    const p = x * dx + y * dy + z * dz;
    const n = Math.hypot(p, w);
    if (n > 1e-9) {
      const tx = -(p * dx) / n, ty = -(p * dy) / n, tz = -(p * dz) / n, tw = w / n;
      const nx = w * tx + x * tw + y * tz - z * ty;
      const ny = w * ty - x * tz + y * tw + z * tx;
      const nz = w * tz + x * ty - y * tx + z * tw;
      const nw = w * tw - x * tx - y * ty - z * tz;
      x = nx; y = ny; z = nz; w = nw;
      if (w < 0) { x = -x; y = -y; z = -z; w = -w; }
    }
  }
  const [hx, hy, hz] = h.hinge;
  const ph = x * hx + y * hy + z * hz;
  const off = 2 * Math.acos(Math.min(1, Math.hypot(ph, w))) * DEG;
  const flex = 2 * Math.atan2(ph, w) * DEG;
  // The distal direction rotated by the original q.
  const qx = q[0], qy = q[1], qz = q[2], qw = q[3];
  const tx = 2 * (qy * dz - qz * dy), ty = 2 * (qz * dx - qx * dz), tz = 2 * (qx * dy - qy * dx);
  const rx = dx + qw * tx + (qy * tz - qz * ty);
  const ry = dy + qw * ty + (qz * tx - qx * tz);
  const rz = dz + qw * tz + (qx * ty - qy * tx);
  const bend = Math.acos(Math.max(-1, Math.min(1, rx * dx + ry * dy + rz * dz))) * DEG;
  return { off, bend, flex };
}

/** The joint that ends a segment: the first child of `j` on the way to `toward` (or `toward` itself). */
function segmentEnd(s: Skeleton, j: number, toward: number): number {
  let k = toward;
  while (k >= 0 && s.parents[k] !== j) k = s.parents[k];
  return k >= 0 ? k : toward;
}

function hingeResult(p: Posed, hinges: Array<{ h: Hinge; side: 'left' | 'right' }>, axialFree: boolean, q: Float64Array): HingeResult {
  const out: HingeResult = { offHinge: 0, side: 'left', frame: 0, bentFrames: 0 };
  for (let f = 0; f < p.F; f++) {
    for (const { h, side } of hinges) {
      relativeRotation(p.rotations, p.J, f, h, q);
      const r = offHingeAngle(q, h, axialFree);
      if (r.bend <= BENT_DEG) continue;
      out.bentFrames++;
      if (r.off > out.offHinge) { out.offHinge = r.off; out.side = side; out.frame = f; }
    }
  }
  return out;
}

/** The class of every joint of a mapped humanoid (a root above the hips is 'root', joints of no role 'other'). */
function jointClasses(s: Skeleton, map: HumanoidMap): JointClass[] {
  const out: JointClass[] = s.names.map((_, j) => (s.parents[j] < 0 ? 'root' : 'other'));
  for (const j of map.spine) out[j] = 'spine';
  out[map.chest] = 'spine';
  out[map.neck] = 'neck';
  out[map.head] = 'head';
  out[map.hips] = 'hips';
  for (const side of [map.left, map.right]) {
    if (side.shoulder !== undefined) out[side.shoulder] = 'shoulder';
    out[side.upperArm] = 'upperArm';
    out[side.forearm] = 'elbow';
    out[side.hand] = 'wrist';
    out[side.upperLeg] = 'hip';
    out[side.lowerLeg] = 'knee';
    out[side.foot] = 'ankle';
    if (side.toe !== undefined) out[side.toe] = 'toe';
  }
  return out;
}

/** Largest per-frame local rotation per class, in degrees per frame at 30 fps. */
function perFrameRotation(s: Skeleton, clip: Clip, classes: JointClass[]): ClipQuality['perFrame'] {
  const out = Object.fromEntries(JOINT_CLASSES.map((c) => [c, { deg: 0, joint: '', frame: 0 }])) as ClipQuality['perFrame'];
  const J = clip.jointCount, r = clip.rotations;
  const scale = (clip.fps / 30) * 2 * DEG;
  for (let f = 1; f < clip.numFrames; f++) {
    for (let j = 0; j < J; j++) {
      const a = ((f - 1) * J + j) * 4, b = (f * J + j) * 4;
      const dot = Math.abs(r[a] * r[b] + r[a + 1] * r[b + 1] + r[a + 2] * r[b + 2] + r[a + 3] * r[b + 3]);
      const n = Math.hypot(r[a], r[a + 1], r[a + 2], r[a + 3]) * Math.hypot(r[b], r[b + 1], r[b + 2], r[b + 3]) || 1;
      const deg = Math.acos(Math.min(1, dot / n)) * scale;
      const slot = out[classes[j]];
      if (deg > slot.deg) { slot.deg = deg; slot.joint = s.names[j]; slot.frame = f; }
    }
  }
  return out;
}

/**
 * Most knee flexion reversals within one stride of its foot (heel strike to the next heel strike, the
 * strike being the start of the heel's contact run, or the ball's on a rig whose heel never lands).
 */
function kneeReversals(p: Posed, contacts: Uint8Array, knees: Array<{ h: Hinge; side: number }>, q: Float64Array): number | null {
  let best: number | null = null;
  const flex = new Float64Array(p.F);
  for (const { h, side } of knees) {
    for (let f = 0; f < p.F; f++) {
      relativeRotation(p.rotations, p.J, f, h, q);
      flex[f] = offHingeAngle(q, h, false).flex;
    }
    const strikes = (k: number): number[] => {
      const out: number[] = [];
      for (let f = 0; f < p.F; f++) if (contacts[f * 6 + k] && (f === 0 || !contacts[(f - 1) * 6 + k])) out.push(f);
      return out;
    };
    let at = strikes(side * 3);
    if (at.length < 2) at = strikes(side * 3 + 1);
    for (let i = 0; i + 1 < at.length; i++) {
      // Count direction changes larger than the deadband (a zig-zag detector with hysteresis).
      let count = 0, dir = 0, hi = flex[at[i]], lo = hi, ext = hi;
      for (let f = at[i] + 1; f <= at[i + 1]; f++) {
        const v = flex[f];
        if (dir === 0) {
          hi = Math.max(hi, v); lo = Math.min(lo, v);
          if (hi - v > REVERSAL_DEADBAND_DEG) { dir = -1; ext = v; } else if (v - lo > REVERSAL_DEADBAND_DEG) { dir = 1; ext = v; }
        } else if (dir > 0) {
          ext = Math.max(ext, v);
          if (ext - v > REVERSAL_DEADBAND_DEG) { count++; dir = -1; ext = v; }
        } else {
          ext = Math.min(ext, v);
          if (v - ext > REVERSAL_DEADBAND_DEG) { count++; dir = 1; ext = v; }
        }
      }
      best = best === null ? count : Math.max(best, count);
    }
  }
  return best;
}

/** Horizontal hips speed per frame (central differences), m/s. */
function hipsSpeed(p: Posed, hips: number, fps: number): Float64Array {
  const v = new Float64Array(p.F);
  for (let f = 0; f < p.F; f++) {
    const a = Math.max(0, f - 1), b = Math.min(p.F - 1, f + 1);
    if (b === a) continue;
    const pa = (a * p.J + hips) * 3, pb = (b * p.J + hips) * 3;
    v[f] = (Math.hypot(p.positions[pb] - p.positions[pa], p.positions[pb + 2] - p.positions[pa + 2]) * fps) / (b - a);
  }
  return v;
}

function seamResult(p: Posed, contacts: Uint8Array, speed: Float64Array, floor: number, fps: number, seam: number): SeamResult {
  const win = Math.round(SEAM_WINDOW_S * fps), half = Math.max(1, Math.round(SEAM_SPEED_S * fps));
  const k = Math.max(1, Math.round((SEAM_DIFF_FRAMES * fps) / 30));
  const mean = (a: number, b: number): number => {
    a = Math.max(0, a); b = Math.min(p.F, b);
    let sum = 0;
    for (let f = a; f < b; f++) sum += speed[f];
    return b > a ? sum / (b - a) : 0;
  };
  let decel = 0, accel = 0;
  for (let f = Math.max(k, seam - win); f < Math.min(p.F - k, seam + win); f++) {
    const rate = ((speed[f + k] - speed[f - k]) * fps) / (2 * k);
    decel = Math.max(decel, -rate);
    accel = Math.max(accel, rate);
  }
  const from = Math.max(0, seam - win), to = Math.min(p.F, seam + win);
  return {
    frame: seam,
    speedBefore: mean(seam - half, seam),
    speedAfter: mean(seam, seam + half),
    peakDecel: decel,
    peakAccel: accel,
    drift: driftIn(p, contacts, from, to).worst,
    lowest: lowestIn(p, floor, from, to),
  };
}

/** Every measurement of one clip on a mapped humanoid skeleton (see the module comment). */
export function measureClip(s: Skeleton, map: HumanoidMap, clip: Clip, opts: MeasureOptions = {}): ClipQuality {
  const feet = opts.feet ?? footModel(s, map);
  const p = pose(s, clip, feet);
  const rest = restPositions(s);
  const contacts = solePointContacts(p.soles, p.F, clip.fps, feet.floor, contactScale(s, map, feet));
  const q = new Float64Array(4);
  const limb = (u: number, l: number, e: number): Hinge => hingeOf(rest, u, l, segmentEnd(s, l, e));
  const sides: Array<['left' | 'right', HumanoidSide]> = [['left', map.left], ['right', map.right]];
  const knees = sides.map(([name, side]) => ({ h: limb(side.upperLeg, side.lowerLeg, side.foot), side: name }));
  const elbows = sides.map(([name, side]) => ({ h: limb(side.upperArm, side.forearm, side.hand), side: name }));
  const drift = driftIn(p, contacts, 0, p.F);
  const speed = hipsSpeed(p, map.hips, clip.fps);
  return {
    frames: p.F,
    fps: clip.fps,
    lowest: lowestIn(p, feet.floor, 0, p.F),
    contactRuns: drift.runs,
    drift: drift.worst,
    knee: hingeResult(p, knees, false, q),
    elbow: hingeResult(p, elbows, true, q),
    perFrame: perFrameRotation(s, clip, jointClasses(s, map)),
    kneeReversalsPerStride: kneeReversals(p, contacts, knees.map((k, i) => ({ h: k.h, side: i })), q),
    seams: (opts.seams ?? []).filter((f) => f > 0 && f < p.F).map((f) => seamResult(p, contacts, speed, feet.floor, clip.fps, f)),
    floorRoot: floorRootResult(map, p, feet.floor),
    ikGap: ikGapResult(s, map, p),
    lowestJoint: lowestJointResult(s, map, p, feet.floor),
  };
}

/** The lowest of the mapped body joints (humanoidRoles) over the clip, against `floor`. */
function lowestJointResult(s: Skeleton, map: HumanoidMap, p: Posed, floor: number): ClipQuality['lowestJoint'] {
  const joints = humanoidRoles(map).map(([, j]) => j);
  let best = Infinity, bj = map.hips, bf = 0;
  for (let f = 0; f < p.F; f++) {
    for (const j of joints) {
      const h = p.positions[(f * p.J + j) * 3 + 1] - floor;
      if (h < best) { best = h; bj = j; bf = f; }
    }
  }
  return { height: best === Infinity ? 0 : best, joint: s.names[bj], frame: bf };
}

function floorRootResult(map: HumanoidMap, p: Posed, floor: number): FloorRootResult | null {
  if (map.hips === 0) return null;
  const out: FloorRootResult = { offFloor: 0, fromHips: 0, frame: 0 };
  for (let f = 0; f < p.F; f++) {
    const r = f * p.J * 3, h = (f * p.J + map.hips) * 3;
    const off = Math.abs(p.positions[r + 1] - floor);
    if (off > out.offFloor) { out.offFloor = off; out.frame = f; }
    out.fromHips = Math.max(out.fromHips, Math.hypot(p.positions[r] - p.positions[h], p.positions[r + 2] - p.positions[h + 2]));
  }
  return out;
}

const IK_BONE = /^ik_(foot|hand)_(l|r)$/i;

function ikGapResult(s: Skeleton, map: HumanoidMap, p: Posed): ClipQuality['ikGap'] {
  let out: ClipQuality['ikGap'] = null;
  s.names.forEach((name, j) => {
    const m = IK_BONE.exec(name);
    if (!m) return;
    const side = m[2].toLowerCase() === 'l' ? map.left : map.right;
    const target = m[1].toLowerCase() === 'foot' ? side.foot : side.hand;
    for (let f = 0; f < p.F; f++) {
      const a = (f * p.J + j) * 3, b = (f * p.J + target) * 3;
      const gap = Math.hypot(p.positions[a] - p.positions[b], p.positions[a + 1] - p.positions[b + 1], p.positions[a + 2] - p.positions[b + 2]);
      if (!out || gap > out.gap) out = { gap, joint: name, frame: f };
    }
  });
  return out;
}

/** World positions of every joint and the sole points' contact flags of a clip (for drawing: contact sheets). */
export function posedWithContacts(s: Skeleton, map: HumanoidMap | null, clip: Clip): { positions: Float64Array; soles: Float64Array | null; contacts: Uint8Array | null; floor: number | null } {
  if (!map) {
    const positions = new Float64Array(clip.numFrames * s.names.length * 3);
    clipForwardKinematics(s, clip, positions);
    return { positions, soles: null, contacts: null, floor: null };
  }
  const feet = footModel(s, map);
  const p = pose(s, clip, feet);
  return { positions: p.positions, soles: p.soles, contacts: solePointContacts(p.soles, p.F, clip.fps, feet.floor, contactScale(s, map, feet)), floor: feet.floor };
}

// ---------------------------------------------------------------------------------------------------
// Bounds: what an animator accepts (issue 10), shared by the quality test and the bench report.

/** Lowest sole point: at most 1 cm under the rest floor. */
export const LOWEST_BOUND = -0.01;
/** Lowest body joint: a mapped joint (inside the body) at most 1 cm under the rest floor. */
export const BODY_LOWEST_BOUND = -0.01;
/** Planted drift: a sole point down on the floor moves less than 1 cm until it lifts. */
export const DRIFT_BOUND = 0.01;
/** Knee and elbow off-hinge angle (degrees) while bent. */
export const OFF_HINGE_BOUND = 10;
/** Peak hips deceleration within a second of a seam (m/s²): a person stopping from a walk over about two steps peaks near 2–3. */
export const SEAM_DECEL_BOUND = 4;
/** Stance-knee flexion reversals per stride of a gait: a real knee has about 4 (load, mid-stance, swing, terminal swing). */
export const GAIT_REVERSALS_BOUND = 5;

/** A floor-level root stays on the floor (within 1 cm), and IK helper bones on the foot or hand they follow (within 1 cm). */
export const ROOT_FLOOR_BOUND = 0.01;
export const IK_GAP_BOUND = 0.01;

/**
 * How fast a motion moves its joints: gaits, runs, athletic strikes and jumps, acrobatics (the whole body
 * turning a full circle: flips, cartwheels, rolls), whole-body transitions (sitting, kneeling, getting
 * up, crawling, climbing a ladder), and gestures.
 */
export type MotionClass = 'gait' | 'run' | 'athletic' | 'acrobatic' | 'body' | 'gesture';

/** The class of a motion id or prompt (new vocabulary falls into a class by its words). */
export function motionClassOf(motion: string): MotionClass {
  if (/flip|cartwheel|somersault|handspring|(?<!s)tumbl|(?<!st)roll/.test(motion)) return 'acrobatic';
  if (/run|jog|sprint|flee|chase|skip/.test(motion)) return 'run';
  if (/kick|punch|jab|uppercut|throw|strike|swing|jump|leap|hop|flip|cartwheel|fall|stumble|dive|dodge|block|fight|attack|dance|cheer|push|pull/.test(motion)) return 'athletic';
  // Crawling and climbing a ladder move the arms as a gait moves the legs (a hand travels a stride or two
  // rungs, 30–60 cm, in a few tenths of a second): whole-body motions, not a walk's arm swing.
  if (/crawl|ladder/.test(motion)) return 'body';
  if (/walk|march|sneak|step|turn|limp|shamble|zombie|stroll|climb|stair|pace|tiptoe|backward/.test(motion)) return 'gait';
  if (/sit|stand|crouch|squat|kneel|lie|get_up|get up|pick|carry|lunge|bow|lower|rise/.test(motion)) return 'body';
  return 'gesture';
}

/**
 * Largest per-frame local rotation (degrees per frame at 30 fps) per motion class and joint class.
 * From human joint angular velocities: a walking knee peaks near 350–450°/s (12–15°/frame), a hip near
 * 200–250°/s; running knees near 900°/s and hips near 600°/s; a fast kick's knee extension and a
 * punch's elbow extension near 1500°/s (50°/frame), a throw's shoulder near 1200°/s; waving and
 * clapping elbows near 600°/s, head shakes near 350°/s; getting up from the floor turns hips and knees
 * near 300–450°/s; a stepping 180° turn swings the pelvis near
 * 300°/s. A floor-level root (heading) is bounded as the hips. Joints of no role (fingers, twist and IK
 * helpers) are not bounded.
 */
export const ROTATION_BOUNDS: Record<MotionClass, Partial<Record<JointClass, number>>> = {
  gait: { root: 10, hips: 10, spine: 8, neck: 8, head: 8, shoulder: 8, upperArm: 10, elbow: 10, wrist: 12, hip: 10, knee: 15, ankle: 15, toe: 20 },
  run: { root: 10, hips: 10, spine: 10, neck: 12, head: 12, shoulder: 12, upperArm: 20, elbow: 20, wrist: 20, hip: 22, knee: 32, ankle: 30, toe: 35 },
  athletic: { root: 15, hips: 15, spine: 15, neck: 15, head: 15, shoulder: 25, upperArm: 40, elbow: 55, wrist: 35, hip: 35, knee: 55, ankle: 35, toe: 40 },
  // A standing back somersault turns the body 360° in a flight of 0.6–0.8 s, the tuck spinning it near
  // 700–850°/s at its peak; a cartwheel turns 360° in about a second (near 400–550°/s at its fastest):
  // hips (and a heading root) up to 900°/s = 30°/frame. The limbs move as in an athletic motion.
  acrobatic: { root: 30, hips: 30, spine: 15, neck: 15, head: 15, shoulder: 25, upperArm: 40, elbow: 55, wrist: 35, hip: 35, knee: 55, ankle: 35, toe: 40 },
  body: { root: 10, hips: 10, spine: 12, neck: 12, head: 12, shoulder: 12, upperArm: 20, elbow: 22, wrist: 25, hip: 15, knee: 20, ankle: 20, toe: 25 },
  gesture: { root: 6, hips: 6, spine: 8, neck: 12, head: 12, shoulder: 12, upperArm: 20, elbow: 22, wrist: 25, hip: 10, knee: 15, ankle: 15, toe: 20 },
};

/** The bounds of the report, by name. */
export type QualityMetric = 'lowest' | 'bodyLowest' | 'drift' | 'knee' | 'elbow' | 'rotation' | 'reversals' | 'seam' | 'root' | 'ik';

export interface Violation {
  metric: QualityMetric;
  /** What broke the bound, short and readable ("lowest left ball -4.4 cm @16"). */
  text: string;
}

/** Every bound a clip's measurements break (empty when it passes). */
export function qualityViolations(q: ClipQuality, motionClass: MotionClass): Violation[] {
  const out: Violation[] = [];
  const add = (metric: QualityMetric, text: string): void => void out.push({ metric, text });
  const cm = (m: number): string => `${(m * 100).toFixed(1)} cm`;
  if (q.lowest.height < LOWEST_BOUND) add('lowest', `lowest ${q.lowest.side} ${q.lowest.point} ${cm(q.lowest.height)} @${q.lowest.frame}`);
  if (q.lowestJoint.height < BODY_LOWEST_BOUND) add('bodyLowest', `lowest joint ${q.lowestJoint.joint} ${cm(q.lowestJoint.height)} @${q.lowestJoint.frame}`);
  if (q.drift && q.drift.drift >= DRIFT_BOUND) add('drift', `drift ${q.drift.side} ${q.drift.point} ${cm(q.drift.drift)} @${q.drift.from}-${q.drift.to}`);
  if (q.knee.offHinge >= OFF_HINGE_BOUND) add('knee', `knee off-hinge ${q.knee.side} ${q.knee.offHinge.toFixed(1)}° @${q.knee.frame}`);
  if (q.elbow.offHinge >= OFF_HINGE_BOUND) add('elbow', `elbow off-hinge ${q.elbow.side} ${q.elbow.offHinge.toFixed(1)}° @${q.elbow.frame}`);
  const bounds = ROTATION_BOUNDS[motionClass];
  for (const c of JOINT_CLASSES) {
    const b = bounds[c];
    const r = q.perFrame[c];
    if (b !== undefined && r.deg > b) add('rotation', `${c} ${r.deg.toFixed(1)}°/frame > ${b} (${r.joint} @${r.frame})`);
  }
  if (motionClass === 'gait' && q.kneeReversalsPerStride !== null && q.kneeReversalsPerStride > GAIT_REVERSALS_BOUND) {
    add('reversals', `knee reversals ${q.kneeReversalsPerStride}/stride > ${GAIT_REVERSALS_BOUND}`);
  }
  if (q.floorRoot && q.floorRoot.offFloor > ROOT_FLOOR_BOUND) add('root', `root ${cm(q.floorRoot.offFloor)} off the floor @${q.floorRoot.frame}`);
  if (q.ikGap && q.ikGap.gap > IK_GAP_BOUND) add('ik', `${q.ikGap.joint} ${cm(q.ikGap.gap)} from its effector @${q.ikGap.frame}`);
  for (const s of q.seams) {
    if (s.peakDecel > SEAM_DECEL_BOUND) add('seam', `seam @${s.frame} decel ${s.peakDecel.toFixed(1)} m/s² (${s.speedBefore.toFixed(2)}→${s.speedAfter.toFixed(2)} m/s)`);
  }
  return out;
}
