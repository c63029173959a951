/**
 * The job runner: the one caller of adapters. It admits requests (validation, planning, the seeded-result
 * cache, the adapter's start) under a queue bound, drives each adapter step by step from its stored
 * checkpoint, has finished motion rendered to glTF on the worker threads, and resumes unfinished jobs
 * without starting the provider's work a second time. Where and when a job runs, under each provider's
 * in-flight cap, is its Dispatcher's (dispatch.ts: in this process with SQLite, through BullMQ on any
 * instance with Redis). A job waiting on a provider holds no CPU: only the worker pool bounds local work.
 */
import { randomBytes } from 'node:crypto';
import type { Adapter, Checkpoint, JobContext, Logger } from '../spec/adapter.js';
import { systemClock, type Clock } from '../spec/clock.js';
import { GatewayError, asGatewayError } from '../spec/errors.js';
import { ROOT_CONTEXT, trace, type Context, type Span, type SpanContext } from '@opentelemetry/api';
import { createTracing, failSpan, inSpan, type Tracing } from '../tracing.js';
import type { GenerationPlan, ServedBy } from '../spec/plan.js';
import type { GenerateRequest, ModelCapabilities } from '../spec/wire.js';
import { buildPlan, drawSeed } from '../protocol/plan.js';
import type { AdapterRegistry } from '../adapters/registry.js';
import type { Config } from '../config.js';
import { otherTargetAvailable, prepareAdmission, routeCandidates, type Admission, type Candidate } from './admission.js';
import { FALLBACK_ERRORS } from '../adapters/routes.js';
import type { ResultRef } from './stored-result.js';
import { BullDispatcher } from './bull-dispatch.js';
import { glbJson } from './glb-layout.js';
import { ResultCache } from './cache.js';
import { LocalDispatcher, type DispatchedJob, type Dispatcher, type JobExecutor, type RunOutcome } from './dispatch.js';
import type { MotionWorkers } from './pool.js';
import { ignoredFieldsOf, resultColumns, servedByOf, type JobRow, type Store } from './store.js';

/** Told once per job that reaches a final state in this process (metrics). */
export type FinishedListener = (model: string, state: 'succeeded' | 'failed' | 'cancelled') => void;

/** What the runner reports as it goes (metrics). */
export interface RunnerEvents {
  /** One provider step (`advance`) took `seconds`; outcome is `ok` or the error id. */
  providerCall?(provider: string, seconds: number, outcome: string): void;
  /** A route handed a job to `target` (at admission, or moving it on). */
  routed?(route: string, target: string): void;
  /** A route passed `target` over for `reason` (the error id: not ready, breaker open, its failure). */
  fallback?(route: string, target: string, reason: string): void;
}

export interface RunnerOptions {
  store: Store;
  registry: AdapterRegistry;
  config: Config;
  log: Logger;
  /** Where all motion work runs (the worker threads). */
  workers: MotionWorkers;
  onFinished?: FinishedListener;
  events?: RunnerEvents;
  clock?: Clock;
  /** Where jobs run; by default in this process (SQLite) or through BullMQ (Redis). */
  dispatcher?: Dispatcher;
  /** OpenTelemetry spans of job runs and provider steps (off by default). */
  tracing?: Tracing;
}

interface Execution {
  id: string;
  provider: string;
  controller: AbortController;
  cancelRequested: boolean;
  done: Promise<void>;
  /** Whether the job's end was announced (waiters here woken, other instances told). */
  announced?: boolean;
}

/** Unguessable job ids: 128 random bits. */
function newJobId(): string {
  return `job_${randomBytes(16).toString('base64url')}`;
}

/**
 * The plan a candidate serves: the request planned on the target's own model, at the route's advertised
 * fps when it names a route (whoever serves it, the answer has the frames the route promised), with the
 * target's pinned provider knobs over the request's own.
 */
function targetPlan(request: GenerateRequest, route: ModelCapabilities | undefined, c: Candidate, seed: number, ignored: string[], servedBy: ServedBy): GenerationPlan {
  const planned = route && request.timing?.fps === undefined ? { ...request, timing: { ...request.timing, fps: route.fps } } : request;
  const plan = buildPlan(planned, c.model, c.adapter.provider, seed, ignored);
  return { ...plan, request, servedBy, extensions: { ...plan.extensions, ...(c.target.extensions ?? {}) } };
}

