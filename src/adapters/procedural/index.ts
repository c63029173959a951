/**
 * The embedded procedural motion model: an offline, deterministic adapter that turns prompts into
 * hand-crafted, foot-driven motion on its own 22-joint canonical skeleton. No network, no state, one step.
 */
import type { Adapter, Checkpoint, GenerationPlan, ModelSpec, SampleMotion, Step } from '../contract.js';
import { GatewayError } from '../../protocol/errors.js';
import type { ModelCapabilities } from '../../protocol/wire.js';
import { generateSegment } from './generate.js';
import { CONTACT_JOINTS, PROCEDURAL_SKELETON, proceduralSkeletonWire } from './skeleton.js';

export const PROCEDURAL_PROVIDER = 'procedural';
export const PROCEDURAL_MODEL_ID = 'procedural';
export const PROCEDURAL_FPS = 30;

export interface ProceduralAdapterOptions {
  /** Another model id (e.g. to run two differently-flagged copies side by side). */
  modelId?: string;
  /** Capability fields to override (flags, limits, description); the skeleton and fps stay the model's. */
  capabilities?: Partial<Omit<ModelCapabilities, 'canonical_skeleton' | 'fps' | 'limits'>> & { limits?: Partial<ModelCapabilities['limits']> };
}

/** The model's entry of GET /capabilities. */
export function proceduralCapabilities(opts: ProceduralAdapterOptions = {}): ModelCapabilities {
  const { limits, ...flags } = opts.capabilities ?? {};
  return {
    id: opts.modelId ?? PROCEDURAL_MODEL_ID,
    description: 'Built-in procedural motion model: 31 foot-driven motions (walk, run, jump, wave, sit, turn, dance…) recognised from English prompts; deterministic per seed.',
    provider: PROCEDURAL_PROVIDER,
    fps: PROCEDURAL_FPS,
    supports_retargeting: true,
    supports_async: true,
    supports_segment_seed: true,
    supports_loop: true,
    supports_trajectory: true,
    supports_batch: true,
    supports_motion_reference_mixed: false,
    supported_constraints: ['root_path', 'effector_target', 'pose_keyframe'],
    supported_segments: ['text', 'unconditioned'],
    supported_guidance_types: [],
    predicted_contact_joints: [...CONTACT_JOINTS],
    native_clip_seconds: 30,
    chunking: 'none',
    recommended_max_duration_seconds: 30,
    ...flags,
    canonical_skeleton: proceduralSkeletonWire(),
    limits: {
      max_duration_seconds: 30,
      max_num_samples: 16,
      max_constraints_per_request: 64,
      max_prompt_length: 1000,
      max_request_bytes: 1048576,
      max_batch_size: 16,
      ...limits,
    },
  };
}

/** Generates every sample of a plan at once (a 10 s, 8-sample request takes a few tens of milliseconds). */
export function generatePlan(plan: GenerationPlan): SampleMotion[] {
  const samples: SampleMotion[] = [];
  for (let i = 0; i < plan.numSamples; i++) {
    const parts = plan.segments.map((seg) => generateSegment(seg, plan.fps, i));
    samples.push({
      segments: parts.map((p) => p.generated.clip),
      chunkBoundaries: plan.segments.map(() => []),
      understood: parts.map((p) => p.understood),
    });
  }
  return samples;
}

export function createProceduralAdapter(opts: ProceduralAdapterOptions = {}): Adapter {
  const model: ModelSpec = proceduralCapabilities(opts);
  return {
    provider: PROCEDURAL_PROVIDER,
    models: () => [model],
    readiness: () => ({ ready: true }),
    async start(plan: GenerationPlan): Promise<Checkpoint> {
      const supported = plan.model.supported_segments ?? model.supported_segments;
      const bad = plan.segments.find((s) => s.type !== 'text' && s.type !== 'unconditioned');
      if (bad) {
        throw new GatewayError('MG-PRO-006', undefined, { details: { segment: bad.index, type: bad.type, supported_segments: supported } });
      }
      // Nothing to submit: the whole job happens in the first advance().
      return {};
    },
    async advance(plan: GenerationPlan): Promise<Step> {
      return { kind: 'done', motion: { skeleton: PROCEDURAL_SKELETON, samples: generatePlan(plan) } };
    },
    async cancel(): Promise<void> {
      // Nothing runs between calls, so there is nothing to stop.
    },
  };
}
