/**
 * The Meshy adapter: MMCP text segments become actions of Meshy's animation library, animated on one
 * humanoid rigged once, and come back as clips on Meshy's rig for the pipeline to compose, constrain
 * and retarget. Read top to bottom: model, start (selection), advance (rig → submit → follow → deliver), cancel.
 */
import { readMeshyConfig, type MeshyConfig } from './config.js';
import type { Adapter, AdapterStore, JobContext, Logger, ProviderDefinition, Readiness, Step } from '../../spec/adapter.js';
import { systemClock, type Clock } from '../../spec/clock.js';
import { GatewayError } from '../../spec/errors.js';
import type { ComputeTask } from '../../spec/compute.js';
import type { GenerationPlan } from '../../spec/plan.js';
import type { ModelCapabilities } from '../../spec/wire.js';
import type { LookupFunction } from 'node:net';
import { AssetEgress } from '../kit/egress.js';
import { ProviderCallError } from '../kit/errors.js';
import { defineModel } from '../kit/model.js';
import { Secrets } from '../kit/redact.js';
import { MeshyClient, resultOf, type CallScope, type MeshyClientOptions, type MeshyTask } from './client.js';
import { asMeshyError, isQueueFull, isRigRefused, meshyError, ruleFor, type MeshyFailure } from './errors.js';
import { loadLibrary, RIG_BASIC_ACTIONS, type ActionLibrary } from './library.js';
import { planJob, readCheckpoint, type MeshyCheckpoint, type TaskEntry } from './mapping.js';
import { MESHY_CONTACT_JOINTS, MESHY_RIG } from './rig.js';
import { RigKeeper, RigRefused, RIG_SLOT } from './rigging.js';
import { slotsFor, type TaskSlots } from './slots.js';
import { TaskStreams } from './stream.js';
import { MESHY_WORK, type MeshyMotionInput } from './work.js';

const MESHY_PROVIDER = 'meshy';

export interface MeshyDeps {
  /** Base wait between steps of a running task (default 2 s). */
  pollIntervalMs?: number;
  /** An SSE stream silent for this long counts as dropped (default 60 s). */
  streamIdleMs?: number;
  /** Follow progress over SSE (default true); false polls only. */
  useStreams?: boolean;
  /** HTTP retry tuning and per-call timeout. */
  retry?: MeshyClientOptions['retry'];
  timeoutMs?: number;
  /** Times a transiently FAILED task is created again (default 2; Meshy refunds failed tasks). */
  maxResubmits?: number;
  /** Consecutive "queue full" answers tolerated before giving up (default 60). */
  maxQueueFullWaits?: number;
  /** Times a creation still rate-limited after the call's own retries is rescheduled before the job fails (default 5). */
  maxRateLimitWaits?: number;
  /** Time for every wait and deadline of the adapter (default: the system clock; tests share a fast one with the simulator). */
  clock?: Clock;
  library?: ActionLibrary;
  log?: Logger;
  /** PROVIDER_ASSET_ORIGINS: origins result files may come from besides the API's (see docs/provider-security.md). */
  assetOrigins?: readonly string[];
  /** Resolves the hosts of result files (tests inject one; default the system resolver). */
  lookup?: LookupFunction;
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** This model's entry of GET /capabilities: what differs from defineModel()'s defaults. */
const MESHY_MODEL = defineModel({
  id: 'meshy',
  description: 'Meshy animation library: about 680 motion-captured clips (walks, runs, fights, dances, daily actions) on a Meshy-rigged humanoid. Each prompt is matched to a library action (reported in x_understood); extensions.meshy.action_id picks one explicitly.',
  provider: MESHY_PROVIDER,
  fps: 30,
  predicted_contact_joints: [...MESHY_CONTACT_JOINTS],
  native_clip_seconds: 3,
  recommended_max_duration_seconds: 15,
  canonical_skeleton: MESHY_RIG,
  // Every distinct action of every sample is a paid task.
  limits: { max_num_samples: 8 },
});

/** The slot key of one task of one job (a job's keys share the `jobId:` prefix). */
const slotKey = (jobId: string, t: TaskEntry) => `${jobId}:${t.action_id}`;

class MeshyAdapter implements Adapter<MeshyCheckpoint> {
  readonly provider = MESHY_PROVIDER;
  private readonly library: ActionLibrary;
  private readonly client: MeshyClient;
  private readonly slots: TaskSlots;
  private readonly rigs: RigKeeper;
  private readonly streams: TaskStreams;
  private readonly clock: Clock;
  private readonly poll: number;
  private readonly useStreams: boolean;
  private readonly maxResubmits: number;
  private readonly maxQueueFullWaits: number;
  private readonly maxRateLimitWaits: number;
  /** The API key: redacted from every error and log line of the adapter. */
  private readonly secrets: Secrets;
  private readonly egress: AssetEgress;
  private log: Logger;
  /** When a queued task's position was last read (stream events do not carry it). */
  private readonly queueReads = new Map<string, number>();
  /** Jobs this instance holds slots for (released on close). */
  private readonly jobs = new Set<string>();
  /** When Meshy last refused our key (readiness reports it for a while, then lets a request try again). */
  private authRefusedAt?: number;

