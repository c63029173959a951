/**
 * The job runner: admits jobs under a concurrency bound and a queue bound, drives each adapter step by
 * step from its stored checkpoint, renders finished motion to glTF, and resumes unfinished jobs after a
 * restart without starting the provider's work a second time.
 */
import { randomBytes } from 'node:crypto';
import type { Adapter, Checkpoint, JobContext, Logger } from '../spec/adapter.js';
import type { GenerationPlan } from '../spec/plan.js';
import type { Motion } from '../spec/motion.js';
import type { AdapterRegistry } from '../adapters/registry.js';
import type { Config } from '../config.js';
import { GatewayError, asGatewayError } from '../spec/errors.js';
import { buildPlan } from '../protocol/plan.js';
import type { GenerateRequest } from '../spec/wire.js';
import type { JobRow, Store } from './store.js';

export type Renderer = (plan: GenerationPlan, motion: Motion) => Uint8Array;

/** Told once per job that reaches a final state in this process (metrics). */
export type FinishedListener = (model: string, state: 'succeeded' | 'failed' | 'cancelled') => void;

interface Execution {
  id: string;
  controller: AbortController;
  cancelRequested: boolean;
  done: Promise<void>;
}

export interface SubmitInput {
  owner: string;
  request: GenerateRequest;
  plan: GenerationPlan;
  adapter: Adapter;
  /** First checkpoint from adapter.start(). */
  checkpoint: Checkpoint;
  /** Result-cache key when the request is seeded. */
  cacheKey: string | null;
  /** A finished answer from the result cache, when there is one. */
  cachedGlb?: Uint8Array;
}

