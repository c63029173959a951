/**
 * The seeded-result cache: the same request with the same seed gives the same answer, even from a
 * provider that is not deterministic. Keyed by the model and the request with its defaults made
 * explicit; read when a job is admitted and written when it succeeds, by the runner only.
 */
import type { GenerationPlan } from '../spec/plan.js';
import { fingerprint } from '../protocol/canonical.js';
import { normalizedRequest } from '../protocol/plan.js';
import type { Store } from './store.js';

export class ResultCache {
  constructor(
    private readonly store: Store,
    private readonly ttlS: number,
  ) {}

  /** The cache key of a plan, or null when the request is not seeded (its answer need not repeat). */
  keyOf(plan: GenerationPlan): string | null {
    return plan.seeded ? fingerprint({ model: plan.model.id, request: normalizedRequest(plan.request, plan.model) }) : null;
  }

  get(key: string | null, now: number): Uint8Array | undefined {
    return key ? this.store.getCachedResult(key, now) : undefined;
  }

  put(key: string | null, glb: Uint8Array, now: number): void {
    if (key) this.store.putCachedResult(key, glb, now, now + this.ttlS * 1000);
  }
}