  constructor(
    private readonly config: MeshyConfig,
    deps: MeshyDeps,
  ) {
    this.library = deps.library ?? loadLibrary();
    this.log = deps.log ?? silent;
    this.clock = deps.clock ?? systemClock;
    this.poll = deps.pollIntervalMs ?? config.pollIntervalMs ?? 2_000;
    this.useStreams = deps.useStreams ?? config.streams ?? true;
    this.maxResubmits = deps.maxResubmits ?? 2;
    this.maxQueueFullWaits = deps.maxQueueFullWaits ?? 60;
    this.maxRateLimitWaits = deps.maxRateLimitWaits ?? 5;
    this.secrets = new Secrets([config.apiKey]);
    this.egress = new AssetEgress({ apiBaseUrl: config.baseUrl, assetOrigins: deps.assetOrigins, lookup: deps.lookup });
    this.client = new MeshyClient({ baseUrl: config.baseUrl, apiKey: config.apiKey, retry: deps.retry, timeoutMs: deps.timeoutMs, clock: this.clock, secrets: this.secrets, egress: this.egress });
    this.slots = slotsFor(`${config.baseUrl}|${config.apiKey}`, config.maxConcurrentTasks);
    // The helpers log through the adapter's current logger (init() may replace it), redacted.
    const log = this.secrets.logger({
      debug: (o, m) => this.log.debug(o, m),
      info: (o, m) => this.log.info(o, m),
      warn: (o, m) => this.log.warn(o, m),
      error: (o, m) => this.log.error(o, m),
    });
    this.rigs = new RigKeeper(config, this.client, this.slots, log, this.poll, this.clock);
    this.streams = new TaskStreams(this.client, log, { idleMs: deps.streamIdleMs ?? 60_000, clock: this.clock });
  }

  models(): ModelCapabilities[] {
    return [MESHY_MODEL];
  }

  async init(ctx: { store: AdapterStore; log: Logger }): Promise<void> {
    if (this.log === silent) this.log = ctx.log;
  }

  /** The tier's cap on queued tasks: more jobs would only wait for task slots inside the adapter. */
  maxInFlight(): number {
    return this.config.maxConcurrentTasks;
  }

  readiness(): Readiness {
    if (this.authRefusedAt !== undefined && this.clock.now() - this.authRefusedAt < 60_000) return { ready: false, reason: 'Meshy refused the configured API key' };
    if (this.rigs.failure) return { ready: false, reason: this.secrets.text(`the configured character cannot be rigged: ${this.rigs.failure.message}`) };
    return { ready: true };
  }

  /** Chooses the library actions (a prompt that matches nothing is refused here, before any job exists). */
  async start(plan: GenerationPlan): Promise<MeshyCheckpoint> {
    return planJob(plan, this.library);
  }

  /** A task of this job was created, or a creation's answer was lost (the shared rig is the account's, not the job's). */
  mayHaveCharged(checkpoint: MeshyCheckpoint): boolean {
    return checkpoint.unsure_create === true || (checkpoint.tasks ?? []).some((t) => t.source === 'animation' && (t.task_id !== undefined || t.attempts > 0));
  }

