/**
 * The seeded-result cache: the same request with the same seed gives the same answer, even from a
 * provider that is not deterministic. Keyed by the model and the request with its defaults made
 * explicit; read when a job is admitted and written when it succeeds, by the runner only.
 * Small answers are cached by value in SQLite; a large one as a hard link to the job's result file
 * (store.ts), so the cache entry and each job answered from it own their file name and expire apart.
 */
import type { GenerationPlan } from '../spec/plan.js';
import { fingerprint } from '../protocol/canonical.js';
import { normalizedRequest } from '../protocol/plan.js';
import type { Store } from './store.js';
import type { ResultRef } from './stored-result.js';

export class ResultCache {
  constructor(
    private readonly store: Store,
    private readonly ttlS: number,
  ) {}

  /** The cache key of a plan, or null when the request is not seeded (its answer need not repeat). */
  keyOf(plan: GenerationPlan): string | null {
    if (!plan.seeded) return null;
    // Fields a newer-minor request had ignored are named in its answer: they are part of what it gets.
    const ignored = plan.ignoredFields?.length ? { ignored: plan.ignoredFields } : {};
    return fingerprint({ model: plan.model.id, request: normalizedRequest(plan.request, plan.model), ...ignored });
  }

  /** The cached answer as the new job `jobId`'s own stored result, or undefined on a miss. */
  claim(key: string | null, now: number, jobId: string): Promise<ResultRef | undefined> {
    return key ? this.store.claimCachedResult(key, now, jobId) : Promise.resolve(undefined);
  }

  /** Caches a succeeded job's stored result; resolves false when it could not be cached (the job is unaffected). */
  async put(key: string | null, result: ResultRef, now: number): Promise<boolean> {
    if (!key) return true;
    try {
      await this.store.putCachedResult(key, result, now, now + this.ttlS * 1000);
      return true;
    } catch {
      return false;
    }
  }
}