const isUnfinished = (state: string) => state === 'queued' || state === 'running';

export class JobRunner {
  /** Jobs executing in this process. */
  private readonly active = new Map<string, Execution>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private draining = false;
  /** Recent job durations (ms), for Retry-After estimates of queued jobs. */
  private avgJobMs = 2_000;
  private sweeper?: NodeJS.Timeout;
  /**
   * Plans of jobs admitted by this process, kept only when they also run here (a resumed job, or one run by
   * another instance, plans again from its stored request).
   */
  private readonly plans = new Map<string, GenerationPlan>();
  private readonly dispatcher: Dispatcher;
  private readonly store: Store;
  private readonly registry: AdapterRegistry;
  private readonly config: Config;
  private readonly log: Logger;
  private readonly tracing: Tracing;
  /** The span of the request that created a job, until the job runs here (same process only). */
  private readonly traceParents = new Map<string, SpanContext>();
  private readonly workers: MotionWorkers;
  private readonly onFinished: FinishedListener;
  private readonly events: RunnerEvents;
  private readonly clock: Clock;
  private readonly cache: ResultCache;

  constructor(opts: RunnerOptions) {
    this.store = opts.store;
    this.registry = opts.registry;
    this.config = opts.config;
    this.log = opts.log;
    this.workers = opts.workers;
    this.onFinished = opts.onFinished ?? (() => {});
    this.events = opts.events ?? {};
    this.clock = opts.clock ?? systemClock;
    this.tracing = opts.tracing ?? createTracing(null);
    this.cache = new ResultCache(opts.store, opts.config.resultCacheTtlS);
    const capOf = (provider: string) => this.capOf(provider);
    this.dispatcher =
      opts.dispatcher ??
      (opts.store.kind === 'redis'
        ? new BullDispatcher({
            url: opts.config.redisUrl,
            prefix: opts.config.redisPrefix,
            providers: opts.registry.adapters.map((a) => a.provider),
            capOf,
            concurrency: opts.config.workerConcurrency,
            lockMs: opts.config.jobLockMs,
            log: opts.log,
          })
        : new LocalDispatcher(capOf));
  }

  /**
   * Starts the retention sweeper and the dispatcher, which resumes the store's unfinished jobs: all of
   * them here (SQLite), or those BullMQ does not hold (Redis: the others are other instances' to run).
   */
  async start(): Promise<void> {
    this.sweeper = setInterval(() => void this.sweep(), 60_000);
    this.sweeper.unref();
    await this.sweep();
    const executor: JobExecutor = {
      run: (job) => this.run(job),
      cancelledElsewhere: (id) => this.stopLocal(id),
      finishedElsewhere: (id) => this.notify(id),
      unfinished: async () => {
        const rows = await this.store.unfinishedJobs();
        if (rows.length && this.dispatcher instanceof LocalDispatcher) this.log.info({ jobs: rows.length }, 'resuming unfinished jobs');
        return rows.map((r) => ({ id: r.id, provider: r.provider }));
      },
      abandon: (job, err) => this.abandon(job, err),
    };
    await this.dispatcher.start(executor);
    const sync = this.dispatcher.breakerSync?.();
    if (sync) await this.registry.breakers.attach(sync);
  }

  async sweep(): Promise<void> {
    if (!this.store.isOpen()) return;
    try {
      await this.store.sweep(this.clock.now());
    } catch (err) {
      this.log.warn({ err: String(err) }, 'retention sweep failed');
    }
  }

  /** Whether one more job can be admitted now (the cluster's queue on Redis); when not, how long to wait. */
  private async admission(provider: string): Promise<{ ok: true } | { ok: false; retryAfterS: number; reason: 'shutting_down' | 'full' }> {
    if (this.draining) return { ok: false, retryAfterS: 5, reason: 'shutting_down' };
    const load = await this.dispatcher.load(provider);
    if (load.room || load.waitingTotal < this.config.maxQueuedJobs) return { ok: true };
    const cap = this.capOf(provider);
    const waves = Math.ceil((load.waiting + 1) / cap);
    return { ok: false, retryAfterS: Math.min(120, Math.max(1, Math.ceil((waves * this.avgJobMs) / 1000))), reason: 'full' };
  }

  /** A provider's in-flight cap: its own when it declares one, else MAX_CONCURRENT_JOBS. */
  private capOf(provider: string): number {
    const adapter = this.registry.adapters.find((a) => a.provider === provider);
    const cap = adapter?.maxInFlight?.();
    return cap !== undefined && Number.isFinite(cap) && cap >= 1 ? Math.floor(cap) : this.config.maxConcurrentJobs;
  }

