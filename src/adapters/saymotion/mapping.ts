/**
 * The request mapping: a plan's text segments become text2motion jobs (chunked to the provider's useful
 * duration), with their `params` list built from the prompt, the frames, the samples and the allowed
 * provider knobs; and the provider's status and download answers are read back into what a job needs.
 */
import type { GenerationPlan, PlannedSegment } from '../../spec/plan.js';
import { GatewayError } from '../../spec/errors.js';
import type { Unit } from './checkpoint.js';
import type { DownloadLink, ListedJob, StatusEntry } from './client.js';
import { codesIn } from './errors.js';
import { POSE_MOTION_SECONDS } from '../kit/pose-frame.js';

/** Longest clip asked of SayMotion in one job (its docs offer 1–10 s); longer segments are chunked. */
export const NATIVE_CLIP_SECONDS = 10;
/** Shortest duration the provider is asked for; shorter segments take the start of a 1 s clip. */
const MIN_REQUEST_SECONDS = 1;

/** Provider knobs a request may set in `extensions.saymotion`, with their checks. */
const KNOBS: Record<string, (v: unknown) => string[] | undefined> = {
  footLockingMode: (v) => (typeof v === 'string' && ['auto', 'always', 'never', 'grounding'].includes(v) ? [`footLockingMode=${v}`] : undefined),
  poseFilteringStrength: (v) => (typeof v === 'number' && v >= 0 && v <= 1 ? [`poseFilteringStrength=${v}`] : undefined),
  physicsFilter: (v) => (typeof v === 'boolean' ? (v ? [] : ['dis=s']) : undefined),
  dis: (v) => (v === 's' ? ['dis=s'] : undefined),
  rootAtOrigin: (v) => (v === 0 || v === 1 || typeof v === 'boolean' ? [`rootAtOrigin=${Number(v)}`] : undefined),
  skipFBX: (v) => (v === 0 || v === 1 || typeof v === 'boolean' ? [`skipFBX=${Number(v)}`] : undefined),
};
const ALLOWED_EXTENSIONS = Object.keys(KNOBS);

/**
 * The params the request's knobs add. `post_processing: false` turns SayMotion's foot locking off
 * (`footLockingMode=never`) unless the request chose a mode itself. Unknown or invalid knobs are
 * refused (400) rather than ignored: they are explicit requests for this provider, and a typo should show.
 */
function knobParams(plan: GenerationPlan): string[] {
  const ext = plan.extensions;
  const out: string[] = [];
  for (const [key, value] of Object.entries(ext)) {
    const check: ((v: unknown) => string[] | undefined) | undefined = Object.hasOwn(KNOBS, key) ? KNOBS[key] : undefined;
    const mapped = check?.(value);
    if (!mapped) {
      throw new GatewayError('MG-PRO-007', check ? `extensions.saymotion.${key} has an invalid value.` : `extensions.saymotion.${key} is not a SayMotion option.`, {
        details: { option: `extensions.saymotion.${key}`, allowed: ALLOWED_EXTENSIONS },
      });
    }
    out.push(...mapped);
  }
  if (!plan.postProcessing && ext.footLockingMode === undefined) out.push('footLockingMode=never');
  return out;
}

