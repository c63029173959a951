/**
 * `motion-gateway batch`: every clip of a manifest to `<dir>/<name>.glb`, a few at a time, resumable.
 * A clip whose file exists is skipped; each clip's Idempotency-Key is a hash of its final request body, so
 * re-running after a crash gets an already-paid job replayed by the gateway instead of paying again. A clip
 * the last report says failed is tried afresh (its attempt number goes into the key): the gateway would
 * otherwise replay the failed job.
 */
import { createHash } from 'node:crypto';
import { access, mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MotionGatewayClient, type GenerateRequest } from '../client/index.js';
import { CliError, EXIT, exitCodeOf, Interrupted, type ExitCode } from './exit-codes.js';
import { abortOnSigint, clipSeconds } from './generate.js';
import { readManifest, type Clip, type Manifest } from './manifest.js';
import { describeFailure, writeAtomic } from './output.js';
import { statusLine } from './progress.js';
import { readSkeletonFile } from './skeleton.js';
import { isObj, type Json } from './json.js';
import { buildRequest, DEFAULT_SECONDS, dirOf, lazyCapabilities, type RequestDraft } from './request.js';

export interface BatchFlags {
  out: string;
  concurrency: number;
}

export interface ClipOutcome {
  name: string;
  file: string;
  status: 'written' | 'skipped' | 'failed';
  /** Runs of this clip that reached the gateway, counting this one (a failed clip is tried afresh next time). */
  attempt?: number;
  job_id?: string | null;
  served_by?: string | null;
  bytes?: number;
  duration_s?: number | null;
  error?: { code: string | null; message: string; action: string | null; exit_code: ExitCode };
}

/** JSON with object keys sorted: the same request gives the same text whatever order its fields were written in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObj(value)) return `{${Object.keys(value).sort().filter((k) => value[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  return JSON.stringify(value);
}

/** The Idempotency-Key of a clip: its final request body's hash (the gateway scopes keys per API key). */
export const idempotencyKeyOf = (request: GenerateRequest): string => `mg-batch-${createHash('sha256').update(canonicalJson(request)).digest('hex')}`;

/** A clip's draft: the defaults with its prompt, or the defaults under its own request fields (options merged). */
function draftOf(clip: Clip, manifest: Manifest, baseDir: string): RequestDraft {
  if ('prompt' in clip) return { base: manifest.defaults, baseDir, prompts: [clip.prompt], seconds: clip.seconds ?? manifest.defaultSeconds ?? DEFAULT_SECONDS };
  const base: Json = { ...manifest.defaults, ...clip.request };
  if (isObj(manifest.defaults.options) && isObj(clip.request.options)) base.options = { ...manifest.defaults.options, ...clip.request.options };
  return { base, baseDir };
}

const exists = (file: string): Promise<boolean> => access(file).then(() => true, () => false);

/** The attempt each clip is at, from the last run's report in `dir` (none yet: nothing). */
async function previousAttempts(report: string): Promise<Map<string, { attempt: number; failed: boolean }>> {
  const text = await readFile(report, 'utf8').catch(() => null);
  const clips = (text ? (JSON.parse(text) as { clips?: unknown }).clips : undefined) ?? [];
  const out = new Map<string, { attempt: number; failed: boolean }>();
  if (!Array.isArray(clips)) return out;
  for (const c of clips as Array<Partial<ClipOutcome> | null>) {
    if (typeof c?.name === 'string') out.set(c.name, { attempt: typeof c.attempt === 'number' ? c.attempt : 1, failed: c.status === 'failed' });
  }
  return out;
}

export async function batchCommand(client: MotionGatewayClient, manifestFile: string, flags: BatchFlags): Promise<ExitCode> {
  const manifest = await readManifest(manifestFile);
  const dir = resolve(flags.out);
  await mkdir(dir, { recursive: true }).catch((err: Error) => {
    throw new CliError(`--out ${flags.out}: ${err.message}`);
  });
  const capabilities = lazyCapabilities(() => client.capabilities());
  const baseDir = dirOf(manifestFile);
  // A shared character file is read once, not once per clip.
  if (typeof manifest.defaults.skeleton === 'string') manifest.defaults.skeleton = await readSkeletonFile(resolve(baseDir, manifest.defaults.skeleton));
  const controller = new AbortController();
  const uninstall = abortOnSigint(controller);
  const outcomes: ClipOutcome[] = new Array(manifest.clips.length);
  const reportFile = join(dir, 'batch-report.json');
  const before = await previousAttempts(reportFile).catch(() => new Map<string, { attempt: number; failed: boolean }>());

  const runClip = async (clip: Clip): Promise<ClipOutcome> => {
    const file = join(dir, `${clip.name}.glb`);
    const prev = before.get(clip.name);
    if (await exists(file)) {
      process.stderr.write(`skipped ${clip.name} (exists)\n`);
      return { name: clip.name, file, status: 'skipped', ...(prev ? { attempt: prev.attempt } : {}) };
    }
    const attempt = prev ? prev.attempt + (prev.failed ? 1 : 0) : 1;
    try {
      const request = await buildRequest(draftOf(clip, manifest, baseDir), capabilities);
      let last = '';
      const result = await client.generate(request, {
        format: 'glb',
        signal: controller.signal,
        idempotencyKey: `${idempotencyKeyOf(request)}${attempt > 1 ? `-a${attempt}` : ''}`,
        onProgress: (status) => {
          const line = statusLine(status);
          if (line !== last && status.state !== 'succeeded') process.stderr.write(`${clip.name}: ${line}\n`);
          last = line;
        },
      });
      await writeAtomic(file, result.bytes);
      process.stderr.write(`wrote ${clip.name}.glb${result.servedBy ? ` (served by ${result.servedBy})` : ''}\n`);
      return { name: clip.name, file, status: 'written', attempt, job_id: result.jobId, served_by: result.servedBy, bytes: result.bytes.byteLength, duration_s: clipSeconds(result) };
    } catch (err) {
      const reason = controller.signal.aborted ? new Interrupted() : err;
      const { message, action, code } = describeFailure(reason);
      process.stderr.write(`failed ${clip.name}: ${message}\n`);
      return { name: clip.name, file, status: 'failed', attempt, error: { code: reason instanceof Interrupted ? 'interrupted' : code, message, action, exit_code: exitCodeOf(reason) } };
    }
  };

  // A fixed number of runners take the next clip in manifest order until none is left.
  let next = 0;
  const runner = async (): Promise<void> => {
    while (next < manifest.clips.length) {
      const i = next++;
      outcomes[i] = await runClip(manifest.clips[i]);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(flags.concurrency, manifest.clips.length) }, runner));
  } finally {
    uninstall();
  }

  const count = (s: ClipOutcome['status']) => outcomes.filter((o) => o.status === s).length;
  const report = { manifest: resolve(manifestFile), out: dir, finished_at: new Date().toISOString(), written: count('written'), skipped: count('skipped'), failed: count('failed'), clips: outcomes };
  await writeAtomic(reportFile, new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`));
  process.stderr.write(`batch: ${report.written} written, ${report.skipped} skipped, ${report.failed} failed (report: ${join(flags.out, 'batch-report.json')})\n`);
  if (controller.signal.aborted) return EXIT.interrupted;
  return outcomes.find((o) => o.status === 'failed')?.error?.exit_code ?? EXIT.ok;
}