  /** Validates a request body in the MMCP order and checks its model can serve it now (no provider call). */
  prepare(body: unknown): Admission {
    return prepareAdmission(body, this.registry);
  }

  /**
   * Turns an admitted request into a job: plans it, answers it from the seeded-result cache when it can
   * (no provider work at all), else lets the adapter check the plan and give the first checkpoint, then
   * records the job durably and schedules it. Throws 503 when the gateway is full.
   */
  async admit(a: Admission, owner: string, opts: { sync?: boolean; trace?: SpanContext } = {}): Promise<JobRow> {
    if (!a.route) await this.checkCapacity(a.adapter.provider);
    const seed = a.request.options?.seed ?? drawSeed();
    // Keyed by the model the request names (a route's id): a replay is the same answer whoever served it first.
    const cacheKey = this.cache.keyOf(buildPlan(a.request, a.model, a.adapter.provider, seed, a.ignoredFields));
    const now = this.clock.now();
    const id = newJobId();
    const cached = await this.cache.claim(cacheKey, now, id);
    let checkpoint: Checkpoint = {};
    let plan: GenerationPlan | undefined;
    let chosen: Candidate = a.candidates[0];
    let servedBy: ServedBy = { model: chosen.model.id, provider: chosen.adapter.provider, attempts: [...a.attempts] };
    if (cached) {
      servedBy = (await this.servedByOfResult(cached)) ?? servedBy;
    } else {
      ({ plan, checkpoint, chosen, servedBy } = await this.startOnCandidates(a, seed));
      await this.checkCapacity(chosen.adapter.provider);
      if (a.route) this.events.routed?.(a.route.id, chosen.model.id);
    }
    const done = cached !== undefined;
    const row: JobRow = {
      id,
      owner,
      model: a.model.id,
      provider: done ? servedBy.provider : chosen.adapter.provider,
      request: JSON.stringify(a.request),
      seed,
      state: done ? 'succeeded' : 'queued',
      checkpoint: JSON.stringify(checkpoint),
      progress: done ? 1 : null,
      queue_position: null,
      wait_ms: null,
      ...resultColumns(cached),
      error: null,
      cache_key: cacheKey,
      ignored_fields: a.ignoredFields.length ? JSON.stringify(a.ignoredFields) : null,
      served_by: JSON.stringify(servedBy),
      created_at: now,
      started_at: done ? now : null,
      updated_at: now,
      finished_at: done ? now : null,
      expires_at: done ? now + this.config.jobRetentionS * 1000 : null,
      deadline: now + this.config.jobTimeoutS * 1000,
    };
    await this.store.insertJob(row);
    if (!done) {
      if (this.dispatcher.local && plan) this.plans.set(row.id, plan);
      // Kept like its plan: only a job this process runs, dropped when it runs or is cancelled.
      if (opts.trace && this.dispatcher.local) this.traceParents.set(row.id, opts.trace);
      try {
        // A provider's own cap (Meshy's tier, SAYMOTION_MAX_IN_FLIGHT) holds for the cluster only through the queue.
        const preferHere = opts.sync === true && chosen.adapter.maxInFlight?.() === undefined;
        await this.dispatcher.enqueue({ id: row.id, provider: row.provider, preferHere });
      } catch (err) {
        // The job is recorded (its provider work may be paid for): queued again shortly, or by the next start's reconciliation.
        this.plans.delete(row.id);
        this.log.warn({ err: String(err), job: row.id }, 'accepted job not queued yet; retrying');
        this.retryEnqueue({ id: row.id, provider: row.provider }, 1);
      }
    }
    return row;
  }

