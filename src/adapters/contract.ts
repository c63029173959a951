/**
 * The adapter contract: the one small, job-shaped interface every motion provider implements. An adapter
 * offers models, turns a validated request into provider work described by a serializable checkpoint,
 * advances that work one step at a time, cancels it, and finally returns motion as clips on a known
 * skeleton. It never encodes glTF, never touches HTTP routing, and holds no hidden per-job state: all a
 * job needs to resume after a restart lives in its checkpoint.
 */
import type { ModelCapabilities, GenerateRequest, Constraint } from '../protocol/wire.js';
import type { Clip } from '../motion/clip.js';
import type { Skeleton } from '../motion/skeleton.js';

/** What a model offers: exactly its entry of GET /capabilities. */
export type ModelSpec = ModelCapabilities;

/** JSON-serializable checkpoint data (stored in SQLite between steps). */
export type Checkpoint = { [key: string]: unknown };

/** One segment of the request as planned on the global timeline (frames at the effective fps). */
export interface PlannedSegment {
  index: number;
  type: 'text' | 'unconditioned' | 'pose' | 'motion_reference' | 'video_reference';
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
  model: ModelSpec;
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

/** What a model understood of one segment (reported in the answer). */
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

/** A durable key-value space for an adapter (e.g. Meshy's rig task id), shared by all jobs. */
export interface AdapterStore {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
  delete(key: string): void;
}

/** What the job runner hands an adapter on every call. */
export interface JobContext {
  jobId: string;
  /** Aborted when the job is cancelled or the process is shutting down: stop at the next checkpoint. */
  signal: AbortSignal;
  /** Epoch ms after which the job fails with a timeout. */
  deadline: number;
  /** Persists a checkpoint at once (before the next billable call, so a restart never pays twice). */
  saveCheckpoint(checkpoint: Checkpoint): void;
  store: AdapterStore;
  log: Logger;
}

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** The outcome of one step of work. */
export type Step =
  | {
      kind: 'pending';
      checkpoint: Checkpoint;
      /** 0..1 when known. */
      progress?: number;
      /** Jobs ahead of this one at the provider, when known. */
      queuePosition?: number;
      /** Suggested wait before the next advance(). */
      waitMs: number;
    }
  | { kind: 'done'; motion: Motion };

export interface Readiness {
  ready: boolean;
  reason?: string;
}

export interface Adapter {
  /** Provider name: the key of request.extensions it reads, and `details.provider` in its errors. */
  readonly provider: string;
  /** The models this adapter offers now. */
  models(): ModelSpec[];
  /** Called once at start-up (e.g. to log in or read account limits); must not throw. */
  init?(ctx: { store: AdapterStore; log: Logger }): Promise<void>;
  /** Whether the adapter can take work, and if not, why. */
  readiness(): Readiness;
  /**
   * Checks the plan against what the provider can do and returns the first checkpoint. Makes no billable
   * call. Throws GatewayError for requests the provider cannot serve (answered before any job exists).
   */
  start(plan: GenerationPlan): Promise<Checkpoint>;
  /** Advances the work by one step from `checkpoint`. Throws GatewayError when the job has failed. */
  advance(plan: GenerationPlan, checkpoint: Checkpoint, ctx: JobContext): Promise<Step>;
  /** Cancels the provider's work for this checkpoint, where the provider allows it. */
  cancel(plan: GenerationPlan, checkpoint: Checkpoint, ctx: JobContext): Promise<void>;
  /** Releases connections and timers. */
  close?(): Promise<void>;
}
