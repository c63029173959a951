/** POST /generate bodies for the procedural model, shared by the gateway benchmarks. */
import type { GenerateRequest } from '../src/spec/wire.js';

type Skeleton = GenerateRequest['skeleton'];

/** The procedural model's canonical skeleton, as the gateway at `url` advertises it. */
export async function proceduralSkeleton(url: string): Promise<Skeleton> {
  const caps = (await (await fetch(`${url}/capabilities`)).json()) as { models: Array<{ id: string; canonical_skeleton: Skeleton }> };
  return caps.models.find((m) => m.id === 'procedural')!.canonical_skeleton;
}

export interface ClipShape {
  skeleton: Skeleton;
  seconds: number;
  samples: number;
  /** Output frame rate (timing.fps); the model's 30 when absent. */
  fps?: number;
  prompt?: string;
}

/** A one-segment text request for the procedural model (no seed: every request is generated afresh). */
export function proceduralBody({ skeleton, seconds, samples, fps, prompt = 'walk forward' }: ClipShape): string {
  const request: GenerateRequest = {
    protocol_version: '1.2',
    model: 'procedural',
    skeleton,
    segments: [{ type: 'text', prompt, duration_frames: Math.round(seconds * (fps ?? 30)) }],
    options: { num_samples: samples },
    ...(fps !== undefined ? { timing: { fps } } : {}),
  };
  return JSON.stringify(request);
}

/**
 * Warms a fresh gateway up before anything is measured: a few short sync requests at once, so every
 * worker thread has loaded (and, under tsx, compiled) the motion modules, which it does on its first task.
 */
export async function warmUp(url: string, threads = 4): Promise<void> {
  const body = proceduralBody({ skeleton: await proceduralSkeleton(url), seconds: 1, samples: 1 });
  const answers = await Promise.all(
    Array.from({ length: threads }, async () => {
      const r = await fetch(`${url}/generate`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'model/gltf-binary' }, body });
      await r.arrayBuffer();
      return r.status;
    }),
  );
  if (answers.some((s) => s !== 200)) throw new Error(`warm-up requests answered ${answers.join(', ')}`);
}