  /**
   * The first candidate whose queue has room and whose `start` (no billable call) succeeds. A route's
   * target failing with one of FALLBACK_ERRORS hands the request to the next one (listed in attempts);
   * any other error, or the last target's, answers (with the attempts in its details).
   */
  private async startOnCandidates(a: Admission, seed: number): Promise<{ plan: GenerationPlan; checkpoint: Checkpoint; chosen: Candidate; servedBy: ServedBy }> {
    const attempts = [...a.attempts];
    if (a.route) for (const passed of a.attempts) this.events.fallback?.(a.route.id, passed.model, passed.error_id ?? passed.error_code);
    for (const [i, chosen] of a.candidates.entries()) {
      const servedBy: ServedBy = { model: chosen.model.id, provider: chosen.adapter.provider, attempts };
      const plan = targetPlan(a.request, a.route ? a.model : undefined, chosen, seed, a.ignoredFields, servedBy);
      try {
        if (a.route) await this.checkCapacity(chosen.adapter.provider);
        return { plan, checkpoint: await chosen.adapter.start(plan), chosen, servedBy };
      } catch (err) {
        const gerr = asGatewayError(err);
        if (!a.route || !FALLBACK_ERRORS.has(gerr.id)) throw err;
        attempts.push({ model: chosen.model.id, error_code: gerr.code, error_id: gerr.id });
        this.events.fallback?.(a.route.id, chosen.model.id, gerr.id);
        this.log.info({ route: a.route.id, target: chosen.model.id, error_code: gerr.id }, 'route target failed; trying the next');
        if (i === a.candidates.length - 1) {
          throw new GatewayError(gerr.id, gerr.message, { details: { ...(gerr.details ?? {}), route: a.route.id, attempts }, retryAfterS: gerr.retryAfterS, cause: err });
        }
      }
    }
    throw new GatewayError('MG-SRV-001', 'A request was admitted without a model to serve it.');
  }

  /** x_served_by of a stored answer (a cached one: it names who served it first), read from its glTF JSON chunk. */
  private async servedByOfResult(ref: ResultRef): Promise<ServedBy | undefined> {
    try {
      const result = await this.store.openResult({ ...resultColumns(ref), id: '', state: 'succeeded' } as JobRow);
      try {
        const gltf = (await glbJson(result)) as { extensions?: { MMCP_motion?: { x_served_by?: ServedBy } } };
        return gltf.extensions?.MMCP_motion?.x_served_by;
      } finally {
        await result.close();
      }
    } catch (err) {
      this.log.warn({ err: String(err) }, 'served-by of a cached answer not read');
      return undefined;
    }
  }

  /** Queues an accepted job whose first add failed (the queue's Redis did not answer): every 2 s for a minute. */
  private retryEnqueue(job: DispatchedJob, attempt: number): void {
    setTimeout(() => {
      if (this.draining) return;
      this.dispatcher.enqueue(job).catch((err: unknown) => {
        if (attempt < 30) this.retryEnqueue(job, attempt + 1);
        else this.log.error({ err: String(err), job: job.id }, 'accepted job not queued; the next start queues it');
      });
    }, 2_000).unref();
  }

  private async checkCapacity(provider: string): Promise<void> {
    const adm = await this.admission(provider);
    if (adm.ok) return;
    throw adm.reason === 'shutting_down'
      ? new GatewayError('MG-SRV-002', undefined, { retryAfterS: adm.retryAfterS })
      : new GatewayError('MG-JOB-003', undefined, {
          retryAfterS: adm.retryAfterS,
          details: { provider, max_in_flight: this.capOf(provider), max_queued_jobs: this.config.maxQueuedJobs },
        });
  }

  /**
   * Runs one dispatched job here until it settles; `interrupted` when our own stop aborted it while its row
   * is unfinished (it runs again, here after a restart or on another instance).
   */
  private async run(job: DispatchedJob): Promise<RunOutcome> {
    if (this.draining) return 'interrupted';
    const running = this.active.get(job.id);
    if (running) {
      // Handed out again while still running here (a lock lost to a stalled event loop): this run goes on.
      await running.done.catch(() => {});
      return 'settled';
    }
    const exec: Execution = { id: job.id, provider: job.provider, controller: new AbortController(), cancelRequested: false, done: Promise.resolve() };
    this.active.set(job.id, exec);
    try {
      exec.done = this.execute(exec);
      await exec.done;
    } catch (err) {
      this.log.error({ err, job: job.id }, 'job run failed');
      throw err;
    } finally {
      this.active.delete(job.id);
      this.plans.delete(job.id);
      this.notify(job.id);
    }
    if (exec.controller.signal.aborted && !exec.cancelRequested) {
      const row = await this.store.getJob(job.id);
      if (row && isUnfinished(row.state)) return 'interrupted';
    }
    this.announce(exec);
    return 'settled';
  }

