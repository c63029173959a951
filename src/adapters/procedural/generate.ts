/** One segment of one sample: reads the prompt, draws the sample's variation, runs the motion's generator. */
import type { PlannedSegment } from '../../spec/plan.js';
import type { Understanding } from '../../spec/motion.js';
import type { Generated } from './generator.js';
import { MOTIONS, POSES } from './motions/index.js';
import { understand, understandPose, words, type Modifiers, type MotionId, type PromptUnderstanding } from './prompt.js';
import { sampleRng } from './random.js';

export interface SegmentMotion {
  generated: Generated;
  understood: Understanding;
}

/** What an unconditioned segment gets: standing idle, reported as such. */
const UNCONDITIONED: PromptUnderstanding = { motion: 'idle', recognized: true, matched: [], modifiers: {}, confidence: 1, ignored: [] };

/** FNV-1a of a prompt's normalized words: the same prompt always gives the same value, different prompts different ones. */
function promptHash(prompt: string): number {
  let h = 0x811c9dc5;
  for (const ch of words(prompt).join(' ')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Parameters rounded to millimetres / thousandths: enough to tell samples apart, short to read. */
function rounded(info: Generated['info']): Generated['info'] {
  return Object.fromEntries(Object.entries(info).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * 1000) / 1000 : v]));
}

/** Generates `motion` for `frames` frames at `fps`, the variation drawn from (seed, sample). */
export function generateMotion(motion: MotionId, frames: number, fps: number, seed: number, sample: number, mods: Modifiers = {}): Generated {
  // A manner the motion already is (walk + sneaking → sneak) is not applied a second time on top.
  const own = (motion === 'sneak' && mods.manner === 'sneak') || (motion === 'limp' && mods.manner === 'limp') || (motion === 'zombie_walk' && mods.manner === 'zombie');
  const m = own ? { ...mods, manner: undefined } : mods;
  return MOTIONS[motion].generate({ frames: Math.max(1, Math.floor(frames)), fps, rng: sampleRng(seed, sample), mods: m });
}

/** The clip and the `understood` entry of one planned segment for sample `sample`. */
export function generateSegment(segment: PlannedSegment, fps: number, sample: number): SegmentMotion {
  if (segment.type === 'pose') return generatePose(segment, fps, sample);
  const text = segment.type === 'text';
  const u = text ? understand(segment.prompt ?? '') : UNCONDITIONED;
  const unknown = text && !u.recognized;
  // An unrecognized prompt gets a neutral idle whose variation is drawn from the prompt too, so two
  // different unknown prompts never silently answer the same clip.
  const hash = unknown ? promptHash(segment.prompt ?? '') : 0;
  const seed = unknown ? (segment.seed ^ hash) >>> 0 : segment.seed;
  const generated = generateMotion(u.motion, segment.frames, fps, seed, sample, u.modifiers);
  const understood: Understanding = {
    segment: segment.index,
    source: text ? 'prompt' : segment.reference ? 'motion_reference' : 'unconditioned',
    motion: u.motion,
    recognized: u.recognized,
    matched: u.matched,
    modifiers: u.modifiers,
    confidence: u.confidence,
    params: rounded(generated.info),
  };
  if (text) understood.ignored = u.ignored;
  if (unknown) {
    understood.nearest = u.nearest ?? [];
    understood.prompt_hash = hash.toString(16).padStart(8, '0');
    understood.note = `prompt not recognized; generated a neutral standing idle (variant ${String(generated.info.variant)}) varied by the prompt's hash ${understood.prompt_hash as string}; nearest known motions: ${(u.nearest ?? []).join(', ')}`;
  }
  return { generated, understood };
}

/**
 * A pose segment: one frame of the pose its prompt names (the pose vocabulary of prompt.ts). An
 * unrecognized prompt gets the neutral standing pose, reported as an unrecognized motion prompt is
 * (recognized: false, nearest, a note; the X-Prompt-Unrecognized header follows from it).
 */
function generatePose(segment: PlannedSegment, fps: number, sample: number): SegmentMotion {
  const u = understandPose(segment.prompt ?? '');
  const generated = POSES[u.pose].generate({ fps, rng: sampleRng(segment.seed, sample) });
  const understood: Understanding = {
    segment: segment.index,
    source: 'pose',
    pose: u.pose,
    recognized: u.recognized,
    matched: u.matched,
    confidence: u.confidence,
    params: rounded(generated.info),
    ignored: u.ignored,
  };
  if (!u.recognized) {
    understood.nearest = u.nearest ?? [];
    understood.note = `pose prompt not recognized; answered the neutral standing pose; nearest known poses: ${(u.nearest ?? []).join(', ')}`;
  }
  return { generated, understood };
}
