/** Composition of per-segment clips into one timeline: heading/position alignment, boundary blends and bridges. */
import { allocClip } from './clip.js';
import type { Clip } from '../spec/motion.js';
import { hypot2, qget, qmul, qrotate, qset, qy, qyaw, smoothstep } from './quat.js';
import { keepHemisphere, slerpInto } from './resample.js';
import type { Skeleton } from '../spec/motion.js';
import { mapHumanoid, type HumanoidMap } from './humanoid.js';
import { inertializeRoot, stepAcrossSeam } from './inertialize.js';

export interface Composition {
  /** All segments on one timeline; numFrames is the sum of the segments' frames. */
  clip: Clip;
  /** First frame of each segment on that timeline. */
  segmentStarts: number[];
}

/**
 * Heading of the root at `frame`: the yaw of the root joint's world rotation (radians, 0 faces +Z,
 * positive turns +Z toward +X, as `qyaw`).
 */
export function rootHeading(clip: Clip, frame: number): number {
  return qyaw(qget(clip.rotations, frame * clip.jointCount));
}

/**
 * Returns a copy of `clip` rotated about +Y (root rotation and root path, pivoting on the first frame's
 * root) so that its first frame has heading `heading` (as `rootHeading`), and translated in XZ so that its
 * first root position lies at `position`'s x and z. Root heights and all non-root rotations are kept.
 */
export function alignToStart(clip: Clip, position: ArrayLike<number>, heading: number): Clip {
  const out = copyClip(clip);
  if (clip.numFrames === 0) return out;
  const turn = qy(heading - rootHeading(clip, 0));
  const J = clip.jointCount;
  const p0x = clip.rootPositions[0], p0z = clip.rootPositions[2];
  for (let f = 0; f < clip.numFrames; f++) {
    qset(out.rotations, f * J, qmul(turn, qget(clip.rotations, f * J)));
    const o = f * 3;
    const d = qrotate(turn, [clip.rootPositions[o] - p0x, 0, clip.rootPositions[o + 2] - p0z]);
    out.rootPositions[o] = position[0] + d[0];
    out.rootPositions[o + 2] = position[2] + d[2];
  }
  return out;
}

/**
 * Concatenates one clip per segment (same fps, same joints, exact frame counts) on one timeline.
 *
 * - Each segment after the first is turned about +Y so that it starts with the heading the previous one
 *   ended with, and moved in XZ so that it starts where the previous one ended, one step of the previous
 *   pace further. With a transition window (`transitionFrames` > 0) the previous root velocity is then
 *   carried into the segment and decays (inertialization, `inertializeRoot`): the body slows down or
 *   speeds up over at least 1 s with a peak horizontal acceleration of at most 3 m/s², continuous in
 *   position and velocity, and comes to rest a little further on; its height joins the segment's over
 *   0.4 s. The segment's rotations are its own. With 0 transition frames the cut is hard: one step at the
 *   mean of the two paces, heights never shifted.
 * - An `unconditioned` segment with a neighbour on both sides is a bridge: its frames interpolate
 *   (smoothstep) from the previous segment's last pose to the next segment's first pose, and the next
 *   segment starts where the previous one ended. At the start or end of the timeline it keeps its own clip.
 * - Each boundary is blended over `transitionFrames` frames centred on it (at most half of either
 *   neighbouring segment) with the smoothstep weight: rotations slerp and the root lerps between the
 *   previous segment held (root continuing at its last velocity) and the next segment (held backwards
 *   from its first frame). With 0 transition frames the cut is hard, but still aligned.
 * - On a humanoid skeleton (`mapHumanoid`), the legs across each blended boundary are placed by leg IK
 *   (`stepAcrossSeam`): a foot that is down stays where it is, the feet step (the previous gait's own
 *   next steps first) while the carried travel moves the body, the last steps land in the next
 *   segment's own stance or join its own steps, and no sole point goes under the floor. Other skeletons
 *   keep the blended legs.
 *
 * `skeleton` gives the joint count and, when it maps, the legs; heading is read from joint 0 (the root).
 */