  /** Wakes the job's waiters here and tells the other instances (Redis) that it reached a final state. */
  private announce(exec: Execution): void {
    if (exec.announced) return;
    exec.announced = true;
    this.notify(exec.id);
    this.dispatcher.finished(exec.id).catch((err: unknown) => this.log.warn({ err: String(err), job: exec.id }, 'job end not announced'));
  }

  /** Gives up a job whose runs kept throwing: failed, if nothing else finished it meanwhile. */
  private async abandon(job: DispatchedJob, err: unknown): Promise<void> {
    this.log.error({ err: String(err), job: job.id }, 'job given up after repeated run failures');
    try {
      const now = this.clock.now();
      const gerr = new GatewayError('MG-SRV-001', 'The job could not be run.');
      if (await this.store.markFailed(job.id, gerr.toJSON(), now, now + this.config.jobRetentionS * 1000)) {
        this.onFinished((await this.store.getJob(job.id))?.model ?? 'unknown', 'failed');
      }
      this.notify(job.id);
      await this.dispatcher.finished(job.id);
    } catch (e) {
      this.log.warn({ err: String(e), job: job.id }, 'abandoned job not marked failed');
    }
  }

  /**
   * Position of a waiting job among its provider's waiting jobs (0 = next; the cluster's queue on Redis);
   * undefined when it is not waiting.
   */
  async queuePosition(id: string, provider?: string): Promise<number | undefined> {
    const p = provider ?? (await this.store.getJob(id))?.provider;
    return p === undefined ? undefined : this.dispatcher.queuePosition({ id, provider: p });
  }

  /** Suggested seconds before the next poll of a job. */
  async retryAfterS(row: JobRow): Promise<number> {
    const pos = isUnfinished(row.state) ? await this.queuePosition(row.id, row.provider) : undefined;
    if (pos !== undefined) {
      const waves = Math.floor(pos / this.capOf(row.provider)) + 1;
      return Math.min(30, Math.max(1, Math.ceil((waves * this.avgJobMs) / 1000)));
    }
    if (row.wait_ms !== null) return Math.min(30, Math.max(1, Math.ceil(row.wait_ms / 1000)));
    return 1;
  }

  private async execute(exec: Execution): Promise<void> {
    const parent = this.tracing.under(this.traceParents.get(exec.id));
    this.traceParents.delete(exec.id);
    const span = this.tracing.tracer.startSpan('job.run', { attributes: { 'mmcp.job_id': exec.id } }, parent);
    try {
      await this.runTraced(exec, span);
    } catch (err) {
      failSpan(span, err);
      throw err;
    } finally {
      span.end();
    }
  }

