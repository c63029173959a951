/**
 * The embedded procedural motion model: an offline, deterministic adapter that turns prompts into
 * hand-crafted, foot-driven motion on its own 22-joint canonical skeleton. No network, no state, one step.
 */
import type { Adapter, ProviderDefinition, Step } from '../../spec/adapter.js';
import { GatewayError } from '../../spec/errors.js';
import type { GenerationPlan } from '../../spec/plan.js';
import type { ModelCapabilities } from '../../spec/wire.js';
import { defineModel, type ModelLimits } from '../kit/model.js';
import { CONTACT_JOINTS, proceduralSkeletonWire } from './rig.js';
import { PROCEDURAL_WORK } from './work.js';

export { generatePlan } from './work.js';

const PROCEDURAL_PROVIDER = 'procedural';
export const PROCEDURAL_MODEL_ID = 'procedural';
const PROCEDURAL_FPS = 30;

export interface ProceduralAdapterOptions {
  /** Another model id (e.g. to run two differently-flagged copies side by side). */
  modelId?: string;
  /** Capability fields to override (flags, limits, description); the skeleton and fps stay the model's. */
  capabilities?: Partial<Omit<ModelCapabilities, 'canonical_skeleton' | 'fps' | 'limits'>> & { limits?: Partial<ModelLimits> };
}

/** Nothing runs between calls, so the checkpoint holds nothing. */
type ProceduralCheckpoint = Record<string, never>;

class ProceduralAdapter implements Adapter<ProceduralCheckpoint> {
  readonly provider = PROCEDURAL_PROVIDER;
  private readonly model: ModelCapabilities;

  constructor(opts: ProceduralAdapterOptions) {
    const { limits, ...flags } = opts.capabilities ?? {};
    this.model = defineModel({
      id: opts.modelId ?? PROCEDURAL_MODEL_ID,
      description: 'Built-in procedural motion model: 31 foot-driven motions (walk, run, jump, wave, sit, turn, dance…) recognised from English prompts; deterministic per seed.',
      provider: PROCEDURAL_PROVIDER,
      fps: PROCEDURAL_FPS,
      supports_segment_seed: true,
      supports_batch: true,
      predicted_contact_joints: [...CONTACT_JOINTS],
      native_clip_seconds: 30,
      ...flags,
      canonical_skeleton: proceduralSkeletonWire(),
      limits,
    });
  }

  models(): ModelCapabilities[] {
    return [this.model];
  }

  readiness() {
    return { ready: true };
  }

  async start(plan: GenerationPlan): Promise<ProceduralCheckpoint> {
    const bad = plan.segments.find((s) => s.type !== 'text' && s.type !== 'unconditioned');
    if (bad) {
      throw new GatewayError('MG-PRO-006', undefined, { details: { segment: bad.index, type: bad.type, supported_segments: this.model.supported_segments } });
    }
    // Nothing to submit: the whole job happens in the first advance().
    return {};
  }

  /** Done at once: the motion is generated on a worker thread, in the same hop as the pipeline. */
  async advance(plan: GenerationPlan): Promise<Step<ProceduralCheckpoint>> {
    return { kind: 'compute', task: { module: PROCEDURAL_WORK, fn: 'proceduralMotion', input: plan } };
  }

  async cancel(): Promise<void> {
    // Nothing runs between calls, so there is nothing to stop.
  }
}

export function createProceduralAdapter(opts: ProceduralAdapterOptions = {}): Adapter<ProceduralCheckpoint> {
  return new ProceduralAdapter(opts);
}

/** Always configured: the model needs no account and no variables. */
export const proceduralProvider: ProviderDefinition<ProceduralAdapterOptions> = {
  provider: PROCEDURAL_PROVIDER,
  envPrefix: 'PROCEDURAL_',
  readConfig: () => ({}),
  create: (options) => createProceduralAdapter(options),
};
