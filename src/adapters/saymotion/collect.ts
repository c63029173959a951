/**
 * Collecting a finished job: one batched download-link call per variant, every GLB downloaded once and
 * decoded onto the DeepMotion rig, and each sample's clips put together (a text segment's chunks
 * stitched, an unconditioned segment holding its neighbour's pose).
 */
import { restClip } from '../../motion/clip.js';
import { GatewayError } from '../../spec/errors.js';
import type { Clip, Motion, SampleMotion, Skeleton } from '../../spec/motion.js';
import type { GenerationPlan } from '../../spec/plan.js';
import { ProviderCallError } from '../kit/errors.js';
import { sameOrigin } from '../kit/http.js';
import type { SayMotionCheckpoint, SayMotionContext } from './checkpoint.js';
import type { DownloadLink, SayMotionClient } from './client.js';
import { PROVIDER, sayMotionError } from './errors.js';
import { glbUrl } from './mapping.js';
import { alignToCanonical, decodeResult, resampleChunk, stitchChunks, type DecodedResult } from './motion.js';
import { DEEPMOTION_SKELETON } from './rig.js';

/** Parallel file downloads of one job. */
const DOWNLOAD_CONCURRENCY = 4;

export interface CollectorOptions {
  client: SayMotionClient;
  /** Frame rate the files are decoded at (the model's native fps). */
  fps: number;
  /** SAYMOTION_DOWNLOAD_MAX_BYTES. */
  maxBytes: number;
  /** Timeout of one file download. */
  downloadTimeoutMs: number;
  /** A failure as the catalogue error the job ends with. */
  errorOf: (err: unknown, rid?: string) => GatewayError;
}

export class ResultCollector {
  constructor(private readonly opts: CollectorOptions) {}

  /** The job's motion: every sample from its variant (the last variant repeated if there are fewer). */
  async motion(plan: GenerationPlan, state: SayMotionCheckpoint, ctx: SayMotionContext): Promise<Motion> {
    // A constraints-only request (or one of unconditioned segments only) never called the provider.
    if (state.units.length === 0) {
      const rest = restClip(DEEPMOTION_SKELETON, 1, plan.fps);
      const samples = Array.from({ length: plan.numSamples }, () => ({ segments: plan.segments.map((s) => repeatFrame(rest, 0, s.frames, plan.fps)) }));
      return { skeleton: DEEPMOTION_SKELETON, samples };
    }
    const { skeleton, results } = await this.collect(state, ctx);
    const samples = Array.from({ length: plan.numSamples }, (_, i) => sampleOf(plan, state, skeleton, results[Math.min(i, results.length - 1)]));
    return { skeleton, samples };
  }

  /** Every variant of every unit, downloaded once, as clips on one rig. */
  private async collect(state: SayMotionCheckpoint, ctx: SayMotionContext): Promise<{ skeleton: Skeleton; results: DecodedResult[][] }> {
    const { client, errorOf } = this.opts;
    const rids = state.units.map((u) => u.rid!);
    const results: DecodedResult[][] = [];
    for (let variant = 1; variant <= state.numVariant; variant++) {
      let links: DownloadLink[];
      try {
        links = await client.downloadLinks(rids, rids.map(() => variant), { signal: ctx.signal, deadline: ctx.deadline });
      } catch (err) {
        throw errorOf(err, rids.join(','));
      }
      const byRid = new Map(links.map((l) => [l.rid, l]));
      const decoded = await mapLimited(rids, DOWNLOAD_CONCURRENCY, (rid) => this.fetchResult(rid, variant, byRid.get(rid), ctx));
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

  /** Downloads and decodes one variant of one unit; a truncated file or a refused URL gets one fresh link. */
  private async fetchResult(rid: string, variant: number, link: DownloadLink | undefined, ctx: SayMotionContext): Promise<DecodedResult> {
    const { client, fps, maxBytes, downloadTimeoutMs, errorOf } = this.opts;
    const once = async (l: DownloadLink | undefined): Promise<DecodedResult> => {
      if (!l) throw sayMotionError({ failure: 'no_result_file', rid, message: 'no download link for the job' });
      if (l.variantDownloadStatus === false) throw sayMotionError({ failure: 'download_refused', rid, message: `variant ${variant} may not be downloaded` });
      const url = glbUrl(l);
      if (!url) throw sayMotionError({ failure: 'no_result_file', rid });
      let bytes: Uint8Array;
      try {
        bytes = await client.file(url, { maxBytes, timeoutMs: downloadTimeoutMs, signal: ctx.signal, deadline: ctx.deadline });
      } catch (err) {
        // Storage refusing a pre-signed URL (expired, deleted) says nothing about our credentials.
        if (err instanceof ProviderCallError && err.kind === 'http' && [401, 403, 404, 410].includes(err.status ?? 0) && !sameOrigin(url, client.baseUrl)) {
          throw sayMotionError({ failure: 'file_unavailable', status: err.status, rid }, err);
        }
        throw errorOf(err, rid);
      }
      return decodeResult(bytes, fps, maxBytes, rid);
    };
    try {
      return await once(link);
    } catch (err) {
      // Unreadable or refused files are worth one fresh link; a file over the cap would only be over it again.
      const tooLarge = err instanceof GatewayError && err.cause instanceof ProviderCallError && err.cause.kind === 'too_large';
      const refresh = err instanceof GatewayError && (err.id === 'MG-PRV-502' || err.id === 'MG-PRV-410') && !tooLarge;
      if (!refresh || ctx.signal.aborted) throw err instanceof GatewayError ? err : errorOf(err, rid);
      ctx.log.warn({ provider: PROVIDER, job: ctx.jobId, provider_job_id: rid, variant }, 'SayMotion result unusable, fetching a fresh link');
      try {
        const [fresh] = await client.downloadLinks([rid], [variant], { signal: ctx.signal, deadline: ctx.deadline });
        return await once(fresh);
      } catch (again) {
        throw again instanceof GatewayError ? again : errorOf(again, rid);
      }
    }
  }
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
    const chunks = idx.map((i) => resampleChunk(decoded[i].clip, plan.fps, state.units[i].frames));
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
