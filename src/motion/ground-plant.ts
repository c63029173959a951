/**
 * The ground_height constraint (MMCP 1.3) applied to a clip on its own skeleton: the motion, made for a
 * flat floor, carried onto the ground of ./ground.ts without changing when the feet are down.
 *
 * - **Planted feet** (a foot with any sole point down, ./plant.ts soleContacts on the input) move
 *   rigidly, for their whole contact run, by one offset: up or down by the highest ground under the
 *   points that are down (so no drift, and none of them under the ground). A foot that would stand
 *   across a step's edge (the ground under its planted points differs by more than LEVEL_TOLERANCE), or
 *   with higher ground within EDGE_CLEARANCE ahead of its toes or behind its heel, is first moved along
 *   itself by the shortest distance that clears it (a person does not stand half on a step, nor toe it).
 * - **Swing feet** move between their take-off and landing offsets (smoothstep, so a foot leaves and
 *   meets the ground as the input does), lifted where the ground under them is higher than that path
 *   (a step's edge passed mid-swing) by a bump of bounded vertical speed, the swing's horizontal travel
 *   re-timed where that is not enough (out over a drop, then down; up, then over a step): the foot stays
 *   at least as high above the highest ground under it as it was above the floor. A foot long in the air
 *   follows the ground under it.
 * - **The root** rises and sinks by the stance-weighted offset of the feet on the ground, smoothed
 *   (Gaussian), never higher than lets every leg reach its foot (a step down lowers the body before the
 *   leading foot lands, as a person bends the standing knee; a heel-up foot may pitch on its toes for
 *   it) nor so low that a leg folds past FOLD, and with bounded changes of vertical speed where those
 *   bounds start and stop binding.
 * - **The legs** are re-solved where anything moved, by the hinged two-bone IK (knees bend about their
 *   hinge, within KNEE's range, towards where the input's thigh points), each foot keeping its world
 *   rotation (or, heel up, pitched about its toes to reach a raised hip) and the toes theirs.
 *
 * Heights are read relative to the rig's floor (the foot model's): ground at height 0 is the floor the
 * motion was made on, so a flat profile at 0 leaves the clip exactly as it is. Slopes are followed by
 * height only: a foot on a ramp is not pitched to it (its highest planted point decides its height).
 * A drop of more than about half the leg's length is stepped down fast, with a hard landing.
 */
import type { Clip, Skeleton } from '../spec/motion.js';
import { bodyForward, cloneClip } from './cleanup.js';
import { footModel, footPointAt, type FootModel } from './foot.js';
import { groundAtProfiles, groundHeightAtProfiles } from './ground.js';
import type { HumanoidMap } from './humanoid.js';
import { hingeReach, solveTwoBone } from './ik.js';
import { KNEE } from './limits.js';
import { legPose, soleContacts, type LegPose, type SoleContacts } from './plant.js';
import { qaxisAngle, qget, qinv, qmul, qrotate, qset, smoothstep, type Quat, type Vec3 } from './quat.js';
import { restPositions } from './skeleton.js';

/** The ground: one profile per ground_height constraint, n × [x, z, height] (./ground.ts). */
export type GroundProfiles = readonly ArrayLike<number>[];

const SIDES = ['left', 'right'] as const;

/** Planted points whose ground differs by more than this (m) stand across an edge: the foot moves to level ground. */
const LEVEL_TOLERANCE = 0.01;
/**
 * Ground higher than the planted foot this close (m) ahead of its toe tip or behind its heel moves the foot
 * away from the edge: the foot leaving (or landing) there would pass through the edge in its first (last)
 * frames of swing, before it can rise (after it came down).
 */
const EDGE_CLEARANCE = 0.15;
/** Farthest a planted foot moves along itself to level ground (fraction of its length), and the search's step (m). */
const MAX_NUDGE = 0.8;
const NUDGE_STEP = 0.005;
/**
 * Fastest vertical speeds (m/s) of a swing foot's lift over ground higher than its path: rising (after
 * take-off, towards the high ground) and coming down (onto a landing below it: a foot stepping off a
 * ledge drops, about √(2g·h) for a drop of h).
 */
const RISE_SPEED = 2;
const DROP_SPEED = 4;
/** Gaussian sigma (s) of the root's height offset. */
const ROOT_SIGMA_S = 0.12;
/** The root's offset keeps each hip within this fraction of the leg's hinge reach of its ankle (or the input's own reach, if longer). */
const REACH = 0.97;