export function composeSegments(
  skeleton: Skeleton,
  clips: readonly Clip[],
  kinds: readonly string[],
  transitionFrames: number,
): Composition {
  const n = clips.length;
  if (n === 0) throw new RangeError('composeSegments: no segments');
  if (kinds.length !== n) throw new RangeError('composeSegments: one kind per clip is required');
  const J = skeleton.names.length;
  const fps = clips[0].fps;
  for (const c of clips) {
    if (c.jointCount !== J) throw new RangeError('composeSegments: clip joint count differs from the skeleton');
    if (Math.abs(c.fps - fps) > 1e-9) throw new RangeError('composeSegments: clips must share one fps');
  }
  const segmentStarts: number[] = [];
  let total = 0;
  for (const c of clips) {
    segmentStarts.push(total);
    total += c.numFrames;
  }
  // A bridge has frames of other segments on both sides.
  const isBridge = kinds.map(
    (k, i) => k === 'unconditioned' && clips[i].numFrames > 0 && segmentStarts[i] > 0 && segmentStarts[i] + clips[i].numFrames < total,
  );

  // 1. Place the non-bridge segments, each aligned to the end of the previous one.
  const T = Math.max(0, Math.floor(transitionFrames));
  const raw = allocClip(J, total, fps);
  const seams: Array<{ segment: number; previous: number; frames: number; distance: number }> = [];
  let prev: Clip | null = null;
  let prevIndex = -1;
  let bridgedSincePrev = false;
  for (let i = 0; i < n; i++) {
    if (isBridge[i]) {
      bridgedSincePrev = true;
      continue;
    }
    const seg = clips[i];
    if (seg.numFrames === 0) continue;
    let placed = seg;
    if (prev !== null) {
      const last = prev.numFrames - 1;
      const end = prev.rootPositions.subarray(last * 3, last * 3 + 3);
      placed = alignToStart(seg, end, rootHeading(prev, last));
      if (!bridgedSincePrev && T > 0) {
        // One step of the previous pace on, then that pace carried into the segment and decayed.
        const a = lastStep(prev);
        translateXZ(placed, a[0], a[1]);
        const y = prev.rootPositions[last * 3 + 1];
        const vy = last >= 1 ? y - prev.rootPositions[(last - 1) * 3 + 1] : 0;
        const r = inertializeRoot(placed, a, y, vy);
        if (r.frames > 0) seams.push({ segment: i, previous: prevIndex, frames: r.frames, distance: hypot2(r.distance[0], r.distance[1]) });
      } else if (!bridgedSincePrev) {
        // A hard cut: one step on from the previous end, at the mean of the two segments' paces.
        const a = lastStep(prev), b = firstStep(placed);
        translateXZ(placed, (a[0] + b[0]) / 2, (a[1] + b[1]) / 2);
      }
    }
    raw.rotations.set(placed.rotations, segmentStarts[i] * J * 4);
    raw.rootPositions.set(placed.rootPositions, segmentStarts[i] * 3);
    prev = placed;
    prevIndex = i;
    bridgedSincePrev = false;
  }

  // 2. Fill each run of bridge segments between its two neighbours.
  for (let i = 0; i < n; i++) {
    if (!isBridge[i]) continue;
    let k = i;
    while (k + 1 < n && (isBridge[k + 1] || clips[k + 1].numFrames === 0)) k++;
    const s = segmentStarts[i];
    const e = segmentStarts[k] + clips[k].numFrames;
    fillBridge(raw, s, e);
    i = k;
  }

  // 3. Blend across every boundary, reading the unblended timeline.
  const out = copyClip(raw);
  const halves: Array<[number, number]> = clips.map(() => [0, 0]);
  for (let i = 1; i < n && T > 0; i++) {
    const b = segmentStarts[i];
    const lenPrev = previousLength(clips, i);
    const lenNext = clips[i].numFrames;
    if (lenPrev === 0 || lenNext === 0) continue;
    const hl = Math.min(Math.ceil(T / 2), Math.floor(lenPrev / 2));
    const hr = Math.min(Math.floor(T / 2), Math.floor(lenNext / 2));
    if (hl + hr === 0) continue;
    halves[i] = [hl, hr];
    blendBoundary(raw, out, b, hl, hr, lenPrev, lenNext);
  }

  // 4. The feet across each blended seam: planted ones stay where they are, and they step (by leg IK)
  //    to where the next segment stands, or join its own steps, instead of sliding with the blend or
  //    with the root's carried travel.
  let map: HumanoidMap | null | undefined;
  for (const seam of seams) {
    const i = seam.segment;
    const [hl, hr] = halves[i];
    if (hl + hr === 0) continue;
    if (map === undefined) map = humanoidOrNull(skeleton);
    if (map === null) break;
    const b = segmentStarts[i];
    const nextBlend = i + 1 < n ? halves[i + 1][0] : 0;
    const limit = b + clips[i].numFrames - 1 - nextBlend;
    const settle = seam.distance < STEP_DISTANCE ? b : b + seam.frames;
    stepAcrossSeam(skeleton, map, out, raw, b - hl, b, settle, limit, segmentStarts[seam.previous]);
  }

  for (let f = 1; f < total; f++) {
    for (let j = 0; j < J; j++) keepHemisphere(out.rotations, (f * J + j) * 4, ((f - 1) * J + j) * 4);
  }
  return { clip: out, segmentStarts };
}

