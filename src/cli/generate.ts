/** `motion-gateway generate`: one request → one answer file, with progress on stderr and Ctrl-C cancelling the job. */
import { stat } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { MotionGatewayClient, type GenerateResult } from '../client/index.js';
import { CliError, EXIT, Interrupted } from './exit-codes.js';
import { writeAtomic } from './output.js';
import { createProgress } from './progress.js';
import { buildRequest, dirOf, lazyCapabilities, readRequestFile, type RequestDraft } from './request.js';

export interface GenerateFlags {
  prompt?: string[];
  seconds?: number[];
  model?: string;
  skeleton?: string;
  request?: string;
  seed?: number;
  fps?: number;
  samples?: number;
  format?: 'glb' | 'json';
  out: string;
  json?: boolean;
}

/** The answer format: `--format`, else `.gltf` (JSON glTF) or anything else (GLB) from the output's extension. */
const formatOf = (flags: Pick<GenerateFlags, 'format' | 'out'>): 'glb' | 'json' => flags.format ?? (extname(flags.out).toLowerCase() === '.gltf' ? 'json' : 'glb');

/** Seconds of the first sample (frames / fps), from the answer's MMCP_motion. */
export function clipSeconds(result: GenerateResult): number | null {
  const m = result.motion;
  const frames = m?.samples?.[0]?.num_frames;
  return m && typeof frames === 'number' && m.fps > 0 ? Math.round((frames / m.fps) * 1000) / 1000 : null;
}

/**
 * Aborts `controller` with Interrupted on the first SIGINT (the client then cancels the job); a second
 * Ctrl-C means the user will not wait for the cancel, and exits at once. Returns the uninstaller.
 */
export function abortOnSigint(controller: AbortController): () => void {
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    controller.abort(new Interrupted());
  };
  process.on('SIGINT', onSigint);
  return () => process.off('SIGINT', onSigint);
}

export async function generateCommand(client: MotionGatewayClient, flags: GenerateFlags): Promise<void> {
  const started = Date.now();
  const draft: RequestDraft = {
    base: flags.request ? await readRequestFile(flags.request) : {},
    baseDir: dirOf(flags.request),
    prompts: flags.prompt,
    seconds: flags.seconds,
    model: flags.model,
    skeletonFile: flags.skeleton,
    seed: flags.seed,
    fps: flags.fps,
    samples: flags.samples,
  };
  const request = await buildRequest(draft, lazyCapabilities(() => client.capabilities()));
  const format = formatOf(flags);
  const out = resolve(flags.out);
  // Checked before the job: an answer that cannot be written would be paid for and lost.
  const outDir = await stat(dirname(out)).catch(() => null);
  if (!outDir?.isDirectory()) throw new CliError(`-o ${flags.out}: the directory ${dirname(out)} does not exist`);

  const controller = new AbortController();
  const uninstall = abortOnSigint(controller);
  const progress = createProgress();
  let jobId: string | null = null;
  let result: GenerateResult;
  try {
    result = await client.generate(request, {
      format,
      signal: controller.signal,
      onAccepted: (id) => {
        jobId = id;
        progress.accepted(id);
      },
      onProgress: (status) => progress.update(status),
    });
  } catch (err) {
    progress.stop();
    if (err instanceof Interrupted) throw new CliError(jobId ? `interrupted: job ${jobId} was cancelled` : 'interrupted', EXIT.interrupted);
    throw err;
  } finally {
    uninstall();
  }
  await writeAtomic(out, result.bytes);
  progress.done(flags.out, result.servedBy);
  if (flags.json) {
    const summary = {
      file: out,
      job_id: result.jobId ?? jobId,
      served_by: result.servedBy,
      format,
      bytes: result.bytes.byteLength,
      duration_s: clipSeconds(result),
      elapsed_s: Math.round((Date.now() - started) / 100) / 10,
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  }
}
