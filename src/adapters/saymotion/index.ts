/**
 * The SayMotion adapter: text segments become DeepMotion text2motion jobs (chunked when long), polled
 * together by one process-wide batched poller, downloaded once as GLB and returned as clips on the
 * DeepMotion rig; every step is resumable from the checkpoint, whose rids are saved before anything else.
 */
import type { Dispatcher } from 'undici';
import type { Adapter, Checkpoint, JobContext, Logger, ProviderDefinition, Step } from '../../spec/adapter.js';
import type { GenerationPlan } from '../../spec/plan.js';
import type { ModelCapabilities } from '../../spec/wire.js';
import type { SampleMotion } from '../../spec/motion.js';
import { readSayMotionConfig, type SayMotionConfig } from './config.js';
import { restClip } from '../../motion/clip.js';
import type { Clip } from '../../spec/motion.js';
import type { Skeleton } from '../../spec/motion.js';
import { GatewayError } from '../../spec/errors.js';
import { sameOrigin, withRetries } from '../kit/http.js';
import { ProviderCallError } from '../kit/errors.js';
import { SayMotionClient, type DownloadLink, type RetryTuning } from './client.js';
import { LOGIN_ENDPOINT } from './session.js';
import { PROVIDER, isSessionRefusal, sayMotionError, toGatewayError } from './errors.js';
import { NATIVE_CLIP_SECONDS, findSubmitted, glbUrl, planUnits, readStatus, type Unit } from './mapping.js';
import { alignToCanonical, decodeResult, fitClip, stitchChunks, type DecodedResult } from './motion.js';
import { StatusPoller } from './poller.js';
import { CONTACT_JOINTS, DEEPMOTION_SKELETON, deepMotionSkeletonWire } from './rig.js';

export const SAYMOTION_MODEL_ID = 'saymotion';
export const SAYMOTION_FPS = 30;

/** Knobs for tests, benchmarks and operators who need them; every one has a production default. */
export interface SayMotionDeps {
  /** Frame rate the provider's files are decoded at (the model's native fps). */
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
  now?: () => number;
}

export interface SayMotionAdapter extends Adapter {
  readonly client: SayMotionClient;
  readonly poller: StatusPoller;
}

/** What a SayMotion job keeps between steps (JSON). */
interface SayMotionCheckpoint {
  v: 1;
  numVariant: number;
  units: Unit[];
}

/** Rids our jobs own, so recovery after a crash never adopts another job's work. */
const CLAIMS_KEY = 'claimed_rids';
const CLAIM_TTL_MS = 24 * 3600_000;
const MAX_CLAIMS = 5_000;
/** Parallel file downloads of one job. */
const DOWNLOAD_CONCURRENCY = 4;
/** How long a refused login keeps the model unready before it is tried again. */
const REFUSED_RECHECK_MS = 60_000;

function parseState(cp: Checkpoint): SayMotionCheckpoint {
  const s = structuredClone(cp) as unknown as SayMotionCheckpoint;
  if (s.v !== 1 || !Array.isArray(s.units) || typeof s.numVariant !== 'number') {
    throw new GatewayError('MG-SRV-001', undefined, { details: { reason: 'unreadable SayMotion checkpoint' } });
  }
  return s;
}

const toCheckpoint = (s: SayMotionCheckpoint): Checkpoint => structuredClone(s) as unknown as Checkpoint;

function capabilities(maxVariants: number, fps: number): ModelCapabilities {
  return {
    id: SAYMOTION_MODEL_ID,
    description: 'DeepMotion SayMotion text-to-motion (cloud): full-body motion with fingers on a DeepMotion character, retargeted onto any humanoid skeleton.',
    provider: PROVIDER,
    fps,
    supports_retargeting: true,
    supports_async: true,
    supports_segment_seed: false,
    supports_loop: true,
    supports_trajectory: true,
    supports_batch: false,
    supports_motion_reference_mixed: false,
    supported_constraints: ['root_path', 'effector_target', 'pose_keyframe'],
    supported_segments: ['text', 'unconditioned'],
    supported_guidance_types: [],
    predicted_contact_joints: [...CONTACT_JOINTS],
    native_clip_seconds: NATIVE_CLIP_SECONDS,
    chunking: 'stitched',
    recommended_max_duration_seconds: NATIVE_CLIP_SECONDS,
    canonical_skeleton: deepMotionSkeletonWire(),
    limits: {
      max_duration_seconds: 60,
      max_num_samples: maxVariants,
      max_constraints_per_request: 64,
      max_prompt_length: 1000,
      max_request_bytes: 1048576,
      max_batch_size: 16,
    },
  };
}

