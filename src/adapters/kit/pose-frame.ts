/**
 * Poses from provider models that only make motion (SayMotion, Meshy): a `pose` segment asks the
 * provider for a short motion of its prompt (POSE_MOTION_SECONDS) and answers one representative frame
 * of it. The representative frame is the frame of least motion in the clip's last three quarters: the
 * first quarter is skipped because a generated clip starts from the provider's neutral stance and moves
 * into the asked pose; of the rest, the stillest frame is where the body holds the pose (a sit has sat,
 * a raised arm has stopped rising) rather than passes through it. Motion at a frame is the summed
 * rotation angle of every joint to its neighbouring frames plus the root's travel (1 cm counting as
 * 0.1 rad); ties go to the earliest frame.
 */
import type { Clip } from '../../spec/motion.js';

/** Seconds of motion asked of a provider for one pose. */
export const POSE_MOTION_SECONDS = 2;

/** Rotation angle (radians) between two unit quaternions at offsets a and b of `r`. */
function angleBetween(r: Float64Array, a: number, b: number): number {
  const d = Math.abs(r[a] * r[b] + r[a + 1] * r[b + 1] + r[a + 2] * r[b + 2] + r[a + 3] * r[b + 3]);
  return 2 * Math.acos(Math.min(1, d));
}

/** Motion between frames f and g (the summed joint angles and the root's travel, 1 cm = 0.1 rad). */
function change(clip: Clip, f: number, g: number): number {
  const J = clip.jointCount;
  let sum = 0;
  for (let j = 0; j < J; j++) sum += angleBetween(clip.rotations, (f * J + j) * 4, (g * J + j) * 4);
  const p = clip.rootPositions;
  const dx = p[f * 3] - p[g * 3], dy = p[f * 3 + 1] - p[g * 3 + 1], dz = p[f * 3 + 2] - p[g * 3 + 2];
  return sum + 10 * Math.sqrt(dx * dx + dy * dy + dz * dz);
}

/** The representative frame of a clip for a pose (see the module comment). */
export function representativeFrame(clip: Clip): number {
  const F = clip.numFrames;
  if (F <= 2) return F - 1;
  const start = Math.floor(F / 4);
  let best = start;
  let bestMotion = Infinity;
  for (let f = start; f < F; f++) {
    const m = (f > 0 ? change(clip, f - 1, f) : 0) + (f + 1 < F ? change(clip, f, f + 1) : change(clip, f - 1, f));
    if (m < bestMotion - 1e-12) {
      bestMotion = m;
      best = f;
    }
  }
  return best;
}

/** A one-frame clip of frame `f` of `clip`, at `fps`. */
export function frameClip(clip: Clip, f: number, fps: number): Clip {
  const J = clip.jointCount;
  return {
    fps,
    numFrames: 1,
    jointCount: J,
    rotations: clip.rotations.slice(f * J * 4, (f + 1) * J * 4),
    rootPositions: clip.rootPositions.slice(f * 3, f * 3 + 3),
  };
}