/** A carried travel shorter than this (metres) needs no stepping: from the seam on, the feet square up onto the next stance or join its own steps. */
const STEP_DISTANCE = 0.02;

function humanoidOrNull(s: Skeleton): HumanoidMap | null {
  try {
    return mapHumanoid(s);
  } catch {
    return null;
  }
}

/** Frames of the nearest non-empty segment before segment `i`. */
function previousLength(clips: readonly Clip[], i: number): number {
  for (let k = i - 1; k >= 0; k--) if (clips[k].numFrames > 0) return clips[k].numFrames;
  return 0;
}

/** Interpolates frames [s, e) of `c` from frame s − 1 to frame e with the smoothstep weight. */
function fillBridge(c: Clip, s: number, e: number): void {
  const J = c.jointCount;
  const L = e - s;
  const a = s - 1, b = e;
  for (let f = s; f < e; f++) {
    const w = smoothstep((f - s + 1) / (L + 1));
    for (let j = 0; j < J; j++) slerpInto(c.rotations, (f * J + j) * 4, c.rotations, (a * J + j) * 4, (b * J + j) * 4, w);
    for (let k = 0; k < 3; k++) {
      c.rootPositions[f * 3 + k] = c.rootPositions[a * 3 + k] + (c.rootPositions[b * 3 + k] - c.rootPositions[a * 3 + k]) * w;
    }
  }
}

/**
 * Blends frames [b − hl, b + hr) of `out` between the previous segment held past its end (root
 * continuing at its last XZ velocity) and the next one held before its start, read from `raw`.
 */
function blendBoundary(raw: Clip, out: Clip, b: number, hl: number, hr: number, lenPrev: number, lenNext: number): void {
  const J = raw.jointCount;
  const rp = raw.rootPositions;
  const vPrev = lenPrev >= 2 ? [rp[(b - 1) * 3] - rp[(b - 2) * 3], rp[(b - 1) * 3 + 2] - rp[(b - 2) * 3 + 2]] : [0, 0];
  const vNext = lenNext >= 2 ? [rp[(b + 1) * 3] - rp[b * 3], rp[(b + 1) * 3 + 2] - rp[b * 3 + 2]] : [0, 0];
  const N = hl + hr;
  const a3 = [0, 0, 0], b3 = [0, 0, 0];
  for (let f = b - hl; f < b + hr; f++) {
    const w = smoothstep((f - (b - hl) + 1) / (N + 1));
    const fa = Math.min(f, b - 1);
    const fb = Math.max(f, b);
    for (let j = 0; j < J; j++) slerpInto(out.rotations, (f * J + j) * 4, raw.rotations, (fa * J + j) * 4, (fb * J + j) * 4, w);
    const ahead = f - fa; // frames past the previous segment's end
    const behind = fb - f; // frames before the next segment's start
    for (let k = 0; k < 3; k++) {
      a3[k] = rp[fa * 3 + k];
      b3[k] = rp[fb * 3 + k];
    }
    a3[0] += vPrev[0] * ahead; a3[2] += vPrev[1] * ahead;
    b3[0] -= vNext[0] * behind; b3[2] -= vNext[1] * behind;
    for (let k = 0; k < 3; k++) out.rootPositions[f * 3 + k] = a3[k] + (b3[k] - a3[k]) * w;
  }
}

function lastStep(c: Clip): [number, number] {
  const f = c.numFrames - 1;
  if (f < 1) return [0, 0];
  const p = c.rootPositions;
  return [p[f * 3] - p[(f - 1) * 3], p[f * 3 + 2] - p[(f - 1) * 3 + 2]];
}

function firstStep(c: Clip): [number, number] {
  if (c.numFrames < 2) return [0, 0];
  const p = c.rootPositions;
  return [p[3] - p[0], p[5] - p[2]];
}

function translateXZ(c: Clip, dx: number, dz: number): void {
  for (let f = 0; f < c.numFrames; f++) {
    c.rootPositions[f * 3] += dx;
    c.rootPositions[f * 3 + 2] += dz;
  }
}

function copyClip(c: Clip): Clip {
  return { ...c, rotations: c.rotations.slice(), rootPositions: c.rootPositions.slice() };
}