/** The knee's flexion (radians) the root's offset stops folding a leg at (KNEE allows 150°). */
const FOLD = (140 * Math.PI) / 180;
/** How much of a heel-up foot's pivot-to-ankle length the root's bound counts on its pitch to gain (the rest is margin). */
const PIVOT_REACH = 0.7;
/** Largest pitch (radians) a heel-up foot takes to reach a raised hip. */
const MAX_PITCH = (60 * Math.PI) / 180;
/** Reach slack (m) a swing leg's bound on the root gains per frame away from its nearest stance. */
const SWING_SLACK = 0.015;
/** Largest change of the root offset's vertical speed (m/s²) where the legs' bounds start or stop binding. */
const ROOT_ACCELERATION = 6;
/** Largest slowing of the root offset's descent (m/s²) onto a landing below a drop: the legs absorb it. */
const LANDING_DECELERATION = 20;
/** Rounds of smoothing and re-bounding the root's offset (together as wide as one Gaussian of ROOT_SIGMA_S). */
const SMOOTHING_PASSES = 6;

/** Per foot, per frame, its offset (dx, dy, dz; F×3). */
type FootOffsets = [Float64Array, Float64Array];

export interface GroundPlant {
  clip: Clip;
  /** The sole contacts of the input, which the feet were planted by (and the residuals are measured on). */
  contacts: SoleContacts;
}

/** Carries `clip` onto the ground (see the module comment). Returns a new clip and the contacts it planted. */
export function applyGroundHeight(s: Skeleton, map: HumanoidMap, clip: Clip, profiles: GroundProfiles): GroundPlant {
  const out = cloneClip(clip);
  const F = clip.numFrames;
  const fm = footModel(s, map);
  const pose = legPose(s, map, clip);
  const contacts = soleContacts(s, map, clip, pose, fm);
  if (F === 0 || profiles.length === 0) return { clip: out, contacts };
  const tracks = [0, 1].map((k) => soleTracks(s, fm, pose, F, k));
  const offsets: FootOffsets = [0, 1].map((k) => footOffsets(fm, tracks[k], contacts[k], F, clip.fps, k, profiles)) as FootOffsets;
  const pivots = [0, 1].map((k) => pivotsOf(s, map, fm, pose, contacts[k], F, k)) as [Float64Array, Float64Array];
  const root = rootOffsets(s, map, pose, contacts, offsets, pivots, F, clip.fps);
  solveLegs(s, map, clip, pose, out, offsets, pivots, root);
  return { clip: out, contacts };
}

/** World tracks of one foot's sole points (heel, ball, toe): (i·F + f)·3. */
function soleTracks(s: Skeleton, fm: FootModel, pose: LegPose, F: number, k: number): Float64Array {
  const J = s.names.length;
  const t = new Float64Array(3 * F * 3);
  for (let i = 0; i < 3; i++) for (let f = 0; f < F; f++) footPointAt(fm.sides[k][i], J, pose.positions, pose.rotations, f, t, (i * F + f) * 3);
  return t;
}

/** Inclusive runs of frames where `on` is set. */
function runsOf(on: Uint8Array): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  for (let f = 0; f < on.length; f++) {
    if (!on[f]) continue;
    let b = f;
    while (b + 1 < on.length && on[b + 1]) b++;
    runs.push([f, b]);
    f = b;
  }
  return runs;
}

/** Whether the foot has any sole point down, per frame. */
function stanceOf(down: readonly Uint8Array[], F: number): Uint8Array {
  const st = new Uint8Array(F);
  for (let f = 0; f < F; f++) st[f] = down[0][f] | down[1][f] | down[2][f];
  return st;
}

/** Highest ground under the foot's three sole points at frame f, moved by (dx, dz). */
function groundUnder(profiles: GroundProfiles, track: Float64Array, F: number, f: number, dx: number, dz: number): number {
  let h = -Infinity;
  for (let i = 0; i < 3; i++) {
    const o = (i * F + f) * 3;
    h = Math.max(h, groundHeightAtProfiles(profiles, track[o] + dx, track[o + 2] + dz));
  }
  return h;
}

