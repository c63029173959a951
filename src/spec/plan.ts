/** A validated request as adapters and the motion pipeline see it: segments on one global timeline. */
import type { Constraint, GenerateRequest, Joint, ModelCapabilities, SegmentType, ServedBy } from './wire.js';

/**
 * A motion_reference segment's clip, compact and typed (validated: shapes agree, the root is among
 * jointNames, no zero quaternion). It is the reference as sent, on its own timeline: the pipeline turns it
 * into a Clip on the request skeleton (src/motion/reference.ts) and splices it in where its segment is;
 * providers never see it.
 */
export interface PlannedReference {
  /** The joints the clip animates, in the order of each frame's rotations. */
  jointNames: string[];
  /** Clip frames (T ≥ 2), at `fps`; independent of the segment's frames. */
  frameCount: number;
  /** The clip's own frame rate. */
  fps: number;
  /** T × J × 4: local rotations from rest [x, y, z, w] per frame and joint name, as sent (not normalized). */
  rotations: Float64Array;
  /** T × 3: the root joint's world position per frame. */
  rootPositions: Float64Array;
  /** The clip's own rig when it has one (jointNames are its joints; retargeted onto the request skeleton). */
  skeleton?: Joint[];
}

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
  /**
   * Set on motion_reference segments only (type "motion_reference"): the clip to splice in. Adapters
   * generate nothing for such a segment; the pipeline fills its frames from this clip.
   */
  reference?: PlannedReference;
}

/** Who served a job (MMCP_motion.x_served_by, X-Served-By): the model itself, or the route target that did. */
export type { ServedBy };

/** A target of a route that did not serve the request, and why (x_served_by.attempts). */
export type ServedAttempt = ServedBy['attempts'][number];

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
  /**
   * The ground profiles of the request's ground_height constraints (1.3), one per constraint in order:
   * n × 3 as [x, z, height] per point, in the order given (client world frame, metres); absent when there
   * are none. Read with src/motion/ground.ts (groundHeightAt / groundHeightAtProfiles).
   */
  groundProfiles?: Float64Array[];
  /**
   * Request fields this server did not know and ignored (requests of a newer minor protocol version only),
   * as paths like "segments[0].foo"; the answer lists them in MMCP_motion.x_ignored_fields. Absent or empty
   * otherwise.
   */
  ignoredFields?: string[];
  /** Who serves this plan (the answer's MMCP_motion.x_served_by); absent in plans no job serves. */
  servedBy?: ServedBy;
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
