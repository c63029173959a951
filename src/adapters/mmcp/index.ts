/**
 * The mmcp adapter: another MMCP server (a self-hosted model server, a hosted MMCP service, another
 * gateway) as a provider. Each entry of MMCP_UPSTREAMS is a provider of its own whose models are listed
 * as `<id>/<model id>`; a job is one upstream generation on the upstream model's canonical skeleton
 * (submitted once, whatever restarts happen: its idempotency key is derived from our job id), polled at
 * the upstream's Retry-After, decoded on a worker thread; our pipeline then retargets, constrains and
 * encodes as for any model.
 */
import { createHash } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { Adapter, AdapterStore, Env, JobContext, Logger, ProviderDefinition, Readiness, Step } from '../../spec/adapter.js';
import { systemClock, type Clock } from '../../spec/clock.js';
import { GatewayError } from '../../spec/errors.js';
import type { GenerationPlan } from '../../spec/plan.js';
import type { ModelCapabilities } from '../../spec/wire.js';
import { ProviderCallError } from '../kit/errors.js';
import { Secrets } from '../kit/redact.js';
import { UpstreamCatalogKeeper, type CatalogTiming } from './catalog.js';
import { MmcpClient, type MotionAnswer, type RetryTuning } from './client.js';
import { MMCP_ENV_PREFIX, readUpstreams, type UpstreamConfig } from './config.js';
import { toGatewayError } from './errors.js';
import { unsupportedSegment, upstreamRequest, type UpstreamModel } from './mapping.js';
import { MMCP_WORK, type UpstreamMotionInput } from './work.js';

/** Knobs for tests and operators who need them; every one has a production default. */
export interface MmcpDeps {
  clock?: Clock;
  retry?: RetryTuning;
  /** Timeout of one call that is not a synchronous generation (default 30 s). */
  callTimeoutMs?: number;
  /** Largest glTF answer accepted (default 256 MiB). */
  maxResultBytes?: number;
  /** How long start-up waits for the upstream's capabilities (default 5 s; it keeps trying afterwards). */
  initWaitMs?: number;
  catalog?: Partial<CatalogTiming>;
  /** Bounds on the wait between polls, whatever the upstream's Retry-After says (default 0.5 s and 30 s). */
  minPollMs?: number;
  maxPollMs?: number;
  /** Failed polls in a row (each already retried) after which the job fails (default 5). */
  pollFailureLimit?: number;
  dispatcher?: Dispatcher;
}

/** The checkpoint: the upstream job's location once it is known. Nothing else is needed to resume. */
export interface MmcpCheckpoint {
  v: 1;
  /** The upstream model as it was when the job was admitted (the request is built from it). */
  upstream: Omit<UpstreamModel, 'canonicalSkeleton'>;
  /** 'submit': no upstream job known (a POST may have been sent: its idempotency key makes a resend safe). */
  state: 'submit' | 'polling';
  location?: string;
  upstreamJobId?: string;
  /** Polls in a row that failed transiently. */
  failures?: number;
  /** A POST got no answer: the upstream may have a job (and bill it); resending with the same key finds it. */
  sent?: boolean;
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * The upstream's Idempotency-Key of one of our jobs: the same on every retry and after every restart, so
 * the upstream runs (and bills) one job per job of ours; hashed so our job ids never leave the gateway.
 */
export function idempotencyKeyOf(provider: string, jobId: string): string {
  return `mg-${createHash('sha256').update(`mmcp:${provider}:${jobId}`).digest('hex').slice(0, 40)}`;
}

export class MmcpAdapter implements Adapter<MmcpCheckpoint> {
  readonly provider: string;
  readonly client: MmcpClient;
  private readonly catalog: UpstreamCatalogKeeper;
  private readonly secrets: Secrets;
  private readonly clock: Clock;
  private readonly maxResultBytes: number;
  /** The upstream's own cap (`max_in_flight`), when configured; else the gateway's MAX_CONCURRENT_JOBS holds. */
  readonly maxInFlight?: () => number;