  private async runTraced(exec: Execution, span: Span): Promise<void> {
    const { id, controller } = exec;
    const row = await this.store.getJob(id);
    if (!row || (row.state !== 'queued' && row.state !== 'running')) return;
    span.updateName(`job ${row.model}`);
    span.setAttributes({ 'mmcp.model': row.model, 'gateway.provider': row.provider, 'gateway.resumed': row.started_at !== null });
    const stepParent = trace.setSpan(ROOT_CONTEXT, span);
    const started = this.clock.now();
    let adapter: Adapter | undefined;
    let plan: GenerationPlan | undefined;
    let checkpoint: Checkpoint = row.checkpoint ? (JSON.parse(row.checkpoint) as Checkpoint) : {};
    // Its first run, before any step passed: the step that submits (counted by the breaker), and for an
    // adapter that cannot tell from its checkpoint whether it was paid, the only time a route may move it on.
    const firstRun = row.started_at === null;
    let progressed = false;
    const log = this.log;
    const jobRoute = this.registry.route(row.model);
    const request = jobRoute ? (JSON.parse(row.request) as GenerateRequest) : undefined;
    const canMoveOn = (): boolean => {
      if (!jobRoute || !request) return false;
      const served = servedByOf(row);
      return otherTargetAvailable(this.registry, jobRoute, request, new Set([served.model, ...served.attempts.map((a) => a.model)]));
    };
    const ctx: JobContext = {
      jobId: id,
      signal: controller.signal,
      deadline: row.deadline,
      saveCheckpoint: (cp) => {
        checkpoint = cp;
        progressed = true;
        return this.store.saveCheckpoint(id, cp, this.clock.now());
      },
      store: this.store.kv(row.provider),
      log,
      compute: this.workers,
      // Read when the adapter weighs waiting against failing: another target must be there to take the job.
      get canFallBack() {
        return canMoveOn();
      },
    };
    // One pass, or more when the store went away mid-job and came back.
    for (;;) {
      try {
        // The job runs on the target chosen at admission (the model itself unless it named a route).
        const servedBy = servedByOf(row);
        const route = this.registry.route(row.model);
        const target = route?.targets.find((t) => t.model === servedBy.model) ?? { model: servedBy.model };
        adapter = this.registry.adapterFor(target.model);
        const model = adapter && this.registry.providerModel(target.model);
        if (!adapter || !model) throw new GatewayError('MG-SRV-003', `Model "${target.model}" is no longer configured on this gateway.`, { retryAfterS: 60 });
        ctx.store = this.store.kv(adapter.provider);
        plan =
          this.plans.get(id) ??
          targetPlan(JSON.parse(row.request) as GenerateRequest, route ? this.registry.model(row.model) : undefined, { target, model, adapter }, row.seed, ignoredFieldsOf(row), servedBy);
        if (!(await this.store.markStarted(id, this.clock.now()))) return; // finished meanwhile (cancelled)
        while (!controller.signal.aborted) {
          if (this.clock.now() > row.deadline) {
            throw new GatewayError('MG-JOB-004', undefined, { details: { timeout_s: this.config.jobTimeoutS } });
          }
          const step = await this.advance(adapter, plan, checkpoint, ctx, firstRun && !progressed, stepParent);
          // Past a step the provider may have charged (and a finished one's rendering is not its failure).
          progressed = true;
          if (exec.cancelRequested) break;
          // A step that finished is kept even when shutdown began meanwhile: that work is paid for.
          if (step.kind === 'done' || step.kind === 'compute') {
            const rendering = plan;
            const glb = await inSpan(this.tracing.tracer, 'motion.render', stepParent, { 'gateway.provider': adapter.provider }, () =>
              this.workers.render(rendering, step.kind === 'done' ? { motion: step.motion } : { task: step.task }),
            );
            const now = this.clock.now();
            const stored = await this.store.markSucceeded(id, glb, now, now + this.config.jobRetentionS * 1000);
            span.setAttributes({ 'mmcp.job_state': 'succeeded', 'gateway.served_by': servedByOf(row).model });
            if (stored) {
              this.onFinished(row.model, 'succeeded');
              // Waiters first: a sync request waits for the result, not for its copy in the cache.
              this.announce(exec);
              if (!(await this.cache.put(row.cache_key, stored, now))) log.warn({ job: id }, 'result not cached');
            }
            this.avgJobMs = 0.8 * this.avgJobMs + 0.2 * (now - started);
            return;
          }
          checkpoint = step.checkpoint;
          await this.store.saveProgress(id, checkpoint, step.progress ?? null, step.queuePosition ?? null, step.waitMs, this.clock.now());
          if (controller.signal.aborted) break;
          await this.clock.sleep(Math.max(0, step.waitMs), controller.signal);
        }
      } catch (err) {
        if (controller.signal.aborted && !exec.cancelRequested) return; // shutting down: resume later
        if (!exec.cancelRequested && this.isStoreOutage(err)) {
          // The store stopped answering mid-job (Redis down): not the job's fault. Once it answers again the
          // job goes on from the checkpoint in hand, which is never older than the stored one.
          log.warn({ job: id, err: String(err) }, 'store unavailable: the job waits for it');
          if (await this.storeAnswers(controller.signal)) continue;
          return;
        }
        if (!exec.cancelRequested) {
          let gerr = asGatewayError(err);
          // A route's job moves on only while nothing can have been paid at this target (its checkpoint says
          // so, or for an adapter that cannot tell: its first step failed before any checkpoint), or when the
          // provider says this failure was not charged.
          const unpaid = adapter?.mayHaveCharged ? !adapter.mayHaveCharged(checkpoint) : firstRun && !progressed;
          if ((unpaid || uncharged(gerr)) && jobRoute) {
            const moved = await this.nextTarget(row, gerr);
            if ('checkpoint' in moved) {
              checkpoint = moved.checkpoint;
              progressed = false; // the next target starts from nothing
              this.plans.delete(id);
              continue;
            }
            gerr = moved.error;
          }
          span.setAttributes({ 'mmcp.job_state': 'failed', 'gateway.served_by': servedByOf(row).model });
          failSpan(span, gerr);
          if (gerr.id === 'MG-SRV-001') log.error({ err, job: id }, 'job failed unexpectedly');
          else log.info({ job: id, error_code: gerr.id }, 'job failed');
          const now = this.clock.now();
          if (await this.store.markFailed(id, gerr.toJSON(), now, now + this.config.jobRetentionS * 1000)) this.onFinished(row.model, 'failed');
          if (gerr.id === 'MG-JOB-004' && adapter && plan) await this.cancelAtProvider(adapter, plan, checkpoint, ctx);
          return;
        }
      }
      break;
    }
    if (exec.cancelRequested && adapter && plan) await this.cancelAtProvider(adapter, plan, checkpoint, ctx);
  }

