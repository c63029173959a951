/**
 * The job runner: the one caller of adapters. It admits requests (validation, planning, the seeded-result
 * cache, the adapter's start) under a queue bound, drives each adapter step by step from its stored
 * checkpoint with each provider's own in-flight cap, has finished motion rendered to glTF on the worker
 * threads, and resumes unfinished jobs after a restart without starting the provider's work a second
 * time. A job waiting on a provider holds no CPU: only the worker pool bounds local work.
 */
import { randomBytes } from 'node:crypto';
import type { Adapter, Checkpoint, JobContext, Logger } from '../spec/adapter.js';
import { systemClock, type Clock } from '../spec/clock.js';
import { GatewayError, asGatewayError } from '../spec/errors.js';
import type { GenerationPlan } from '../spec/plan.js';
import type { GenerateRequest } from '../spec/wire.js';
import { buildPlan, drawSeed } from '../protocol/plan.js';
import type { AdapterRegistry } from '../adapters/registry.js';
import type { Config } from '../config.js';
import { prepareAdmission, type Admission } from './admission.js';
import { ResultCache } from './cache.js';
import type { MotionWorkers } from './pool.js';
import { resultColumns, type JobRow, type Store } from './store.js';

/** Told once per job that reaches a final state in this process (metrics). */
export type FinishedListener = (model: string, state: 'succeeded' | 'failed' | 'cancelled') => void;

export interface RunnerOptions {
  store: Store;
  registry: AdapterRegistry;
  config: Config;
  log: Logger;
  /** Where all motion work runs (the worker threads). */
  workers: MotionWorkers;
  onFinished?: FinishedListener;
  clock?: Clock;
}

interface Execution {
  id: string;
  provider: string;
  controller: AbortController;
  cancelRequested: boolean;
  done: Promise<void>;
}

/** Unguessable job ids: 128 random bits. */
function newJobId(): string {
  return `job_${randomBytes(16).toString('base64url')}`;
}

export class JobRunner {
  private readonly active = new Map<string, Execution>();
  /** Jobs in flight per provider: each provider has its own cap (Adapter.maxInFlight). */
  private readonly inFlight = new Map<string, number>();
  /** Jobs waiting for their provider's cap, oldest first. */
  private readonly queue: Array<{ id: string; provider: string }> = [];
  private pumpScheduled = false;
  private readonly waiters = new Map<string, Set<() => void>>();
  private draining = false;
  /** Recent job durations (ms), for Retry-After estimates of queued jobs. */
  private avgJobMs = 2_000;
  private sweeper?: NodeJS.Timeout;
  /** Plans of jobs admitted by this process (a resumed job plans again from its stored request). */
  private readonly plans = new Map<string, GenerationPlan>();
  private readonly store: Store;
  private readonly registry: AdapterRegistry;
  private readonly config: Config;
  private readonly log: Logger;
  private readonly workers: MotionWorkers;
  private readonly onFinished: FinishedListener;
  private readonly clock: Clock;
  private readonly cache: ResultCache;

  constructor(opts: RunnerOptions) {
    this.store = opts.store;
    this.registry = opts.registry;
    this.config = opts.config;
    this.log = opts.log;
    this.workers = opts.workers;
    this.onFinished = opts.onFinished ?? (() => {});
    this.clock = opts.clock ?? systemClock;
    this.cache = new ResultCache(opts.store, opts.config.resultCacheTtlS);
  }

  /** Starts the retention sweeper and resumes every unfinished job of the store. */
  async start(): Promise<void> {
    this.sweeper = setInterval(() => void this.sweep(), 60_000);
    this.sweeper.unref();
    await this.sweep();
    const unfinished = await this.store.unfinishedJobs();
    if (unfinished.length) this.log.info({ jobs: unfinished.length }, 'resuming unfinished jobs');
    for (const row of unfinished) this.enqueue(row.id, row.provider);
  }

  async sweep(): Promise<void> {
    if (!this.store.isOpen()) return;
    try {
      await this.store.sweep(this.clock.now());
    } catch (err) {
      this.log.warn({ err: String(err) }, 'retention sweep failed');
    }
  }

