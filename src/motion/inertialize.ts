/**
 * Seams that carry momentum: the root's travel inertialized from one segment into the next, and the
 * feet stepping (planted, by leg IK) while the body slows down or speeds up.
 *
 * At a seam the previous segment ends at some root velocity and the next one starts at another (a walk
 * at 1.3 m/s, a wave standing still). The next segment's frames are kept and its root path gets an offset
 * whose velocity starts at the mismatch and decays to zero with the smoothstep weight over a window long
 * enough for a human deceleration (peak |a| = 1.5·|Δv| / window ≤ `MAX_ACCEL`, at least `MIN_WINDOW_S`),
 * so the travel is continuous in position and velocity. The offset ends at a constant distance: the body
 * comes to rest a little further on (about |Δv|·window/2), as a person does who stops from a walk.
 *
 * While that offset carries the hips, a standing segment's feet would slide with them: `stepAcrossSeam`
 * plans footsteps instead (each foot held still while it is down, lifted when the hips are about to
 * leave it behind, landing ahead under where the body is going, the last step into the next segment's
 * own stance) and places each ankle by two-bone IK with the knee toward the body's front. The first
 * steps are the previous gait's own (found from its last cycle), a planted foot the hips move away from
 * rolls onto its ball (or rocks onto its heel) rather than sliding, and once the body has settled a foot
 * joins the next segment's own steps in the air or squares up onto its stance. No sole point is placed
 * under the floor.
 */
import type { Clip, Skeleton } from '../spec/motion.js';
import type { HumanoidMap, HumanoidSide } from './humanoid.js';
import { footModel, type FootModel, type FootPoint } from './foot.js';
import { solveTwoBone, type TwoBoneChain } from './ik.js';
import { KNEE } from './limits.js';
import { hypot2, hypot3, qget, qinv as qinvert, qmul, qrotate, qset, qslerp, smoothstep, type Quat, type Vec3 } from './quat.js';
import { clipForwardKinematics, restPositions } from './skeleton.js';

/** Peak horizontal deceleration or acceleration of the root offset (m/s²). */
export const MAX_ACCEL = 3;
/** Window over which the root's height and vertical velocity join the next segment's (seconds). */
const HEIGHT_WINDOW_S = 0.4;
/** Shortest inertialization window (seconds): about two steps of a walk (0.8–1.2 s). */
const MIN_WINDOW_S = 1;

/** The root offset added to a segment placed after a seam. */
export interface RootInertialization {
  /** Frames over which the velocity mismatch decays (from the segment's first frame). */
  frames: number;
  /** Final XZ offset of the segment (metres, world). */
  distance: [number, number];
}

/** Frames of the window for a velocity mismatch `dv` (m/s), at most `limit`. */
export function inertializationFrames(dv: number, fps: number, limit: number): number {
  const seconds = Math.max(MIN_WINDOW_S, (1.5 * Math.abs(dv)) / MAX_ACCEL);
  return Math.max(0, Math.min(limit, Math.ceil(seconds * fps)));
}

/**
 * Adds to `next` (already placed so that its first frame is one step of `vPrev` past the previous end)
 * the root offset that carries the previous segment's velocity `vPrev` (XZ, metres per frame) and
 * vertical motion (`yPrev` the last height, `vyPrev` its per-frame change) into it, decaying over the
 * window. Rotations are not touched. Returns the window and the final offset.
 */
export function inertializeRoot(next: Clip, vPrev: readonly [number, number], yPrev: number, vyPrev: number): RootInertialization {
  const F = next.numFrames;
  const p = next.rootPositions;
  if (F < 2) return { frames: 0, distance: [0, 0] };
  const dvx = vPrev[0] - (p[3] - p[0]);
  const dvz = vPrev[1] - (p[5] - p[2]);
  const N = inertializationFrames(hypot2(dvx, dvz) * next.fps, next.fps, F - 1);
  if (N === 0) return { frames: 0, distance: [0, 0] };
  // Height: a cubic from the continued previous height (position and velocity) to the segment's own.
  const y0 = yPrev + vyPrev - p[1];
  let ox = 0, oz = 0;
  for (let k = 1; k < F; k++) {
    if (k < N + 1) {
      const w = 1 - smoothstep(k / N);
      ox += dvx * w;
      oz += dvz * w;
    }
    p[k * 3] += ox;
    p[k * 3 + 2] += oz;
  }
  // The vertical mismatch settles within a bob (a long cubic would sink the hips).
  const Ny = Math.min(N, Math.ceil(HEIGHT_WINDOW_S * next.fps));
  const m0y = (vyPrev - (p[4] - p[1])) * Ny;
  for (let k = 0; k < Math.min(F, Ny + 1); k++) {
    const u = k / Ny;
    p[k * 3 + 1] += (2 * u * u * u - 3 * u * u + 1) * y0 + (u * u * u - 2 * u * u + u) * m0y;
  }
  return { frames: N, distance: [ox, oz] };
}