  /** Everything that leaves the adapter (errors, log lines) leaves it with the API key redacted. */
  async advance(plan: GenerationPlan, checkpoint: MeshyCheckpoint, jobCtx: JobContext<MeshyCheckpoint>): Promise<Step<MeshyCheckpoint>> {
    const ctx: JobContext<MeshyCheckpoint> = { ...jobCtx, log: this.secrets.logger(jobCtx.log) };
    try {
      return await this.advanceJob(plan, checkpoint, ctx);
    } catch (err) {
      throw this.secrets.error(err);
    }
  }

  private async advanceJob(plan: GenerationPlan, checkpoint: MeshyCheckpoint, ctx: JobContext<MeshyCheckpoint>): Promise<Step<MeshyCheckpoint>> {
    const cp = readCheckpoint(checkpoint);
    cp.started_at ??= this.clock.now();
    const providerDeadline = cp.started_at + this.config.jobTimeoutS * 1000;
    const scope: CallScope = { signal: ctx.signal, deadline: Math.min(ctx.deadline, providerDeadline) };
    this.jobs.add(ctx.jobId);
    try {
      if (this.clock.now() > providerDeadline) {
        throw new GatewayError('MG-PRV-504', 'Meshy did not finish the animations in time.', { details: { provider: 'meshy', timeout_s: this.config.jobTimeoutS } });
      }
      const step = await this.step(plan, cp, ctx, scope);
      this.authRefusedAt = undefined;
      if (step.kind === 'done') this.forgetJob(ctx.jobId, cp);
      return step;
    } catch (err) {
      // Only Meshy's own refusal of the key (401/403) takes the model out of service for a while.
      const status = err instanceof GatewayError ? err.details?.provider_status : undefined;
      if (err instanceof GatewayError && err.id === 'MG-PRV-401' && (status === 401 || status === 403)) this.authRefusedAt = this.clock.now();
      if (!ctx.signal.aborted) {
        // The job fails: its other tasks would be paid for nothing and hold queue slots.
        await this.deleteRunning(cp, ctx, scope.signal);
        this.forgetJob(ctx.jobId, cp);
      }
      throw err;
    }
  }

