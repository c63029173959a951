/**
 * The motion-quality harness shared by `bench/motion-quality.ts` and `test/motion/quality.test.ts`:
 * builds a procedural request on a rig, makes its answer as the gateway does (generation of every
 * segment, then `renderMotion`: composition, cleanup, retargeting, constraints, GLB encoding), reads
 * the GLB back (src/tools/read-answer.ts) and measures sample 0 with `measureClip`.
 */
import { createProceduralAdapter, generatePlan } from '../../src/adapters/procedural/index.js';
import { generateMotion } from '../../src/adapters/procedural/generate.js';
import type { MotionId } from '../../src/adapters/procedural/prompt.js';
import { MOTIONS } from '../../src/adapters/procedural/motions/index.js';
import { PROCEDURAL_SKELETON } from '../../src/adapters/procedural/rig.js';
import { mapHumanoid } from '../../src/motion/humanoid.js';
import { renderMotion } from '../../src/motion/pipeline.js';
import { measureClip, type ClipQuality } from '../../src/motion/quality.js';
import { skeletonToWire } from '../../src/motion/skeleton.js';
import { buildPlan } from '../../src/protocol/plan.js';
import { readAnswer } from '../../src/tools/read-answer.js';
import type { SampleMotion } from '../../src/spec/motion.js';
import type { GenerateRequest } from '../../src/spec/wire.js';
import { FIXTURE_NAMES, FIXTURE_RIGS } from '../fixtures/skeletons/index.js';

const FPS = 30;
const model = createProceduralAdapter().models()[0];

/** The rigs measured: the model's own skeleton, then every fixture rig. */
export const QUALITY_RIGS = ['canonical', ...FIXTURE_NAMES] as const;
export type QualityRig = (typeof QUALITY_RIGS)[number];

/** Every motion of the vocabulary, read at run time. */
export const qualityMotions = (): string[] => Object.keys(MOTIONS);

/** Prompts with style modifiers, measured next to the plain motions. */
export const MODIFIER_PROMPTS = ['walk slowly', 'tired walk', 'sneaking walk', 'limping walk', 'zombie walk', 'angry punch', 'happy jump'];

/** The seam case of issue 10. */
export const SEAM_SEGMENTS: ReadonlyArray<{ prompt: string; frames: number }> = [
  { prompt: 'walk', frames: 60 },
  { prompt: 'wave', frames: 60 },
  { prompt: 'run', frames: 60 },
];

export interface QualityCase {
  /** A motion id (generated as that motion whatever the prompt parser says), or a prompt. */
  motion?: string;
  prompt?: string;
  /** Segments of a composed request (prompts), instead of one. */
  segments?: ReadonlyArray<{ prompt: string; frames: number }>;
  rig: QualityRig;
  postProcessing: boolean;
  /** Frames of a one-segment case (default 90: 3 s at 30 fps). */
  frames?: number;
  seed?: number;
}

export interface QualityRow {
  label: string;
  rig: QualityRig;
  postProcessing: boolean;
  /** What the generator made (the understood motion of each segment). */
  understood: string;
  quality: ClipQuality;
}

function wireSkeleton(rig: QualityRig): GenerateRequest['skeleton'] {
  if (rig === 'canonical') return skeletonToWire(PROCEDURAL_SKELETON) as GenerateRequest['skeleton'];
  return FIXTURE_RIGS[rig] as unknown as GenerateRequest['skeleton'];
}

/** Label of a case: the motion id, the prompt in quotes, or the segments joined by →. */
export function caseLabel(c: QualityCase): string {
  if (c.segments) return c.segments.map((s) => `${s.prompt}(${s.frames})`).join('→');
  return c.motion ?? `"${c.prompt}"`;
}

/** Makes the answer of one case as the gateway does and measures it (sample 0, by FK of the decoded GLB). */
export async function measureCase(c: QualityCase): Promise<QualityRow> {
  const segments = c.segments ?? [{ prompt: c.prompt ?? c.motion!.replace(/_/g, ' '), frames: c.frames ?? 90 }];
  const request: GenerateRequest = {
    protocol_version: '1.2',
    model: model.id,
    skeleton: wireSkeleton(c.rig),
    segments: segments.map((s) => ({ type: 'text', prompt: s.prompt, duration_frames: s.frames })),
    timing: { fps: FPS },
    options: { num_samples: 1, post_processing: c.postProcessing },
  } as GenerateRequest;
  const plan = buildPlan(request, model, 'procedural', c.seed ?? 1);
  let samples: SampleMotion[];
  let understood: string;
  if (c.motion && !c.segments) {
    // The vocabulary's motion itself, whatever the prompt parser makes of its id.
    const seg = plan.segments[0];
    const generated = generateMotion(c.motion as MotionId, seg.frames, plan.fps, seg.seed, 0);
    samples = [{ segments: [generated.clip], chunkBoundaries: [[]] }];
    understood = c.motion;
  } else {
    samples = generatePlan(plan);
    understood = (samples[0].understood ?? []).map((u) => String(u.motion)).join('→');
  }
  const glb = renderMotion(plan, { skeleton: PROCEDURAL_SKELETON, samples });
  const decoded = await readAnswer(glb, FPS);
  const clip = decoded.samples[0].clip;
  const map = mapHumanoid(decoded.skeleton);
  const seams = plan.segments.slice(1).map((s) => s.startFrame);
  return { label: caseLabel(c), rig: c.rig, postProcessing: c.postProcessing, understood, quality: measureClip(decoded.skeleton, map, clip, { seams }) };
}

