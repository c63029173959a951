/**
 * Collecting a finished job: one batched download-link call per variant, every GLB downloaded once and
 * decoded onto the DeepMotion rig, and each sample's clips put together (a text segment's chunks
 * stitched, an unconditioned segment holding its neighbour's pose).
 */
import type { ComputeTask } from '../../spec/compute.js';
import { GatewayError } from '../../spec/errors.js';
import type { GenerationPlan } from '../../spec/plan.js';
import { ProviderCallError } from '../kit/errors.js';
import type { SayMotionCheckpoint, SayMotionContext } from './checkpoint.js';
import type { DownloadLink, SayMotionClient } from './client.js';
import { PROVIDER, sayMotionError } from './errors.js';
import { glbUrl } from './mapping.js';
import type { DecodedResult } from './motion.js';
import { DEEPMOTION_SKELETON } from './rig.js';
import { SAYMOTION_WORK, type AssembleInput } from './work.js';

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

  /** The task that puts the job's motion together from its downloaded, decoded files (on a worker thread). */
  async motion(plan: GenerationPlan, state: SayMotionCheckpoint, ctx: SayMotionContext): Promise<ComputeTask<AssembleInput>> {
    const results = state.units.length === 0 ? [] : await this.collect(state, ctx);
    return { module: SAYMOTION_WORK, fn: 'assembleMotion', input: { plan, state, results } };
  }

  /** Every variant of every unit, downloaded once, as clips on one rig. */
  private async collect(state: SayMotionCheckpoint, ctx: SayMotionContext): Promise<DecodedResult[][]> {
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
      results.push(decoded);
    }
    const skeleton = results[0]?.[0]?.skeleton ?? DEEPMOTION_SKELETON;
    for (const d of results.flat()) {
      if (d.skeleton.names.length !== skeleton.names.length || d.skeleton.names.some((n, i) => n !== skeleton.names[i])) {
        throw sayMotionError({ failure: 'parse', rid: rids.join(','), message: 'the result files animate different rigs' });
      }
    }
    return results;
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
        // A file host refusing a pre-signed URL (expired, deleted) says nothing about our credentials: none are sent.
        if (err instanceof ProviderCallError && err.kind === 'http' && [401, 403, 404, 410].includes(err.status ?? 0)) {
          throw sayMotionError({ failure: 'file_unavailable', status: err.status, rid }, err);
        }
        throw errorOf(err, rid);
      }
      return ctx.compute.run<DecodedResult>({ module: SAYMOTION_WORK, fn: 'decodeAligned', input: { bytes, fps, maxBytes, rid } });
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