/**
 * One planted run's offset: the shortest move along the foot (heel → toe tip, horizontal) that puts its
 * planted points on level ground, and the highest ground under them there.
 */
function stanceOffset(profiles: GroundProfiles, track: Float64Array, down: readonly Uint8Array[], F: number, a: number, b: number, length: number): Vec3 {
  const m = (a + b) >> 1;
  let fx = track[(2 * F + m) * 3] - track[m * 3], fz = track[(2 * F + m) * 3 + 2] - track[m * 3 + 2];
  const l = Math.hypot(fx, fz);
  if (l > 1e-6) { fx /= l; fz /= l; } else { fx = 0; fz = 1; }
  let best: Vec3 = [0, 0, 0];
  let bestSpread = Infinity;
  const steps = Math.floor((MAX_NUDGE * length) / NUDGE_STEP);
  for (let n = 0; n <= steps; n++) {
    for (const sign of n === 0 ? [1] : [1, -1]) {
      const d = sign * n * NUDGE_STEP;
      let lo = Infinity, hi = -Infinity;
      for (let i = 0; i < 3; i++) {
        for (let f = a; f <= b; f++) {
          if (!down[i][f]) continue;
          const o = (i * F + f) * 3;
          const h = groundHeightAtProfiles(profiles, track[o] + d * fx, track[o + 2] + d * fz);
          if (h < lo) lo = h;
          if (h > hi) hi = h;
        }
      }
      if (hi - lo < bestSpread) {
        bestSpread = hi - lo;
        best = [d * fx, hi, d * fz];
      }
      if (hi - lo <= LEVEL_TOLERANCE && clearOfEdges(profiles, track, F, m, d * fx, d * fz, fx, fz, hi + LEVEL_TOLERANCE)) return [d * fx, hi, d * fz];
    }
  }
  return best;
}

/** Whether the ground EDGE_CLEARANCE ahead of the toe tip and behind the heel (frame m, moved by dx, dz) is no higher than `top`. */
function clearOfEdges(profiles: GroundProfiles, track: Float64Array, F: number, m: number, dx: number, dz: number, fx: number, fz: number, top: number): boolean {
  const heel = m * 3, toe = (2 * F + m) * 3;
  for (let t = 0; t <= EDGE_CLEARANCE + 1e-9; t += EDGE_CLEARANCE / 4) {
    if (groundHeightAtProfiles(profiles, track[toe] + dx + fx * t, track[toe + 2] + dz + fz * t) > top) return false;
    if (groundHeightAtProfiles(profiles, track[heel] + dx - fx * t, track[heel + 2] + dz - fz * t) > top) return false;
  }
  return true;
}

/** One foot's offset per frame: constant over each planted run, carried between runs over the swing. */
function footOffsets(fm: FootModel, track: Float64Array, down: readonly Uint8Array[], F: number, fps: number, k: number, profiles: GroundProfiles): Float64Array {
  const off = new Float64Array(F * 3);
  const stance = stanceOf(down, F);
  const runs = runsOf(stance);
  for (const [a, b] of runs) {
    const o = stanceOffset(profiles, track, down, F, a, b, fm.length[k]);
    for (let f = a; f <= b; f++) off.set(o, f * 3);
  }
  for (let f = 0; f < F; f++) {
    if (stance[f]) continue;
    let b = f;
    while (b + 1 < F && !stance[b + 1]) b++;
    // The swing [f, b] between the offsets at f − 1 and b + 1; an end of the clip in the air takes the
    // ground under the foot there (with the nudge of the run on the other side, if any).
    const next: Vec3 | null = b + 1 < F ? [off[(b + 1) * 3], off[(b + 1) * 3 + 1], off[(b + 1) * 3 + 2]] : null;
    const prev: Vec3 | null = f > 0 ? [off[(f - 1) * 3], off[(f - 1) * 3 + 1], off[(f - 1) * 3 + 2]] : null;
    const A: Vec3 = prev ?? [next?.[0] ?? 0, 0, next?.[2] ?? 0];
    if (!prev) A[1] = groundUnder(profiles, track, F, 0, A[0], A[2]);
    const B: Vec3 = next ?? [A[0], 0, A[2]];
    if (!next) B[1] = groundUnder(profiles, track, F, F - 1, B[0], B[2]);
    planSwing(profiles, track, F, fps, f, b, A, B, RISE_SPEED / fps, DROP_SPEED / fps, prev !== null && next !== null, off);
    f = b;
  }
  return off;
}

