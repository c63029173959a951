/** Foot-contact detection (planted or not, per joint and frame), contact runs, and a foot-skate metric. */
import { clipWorldPositions } from './clip.js';
import type { Clip } from '../spec/motion.js';
import { restFloor, restPositions } from './skeleton.js';
import type { Skeleton } from '../spec/motion.js';
import { hypot2 } from './quat.js';

export interface ContactOptions {
  /** A joint may be planted while at most this far above its rest height above the floor (m); default 0.03. */
  heightTolerance?: number;
  /** … and while moving horizontally slower than this (m/s); default 0.3. */
  speedThreshold?: number;
  /** Once planted, a joint stays planted until it exceeds the thresholds times this factor; default 1.5. */
  hysteresis?: number;
  /** Contact runs and gaps shorter than this many frames are removed; default ≈ 50 ms, at least 2. */
  minRunFrames?: number;
  /** The clip's world positions (clipWorldPositions), when the caller already has them. */
  worldPositions?: Float64Array;
}

/** An inclusive range of frames in contact. */
export interface ContactRun {
  start: number;
  /** Last planted frame (inclusive). */
  end: number;
}

/**
 * Per joint of `jointIndices`, per frame: whether the joint is planted. A joint is planted when its
 * height above the floor (the skeleton's lowest joint at rest) is within `heightTolerance` of its own
 * rest height (or below it) and its horizontal speed is under `speedThreshold`. The speed of a frame is
 * the smaller of its backward and forward differences, so the frames where a foot lands and lifts off
 * count as planted. Flags then pass a hysteresis (a planted joint stays planted until it exceeds the
 * thresholds × `hysteresis`) and a filter that fills gaps and drops runs shorter than `minRunFrames`,
 * so no flag flickers for a single frame.
 */
export function footContacts(
  skeleton: Skeleton,
  clip: Clip,
  jointIndices: readonly number[],
  options: ContactOptions = {},
): boolean[][] {
  const heightTolerance = options.heightTolerance ?? 0.03;
  const speedThreshold = options.speedThreshold ?? 0.3;
  const hysteresis = options.hysteresis ?? 1.5;
  // Never longer than the clip, so a one-frame pose keeps its contacts.
  const minRun = Math.min(clip.numFrames, options.minRunFrames ?? Math.max(2, Math.round(0.05 * clip.fps)));
  const J = clip.jointCount;
  const F = clip.numFrames;
  const world = options.worldPositions ?? clipWorldPositions(skeleton, clip);
  const rest = restPositions(skeleton);
  const floor = restFloor(skeleton);
  return jointIndices.map((j) => {
    const restHeight = rest[j * 3 + 1] - floor;
    const flags: boolean[] = new Array<boolean>(F);
    let planted = false;
    for (let f = 0; f < F; f++) {
      const lift = world[(f * J + j) * 3 + 1] - floor - restHeight;
      const speed = Math.min(
        f > 0 ? horizontalDistance(world, (f * J + j) * 3, ((f - 1) * J + j) * 3) : Infinity,
        f < F - 1 ? horizontalDistance(world, (f * J + j) * 3, ((f + 1) * J + j) * 3) : Infinity,
      ) * clip.fps;
      const k: number = planted ? hysteresis : 1;
      // A one-frame clip has no speed: it is planted when its height says so.
      const still = F === 1 || speed < speedThreshold * k;
      planted = lift <= heightTolerance * k && still;
      flags[f] = planted;
    }
    return removeShortRuns(flags, minRun);
  });
}

/**
 * Fills gaps shorter than `minRun` frames between two contacts, then drops contacts shorter than
 * `minRun` frames. Returns a new array.
 */
export function removeShortRuns(flags: readonly boolean[], minRun: number): boolean[] {
  const out = flags.slice();
  const F = out.length;
  for (let f = 0; f < F; ) {
    if (out[f]) {
      f++;
      continue;
    }
    let e = f;
    while (e < F && !out[e]) e++;
    if (f > 0 && e < F && e - f < minRun) out.fill(true, f, e);
    f = e;
  }
  for (const run of contactRuns(out)) {
    if (run.end - run.start + 1 < minRun) out.fill(false, run.start, run.end + 1);
  }
  return out;
}

/** The maximal runs of consecutive `true` frames, in order, as inclusive [start, end] ranges. */
export function contactRuns(flags: readonly boolean[]): ContactRun[] {
  const runs: ContactRun[] = [];
  let start = -1;
  for (let f = 0; f <= flags.length; f++) {
    const on = f < flags.length && flags[f];
    if (on && start < 0) start = f;
    else if (!on && start >= 0) {
      runs.push({ start, end: f - 1 });
      start = -1;
    }
  }
  return runs;
}