/** Per foot, what the planner holds or moves. */
interface FootTrack {
  side: HumanoidSide;
  chain: TwoBoneChain;
  points: readonly FootPoint[];
  toe: number;
  pos: Vec3;
  rot: Quat;
  toeRot: Quat;
  planted: boolean;
  final: boolean;
  landedAt: number;
  swing: Swing | null;
}

interface Swing {
  f0: number;
  f1: number;
  p0: Vec3;
  /** Ankle velocity at f0 (metres per frame). */
  v0: Vec3;
  p1: Vec3;
  q0: Quat;
  q1: Quat;
  t0: Quat;
  t1: Quat;
  lift: number;
  final: boolean;
  /** The landing pose before any roll (what the foot holds; the roll is applied per frame). */
  base?: { pos: Vec3; rot: Quat; toe: Quat };
  /** Joining the home clip's own swing (p1/q1 unused: the home foot says where it lands). */
  follow?: boolean;
}

/** Frames both feet are down between one foot's landing and the other's lift. */
const DOUBLE_SUPPORT = 2;
/** Largest roll of a planted foot onto its ball or heel (degrees). */
const MAX_ROLL = 60;
/** Fewest frames a foot stays down after landing before it steps again. */
const MIN_STANCE = 4;
/** Frames to hand the legs back to the segment's own animation after the last step. */
const HAND_BACK = 4;
/** Swing height of a fresh step (metres). */
const STEP_LIFT = 0.05;
/** A settled foot this close to its home spot (metres) is handed back without a step. */
const SQUARE_UP = 0.008;
/** Fraction of a swing by which the foot is over its landing spot (it then only comes down). */
const LAND_VERTICAL = 0.7;
/** The same for a swing already under way at the seam and about to land (it is low and fast). */
const LAND_VERTICAL_MOVING = 0.5;
/** Fraction of a fresh step spent lifting before the foot travels. */
const LIFT_FIRST = 0.1;
/** Fraction of the leg's horizontal reach a foot may land ahead of / fall behind the hips. */
const REACH_USE = 0.6;

/** FK scratch of `stepAcrossSeam` (grown on demand; frames outside the posed window are stale). */
let scratch = { P: new Float64Array(0), R: new Float64Array(0), HP: new Float64Array(0), HR: new Float64Array(0) };

/** World positions and rotations of frames [from, to) of `clip`, at their own frame offsets in P and R. */
function poseWindow(s: Skeleton, clip: Clip, from: number, to: number, P: Float64Array, R: Float64Array): void {
  const J = clip.jointCount;
  if (clip.jointTranslations?.joints.length) {
    clipForwardKinematics(s, clip, P, R);
    return;
  }
  const view: Clip = {
    ...clip,
    numFrames: to - from,
    rotations: clip.rotations.subarray(from * J * 4, to * J * 4),
    rootPositions: clip.rootPositions.subarray(from * 3, to * 3),
  };
  clipForwardKinematics(s, view, P.subarray(from * J * 3), R.subarray(from * J * 4));
}

export interface SeamSteps {
  /** First and one-past-last frame whose legs were placed. */
  from: number;
  to: number;
  /** Steps taken (landings). */
  steps: number;
}

/**
 * Re-places the legs of `out` from frame `s` on so that the feet step across a seam instead of sliding.
 * `home` is the clip whose leg poses say where each foot should be (the next segment with its root
 * offset, unblended: frames ≥ `b`); `out` frames before `start` are the previous segment's own (from
 * `prevStart`) and give each foot's starting state and gait cycle. `settle` is the frame from which the
 * root offset is constant; `limit` is the last frame the steps may use (before the next seam's blend).
 * Legs of frames [start, returned `to`) are rewritten in `out`. Returns the frames touched.
 */
