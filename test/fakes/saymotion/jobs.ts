/**
 * A simulated text2motion job: how a submission is read, what the job keeps, and the status it shows at a
 * moment of its life (its script is played on the simulator's clock, from its creation).
 */
import { json, type Answer } from './http.js';

/** How a FAILURE carries its code in `exc_message`: text, `"101"`, `["101"]` or the Python repr `"['101']"`. */
export type CodeFormat = 'text' | 'string' | 'list' | 'pylist';

/** How one job behaves (time-based, from its creation, on the simulator's clock). */
export interface JobScript {
  /** Time spent queued (PROGRESS with positionInQueue). */
  queueMs?: number;
  /** Initial place in the queue, counting down to 1 while queued (default 3). */
  queuePosition?: number;
  /** Time spent running after the queue. */
  runMs?: number;
  /** details.total (default 100). */
  total?: number;
  /** The step runs past the total (up to 130 %) before the job succeeds. */
  overshoot?: boolean;
  /** A RETRY spell of this length half-way through the run (the run is longer by as much). */
  retryMs?: number;
  /** Never leaves PROGRESS (step stops at half the total). */
  stuck?: boolean;
  /** Ends in FAILURE with this code and/or message. */
  fail?: { code?: number; message?: string; format?: CodeFormat; type?: string };
  /** The first N status answers leave the job out (count 0 when alone). */
  hiddenPolls?: number;
  /** The delivered clip is this many times the requested duration (default 1). */
  durationScale?: number;
}

/** The parts of the simulator's options a job's status depends on. */
export interface StatusOptions {
  cancelledShows: 'FAILURE' | 'REVOKED' | 'missing';
  noCredit: { at: 'process' | 'status' | 'download'; format?: CodeFormat };
}

export interface StatusEntry {
  rid: string;
  status: string;
  details: Record<string, unknown>;
  positionInQueue?: number;
}

/** What a text2motion submission asks for, as the simulator understood it. */
export interface Submission {
  params: string[];
  /** The prompt as the server understood it (outer quotes stripped, escapes undone). */
  prompt: string;
  /** The prompt param's raw value. */
  rawPrompt: string;
  model: string;
  numVariant: number;
  requestedDuration?: number;
  /** Seconds of motion the job delivers (the requested duration, else one chosen from the prompt). */
  duration: number;
  knobs: Record<string, string>;
  /** A knob with an invalid value (SayMotion code 502 at the end of the job). */
  paramError?: string;
}

/** A job as the simulator keeps it: its submission, its script and what happened to it. */
export interface SimJob extends Submission {
  rid: string;
  createdAt: number;
  script: JobScript;
  cancelledAt?: number;
  charged: number;
  /** Code 101 waits for this job (noCredit at status/download). */
  creditShort: boolean;
  statusReads: number;
}

