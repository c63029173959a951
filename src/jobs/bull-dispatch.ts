/**
 * STORE=redis: jobs dispatched through BullMQ, so that any instance accepts and every instance's workers
 * run them. One BullMQ queue per provider (`<REDIS_PREFIX>bull:<provider>`), whose job id is ours (adds
 * are idempotent) and whose global concurrency is the provider's cap, so a cap such as Meshy's tier
 * holds for the whole cluster. A worker whose process dies leaves its job's lock to expire (JOB_LOCK_MS);
 * BullMQ's stalled-job check then hands the job to another worker, which resumes it from the checkpoint
 * in our store. Final states and cancellations are announced over Redis pub/sub, so a sync request waiting
 * on one instance wakes when another finishes its job, and a DELETE anywhere stops the job where it runs.
 *
 * A sync request's job whose provider declares no cap of its own (the procedural model, most of all) runs
 * on the instance that accepted it, when that instance has a free slot: no hop to whichever worker takes
 * it first, no wake-up over pub/sub. It is covered by a lease instead of a BullMQ lock: a sorted set of
 * leases (`<REDIS_PREFIX>direct-leases`, scored by expiry, renewed every half of JOB_LOCK_MS while it
 * runs). Every instance looks for expired leases every JOB_LOCK_MS and hands their jobs to the queue, so
 * the job of an instance that died is resumed from its checkpoint as a stalled BullMQ job would be.
 */
import { Queue, WaitingError, Worker, type Job } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../spec/adapter.js';
import type { DispatchedJob, Dispatcher, JobExecutor, ProviderLoad } from './dispatch.js';
import type { BreakerEvent, BreakerSync } from '../adapters/breakers.js';
import { randomUUID } from 'node:crypto';

export interface BullDispatcherOptions {
  /** REDIS_URL. */
  url: string;
  /** REDIS_PREFIX. */
  prefix: string;
  /** Every provider served (one queue each). */
  providers: string[];
  /** A provider's cluster-wide in-flight cap. */
  capOf: (provider: string) => number;
  /** WORKER_CONCURRENCY: jobs of one provider this instance runs at once (undefined = the cap; 0 = none). */
  concurrency: number | undefined;
  /** JOB_LOCK_MS. */
  lockMs: number;
  log: Logger;
}

/** Runs of one job BullMQ retries when the run itself throws (a store outage; job errors are final states, not throws). */
const RUN_ATTEMPTS = 5;
/**
 * Times a job may be found stalled (its worker gone) before BullMQ gives up on it. High: each stall is an
 * instance that died, and the job's own deadline (JOB_TIMEOUT_S) is what ends a job that cannot finish.
 */
const MAX_STALLED = 1_000;

/** A lease's member in the sorted set: provider and job id (neither holds a space). */
const leaseMember = (job: DispatchedJob) => `${job.provider} ${job.id}`;

function jobOfLease(member: string): DispatchedJob | undefined {
  const at = member.indexOf(' ');
  return at > 0 ? { provider: member.slice(0, at), id: member.slice(at + 1) } : undefined;
}

/** BullMQ queue names may not contain ':'. */
const queueName = (provider: string) => provider.replace(/:/g, '_');

export class BullDispatcher implements Dispatcher {
  readonly local = false;
  private readonly queues = new Map<string, Queue>();
  private readonly workers: Worker[] = [];
  /** Commands (adds, counts, publish): fails a command after a few retries, like the store's connection. */
  private readonly commands: Redis;
  /** Workers block on Redis: their connection must retry forever (BullMQ requires it). */
  private readonly blocking: Redis;
  private readonly subscriber: Redis;
  private readonly channel: string;
  private readonly bullPrefix: string;
  private executor?: JobExecutor;
  /** Direct runs (sync jobs run where they were accepted) in flight here, per provider. */
  private readonly direct = new Map<string, number>();
  /** Their promises, for settle(): a run our stop interrupted goes back to the queue before close(). */
  private readonly directRuns = new Set<Promise<void>>();
  private readonly leaseKey: string;
  private reconciler?: NodeJS.Timeout;
  private stopping = false;
  /** Circuit-breaker openings and closings, shared by all instances (a channel, and a hash of the open ones). */
  private readonly breakerChannel: string;
  private readonly breakersKey: string;
  private readonly breakerListeners: ((e: BreakerEvent) => void)[] = [];
  private readonly instance = randomUUID();

