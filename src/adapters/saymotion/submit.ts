/**
 * Submitting a unit's text2motion job without ever paying twice: the unit is saved as `submitting` before
 * the POST and its rid right after; a POST whose answer may have been lost, or one a crash interrupted,
 * is first looked for in the provider's job list, among the rids no other job of ours has claimed.
 */
import type { Clock } from '../../spec/clock.js';
import type { GatewayError } from '../../spec/errors.js';
import { ProviderCallError } from '../kit/errors.js';
import { withRetries } from '../kit/http.js';
import { snapshot, type SayMotionCheckpoint, type SayMotionContext, type Unit } from './checkpoint.js';
import type { RetryTuning, SayMotionClient } from './client.js';
import { PROVIDER } from './errors.js';
import { findSubmitted } from './mapping.js';

/** Rids our jobs own, so recovery after a crash never adopts another job's work. */
const CLAIMS_KEY = 'claimed_rids';
const CLAIM_TTL_MS = 24 * 3600_000;
const MAX_CLAIMS = 5_000;

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
      if (wait !== undefined && clock.now() + wait < ctx.deadline) return { waitMs: wait };
      throw this.opts.errorOf(err);
    }
  }

  /** Looks in the job list for the job a lost submission created (one no other job of ours claimed). */
  async recover(unit: Unit, ctx: Pick<SayMotionContext, 'signal' | 'deadline' | 'store'>): Promise<string | undefined> {
    const list = await this.opts.client.list({ signal: ctx.signal, deadline: ctx.deadline });
    const owned = await this.claims(ctx);
    return findSubmitted(list, unit.params, unit.submittedAt ?? 0, (rid) => rid in owned);
  }

  private async adopt(unit: Unit, rid: string, state: SayMotionCheckpoint, ctx: SayMotionContext): Promise<void> {
    unit.rid = rid;
    unit.state = 'running';
    // Persist first: from here on a restart polls this rid instead of paying for another job.
    await ctx.saveCheckpoint(snapshot(state));
    await this.claim(ctx, rid);
    ctx.log.info({ provider: PROVIDER, job: ctx.jobId, provider_job_id: rid, segment: unit.segment, chunk: unit.chunk }, 'SayMotion job submitted');
  }

  // Claims: which provider rids belong to our jobs (kept a day, so recovery never adopts them twice).
  private async claims(ctx: Pick<SayMotionContext, 'store'>): Promise<Record<string, number>> {
    try {
      return JSON.parse((await ctx.store.get(CLAIMS_KEY)) ?? '{}') as Record<string, number>;
    } catch {
      return {};
    }
  }

  private async claim(ctx: Pick<SayMotionContext, 'store'>, rid: string): Promise<void> {
    const t = this.opts.clock.now();
    const entries = Object.entries(await this.claims(ctx)).filter(([, at]) => t - at < CLAIM_TTL_MS);
    entries.push([rid, t]);
    await ctx.store.set(CLAIMS_KEY, JSON.stringify(Object.fromEntries(entries.slice(-MAX_CLAIMS))));
  }
}