/** A foot this long in the air (s) follows the ground under it (smoothed by FOLLOW_SIGMA_S, s) instead of blending between its ends. */
const LONG_SWING_S = 1.2;
const FOLLOW_SIGMA_S = 0.1;
/** Timing warps of a swing's horizontal travel tried in turn (see planSwing): none, then ever more lead (> 0) or lag (< 0). */
const WARPS = [0, 0.25, -0.25, 0.5, -0.5, 0.75, -0.75, 1, -1];
/** A swing whose lift leaves the foot this far (m) under the ground somewhere takes the next warp. */
const SWING_DEFICIT = 0.005;

/**
 * The offsets of one swing, frames [f, b] between the offsets A (at f − 1) and B (at b + 1), into `off`:
 * smoothstep from A to B, plus the lift over ground higher than that (the largest need, spread at `rise`
 * m/frame before it and `drop` after, zero at both ends so the swing meets its stances). Where that lift cannot keep the
 * foot over the ground (a foot landing just past a drop's edge would have to fall its height in a frame
 * or two; one taking off just before a step up, to rise it), the foot's horizontal travel is re-timed,
 * the least that works: τ(u) = u + |w|·(e(u) − u), leading with e(u) = 1 − (1 − u)³ (w > 0: out over
 * the drop, then down onto it) or lagging with e(u) = u³ (w < 0: up, then over the step). `warp` false
 * (a swing at an end of the clip) keeps the input's timing. A swing longer than LONG_SWING_S takes
 * the ground under the foot (smoothed) for its path instead, blended from and to its ends.
 */
function planSwing(profiles: GroundProfiles, track: Float64Array, F: number, fps: number, f: number, b: number, A: Vec3, B: Vec3, rise: number, drop: number, warp: boolean, off: Float64Array): void {
  const a0 = f - 1, b1 = b + 1, n = b - f + 1;
  const need = new Float64Array(n);
  const cand = new Float64Array(n * 3);
  let best: Float64Array | null = null, bestDeficit = Infinity;
  // A long time in the air (a foot the input never holds still, a gliding or sliding motion) follows the
  // ground under it, smoothed, rather than one blend between its ends; eased in and out at the ends.
  const long = b1 - a0 > LONG_SWING_S * fps;
  let follow: Float64Array | null = null;
  if (long) {
    const raw = new Float64Array(n);
    for (let g = f; g <= b; g++) {
      const t = smoothstep((g - a0) / (b1 - a0));
      raw[g - f] = groundUnder(profiles, track, F, g, A[0] + (B[0] - A[0]) * t, A[2] + (B[2] - A[2]) * t);
    }
    const sigma = Math.max(1, FOLLOW_SIGMA_S * fps);
    follow = gaussian(raw, sigma, Math.ceil(2.5 * sigma));
  }
  const ramp = Math.max(1, LONG_SWING_S * fps * 0.3);
  for (const w of warp && !long ? WARPS : [0]) {
    for (let g = f; g <= b; g++) {
      const u = (g - a0) / (b1 - a0);
      const t = smoothstep(u);
      let dx = A[0] + (B[0] - A[0]) * t, dz = A[2] + (B[2] - A[2]) * t;
      if (w !== 0) {
        // The ball's place at the warped time, relative to its own place now.
        const e = w > 0 ? 1 - (1 - u) ** 3 : u ** 3;
        const at = a0 + (u + Math.abs(w) * (e - u)) * (b1 - a0);
        const g0 = Math.min(F - 2, Math.max(0, Math.floor(at))), k = at - g0;
        const o0 = (F + g0) * 3, o1 = o0 + 3, og = (F + g) * 3;
        dx += track[o0] + (track[o1] - track[o0]) * k - track[og];
        dz += track[o0 + 2] + (track[o1 + 2] - track[o0 + 2]) * k - track[og + 2];
      }
      let y = A[1] + (B[1] - A[1]) * t;
      if (follow) {
        const k = smoothstep(Math.min(1, (g - a0) / ramp, (b1 - g) / ramp));
        y += (follow[g - f] - y) * k;
      }
      const c = (g - f) * 3;
      cand[c] = dx; cand[c + 1] = y; cand[c + 2] = dz;
      need[g - f] = Math.max(0, groundUnder(profiles, track, F, g, dx, dz) - y);
    }
    let deficit = 0;
    for (let g = f; g <= b; g++) {
      let bump = 0;
      for (let h = f; h <= b; h++) bump = Math.max(bump, need[h - f] - (g < h ? rise * (h - g) : drop * (g - h)));
      bump = Math.min(bump, rise * (g - a0), drop * (b1 - g));
      cand[(g - f) * 3 + 1] += bump;
      deficit = Math.max(deficit, need[g - f] - bump);
    }
    if (deficit < bestDeficit - 1e-9) {
      bestDeficit = deficit;
      best = cand.slice();
    }
    if (deficit <= SWING_DEFICIT) break;
  }
  off.set(best!, f * 3);
}