  constructor(private readonly opts: BullDispatcherOptions) {
    const base: RedisOptions = { lazyConnect: true, connectionName: 'motion-gateway-jobs' };
    this.commands = new Redis(opts.url, { ...base, maxRetriesPerRequest: 3 });
    this.blocking = new Redis(opts.url, { ...base, maxRetriesPerRequest: null });
    this.subscriber = new Redis(opts.url, { ...base, maxRetriesPerRequest: null });
    for (const c of [this.commands, this.blocking, this.subscriber]) c.on('error', () => {}); // reported by the commands that fail
    this.channel = `${opts.prefix}job-events`;
    this.bullPrefix = `${opts.prefix}bull`;
    this.leaseKey = `${opts.prefix}direct-leases`;
    this.breakerChannel = `${opts.prefix}breakers`;
    this.breakersKey = `${opts.prefix}breakers-open`;
  }

  private queueOf(provider: string): Queue {
    const q = this.queues.get(provider);
    if (!q) throw new Error(`no job queue for provider "${provider}"`);
    return q;
  }

  async start(executor: JobExecutor): Promise<void> {
    this.executor = executor;
    await Promise.all([this.commands.connect(), this.blocking.connect(), this.subscriber.connect()]);
    for (const p of this.opts.providers) {
      const q = new Queue(queueName(p), { connection: this.commands, prefix: this.bullPrefix });
      q.on('error', (err) => this.opts.log.warn({ err: String(err), provider: p }, 'job queue error'));
      this.queues.set(p, q);
    }
    // Every instance sets the same caps (from the same configuration): the last one started wins.
    for (const [p, q] of this.queues) await q.setGlobalConcurrency(this.opts.capOf(p));
    this.subscriber.on('message', (channel: string, message: string) => this.onMessage(channel, message));
    await this.subscriber.subscribe(this.channel, this.breakerChannel);
    // A crash between the store's insert and the queue's add leaves a job BullMQ does not hold: add it
    // again. Adds are idempotent by job id, so jobs other instances are running stay theirs.
    // Jobs running under a live lease (a sync job on the instance that accepted it) are that instance's.
    const leased = new Set((await this.commands.zrangebyscore(this.leaseKey, Date.now(), '+inf')).map((m) => jobOfLease(m)?.id));
    const unfinished = (await executor.unfinished()).filter((j) => !leased.has(j.id));
    for (let i = 0; i < unfinished.length; i += 500) {
      const byProvider = new Map<string, DispatchedJob[]>();
      for (const job of unfinished.slice(i, i + 500)) {
        if (!this.queues.has(job.provider)) continue; // a provider no longer served here: another instance may serve it
        byProvider.set(job.provider, [...(byProvider.get(job.provider) ?? []), job]);
      }
      for (const [p, jobs] of byProvider) await this.queueOf(p).addBulk(jobs.map((j) => ({ name: 'run', data: {}, opts: this.jobOptions(j.id) })));
    }
    if (unfinished.length) this.opts.log.info({ jobs: unfinished.length }, 'unfinished jobs handed to the job queues');
    // Every instance, workers or not, hands on the jobs of leases that expired (an instance that died mid-run).
    this.reconciler = setInterval(() => void this.reclaimExpiredLeases(), this.opts.lockMs);
    this.reconciler.unref();
    await this.reclaimExpiredLeases();
    if (this.opts.concurrency === 0) return;
    for (const [p] of this.queues) this.workers.push(this.workerFor(p, executor));
    // Connected before start() returns: a stop that follows at once never closes a connection still opening.
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
  }

  private jobOptions(id: string) {
    return { jobId: id, removeOnComplete: true, removeOnFail: true, attempts: RUN_ATTEMPTS, backoff: { type: 'exponential', delay: 1_000 } };
  }

