/**
 * The SayMotion adapter: text segments become DeepMotion text2motion jobs (chunked when long), polled
 * together by one process-wide batched poller, downloaded once as GLB and returned as clips on the
 * DeepMotion rig; every step is resumable from the checkpoint, whose rids are saved before anything else.
 * This file wires the steps: submit.ts, observe.ts, collect.ts.
 */
import type { LookupFunction } from 'node:net';
import type { Dispatcher } from 'undici';
import type { Adapter, AdapterStore, Logger, ProviderDefinition, Readiness, Step } from '../../spec/adapter.js';
import { systemClock, type Clock } from '../../spec/clock.js';
import { GatewayError } from '../../spec/errors.js';
import type { GenerationPlan } from '../../spec/plan.js';
import type { ModelCapabilities } from '../../spec/wire.js';
import { AssetEgress } from '../kit/egress.js';
import { Secrets } from '../kit/redact.js';
import { SayMotionAccount } from './account.js';
import { mayHaveCharged, readCheckpoint, snapshot, type SayMotionCheckpoint, type SayMotionContext } from './checkpoint.js';
import { SayMotionClient, type RetryTuning } from './client.js';
import { ResultCollector } from './collect.js';
import { readSayMotionConfig, type SayMotionConfig } from './config.js';
import { PROVIDER } from './errors.js';
import { planUnits } from './mapping.js';
import { StatusObserver } from './observe.js';
import { StatusPoller } from './poller.js';
import { Submitter } from './submit.js';

/** Knobs for tests, benchmarks and operators who need them; every one has a production default. */
export interface SayMotionDeps {
  /** Frame rate the provider's files are decoded at (the model's native fps; default 30). */
  fps?: number;
  retry?: RetryTuning;
  /** Timeout of one API call (default 30 s). */
  callTimeoutMs?: number;
  /** Timeout of one file download (default 120 s). */
  downloadTimeoutMs?: number;
  /** Rids per batched status call (default 50; 1 = a naive one-call-per-job poller, for comparison). */
  maxRidsPerStatusCall?: number;
  /** Slowest poll cadence (default 8 × the configured interval). */
  maxPollIntervalMs?: number;
  /** Failed status ticks in a row after which a job fails (default 3; each tick already retries). */
  pollFailureLimit?: number;
  /** How long a rid may be missing from status answers before the job is considered gone (default 120 s). */
  missingGraceMs?: number;
  /** How long start-up waits for the account to answer before serving with the configured limits (default 5 s). */
  initWaitMs?: number;
  dispatcher?: Dispatcher;
  /** Time for every wait and expiry of the adapter, its session and its poller (default the system clock). */
  clock?: Clock;
  /** PROVIDER_ASSET_ORIGINS: origins result files may come from besides the API's (see docs/provider-security.md). */
  assetOrigins?: readonly string[];
  /** Resolves the hosts of result files (tests inject one; default the system resolver). */
  lookup?: LookupFunction;
}

/** The configured secrets of SayMotion: the client secret, and the Basic credential made of it. */
function configuredSecrets(config: SayMotionConfig): string[] {
  return [config.clientSecret, Buffer.from(`${config.clientId}:${config.clientSecret}`).toString('base64')];
}

export class SayMotionAdapter implements Adapter<SayMotionCheckpoint> {
  readonly provider = PROVIDER;
  readonly client: SayMotionClient;
  /** The process-wide status poller every running job of this adapter reads. */
  readonly poller: StatusPoller;
  private readonly clock: Clock;
  private readonly account: SayMotionAccount;
  private readonly submitter: Submitter;
  private readonly observer: StatusObserver;
  private readonly collector: ResultCollector;
  /** The client secret and every session cookie: redacted from all that leaves the adapter. */
  private readonly secrets: Secrets;
  private readonly egress: AssetEgress;

  constructor(
    private readonly config: SayMotionConfig,
    private readonly deps: SayMotionDeps = {},
  ) {
    const clock = (this.clock = deps.clock ?? systemClock);
    const retry: Required<RetryTuning> = {
      retries: deps.retry?.retries ?? 4,
      minTimeoutMs: deps.retry?.minTimeoutMs ?? 250,
      maxTimeoutMs: deps.retry?.maxTimeoutMs ?? 8_000,
      maxRetryAfterMs: deps.retry?.maxRetryAfterMs ?? 30_000,
    };
    const fps = deps.fps ?? 30;
    this.secrets = new Secrets(configuredSecrets(config));
    this.egress = new AssetEgress({ apiBaseUrl: config.baseUrl, assetOrigins: deps.assetOrigins, lookup: deps.lookup });
    this.client = new SayMotionClient({
      baseUrl: config.baseUrl.replace(/\/+$/, ''),
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      timeoutMs: deps.callTimeoutMs ?? 30_000,
      retry,
      dispatcher: deps.dispatcher,
      clock,
      secrets: this.secrets,
      egress: this.egress,
    });
    this.poller = new StatusPoller((rids) => this.client.status(rids, { retries: 2 }), {
      intervalMs: config.pollIntervalMs,
      maxIntervalMs: deps.maxPollIntervalMs ?? config.pollIntervalMs * 8,
      maxRidsPerCall: deps.maxRidsPerStatusCall ?? 50,
      staleMs: Math.max(120_000, config.pollIntervalMs * 30),
      clock,
    });
    this.account = new SayMotionAccount(this.client, clock, config.maxVariants, fps);
    // Every failure is mapped here, and redacted before it becomes the job's error.
    const errorOf = (err: unknown, rid?: string) => this.secrets.error(this.account.errorOf(err, rid)) as GatewayError;
    this.submitter = new Submitter({ client: this.client, clock, retry, errorOf });
    this.observer = new StatusObserver({
      client: this.client,
      poller: this.poller,
      clock,
      pollFailureLimit: deps.pollFailureLimit ?? 3,
      missingGraceMs: deps.missingGraceMs ?? 120_000,
      jobTimeoutS: config.jobTimeoutS,
      errorOf,
    });
    this.collector = new ResultCollector({
      client: this.client,
      fps,
      maxBytes: config.downloadMaxBytes,
      downloadTimeoutMs: deps.downloadTimeoutMs ?? 120_000,
      errorOf,
    });
  }

