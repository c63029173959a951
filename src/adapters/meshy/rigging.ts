/**
 * The one rigged character every animation is made on: rigged once (or taken from the configuration),
 * its task id kept in the adapter's durable store so restarts reuse it, rigged again when Meshy stops
 * accepting it (rig tasks expire, about three days after creation) on whichever path finds out.
 * Concurrent jobs share one rigging task. Only a failure about the character itself is remembered.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { MeshyConfig } from './config.js';
import { GatewayError } from '../../spec/errors.js';
import type { AdapterStore, Logger } from '../../spec/adapter.js';
import type { Clock } from '../../spec/clock.js';
import { ProviderCallError } from '../kit/errors.js';
import { resultOf, type CallScope, type MeshyClient, type MeshyTask } from './client.js';
import { asMeshyError, failureOfCall, isQueueFull, isRigRefused, meshyError, ruleFor, type MeshyFailure } from './errors.js';
import type { TaskSlots } from './slots.js';

/** The rig as stored (key `rig`). */
interface StoredRig {
  task_id: string;
  state: 'pending' | 'succeeded';
  /** The configuration it was made for: another configured character or rig id makes it stale. */
  source: string;
}

type RigStatus =
  | { ready: true; taskId: string }
  | { ready: false; progress: number; queuePosition?: number; waitMs: number };

/**
 * Meshy no longer accepts the stored rig task (expired or deleted on its side). The adapter invalidates
 * the rig and rigs again once, whichever call found out.
 */
export class RigRefused extends Error {
  constructor(
    readonly taskId: string,
    readonly refusal: ProviderCallError,
  ) {
    super(`meshy no longer accepts the rig task ${taskId}`, { cause: refusal });
    this.name = 'RigRefused';
  }
}

export const RIG_SLOT = 'rig';
const RIG_KEY = 'rig';
const REJECTED_KEY = 'rig_rejected';
/** How long a character Meshy refused keeps the model unavailable before rigging is tried again. */
const FAILURE_MEMORY_MS = 5 * 60_000;

export class RigKeeper {
  private submitting?: Promise<void>;
  private polling?: Promise<MeshyTask>;
  private lastPoll?: { at: number; task: MeshyTask };
  private failed?: { error: GatewayError; at: number };

  constructor(
    private readonly config: MeshyConfig,
    private readonly client: MeshyClient,
    private readonly slots: TaskSlots,
    private readonly log: Logger,
    private readonly pollIntervalMs: number,
    private readonly clock: Clock,
  ) {}

  /** Why the configured character cannot be rigged; forgotten after a while (its host may have been down). */
  get failure(): GatewayError | undefined {
    if (this.failed && this.clock.now() - this.failed.at > FAILURE_MEMORY_MS) this.failed = undefined;
    return this.failed?.error;
  }

  /** The error of a rigging failure, remembered only when it is about the character (another try would fail alike). */
  private rigFailure(failure: MeshyFailure): GatewayError {
    const err = meshyError(failure);
    if (ruleFor(failure).aboutCharacter) this.failed = { error: err, at: this.clock.now() };
    else this.log.warn({ stage: failure.stage, provider_status: failure.status, error_code: err.id }, 'meshy refused a rigging call for a reason other than the character; not remembered');
    return err;
  }

  private get source(): string {
    return JSON.stringify([this.config.rigTaskId ?? null, this.config.characterUrl ?? null, this.config.characterHeightM]);
  }

  private async read(store: AdapterStore): Promise<StoredRig | undefined> {
    const raw = await store.get(RIG_KEY);
    if (!raw) return undefined;
    try {
      const rec = JSON.parse(raw) as StoredRig;
      return rec.source === this.source && typeof rec.task_id === 'string' ? rec : undefined;
    } catch {
      return undefined;
    }
  }

  private async write(store: AdapterStore, rec: StoredRig): Promise<void> {
    await store.set(RIG_KEY, JSON.stringify(rec));
  }

  /** The rig task id to animate on, or how long to wait for it. Throws GatewayError when there can be none. */
  async status(store: AdapterStore, scope: CallScope): Promise<RigStatus> {
    if (this.failure) throw this.failure;
    let rec = await this.read(store);
    if (!rec && this.config.rigTaskId && (await store.get(REJECTED_KEY)) !== this.config.rigTaskId) {
      rec = { task_id: this.config.rigTaskId, state: 'succeeded', source: this.source };
      await this.write(store, rec);
    }
    if (rec?.state === 'succeeded') return { ready: true, taskId: rec.task_id };
    if (rec) return this.follow(store, rec, scope);
    if (!this.config.characterUrl) {
      throw new GatewayError('MG-SRV-003', 'Meshy no longer accepts the configured rig and no character to rig again is configured.', {
        retryAfterS: 300,
        details: { provider: 'meshy', reason: 'rig_unavailable' },
      });
    }
    return this.submit(store, scope);
  }