/** Runs `fn` over `items` with at most `limit` at once, results in order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

/** A POST failure after which the job may exist anyway (the answer was lost, not a refusal). */
function mayHaveCreated(err: unknown): boolean {
  if (!(err instanceof ProviderCallError)) return false;
  if (err.kind === 'http') return err.status === 500 || err.status === 502 || err.status === 504;
  return err.kind === 'timeout' || err.kind === 'parse' || err.kind === 'network';
}

export function createSayMotionAdapter(config: SayMotionConfig, deps: SayMotionDeps = {}): SayMotionAdapter {
  const fps = deps.fps ?? SAYMOTION_FPS;
  const now = deps.now ?? Date.now;
  const client = new SayMotionClient({
    baseUrl: config.baseUrl.replace(/\/+$/, ''),
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    timeoutMs: deps.callTimeoutMs ?? 30_000,
    retry: { retries: 4, minTimeoutMs: 250, maxTimeoutMs: 8_000, maxRetryAfterMs: 30_000, ...deps.retry },
    dispatcher: deps.dispatcher,
    now: deps.now,
  });
  const poller = new StatusPoller((rids) => client.status(rids, { retries: 2 }), {
    intervalMs: config.pollIntervalMs,
    maxIntervalMs: deps.maxPollIntervalMs ?? config.pollIntervalMs * 8,
    maxRidsPerCall: deps.maxRidsPerStatusCall ?? 50,
    staleMs: Math.max(120_000, config.pollIntervalMs * 30),
    now: deps.now,
  });
  const pollFailureLimit = deps.pollFailureLimit ?? 3;
  const missingGraceMs = deps.missingGraceMs ?? 120_000;
  const downloadTimeoutMs = deps.downloadTimeoutMs ?? 120_000;
  const jobTimeoutMs = config.jobTimeoutS * 1000;

  let maxVariants = config.maxVariants;
  let model = capabilities(maxVariants, fps);
  let refusedAt: number | undefined;
  let checking: Promise<void> | undefined;
  let log: Logger | undefined;

  /** Maps a failure, and remembers when the login itself was refused (readiness shows it until a login works). */
  function failure(err: unknown, rid?: string): GatewayError {
    const g = toGatewayError(err, rid);
    if (err instanceof ProviderCallError && err.endpoint === LOGIN_ENDPOINT && (err.status === 401 || err.status === 403)) {
      if (refusedAt === undefined) log?.error({ provider: PROVIDER, error_code: g.id }, 'SayMotion refused the gateway credentials');
      refusedAt = now();
    }
    return g;
  }

  /** Logs in and reads the account's variant limit. */
  function checkAccount(): Promise<void> {
    checking ??= (async () => {
      try {
        const balance = await client.creditBalance({ retries: 1 });
        refusedAt = undefined;
        if (balance.maxVariantsGeneration !== undefined) {
          maxVariants = Math.max(1, Math.min(config.maxVariants, balance.maxVariantsGeneration));
          model = capabilities(maxVariants, fps);
        }
        log?.info({ provider: PROVIDER, credits: balance.credits, max_variants: maxVariants }, 'SayMotion account ready');
      } catch (err) {
        const g = failure(err);
        log?.warn({ provider: PROVIDER, error_code: g.id, provider_status: g.details?.provider_status }, 'SayMotion account check failed');
      } finally {
        checking = undefined;
      }
    })();
    return checking;
  }

  // ---- Claims: which provider rids belong to our jobs (kept a day, so recovery never adopts them twice).
  function claims(ctx: JobContext): Record<string, number> {
    try {
      return JSON.parse(ctx.store.get(CLAIMS_KEY) ?? '{}') as Record<string, number>;
    } catch {
      return {};
    }
  }
  function claim(ctx: JobContext, rid: string): void {
    const t = now();
    const entries = Object.entries(claims(ctx)).filter(([, at]) => t - at < CLAIM_TTL_MS);
    entries.push([rid, t]);
    ctx.store.set(CLAIMS_KEY, JSON.stringify(Object.fromEntries(entries.slice(-MAX_CLAIMS))));
  }

  /** Looks in the job list for the job a lost submission created. */
  async function recover(unit: Unit, ctx: JobContext): Promise<string | undefined> {
    const list = await client.list({ signal: ctx.signal, deadline: ctx.deadline });
    const owned = claims(ctx);
    return findSubmitted(list, unit.params, unit.submittedAt ?? 0, (rid) => rid in owned);
  }

  function adopt(unit: Unit, rid: string, state: SayMotionCheckpoint, ctx: JobContext): void {
    unit.rid = rid;
    unit.state = 'running';
    // Persist first: from here on a restart polls this rid instead of paying for another job.
    ctx.saveCheckpoint(toCheckpoint(state));
    claim(ctx, rid);
    ctx.log.info({ provider: PROVIDER, job: ctx.jobId, provider_job_id: rid, segment: unit.segment, chunk: unit.chunk }, 'SayMotion job submitted');
  }

  /**
   * Submits one unit. A unit found `submitting` was interrupted mid-POST (a crash or shutdown): the job
   * list is searched before paying again. A POST whose answer was lost is looked up the same way before
   * it is retried. Returns a wait when the provider asks for more patience than one step should take.
   */
  async function submit(unit: Unit, state: SayMotionCheckpoint, ctx: JobContext): Promise<{ waitMs: number } | undefined> {
    if (unit.state === 'submitting') {
      const found = await recover(unit, ctx);
      if (found) return void adopt(unit, found, state, ctx);
    }
    unit.state = 'submitting';
    unit.submittedAt = now();
    ctx.saveCheckpoint(toCheckpoint(state));
    let lookFirst = false;
    let looked = false;
    try {
      const rid = await withRetries(
        async () => {
          if (lookFirst) {
            looked = true;
            const found = await recover(unit, ctx);
            if (found) return found;
          }
          try {
            return await client.submitText2Motion(unit.params, { signal: ctx.signal, deadline: ctx.deadline });
          } catch (err) {
            lookFirst = mayHaveCreated(err);
            looked = false;
            throw err;
          }
        },
        {
          retries: deps.retry?.retries ?? 4,
          minTimeoutMs: deps.retry?.minTimeoutMs ?? 250,
          maxTimeoutMs: deps.retry?.maxTimeoutMs ?? 8_000,
          maxRetryAfterMs: deps.retry?.maxRetryAfterMs ?? 30_000,
          signal: ctx.signal,
          deadline: ctx.deadline,
          isRetryable: (e) => e instanceof ProviderCallError && (e.isRetryable || e.kind === 'parse'),
        },
      );
      adopt(unit, rid, state, ctx);
      return undefined;
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      if (lookFirst && !looked) {
        const found = await recover(unit, ctx);
        if (found) return void adopt(unit, found, state, ctx);
      }
      unit.state = 'pending';
      unit.submittedAt = undefined;
      ctx.saveCheckpoint(toCheckpoint(state));
      const wait = err instanceof ProviderCallError && err.isRetryable ? err.retryAfterMs : undefined;
      if (wait !== undefined && now() + wait < ctx.deadline) return { waitMs: wait };
      throw failure(err);
    }
  }

  /** Cancels the provider jobs of units still running (best effort: failures are logged). */
  async function cancelUnits(units: readonly Unit[], ctx: Pick<JobContext, 'log' | 'jobId'>): Promise<void> {
    await Promise.all(
      units
        .filter((u) => u.rid && u.state === 'running')
        .map(async (u) => {
          poller.unwatch(u.rid!);
          try {
            await client.cancel(u.rid!, { retries: 2, signal: AbortSignal.timeout(10_000) });
          } catch (err) {
            ctx.log.warn({ provider: PROVIDER, job: ctx.jobId, provider_job_id: u.rid, error: String(err) }, 'SayMotion cancel failed');
          }
        }),
    );
  }

  /** Reads the poller's latest answers into the units; throws when a unit failed. */
  async function observe(state: SayMotionCheckpoint, ctx: JobContext): Promise<void> {
    const running = state.units.filter((u) => u.state === 'running');
    for (const u of running) poller.watch(u.rid!);
    await poller.settled(ctx.signal);
    const t = now();
    for (const u of running) {
      const rid = u.rid!;
      const view = poller.view(rid);
      /** Stops the job's other provider work (and this unit's, when it is still running there). */
      const fail = async (err: GatewayError, stillRunning = false): Promise<never> => {
        await cancelUnits(state.units.filter((x) => stillRunning || x !== u), ctx);
        poller.unwatch(rid);
        throw err;
      };
      if (view.failure) {
        const e = view.failure.error;
        const transient = e instanceof ProviderCallError && (e.isRetryable || e.kind === 'parse') && !isSessionRefusal(e);
        if (!transient || view.failure.consecutive >= pollFailureLimit) await fail(failure(e, rid));
      } else if (view.entry && view.polledAt !== undefined && view.missingTicks === 0) {
        u.missingSince = undefined;
        const r = readStatus(view.entry);
        if (r.kind === 'succeeded') {
          u.state = 'succeeded';
          u.progress = 1;
          u.positionInQueue = undefined;
          poller.unwatch(rid);
          continue;
        }
        if (r.kind === 'failed') await fail(sayMotionError({ code: r.code, message: r.message, rid, failure: r.revoked ? 'job_revoked' : 'job_failed' }));
        if (r.kind === 'running') {
          u.progress = r.progress ?? u.progress;
          u.positionInQueue = r.positionInQueue;
        }
      } else if (view.missingTicks > 0) {
        // Not listed: the SDKs read that as "still in progress"; for too long, the job is gone.
        u.missingSince ??= t;
        if (t - u.missingSince > missingGraceMs) await fail(sayMotionError({ failure: 'job_gone', rid }));
      }
      if (u.state === 'running' && u.submittedAt !== undefined && t - u.submittedAt > jobTimeoutMs) {
        await fail(sayMotionError({ failure: 'job_timeout', rid, message: `not finished after ${config.jobTimeoutS} s` }), true);
      }
    }
  }

  /** Downloads and decodes one variant of one unit; a truncated file or a refused URL gets one fresh link. */
  async function fetchResult(rid: string, variant: number, link: DownloadLink | undefined, ctx: JobContext): Promise<DecodedResult> {
    const once = async (l: DownloadLink | undefined): Promise<DecodedResult> => {
      if (!l) throw sayMotionError({ failure: 'no_result_file', rid, message: 'no download link for the job' });
      if (l.variantDownloadStatus === false) throw sayMotionError({ failure: 'download_refused', rid, message: `variant ${variant} may not be downloaded` });
      const url = glbUrl(l);
      if (!url) throw sayMotionError({ failure: 'no_result_file', rid });
      let bytes: Uint8Array;
      try {
        bytes = await client.file(url, { maxBytes: config.downloadMaxBytes, timeoutMs: downloadTimeoutMs, signal: ctx.signal, deadline: ctx.deadline });
      } catch (err) {
        // Storage refusing a pre-signed URL (expired, deleted) says nothing about our credentials.
        if (err instanceof ProviderCallError && err.kind === 'http' && [401, 403, 404, 410].includes(err.status ?? 0) && !sameOrigin(url, client.baseUrl)) {
          throw sayMotionError({ failure: 'file_unavailable', status: err.status, rid }, err);
        }
        throw failure(err, rid);
      }
      return decodeResult(bytes, fps, config.downloadMaxBytes, rid);
    };
    try {
      return await once(link);
    } catch (err) {
      // Unreadable or refused files are worth one fresh link; a file over the cap would only be over it again.
      const tooLarge = err instanceof GatewayError && err.cause instanceof ProviderCallError && err.cause.kind === 'too_large';
      const refresh = err instanceof GatewayError && (err.id === 'MG-PRV-502' || err.id === 'MG-PRV-410') && !tooLarge;
      if (!refresh || ctx.signal.aborted) throw err instanceof GatewayError ? err : failure(err, rid);
      ctx.log.warn({ provider: PROVIDER, job: ctx.jobId, provider_job_id: rid, variant }, 'SayMotion result unusable, fetching a fresh link');
      try {
        const [fresh] = await client.downloadLinks([rid], [variant], { signal: ctx.signal, deadline: ctx.deadline });
        return await once(fresh);
      } catch (again) {
        throw again instanceof GatewayError ? again : failure(again, rid);
      }
    }
  }

  /** Every variant of every unit, downloaded once, as clips on one rig. */
  async function collect(state: SayMotionCheckpoint, ctx: JobContext): Promise<{ skeleton: Skeleton; results: DecodedResult[][] }> {
    const rids = state.units.map((u) => u.rid!);
    const results: DecodedResult[][] = [];
    for (let variant = 1; variant <= state.numVariant; variant++) {
      let links: DownloadLink[];
      try {
        links = await client.downloadLinks(rids, rids.map(() => variant), { signal: ctx.signal, deadline: ctx.deadline });
      } catch (err) {
        throw failure(err, rids.join(','));
      }
      const byRid = new Map(links.map((l) => [l.rid, l]));
      const decoded = await mapLimited(rids, DOWNLOAD_CONCURRENCY, (rid) => fetchResult(rid, variant, byRid.get(rid), ctx));
      results.push(decoded.map((d) => alignToCanonical(d, DEEPMOTION_SKELETON)));
    }
    const skeleton = results[0]?.[0]?.skeleton ?? DEEPMOTION_SKELETON;
    for (const d of results.flat()) {
      if (d.skeleton.names.length !== skeleton.names.length || d.skeleton.names.some((n, i) => n !== skeleton.names[i])) {
        throw sayMotionError({ failure: 'parse', rid: rids.join(','), message: 'the result files animate different rigs' });
      }
    }
    return { skeleton, results };
  }

  /** One sample's clips: text segments stitched from their chunks, unconditioned ones holding the neighbouring pose. */
  function sampleOf(plan: GenerationPlan, state: SayMotionCheckpoint, skeleton: Skeleton, decoded: DecodedResult[]): SampleMotion {
    const clips: Array<Clip | undefined> = [];
    const boundaries: number[][] = [];
    for (const seg of plan.segments) {
      const idx = state.units.map((u, i) => (u.segment === seg.index ? i : -1)).filter((i) => i >= 0);
      if (seg.type !== 'text' || idx.length === 0) {
        clips.push(undefined);
        boundaries.push([]);
        continue;
      }
      const chunks = idx.map((i) => fitClip(decoded[i].clip, plan.fps, state.units[i].frames));
      const stitched = stitchChunks(skeleton, chunks);
      clips.push(stitched.clip);
      boundaries.push(stitched.boundaries);
    }
    const segments = plan.segments.map((seg, i) => clips[i] ?? heldPose(skeleton, clips, i, seg.frames, plan.fps));
    const understood = plan.segments
      .filter((seg) => seg.type === 'text')
      .map((seg) => ({ segment: seg.index, provider_job_ids: state.units.filter((u) => u.segment === seg.index).map((u) => u.rid) }));
    return { segments, chunkBoundaries: boundaries, understood };
  }

  return {
    provider: PROVIDER,
    client,
    poller,
    models: () => [model],

    async init(ctx) {
      log = ctx.log;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([checkAccount(), new Promise<void>((r) => (timer = setTimeout(r, deps.initWaitMs ?? 5_000)))]);
      clearTimeout(timer);
    },

    readiness() {
      if (refusedAt === undefined) return { ready: true };
      if (now() - refusedAt > REFUSED_RECHECK_MS && !checking) void checkAccount();
      return { ready: false, reason: 'SayMotion refused the gateway credentials (see the logs)' };
    },

    async start(plan) {
      const bad = plan.segments.find((s) => s.type !== 'text' && s.type !== 'unconditioned');
      if (bad) throw new GatewayError('MG-PRO-006', undefined, { details: { segment: bad.index, type: bad.type, supported_segments: model.supported_segments } });
      if (plan.numSamples > maxVariants) {
        throw new GatewayError('MG-PRO-012', `num_samples is at most ${maxVariants} for this model.`, { details: { limit: 'max_num_samples', max: maxVariants } });
      }
      const state: SayMotionCheckpoint = { v: 1, numVariant: plan.numSamples, units: planUnits(plan, config.characterId, plan.numSamples) };
      return toCheckpoint(state);
    },

    async advance(plan, checkpoint, ctx): Promise<Step> {
      log ??= ctx.log;
      const state = parseState(checkpoint);
      for (const unit of state.units) {
        if (unit.state !== 'pending' && unit.state !== 'submitting') continue;
        const wait = await submit(unit, state, ctx);
        if (wait) return { kind: 'pending', checkpoint: toCheckpoint(state), progress: 0, waitMs: wait.waitMs };
      }
      if (state.units.some((u) => u.state === 'running')) {
        await observe(state, ctx);
        if (state.units.some((u) => u.state === 'running')) {
          const queued = state.units.map((u) => u.positionInQueue ?? 0);
          const progress = state.units.reduce((sum, u) => sum + (u.progress ?? 0), 0) / state.units.length;
          return {
            kind: 'pending',
            checkpoint: toCheckpoint(state),
            progress: Math.min(0.99, progress),
            queuePosition: Math.max(0, ...queued) || undefined,
            waitMs: poller.msUntilNextAnswer(),
          };
        }
      }
      if (state.units.length === 0) {
        const rest = restClip(DEEPMOTION_SKELETON, 1, plan.fps);
        const samples = Array.from({ length: plan.numSamples }, () => ({ segments: plan.segments.map((s) => repeatFrame(rest, 0, s.frames, plan.fps)) }));
        return { kind: 'done', motion: { skeleton: DEEPMOTION_SKELETON, samples } };
      }
      const { skeleton, results } = await collect(state, ctx);
      const samples = Array.from({ length: plan.numSamples }, (_, i) => sampleOf(plan, state, skeleton, results[Math.min(i, results.length - 1)]));
      return { kind: 'done', motion: { skeleton, samples } };
    },

    async cancel(_plan, checkpoint, ctx) {
      const state = parseState(checkpoint);
      for (const u of state.units) {
        if (u.state === 'submitting' && !u.rid) {
          const found = await recover(u, ctx).catch(() => undefined);
          if (found) {
            u.rid = found;
            u.state = 'running';
          }
        }
      }
      await cancelUnits(state.units, ctx);
    },

    async close() {
      poller.close();
    },
  };
}

