/**
 * The embedded procedural motion model: an offline, deterministic adapter that turns prompts into
 * hand-crafted, foot-driven motion on its own 22-joint canonical skeleton. No network, no state, one step.
 */
import type { Adapter, ProviderDefinition, Step } from '../../spec/adapter.js';
import { GatewayError } from '../../spec/errors.js';
import type { GenerationPlan } from '../../spec/plan.js';
import type { ModelCapabilities } from '../../spec/wire.js';
import { defineModel, type ModelLimits } from '../kit/model.js';
import { MOTIONS } from './motions/index.js';
import { MOTION_IDS, POSE_IDS, understand, understandPose } from './prompt.js';
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
      description: `Built-in procedural motion model: ${MOTION_IDS.length} foot-driven motions (walk, run, jump, climb stairs, backflip, crawl, push, pick up, fall down, get up, dance…) and style modifiers (slowly, tired, sneaking, limping, zombie, angry, happy…) recognised from English prompts, and ${POSE_IDS.length} poses (T-pose, sitting, kneeling, arms raised…) for pose segments; deterministic per seed. An unrecognised prompt gets a neutral idle, reported in x_understood and the X-Prompt-Unrecognized header; extensions.procedural.strict: true refuses it instead.`,
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
    // A motion_reference segment is the pipeline's to splice in: the model holds its place like a gap.
    const bad = plan.segments.find((s) => s.type !== 'text' && s.type !== 'unconditioned' && s.type !== 'pose' && !s.reference);
    if (bad) {
      throw new GatewayError('MG-PRO-006', undefined, { details: { segment: bad.index, type: bad.type, supported_segments: this.model.supported_segments } });
    }
    if (readStrict(plan)) {
      for (const s of plan.segments) {
        if (s.type === 'pose') {
          const p = understandPose(s.prompt ?? '');
          if (p.recognized) continue;
          throw new GatewayError('MG-PRO-014', `Segment ${s.index}: the prompt names no pose the procedural model knows (extensions.procedural.strict is on).`, {
            details: { segment: s.index, prompt: s.prompt, ignored: p.ignored, nearest: p.nearest ?? [], known_poses: POSE_IDS.length },
            action: `Rephrase the pose prompt with a known pose (closest: ${(p.nearest ?? []).join(', ')}), or leave extensions.procedural.strict off to get a neutral standing pose.`,
          });
        }
        if (s.type !== 'text') continue;
        const u = understand(s.prompt ?? '');
        if (u.recognized) continue;
        const nearest = u.nearest ?? [];
        throw new GatewayError('MG-PRO-014', `Segment ${s.index}: the prompt names no motion the procedural model knows (extensions.procedural.strict is on).`, {
          details: {
            segment: s.index,
            prompt: s.prompt,
            ignored: u.ignored,
            nearest,
            alternatives: nearest.map((id) => ({ motion: id, description: MOTIONS[id].description })),
            known_motions: MOTION_IDS.length,
          },
          action: `Rephrase the prompt with a known motion (closest: ${nearest.join(', ')}), or leave extensions.procedural.strict off to get a neutral idle.`,
        });
      }
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

/** Options a request may set in `extensions.procedural`. */
const KNOWN_EXTENSIONS = ['strict'] as const;

/**
 * `extensions.procedural.strict`: true refuses a prompt that names no known motion (400 invalid_request,
 * MG-PRO-014, with the nearest motions) instead of answering a neutral idle. Unknown keys are refused.
 */
function readStrict(plan: GenerationPlan): boolean {
  for (const key of Object.keys(plan.extensions)) {
    if (!(KNOWN_EXTENSIONS as readonly string[]).includes(key)) {
      throw new GatewayError('MG-PRO-007', `extensions.procedural.${key} is not a procedural-model option.`, { details: { option: `extensions.procedural.${key}`, allowed: [...KNOWN_EXTENSIONS] } });
    }
  }
  const strict = plan.extensions.strict;
  if (strict !== undefined && typeof strict !== 'boolean') {
    throw new GatewayError('MG-PRO-007', 'extensions.procedural.strict must be true or false.', { details: { option: 'extensions.procedural.strict', allowed: [true, false] } });
  }
  return strict === true;
}

/** Always configured: the model needs no account and no variables. */
export const proceduralProvider: ProviderDefinition<ProceduralAdapterOptions> = {
  provider: PROCEDURAL_PROVIDER,
  envPrefix: 'PROCEDURAL_',
  readConfig: () => ({}),
  create: (options) => createProceduralAdapter(options),
};
