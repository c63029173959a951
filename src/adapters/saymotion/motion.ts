/**
 * From SayMotion's files to the adapter's Motion: decode a GLB, pick its animation, put its joints in the
 * canonical rig's order when it is that rig, resample each chunk to its frames and stitch the chunks of
 * a segment into one clip.
 */
import type { Clip, Skeleton } from '../../spec/motion.js';
import { composeSegments } from '../../motion/compose.js';
import { decodeAnimationFile } from '../../motion/decode.js';
import { resampleClip } from '../../motion/resample.js';
import { sayMotionError } from './errors.js';

/** Provider clips within this ratio of the asked length are time-scaled to it; others are trimmed or held. */
const MAX_RATE = 1.25;
/** Frames blended where two chunks of one segment meet. */
const CHUNK_BLEND_FRAMES = 6;

export interface DecodedResult {
  skeleton: Skeleton;
  clip: Clip;
}

/** Decodes a result file and picks its animation: the one with the most frames (files may add a 1-frame T-pose). */
export async function decodeResult(bytes: Uint8Array, fps: number, maxBytes: number, rid: string): Promise<DecodedResult> {
  let decoded;
  try {
    decoded = await decodeAnimationFile(bytes, { fps, maxBytes });
  } catch (err) {
    throw sayMotionError({ failure: 'parse', rid, message: 'the result GLB could not be decoded' }, err);
  }
  const best = decoded.clips.reduce<{ clip: Clip } | undefined>((a, c) => (!a || c.clip.numFrames > a.clip.numFrames ? c : a), undefined);
  if (!best || best.clip.numFrames < 1) throw sayMotionError({ failure: 'no_result_file', rid, message: 'the result GLB has no animation' });
  return { skeleton: decoded.skeleton, clip: best.clip };
}

/**
 * The decoded rig in the canonical joint order, when it has every canonical joint under the same parent
 * (extra leaves such as end bones are dropped); otherwise the decoded rig unchanged. Offsets stay the
 * file's: the motion is delivered on the character that made it.
 */
export function alignToCanonical(decoded: DecodedResult, canonical: Skeleton): DecodedResult {
  const { skeleton: s, clip } = decoded;
  const index = new Map(s.names.map((n, i) => [n, i]));
  const order: number[] = [];
  for (let j = 0; j < canonical.names.length; j++) {
    const i = index.get(canonical.names[j]);
    if (i === undefined) return decoded;
    const p = canonical.parents[j];
    const sp = s.parents[i];
    if ((p < 0) !== (sp < 0) || (p >= 0 && s.names[sp] !== canonical.names[p])) return decoded;
    order.push(i);
  }
  if (order.every((i, j) => i === j) && order.length === s.names.length) return decoded;
  const J = order.length;
  const offsets = new Float64Array(J * 3);
  const restRotations = new Float64Array(J * 4);
  order.forEach((i, j) => {
    offsets.set(s.offsets.subarray(i * 3, i * 3 + 3), j * 3);
    restRotations.set(s.restRotations.subarray(i * 4, i * 4 + 4), j * 4);
  });
  const rotations = new Float64Array(clip.numFrames * J * 4);
  const src = clip.rotations;
  for (let f = 0; f < clip.numFrames; f++) {
    for (let j = 0; j < J; j++) {
      const from = (f * clip.jointCount + order[j]) * 4;
      const to = (f * J + j) * 4;
      rotations[to] = src[from]; rotations[to + 1] = src[from + 1]; rotations[to + 2] = src[from + 2]; rotations[to + 3] = src[from + 3];
    }
  }
  return {
    skeleton: { names: canonical.names, parents: canonical.parents, offsets, restRotations },
    clip: { fps: clip.fps, numFrames: clip.numFrames, jointCount: J, rotations, rootPositions: clip.rootPositions },
  };
}

/**
 * A provider chunk resampled to exactly `frames` at `fps`: time-scaled when its length is within ±25 % of
 * the asked one (the provider's reading of the requested duration), else trimmed or held on its last pose.
 */
export function resampleChunk(clip: Clip, fps: number, frames: number): Clip {
  const have = clip.numFrames / clip.fps;
  const want = frames / fps;
  const rate = have / want;
  const source = rate > 1 / MAX_RATE && rate < MAX_RATE && rate !== 1 ? { ...clip, fps: clip.numFrames / want } : clip;
  return resampleClip(source, fps, frames);
}

/** The chunks of one segment as one clip, aligned and blended at each seam; also the seams' frames. */
export function stitchChunks(skeleton: Skeleton, chunks: readonly Clip[]): { clip: Clip; boundaries: number[] } {
  if (chunks.length === 1) return { clip: chunks[0], boundaries: [] };
  const { clip, segmentStarts } = composeSegments(skeleton, chunks, chunks.map(() => 'text'), CHUNK_BLEND_FRAMES);
  return { clip, boundaries: segmentStarts.slice(1) };
}
