/**
 * defineModel(): a model's entry of GET /capabilities from what is particular to it. The defaults are
 * what the gateway's motion toolkit gives every model whatever its provider (retargeting, loops,
 * trajectories, the four constraint types); gateway-wide limits (request bytes, batch size, the fps bound
 * and the output and work budgets of docs/limits.md) are set by the registry from the configuration, so
 * no adapter states them.
 */
import type { Limits, ModelCapabilities } from '../../spec/wire.js';

type GatewayLimitName = 'max_request_bytes' | 'max_batch_size' | 'max_reference_frames' | 'x_max_fps' | 'x_max_output_bytes' | 'x_max_batch_output_bytes' | 'x_max_work';

/**
 * The limits a deployment sets for every model: MMCP's request bytes and batch size, and this gateway's
 * fps bound and budgets (x_-prefixed; absent ones are not enforced).
 */
export type GatewayLimits = Pick<Limits, 'max_request_bytes' | 'max_batch_size'> & Partial<Pick<Limits, GatewayLimitName>>;

/** The limits a model states itself (the gateway-wide ones are filled in by the registry). */
export type ModelLimits = Omit<Limits, GatewayLimitName>;

export type ModelDefinition = Pick<ModelCapabilities, 'id' | 'provider' | 'description' | 'fps' | 'canonical_skeleton' | 'predicted_contact_joints'> &
  Partial<Omit<ModelCapabilities, 'limits'>> & { limits?: Partial<ModelLimits> };

const DEFAULT_MODEL_LIMITS: ModelLimits = {
  max_duration_seconds: 30,
  max_num_samples: 16,
  max_constraints_per_request: 64,
  max_prompt_length: 1000,
};

/** Placeholders until the registry applies the configured gateway-wide limits (the x_ budgets have none). */
const GATEWAY_LIMIT_DEFAULTS = { max_request_bytes: 1_048_576, max_batch_size: 16 };

export function defineModel(def: ModelDefinition): ModelCapabilities {
  const { limits, ...fields } = def;
  return {
    supports_retargeting: true,
    supports_async: true,
    supports_segment_seed: false,
    supports_loop: true,
    supports_trajectory: true,
    supports_batch: false,
    supports_motion_reference_mixed: false,
    // ground_height too: the toolkit carries any model's motion onto the ground (src/motion/ground-plant.ts).
    supported_constraints: ['root_path', 'effector_target', 'pose_keyframe', 'ground_height'],
    // motion_reference: the pipeline splices it in for every model (adapters hold its place like a gap).
    // pose: every adapter answers it with one frame (the procedural model from its pose vocabulary,
    // provider models from a representative frame of a short motion for the prompt).
    supported_segments: ['text', 'unconditioned', 'pose', 'motion_reference'],
    supported_guidance_types: [],
    native_clip_seconds: def.native_clip_seconds ?? limits?.max_duration_seconds ?? DEFAULT_MODEL_LIMITS.max_duration_seconds,
    chunking: 'none',
    recommended_max_duration_seconds: def.recommended_max_duration_seconds ?? def.native_clip_seconds ?? limits?.max_duration_seconds ?? DEFAULT_MODEL_LIMITS.max_duration_seconds,
    ...fields,
    limits: { ...DEFAULT_MODEL_LIMITS, ...GATEWAY_LIMIT_DEFAULTS, ...limits },
  };
}

/**
 * A model with the gateway-wide limits of this deployment. max_reference_frames applies (and is
 * advertised) only where the model lists motion_reference in supported_segments, as the reference server
 * does; the video limits are never advertised (no model takes video_reference). Listing motion_reference
 * is the one switch: such a model also says supports_motion_reference_mixed (a reference composes like a
 * text segment, mixed with any other; the reference server implies it the same way).
 */
export function withGatewayLimits(model: ModelCapabilities, gateway: GatewayLimits): ModelCapabilities {
  const { max_reference_frames: maxRef, ...rest } = gateway;
  const limits: ModelCapabilities['limits'] = { ...model.limits, ...rest };
  const takesReferences = model.supported_segments.includes('motion_reference');
  if (takesReferences && maxRef !== undefined) limits.max_reference_frames = maxRef;
  if (!takesReferences) delete limits.max_reference_frames;
  return { ...model, ...(takesReferences ? { supports_motion_reference_mixed: true } : {}), limits };
}