export function stepAcrossSeam(
  s: Skeleton,
  map: HumanoidMap,
  out: Clip,
  home: Clip,
  start: number,
  b: number,
  settle: number,
  limit: number,
  prevStart = 0,
  feetModel?: FootModel,
): SeamSteps {
  const J = s.names.length;
  const fps = out.fps;
  const first = Math.max(2, start);
  const last = Math.min(limit, out.numFrames - 1);
  if (first >= last || b > last) return { from: first, to: first, steps: 0 };
  const feet = feetModel ?? footModel(s, map);
  // World poses of both clips over the frames the plan reads: the previous gait's last cycle before
  // `first`, and a little past `last` (landings look ahead), into scratch shared by every seam.
  const w0 = Math.max(0, first - 50);
  const F = Math.min(out.numFrames, last + 49); // one past the last frame posed; every read clamps below
  const size = out.numFrames * J;
  if (scratch.P.length < size * 3) scratch = { P: new Float64Array(size * 3), R: new Float64Array(size * 4), HP: new Float64Array(size * 3), HR: new Float64Array(size * 4) };
  const { P: Pout, R: Rout, HP, HR } = scratch;
  const P = Pout, R = Rout;
  poseWindow(s, out, w0, F, P, R);
  poseWindow(s, home, w0, F, HP, HR);
  const rest = restPositions(s);
  const tracks: FootTrack[] = [map.left, map.right].map((side, i) => ({
    side,
    chain: { upper: side.upperLeg, mid: side.lowerLeg, end: side.foot },
    points: feet.sides[i],
    toe: side.toe ?? -1,
    pos: [0, 0, 0],
    rot: [0, 0, 0, 1],
    toeRot: [0, 0, 0, 1],
    planted: true,
    final: false,
    landedAt: first - 1 - DOUBLE_SUPPORT,
    swing: null,
  }));
  const legLength = (side: HumanoidSide): number => {
    const d = (a: number, c: number) => hypot3(rest[a * 3] - rest[c * 3], rest[a * 3 + 1] - rest[c * 3 + 1], rest[a * 3 + 2] - rest[c * 3 + 2]);
    return d(side.upperLeg, side.lowerLeg) + d(side.lowerLeg, side.foot);
  };
  const ankleRestHeight = (side: HumanoidSide): number => rest[side.foot * 3 + 1] - feet.floor;
  const v3 = (a: Float64Array, f: number, j: number): Vec3 => [a[(f * J + j) * 3], a[(f * J + j) * 3 + 1], a[(f * J + j) * 3 + 2]];
  const root = map.hips;
  // Where foot `t` belongs at frame f: the home clip's ankle (before b, carried back with the hips).
  const homeAt = (t: FootTrack, f: number): Vec3 => {
    const g = Math.min(Math.max(f, b), F - 1);
    const a = v3(HP, g, t.side.foot);
    if (f < b) {
      const h0 = v3(P, Math.max(0, f), root), h1 = v3(HP, b, root);
      a[0] += h0[0] - h1[0];
      a[2] += h0[2] - h1[2];
    }
    return a;
  };
  const homeRot = (t: FootTrack, f: number): Quat => qget(HR, Math.min(Math.max(f, b), F - 1) * J + t.side.foot);
  const homeToe = (t: FootTrack, f: number): Quat => (t.toe >= 0 ? qget(home.rotations, Math.min(Math.max(f, b), F - 1) * J + t.toe) : [0, 0, 0, 1]);
  // Horizontal reach of a leg from the hip joint at frame f.
  const reach = (t: FootTrack, f: number): number => {
    const hip = P[(f * J + t.side.upperLeg) * 3 + 1] - feet.floor;
    const L = 0.97 * legLength(t.side);
    const h = hip - ankleRestHeight(t.side);
    return Math.max(0.08, Math.sqrt(Math.max(0, L * L - h * h)));
  };
  const speedAt = (f: number): number => {
    const g = Math.min(Math.max(f, 1), F - 1);
    return hypot2(P[(g * J + root) * 3] - P[((g - 1) * J + root) * 3], P[(g * J + root) * 3 + 2] - P[((g - 1) * J + root) * 3 + 2]) * fps;
  };
  const swingFrames = (f: number): number => Math.max(4, Math.round(fps * Math.min(0.4, Math.max(0.2, 0.45 - 0.08 * speedAt(f)))));
  const minSole = (t: FootTrack, f: number): number => {
    let m = Infinity;
    for (const p of t.points) {
      const q = (f * J + p.joint) * 4, o = (f * J + p.joint) * 3;
      const v = qrotate([R[q], R[q + 1], R[q + 2], R[q + 3]], p.offset);
      m = Math.min(m, P[o + 1] + v[1] - feet.floor);
    }
    return m;
  };

  // A foot is down when one of its sole points is on the floor and still.
  const down = (t: FootTrack, f: number, P: Float64Array = Pout, R: Float64Array = Rout): boolean => {
    if (f < 1) return false;
    for (const p of t.points) {
      const q = (f * J + p.joint) * 4, o = (f * J + p.joint) * 3;
      const q0 = ((f - 1) * J + p.joint) * 4, o0 = ((f - 1) * J + p.joint) * 3;
      const v = qrotate([R[q], R[q + 1], R[q + 2], R[q + 3]], p.offset);
      const v0 = qrotate([R[q0], R[q0 + 1], R[q0 + 2], R[q0 + 3]], p.offset);
      const speed = hypot2(P[o] + v[0] - P[o0] - v0[0], P[o + 2] + v[2] - P[o0 + 2] - v0[2]) * fps;
      if (P[o + 1] + v[1] - feet.floor < 0.02 && speed < 0.3) return true;
    }
    return false;
  };
  // The previous segment's gait cycle, when it has one: the lag at which both feet repeat their
  // height and their place relative to the hips. Its next landing and lift are where and when the gait
  // would have put them.
  const c = first - 1;
  let cycle = 0;
  {
    let best = 0.1;
    for (let lag = 12; lag <= Math.min(45, c - prevStart - 1); lag++) {
      let err = 0;
      for (const t of tracks) {
        const a = v3(P, c, t.side.foot), a0 = v3(P, c - lag, t.side.foot);
        const h = v3(P, c, root), h0 = v3(P, c - lag, root);
        err += Math.abs(a[1] - a0[1]) + hypot2(a[0] - h[0] - a0[0] + h0[0], a[2] - h[2] - a0[2] + h0[2]);
      }
      if (err < best) { best = err; cycle = lag; }
    }
  }
  const naturalLift = [-1, -1];
  // The direction the hips travel relative to the home stance (null when they hardly do).
  let dir: [number, number] | null = null;
  {
    const g = Math.min(settle, F - 1);
    const h0 = v3(P, c, root), h1 = v3(P, g, root);
    const e0 = v3(HP, Math.max(b, c), root), e1 = v3(HP, g, root);
    const dx = h1[0] - h0[0] - (e1[0] - e0[0]), dz = h1[2] - h0[2] - (e1[2] - e0[2]);
    const d = hypot2(dx, dz);
    if (d > 0.05) dir = [dx / d, dz / d];
  }

  // What each foot showed in the last frame written (a step starts from the rolled foot).
  const shown: Array<{ pos: Vec3; rot: Quat; toe: Quat } | null> = [null, null];
  // Starting state from the two frames before `first`.
  for (const t of tracks) {
    const a = v3(P, first - 1, t.side.foot), a0 = v3(P, first - 2, t.side.foot);
    t.pos = a;
    t.rot = qget(R, (first - 1) * J + t.side.foot);
    t.toeRot = t.toe >= 0 ? qget(out.rotations, (first - 1) * J + t.toe) : [0, 0, 0, 1];
    const v: Vec3 = [a[0] - a0[0], a[1] - a0[1], a[2] - a0[2]];
    const ti = tracks.indexOf(t);
    if (cycle > 0) {
      // Where the gait goes next: the same foot one cycle ago.
      let g = c - cycle + 1;
      const isDown = down(t, c);
      while (g <= c && (isDown ? !(down(t, g - 1) && !down(t, g)) : !down(t, g))) g++;
      if (g <= c && isDown) naturalLift[ti] = g + cycle;
      if (g <= c && !isDown) {
        t.planted = false;
        // Where the hips will be relative to where they were one cycle before (the body is slowing down).
        const p1 = v3(P, g, t.side.foot);
        const h1 = v3(P, Math.min(g + cycle, F - 1), root), h0 = v3(P, g, root);
        p1[0] += h1[0] - h0[0];
        p1[2] += h1[2] - h0[2];
        // It lands flat, as the foot stands in the next segment.
        const rot = homeRot(t, g + cycle);
        const toe = homeToe(t, g + cycle);
        p1[1] = homeAt(t, g + cycle)[1];
        const f1 = Math.max(c + 3, g + cycle);
        // No further ahead of the hips than the leg reaches there.
        const hip = v3(P, Math.min(f1, F - 1), t.side.upperLeg);
        const cap = 0.8 * reach(t, Math.min(f1, F - 1));
        const dx = p1[0] - hip[0], dz = p1[2] - hip[2], d = hypot2(dx, dz);
        if (d > cap) { p1[0] = hip[0] + (dx * cap) / d; p1[2] = hip[2] + (dz * cap) / d; }
        const r = rolled(t, Math.min(f1, F - 1), p1, rot, toe);
        t.swing = { f0: c, f1, p0: t.pos.slice() as Vec3, v0: v, p1: r.pos, q0: t.rot, q1: r.rot, t0: t.toeRot, t1: r.toe, lift: 0, final: false, base: { pos: p1, rot, toe } };
        continue;
      }
      if (g <= c) continue;
    }
    if (!down(t, c)) {
      t.planted = false;
      const Ts = swingFrames(first);
      const height = minSole(t, first - 1);
      if (v[1] < -1e-3) {
        // Coming down: land about when it would have, a little short of where it was heading.
        const d = Math.max(3, Math.min(Ts, Math.round(height / -v[1]) + 2));
        const sw = makeSwing(t, first - 1, first - 1 + d, v, 0);
        sw.p1 = [t.pos[0] + v[0] * d * 0.6, homeAt(t, first - 1 + d)[1], t.pos[2] + v[2] * d * 0.6];
        sw.q1 = homeRot(t, first - 1 + d);
        sw.final = false;
        t.swing = sw;
      } else {
        t.swing = makeSwing(t, first - 1, first - 1 + Ts, v, STEP_LIFT);
      }
    }
  }

  // Where a step landing at f1 puts the foot: ahead of home by half the hips' travel during the stance that follows.
  function landing(t: FootTrack, f1: number): { p: Vec3; q: Quat; toe: Quat; final: boolean } {
    const stance = swingFrames(f1) + 2 * DOUBLE_SUPPORT;
    if (f1 + stance >= settle) {
      const g = Math.max(settle, f1);
      return { p: homeAt(t, g), q: homeRot(t, g), toe: homeToe(t, g), final: true };
    }
    const h = homeAt(t, f1);
    const later = homeAt(t, f1 + stance);
    let dx = (later[0] - h[0]) / 2, dz = (later[2] - h[2]) / 2;
    const cap = REACH_USE * reach(t, f1);
    const d = hypot2(dx, dz);
    if (d > cap) { dx *= cap / d; dz *= cap / d; }
    return { p: [h[0] + dx, h[1], h[2] + dz], q: homeRot(t, f1), toe: homeToe(t, f1), final: false };
  }
  function makeSwing(t: FootTrack, f0: number, f1: number, v0: Vec3, lift: number): Swing {
    const l = landing(t, f1);
    const from = shown[tracks.indexOf(t)];
    if (from && f0 >= first) { t.pos = from.pos; t.rot = from.rot; t.toeRot = from.toe; }
    // It comes down as it will stand there (on its heel, when the spot is ahead of the reach).
    const base = { pos: l.p, rot: l.q, toe: l.toe };
    const r = rolled(t, Math.min(f1, F - 1), l.p, l.q, l.toe);
    l.p = r.pos; l.q = r.rot; l.toe = r.toe;
    // A short step (squaring up) lifts the foot less.
    const h = Math.min(lift, 0.035 + 0.2 * hypot2(l.p[0] - t.pos[0], l.p[2] - t.pos[2]));
    return { f0, f1, p0: t.pos.slice() as Vec3, v0, p1: l.p, q0: t.rot, q1: l.q, t0: t.toeRot, t1: l.toe, lift: lift > 0 ? h : 0, final: l.final, base };
  }

  // A planted foot the hips have moved away from rolls onto its ball (heel up) to stay reachable; a
  // foot ahead of the hips rocks back onto its heel instead, toes up. Writes the rolled pose.
  function rolled(t: FootTrack, f: number, pos: Vec3, rot: Quat, toe: Quat): { pos: Vec3; rot: Quat; toe: Quat } {
    const hip = v3(P, f, t.side.upperLeg);
    const g = Math.min(Math.max(f, b), F - 1);
    const hh = v3(HP, g, t.side.upperLeg), ha = v3(HP, g, t.side.foot);
    const L = Math.max(0.985 * legLength(t.side), hypot3(ha[0] - hh[0], ha[1] - hh[1], ha[2] - hh[2]) + 0.002);
    if (hypot3(pos[0] - hip[0], pos[1] - hip[1], pos[2] - hip[2]) <= L) return { pos, rot, toe };
    const fwd = qrotate(qget(out.rotations, f * J), [0, 0, 1]);
    const ahead = (pos[0] - hip[0]) * fwd[0] + (pos[2] - hip[2]) * fwd[2] > 0;
    const pivotOff = t.points[ahead ? 0 : 1].offset;
    const po = qrotate(rot, pivotOff);
    const pivot: Vec3 = [pos[0] + po[0], pos[1] + po[1], pos[2] + po[2]];
    const axis = qrotate(rot, [1, 0, 0]);
    const toeWorld = qmul(rot, toe);
    const at = (deg: number): { pos: Vec3; rot: Quat } => {
      const a = ((ahead ? -deg : deg) * Math.PI) / 360;
      const sa = Math.sin(a);
      const r2 = qmul([axis[0] * sa, axis[1] * sa, axis[2] * sa, Math.cos(a)], rot);
      const o2 = qrotate(r2, pivotOff);
      return { pos: [pivot[0] - o2[0], pivot[1] - o2[1], pivot[2] - o2[2]], rot: r2 };
    };
    // The smallest roll that brings the ankle within reach (bisection; at most MAX_ROLL degrees).
    let lo = 0, hi = MAX_ROLL;
    for (let it = 0; it < 12; it++) {
      const mid = (lo + hi) / 2;
      const r = at(mid).pos;
      if (hypot3(r[0] - hip[0], r[1] - hip[1], r[2] - hip[2]) <= L) hi = mid; else lo = mid;
    }
    const r = at(hi);
    return { pos: r.pos, rot: r.rot, toe: t.toe >= 0 ? qmul(qinvert(r.rot), toeWorld) : toe };
  }

  // Targets per frame and foot.
  const n = last - first + 1;
  const tPos = new Float64Array(n * 2 * 3), tRot = new Float64Array(n * 2 * 4), tToe = new Float64Array(n * 2 * 4);
  const tDown = new Uint8Array(n * 2);
  let steps = 0;
  // Per foot: the frame from which it is handed back to the home clip's legs, and over how many frames.
  const doneAt = [-1, -1];
  const handBack = [HAND_BACK, HAND_BACK];
  const homeDown = (t: FootTrack, f: number): boolean => down(t, Math.min(Math.max(f, b + 1), F - 1), HP, HR);
  /** First frame after `f` where the home foot is down again (or -1 within the frames). */
  const homeLands = (t: FootTrack, f: number): number => {
    for (let g = f + 1; g <= last; g++) if (homeDown(t, g)) return g;
    return -1;
  };
  let end = last + 1; // one past the last frame placed
  for (let f = first; f <= last; f++) {
    for (let i = 0; i < 2; i++) {
      const t = tracks[i];
      const sw = t.swing;
      if (sw && f >= sw.f1) {
        t.pos = sw.follow ? homeAt(t, sw.f1) : sw.base?.pos ?? sw.p1;
        t.rot = sw.follow ? homeRot(t, sw.f1) : sw.base?.rot ?? sw.q1;
        t.toeRot = sw.follow ? homeToe(t, sw.f1) : sw.base?.toe ?? sw.t1;
        t.planted = true; t.final = sw.final; t.landedAt = sw.f1; t.swing = null;
        steps++;
        if (sw.follow) { doneAt[i] = f; handBack[i] = 0; }
      }
    }
    for (let i = 0; i < 2; i++) {
      const t = tracks[i];
      if (!t.planted || t.swing || t.final || doneAt[i] >= 0) continue;
      // The home clip's own step, once the root offset has settled: the foot joins it in the air.
      if (f > b && f >= settle && homeDown(t, f - 1) && !homeDown(t, f)) {
        const land = homeLands(t, f);
        if (land > 0 && land <= last - 1) {
          t.planted = false;
          t.swing = { f0: f - 1, f1: land, p0: t.pos.slice() as Vec3, v0: [0, 0, 0], p1: t.pos, q0: t.rot, q1: t.rot, t0: t.toeRot, t1: t.toeRot, lift: 0, final: true, follow: true };
          continue;
        }
      }
      // The gait's own next lift, whatever the other foot does (a run has flight).
      if (naturalLift[i] === f && f + swingFrames(f) <= last - HAND_BACK) {
        t.planted = false;
        t.swing = makeSwing(t, f - 1, f - 1 + swingFrames(f), [0, 0, 0], STEP_LIFT);
      }
    }
    // A foot the hips have left a whole reach behind steps even while the other is in the air (the
    // flight of a run being brought to rest).
    for (let i = 0; i < 2; i++) {
      const t = tracks[i], o = tracks[1 - i];
      if (!o.swing || !t.planted || t.swing || t.final || doneAt[i] >= 0 || !dir || f - t.landedAt < MIN_STANCE) continue;
      const Ts = swingFrames(f);
      if (f + Ts > last - HAND_BACK) continue;
      const h = homeAt(t, f + (Ts >> 1));
      if ((h[0] - t.pos[0]) * dir[0] + (h[2] - t.pos[2]) * dir[1] > REACH_USE * reach(t, f)) {
        t.planted = false;
        t.swing = makeSwing(t, f - 1, f - 1 + Ts, [0, 0, 0], STEP_LIFT);
      }
    }
    // Lift a foot when the hips are about to leave it behind (one foot in the air at a time): of the
    // feet that need a step, the one furthest from where it belongs.
    if (tracks.every((t) => t.planted && !t.swing)) {
      const Ts = swingFrames(f);
      let pick = -1, worst = -Infinity;
      for (let i = 0; i < 2; i++) {
        const t = tracks[i], o = tracks[1 - i];
        if (t.final || doneAt[i] >= 0 || f - o.landedAt < DOUBLE_SUPPORT || f - t.landedAt < MIN_STANCE || f + Ts > last - HAND_BACK) continue;
        const h = homeAt(t, f + (Ts >> 1));
        const behind = dir ? (h[0] - t.pos[0]) * dir[0] + (h[2] - t.pos[2]) * dir[1] : 0;
        const fh = homeAt(t, Math.max(settle, f));
        const off = hypot2(fh[0] - t.pos[0], fh[2] - t.pos[2]);
        // Settled: step onto the home spot, unless the home clip steps this foot soon itself.
        let homeStepsSoon = false;
        if (f >= settle) for (let g = f; g <= Math.min(last, f + 2 * Ts) && !homeStepsSoon; g++) homeStepsSoon = !homeDown(t, g);
        const need = behind > 0.5 * REACH_USE * reach(t, f) || (o.final && !homeStepsSoon) || (f >= settle && off > SQUARE_UP && !homeStepsSoon);
        if (need && behind > worst) { worst = behind; pick = i; }
        else if (!need && f >= settle && off <= SQUARE_UP && !homeStepsSoon && (o.final || doneAt[1 - i] >= 0)) t.final = true;
      }
      if (pick >= 0) {
        const t = tracks[pick];
        t.planted = false;
        t.swing = makeSwing(t, f - 1, f - 1 + Ts, [0, 0, 0], STEP_LIFT);
      }
    }
    for (let i = 0; i < 2; i++) {
      const t = tracks[i];
      // Handed back once the offset has settled (the home stance still moves with it before).
      if (doneAt[i] < 0 && t.final && t.planted && !t.swing && f >= settle) doneAt[i] = f;
      // Out of frames: hand back whatever the foot reached (the segment ends before the body settled).
      if (doneAt[i] < 0 && f >= last - HAND_BACK && !t.swing) doneAt[i] = f;
    }
    const k = f - first;
    for (let i = 0; i < 2; i++) {
      const t = tracks[i];
      const o3 = (k * 2 + i) * 3;
      if (t.swing && t.swing.follow) {
        // Joining the home clip's step: its swing, with the distance to the old spot fading out.
        const sw = t.swing;
        const w = 1 - smoothstep((f - sw.f0) / (sw.f1 - sw.f0));
        const h = homeAt(t, f), h0 = homeAt(t, sw.f0);
        for (let c = 0; c < 3; c++) tPos[o3 + c] = h[c] + (sw.p0[c] - h0[c]) * w;
        qset(tRot, k * 2 + i, qslerp(homeRot(t, f), sw.q0, w));
        qset(tToe, k * 2 + i, qslerp(homeToe(t, f), sw.t0, w));
      } else if (t.swing) {
        const sw = t.swing;
        const d = sw.f1 - sw.f0;
        const u = (f - sw.f0) / d;
        // The foot travels in the first part of the swing and comes down vertically onto its spot.
        // A fresh step lifts before it travels; a continuing swing travels at once.
        const moving = sw.v0[0] !== 0 || sw.v0[2] !== 0;
        const u0 = moving ? 0 : LIFT_FIRST, u1 = moving && d <= 4 ? LAND_VERTICAL_MOVING : LAND_VERTICAL;
        for (let c = 0; c < 3; c++) {
          const x = c === 1 ? u : Math.min(1, Math.max(0, (u - u0) / (u1 - u0))), dd = c === 1 ? d : d * (u1 - u0);
          const h00 = 2 * x * x * x - 3 * x * x + 1, h10 = x * x * x - 2 * x * x + x, h01 = -2 * x * x * x + 3 * x * x;
          tPos[o3 + c] = h00 * sw.p0[c] + h10 * sw.v0[c] * dd + h01 * sw.p1[c];
        }
        tPos[o3 + 1] += 16 * sw.lift * u * u * (1 - u) * (1 - u);
        // The foot turns to its landing orientation while it travels, so it comes down as it will stand.
        const w = smoothstep((u - u0) / (u1 - u0));
        qset(tRot, (k * 2 + i), qslerp(sw.q0, sw.q1, w));
        qset(tToe, (k * 2 + i), qslerp(sw.t0, sw.t1, w));
      } else {
        tDown[k * 2 + i] = 1;
        const r = doneAt[i] >= 0 && f > doneAt[i] ? { pos: t.pos, rot: t.rot, toe: t.toeRot } : rolled(t, f, t.pos, t.rot, t.toeRot);
        tPos.set(r.pos, o3);
        qset(tRot, (k * 2 + i), r.rot);
        qset(tToe, (k * 2 + i), r.toe);
      }
      shown[i] = { pos: [tPos[o3], tPos[o3 + 1], tPos[o3 + 2]], rot: qget(tRot, k * 2 + i), toe: qget(tToe, k * 2 + i) };
    }
    if (doneAt[0] >= 0 && doneAt[1] >= 0 && f >= Math.max(doneAt[0] + handBack[0], doneAt[1] + handBack[1])) { end = f + 1; break; }
  }

  // Place the legs: each foot handed back to the home clip's own leg over its hand-back frames.
  const target: Vec3 = [0, 0, 0];
  for (let f = first; f < end; f++) {
    const k = f - first;
    const rootPos = out.rootPositions.subarray(f * 3, f * 3 + 3);
    const fwd = qrotate(qget(out.rotations, f * J), [0, 0, 1]);
    const pole: Vec3 = [fwd[0], 0, fwd[2]];
    for (let i = 0; i < 2; i++) {
      const t = tracks[i];
      const w = doneAt[i] >= 0 && f > doneAt[i] ? (handBack[i] > 0 ? Math.max(0, 1 - (f - doneAt[i]) / handBack[i]) : 0) : 1;
      if (w === 0) {
        // Handed back: the home clip's own leg.
        for (const j of [t.side.upperLeg, t.side.lowerLeg, t.side.foot, ...(t.toe >= 0 ? [t.toe] : [])]) {
          qset(out.rotations, f * J + j, qget(home.rotations, f * J + j));
        }
        continue;
      }
      const o3 = (k * 2 + i) * 3;
      let rot = qget(tRot, k * 2 + i);
      let toe = qget(tToe, k * 2 + i);
      for (let c = 0; c < 3; c++) target[c] = tPos[o3 + c];
      if (w < 1) {
        const g = Math.min(f, F - 1);
        const hp = v3(HP, g, t.side.foot);
        for (let c = 0; c < 3; c++) target[c] = hp[c] + (target[c] - hp[c]) * smoothstep(w);
        rot = qslerp(qget(HR, g * J + t.side.foot), rot, smoothstep(w));
        toe = qslerp(homeToe(t, g), toe, smoothstep(w));
      }
      // Never a sole point under the floor: raise the ankle by the deepest point's depth.
      let low = Infinity;
      const toePos = t.toe >= 0 ? qrotate(rot, s.offsets.subarray(t.toe * 3, t.toe * 3 + 3)) : null;
      const toeWorld = t.toe >= 0 ? qmul(rot, toe) : rot;
      for (const p of t.points) {
        let y = target[1];
        if (p.joint === t.toe && toePos) y += toePos[1] + qrotate(toeWorld, p.offset)[1];
        else y += qrotate(rot, p.offset)[1];
        low = Math.min(low, y - feet.floor);
      }
      if (low < 0) target[1] -= low;
      solveTwoBone(s, out.rotations, f * J, rootPos, t.chain, target, { poleHint: pole, endWorldRotation: rot, hinge: KNEE });
      if (t.toe >= 0) qset(out.rotations, f * J + t.toe, toe);
    }
  }
  return { from: first, to: end, steps };
}