  constructor(
    readonly config: UpstreamConfig,
    private readonly deps: MmcpDeps = {},
  ) {
    this.provider = config.id;
    const cap = config.maxInFlight;
    if (cap !== undefined) this.maxInFlight = () => cap;
    this.clock = deps.clock ?? systemClock;
    this.secrets = new Secrets([config.apiKey]);
    this.maxResultBytes = deps.maxResultBytes ?? 256 * 1_048_576;
    this.client = new MmcpClient({
      provider: config.id,
      baseUrl: config.baseUrl,
      apiKey: config.apiKey,
      secrets: this.secrets,
      clock: this.clock,
      callTimeoutMs: deps.callTimeoutMs ?? 30_000,
      maxResultBytes: this.maxResultBytes,
      retry: { retries: 4, minTimeoutMs: 250, maxTimeoutMs: 8_000, maxRetryAfterMs: 30_000, ...deps.retry },
      dispatcher: deps.dispatcher,
    });
    this.catalog = new UpstreamCatalogKeeper(config.id, this.client, this.clock, {
      retryMinMs: deps.catalog?.retryMinMs ?? 1_000,
      retryMaxMs: deps.catalog?.retryMaxMs ?? 60_000,
      refreshMs: deps.catalog?.refreshMs ?? 600_000,
    });
  }

  models(): ModelCapabilities[] {
    return this.catalog.models();
  }

  readiness(): Readiness {
    return this.catalog.readiness();
  }

  async init(ctx: { store: AdapterStore; log: Logger }): Promise<void> {
    this.catalog.log = this.secrets.logger(ctx.log);
    await this.catalog.start(ctx.store, this.deps.initWaitMs ?? 5_000);
  }

  async start(plan: GenerationPlan): Promise<MmcpCheckpoint> {
    const model = this.catalog.upstreamModel(plan.model.id);
    if (!model) throw new GatewayError('MG-SRV-003', `Model "${plan.model.id}" is not available right now.`, { retryAfterS: 30, details: { model: plan.model.id, provider: this.provider } });
    const bad = unsupportedSegment(plan, model);
    if (bad) throw new GatewayError('MG-PRO-006', undefined, { details: { segment: bad.index, type: bad.type, supported_segments: plan.model.supported_segments } });
    const { canonicalSkeleton: _skeleton, ...upstream } = model;
    return { v: 1, upstream, state: 'submit' };
  }

  /** The upstream has (or may have) a job of ours. */
  mayHaveCharged(checkpoint: MmcpCheckpoint): boolean {
    return checkpoint.state === 'polling' || checkpoint.sent === true;
  }

  async advance(plan: GenerationPlan, checkpoint: MmcpCheckpoint, jobCtx: JobContext<MmcpCheckpoint>): Promise<Step<MmcpCheckpoint>> {
    const ctx = { ...jobCtx, log: this.secrets.logger(jobCtx.log ?? silent) };
    try {
      return checkpoint.state === 'polling' && checkpoint.location ? await this.poll(plan, checkpoint, ctx) : await this.submit(plan, checkpoint, ctx);
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      if (checkpoint.state === 'submit' && err instanceof ProviderCallError && err.kind !== 'http') await jobCtx.saveCheckpoint({ ...checkpoint, sent: true });
      throw this.secrets.error(err instanceof GatewayError ? err : toGatewayError(this.provider, err, { polling: checkpoint.state === 'polling', jobId: checkpoint.upstreamJobId }));
    }
  }

  /** POSTs the job upstream: 202 → its location is saved at once; 200 → its answer is decoded. */
  private async submit(plan: GenerationPlan, checkpoint: MmcpCheckpoint, ctx: JobContext<MmcpCheckpoint>): Promise<Step<MmcpCheckpoint>> {
    const model: UpstreamModel = { ...checkpoint.upstream, canonicalSkeleton: plan.model.canonical_skeleton };
    const body = upstreamRequest(plan, model, plan.model.fps);
    const answer = await this.client.generate(body, {
      idempotencyKey: idempotencyKeyOf(this.provider, ctx.jobId),
      async: model.supportsAsync,
      // A synchronous upstream holds the connection until it is done: at most until our job's deadline.
      timeoutMs: model.supportsAsync ? (this.deps.callTimeoutMs ?? 30_000) : Math.max(1_000, ctx.deadline - this.clock.now()),
      signal: ctx.signal,
      deadline: ctx.deadline,
    });
    return this.stepOf(plan, { ...checkpoint, state: 'polling' }, answer, ctx, true);
  }