  /**
   * One provider step, timed. The first step of a job's first run is the one that hands the provider new
   * work: it goes through the provider's circuit breaker (refused with MG-SRV-004 while it is open, and
   * counted); later steps of a job that may be paid for go straight to the provider.
   */
  private async advance(adapter: Adapter, plan: GenerationPlan, checkpoint: Checkpoint, ctx: JobContext, submits: boolean, parent: Context) {
    const t0 = performance.now();
    let outcome = 'ok';
    const span = this.tracing.tracer.startSpan('provider.step', { attributes: { 'gateway.provider': adapter.provider, 'gateway.submits': submits, 'mmcp.job_id': ctx.jobId } }, parent);
    try {
      const step = submits ? await this.registry.breakers.call(adapter.provider, () => adapter.advance(plan, checkpoint, ctx)) : await adapter.advance(plan, checkpoint, ctx);
      span.setAttribute('gateway.step', step.kind);
      return step;
    } catch (err) {
      outcome = asGatewayError(err).id;
      failSpan(span, asGatewayError(err));
      throw err;
    } finally {
      span.end();
      if (outcome !== 'MG-SRV-004') this.events.providerCall?.(adapter.provider, (performance.now() - t0) / 1000, outcome);
    }
  }

  /**
   * Moves a route's job whose target failed with a FALLBACK_ERRORS error on its first steps (nothing paid
   * there) to the next target whose start() succeeds, recorded in the row (provider, served_by, first
   * checkpoint) before it runs; `row` is updated in place. Otherwise the error the job fails with (its
   * details listing the attempts when there were any).
   */
  private async nextTarget(row: JobRow, failure: GatewayError): Promise<{ checkpoint: Checkpoint } | { error: GatewayError }> {
    const route = this.registry.route(row.model)!;
    if (!FALLBACK_ERRORS.has(failure.id)) return { error: failure };
    const served = servedByOf(row);
    const attempts = [...served.attempts, { model: served.model, error_code: failure.code, error_id: failure.id }];
    this.events.fallback?.(route.id, served.model, failure.id);
    const request = JSON.parse(row.request) as GenerateRequest;
    let last = failure;
    try {
      const next = routeCandidates(this.registry, route, request, new Set(attempts.map((a) => a.model)));
      attempts.push(...next.attempts);
      for (const passed of next.attempts) this.events.fallback?.(route.id, passed.model, passed.error_id ?? passed.error_code);
      for (const c of next.candidates) {
        const servedBy: ServedBy = { model: c.model.id, provider: c.adapter.provider, attempts: [...attempts] };
        const plan = targetPlan(request, this.registry.model(route.id), c, row.seed, ignoredFieldsOf(row), servedBy);
        try {
          const checkpoint = await c.adapter.start(plan);
          row.provider = c.adapter.provider;
          row.served_by = JSON.stringify(servedBy);
          await this.store.saveTarget(row.id, row.provider, row.served_by, checkpoint, this.clock.now());
          this.log.info({ job: row.id, route: route.id, from: served.model, to: c.model.id, error_code: failure.id }, 'route target failed; job moved to the next');
          this.events.routed?.(route.id, c.model.id);
          return { checkpoint };
        } catch (err) {
          last = asGatewayError(err);
          attempts.push({ model: c.model.id, error_code: last.code, error_id: last.id });
          this.events.fallback?.(route.id, c.model.id, last.id);
          if (!FALLBACK_ERRORS.has(last.id)) break;
        }
      }
    } catch (err) {
      last = asGatewayError(err);
    }
    return { error: new GatewayError(last.id, last.message, { details: { ...(last.details ?? {}), route: route.id, attempts }, retryAfterS: last.retryAfterS }) };
  }