/** Gaussian smoothing of v (edges held), truncated at `radius` frames. */
function gaussian(v: Float64Array, sigma: number, radius: number): Float64Array {
  const F = v.length;
  const out = new Float64Array(F);
  const w = Array.from({ length: radius + 1 }, (_, d) => Math.exp(-(d * d) / (2 * sigma * sigma)));
  for (let f = 0; f < F; f++) {
    let sum = 0, wsum = 0;
    for (let d = -radius; d <= radius; d++) {
      const g = Math.min(F - 1, Math.max(0, f + d));
      sum += w[Math.abs(d)] * v[g];
      wsum += w[Math.abs(d)];
    }
    out[f] = sum / wsum;
  }
  return out;
}

/** The root's vertical offset per frame (see the module comment). */
function rootOffsets(s: Skeleton, map: HumanoidMap, pose: LegPose, contacts: SoleContacts, offsets: FootOffsets, pivots: [Float64Array, Float64Array], F: number, fps: number): Float64Array {
  const J = s.names.length;
  const stance = [stanceOf(contacts[0], F), stanceOf(contacts[1], F)];
  // Stance-weighted: the mean offset of the feet down; in flight, interpolated between the frames around it.
  const base = new Float64Array(F).fill(NaN);
  for (let f = 0; f < F; f++) {
    let sum = 0, n = 0;
    for (let k = 0; k < 2; k++) if (stance[k][f]) { sum += offsets[k][f * 3 + 1]; n++; }
    if (n) base[f] = sum / n;
  }
  let known = -1;
  for (let f = 0; f < F; f++) {
    if (Number.isNaN(base[f])) continue;
    if (known < 0) base.fill(base[f], 0, f);
    else for (let g = known + 1; g < f; g++) base[g] = base[known] + ((base[f] - base[known]) * (g - known)) / (f - known);
    known = f;
  }
  if (known < 0) for (let f = 0; f < F; f++) base[f] = (offsets[0][f * 3 + 1] + offsets[1][f * 3 + 1]) / 2;
  else base.fill(base[known], known + 1);
  const sigma = Math.max(1, ROOT_SIGMA_S * fps);
  const radius = Math.ceil(2.5 * sigma);
  const wanted = gaussian(base, sigma, radius);
  // The legs' bounds on the hip's height over each moved ankle: within reach (above), not folded past
  // FOLD (below). Where both cannot hold, reach wins (a foot on the ground over a swing foot's fold).
  const lo = new Float64Array(F).fill(-Infinity), hi = new Float64Array(F).fill(Infinity);
  const rest = restPositions(s);
  for (const [k, name] of SIDES.entries()) {
    const side = map[name];
    const reach = hingeReach(s, { upper: side.upperLeg, mid: side.lowerLeg, end: side.foot }, KNEE);
    const lab = distance(rest, side.upperLeg, side.lowerLeg), lbc = distance(rest, side.lowerLeg, side.foot);
    const folded = Math.sqrt(Math.max(0, lab * lab + lbc * lbc - 2 * lab * lbc * Math.cos(Math.PI - FOLD)));
    const P = pose.positions, off = offsets[k];
    const away = framesFromStance(stance[k]);
    for (let f = 0; f < F; f++) {
      const h = (f * J + side.upperLeg) * 3, a = (f * J + side.foot) * 3;
      const own = Math.hypot(P[a] - P[h], P[a + 1] - P[h + 1], P[a + 2] - P[h + 2]);
      // A swing foot short of its place for a moment is harmless (pulled towards the hip, off the
      // ground); one that must land is not: its reach binds more the nearer its stance.
      const R = Math.max(own, REACH * reach) + SWING_SLACK * away[f] + 1e-9;
      const r = Math.min(own, folded) - 1e-9;
      const dx = P[a] + off[f * 3] - P[h], dz = P[a + 2] + off[f * 3 + 2] - P[h + 2];
      const d2 = dx * dx + dz * dz;
      const dy = P[a + 1] + off[f * 3 + 1] - P[h + 1];
      let bound = dy + Math.sqrt(Math.max(0, R * R - d2));
      const v = pivots[k], pv = f * 3;
      if (!Number.isNaN(v[pv])) {
        // Heel up: the foot may pitch about its pivot (solveLegs), so the hip need only be within reach
        // of the pivot plus part of the pivot's distance to the ankle.
        const rp = R + PIVOT_REACH * Math.hypot(P[a] - v[pv], P[a + 1] - v[pv + 1], P[a + 2] - v[pv + 2]);
        const px = v[pv] + off[f * 3] - P[h], pz = v[pv + 2] + off[f * 3 + 2] - P[h + 2];
        bound = Math.max(bound, v[pv + 1] + off[f * 3 + 1] - P[h + 1] + Math.sqrt(Math.max(0, rp * rp - px * px - pz * pz)));
      }
      hi[f] = Math.min(hi[f], bound);
      if (r * r > d2) lo[f] = Math.max(lo[f], dy + Math.sqrt(r * r - d2));
    }
  }
  const clamp = (v: Float64Array): Float64Array => {
    for (let f = 0; f < F; f++) v[f] = Math.min(hi[f], Math.max(lo[f], v[f]));
    return v;
  };
  // Smoothing alternated with the bounds: smooth where they leave room, on them where they bind.
  let r = clamp(wanted);
  const pass = sigma / Math.sqrt(SMOOTHING_PASSES);
  for (let i = 0; i < SMOOTHING_PASSES; i++) r = clamp(gaussian(r, pass, Math.ceil(2.5 * pass)));
  // Where a reach bound stops binding, the offset would start rising in a frame (the hips shooting up
  // the moment the trailing foot leaves a step's foot), and where one starts binding a descent would
  // stop in a frame (the hips meeting a landing below a drop): rises speed up by at most
  // ROOT_ACCELERATION, descents slow down by at most LANDING_DECELERATION (the pass backward in time),
  // both by lowering the offset only, which no reach bound forbids; the fold bound is restored last.
  limitRise(r, ROOT_ACCELERATION / (fps * fps));
  r.reverse();
  limitRise(r, LANDING_DECELERATION / (fps * fps));
  r.reverse();
  // Rounded where the eased rise meets the offset it was under (smoothing a corner like that only lowers it).
  for (let i = 0; i < 2; i++) r = clamp(gaussian(r, pass, Math.ceil(2.5 * pass)));
  return r;
}