/**
 * Foot skate: the largest horizontal distance (m) between two positions of `joint` within one contact
 * run of `flags`, over all runs; 0 when there are none. After perfect cleanup it is 0.
 */
export function footDrift(skeleton: Skeleton, clip: Clip, joint: number, flags: readonly boolean[]): number {
  const world = clipWorldPositions(skeleton, clip);
  const J = clip.jointCount;
  let worst = 0;
  for (const { start, end } of contactRuns(flags)) {
    for (let a = start; a <= end; a++) {
      for (let b = a + 1; b <= end; b++) {
        worst = Math.max(worst, horizontalDistance(world, (a * J + joint) * 3, (b * J + joint) * 3));
      }
    }
  }
  return worst;
}

function horizontalDistance(p: Float64Array, a: number, b: number): number {
  return hypot2(p[a] - p[b], p[a + 2] - p[b + 2]);
}

export interface PointContactOptions {
  /** A point may be down while at most this far above the floor (m); default 0.02. */
  heightTolerance?: number;
  /** … and while moving horizontally slower than this (m/s); default 0.35. */
  speedThreshold?: number;
  /** Once down, a point stays down until it exceeds the thresholds times this factor; default 1.5. */
  hysteresis?: number;
  /** Runs and gaps shorter than this many frames are removed; default ≈ 50 ms, at least 2. */
  minRunFrames?: number;
}

/**
 * Whether one sole point (heel, ball, toe tip) is down, per frame, from its world track (F×3 at
 * `track[o + f*stride …]`): within `heightTolerance` of the floor (or below it) and slower than
 * `speedThreshold` horizontally (the smaller of the backward and forward differences), with hysteresis
 * and the short-run filter of footContacts; frames at either end of a run where the point is already
 * rising off (or still descending onto the floor) more than 6 mm above its lowest height in the run are
 * not down.
 * Writes 1/0 into `out` (length F).
 */
export function pointContacts(
  track: ArrayLike<number>,
  numFrames: number,
  fps: number,
  floor: number,
  out: Uint8Array,
  options: PointContactOptions = {},
): Uint8Array {
  const F = numFrames;
  const heightTolerance = options.heightTolerance ?? 0.02;
  const speedThreshold = options.speedThreshold ?? 0.35;
  const hysteresis = options.hysteresis ?? 1.5;
  const minRun = Math.min(F, options.minRunFrames ?? Math.max(2, Math.round(0.05 * fps)));
  let planted = false;
  for (let f = 0; f < F; f++) {
    const o = f * 3;
    const lift = track[o + 1] - floor;
    const back = f > 0 ? hypot2(track[o] - track[o - 3], track[o + 2] - track[o - 1]) : Infinity;
    const fwd = f < F - 1 ? hypot2(track[o] - track[o + 3], track[o + 2] - track[o + 5]) : Infinity;
    const speed = Math.min(back, fwd) * fps;
    const k: number = planted ? hysteresis : 1;
    planted = lift <= heightTolerance * k && (F === 1 || speed < speedThreshold * k);
    out[f] = planted ? 1 : 0;
  }
  // The short-run filter: fill short gaps between contacts, then drop short contacts.
  for (let f = 0; f < F; ) {
    if (out[f]) { f++; continue; }
    let e = f;
    while (e < F && !out[e]) e++;
    if (f > 0 && e < F && e - f < minRun) out.fill(1, f, e);
    f = e;
  }
  // A point that is already rising off (or still coming down onto) the floor at either end of its run is
  // not down yet: frames more than `LIFTING` above the run's lowest height, still rising at the end (or
  // still descending at the start), are trimmed off its ends.
  for (let f = 0; f < F; ) {
    if (!out[f]) { f++; continue; }
    let e = f;
    let low = Infinity;
    while (e < F && out[e]) low = Math.min(low, track[e++ * 3 + 1]);
    let a = f, b = e - 1;
    while (a < b && track[a * 3 + 1] > low + LIFTING && track[a * 3 + 1] > track[(a + 1) * 3 + 1] + 1e-4) out[a++] = 0;
    while (b > a && track[b * 3 + 1] > low + LIFTING && track[b * 3 + 1] > track[(b - 1) * 3 + 1] + 1e-4) out[b--] = 0;
    if (b - a + 1 < minRun) out.fill(0, a, b + 1);
    f = e;
  }
  return out;
}

/** How far above its lowest height in a contact a sole point is taken to be lifting off or landing (m). */
const LIFTING = 0.006;
