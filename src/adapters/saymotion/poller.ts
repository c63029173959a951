/**
 * The process-wide status poller: every in-flight SayMotion job registers its rids, and one batched
 * `GET /job/v1/status/<rid1>,<rid2>,…` per tick answers them all. One per process: a cluster of N
 * instances (STORE=redis) makes about N status calls per tick, each for the jobs its instance runs.
 * Jobs read the latest answer instead of calling the provider themselves; the tick cadence follows
 * progress and queue position.
 */
import type { Clock } from '../../spec/clock.js';
import type { StatusEntry } from './client.js';
import { readStatus } from './mapping.js';

/** Queue places at the front of the provider's queue polled at the plain interval. */
const QUEUE_NEAR = 3;

export interface PollerOptions {
  /** Interval while a job runs. */
  intervalMs: number;
  /** Longest interval (deep in the queue, or backing off after failures). */
  maxIntervalMs: number;
  /** Rids per status call (the URL must stay reasonable); 1 makes the poller a naive one-call-per-job poller. */
  maxRidsPerCall: number;
  /** Watches not read by any job for this long are dropped (their job went away). */
  staleMs: number;
  /** Time for the cadence: when rids are due, and the wait until the next tick. */
  clock: Clock;
}

interface PollFailure {
  error: unknown;
  /** Failed ticks in a row for this rid. */
  consecutive: number;
}

/** What the poller knows of one rid. */
export interface RidView {
  /** The latest entry the provider listed for it. */
  entry?: StatusEntry;
  /** Epoch ms of the last tick that included the rid and got an answer. */
  polledAt?: number;
  /** Answered ticks in a row that did not list it. */
  missingTicks: number;
  failure?: PollFailure;
}

interface Watch extends RidView {
  rid: string;
  dueAt: number;
  readAt: number;
}

export type StatusFetcher = (rids: string[]) => Promise<StatusEntry[]>;

export class StatusPoller {
  private readonly watches = new Map<string, Watch>();
  /** Aborting it calls off the scheduled tick. */
  private timer?: AbortController;
  private timerAt = Infinity;
  private inflight?: Promise<void>;
  private closed = false;
  /** Status calls made and ticks run (for tests and the benchmark). */
  calls = 0;
  ticks = 0;
  /** How long the last tick took, to tell jobs when its answer will be there. */
  private lastTickMs = 0;

  constructor(
    private readonly fetch: StatusFetcher,
    private readonly opts: PollerOptions,
  ) {}

  private now(): number {
    return this.opts.clock.now();
  }

  /** Starts (or keeps) watching a rid; the first poll is one interval away, as no job finishes at once. */
  watch(rid: string): void {
    const now = this.now();
    const w = this.watches.get(rid);
    if (w) {
      w.readAt = now;
      return;
    }
    this.watches.set(rid, { rid, missingTicks: 0, dueAt: now + this.opts.intervalMs, readAt: now });
    this.schedule();
  }

  unwatch(rid: string): void {
    this.watches.delete(rid);
    if (this.watches.size === 0) this.clearTimer();
  }

  /** What is known of a rid (and a note that a job still cares about it). */
  view(rid: string): RidView {
    const w = this.watches.get(rid);
    if (!w) return { missingTicks: 0 };
    w.readAt = this.now();
    return { entry: w.entry, polledAt: w.polledAt, missingTicks: w.missingTicks, failure: w.failure };
  }

