/**
 * Between this gateway and an upstream MMCP server: the upstream's models as entries of our
 * /capabilities (`<upstream id>/<model id>`, with what our toolkit adds), and a plan as the request the
 * upstream answers on its own canonical skeleton (our pipeline retargets and applies the constraints).
 */
import type { GenerationPlan } from '../../spec/plan.js';
import type { GenerateRequest, Joint, ModelCapabilities, Segment, Skeleton as WireSkeleton } from '../../spec/wire.js';
import { defineModel } from '../kit/model.js';

/** What a job needs to know of the upstream model it runs on (kept with the adapter's capabilities). */
export interface UpstreamModel {
  /** The upstream's own model id. */
  id: string;
  protocolVersion: string;
  supportsAsync: boolean;
  supportsLoop: boolean;
  supportsSegmentSeed: boolean;
  segments: string[];
  guidanceTypes: string[];
  canonicalSkeleton: WireSkeleton;
}

/** The segment types an upstream generates for us; motion_reference is our pipeline's, whatever it says. */
const FORWARDED_SEGMENTS = ['text', 'unconditioned', 'pose'] as const;

/** Our model id of an upstream model. `/` is allowed by the schema and cannot clash with in-tree ids. */
const modelIdOf = (upstream: string, model: string): string => `${upstream}/${model}`;

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const positive = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined);
const vector = (v: unknown, n: number): boolean => Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/** A canonical skeleton that looks like one (names, parents before children, finite vectors), else undefined. */
function skeletonOf(v: unknown): WireSkeleton | undefined {
  if (!isObject(v) || !Array.isArray(v.joints) || v.joints.length === 0 || v.joints.length > 1024) return undefined;
  const seen = new Set<string>();
  for (const j of v.joints as unknown[]) {
    if (!isObject(j) || typeof j.name !== 'string' || seen.has(j.name)) return undefined;
    if (!(j.parent === null || (typeof j.parent === 'string' && seen.has(j.parent)))) return undefined;
    if (!vector(j.rest_translation, 3) || !(j.rest_rotation === undefined || vector(j.rest_rotation, 4))) return undefined;
    seen.add(j.name);
  }
  const joints = (v.joints as Joint[]).map((j) => ({ name: j.name, parent: j.parent, rest_translation: j.rest_translation, rest_rotation: j.rest_rotation ?? [0, 0, 0, 1] }));
  return { joints: joints as WireSkeleton['joints'], coordinate_system: 'right_handed_y_up', units: 'meters' };
}

export interface UpstreamCatalog {
  models: ModelCapabilities[];
  /** By our model id. */
  upstream: Map<string, UpstreamModel>;
  /** Upstream models left out, and why (logged). */
  skipped: Array<{ model: string; reason: string }>;
}

/** An upstream's GET /capabilities as our models. Models we cannot serve are left out, with the reason. */
export function catalogOf(upstreamId: string, caps: unknown): UpstreamCatalog {
  const out: UpstreamCatalog = { models: [], upstream: new Map(), skipped: [] };
  if (!isObject(caps) || !Array.isArray(caps.models)) return out;
  const protocolVersion = typeof caps.protocol_version === 'string' && /^1\.\d+$/.test(caps.protocol_version) ? caps.protocol_version : '1.2';
  for (const m of caps.models as unknown[]) {
    if (!isObject(m) || typeof m.id !== 'string' || m.id.length === 0 || m.id.length > 200) continue;
    const skip = (reason: string) => out.skipped.push({ model: String(m.id), reason });
    const fps = positive(m.fps);
    const skeleton = skeletonOf(m.canonical_skeleton);
    if (!fps || fps > 480) {
      skip('no valid fps');
      continue;
    }
    if (!skeleton) {
      skip('no valid canonical_skeleton');
      continue;
    }
    const segments = isObject(m) && Array.isArray(m.supported_segments) ? strings(m.supported_segments) : ['text', 'unconditioned'];
    const generated = FORWARDED_SEGMENTS.filter((t) => segments.includes(t));
    if (!generated.includes('text')) {
      skip('no text segments');
      continue;
    }
    const limits = isObject(m.limits) ? m.limits : {};
    const upstream: UpstreamModel = {
      id: m.id,
      protocolVersion,
      supportsAsync: m.supports_async === true,
      supportsLoop: m.supports_loop === true,
      supportsSegmentSeed: m.supports_segment_seed === true,
      segments,
      guidanceTypes: strings(m.supported_guidance_types).filter((g) => ['nocfg', 'regular', 'separated'].includes(g)),
      canonicalSkeleton: skeleton,
    };
    const id = modelIdOf(upstreamId, m.id);
    const joints = new Set(skeleton.joints.map((j) => j.name));
    const native = positive(m.native_clip_seconds);
    out.models.push(
      defineModel({
        id,
        provider: upstreamId,
        description: `${typeof m.description === 'string' ? m.description.slice(0, 500) : m.id} (served by the MMCP server "${upstreamId}"; retargeted and constrained by this gateway)`,
        fps,
        canonical_skeleton: skeleton,
        predicted_contact_joints: strings(m.predicted_contact_joints).filter((j) => joints.has(j)),
        supports_segment_seed: upstream.supportsSegmentSeed,
        // Every item of a batch is a job of its own here: the upstream never sees the batch.
        supports_batch: true,
        // Constraints and references are applied by our pipeline, on the caller's skeleton.
        supported_segments: [...generated, 'motion_reference'],
        supported_guidance_types: upstream.guidanceTypes as ModelCapabilities['supported_guidance_types'],
        ...(native ? { native_clip_seconds: native } : {}),
        chunking: m.chunking === 'stitched' ? 'stitched' : 'none',
        ...(positive(m.recommended_max_duration_seconds) ? { recommended_max_duration_seconds: positive(m.recommended_max_duration_seconds) } : {}),
        limits: {
          ...(positive(limits.max_duration_seconds) ? { max_duration_seconds: positive(limits.max_duration_seconds) } : {}),
          ...(positive(limits.max_num_samples) ? { max_num_samples: Math.floor(positive(limits.max_num_samples)!) } : {}),
          ...(positive(limits.max_prompt_length) ? { max_prompt_length: Math.floor(positive(limits.max_prompt_length)!) } : {}),
        },
      }),
    );
    out.upstream.set(id, upstream);
  }
  return out;
}

