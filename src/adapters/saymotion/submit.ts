/**
 * Submitting a unit's text2motion job without ever paying twice: the unit is saved as `submitting` before
 * the POST and its rid right after; a POST whose answer may have been lost, or one a crash interrupted,
 * is first looked for in the provider's job list, among the rids no other job of ours has claimed.
 */
import type { Clock } from '../../spec/clock.js';
import type { GatewayError } from '../../spec/errors.js';
import { ProviderCallError } from '../kit/errors.js';
import { withRetries } from '../kit/http.js';
import { mayHaveCharged, snapshot, type SayMotionCheckpoint, type SayMotionContext, type Unit } from './checkpoint.js';
import type { RetryTuning, SayMotionClient } from './client.js';
import { PROVIDER } from './errors.js';
import { submissionsLike } from './mapping.js';

/**
 * Rids our jobs own, so recovery after a crash never adopts another job's work: one entry per rid
 * (`claim:<rid>`, kept a day), so that instances claiming at once never overwrite each other's claims.
 * Claims written before as one list (`claimed_rids`) are still read.
 */
const CLAIM_PREFIX = 'claim:';
const LEGACY_CLAIMS_KEY = 'claimed_rids';
const CLAIM_TTL_MS = 24 * 3600_000;

/** A POST failure after which the job may exist anyway (the answer was lost, not a refusal). */
function mayHaveCreated(err: unknown): boolean {
  if (!(err instanceof ProviderCallError)) return false;
  if (err.kind === 'http') return err.status === 500 || err.status === 502 || err.status === 504;
  return err.kind === 'timeout' || err.kind === 'parse' || err.kind === 'network';
}

export interface SubmitterOptions {
  client: SayMotionClient;
  clock: Clock;
  retry: Required<RetryTuning>;
  /** A failure as the catalogue error the job ends with. */
  errorOf: (err: unknown, rid?: string) => GatewayError;
}

export class Submitter {
  constructor(private readonly opts: SubmitterOptions) {}

  /**
   * Submits one unit. A unit found `submitting` was interrupted mid-POST (a crash or shutdown): the job
   * list is searched before paying again. A POST whose answer was lost is looked up the same way before
   * it is retried. Returns a wait when the provider asks for more patience than one step should take.
   */
  async submit(unit: Unit, state: SayMotionCheckpoint, ctx: SayMotionContext): Promise<{ waitMs: number } | undefined> {
    const { client, clock, retry } = this.opts;
    if (unit.state === 'submitting') {
      const found = await this.recover(unit, ctx);
      if (found) return void (await this.adopt(unit, found, state, ctx));
    }
    unit.state = 'submitting';
    unit.submittedAt = clock.now();
    await ctx.saveCheckpoint(snapshot(state));
    let lookFirst = false;
    let looked = false;
    try {
      const rid = await withRetries(
        async () => {
          if (lookFirst) {
            looked = true;
            const found = await this.recover(unit, ctx);
            if (found) return found;
          }
          try {
            return await client.submitText2Motion(unit.params, { signal: ctx.signal, deadline: ctx.deadline });
          } catch (err) {
            lookFirst = mayHaveCreated(err);
            looked = false;
            throw err;
          }
        },
        {
          ...retry,
          clock,
          signal: ctx.signal,
          deadline: ctx.deadline,
          isRetryable: (e) => e instanceof ProviderCallError && (e.isRetryable || e.kind === 'parse'),
        },
      );
      await this.adopt(unit, rid, state, ctx);
      return undefined;
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      if (lookFirst && !looked) {
        const found = await this.recover(unit, ctx);
        if (found) return void (await this.adopt(unit, found, state, ctx));
      }
      unit.state = 'pending';
      unit.submittedAt = undefined;
      await ctx.saveCheckpoint(snapshot(state));
      const wait = err instanceof ProviderCallError && err.isRetryable ? err.retryAfterMs : undefined;
      // A route's job with nothing submitted yet fails now instead: its next target serves it without waiting.
      const moveOn = ctx.canFallBack === true && !mayHaveCharged(state);
      if (wait !== undefined && !moveOn && clock.now() + wait < ctx.deadline) return { waitMs: wait };
      throw this.opts.errorOf(err);
    }
  }

  /** Looks in the job list for the job a lost submission created (one no other job of ours claimed). */
  async recover(unit: Unit, ctx: Pick<SayMotionContext, 'signal' | 'deadline' | 'store'>): Promise<string | undefined> {
    const list = await this.opts.client.list({ signal: ctx.signal, deadline: ctx.deadline });
    const legacy = await this.legacyClaims(ctx);
    for (const rid of submissionsLike(list, unit.params, unit.submittedAt ?? 0)) {
      if (!(rid in legacy) && (await ctx.store.get(CLAIM_PREFIX + rid)) === undefined) return rid;
    }
    return undefined;
  }

  private async adopt(unit: Unit, rid: string, state: SayMotionCheckpoint, ctx: SayMotionContext): Promise<void> {
    unit.rid = rid;
    unit.state = 'running';
    // Persist first: from here on a restart polls this rid instead of paying for another job.
    await ctx.saveCheckpoint(snapshot(state));
    await this.claim(ctx, rid);
    ctx.log.info({ provider: PROVIDER, job: ctx.jobId, provider_job_id: rid, segment: unit.segment, chunk: unit.chunk }, 'SayMotion job submitted');
  }

  /** Claims kept as one list by earlier versions (read only; they age out with the list's own entries). */
  private async legacyClaims(ctx: Pick<SayMotionContext, 'store'>): Promise<Record<string, number>> {
    try {
      const t = this.opts.clock.now();
      const all = JSON.parse((await ctx.store.get(LEGACY_CLAIMS_KEY)) ?? '{}') as Record<string, number>;
      return Object.fromEntries(Object.entries(all).filter(([, at]) => t - at < CLAIM_TTL_MS));
    } catch {
      return {};
    }
  }

  private async claim(ctx: Pick<SayMotionContext, 'store'>, rid: string): Promise<void> {
    await ctx.store.set(CLAIM_PREFIX + rid, String(this.opts.clock.now()), { ttlMs: CLAIM_TTL_MS });
  }
}