  private async step(plan: GenerationPlan, cp: MeshyCheckpoint, ctx: JobContext<MeshyCheckpoint>, scope: CallScope): Promise<Step<MeshyCheckpoint>> {
    // 1. The rig (only while something still needs it).
    let rigId: string | undefined;
    if (cp.tasks.some((t) => t.status === 'QUEUED')) {
      const rig = await this.rigs.status(ctx.store, scope);
      if (!rig.ready) return { kind: 'pending', checkpoint: cp, progress: rig.progress * 0.1, queuePosition: rig.queuePosition, waitMs: rig.waitMs };
      rigId = rig.taskId;
    }

    // 2. Create the tasks that have a slot; save each task id the moment Meshy answers.
    let slotPosition: number | undefined;
    let refusedWaitMs: number | undefined;
    for (const t of cp.tasks) {
      if (t.status !== 'QUEUED') continue;
      if (ctx.signal.aborted) break; // stopping: start nothing new that would have to be paid
      if (t.source === 'rig_basic') {
        Object.assign(t, { rig_task_id: rigId, status: 'SUCCEEDED', progress: 100 });
        continue;
      }
      const key = slotKey(ctx.jobId, t);
      if (!this.slots.tryAcquire(key, this.clock.now())) {
        const pos = this.slots.position(key);
        if (pos !== undefined) slotPosition = Math.min(slotPosition ?? pos, pos);
        continue;
      }
      try {
        const postProcess = cp.change_fps ? { post_process: { operation_type: 'change_fps' as const, fps: cp.change_fps } } : {};
        const id = await this.client.createAnimation({ rig_task_id: rigId!, action_id: t.action_id, ...postProcess }, scope);
        Object.assign(t, { task_id: id, rig_task_id: rigId, status: 'PENDING', progress: 0, attempts: t.attempts + 1 });
        cp.queue_full = 0;
        cp.rate_limited = 0;
        await ctx.saveCheckpoint(cp);
        ctx.log.info({ job: ctx.jobId, task: id, action_id: t.action_id }, 'meshy animation task created');
      } catch (err) {
        this.slots.release(key);
        if (err instanceof ProviderCallError && err.kind !== 'http') {
          // No answer: the task may exist (and be paid) at Meshy.
          cp.unsure_create = true;
          await ctx.saveCheckpoint(cp);
        }
        // A route's job with nothing created yet goes to its next target rather than wait for Meshy.
        const moveOn = ctx.canFallBack === true && !this.mayHaveCharged(cp);
        if (moveOn && err instanceof ProviderCallError && err.status === 429) throw asMeshyError(err, 'animate');
        if (isQueueFull(err)) {
          // Someone else fills the account's queue: wait our turn rather than fail.
          cp.queue_full = (cp.queue_full ?? 0) + 1;
          if (cp.queue_full > this.maxQueueFullWaits) throw asMeshyError(err, 'animate');
          refusedWaitMs = (err as ProviderCallError).retryAfterMs ?? Math.min(30_000, this.poll * 2 ** Math.min(cp.queue_full, 6));
          break;
        }
        if (err instanceof ProviderCallError && err.status === 429 && (cp.rate_limited ?? 0) < this.maxRateLimitWaits) {
          // Still rate-limited after this call's retries (or asked to wait longer than a step waits): come back later.
          cp.rate_limited = (cp.rate_limited ?? 0) + 1;
          refusedWaitMs = err.retryAfterMs ?? Math.min(30_000, this.poll * 2 ** Math.min(cp.rate_limited + 2, 8));
          break;
        }
        if (isRigRefused(err) && !cp.rerigged) return this.rigAgain(cp, ctx, rigId!);
        throw asMeshyError(err, 'animate');
      }
    }

    // 3. Follow the running tasks (stream when it lives, poll when it does not).
    const finals = new Map<number, MeshyTask>();
    for (const t of cp.tasks) {
      if (t.source !== 'animation' || !t.task_id || t.status === 'SUCCEEDED') continue;
      const key = slotKey(ctx.jobId, t);
      this.slots.claim(key); // a resumed job's task is at Meshy already: it holds a slot
      const seen = await this.observe(t.task_id, scope);
      if (!seen) continue;
      if (typeof seen.progress === 'number') t.progress = Math.max(0, Math.min(100, seen.progress));
      // Stream events carry no queue position: keep the last one read while the task stays queued.
      if (seen.status !== 'PENDING') t.preceding_tasks = undefined;
      else if (typeof seen.preceding_tasks === 'number') t.preceding_tasks = seen.preceding_tasks;
      if (typeof seen.expires_at === 'number' && seen.expires_at > 0) t.expires_at = seen.expires_at;
      if (seen.status === 'PENDING' || seen.status === 'IN_PROGRESS') {
        t.status = seen.status;
        continue;
      }
      this.slots.release(key);
      this.streams.stop(t.task_id);
      if (seen.status === 'SUCCEEDED') {
        t.status = 'SUCCEEDED';
        t.progress = 100;
        finals.set(t.action_id, seen as MeshyTask);
        continue;
      }
      const failure: MeshyFailure = {
        stage: 'animate',
        taskStatus: seen.status === 'CANCELED' ? 'CANCELED' : 'FAILED',
        type: seen.task_error?.type,
        code: seen.task_error?.code,
        message: seen.task_error?.message,
        taskId: t.task_id,
      };
      if (ruleFor(failure).resubmit && t.attempts <= this.maxResubmits) {
        ctx.log.warn({ job: ctx.jobId, task: t.task_id, type: failure.type }, 'meshy task failed transiently; creating it again');
        Object.assign(t, { task_id: undefined, status: 'QUEUED', progress: 0, preceding_tasks: undefined });
        await ctx.saveCheckpoint(cp);
        continue;
      }
      t.task_id = undefined; // ended at Meshy: nothing to delete there
      throw meshyError(failure);
    }

    // 4. Everything animated: fetch, decode, fit.
    if (cp.tasks.every((t) => t.status === 'SUCCEEDED')) {
      try {
        return { kind: 'compute', task: await this.deliver(plan, cp, finals, scope) };
      } catch (err) {
        if (!(err instanceof RigRefused)) throw err;
        if (cp.rerigged) throw asMeshyError(err.refusal, 'poll', err.taskId);
        return this.rigAgain(cp, ctx, err.taskId);
      }
    }
    return { kind: 'pending', checkpoint: cp, ...this.outlook(cp, slotPosition, refusedWaitMs) };
  }

