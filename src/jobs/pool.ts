/**
 * The compute pool: the worker threads that do all of the gateway's motion work (procedural generation,
 * provider-file decoding, the motion pipeline and glTF encoding), so the event loop only does I/O. Sized
 * from the CPU count (WORKER_THREADS); work beyond the threads waits in the pool's queue, holding no
 * thread. Typed arrays cross by transfer. With zero threads the work runs inline on the calling thread,
 * for debugging only: one heavy request then stalls every other caller.
 */
import { Piscina } from 'piscina';
import type { Compute, ComputeTask } from '../spec/compute.js';
import type { Motion } from '../spec/motion.js';
import type { GenerationPlan } from '../spec/plan.js';
import { rethrown, transferablesOf } from './transfer.js';
import { perform, type WorkerAnswer, type WorkerMessage } from './worker.js';

/** Where a finished job's motion comes from: given, or computed by a task on the pool. */
export type MotionSource = { motion: Motion } | { task: ComputeTask };

export interface MotionWorkers extends Compute {
  /** Renders a finished motion into the GLB answer for the plan (computing it first from a task). */
  render(plan: GenerationPlan, source: MotionSource): Promise<Uint8Array>;
  stats(): { threads: number; running: number; queued: number };
  close(): Promise<void>;
}

function answerOf<T>(answer: WorkerAnswer): T {
  if (!answer.ok) throw rethrown(answer.error);
  return answer.value as T;
}

function renderMessage(plan: GenerationPlan, source: MotionSource): WorkerMessage {
  return 'task' in source ? { op: 'render', plan, task: source.task } : { op: 'render', plan, motion: source.motion };
}

/** The worker module: built JavaScript, or, when running from TypeScript sources, a loader in front of them. */
function workerFile(): string {
  return new URL(import.meta.url.endsWith('.ts') ? './worker-from-source.mjs' : './worker.js', import.meta.url).href;
}

export interface WorkerPoolOptions {
  threads: number;
  /** Threads started up front (default: all of them, so the first requests do not pay for start-up). */
  minThreads?: number;
  /** An idle thread above minThreads stops after this long (ms). */
  idleTimeoutMs?: number;
}

class ThreadPool implements MotionWorkers {
  private readonly pool: Piscina;

  constructor(readonly options: WorkerPoolOptions) {
    this.pool = new Piscina({
      filename: workerFile(),
      maxThreads: options.threads,
      minThreads: Math.min(options.threads, options.minThreads ?? options.threads),
      idleTimeout: options.idleTimeoutMs ?? 60_000,
      // Motion work is CPU-bound: one task per thread at a time.
      concurrentTasksPerWorker: 1,
    });
  }

  /** Tasks handed to the pool and not finished (running or waiting for a thread). */
  private inFlight = 0;

  private async send<T>(msg: WorkerMessage): Promise<T> {
    this.inFlight++;
    try {
      return answerOf<T>((await this.pool.run(msg, { transferList: transferablesOf(msg) })) as WorkerAnswer);
    } finally {
      this.inFlight--;
    }
  }

  run<Out>(task: ComputeTask): Promise<Out> {
    return this.send<Out>({ op: 'call', task });
  }

  render(plan: GenerationPlan, source: MotionSource): Promise<Uint8Array> {
    return this.send<Uint8Array>(renderMessage(plan, source));
  }

  stats() {
    const queued = this.pool.queueSize;
    return { threads: this.pool.threads.length, running: Math.max(0, this.inFlight - queued), queued };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Runs the work on the calling thread (WORKER_THREADS=0): for debugging and units that test one thread. */
class InlineWorkers implements MotionWorkers {
  async run<Out>(task: ComputeTask): Promise<Out> {
    return answerOf<Out>(await perform({ op: 'call', task }));
  }

  async render(plan: GenerationPlan, source: MotionSource): Promise<Uint8Array> {
    return answerOf<Uint8Array>(await perform(renderMessage(plan, source)));
  }

  stats() {
    return { threads: 0, running: 0, queued: 0 };
  }

  async close(): Promise<void> {}
}

/** The pool for a configured thread count (0 = inline). */
export function createWorkers(options: WorkerPoolOptions): MotionWorkers {
  return options.threads > 0 ? new ThreadPool(options) : new InlineWorkers();
}
