/**
 * Library clips have their own length; each segment asks for another. Cyclic actions (walks, runs,
 * idles, dances) are trimmed or looped with the root carried forward cycle after cycle; one-shots
 * (attacks, jumps, gestures) are time-scaled within ±25 % and then trimmed or held on their last pose.
 */
import { allocClip } from '../../motion/clip.js';
import type { Clip } from '../../spec/motion.js';
import { smoothstep } from '../../motion/quat.js';
import { keepHemisphere, slerpInto } from '../../motion/resample.js';
import type { MeshyAction } from './library.js';

/** Time-scaling a one-shot beyond this (either way) would read as slow motion or fast forward. */
const MAX_RATE = 1.25;

interface ClipFit {
  mode: 'exact' | 'trim' | 'loop' | 'time_scale' | 'hold';
  /** Playback rate applied (1 = as authored). */
  rate: number;
  /** Length of the library clip, seconds. */
  clip_seconds: number;
}

const CYCLIC_SUBCATEGORIES = new Set(['Walking', 'Running', 'CrouchWalking', 'Swimming', 'Idle', 'Dancing']);
const CYCLIC_WORDS = /(walk|run|strut|idle|loop|swim|crawl|danc|groove|sprint|jog|stagger|shuffle|jumping_jacks|march)/i;
const ONE_SHOT_WORDS = /(_to_|transition|turn|stop|pick|reload|jump_|_jump|shoot|throw|fall|sudden|leap|roll|vault|finish|mount|start|hit_|_hit|shot)/i;

/** Whether an action is a cycle that can be repeated (else it is played once). */
export function isCyclic(action: Pick<MeshyAction, 'name' | 'subcategory'>): boolean {
  if (ONE_SHOT_WORDS.test(action.name)) return false;
  return CYCLIC_SUBCATEGORIES.has(action.subcategory) || CYCLIC_WORDS.test(action.name);
}

/** Writes the pose of `src` at fractional frame `x` (clamped to the clip) into frame `f` of `out`. */
function samplePose(src: Clip, x: number, out: Clip, f: number): void {
  const J = src.jointCount;
  const last = src.numFrames - 1;
  const c = Math.min(Math.max(x, 0), last);
  const f0 = Math.floor(c);
  const a = c - f0;
  const f1 = a > 1e-9 ? Math.min(f0 + 1, last) : f0;
  for (let j = 0; j < J; j++) slerpInto(out.rotations, (f * J + j) * 4, src.rotations, (f0 * J + j) * 4, (f1 * J + j) * 4, a > 1e-9 ? a : 0);
  for (let k = 0; k < 3; k++) {
    const v0 = src.rootPositions[f0 * 3 + k];
    out.rootPositions[f * 3 + k] = v0 + (src.rootPositions[f1 * 3 + k] - v0) * (a > 1e-9 ? a : 0);
  }
}

function hemispheres(clip: Clip): void {
  const J = clip.jointCount;
  for (let f = 1; f < clip.numFrames; f++) for (let j = 0; j < J; j++) keepHemisphere(clip.rotations, (f * J + j) * 4, ((f - 1) * J + j) * 4);
}

/**
 * A clip of exactly `frames` frames at the source's fps, from a library clip. Cyclic clips are assumed
 * to end on the pose they start with (Meshy's loopable clips do): one period is `numFrames − 1` frames
 * and each repeat is shifted on the ground by the root's travel over one period.
 */
export function fitClip(src: Clip, frames: number, cyclic: boolean): { clip: Clip; fit: ClipFit } {
  if (src.numFrames < 1) throw new RangeError('fitClip: empty clip');
  const out = allocClip(src.jointCount, frames, src.fps);
  const N = src.numFrames;
  const clipSeconds = Math.round(((N - 1) / src.fps) * 1000) / 1000;
  let fit: ClipFit;
  if (N === frames) {
    for (let f = 0; f < frames; f++) samplePose(src, f, out, f);
    fit = { mode: 'exact', rate: 1, clip_seconds: clipSeconds };
  } else if (cyclic && N > frames) {
    for (let f = 0; f < frames; f++) samplePose(src, f, out, f);
    fit = { mode: 'trim', rate: 1, clip_seconds: clipSeconds };
  } else if (cyclic) {
    const period = Math.max(1, N - 1);
    const dx = src.rootPositions[(N - 1) * 3] - src.rootPositions[0];
    const dz = src.rootPositions[(N - 1) * 3 + 2] - src.rootPositions[2];
    for (let f = 0; f < frames; f++) {
      const cycle = Math.floor(f / period);
      samplePose(src, f - cycle * period, out, f);
      out.rootPositions[f * 3] += cycle * dx;
      out.rootPositions[f * 3 + 2] += cycle * dz;
    }
    fit = { mode: 'loop', rate: 1, clip_seconds: clipSeconds };
  } else {
    // A one-shot: played faster or slower (within MAX_RATE) to fill the segment, then cut or held on its last pose.
    const wanted = (N - 1) / Math.max(1, frames - 1);
    const rate = Math.min(MAX_RATE, Math.max(1 / MAX_RATE, wanted));
    for (let f = 0; f < frames; f++) samplePose(src, f * rate, out, f);
    const mode = Math.abs(rate - wanted) < 1e-9 ? 'time_scale' : N > frames ? 'trim' : 'hold';
    fit = { mode, rate: round3(rate), clip_seconds: clipSeconds };
  }
  hemispheres(out);
  return { clip: out, fit };
}

/**
 * Makes a clip a seamless cycle (options.loop): its last frames blend into its first pose, so the
 * last frame equals the first. Root travel is kept (in-place actions are chosen for loops when they exist).
 */
export function closeLoop(clip: Clip): Clip {
  const n = clip.numFrames;
  if (n < 3) return clip;
  const J = clip.jointCount;
  const window = Math.max(2, Math.min(12, Math.floor(n / 4)));
  const out: Clip = { ...clip, rotations: clip.rotations.slice(), rootPositions: clip.rootPositions.slice() };
  const first = clip.rotations.subarray(0, J * 4);
  for (let i = 0; i < window; i++) {
    const f = n - window + i;
    const w = smoothstep((i + 1) / window);
    const pair = new Float64Array(8);
    for (let j = 0; j < J; j++) {
      pair.set(clip.rotations.subarray((f * J + j) * 4, (f * J + j) * 4 + 4), 0);
      pair.set(first.subarray(j * 4, j * 4 + 4), 4);
      slerpInto(out.rotations, (f * J + j) * 4, pair, 0, 4, w);
    }
    out.rootPositions[f * 3 + 1] = clip.rootPositions[f * 3 + 1] + (clip.rootPositions[1] - clip.rootPositions[f * 3 + 1]) * w;
  }
  hemispheres(out);
  return out;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