  /** Whether one more job can be admitted now; when not, how long to wait. */
  private admission(provider: string): { ok: true } | { ok: false; retryAfterS: number; reason: 'shutting_down' | 'full' } {
    if (this.draining) return { ok: false, retryAfterS: 5, reason: 'shutting_down' };
    if (this.hasRoom(provider) || this.queue.length < this.config.maxQueuedJobs) return { ok: true };
    const cap = this.capOf(provider);
    const waves = Math.ceil((this.queue.filter((q) => q.provider === provider).length + 1) / cap);
    return { ok: false, retryAfterS: Math.min(120, Math.max(1, Math.ceil((waves * this.avgJobMs) / 1000))), reason: 'full' };
  }

  /** A provider's in-flight cap: its own when it declares one, else MAX_CONCURRENT_JOBS. */
  private capOf(provider: string): number {
    const adapter = this.registry.adapters.find((a) => a.provider === provider);
    const cap = adapter?.maxInFlight?.();
    return cap !== undefined && Number.isFinite(cap) && cap >= 1 ? Math.floor(cap) : this.config.maxConcurrentJobs;
  }

  private hasRoom(provider: string): boolean {
    return (this.inFlight.get(provider) ?? 0) < this.capOf(provider);
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
  async admit(a: Admission, owner: string): Promise<JobRow> {
    this.checkCapacity(a.adapter.provider);
    const plan = buildPlan(a.request, a.model, a.adapter.provider, a.request.options?.seed ?? drawSeed(), a.ignoredFields);
    const cacheKey = this.cache.keyOf(plan);
    const now = this.clock.now();
    const id = newJobId();
    const cached = await this.cache.claim(cacheKey, now, id);
    const checkpoint: Checkpoint = cached ? {} : await a.adapter.start(plan);
    this.checkCapacity(a.adapter.provider);
    const done = cached !== undefined;
    const row: JobRow = {
      id,
      owner,
      model: a.model.id,
      provider: a.adapter.provider,
      request: JSON.stringify(a.request),
      seed: plan.seed,
      state: done ? 'succeeded' : 'queued',
      checkpoint: JSON.stringify(checkpoint),
      progress: done ? 1 : null,
      queue_position: null,
      wait_ms: null,
      ...resultColumns(cached),
      error: null,
      cache_key: cacheKey,
      created_at: now,
      started_at: done ? now : null,
      updated_at: now,
      finished_at: done ? now : null,
      expires_at: done ? now + this.config.jobRetentionS * 1000 : null,
      deadline: now + this.config.jobTimeoutS * 1000,
    };
    await this.store.insertJob(row);
    if (!done) {
      this.plans.set(row.id, plan);
      this.enqueue(row.id, row.provider);
    }
    return row;
  }

  private checkCapacity(provider: string): void {
    const adm = this.admission(provider);
    if (adm.ok) return;
    throw adm.reason === 'shutting_down'
      ? new GatewayError('MG-SRV-002', undefined, { retryAfterS: adm.retryAfterS })
      : new GatewayError('MG-JOB-003', undefined, {
          retryAfterS: adm.retryAfterS,
          details: { provider, max_in_flight: this.capOf(provider), max_queued_jobs: this.config.maxQueuedJobs },
        });
  }

  private enqueue(id: string, provider: string): void {
    this.queue.push({ id, provider });
    this.schedulePump();
  }

  /**
   * Starts queued jobs on the next turn of the event loop, never inside the call that admitted them: the
   * answer to an accepted request (a durable insert) goes out before any of its work begins.
   */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    for (let i = 0; !this.draining && i < this.queue.length; ) {
      const { id, provider } = this.queue[i];
      if (!this.hasRoom(provider)) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      this.inFlight.set(provider, (this.inFlight.get(provider) ?? 0) + 1);
      const exec: Execution = { id, provider, controller: new AbortController(), cancelRequested: false, done: Promise.resolve() };
      this.active.set(id, exec);
      exec.done = this.execute(exec).finally(() => {
        this.active.delete(id);
        this.inFlight.set(provider, (this.inFlight.get(provider) ?? 1) - 1);
        this.plans.delete(id);
        this.notify(id);
        this.schedulePump();
      });
    }
  }

  /** Position of a queued job among the jobs of its provider waiting in the gateway's queue (0 = next). */
  queuePosition(id: string): number | undefined {
    const at = this.queue.findIndex((q) => q.id === id);
    if (at < 0) return undefined;
    const provider = this.queue[at].provider;
    let ahead = 0;
    for (let i = 0; i < at; i++) if (this.queue[i].provider === provider) ahead++;
    return ahead;
  }