/** Lowers v (in place) where its per-frame rise exceeds the frame before's (or 0, after a descent) by more than `a`. */
function limitRise(v: Float64Array, a: number): void {
  for (let f = 2; f < v.length; f++) {
    const top = v[f - 1] + Math.max(0, v[f - 1] - v[f - 2]) + a;
    if (v[f] > top) v[f] = top;
  }
}

/** Per frame, how many frames it lies from the nearest frame of `stance` (0 on it; the clip's length without any). */
function framesFromStance(stance: Uint8Array): Float64Array {
  const F = stance.length;
  const d = new Float64Array(F).fill(F);
  for (let f = 0, last = -Infinity; f < F; f++) {
    if (stance[f]) last = f;
    d[f] = Math.min(d[f], f - last);
  }
  for (let f = F - 1, next = Infinity; f >= 0; f--) {
    if (stance[f]) next = f;
    d[f] = Math.min(d[f], next - f);
  }
  return d;
}

function distance(p: Float64Array, a: number, b: number): number {
  return Math.hypot(p[a * 3] - p[b * 3], p[a * 3 + 1] - p[b * 3 + 1], p[a * 3 + 2] - p[b * 3 + 2]);
}

/**
 * Where each foot may pitch (heel up) about, per frame (F×3; NaN: nowhere): while its heel is up and its
 * ball or toe tip is down, the toe joint (whose world rotation is kept, so the tip stays), or on a rig
 * without one the ball (else the toe tip) sole point. Positions of the input pose.
 */