  /** A failure of the store itself (a networked store that stopped answering), not of the job. */
  private isStoreOutage(err: unknown): boolean {
    if (err instanceof GatewayError) return false;
    return this.store.status().state !== 'ok' || (err as Error | undefined)?.name === 'MaxRetriesPerRequestError';
  }

  /** Resolves true once the store answers again (checked on real time: reconnecting is), false if `signal` aborts first. */
  private async storeAnswers(signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      if (this.store.isOpen()) return true;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, 200);
        function done() {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        }
        signal.addEventListener('abort', done, { once: true });
      });
    }
    return false;
  }

  private async cancelAtProvider(adapter: Adapter, plan: GenerationPlan, checkpoint: Checkpoint, ctx: JobContext): Promise<void> {
    try {
      await adapter.cancel(plan, checkpoint, { ...ctx, signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      this.log.warn({ job: ctx.jobId, err: String(err) }, 'provider cancel failed');
    }
  }

  /** Cancels a job; resolves false when it had already finished. */
  async cancel(id: string): Promise<boolean> {
    const now = this.clock.now();
    const changed = await this.store.markCancelled(id, now, now + this.config.jobRetentionS * 1000);
    if (changed) this.onFinished((await this.store.getJob(id))?.model ?? 'unknown', 'cancelled');
    this.plans.delete(id);
    this.traceParents.delete(id);
    this.stopLocal(id);
    this.notify(id);
    // Out of the queue, and stopped wherever it runs (Redis: the instance running it hears of it).
    await this.dispatcher.cancelled(id);
    return changed;
  }

  /** Stops a cancelled job's execution in this process, if it runs here; the execution then cancels it at the provider. */
  private stopLocal(id: string): void {
    const exec = this.active.get(id);
    if (!exec || exec.cancelRequested) return;
    exec.cancelRequested = true;
    exec.controller.abort(new Error('cancelled'));
  }

  /** Resolves when the job reaches a final state or `ms` pass (or `signal` aborts). */
  waitFor(id: string, ms: number, signal?: AbortSignal): Promise<void> {
    // While stopping nothing waits: stop() has woken (or is about to wake) every waiter, and a waiter added after it would hold its request past the grace.
    if (ms <= 0 || this.draining) return Promise.resolve();
    return new Promise((resolve) => {
      const set = this.waiters.get(id) ?? new Set();
      this.waiters.set(id, set);
      const finish = () => {
        clearTimeout(timer);
        set.delete(finish);
        if (!set.size) this.waiters.delete(id);
        signal?.removeEventListener('abort', finish);
        resolve();
      };
      const timer = setTimeout(finish, ms);
      signal?.addEventListener('abort', finish, { once: true });
      set.add(finish);
      // Registered before the read: a job that finishes while the store answers still wakes this waiter.
      this.store.getJob(id).then(
        (row) => {
          if (!row || (row.state !== 'queued' && row.state !== 'running') || this.draining) finish();
        },
        () => finish(),
      );
    });
  }

  private notify(id: string): void {
    for (const fn of [...(this.waiters.get(id) ?? [])]) fn();
  }

  /** Stops taking work, lets running steps reach a checkpoint (up to `graceMs`), leaves the rest for the next start. */
  async stop(graceMs: number): Promise<void> {
    this.draining = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.dispatcher.stop();
    // Running executions hold their plans already; waiting jobs plan again when they run.
    this.plans.clear();
    const running = [...this.active.values()];
    for (const exec of running) exec.controller.abort(new Error('shutdown'));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(running.map((e) => e.done)),
      new Promise((r) => {
        timer = setTimeout(r, graceMs);
      }),
    ]);
    clearTimeout(timer);
    for (const [id] of this.waiters) this.notify(id);
    await this.dispatcher.settle(this.active.size > 0);
  }

  /** After stop() and the last answer: releases the dispatcher's connections (Redis). */
  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  /** Jobs executing in this process, and waiting in it (0 on Redis: waiting jobs are the cluster's, in BullMQ). */
  stats(): { active: number; queued: number } {
    return { active: this.active.size, queued: this.dispatcher.waitingHere() };
  }

  /** The worker threads' load: motion work running, and waiting for a thread. */
  workerStats(): { threads: number; running: number; queued: number } {
    return this.workers.stats();
  }
}

/** A provider failure the provider did not charge for (the adapter says so: `details.provider_charged === false`). */
function uncharged(err: GatewayError): boolean {
  return err.details?.provider_charged === false;
}