  /** Suggested seconds before the next poll of a job. */
  retryAfterS(row: JobRow): number {
    const pos = this.queuePosition(row.id);
    if (pos !== undefined) {
      const waves = Math.floor(pos / this.capOf(row.provider)) + 1;
      return Math.min(30, Math.max(1, Math.ceil((waves * this.avgJobMs) / 1000)));
    }
    if (row.wait_ms !== null) return Math.min(30, Math.max(1, Math.ceil(row.wait_ms / 1000)));
    return 1;
  }

  private async execute(exec: Execution): Promise<void> {
    const { id, controller } = exec;
    const row = await this.store.getJob(id);
    if (!row || (row.state !== 'queued' && row.state !== 'running')) return;
    const started = this.clock.now();
    let adapter: Adapter | undefined;
    let plan: GenerationPlan | undefined;
    let checkpoint: Checkpoint = row.checkpoint ? (JSON.parse(row.checkpoint) as Checkpoint) : {};
    const log = this.log;
    const ctx: JobContext = {
      jobId: id,
      signal: controller.signal,
      deadline: row.deadline,
      saveCheckpoint: (cp) => {
        checkpoint = cp;
        return this.store.saveCheckpoint(id, cp, this.clock.now());
      },
      store: this.store.kv(row.provider),
      log,
      compute: this.workers,
    };
    try {
      adapter = this.registry.adapterFor(row.model);
      const model = adapter?.models().find((m) => m.id === row.model);
      if (!adapter || !model) throw new GatewayError('MG-SRV-003', `Model "${row.model}" is no longer configured on this gateway.`, { retryAfterS: 60 });
      ctx.store = this.store.kv(adapter.provider);
      plan = this.plans.get(id) ?? buildPlan(JSON.parse(row.request) as GenerateRequest, model, adapter.provider, row.seed);
      if (!(await this.store.markStarted(id, this.clock.now()))) return; // finished meanwhile (cancelled)
      while (!controller.signal.aborted) {
        if (this.clock.now() > row.deadline) {
          throw new GatewayError('MG-JOB-004', undefined, { details: { timeout_s: this.config.jobTimeoutS } });
        }
        const step = await adapter.advance(plan, checkpoint, ctx);
        if (exec.cancelRequested) break;
        // A step that finished is kept even when shutdown began meanwhile: that work is paid for.
        if (step.kind === 'done' || step.kind === 'compute') {
          const glb = await this.workers.render(plan, step.kind === 'done' ? { motion: step.motion } : { task: step.task });
          const now = this.clock.now();
          const stored = await this.store.markSucceeded(id, glb, now, now + this.config.jobRetentionS * 1000);
          if (stored) {
            this.onFinished(row.model, 'succeeded');
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
      if (!exec.cancelRequested) {
        const gerr = asGatewayError(err);
        if (gerr.id === 'MG-SRV-001') log.error({ err, job: id }, 'job failed unexpectedly');
        else log.info({ job: id, error_code: gerr.id }, 'job failed');
        const now = this.clock.now();
        if (await this.store.markFailed(id, gerr.toJSON(), now, now + this.config.jobRetentionS * 1000)) this.onFinished(row.model, 'failed');
        if (gerr.id === 'MG-JOB-004' && adapter && plan) await this.cancelAtProvider(adapter, plan, checkpoint, ctx);
        return;
      }
    }
    if (exec.cancelRequested && adapter && plan) await this.cancelAtProvider(adapter, plan, checkpoint, ctx);
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
    const qi = this.queue.findIndex((q) => q.id === id);
    if (qi >= 0) {
      this.queue.splice(qi, 1);
      this.plans.delete(id);
    }
    const exec = this.active.get(id);
    if (exec) {
      exec.cancelRequested = true;
      exec.controller.abort(new Error('cancelled'));
    }
    this.notify(id);
    return changed;
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
    for (const { id } of this.queue) this.plans.delete(id);
    this.queue.length = 0;
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
  }

  stats(): { active: number; queued: number } {
    return { active: this.active.size, queued: this.queue.length };
  }

  /** The worker threads' load: motion work running, and waiting for a thread. */
  workerStats(): { threads: number; running: number; queued: number } {
    return this.workers.stats();
  }
}
