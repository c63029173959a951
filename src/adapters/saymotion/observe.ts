/**
 * Observing running units: the batched poller's latest answers read into each unit's state, progress and
 * queue place. A failed, vanished or overdue provider job fails the whole job, and the job's other
 * provider work is cancelled then, as it is on an explicit cancel.
 */
import type { Clock } from '../../spec/clock.js';
import type { GatewayError } from '../../spec/errors.js';
import { ProviderCallError } from '../kit/errors.js';
import type { SayMotionCheckpoint, SayMotionContext, Unit } from './checkpoint.js';
import type { SayMotionClient } from './client.js';
import { PROVIDER, isSessionRefusal, sayMotionError } from './errors.js';
import { readStatus } from './mapping.js';
import type { StatusPoller } from './poller.js';

export interface ObserverOptions {
  client: SayMotionClient;
  poller: StatusPoller;
  clock: Clock;
  /** Failed status ticks in a row after which a job fails. */
  pollFailureLimit: number;
  /** How long a rid may be missing from status answers before its job is considered gone. */
  missingGraceMs: number;
  /** SAYMOTION_JOB_TIMEOUT_S: the longest one provider job may run. */
  jobTimeoutS: number;
  /** A failure as the catalogue error the job ends with. */
  errorOf: (err: unknown, rid?: string) => GatewayError;
}

export class StatusObserver {
  constructor(private readonly opts: ObserverOptions) {}

  /** Reads the poller's latest answers into the running units; throws when one of them failed. */
  async observe(state: SayMotionCheckpoint, ctx: SayMotionContext): Promise<void> {
    const { poller, clock, pollFailureLimit, missingGraceMs, jobTimeoutS, errorOf } = this.opts;
    const running = state.units.filter((u) => u.state === 'running');
    for (const u of running) poller.watch(u.rid!);
    await poller.settled(ctx.signal);
    const t = clock.now();
    for (const u of running) {
      const rid = u.rid!;
      const view = poller.view(rid);
      /** Stops the job's other provider work (and this unit's, when it is still running there). */
      const fail = async (err: GatewayError, stillRunning = false): Promise<never> => {
        await this.cancelRunning(state.units.filter((x) => stillRunning || x !== u), ctx);
        poller.unwatch(rid);
        throw err;
      };
      if (view.failure) {
        const e = view.failure.error;
        const transient = e instanceof ProviderCallError && (e.isRetryable || e.kind === 'parse') && !isSessionRefusal(e);
        if (!transient || view.failure.consecutive >= pollFailureLimit) await fail(errorOf(e, rid));
      } else if (view.entry && view.polledAt !== undefined && view.missingTicks === 0) {
        u.missingSince = undefined;
        const r = readStatus(view.entry);
        if (r.kind === 'succeeded') {
          u.state = 'succeeded';
          u.progress = 1;
          u.positionInQueue = undefined;
          poller.unwatch(rid);
          continue;
        }
        if (r.kind === 'failed') await fail(sayMotionError({ code: r.code, message: r.message, rid, failure: r.revoked ? 'job_revoked' : 'job_failed' }));
        if (r.kind === 'running') {
          u.progress = r.progress ?? u.progress;
          u.positionInQueue = r.positionInQueue;
        }
      } else if (view.missingTicks > 0) {
        // Not listed: the SDKs read that as "still in progress"; for too long, the job is gone.
        u.missingSince ??= t;
        if (t - u.missingSince > missingGraceMs) await fail(sayMotionError({ failure: 'job_gone', rid }));
      }
      if (u.state === 'running' && u.submittedAt !== undefined && t - u.submittedAt > jobTimeoutS * 1000) {
        await fail(sayMotionError({ failure: 'job_timeout', rid, message: `not finished after ${jobTimeoutS} s` }), true);
      }
    }
  }

  /** Stops watching the units still running and cancels their provider jobs (best effort: failures are logged). */
  async cancelRunning(units: readonly Unit[], ctx: Pick<SayMotionContext, 'log' | 'jobId'>): Promise<void> {
    const { client, poller } = this.opts;
    await Promise.all(
      units
        .filter((u) => u.rid && u.state === 'running')
        .map(async (u) => {
          poller.unwatch(u.rid!);
          try {
            await client.cancel(u.rid!, { retries: 2, signal: AbortSignal.timeout(10_000) });
          } catch (err) {
            ctx.log.warn({ provider: PROVIDER, job: ctx.jobId, provider_job_id: u.rid, error: String(err) }, 'SayMotion cancel failed');
          }
        }),
    );
  }
}