function pivotsOf(s: Skeleton, map: HumanoidMap, fm: FootModel, pose: LegPose, down: readonly Uint8Array[], F: number, k: number): Float64Array {
  const J = s.names.length;
  const out = new Float64Array(F * 3).fill(NaN);
  const side = map[SIDES[k]];
  const toe = fm.sides[k][2].joint !== side.foot ? fm.sides[k][2].joint : -1;
  for (let f = 0; f < F; f++) {
    if (down[0][f] || !(down[1][f] || down[2][f])) continue;
    if (toe >= 0) out.set(pose.positions.subarray((f * J + toe) * 3, (f * J + toe) * 3 + 3), f * 3);
    else footPointAt(fm.sides[k][down[1][f] ? 1 : 2], J, pose.positions, pose.rotations, f, out, f * 3);
  }
  return out;
}

/** Moves the root and re-solves both legs onto their moved ankles, on every frame where something moved. */
function solveLegs(s: Skeleton, map: HumanoidMap, clip: Clip, pose: LegPose, out: Clip, offsets: FootOffsets, pivots: [Float64Array, Float64Array], root: Float64Array): void {
  const J = s.names.length;
  const F = clip.numFrames;
  const P = pose.positions;
  const reaches = SIDES.map((name) => hingeReach(s, { upper: map[name].upperLeg, mid: map[name].lowerLeg, end: map[name].foot }, KNEE));
  for (let f = 0; f < F; f++) {
    let moved = root[f] !== 0;
    for (let k = 0; k < 2 && !moved; k++) moved = offsets[k][f * 3] !== 0 || offsets[k][f * 3 + 1] !== 0 || offsets[k][f * 3 + 2] !== 0;
    if (!moved) continue;
    out.rootPositions[f * 3 + 1] += root[f];
    const rootAt = out.rootPositions.subarray(f * 3, f * 3 + 3);
    for (const [k, name] of SIDES.entries()) {
      const side = map[name];
      const a = (f * J + side.foot) * 3, h = (f * J + side.upperLeg) * 3;
      const o = offsets[k];
      let target: Vec3 = [P[a] + o[f * 3], P[a + 1] + o[f * 3 + 1], P[a + 2] + o[f * 3 + 2]];
      let foot = qget(pose.rotations, f * J + side.foot);
      let pitchedToe = false;
      const v = pivots[k];
      if (!Number.isNaN(v[f * 3])) {
        const hip: Vec3 = [P[h], P[h + 1] + root[f], P[h + 2]];
        const own = Math.hypot(P[a] - P[h], P[a + 1] - P[h + 1], P[a + 2] - P[h + 2]);
        const pitched = pitchToReach(foot, target, [v[f * 3] + o[f * 3], v[f * 3 + 1] + o[f * 3 + 1], v[f * 3 + 2] + o[f * 3 + 2]], hip, Math.max(own, REACH * reaches[k]));
        if (pitched) {
          ({ target, foot } = pitched);
          pitchedToe = side.toe !== undefined;
        }
      }
      solveTwoBone(s, out.rotations, f * J, rootAt, { upper: side.upperLeg, mid: side.lowerLeg, end: side.foot }, target, {
        poleHint: kneePole(s, map, clip, pose, f, side.upperLeg, side.lowerLeg),
        endWorldRotation: foot,
        hinge: KNEE,
      });
      if (pitchedToe) keepToeWorld(s, out, pose, f, side.toe!);
    }
  }
}

/**
 * A heel-up foot whose ankle is beyond `reach` of the hip, pitched (heel rising) about `pivot` by the
 * least angle (up to MAX_PITCH) that brings the ankle within it: its new ankle and world rotation, or
 * null when no pitch is needed.
 */