/** Configured by SAYMOTION_BASE_URL and its credentials (see ./config.ts). */
export const sayMotionProvider: ProviderDefinition<SayMotionConfig> = {
  provider: PROVIDER,
  envPrefix: 'SAYMOTION_',
  readConfig: readSayMotionConfig,
  create: (config) => createSayMotionAdapter(config),
};

/** A clip holding frame `frame` of `clip` for `frames` frames. */
function repeatFrame(clip: Clip, frame: number, frames: number, fps: number): Clip {
  const J = clip.jointCount;
  const rotations = new Float64Array(frames * J * 4);
  const rootPositions = new Float64Array(frames * 3);
  const rot = clip.rotations.subarray(frame * J * 4, (frame + 1) * J * 4);
  const root = clip.rootPositions.subarray(frame * 3, frame * 3 + 3);
  for (let f = 0; f < frames; f++) {
    rotations.set(rot, f * J * 4);
    rootPositions.set(root, f * 3);
  }
  return { fps, numFrames: frames, jointCount: J, rotations, rootPositions };
}

/**
 * An unconditioned segment's clip: the pose the previous text segment ends in (or the next one starts
 * with) held still; the gateway's composition bridges it. The rest pose only when there is no text at all.
 */
function heldPose(skeleton: Skeleton, clips: ReadonlyArray<Clip | undefined>, i: number, frames: number, fps: number): Clip {
  for (let k = i - 1; k >= 0; k--) {
    const c = clips[k];
    if (c && c.numFrames > 0) return repeatFrame(c, c.numFrames - 1, frames, fps);
  }
  for (let k = i + 1; k < clips.length; k++) {
    const c = clips[k];
    if (c && c.numFrames > 0) return repeatFrame(c, 0, frames, fps);
  }
  return restClip(skeleton, frames, fps);
}