  private workerFor(provider: string, executor: JobExecutor): Worker {
    const worker = new Worker(
      queueName(provider),
      async (job: Job, token?: string) => {
        const outcome = await executor.run({ id: job.id!, provider });
        if (outcome === 'interrupted') {
          // Our own stop: back to the front of the wait list, for whichever worker is next (BullMQ's documented way).
          await job.moveToWait(token);
          throw new WaitingError();
        }
      },
      {
        connection: this.blocking,
        prefix: this.bullPrefix,
        concurrency: this.opts.concurrency ?? this.opts.capOf(provider),
        lockDuration: this.opts.lockMs,
        stalledInterval: this.opts.lockMs,
        maxStalledCount: MAX_STALLED,
      },
    );
    worker.on('error', (err) => this.opts.log.warn({ err: String(err), provider }, 'job worker error'));
    worker.on('failed', (job, err) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) void executor.abandon({ id: job.id!, provider }, err);
    });
    return worker;
  }

  async enqueue(job: DispatchedJob): Promise<void> {
    const queue = this.queueOf(job.provider);
    if (job.preferHere && this.executor && !this.stopping && (this.direct.get(job.provider) ?? 0) < this.localSlots(job.provider)) {
      await this.commands.zadd(this.leaseKey, Date.now() + this.opts.lockMs, leaseMember(job));
      this.direct.set(job.provider, (this.direct.get(job.provider) ?? 0) + 1);
      const run = this.runDirect(job, this.executor).finally(() => {
        this.direct.set(job.provider, (this.direct.get(job.provider) ?? 1) - 1);
        this.directRuns.delete(run);
      });
      this.directRuns.add(run);
      return;
    }
    await queue.add('run', {}, this.jobOptions(job.id));
  }

  /** Jobs of one provider this instance runs at once (WORKER_CONCURRENCY, else the provider's cap; 0 = none). */
  private localSlots(provider: string): number {
    return this.opts.concurrency ?? this.opts.capOf(provider);
  }

  /**
   * Runs a job here under a lease. Settled: the lease goes. Interrupted by our stop, or a run that threw
   * (the store unreachable): the job goes to the queue (BullMQ retries it with backoff), and the lease only
   * once it is there; a lease left behind expires and another instance queues the job.
   */
  private async runDirect(job: DispatchedJob, executor: JobExecutor): Promise<void> {
    const member = leaseMember(job);
    const renew = setInterval(() => {
      this.commands.zadd(this.leaseKey, 'XX', Date.now() + this.opts.lockMs, member).catch(() => {});
    }, this.opts.lockMs / 2);
    try {
      let outcome: 'settled' | 'interrupted' | 'threw';
      try {
        outcome = await executor.run(job);
      } catch (err) {
        this.opts.log.warn({ err: String(err), job: job.id }, 'a job run here failed; handing it to the job queue');
        outcome = 'threw';
      }
      if (outcome !== 'settled') await this.queueOf(job.provider).add('run', {}, this.jobOptions(job.id));
      await this.commands.zrem(this.leaseKey, member);
    } catch (err) {
      this.opts.log.warn({ err: String(err), job: job.id }, 'job lease not released; it expires and the job is queued then');
    } finally {
      clearInterval(renew);
    }
  }

  /** Queues the jobs of expired leases (their instance died or lost Redis mid-run); idempotent across instances. */
  private async reclaimExpiredLeases(): Promise<void> {
    try {
      const expired = await this.commands.zrangebyscore(this.leaseKey, '-inf', Date.now(), 'LIMIT', 0, 500);
      for (const member of expired) {
        const job = jobOfLease(member);
        const queue = job && this.queues.get(job.provider);
        if (!queue) continue; // a provider not served here: an instance that serves it queues it
        await queue.add('run', {}, this.jobOptions(job.id));
        await this.commands.zrem(this.leaseKey, member);
        this.opts.log.info({ job: job.id }, 'job of an expired lease handed to the job queue');
      }
    } catch (err) {
      this.opts.log.warn({ err: String(err) }, 'expired job leases not checked');
    }
  }

  /** One round trip: every provider's running and waiting jobs (BullMQ's active and wait lists). */
  private async counts(): Promise<Map<string, { active: number; waiting: number }>> {
    const pipe = this.commands.pipeline();
    const providers = [...this.queues.keys()];
    for (const p of providers) {
      const keys = this.queueOf(p).keys;
      pipe.llen(keys.active).llen(keys.wait).zcard(keys.prioritized);
    }
    const replies = (await pipe.exec()) ?? [];
    const out = new Map<string, { active: number; waiting: number }>();
    providers.forEach((p, i) => {
      const n = (k: number) => {
        const [err, v] = replies[i * 3 + k];
        if (err) throw err;
        return Number(v);
      };
      out.set(p, { active: n(0), waiting: n(1) + n(2) });
    });
    return out;
  }

  async load(provider: string): Promise<ProviderLoad> {
    const counts = await this.counts();
    // A waiting job that a free slot is about to take is not queued behind the cap.
    const behind = (p: string) => {
      const c = counts.get(p)!;
      return Math.max(0, c.active + c.waiting - this.opts.capOf(p));
    };
    const own = counts.get(provider) ?? { active: 0, waiting: 0 };
    let waitingTotal = 0;
    for (const p of counts.keys()) waitingTotal += behind(p);
    return { room: own.active + own.waiting < this.opts.capOf(provider), waiting: counts.has(provider) ? behind(provider) : 0, waitingTotal };
  }

  async queuePosition(job: DispatchedJob): Promise<number | undefined> {
    const q = this.queues.get(job.provider);
    if (!q) return undefined;
    const [[e1, at], [e2, len], [e3, active]] = ((await this.commands.pipeline().lpos(q.keys.wait, job.id).llen(q.keys.wait).llen(q.keys.active).exec()) ?? []) as Array<[Error | null, number | null]>;
    if (e1 || e2 || e3) throw e1 ?? e2 ?? e3;
    if (at === null) return undefined;
    // New jobs are pushed at the head, workers take from the tail: the older ones are further along.
    const ahead = len! - 1 - at;
    const free = Math.max(0, this.opts.capOf(job.provider) - active!);
    return Math.max(0, ahead - free);
  }

  async cancelled(id: string): Promise<void> {
    // A waiting job goes at once; an active (locked) one is not removed, its instance stops it on the message.
    await Promise.all([...this.queues.values()].map((q) => q.remove(id).catch(() => 0)));
    await this.commands.publish(this.channel, `cancel:${id}`);
  }

  async finished(id: string): Promise<void> {
    await this.commands.publish(this.channel, `final:${id}`);
  }

  private onMessage(channel: string, message: string): void {
    if (channel === this.breakerChannel) return this.onBreakerMessage(message);
    if (channel !== this.channel || !this.executor) return;
    const colon = message.indexOf(':');
    const kind = message.slice(0, colon);
    const id = message.slice(colon + 1);
    if (kind === 'cancel') this.executor.cancelledElsewhere(id);
    if (kind === 'cancel' || kind === 'final') this.executor.finishedElsewhere(id);
  }

  private onBreakerMessage(message: string): void {
    let msg: BreakerEvent & { from?: string };
    try {
      msg = JSON.parse(message) as BreakerEvent & { from?: string };
    } catch {
      return;
    }
    if (msg.from === this.instance || typeof msg.provider !== 'string' || (msg.state !== 'open' && msg.state !== 'closed')) return;
    const { from: _from, ...event } = msg;
    for (const l of this.breakerListeners) l(event);
  }

  breakerSync(): BreakerSync {
    return {
      publish: (e) => {
        const write =
          e.state === 'open'
            ? this.commands.hset(this.breakersKey, e.provider, JSON.stringify(e))
            : this.commands.hdel(this.breakersKey, e.provider);
        void write
          .then(() => this.commands.publish(this.breakerChannel, JSON.stringify({ ...e, from: this.instance })))
          .catch((err: unknown) => this.opts.log.warn({ err: String(err), provider: e.provider }, 'breaker state not shared'));
      },
      openNow: async () => {
        const now = Date.now();
        const open: BreakerEvent[] = [];
        for (const [provider, json] of Object.entries(await this.commands.hgetall(this.breakersKey))) {
          try {
            const e = JSON.parse(json) as BreakerEvent;
            if ((e.until ?? 0) > now) open.push({ ...e, provider });
          } catch {
            // a value no gateway wrote: ignored
          }
        }
        return open;
      },
      subscribe: (listener) => void this.breakerListeners.push(listener),
    };
  }

  stop(): void {
    this.stopping = true;
    if (this.reconciler) clearInterval(this.reconciler);
    // Fetch nothing more; the jobs running here return (interrupted ones go back to wait) before close().
    for (const w of this.workers) void w.pause(true).catch(() => {});
  }

  /**
   * `abandon`: some executions did not return within the grace; their jobs stay active here until their
   * lock expires, then another instance resumes them (as after a crash).
   */
  async settle(abandon: boolean): Promise<void> {
    // Direct runs that returned hand their interrupted jobs to the queue; those that did not keep their lease until it expires.
    if (!abandon) await Promise.all([...this.directRuns]);
    await Promise.all(this.workers.map((w) => w.close(abandon).catch(() => {})));
  }

  async close(): Promise<void> {
    this.stop();
    await this.settle(true);
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => {})));
    for (const c of [this.commands, this.blocking, this.subscriber]) {
      if (c.status === 'ready') await c.quit().catch(() => c.disconnect());
      else c.disconnect();
    }
  }

  waitingHere(): number {
    return 0;
  }
}