  /** One poll of the upstream job; transient failures are waited out up to pollFailureLimit in a row. */
  private async poll(plan: GenerationPlan, checkpoint: MmcpCheckpoint, ctx: JobContext<MmcpCheckpoint>): Promise<Step<MmcpCheckpoint>> {
    let answer: MotionAnswer;
    try {
      answer = await this.client.poll(checkpoint.location!, { signal: ctx.signal, deadline: ctx.deadline });
    } catch (err) {
      const failures = (checkpoint.failures ?? 0) + 1;
      if (ctx.signal.aborted || !(err instanceof ProviderCallError) || !err.isRetryable || failures >= (this.deps.pollFailureLimit ?? 5)) throw err;
      ctx.log.warn({ provider: this.provider, job: ctx.jobId, failures, err: err.message }, 'upstream poll failed; trying again');
      return { kind: 'pending', checkpoint: { ...checkpoint, failures }, waitMs: this.pollWait(err.retryAfterMs, failures) };
    }
    return this.stepOf(plan, { ...checkpoint, failures: 0 }, answer, ctx, false);
  }

  private async stepOf(plan: GenerationPlan, checkpoint: MmcpCheckpoint, answer: MotionAnswer, ctx: JobContext<MmcpCheckpoint>, submitted: boolean): Promise<Step<MmcpCheckpoint>> {
    if (submitted && answer.declined) ctx.log.warn({ provider: this.provider, job: ctx.jobId }, 'the upstream declined idempotency for this request: a crash before its answer is saved would start a second upstream job');
    if (answer.kind === 'accepted') {
      const next: MmcpCheckpoint = { ...checkpoint, state: 'polling', location: answer.location, upstreamJobId: answer.jobId ?? checkpoint.upstreamJobId ?? lastSegment(answer.location) };
      // Saved before anything else can go wrong: a restart polls this job rather than asking again.
      if (submitted) await ctx.saveCheckpoint(next);
      return { kind: 'pending', checkpoint: next, progress: 0, waitMs: this.pollWait(answer.retryAfterMs, 0) };
    }
    const input: UpstreamMotionInput = {
      provider: this.provider,
      upstreamJobId: checkpoint.upstreamJobId,
      bytes: answer.bytes,
      fps: plan.fps,
      maxBytes: this.maxResultBytes,
      numSamples: plan.numSamples,
      segments: plan.segments.map((s) => ({ startFrame: s.startFrame, frames: s.frames })),
    };
    return { kind: 'compute', task: { module: MMCP_WORK, fn: 'upstreamMotion', input } };
  }

  /** The wait before the next poll: the upstream's Retry-After within bounds, else a backoff. */
  private pollWait(retryAfterMs: number | undefined, failures: number): number {
    const min = this.deps.minPollMs ?? 500;
    const max = this.deps.maxPollMs ?? 30_000;
    const asked = retryAfterMs ?? (failures > 0 ? min * 2 ** failures : 2_000);
    return Math.min(max, Math.max(min, asked));
  }

  /** DELETEs the upstream job when one is known (a job whose POST never answered has none to name). */
  async cancel(_plan: GenerationPlan, checkpoint: MmcpCheckpoint, jobCtx: JobContext<MmcpCheckpoint>): Promise<void> {
    if (!checkpoint.location) return;
    try {
      await this.client.cancel(checkpoint.location, { signal: jobCtx.signal });
    } catch (err) {
      throw this.secrets.error(toGatewayError(this.provider, err, { polling: true, jobId: checkpoint.upstreamJobId }));
    }
  }

  async close(): Promise<void> {
    await this.catalog.close();
  }
}

function lastSegment(url: string): string | undefined {
  try {
    return new URL(url).pathname.split('/').filter(Boolean).pop();
  } catch {
    return undefined;
  }
}

export function createMmcpAdapter(config: UpstreamConfig, deps: MmcpDeps = {}): MmcpAdapter {
  return new MmcpAdapter(config, deps);
}

/** One upstream as a provider: its name is the upstream's id, its only secret its API key. */
function mmcpProviderOf(upstream: UpstreamConfig): ProviderDefinition<UpstreamConfig> {
  return {
    provider: upstream.id,
    envPrefix: MMCP_ENV_PREFIX,
    readConfig: () => upstream,
    create: (config) => createMmcpAdapter(config),
    secrets: (config) => (config.apiKey ? [config.apiKey] : []),
  };
}

/**
 * The providers MMCP_UPSTREAMS configures, one per upstream (none when it is unset). Only MMCP_* variables
 * are read; `taken` are the provider names an upstream id may not reuse. Throws ConfigError for a bad entry.
 */
export function mmcpProviders(env: Env, taken: readonly string[]): ProviderDefinition<UpstreamConfig>[] {
  const own = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith(MMCP_ENV_PREFIX)));
  return readUpstreams(own, taken).map(mmcpProviderOf);
}