/** The value of a `k=v` param, with the official SDKs' double quotes removed and inner escapes undone. */
function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1).replace(/\\(["\\])/g, '$1') : v;
}

/** Reads a `POST /job/v1/process/text2motion` body: the submission, or the answer refusing it. */
export function readSubmission(body: Buffer, characterId: string, maxVariantsGeneration: number): Submission | { refused: Answer } {
  const refuse = (status: number, message: string) => ({ refused: json(status, { message }) });
  let params: unknown;
  try {
    params = (JSON.parse(body.toString('utf8')) as { params?: unknown }).params;
  } catch {
    return refuse(400, 'body is not JSON');
  }
  if (!Array.isArray(params) || !params.every((p): p is string => typeof p === 'string')) return refuse(400, 'params must be a list of strings');
  const kv = new Map<string, string>();
  for (const p of params) {
    const i = p.indexOf('=');
    if (i > 0) kv.set(p.slice(0, i), p.slice(i + 1));
  }
  const rawPrompt = kv.get('prompt');
  if (!rawPrompt) return refuse(400, 'prompt is required');
  const model = kv.get('model');
  // Seen in public client code: a missing model is a 500 "model not found".
  if (!model || model !== characterId) return refuse(500, 'model not found');
  const numVariant = kv.has('numVariant') ? Number(kv.get('numVariant')) : 1;
  if (!Number.isInteger(numVariant) || numVariant < 1 || numVariant > 8) return refuse(400, 'numVariant must be 1..8');
  if (numVariant > maxVariantsGeneration) return refuse(400, `numVariant exceeds the subscription's maxVariantsGeneration (${maxVariantsGeneration})`);
  const requested = kv.has('requestedAnimationDuration') ? Number(kv.get('requestedAnimationDuration')) : undefined;
  if (requested !== undefined && !(requested > 0 && requested <= 10.5)) return refuse(400, 'requestedAnimationDuration must be within 1-10 seconds');
  const prompt = unquote(rawPrompt);
  const duration = requested ?? 3 + (prompt.length % 5);
  let paramError: string | undefined;
  const knobs: Record<string, string> = {};
  for (const [k, v] of kv) if (!['prompt', 'model', 'numVariant', 'requestedAnimationDuration'].includes(k)) knobs[k] = v;
  if (knobs.footLockingMode !== undefined && !['auto', 'always', 'never', 'grounding'].includes(knobs.footLockingMode)) paramError = 'footLockingMode';
  if (knobs.poseFilteringStrength !== undefined && !(Number(knobs.poseFilteringStrength) >= 0 && Number(knobs.poseFilteringStrength) <= 1)) paramError = 'poseFilteringStrength';
  if (knobs.dis !== undefined && knobs.dis !== 's') paramError = 'dis';
  return { params: [...params], prompt, rawPrompt, model, numVariant, requestedDuration: requested, duration, knobs, paramError };
}

/** A job's status entry at `now`, or undefined while it is hidden. */
export function jobStatus(job: SimJob, now: number, shows: StatusOptions): StatusEntry | undefined {
  const s = job.script;
  if (job.cancelledAt !== undefined) {
    if (shows.cancelledShows === 'missing') return undefined;
    if (shows.cancelledShows === 'REVOKED') return { rid: job.rid, status: 'REVOKED', details: {} };
    return { rid: job.rid, status: 'FAILURE', details: { exc_message: 'Job cancelled by user', exc_type: 'JobCancelled' } };
  }
  const elapsed = now - job.createdAt;
  const queueMs = s.queueMs ?? 0;
  const total = s.total ?? 100;
  if (elapsed < queueMs) {
    const start = s.queuePosition ?? 3;
    const pos = Math.max(1, Math.ceil(start * (1 - elapsed / queueMs)));
    return { rid: job.rid, status: 'PROGRESS', details: { step: 0, total }, positionInQueue: pos };
  }
  const runMs = (s.runMs ?? 150) + (s.retryMs ?? 0);
  const t = elapsed - queueMs;
  if (s.retryMs && t > (runMs - s.retryMs) / 2 && t < (runMs - s.retryMs) / 2 + s.retryMs) {
    return { rid: job.rid, status: 'RETRY', details: { exc_message: 'Worker lost, retrying', exc_type: 'WorkerLostError' } };
  }
  if (s.stuck) return { rid: job.rid, status: 'PROGRESS', details: { step: Math.floor(total / 2), total }, positionInQueue: 0 };
  if (t < runMs) {
    const frac = t / runMs;
    return { rid: job.rid, status: 'PROGRESS', details: { step: Math.floor(total * frac * (s.overshoot ? 1.3 : 1)), total }, positionInQueue: 0 };
  }
  const failure = s.fail ?? (job.paramError ? { code: 502, format: 'string' as const } : job.creditShort && shows.noCredit.at === 'status' ? { code: 101, format: shows.noCredit.format ?? 'string' } : undefined);
  if (failure) {
    const code = failure.code;
    const format = failure.format ?? 'string';
    const text = failure.message ?? (code === 101 ? 'Not enough credit' : `Motion generation failed${code ? ` (${code})` : ''}`);
    const exc_message = code === undefined || format === 'text' ? text : format === 'string' ? String(code) : format === 'list' ? [String(code)] : `['${code}']`;
    return { rid: job.rid, status: 'FAILURE', details: { exc_message, exc_type: failure.type ?? 'MotionGenerationError' } };
  }
  return { rid: job.rid, status: 'SUCCESS', details: { In: [`prompt.txt`], out: [`${job.rid}.glb`] } };
}