  models(): ModelCapabilities[] {
    return [this.account.model];
  }

  /** Reads the account's variant limit, waiting for it a little (the configured limit serves meanwhile). */
  async init(ctx: { store: AdapterStore; log: Logger }): Promise<void> {
    this.account.log = this.secrets.logger(ctx.log);
    const waited = new AbortController();
    await Promise.race([this.account.check(), this.clock.sleep(this.deps.initWaitMs ?? 5_000, waited.signal)]);
    waited.abort();
  }

  maxInFlight(): number {
    return this.config.maxInFlight ?? 32;
  }

  readiness(): Readiness {
    return this.account.readiness();
  }

  async start(plan: GenerationPlan): Promise<SayMotionCheckpoint> {
    // A motion_reference segment is the pipeline's to splice in: the model holds its place like a gap.
    // A pose segment is a short motion of its prompt whose representative frame answers (kit/pose-frame.ts).
    const bad = plan.segments.find((s) => s.type !== 'text' && s.type !== 'unconditioned' && s.type !== 'pose' && !s.reference);
    if (bad) throw new GatewayError('MG-PRO-006', undefined, { details: { segment: bad.index, type: bad.type, supported_segments: this.account.model.supported_segments } });
    const max = this.account.maxVariants;
    if (plan.numSamples > max) throw new GatewayError('MG-PRO-012', `num_samples is at most ${max} for this model.`, { details: { limit: 'max_num_samples', max } });
    return { v: 1, numVariant: plan.numSamples, units: planUnits(plan, this.config.characterId, plan.numSamples) };
  }

  /** A unit was submitted, or a submission's answer was lost (an unreadable checkpoint counts as paid). */
  mayHaveCharged(checkpoint: SayMotionCheckpoint): boolean {
    try {
      return mayHaveCharged(readCheckpoint(checkpoint));
    } catch {
      return true;
    }
  }

  /** Runs one step; its errors and log lines leave the adapter with every secret redacted. */
  async advance(plan: GenerationPlan, checkpoint: SayMotionCheckpoint, jobCtx: SayMotionContext): Promise<Step<SayMotionCheckpoint>> {
    const ctx: SayMotionContext = { ...jobCtx, log: this.secrets.logger(jobCtx.log) };
    try {
      return await this.step(plan, checkpoint, ctx);
    } catch (err) {
      throw this.secrets.error(err);
    }
  }

  /** Submits what is not submitted yet, then reads how the running units are doing, then collects the results. */
  private async step(plan: GenerationPlan, checkpoint: SayMotionCheckpoint, ctx: SayMotionContext): Promise<Step<SayMotionCheckpoint>> {
    this.account.log ??= ctx.log;
    const state = readCheckpoint(checkpoint);
    for (const unit of state.units) {
      if (unit.state !== 'pending' && unit.state !== 'submitting') continue;
      const wait = await this.submitter.submit(unit, state, ctx);
      if (wait) return { kind: 'pending', checkpoint: snapshot(state), progress: 0, waitMs: wait.waitMs };
    }
    if (state.units.some((u) => u.state === 'running')) {
      await this.observer.observe(state, ctx);
      if (state.units.some((u) => u.state === 'running')) {
        const queued = state.units.map((u) => u.positionInQueue ?? 0);
        const progress = state.units.reduce((sum, u) => sum + (u.progress ?? 0), 0) / state.units.length;
        return {
          kind: 'pending',
          checkpoint: snapshot(state),
          progress: Math.min(0.99, progress),
          queuePosition: Math.max(0, ...queued) || undefined,
          waitMs: this.poller.msUntilNextAnswer(),
        };
      }
    }
    return { kind: 'compute', task: await this.collector.motion(plan, state, ctx) };
  }

  /** Cancels every provider job of the request, also one caught mid-POST (found through the job list). */
  async cancel(_plan: GenerationPlan, checkpoint: SayMotionCheckpoint, jobCtx: SayMotionContext): Promise<void> {
    const ctx: SayMotionContext = { ...jobCtx, log: this.secrets.logger(jobCtx.log) };
    const state = readCheckpoint(checkpoint);
    for (const u of state.units) {
      if (u.state === 'submitting' && !u.rid) {
        const found = await this.submitter.recover(u, ctx).catch(() => undefined);
        if (found) {
          u.rid = found;
          u.state = 'running';
        }
      }
    }
    try {
      await this.observer.cancelRunning(state.units, ctx);
    } catch (err) {
      throw this.secrets.error(err);
    }
  }

  async close(): Promise<void> {
    this.poller.close();
    await this.egress.close();
  }
}

export function createSayMotionAdapter(config: SayMotionConfig, deps: SayMotionDeps = {}): SayMotionAdapter {
  return new SayMotionAdapter(config, deps);
}

/** Configured by SAYMOTION_BASE_URL and its credentials (see ./config.ts). */
export const sayMotionProvider: ProviderDefinition<SayMotionConfig> = {
  provider: PROVIDER,
  envPrefix: 'SAYMOTION_',
  readConfig: readSayMotionConfig,
  create: (config, gateway) => createSayMotionAdapter(config, { assetOrigins: gateway?.assetOrigins }),
  secrets: configuredSecrets,
};