  /**
   * Meshy refused the stored rig (it expired): forget it and rig again, once per job. The clips bundled
   * with the old rig are taken again from the new one; animation tasks already made stay valid.
   */
  private async rigAgain(cp: MeshyCheckpoint, ctx: JobContext<MeshyCheckpoint>, rigId: string): Promise<Step<MeshyCheckpoint>> {
    await this.rigs.invalidate(ctx.store, rigId);
    cp.rerigged = true;
    for (const t of cp.tasks) {
      if (t.source === 'rig_basic') Object.assign(t, { status: 'QUEUED', progress: 0, rig_task_id: undefined });
    }
    await ctx.saveCheckpoint(cp);
    return { kind: 'pending', checkpoint: cp, progress: 0, waitMs: 0 };
  }

  /** Progress, queue position and the wait before the next step, from what the tasks report. */
  private outlook(cp: MeshyCheckpoint, slotPosition: number | undefined, refusedWaitMs: number | undefined): { progress: number; queuePosition?: number; waitMs: number } {
    const progress = cp.tasks.reduce((n, t) => n + t.progress / 100, 0) / Math.max(1, cp.tasks.length);
    const preceding = cp.tasks.filter((t) => t.status === 'PENDING' && t.preceding_tasks !== undefined).map((t) => t.preceding_tasks!);
    const queuePosition = slotPosition !== undefined ? slotPosition + this.slots.inUse() : preceding.length ? Math.max(...preceding) : undefined;
    let waitMs = this.poll;
    if (refusedWaitMs !== undefined) waitMs = refusedWaitMs;
    else if (slotPosition === undefined) {
      const waits = cp.tasks
        .filter((t) => t.status === 'PENDING' || t.status === 'IN_PROGRESS')
        .map((t) => (t.status === 'PENDING' ? this.poll * (1 + Math.min(14, t.preceding_tasks ?? 0)) : t.progress >= 99 ? this.poll * 2 : this.poll));
      if (waits.length) waitMs = Math.min(30_000, Math.min(...waits));
    }
    return { progress: Math.min(0.99, progress), queuePosition, waitMs };
  }

  /**
   * The latest state of a task: from its live stream while that lives (no call), else one GET. A stream
   * that has not spoken yet gives no news. Terminal states are always complete task objects. Stream
   * events carry no queue position, so a task that stays PENDING is read now and then for it.
   */
  private async observe(taskId: string, scope: CallScope): Promise<(Partial<MeshyTask> & { status: string }) | undefined> {
    if (this.useStreams) {
      const live = this.streams.watch('animations', taskId);
      const task = live.task;
      if (live.alive) {
        const queued = !task?.status || task.status === 'PENDING';
        const lastRead = this.queueReads.get(taskId);
        if (!queued || lastRead === undefined || this.clock.now() - lastRead < this.poll * 5) {
          if (queued && lastRead === undefined) this.queueReads.set(taskId, this.clock.now());
          return task?.status ? (task as Partial<MeshyTask> & { status: string }) : undefined;
        }
        this.queueReads.set(taskId, this.clock.now());
      } else if (live.ended === 'terminal' && task?.status && (task.result || task.task_error || task.status === 'CANCELED')) {
        return task as MeshyTask;
      }
    }
    try {
      return await this.client.getTask('animations', taskId, scope);
    } catch (err) {
      // Still rate-limited after the retries: no news this step; reading again later costs nothing.
      if (err instanceof ProviderCallError && err.status === 429) return undefined;
      throw asMeshyError(err, 'poll', taskId);
    }
  }

  /**
   * Downloads every clip (signed links go stale: fetched together, as soon as all are done); decoding and
   * fitting them to the segments is the worker threads' part.
   */
  private async deliver(plan: GenerationPlan, cp: MeshyCheckpoint, finals: Map<number, MeshyTask>, scope: CallScope): Promise<ComputeTask<MeshyMotionInput>> {
    const files: MeshyMotionInput['files'] = [];
    for (const t of cp.tasks) files.push({ actionId: t.action_id, taskId: t.task_id, bytes: await this.fetchClipFile(t, finals.get(t.action_id), scope) });
    const actions: MeshyMotionInput['actions'] = {};
    for (const id of new Set([...cp.tasks.map((t) => t.action_id), ...cp.picks.flat().map((p) => p.action_id)])) {
      const action = this.library.byId.get(id);
      if (action) actions[id] = action;
    }
    return { module: MESHY_WORK, fn: 'meshyMotion', input: { plan, files, actions, picks: cp.picks, maxBytes: this.config.downloadMaxBytes } };
  }

