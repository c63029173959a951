/** How many frames a request and each of its segments cover, at the request's effective fps. */
import type { GenerateRequest, Segment } from '../spec/wire.js';

/** Total frames of the answer: the segments' sum, or duration_frames when there are none. */
export function totalFramesOf(req: GenerateRequest): number {
  const segments = req.segments ?? [];
  return segments.length ? segments.reduce((n, s) => n + segmentFrames(s), 0) : req.duration_frames!;
}

/** Frames a segment covers (pose segments one; video references from their span when no count is given). */
export function segmentFrames(s: Segment): number {
  if (s.type === 'pose') return 1;
  if (s.type === 'video_reference' && s.duration_frames === undefined) {
    return Math.max(1, Math.round(((s.end_s ?? 0) - (s.start_s ?? 0)) * (s.fps ?? 30)));
  }
  return (s as { duration_frames: number }).duration_frames;
}