  /** Waits for a tick in flight, if any (so a job never reads an answer that is about to change). */
  async settled(signal?: AbortSignal): Promise<void> {
    if (!this.inflight) return;
    await new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => reject(signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      void this.inflight!.finally(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  /** Whether the poller watches `rid`. */
  watching(rid: string): boolean {
    return this.watches.has(rid);
  }

  /** Whether a tick is scheduled or running: when not, nothing is polled until a rid is watched again. */
  get active(): boolean {
    return this.timer !== undefined || this.inflight !== undefined;
  }

  /** Milliseconds until the next tick's answer is expected (a job's natural wait). */
  msUntilNextAnswer(): number {
    const due = this.timerAt === Infinity ? this.now() + this.opts.intervalMs : this.timerAt;
    return Math.max(5, due - this.now() + this.lastTickMs + 5);
  }

  close(): void {
    this.closed = true;
    this.clearTimer();
    this.watches.clear();
  }

  private clearTimer(): void {
    this.timer?.abort();
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  /** Sets the timer for the earliest due watch (never while a tick runs: it reschedules when done). */
  private schedule(): void {
    if (this.closed || this.inflight || this.watches.size === 0) return;
    let due = Infinity;
    for (const w of this.watches.values()) due = Math.min(due, w.dueAt);
    if (due >= this.timerAt) return;
    this.clearTimer();
    const timer = new AbortController();
    this.timer = timer;
    this.timerAt = due;
    void this.opts.clock.sleep(Math.max(0, due - this.now()), timer.signal).then(() => {
      if (timer.signal.aborted) return;
      this.timer = undefined;
      this.timerAt = Infinity;
      this.inflight = this.tick().finally(() => {
        this.inflight = undefined;
        this.schedule();
      });
    });
  }

  /** One tick: every watched rid, in as few calls as the per-call limit allows. */
  private async tick(): Promise<void> {
    const started = this.now();
    for (const [rid, w] of this.watches) if (started - w.readAt > this.opts.staleMs) this.watches.delete(rid);
    const rids = [...this.watches.keys()];
    if (!rids.length) return;
    this.ticks++;
    const groups: string[][] = [];
    for (let i = 0; i < rids.length; i += this.opts.maxRidsPerCall) groups.push(rids.slice(i, i + this.opts.maxRidsPerCall));
    await Promise.all(
      groups.map(async (group) => {
        this.calls++;
        try {
          const entries = await this.fetch(group);
          const byRid = new Map(entries.map((e) => [e.rid, e]));
          const now = this.now();
          for (const rid of group) {
            const w = this.watches.get(rid);
            if (!w) continue;
            const e = byRid.get(rid);
            w.failure = undefined;
            w.polledAt = now;
            if (e) {
              w.entry = e;
              w.missingTicks = 0;
            } else {
              w.missingTicks++;
            }
            w.dueAt = now + this.intervalFor(w);
          }
        } catch (error) {
          const now = this.now();
          const wait = (error as { retryAfterMs?: number }).retryAfterMs;
          for (const rid of group) {
            const w = this.watches.get(rid);
            if (!w) continue;
            const consecutive = (w.failure?.consecutive ?? 0) + 1;
            w.failure = { error, consecutive };
            const backoff = Math.min(this.opts.maxIntervalMs, this.opts.intervalMs * 2 ** consecutive);
            w.dueAt = now + Math.max(backoff, wait ?? 0);
          }
        }
      }),
    );
    this.lastTickMs = this.now() - started;
  }

  /**
   * How soon a rid wants its next look: deep in the queue, rarely (one interval more per two places beyond
   * the first QUEUE_NEAR: a job a few places from the front starts within an interval or two, and a late
   * look there costs its whole wait);
   * while the provider retries, half as often; close to done, twice as often; otherwise every interval.
   */
  private intervalFor(w: Watch): number {
    const { intervalMs, maxIntervalMs } = this.opts;
    if (!w.entry) return intervalMs;
    const r = readStatus(w.entry);
    if (r.kind !== 'running') return intervalMs;
    if (r.positionInQueue && r.positionInQueue > QUEUE_NEAR) return Math.min(maxIntervalMs, intervalMs * (1 + (r.positionInQueue - QUEUE_NEAR) / 2));
    if (r.retrying) return Math.min(maxIntervalMs, intervalMs * 2);
    if ((r.progress ?? 0) >= 0.8) return Math.max(10, intervalMs / 2);
    return intervalMs;
  }
}
