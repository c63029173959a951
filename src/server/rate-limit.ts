/**
 * Each caller's limits (README, "Rate limits"): requests per minute to /generate and /capabilities
 * (RATE_LIMIT_RPM) and unfinished jobs (RATE_LIMIT_CONCURRENT_JOBS). The caller is `res.locals.owner`
 * (one API key, or every caller together as `anonymous` when no keys are configured). Over either limit
 * the answer is 429 `rate_limited` (MG-AUT-003) with Retry-After.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { RedisStore } from '../jobs/redis-store.js';
import type { JobRow, Store } from '../jobs/store.js';
import { GatewayError } from '../spec/errors.js';
import type { GatewayContext } from './context.js';
import { sendError } from './http.js';

/** The request budget's window: RATE_LIMIT_RPM is per minute. */
const WINDOW_S = 60;
/** The policy's name in the RateLimit-Policy and RateLimit fields. */
const POLICY = 'rpm';
/** How soon a caller at its job limit may try again: about one poll of a short job. */
const JOBS_RETRY_AFTER_S = 5;

/**
 * The fields of draft-ietf-httpapi-ratelimit-headers (-09/-10): the policy (quota `q` per window `w`
 * seconds) and what is left of it now (`r` remaining, `t` seconds until the window resets).
 */
function rateLimitFields(rpm: number, r: RateLimiterRes): Record<string, string> {
  return {
    'RateLimit-Policy': `"${POLICY}";q=${rpm};w=${WINDOW_S}`,
    RateLimit: `"${POLICY}";r=${r.remainingPoints};t=${resetS(r)}`,
  };
}

/** Whole seconds until the window resets, at least 1 (a window that ends this instant still refuses now). */
const resetS = (r: RateLimiterRes) => Math.max(1, Math.ceil(r.msBeforeNext / 1000));

/**
 * Counts requests: in this process's memory with STORE=sqlite (one process serves the database), in Redis
 * on the store's own connection with STORE=redis, so every instance draws on one budget. When Redis does
 * not answer, each instance counts in its own memory until it does (as rate-limiter-flexible's
 * insuranceLimiter would, by hand so the switch is logged): the limit then holds per instance, a caller is
 * never refused or failed because of the outage itself.
 */
class RequestBudget {
  private readonly shared: RateLimiterAbstract | undefined;
  private readonly local: RateLimiterMemory;
  private degraded = false;

  constructor(
    private readonly gw: GatewayContext,
    readonly rpm: number,
  ) {
    this.local = new RateLimiterMemory({ points: rpm, duration: WINDOW_S });
    const store: Store = gw.store;
    if (store instanceof RedisStore) {
      // rejectIfRedisNotReady: while ioredis reconnects a command would wait in its queue; count locally instead.
      this.shared = new RateLimiterRedis({
        storeClient: store.redis,
        keyPrefix: `${gw.config.redisPrefix}ratelimit:${POLICY}`,
        points: rpm,
        duration: WINDOW_S,
        rejectIfRedisNotReady: true,
      });
    }
  }

  /** One request of `owner`: the counter after it, and whether it was over the budget. */
  async consume(owner: string): Promise<{ res: RateLimiterRes; over: boolean }> {
    try {
      const res = await (this.shared ?? this.local).consume(owner);
      if (this.shared && this.degraded) {
        this.degraded = false;
        this.gw.log.info({}, 'rate limits: Redis answers again, the request budget is shared again');
      }
      return { res, over: false };
    } catch (err) {
      if (err instanceof RateLimiterRes) return { res: err, over: true };
      if (!this.degraded) {
        this.degraded = true;
        this.gw.log.warn({ err: String(err) }, 'rate limits: Redis does not answer; each instance counts requests on its own until it does');
      }
      return this.local.consume(owner).then(
        (res) => ({ res, over: false }),
        (res: RateLimiterRes) => ({ res, over: true }),
      );
    }
  }
}

/**
 * Middleware after `authenticate` on the counted routes: one request of the caller's per-minute budget.
 * Every counted answer carries the RateLimit fields; over the budget, 429 with Retry-After. RATE_LIMIT_RPM=0
 * counts nothing and adds no fields.
 */
export function limitRequests(gw: GatewayContext): RequestHandler {
  const rpm = gw.config.rateLimitRpm;
  if (rpm === 0) return (_req: Request, _res: Response, next: NextFunction) => next();
  const budget = new RequestBudget(gw, rpm);
  return async (_req: Request, res: Response, next: NextFunction): Promise<void> => {
    const { res: counter, over } = await budget.consume(res.locals.owner as string);
    const fields = rateLimitFields(rpm, counter);
    if (!over) {
      for (const [k, v] of Object.entries(fields)) res.setHeader(k, v);
      return next();
    }
    const retryAfterS = resetS(counter);
    const err = new GatewayError('MG-AUT-003', `This API key is over its limit of ${rpm} requests per minute.`, {
      retryAfterS,
      details: { limit: 'requests_per_minute', max: rpm, window_s: WINDOW_S, retry_after_s: retryAfterS },
    });
    sendError(res, err, fields);
  };
}

/** Per store (one gateway), per owner: the admission running now, so one owner's admissions take turns. */
const admitting = new WeakMap<Store, Map<string, Promise<unknown>>>();

/**
 * Admits one job of `owner` unless the owner already has RATE_LIMIT_CONCURRENT_JOBS unfinished jobs
 * (counted in the store: every instance's jobs, and those resumed after a restart). This process's
 * admissions of one owner take turns from the count to the insert, so two requests at once cannot both
 * take the last place; admissions on two instances at the same instant can each take it.
 */
export async function admitWithinJobLimit(gw: GatewayContext, owner: string, admit: () => Promise<JobRow>): Promise<JobRow> {
  const max = gw.config.rateLimitConcurrentJobs;
  if (max === 0) return admit();
  let turns = admitting.get(gw.store);
  if (!turns) admitting.set(gw.store, (turns = new Map()));
  const run = (turns.get(owner) ?? Promise.resolve()).then(async () => {
    const unfinished = await gw.store.countUnfinishedByOwner(owner);
    if (unfinished >= max) {
      throw new GatewayError('MG-AUT-003', `This API key has ${unfinished} unfinished jobs; at most ${max} may be queued or running at once.`, {
        retryAfterS: JOBS_RETRY_AFTER_S,
        details: { limit: 'concurrent_jobs', max, unfinished, retry_after_s: JOBS_RETRY_AFTER_S },
      });
    }
    return admit();
  });
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  turns.set(owner, settled);
  void settled.then(() => {
    if (turns.get(owner) === settled) turns.delete(owner);
  });
  return run;
}
