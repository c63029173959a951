/** One segment of one sample: reads the prompt, draws the sample's variation, runs the motion's generator. */
import type { PlannedSegment } from '../../spec/plan.js';
import type { Understanding } from '../../spec/motion.js';
import type { Generated } from './generator.js';
import { MOTIONS } from './motions/index.js';
import { understand, type Modifiers, type MotionId, type PromptUnderstanding } from './prompt.js';
import { sampleRng } from './random.js';

export interface SegmentMotion {
  generated: Generated;
  understood: Understanding;
}

/** What an unconditioned segment gets: standing idle, reported as such. */
const UNCONDITIONED: PromptUnderstanding = { motion: 'idle', recognized: true, matched: [], modifiers: {}, confidence: 1 };

/** Parameters rounded to millimetres / thousandths: enough to tell samples apart, short to read. */
function rounded(info: Generated['info']): Generated['info'] {
  return Object.fromEntries(Object.entries(info).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * 1000) / 1000 : v]));
}

/** Generates `motion` for `frames` frames at `fps`, the variation drawn from (seed, sample). */
export function generateMotion(motion: MotionId, frames: number, fps: number, seed: number, sample: number, mods: Modifiers = {}): Generated {
  return MOTIONS[motion].generate({ frames: Math.max(1, Math.floor(frames)), fps, rng: sampleRng(seed, sample), mods });
}

/** The clip and the `understood` entry of one planned segment for sample `sample`. */
export function generateSegment(segment: PlannedSegment, fps: number, sample: number): SegmentMotion {
  const text = segment.type === 'text' || segment.type === 'pose';
  const u = text ? understand(segment.prompt ?? '') : UNCONDITIONED;
  const generated = generateMotion(u.motion, segment.frames, fps, segment.seed, sample, u.modifiers);
  const understood: Understanding = {
    segment: segment.index,
    source: text ? 'prompt' : 'unconditioned',
    motion: u.motion,
    recognized: u.recognized,
    matched: u.matched,
    modifiers: u.modifiers,
    confidence: u.confidence,
    params: rounded(generated.info),
  };
  if (text && !u.recognized) understood.note = 'prompt not recognized; generated a standing idle';
  return { generated, understood };
}
