/**
 * Motion work never holds the event loop: while a job computes on a worker thread (held there until the
 * test lets it go), health checks, capabilities and an async accept are answered; jobs of one provider
 * over its in-flight cap wait without holding up another provider's jobs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProceduralAdapter } from '../../src/adapters/procedural/index.js';
import type { Adapter, Step } from '../../src/spec/adapter.js';
import type { GenerationPlan } from '../../src/spec/plan.js';
import { COMPUTE_TASKS } from '../fixtures/compute-tasks.js';
import { createGatedAdapter } from '../helpers/gated-adapter.js';
import { postGenerate, startGateway, type Running } from '../helpers/gateway.js';
import { validateGltf } from '../helpers/gltf-validate.js';

/** The procedural model, except that its generation blocks its worker thread until `release()`. */
function heldAdapter() {
  const inner = createProceduralAdapter({ modelId: 'held' });
  let flag = new SharedArrayBuffer(4);
  const adapter: Adapter = {
    provider: 'held',
    models: () => inner.models(),
    readiness: () => ({ ready: true }),
    start: (plan) => inner.start(plan),
    async advance(plan: GenerationPlan): Promise<Step> {
      return { kind: 'compute', task: { module: COMPUTE_TASKS, fn: 'blockThenProcedural', input: { flag, plan } } };
    },
    cancel: async () => {},
  };
  return {
    adapter,
    release() {
      Atomics.store(new Int32Array(flag), 0, 1);
      Atomics.notify(new Int32Array(flag), 0);
      flag = new SharedArrayBuffer(4);
    },
  };
}

let g: Running;
const held = heldAdapter();
const slow = createGatedAdapter({ provider: 'slowprov', maxInFlight: 1 });
const fast = createGatedAdapter({ modelId: 'fastmodel', provider: 'fastprov', open: true });

beforeAll(async () => {
  g = await startGateway({ syncWaitMs: 20_000 }, { adapters: [held.adapter, slow, fast] });
});
afterAll(async () => {
  held.release();
  slow.open();
  await g.close();
});

const body = (model: string, frames = 30) => ({
  protocol_version: '1.2',
  model,
  skeleton: g.gw.registry.model(model)!.canonical_skeleton,
  segments: [{ type: 'text', prompt: 'walk forward', duration_frames: frames }],
});

describe('responsiveness', () => {
  it('answers health, capabilities and an async accept while a job computes, then delivers the job', async () => {
    const sync = postGenerate(g.url, body('held'), { accept: 'model/gltf-binary' });
    // The job is computing (blocked) on a worker thread once the pool reports it running.
    while (g.gw.runner.stats().active === 0) await new Promise((r) => setImmediate(r));
    expect((await fetch(`${g.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${g.url}/capabilities`)).status).toBe(200);
    const accepted = await postGenerate(g.url, body('held'), { prefer: 'respond-async' });
    expect(accepted.status).toBe(202);
    const { job_id } = (await accepted.json()) as { job_id: string };
    held.release();
    const res = await sync;
    expect(res.status).toBe(200);
    expect((await validateGltf(new Uint8Array(await res.arrayBuffer()), 'glb')).errors).toEqual([]);
    // The second job blocks on its own flag until released too.
    while ((await g.gw.store.getJob(job_id))!.state !== 'succeeded') {
      held.release();
      await g.gw.runner.waitFor(job_id, 200);
    }
    expect((await g.gw.store.getJob(job_id))!.state).toBe('succeeded');
  });

  it('queues jobs over one provider\'s in-flight cap while another provider\'s jobs run', async () => {
    const first = await postGenerate(g.url, body('gated'), { prefer: 'respond-async' });
    const second = await postGenerate(g.url, body('gated'), { prefer: 'respond-async' });
    expect([first.status, second.status]).toEqual([202, 202]);
    const secondId = ((await second.json()) as { job_id: string }).job_id;
    await slow.advanced(1);
    expect(await g.gw.runner.queuePosition(secondId)).toBe(0); // slowprov's cap is 1
    const other = await postGenerate(g.url, body('fastmodel'), { accept: 'model/gltf-binary' });
    expect(other.status).toBe(200); // fastprov's job ran past the queued one
    expect(await g.gw.runner.queuePosition(secondId)).toBe(0);
    slow.open();
    await g.gw.runner.waitFor(secondId, 10_000);
    expect((await g.gw.store.getJob(secondId))!.state).toBe('succeeded');
  });
});
