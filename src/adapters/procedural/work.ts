/**
 * The procedural model's CPU work, as the gateway runs it on a worker thread: every sample of a plan,
 * generated at once (a 10 s, 8-sample request takes a few tens of milliseconds of one core).
 */
import type { Motion, SampleMotion } from '../../spec/motion.js';
import type { GenerationPlan } from '../../spec/plan.js';
import { generateSegment } from './generate.js';
import { PROCEDURAL_SKELETON } from './rig.js';

/** This module, as a compute task names it. */
export const PROCEDURAL_WORK = import.meta.url;

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

/** The task's function: the plan's motion on the model's own skeleton. */
export function proceduralMotion(plan: GenerationPlan): Motion {
  return { skeleton: PROCEDURAL_SKELETON, samples: generatePlan(plan) };
}