/** The prompt param, quoted as the official SDKs do, inner quotes and backslashes escaped, controls flattened. */
export function promptParam(text: string): string {
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return `prompt="${flat.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A duration param value: seconds with at most two decimals, never below the provider's minimum. */
export function durationValue(frames: number, fps: number): string {
  const s = Math.max(MIN_REQUEST_SECONDS, frames / fps);
  return String(Math.round(s * 100) / 100);
}

/** Frames of each chunk of a segment: as few chunks as keep each within the useful duration, equal in length. */
export function chunkFrames(seg: Pick<PlannedSegment, 'frames' | 'seconds'>): number[] {
  const n = Math.max(1, Math.ceil(seg.seconds / NATIVE_CLIP_SECONDS - 1e-9));
  const out: number[] = [];
  for (let k = 0; k < n; k++) out.push(Math.round((seg.frames * (k + 1)) / n) - Math.round((seg.frames * k) / n));
  return out;
}

/**
 * The provider jobs of a plan, in segment and chunk order (unconditioned segments need none). A pose
 * segment is one job of POSE_MOTION_SECONDS of its prompt; the answer takes its representative frame
 * (src/adapters/kit/pose-frame.ts).
 */
export function planUnits(plan: GenerationPlan, characterId: string, numVariant: number): Unit[] {
  const knobs = knobParams(plan);
  const units: Unit[] = [];
  for (const seg of plan.segments) {
    if (seg.type === 'pose') {
      const frames = Math.max(2, Math.round(POSE_MOTION_SECONDS * plan.fps));
      units.push({
        segment: seg.index,
        chunk: 0,
        frames,
        params: [promptParam(seg.prompt ?? ''), `model=${characterId}`, `requestedAnimationDuration=${durationValue(frames, plan.fps)}`, `numVariant=${numVariant}`, ...knobs],
        state: 'pending',
      });
      continue;
    }
    if (seg.type !== 'text') continue;
    chunkFrames(seg).forEach((frames, chunk) => {
      units.push({
        segment: seg.index,
        chunk,
        frames,
        params: [promptParam(seg.prompt ?? ''), `model=${characterId}`, `requestedAnimationDuration=${durationValue(frames, plan.fps)}`, `numVariant=${numVariant}`, ...knobs],
        state: 'pending',
      });
    });
  }
  return units;
}

/** What one status entry means for the job. */
export type Reading =
  | { kind: 'running'; progress?: number; positionInQueue?: number; retrying?: boolean }
  | { kind: 'succeeded' }
  | { kind: 'failed'; code?: number; message?: string; revoked?: boolean };

/** Reads a status entry: step/total clamped below 1 (step may exceed total), FAILURE codes in any of their formats. */
export function readStatus(e: StatusEntry): Reading {
  const d = e.details ?? {};
  switch (e.status) {
    case 'SUCCESS':
      return { kind: 'succeeded' };
    case 'FAILURE': {
      const raw = d.exc_message;
      const code = codesIn(raw)[0];
      const message = typeof raw === 'string' ? raw : raw === undefined ? undefined : JSON.stringify(raw);
      return { kind: 'failed', code, message: [typeof d.exc_type === 'string' ? d.exc_type : undefined, message].filter(Boolean).join(': ') || undefined };
    }
    case 'REVOKED':
    case 'CANCELLED':
    case 'CANCELED':
      return { kind: 'failed', revoked: true, message: e.status };
    default: {
      // PROGRESS, RETRY, STARTING and anything new: still running.
      const step = Number(d.step);
      const total = Number(d.total);
      const progress = Number.isFinite(step) && Number.isFinite(total) && total > 0 ? Math.min(0.99, Math.max(0, step / total)) : undefined;
      const queued = e.positionInQueue !== undefined && e.positionInQueue > 0 ? e.positionInQueue : undefined;
      return { kind: 'running', progress: queued ? 0 : progress, positionInQueue: queued, retrying: e.status === 'RETRY' };
    }
  }
}

/**
 * The GLB of a download link: the first url group whose name does not start with `inter` (intermediate
 * results) that has a `glb` file. Undefined when the link has none.
 */
export function glbUrl(link: DownloadLink): string | undefined {
  for (const group of link.urls ?? []) {
    if (/^inter/i.test(group.name)) continue;
    for (const file of group.files) if (typeof file.glb === 'string' && file.glb) return file.glb;
  }
  return undefined;
}

/** Params as a key → value map, from our own list or from whatever form the job list echoes them in. */
function paramsMap(value: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const unquote = (v: string): string => {
    const t = v.trim();
    return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).replace(/\\(["\\])/g, '$1') : t;
  };
  if (typeof value === 'string') {
    try {
      return paramsMap(JSON.parse(value));
    } catch {
      return out;
    }
  }
  if (Array.isArray(value)) {
    for (const p of value) {
      if (typeof p !== 'string') continue;
      const i = p.indexOf('=');
      if (i > 0) out.set(p.slice(0, i), unquote(p.slice(i + 1)));
    }
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (v !== null && typeof v !== 'object') out.set(k, unquote(String(v)));
  }
  return out;
}

/** Whether a listed job is the one these params would create (prompt and model must match; numbers compare as numbers). */
export function sameRequest(ours: readonly string[], listed: unknown): boolean {
  const a = paramsMap(ours);
  const b = paramsMap(listed);
  if (!b.has('prompt') || a.get('prompt') !== b.get('prompt')) return false;
  for (const key of ['model', 'numVariant', 'requestedAnimationDuration']) {
    if (!b.has(key)) continue;
    const x = a.get(key);
    const y = b.get(key);
    if (x === y) continue;
    if (x === undefined || y === undefined || Number(x) !== Number(y)) return false;
  }
  return true;
}

/**
 * The job a submission created, found in the job list: a text2motion job with the same request, created
 * no earlier than `since` (less a clock-skew allowance), not already claimed by another of our jobs; the
 * earliest such.
 */
export function findSubmitted(list: readonly ListedJob[], params: readonly string[], since: number, claimed: (rid: string) => boolean, skewMs = 120_000): string | undefined {
  return submissionsLike(list, params, since, skewMs).find((rid) => !claimed(rid));
}

/** The rids of text2motion jobs with the same request created no earlier than `since` (less the skew), earliest first. */
export function submissionsLike(list: readonly ListedJob[], params: readonly string[], since: number, skewMs = 120_000): string[] {
  return list
    .filter((j) => j.rid && (!j.processor || j.processor === 'text2motion'))
    .filter((j) => j.ctime === undefined || j.ctime >= since - skewMs)
    .filter((j) => sameRequest(params, j.parameters))
    .sort((x, y) => (x.ctime ?? 0) - (y.ctime ?? 0))
    .map((j) => j.rid);
}
