/**
 * The motion data types every layer shares: a skeleton, a clip of dense frames on it, and the motion an
 * adapter hands the pipeline. Plain typed arrays; the math over them lives in src/motion.
 */

/** The internal skeleton: joints in parent-first order with world-axis rest offsets. */
export interface Skeleton {
  /** Joint names, parents always before children. */
  readonly names: readonly string[];
  /** Parent index per joint; -1 for the root (index 0). */
  readonly parents: Int32Array;
  /** Rest position minus parent's rest position, along world axes (J×3); the root's is its rest position. */
  readonly offsets: Float64Array;
  /** Local rest rotations as sent on the wire (J×4); identity for protocol-1.2 skeletons. */
  readonly restRotations: Float64Array;
}

/** Dense frames on one skeleton: what every adapter returns and the pipeline transforms. */
export interface Clip {
  /** Frames per second of the dense samples. */
  fps: number;
  numFrames: number;
  jointCount: number;
  /** Local rotations measured from a world-aligned rest, [frame][joint][x,y,z,w]. */
  rotations: Float64Array;
  /** World position of the root joint per frame, [frame][x,y,z], metres, +Y up. */
  rootPositions: Float64Array;
  /**
   * Animated translations of joints other than the root, when a step placed them (floor-level roots and
   * IK bones, see docs/rigs.md); absent everywhere else. Only the last pipeline steps set it.
   */
  jointTranslations?: JointTranslations;
}

/** Per-frame local translations of a few joints, replacing their rest offsets. */
export interface JointTranslations {
  /** The joints translated, ascending. */
  joints: readonly number[];
  /** [frame][k][x,y,z]: joint `joints[k]`'s offset from its parent along world-aligned rest axes (as Skeleton.offsets). */
  offsets: Float64Array;
}

/** What a model understood of one segment (reported in the answer as `x_understood`). */
export interface Understanding {
  segment: number;
  [key: string]: unknown;
}

/** The motion of one sample: one clip per planned segment, on `Motion.skeleton`, at any fps. */
export interface SampleMotion {
  segments: Clip[];
  /** Per segment: frames (relative to the segment, at the effective fps) where provider chunks were stitched. */
  chunkBoundaries?: number[][];
  understood?: Understanding[];
}

/** The finished motion of a job, before composition, retargeting and encoding. */
export interface Motion {
  /** The skeleton the clips animate (the provider's rig or the model's canonical skeleton). */
  skeleton: Skeleton;
  samples: SampleMotion[];
}