  /** Forgets a rig Meshy refused, so the next status() rigs again (a configured id is not used again). */
  async invalidate(store: AdapterStore, taskId: string): Promise<void> {
    const rec = await this.read(store);
    if (rec?.task_id === taskId) await store.delete(RIG_KEY);
    if (taskId === this.config.rigTaskId) await store.set(REJECTED_KEY, taskId);
    if (this.lastPoll?.task.id === taskId) this.lastPoll = undefined;
    this.log.warn({ rig_task_id: taskId }, 'meshy no longer accepts the rig task; rigging the character again');
  }

  /**
   * The signed URL of one of the two animations bundled with the rig (fresh from Meshy). Throws RigRefused
   * when Meshy no longer knows the rig.
   */
  async basicAnimationUrl(taskId: string, which: 'walking' | 'running', scope: CallScope): Promise<string> {
    let task: MeshyTask;
    try {
      task = await this.client.getTask('rigging', taskId, scope);
    } catch (err) {
      if (isRigRefused(err)) throw new RigRefused(taskId, err as ProviderCallError);
      throw asMeshyError(err, 'poll', taskId);
    }
    const basic = resultOf(task).basic_animations as Record<string, unknown> | undefined;
    const url = basic?.[`${which}_glb_url`];
    if (typeof url !== 'string') {
      throw meshyError({ stage: 'poll', kind: 'parse', taskId, message: `the rig result has no ${which} animation` });
    }
    return url;
  }

  private async submit(store: AdapterStore, scope: CallScope): Promise<RigStatus> {
    if (!this.slots.tryAcquire(RIG_SLOT, this.clock.now())) {
      return { ready: false, progress: 0, queuePosition: this.slots.position(RIG_SLOT), waitMs: this.pollIntervalMs };
    }
    this.submitting ??= (async () => {
      try {
        const modelUrl = await characterModelUrl(this.config.characterUrl!);
        const id = await this.client.createRig({ model_url: modelUrl, height_meters: this.config.characterHeightM }, scope);
        // Stored before anything else: a restart now follows this task instead of paying for another.
        await this.write(store, { task_id: id, state: 'pending', source: this.source });
        this.log.info({ rig_task_id: id }, 'meshy rigging task created');
      } catch (err) {
        this.slots.release(RIG_SLOT);
        if (isQueueFull(err)) return;
        throw err instanceof ProviderCallError ? this.rigFailure(failureOfCall(err, 'rig')) : err;
      } finally {
        this.submitting = undefined;
      }
    })();
    await this.submitting;
    const rec = await this.read(store);
    return rec ? this.follow(store, rec, scope) : { ready: false, progress: 0, waitMs: this.pollIntervalMs * 4 };
  }

  /** Polls a pending rig (one GET per poll interval, whoever asks). */
  private async follow(store: AdapterStore, rec: StoredRig, scope: CallScope): Promise<RigStatus> {
    this.slots.claim(RIG_SLOT);
    let task: MeshyTask;
    if (this.lastPoll && this.lastPoll.task.id === rec.task_id && this.clock.now() - this.lastPoll.at < this.pollIntervalMs) {
      task = this.lastPoll.task;
    } else {
      this.polling ??= this.client.getTask('rigging', rec.task_id, scope).finally(() => {
        this.polling = undefined;
      });
      try {
        task = await this.polling;
      } catch (err) {
        if (err instanceof ProviderCallError && err.status === 404) {
          // The rigging task vanished before it finished: rig again.
          await store.delete(RIG_KEY);
          this.slots.release(RIG_SLOT);
          return { ready: false, progress: 0, waitMs: 0 };
        }
        throw asMeshyError(err, 'rig', rec.task_id);
      }
      this.lastPoll = { at: this.clock.now(), task };
    }
    if (task.status === 'SUCCEEDED') {
      await this.write(store, { ...rec, state: 'succeeded' });
      this.slots.release(RIG_SLOT);
      this.log.info({ rig_task_id: rec.task_id }, 'meshy rig ready');
      return { ready: true, taskId: rec.task_id };
    }
    if (task.status === 'FAILED' || task.status === 'CANCELED') {
      await store.delete(RIG_KEY);
      this.slots.release(RIG_SLOT);
      throw this.rigFailure({
        stage: 'rig',
        taskStatus: task.status,
        type: task.task_error?.type,
        code: task.task_error?.code,
        message: task.task_error?.message,
        taskId: rec.task_id,
      });
    }
    const preceding = task.status === 'PENDING' ? task.preceding_tasks : undefined;
    return {
      ready: false,
      progress: Math.max(0, Math.min(100, task.progress ?? 0)) / 100,
      queuePosition: preceding,
      waitMs: this.pollIntervalMs * (1 + Math.min(10, preceding ?? 0)),
    };
  }
}

/** The `model_url` for a configured character: URLs and data URIs as they are, `file:` paths inlined as a data URI. */
async function characterModelUrl(characterUrl: string): Promise<string> {
  if (!characterUrl.startsWith('file:')) return characterUrl;
  const bytes = await readFile(fileURLToPath(characterUrl));
  return `data:model/gltf-binary;base64,${bytes.toString('base64')}`;
}