/** Unguessable job ids: 128 random bits. */
export function newJobId(): string {
  return `job_${randomBytes(16).toString('base64url')}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export class JobRunner {
  private readonly active = new Map<string, Execution>();
  private readonly queue: string[] = [];
  private readonly waiters = new Map<string, Set<() => void>>();
  private draining = false;
  /** Recent job durations (ms), for Retry-After estimates of queued jobs. */
  private avgJobMs = 2_000;
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly registry: AdapterRegistry,
    private readonly config: Config,
    private readonly log: Logger,
    private readonly render: Renderer,
    private readonly onFinished: FinishedListener = () => {},
  ) {}

  /** Starts the retention sweeper and resumes every unfinished job of the store. */
  start(): void {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
    this.sweep();
    const unfinished = this.store.unfinishedJobs();
    if (unfinished.length) this.log.info({ jobs: unfinished.length }, 'resuming unfinished jobs');
    for (const row of unfinished) this.enqueue(row.id);
  }

  sweep(): void {
    if (this.store.isOpen()) this.store.sweep(Date.now());
  }

  /** Whether one more job can be admitted now; when not, how long to wait. */
  admission(): { ok: true } | { ok: false; retryAfterS: number; reason: 'shutting_down' | 'full' } {
    if (this.draining) return { ok: false, retryAfterS: 5, reason: 'shutting_down' };
    if (this.active.size < this.config.maxConcurrentJobs || this.queue.length < this.config.maxQueuedJobs) return { ok: true };
    const waves = Math.ceil((this.queue.length + 1) / this.config.maxConcurrentJobs);
    return { ok: false, retryAfterS: Math.min(120, Math.max(1, Math.ceil((waves * this.avgJobMs) / 1000))), reason: 'full' };
  }

  /** Records a new job and schedules it. Throws 503 when the gateway is full. */
  submit(input: SubmitInput): JobRow {
    const adm = this.admission();
    if (!adm.ok) {
      throw adm.reason === 'shutting_down'
        ? new GatewayError('MG-SRV-002', undefined, { retryAfterS: adm.retryAfterS })
        : new GatewayError('MG-JOB-003', undefined, { retryAfterS: adm.retryAfterS, details: { max_concurrent_jobs: this.config.maxConcurrentJobs, max_queued_jobs: this.config.maxQueuedJobs } });
    }
    const now = Date.now();
    const row: JobRow = {
      id: newJobId(),
      owner: input.owner,
      model: input.plan.model.id,
      provider: input.adapter.provider,
      request: JSON.stringify(input.request),
      seed: input.plan.seed,
      state: input.cachedGlb ? 'succeeded' : 'queued',
      checkpoint: JSON.stringify(input.checkpoint),
      progress: input.cachedGlb ? 1 : null,
      queue_position: null,
      wait_ms: null,
      result: input.cachedGlb ? Buffer.from(input.cachedGlb) : null,
      error: null,
      cache_key: input.cacheKey,
      created_at: now,
      started_at: input.cachedGlb ? now : null,
      updated_at: now,
      finished_at: input.cachedGlb ? now : null,
      expires_at: input.cachedGlb ? now + this.config.jobRetentionS * 1000 : null,
      deadline: now + this.config.jobTimeoutS * 1000,
    };
    this.store.insertJob(row);
    if (!input.cachedGlb) this.enqueue(row.id);
    return row;
  }

  private enqueue(id: string): void {
    this.queue.push(id);
    this.pump();
  }

  private pump(): void {
    while (!this.draining && this.active.size < this.config.maxConcurrentJobs && this.queue.length) {
      const id = this.queue.shift()!;
      const exec: Execution = { id, controller: new AbortController(), cancelRequested: false, done: Promise.resolve() };
      this.active.set(id, exec);
      exec.done = this.execute(exec).finally(() => {
        this.active.delete(id);
        this.notify(id);
        this.pump();
      });
    }
  }

  /** Position of a queued job in the gateway's own queue (0 = next), or undefined. */
  queuePosition(id: string): number | undefined {
    const i = this.queue.indexOf(id);
    return i < 0 ? undefined : i;
  }

  /** Suggested seconds before the next poll of a job. */
  retryAfterS(row: JobRow): number {
    const pos = this.queuePosition(row.id);
    if (pos !== undefined) {
      const waves = Math.floor(pos / this.config.maxConcurrentJobs) + 1;
      return Math.min(30, Math.max(1, Math.ceil((waves * this.avgJobMs) / 1000)));
    }
    if (row.wait_ms !== null) return Math.min(30, Math.max(1, Math.ceil(row.wait_ms / 1000)));
    return 1;
  }

  private async execute(exec: Execution): Promise<void> {
    const { id, controller } = exec;
    const row = this.store.getJob(id);
    if (!row || (row.state !== 'queued' && row.state !== 'running')) return;
    const started = Date.now();
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
        this.store.saveCheckpoint(id, cp, Date.now());
      },
      store: this.store.kv(row.provider),
      log,
    };
    try {
      adapter = this.registry.adapterFor(row.model);
      const model = adapter?.models().find((m) => m.id === row.model);
      if (!adapter || !model) throw new GatewayError('MG-SRV-003', `Model "${row.model}" is no longer configured on this gateway.`, { retryAfterS: 60 });
      ctx.store = this.store.kv(adapter.provider);
      plan = buildPlan(JSON.parse(row.request) as GenerateRequest, model, adapter.provider, row.seed);
      this.store.markStarted(id, Date.now());
      while (!controller.signal.aborted) {
        if (Date.now() > row.deadline) {
          throw new GatewayError('MG-JOB-004', undefined, { details: { timeout_s: this.config.jobTimeoutS } });
        }
        const step = await adapter.advance(plan, checkpoint, ctx);
        if (exec.cancelRequested) break;
        // A step that finished is kept even when shutdown began meanwhile: that work is paid for.
        if (step.kind === 'done') {
          const glb = this.render(plan, step.motion);
          const now = Date.now();
          if (this.store.markSucceeded(id, glb, now, now + this.config.jobRetentionS * 1000)) {
            this.onFinished(row.model, 'succeeded');
            if (row.cache_key) this.store.putCachedResult(row.cache_key, glb, now, now + this.config.resultCacheTtlS * 1000);
          }
          this.avgJobMs = 0.8 * this.avgJobMs + 0.2 * (now - started);
          return;
        }
        checkpoint = step.checkpoint;
        this.store.saveProgress(id, checkpoint, step.progress ?? null, step.queuePosition ?? null, step.waitMs, Date.now());
        if (controller.signal.aborted) break;
        await sleep(Math.max(0, step.waitMs), controller.signal);
      }
    } catch (err) {
      if (controller.signal.aborted && !exec.cancelRequested) return; // shutting down: resume later
      if (!exec.cancelRequested) {
        const gerr = asGatewayError(err);
        if (gerr.id === 'MG-SRV-001') log.error({ err, job: id }, 'job failed unexpectedly');
        else log.info({ job: id, error_code: gerr.id }, 'job failed');
        const now = Date.now();
        if (this.store.markFailed(id, gerr.toJSON(), now, now + this.config.jobRetentionS * 1000)) this.onFinished(row.model, 'failed');
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

  /** Cancels a job; returns false when it had already finished. */
  cancel(id: string): boolean {
    const now = Date.now();
    const changed = this.store.markCancelled(id, now, now + this.config.jobRetentionS * 1000);
    if (changed) this.onFinished(this.store.getJob(id)?.model ?? 'unknown', 'cancelled');
    const qi = this.queue.indexOf(id);
    if (qi >= 0) this.queue.splice(qi, 1);
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
    const row = this.store.getJob(id);
    if (!row || (row.state !== 'queued' && row.state !== 'running') || ms <= 0) return Promise.resolve();
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
    });
  }

  private notify(id: string): void {
    for (const fn of [...(this.waiters.get(id) ?? [])]) fn();
  }

  /** Stops taking work, lets running steps reach a checkpoint (up to `graceMs`), leaves the rest for the next start. */
  async stop(graceMs: number): Promise<void> {
    this.draining = true;
    if (this.sweeper) clearInterval(this.sweeper);
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
}
