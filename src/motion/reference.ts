/**
 * A motion_reference segment (MMCP 1.2) as a Clip on the request skeleton, ready to be spliced into the
 * timeline where its segment is:
 *
 * 1. The clip is read on its own rig: the segment's `skeleton` when it brings one, else the request
 *    skeleton. Each `joint_names` entry takes its rotation from the data (normalized: the protocol takes
 *    quaternions as sent, "a backbone normalises them as it needs"); joints the clip does not name hold
 *    rest; the root follows `root_positions` (world, the client's frame).
 * 2. A clip on its own rig is retargeted onto the request skeleton with the toolkit's retarget() (the
 *    path provider motion takes), unless that rig is the request skeleton itself (same names, parents and
 *    rest offsets), which needs no retargeting.
 * 3. It is resampled to the answer's fps at its natural speed: answer frame i shows the clip at time
 *    i / fps. A segment longer than the clip holds the clip's last frame; a shorter one ends early.
 *    (The protocol fixes the segment's length, `duration_frames`, independently of the clip's; it does
 *    not say how a clip of another length fills it. Playing it at its own speed keeps a run a run, where
 *    stretching would turn it into a slow walk.)
 */
import { restClip } from './clip.js';
import { mapHumanoid, type HumanoidMap } from './humanoid.js';
import { resampleClip } from './resample.js';
import { retarget } from './retarget.js';
import { skeletonFromWire } from './skeleton.js';
import type { PlannedReference } from '../spec/plan.js';
import type { Clip, Skeleton } from '../spec/motion.js';

/** The reference clip on its own rig (`source`), at its own fps and length; unnamed joints at rest. */
export function referenceSourceClip(ref: PlannedReference, source: Skeleton): Clip {
  const T = ref.frameCount;
  const Jr = ref.jointNames.length;
  if (ref.rotations.length !== T * Jr * 4 || ref.rootPositions.length !== T * 3) {
    throw new RangeError(`referenceSourceClip: ${T} frames of ${Jr} joints do not match the data`);
  }
  const index = new Map(source.names.map((n, i) => [n, i]));
  const slots = ref.jointNames.map((n) => {
    const j = index.get(n);
    if (j === undefined) throw new RangeError(`referenceSourceClip: joint "${n}" is not on the clip's skeleton`);
    return j;
  });
  const clip = restClip(source, T, ref.fps);
  const J = source.names.length;
  const src = ref.rotations;
  const dst = clip.rotations;
  for (let t = 0; t < T; t++) {
    for (let k = 0; k < Jr; k++) {
      const o = (t * Jr + k) * 4;
      const d = (t * J + slots[k]) * 4;
      const n = Math.hypot(src[o], src[o + 1], src[o + 2], src[o + 3]);
      // Validation refuses zero quaternions; a degenerate one that slipped through holds rest.
      if (!(n > 1e-12)) continue;
      dst[d] = src[o] / n;
      dst[d + 1] = src[o + 1] / n;
      dst[d + 2] = src[o + 2] / n;
      dst[d + 3] = src[o + 3] / n;
    }
  }
  clip.rootPositions.set(ref.rootPositions);
  return clip;
}

/** Whether two skeletons are the same rig: names, parents and rest offsets (within 0.1 mm). */
function sameRig(a: Skeleton, b: Skeleton): boolean {
  if (a.names.length !== b.names.length) return false;
  for (let j = 0; j < a.names.length; j++) {
    if (a.names[j] !== b.names[j] || a.parents[j] !== b.parents[j]) return false;
    for (let k = 0; k < 3; k++) if (Math.abs(a.offsets[j * 3 + k] - b.offsets[j * 3 + k]) > 1e-4) return false;
  }
  return true;
}

export interface ReferenceClipOptions {
  /** The request skeleton's humanoid map, when the caller has it (else it is worked out on demand). */
  targetMap?: HumanoidMap;
}

/**
 * The reference as `frames` frames at `fps` on `target` (the request skeleton). Throws GatewayError
 * MG-PRO-004 when the clip's own rig or the target cannot be mapped to a humanoid for retargeting.
 */
export function referenceClip(ref: PlannedReference, target: Skeleton, fps: number, frames: number, opts: ReferenceClipOptions = {}): Clip {
  const own = ref.skeleton ? skeletonFromWire(ref.skeleton) : undefined;
  let clip: Clip;
  if (!own || sameRig(own, target)) {
    clip = referenceSourceClip(ref, target);
  } else {
    const source = referenceSourceClip(ref, own);
    clip = retarget(own, mapHumanoid(own), source, target, opts.targetMap ?? mapHumanoid(target)).clip;
  }
  return resampleClip(clip, fps, frames);
}

/**
 * Checks, before a job exists, that a motion reference's own rig can be retargeted (it maps to a humanoid);
 * throws GatewayError MG-PRO-004 (400 invalid_skeleton) otherwise. A reference without its own rig needs
 * nothing beyond the request skeleton's own check.
 */
export function checkReferenceRig(ref: Pick<PlannedReference, 'skeleton'>): void {
  if (ref.skeleton) mapHumanoid(skeletonFromWire(ref.skeleton));
}