function pitchToReach(foot: Quat, ankle: Vec3, pivot: Vec3, hip: Vec3, reach: number): { target: Vec3; foot: Quat } | null {
  const gap = (p: Vec3) => Math.hypot(p[0] - hip[0], p[1] - hip[1], p[2] - hip[2]);
  if (gap(ankle) <= reach) return null;
  const fw = qrotate(foot, [0, 0, 1]);
  const l = Math.hypot(fw[0], fw[2]);
  if (l < 1e-6) return null;
  const axis: Vec3 = [fw[2] / l, 0, -fw[0] / l];
  const rel: Vec3 = [ankle[0] - pivot[0], ankle[1] - pivot[1], ankle[2] - pivot[2]];
  const at = (t: number): { target: Vec3; foot: Quat } => {
    const q = qaxisAngle(axis, t);
    const r = qrotate(q, rel);
    return { target: [pivot[0] + r[0], pivot[1] + r[1], pivot[2] + r[2]], foot: qmul(q, foot) };
  };
  let lo = 0, hi = MAX_PITCH;
  if (gap(at(hi).target) > reach) return at(hi);
  for (let i = 0; i < 24; i++) {
    const m = (lo + hi) / 2;
    if (gap(at(m).target) > reach) lo = m; else hi = m;
  }
  return at(hi);
}

/** Sets the toe joint's local rotation so that its world rotation is the input's (the toes stay as they lay). */
function keepToeWorld(s: Skeleton, out: Clip, pose: LegPose, f: number, toe: number): void {
  const J = s.names.length;
  const R = out.rotations;
  // The toe's parent's world rotation after the solve: the product of the local rotations down to it.
  let world: Quat = [0, 0, 0, 1];
  for (let j = s.parents[toe]; j >= 0; j = s.parents[j]) world = qmul(qget(R, f * J + j), world);
  qset(R, f * J + toe, qmul(qinv(world), qget(pose.rotations, f * J + toe)));
}

/**
 * Where the input's knee points: its thigh's forward (+Z of the thigh's frame, the knee's direction at
 * rest in the protocol's convention), or the body's forward when that lies along the thigh.
 */
function kneePole(s: Skeleton, map: HumanoidMap, clip: Clip, pose: LegPose, f: number, upper: number, lower: number): Vec3 {
  const J = s.names.length;
  const fwd = qrotate(qget(pose.rotations, f * J + upper), [0, 0, 1]);
  const u = (f * J + upper) * 3, l = (f * J + lower) * 3, P = pose.positions;
  const dx = P[l] - P[u], dy = P[l + 1] - P[u + 1], dz = P[l + 2] - P[u + 2];
  const len = Math.hypot(dx, dy, dz);
  if (len > 1e-9 && Math.abs((fwd[0] * dx + fwd[1] * dy + fwd[2] * dz) / len) < 0.9) return fwd;
  return bodyForward(s, map, clip, f);
}

/** One ground_height constraint's residual: its planted sole points' distance from the ground, and the lowest sole point over it. */
export interface GroundResidual {
  /** Largest and mean |height over the ground| of sole points while down (m). */
  max: number;
  mean: number;
  /** Lowest height of any sole point over the ground under it, any frame (m; negative: under it). */
  lowest: number;
  /** Planted sole-point samples (point × frame) measured. */
  planted: number;
}

/**
 * Per profile, the residual of the ground it decides (each sole point at each frame is measured against
 * the profile passing nearest to it, as the ground is read): planted points by `contacts`.
 */
export function groundResiduals(s: Skeleton, map: HumanoidMap, clip: Clip, profiles: GroundProfiles, contacts: SoleContacts): GroundResidual[] {
  const J = s.names.length;
  const F = clip.numFrames;
  const fm = footModel(s, map);
  const pose = legPose(s, map, clip);
  const res: GroundResidual[] = profiles.map(() => ({ max: 0, mean: 0, lowest: Infinity, planted: 0 }));
  const p = new Float64Array(3);
  const at = { h: 0, index: 0 };
  for (let k = 0; k < 2; k++) {
    for (let i = 0; i < 3; i++) {
      for (let f = 0; f < F; f++) {
        footPointAt(fm.sides[k][i], J, pose.positions, pose.rotations, f, p);
        groundAtProfiles(profiles, p[0], p[2], at);
        const gap = p[1] - fm.floor - at.h;
        const r = res[at.index];
        r.lowest = Math.min(r.lowest, gap);
        if (!contacts[k][i][f]) continue;
        r.max = Math.max(r.max, Math.abs(gap));
        r.mean += Math.abs(gap);
        r.planted++;
      }
    }
  }
  for (const r of res) {
    if (r.planted) r.mean /= r.planted;
    if (!Number.isFinite(r.lowest)) r.lowest = 0;
  }
  return res;
}