  /** The GLB of one task; a stale signed link is refreshed once from the task. */
  private async fetchClipFile(t: TaskEntry, final: MeshyTask | undefined, scope: CallScope): Promise<Uint8Array> {
    const urlOf = async (fresh: boolean): Promise<string> => {
      if (t.source === 'rig_basic') return this.rigs.basicAnimationUrl(t.rig_task_id!, RIG_BASIC_ACTIONS[t.action_id], scope);
      let task = fresh ? undefined : final;
      if (!task) {
        try {
          task = await this.client.getTask('animations', t.task_id!, scope);
        } catch (err) {
          throw asMeshyError(err, 'poll', t.task_id);
        }
      }
      const url = resultOf(task).animation_glb_url;
      if (typeof url !== 'string') throw meshyError({ stage: 'download', kind: 'parse', taskId: t.task_id, message: 'the task result has no animation_glb_url' });
      return url;
    };
    const expired = (err: unknown) => err instanceof ProviderCallError && (err.status === 403 || err.status === 404 || err.status === 410);
    try {
      return await this.client.downloadFile(await urlOf(false), this.config.downloadMaxBytes, scope);
    } catch (err) {
      if (!expired(err)) throw asMeshyError(err, 'download', t.task_id);
    }
    try {
      return await this.client.downloadFile(await urlOf(true), this.config.downloadMaxBytes, scope);
    } catch (err) {
      throw asMeshyError(err, 'download', t.task_id);
    }
  }

  /** Deletes the job's tasks that are still running at Meshy (best effort). */
  private async deleteRunning(cp: MeshyCheckpoint, ctx: JobContext<MeshyCheckpoint>, signal?: AbortSignal): Promise<void> {
    for (const t of cp.tasks) {
      if (t.source !== 'animation' || !t.task_id || t.status === 'SUCCEEDED') continue;
      this.streams.stop(t.task_id);
      try {
        await this.client.deleteTask('animations', t.task_id, { signal });
      } catch (err) {
        if (!(err instanceof ProviderCallError && err.status === 404)) ctx.log.warn({ job: ctx.jobId, task: t.task_id, err: String(err) }, 'meshy task could not be deleted');
      }
    }
  }

  private forgetJob(jobId: string, cp: MeshyCheckpoint): void {
    for (const t of cp.tasks) {
      if (!t.task_id) continue;
      this.streams.stop(t.task_id);
      this.queueReads.delete(t.task_id);
    }
    this.slots.forget(`${jobId}:`);
    this.jobs.delete(jobId);
  }

  async cancel(_plan: GenerationPlan, checkpoint: MeshyCheckpoint, ctx: JobContext<MeshyCheckpoint>): Promise<void> {
    let cp: MeshyCheckpoint;
    try {
      cp = readCheckpoint(checkpoint);
    } catch {
      return;
    }
    await this.deleteRunning(cp, { ...ctx, log: this.secrets.logger(ctx.log) }, ctx.signal);
    this.forgetJob(ctx.jobId, cp);
  }

  async close(): Promise<void> {
    await this.egress.close();
    this.streams.stopAll();
    for (const job of this.jobs) this.slots.forget(`${job}:`);
    this.jobs.clear();
    this.slots.release(RIG_SLOT);
  }
}

/** The Meshy adapter for a configuration (the registry creates it only when Meshy is configured). */
export function createMeshyAdapter(config: MeshyConfig, deps: MeshyDeps = {}): Adapter<MeshyCheckpoint> {
  return new MeshyAdapter(config, deps);
}

/** Configured by MESHY_API_KEY and a rig or character (see ./config.ts). */
export const meshyProvider: ProviderDefinition<MeshyConfig> = {
  provider: MESHY_PROVIDER,
  envPrefix: 'MESHY_',
  readConfig: readMeshyConfig,
  create: (config, gateway) => createMeshyAdapter(config, { assetOrigins: gateway?.assetOrigins }),
  secrets: (config) => [config.apiKey],
};
