/**
 * How admitted jobs reach an execution. The runner admits and executes; a Dispatcher decides where and
 * when each job runs: `LocalDispatcher` (STORE=sqlite) is an in-process queue with each provider's
 * in-flight cap, `BullDispatcher` (bull-dispatch.ts, STORE=redis) hands jobs to BullMQ so that any
 * instance's workers run them under caps that hold for the whole cluster.
 */

/** A job as dispatch sees it. */
import type { BreakerSync } from '../adapters/breakers.js';
export interface DispatchedJob {
  id: string;
  provider: string;
  /**
   * A sync request waits for it on this instance and its provider declares no cap of its own: run it here
   * when a slot is free, rather than on whichever instance's worker takes it first (BullDispatcher).
   */
  preferHere?: boolean;
}

/**
 * `settled`: the job reached a final state (or was found in one). `interrupted`: this process's own stop
 * aborted it while unfinished, so it must run again (later here, or on another instance).
 */
export type RunOutcome = 'settled' | 'interrupted';

/** What a dispatcher calls back into the runner. */
export interface JobExecutor {
  /** Runs a job here from its stored checkpoint. */
  run(job: DispatchedJob): Promise<RunOutcome>;
  /** Another instance cancelled the job: stop it if it runs here. */
  cancelledElsewhere(id: string): void;
  /** The job reached a final state on another instance: wake whoever waits for it here. */
  finishedElsewhere(id: string): void;
  /** The store's unfinished jobs (running first, then the queue in arrival order). */
  unfinished(): Promise<DispatchedJob[]>;
  /** Runs of the job kept throwing (the store unreachable): it is given up, failed if still unfinished. */
  abandon(job: DispatchedJob, err: unknown): Promise<void>;
}

/** One provider's load as admission needs it. */
export interface ProviderLoad {
  /** Whether one more job of the provider would run at once (its cap is not reached). */
  room: boolean;
  /** Jobs of the provider waiting behind its cap. */
  waiting: number;
  /** Jobs of every provider waiting behind their caps (MAX_QUEUED_JOBS bounds this). */
  waitingTotal: number;
}

export interface Dispatcher {
  /** Whether jobs admitted by this process also run in it (then its plans are worth keeping until they run). */
  readonly local: boolean;
  /** Starts taking work: resumes what the store holds unfinished (each dispatcher in its own way). */
  start(executor: JobExecutor): Promise<void>;
  /** Schedules an admitted job (already in the store). */
  enqueue(job: DispatchedJob): Promise<void>;
  load(provider: string): Promise<ProviderLoad>;
  /** How many jobs of the job's provider will start before it (0 = next); undefined when it is not waiting. */
  queuePosition(job: DispatchedJob): Promise<number | undefined>;
  /** The job was cancelled here (its row is final): forget it, and stop it wherever it runs. */
  cancelled(id: string): Promise<void>;
  /** The job reached a final state here: wake waiters on the other instances. */
  finished(id: string): Promise<void>;
  /** Takes no more work; waiting jobs stay waiting (for the next start, or for another instance). */
  stop(): void;
  /**
   * Called once the executions stop() left running have returned (their interrupted jobs handed back);
   * `abandon`: some did not return within the grace (their jobs are resumed as after a crash).
   */
  settle(abandon: boolean): Promise<void>;
  /** Releases connections; queue positions and loads are answered until then (a draining gateway's 202s). */
  close(): Promise<void>;
  /** Jobs waiting in this process (always 0 for BullMQ: its jobs wait in Redis). */
  waitingHere(): number;
  /** How this instance shares circuit-breaker state with the others (when there are others). */
  breakerSync?(): BreakerSync;
}

/**
 * STORE=sqlite: one process, one in-memory queue, oldest first, each provider up to its cap. Jobs start
 * on the next turn of the event loop, never inside the call that admitted them, so the answer to an
 * accepted request (a durable insert) goes out before any of its work begins.
 */
export class LocalDispatcher implements Dispatcher {
  readonly local = true;
  /** Jobs in flight per provider. */
  private readonly inFlight = new Map<string, number>();
  /** Jobs waiting for their provider's cap, oldest first. */
  private readonly queue: DispatchedJob[] = [];
  private pumpScheduled = false;
  private stopped = false;
  private executor?: JobExecutor;

  constructor(private readonly capOf: (provider: string) => number) {}

  async start(executor: JobExecutor): Promise<void> {
    this.executor = executor;
    for (const job of await executor.unfinished()) this.queue.push(job);
    this.schedulePump();
  }

  async enqueue(job: DispatchedJob): Promise<void> {
    this.queue.push(job);
    this.schedulePump();
  }

  private hasRoom(provider: string): boolean {
    return (this.inFlight.get(provider) ?? 0) < this.capOf(provider);
  }

  async load(provider: string): Promise<ProviderLoad> {
    return { room: this.hasRoom(provider), waiting: this.queue.filter((q) => q.provider === provider).length, waitingTotal: this.queue.length };
  }

  async queuePosition(job: DispatchedJob): Promise<number | undefined> {
    return this.positionOf(job.id);
  }

  private positionOf(id: string): number | undefined {
    const at = this.queue.findIndex((q) => q.id === id);
    if (at < 0) return undefined;
    const provider = this.queue[at].provider;
    let ahead = 0;
    for (let i = 0; i < at; i++) if (this.queue[i].provider === provider) ahead++;
    return ahead;
  }

  async cancelled(id: string): Promise<void> {
    const at = this.queue.findIndex((q) => q.id === id);
    if (at >= 0) this.queue.splice(at, 1);
  }

  async finished(): Promise<void> {}

  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
  }

  async settle(): Promise<void> {}

  async close(): Promise<void> {}

  waitingHere(): number {
    return this.queue.length;
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    const executor = this.executor;
    if (!executor) return;
    for (let i = 0; !this.stopped && i < this.queue.length; ) {
      const job = this.queue[i];
      if (!this.hasRoom(job.provider)) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      this.inFlight.set(job.provider, (this.inFlight.get(job.provider) ?? 0) + 1);
      // An interrupted job (our own stop) is resumed by the next start from the store; a failed run was logged by the runner.
      void executor
        .run(job)
        .catch(() => undefined)
        .finally(() => {
          this.inFlight.set(job.provider, (this.inFlight.get(job.provider) ?? 1) - 1);
          this.schedulePump();
        });
    }
  }
}