/**
 * The request the upstream answers: the plan's segments (a motion_reference segment held by an
 * unconditioned one of its length, the pipeline splices the reference in), its seed, samples and fps, on
 * the upstream model's canonical skeleton, without constraints (applied by our pipeline after
 * retargeting). `extensions.<upstream id>` of the caller's request becomes the upstream request's
 * `extensions` (e.g. {"kimodo": {"procedural": {"strict": true}}}).
 */
export function upstreamRequest(plan: GenerationPlan, model: UpstreamModel, nativeFps: number): GenerateRequest {
  const wire = plan.request.segments ?? [];
  const ownSeed = (i: number): number | undefined => {
    const s = wire[i] as { seed?: unknown } | undefined;
    return model.supportsSegmentSeed && typeof s?.seed === 'number' ? s.seed : undefined;
  };
  const segments: Segment[] = plan.segments.map((s): Segment => {
    const seed = ownSeed(s.index);
    if (s.type === 'text') return { type: 'text', prompt: s.prompt!, duration_frames: s.frames, ...(s.language ? { language: s.language } : {}), ...(seed !== undefined ? { seed } : {}) };
    if (s.type === 'pose') return { type: 'pose', prompt: s.prompt!, ...(s.language ? { language: s.language } : {}), ...(seed !== undefined ? { seed } : {}) } as Segment;
    return { type: 'unconditioned', duration_frames: s.frames, ...(seed !== undefined ? { seed } : {}) };
  });
  const opts = plan.request.options ?? {};
  const guidance = opts.guidance && model.guidanceTypes.includes(opts.guidance.type) ? { guidance: opts.guidance } : {};
  return {
    protocol_version: model.protocolVersion,
    model: model.id,
    skeleton: model.canonicalSkeleton,
    segments,
    ...(plan.fps !== nativeFps ? { timing: { fps: plan.fps } } : {}),
    options: {
      num_samples: plan.numSamples,
      seed: plan.seed,
      transition_frames: plan.transitionFrames,
      post_processing: plan.postProcessing,
      ...(opts.diffusion_steps !== undefined ? { diffusion_steps: opts.diffusion_steps } : {}),
      ...guidance,
      ...(plan.loop && model.supportsLoop ? { loop: true } : {}),
    },
    ...(Object.keys(plan.extensions).length ? { extensions: plan.extensions as GenerateRequest['extensions'] } : {}),
  };
}

/** The first segment the upstream cannot generate, if any (the type it would have to be sent as). */
export function unsupportedSegment(plan: GenerationPlan, model: UpstreamModel): { index: number; type: string } | undefined {
  for (const s of plan.segments) {
    const sent = s.type === 'text' || s.type === 'pose' ? s.type : 'unconditioned';
    if (!model.segments.includes(sent)) return { index: s.index, type: s.type };
  }
  return undefined;
}
