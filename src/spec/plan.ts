/** A validated request as adapters and the motion pipeline see it: segments on one global timeline. */
import type { Constraint, GenerateRequest, ModelCapabilities, SegmentType } from './wire.js';

/** One segment of the request as planned on the global timeline (frames at the effective fps). */
export interface PlannedSegment {
  index: number;
  type: SegmentType;
  /** The prompt of text and pose segments. */
  prompt?: string;
  language?: string;
  startFrame: number;
  frames: number;
  seconds: number;
  /** The seed this segment uses (segment seed when supported, else derived from the request seed). */
  seed: number;
}

/** A validated request, normalized for adapters and the motion pipeline. */
export interface GenerationPlan {
  request: GenerateRequest;
  model: ModelCapabilities;
  /** Effective frame rate: timing.fps or the model's native fps. */
  fps: number;
  totalFrames: number;
  /** Segments on the global timeline; a constraints-only request has one unconditioned segment. */
  segments: PlannedSegment[];
  constraints: Constraint[];
  numSamples: number;
  /** The request seed (options.seed, or one drawn when the job was created and stored with it). */
  seed: number;
  /** Whether options.seed was given (the answer must then be reproducible). */
  seeded: boolean;
  transitionFrames: number;
  postProcessing: boolean;
  loop: boolean;
  /** request.extensions[provider] for the adapter serving the request, or {}. */
  extensions: Record<string, unknown>;
}
