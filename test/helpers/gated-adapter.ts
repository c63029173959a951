/**
 * A provider for runner tests: it wraps the procedural model behind a gate the test opens, so a job stays
 * "running at the provider" exactly as long as the test needs (no sleeps), and it counts every call.
 */
import type { Adapter, Checkpoint, JobContext, Step } from '../../src/spec/adapter.js';
import type { GenerationPlan } from '../../src/spec/plan.js';
import type { ModelCapabilities as ModelCapabilities } from '../../src/spec/wire.js';
import { createProceduralAdapter } from '../../src/adapters/procedural/index.js';

export interface GatedAdapter extends Adapter {
  open(): void;
  close(): Promise<void>;
  calls: { start: number; advance: number; cancel: number };
  /** Resolves when advance() has been called at least n times in total. */
  advanced(n: number): Promise<void>;
}

export interface GatedOptions {
  modelId?: string;
  /** Capabilities that differ from the procedural model's. */
  caps?: Partial<ModelCapabilities>;
  /** Share call counts and the gate across gateway restarts. */
  shared?: { calls: GatedAdapter['calls']; gate: { open: boolean } };
  open?: boolean;
  /** Provider name (default "gated"): jobs of different providers have separate in-flight caps. */
  provider?: string;
  /** The provider's own in-flight cap (Adapter.maxInFlight); absent: the gateway's default. */
  maxInFlight?: number;
}

export function createGatedAdapter(opts: GatedOptions = {}): GatedAdapter {
  const inner = createProceduralAdapter();
  const base = inner.models()[0];
  const model: ModelCapabilities = { ...base, id: opts.modelId ?? 'gated', supports_async: true, ...opts.caps };
  const shared = opts.shared;
  const calls = shared?.calls ?? { start: 0, advance: 0, cancel: 0 };
  const gate = shared?.gate ?? { open: opts.open ?? false };
  const listeners: Array<() => void> = [];
  return {
    provider: opts.provider ?? 'gated',
    ...(opts.maxInFlight !== undefined ? { maxInFlight: () => opts.maxInFlight! } : {}),
    models: () => [model],
    readiness: () => ({ ready: true }),
    calls,
    open() {
      gate.open = true;
    },
    async close() {},
    advanced(n: number) {
      return new Promise<void>((resolve) => {
        // Re-registered until the count is reached: one advance() call wakes every listener once.
        const check = (): void => {
          if (calls.advance >= n) resolve();
          else listeners.push(check);
        };
        check();
      });
    },
    async start(plan: GenerationPlan): Promise<Checkpoint> {
      calls.start++;
      return { providerJob: `p-${calls.start}`, polls: 0, plan: plan.totalFrames };
    },
    async advance(plan: GenerationPlan, checkpoint: Checkpoint, ctx: JobContext): Promise<Step> {
      calls.advance++;
      for (const l of listeners.splice(0)) l();
      if (!gate.open) {
        const polls = Number((checkpoint as { polls?: number }).polls) + 1;
        return { kind: 'pending', checkpoint: { ...checkpoint, polls }, progress: Math.min(0.9, polls / 10), queuePosition: 2, waitMs: 20 };
      }
      return inner.advance({ ...plan, model: base }, {}, ctx);
    },
    async cancel() {
      calls.cancel++;
    },
  };
}
