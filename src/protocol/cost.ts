/**
 * The cost model: what a request will produce and how much work it is, estimated from the request alone
 * before a job exists. The byte estimate follows the layout `motion/gltf.ts` writes (see docs/limits.md);
 * test/protocol/cost.test.ts holds it to the real encoder so the two cannot drift apart unnoticed.
 */
import type { GenerateRequest, ModelCapabilities } from '../spec/wire.js';
import { totalFramesOf } from './frames.js';

/** What one request asks for, and what that will cost. */
export interface RequestCost {
  /** Frames of each sample at the effective fps. */
  frames: number;
  samples: number;
  /** Joints of the request skeleton (the joints the answer animates). */
  joints: number;
  /** Estimated size of the answer as GLB, the form the gateway stores. */
  outputBytes: number;
  /** Estimated size of the same answer as JSON glTF (the binary chunk as a base64 data: URI). */
  jsonBytes: number;
  /** Joint-frames the motion pipeline computes: samples × frames × (request joints + model joints). */
  work: number;
  /** num_samples × seconds: the measure the idempotency decline rule weighs. */
  sampleSeconds: number;
}

const FLOAT_BYTES = 4;
/** GLB header (12) and the two chunk headers (8 each). */
const GLB_FRAMING = 28;
/** `data:application/octet-stream;base64,` */
const DATA_URI_PREFIX = 37;
/** asset, extensionsUsed, scene(s), skin and buffer entries, MMCP_motion's fixed fields. */
const DOCUMENT_FIXED = 420;
/** A node beyond its name: translation and rotation (printed floats), children, punctuation. */
const NODE = 75;
/** One joint's LINEAR rotation channel, its sampler and its VEC4 accessor (digits counted apart). */
const CHANNEL = 178;
/** One sample's time accessor, root translation channel, buffer view and animation/sample headers. */
const SAMPLE_FIXED = 520;
/** One frame of a foot-contact flag list: `true,` or `false,`. */
const CONTACT_FLAG = 5.5;
/** One frame of a fitted trajectory: a `[x,z]` position and a yaw, printed to 3 decimals. */
const TRAJECTORY_FRAME = 22;
/** A trajectory's fitted parameters and markers. */
const TRAJECTORY_FIXED = 420;
/** One constraint's residual entry (`x_constraint_residuals`) per sample. */
const RESIDUAL = 110;

const utf8Bytes = (s: string) => Buffer.byteLength(s, 'utf8');
const digits = (n: number) => String(Math.max(0, Math.floor(n))).length;

/** The frames a request asks for, or 0 when its shape does not say (the shape check refuses those). */
function framesAsked(request: GenerateRequest): number {
  const frames = totalFramesOf(request);
  return Number.isFinite(frames) && frames > 0 ? frames : 0;
}

/**
 * Estimates the answer to `request` from `model`: sizes within a few per cent of the real GLB and JSON
 * glTF (the JSON fields of providers' own additions, such as `x_understood`, are not counted), and the
 * pipeline's work. Only reads fields the schema guarantees; never throws on a schema-valid request.
 */
export function estimateCost(request: GenerateRequest, model: ModelCapabilities): RequestCost {
  const joints = request.skeleton.joints;
  const J = joints.length;
  const F = framesAsked(request);
  const S = request.options?.num_samples ?? 1;
  const fps = request.timing?.fps ?? model.fps;

  // Binary chunk: inverse bind matrices, then per sample the times, J rotation keys (vec4) and the root translation (vec3) per frame.
  const binBytes = FLOAT_BYTES * (16 * J + S * F * (1 + 4 * J + 3));

  const names = joints.reduce((n, j) => n + utf8Bytes(j.name), 0);
  const nodes = names + NODE * J + digits(J) * J;
  const offsetDigits = digits(binBytes) + digits(F) + 2 * digits(J * S);
  const contactJoints = Math.min(model.predicted_contact_joints.length, J);
  const modelJoints = model.canonical_skeleton.joints;
  const mapping = model.supports_retargeting ? modelJoints.reduce((n, j) => n + 2 * utf8Bytes(j.name) + 6, 0) : 0;
  const perSample =
    SAMPLE_FIXED +
    J * (CHANNEL + offsetDigits) +
    contactJoints * (F * CONTACT_FLAG + 24) +
    (model.supports_trajectory ? TRAJECTORY_FIXED + F * TRAJECTORY_FRAME : 0) +
    (request.constraints?.length ?? 0) * RESIDUAL;
  const jsonChunk = DOCUMENT_FIXED + nodes + mapping + S * perSample;

  const outputBytes = Math.ceil(GLB_FRAMING + jsonChunk + binBytes);
  const jsonBytes = Math.ceil(jsonChunk + DATA_URI_PREFIX + 4 * Math.ceil(binBytes / 3));
  return {
    frames: F,
    samples: S,
    joints: J,
    outputBytes,
    jsonBytes,
    work: S * F * (J + modelJoints.length),
    sampleSeconds: (S * F) / fps,
  };
}
