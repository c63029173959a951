/**
 * The one table that turns every way a Meshy call or task can fail (HTTP status, transport failure,
 * FAILED/CANCELED task with its `task_error.type`/`code`) into an error of the gateway's catalogue, with
 * the provider's origin kept in `details`. First matching row wins; a test walks every row.
 */
import { ProviderCallError, sanitizeProviderText, type ProviderFailureKind } from '../kit/errors.js';
import { GatewayError, type ErrorId } from '../../spec/errors.js';

/** What the adapter was doing when the failure happened. */
type MeshyStage = 'rig' | 'animate' | 'poll' | 'download' | 'cancel';

/** A failure as Meshy reported it (or as the transport saw it). */
export interface MeshyFailure {
  stage: MeshyStage;
  /** HTTP status of a refused call. */
  status?: number;
  /** Transport failure of a call that got no usable answer. */
  kind?: Exclude<ProviderFailureKind, 'http'>;
  /** A task that ended without result. */
  taskStatus?: 'FAILED' | 'CANCELED';
  type?: string;
  code?: string;
  message?: string;
  taskId?: string;
  retryAfterMs?: number;
}

interface ErrorRule {
  /** A short name of the case (the walking test has one scenario per name). */
  case: string;
  matches(f: MeshyFailure): boolean;
  error: ErrorId;
  /** Our message (user-safe); the provider's own goes into details.provider_message. */
  message: string;
  /** A FAILED task of this kind may be submitted again (Meshy refunds failed tasks). */
  resubmit?: boolean;
  /**
   * The failure is about the configured character (its file, its shape, its height): rigging it again
   * would fail the same way, so it is remembered for a while. Any other rigging failure is not.
   */
  aboutCharacter?: boolean;
}

const failed = (f: MeshyFailure) => f.taskStatus === 'FAILED';
const is = (v: string | undefined, ...names: string[]) => v !== undefined && names.includes(v.toLowerCase());
/** Meshy's 400s about what it was asked to rig (seen: "Invalid model file extension: .fbx", "too many faces", "Failed to download the model", "Invalid height_meters"). */
const aboutModel = (f: MeshyFailure) => /model|\.glb|\bglb\b|file|extension|faces|mesh|texture|height|pose|humanoid|character|download/i.test(f.message ?? '');
/** Meshy's 400s about the gateway's credentials. */
const aboutKey = (f: MeshyFailure) => /api[ _-]?key|authori[sz]|bearer|token|credential/i.test(f.message ?? '');

export const MESHY_ERROR_TABLE: readonly ErrorRule[] = [
  // Tasks that ended without a result.
  { case: 'task moderation_blocked', matches: (f) => failed(f) && is(f.code, 'moderation_blocked'), error: 'MG-PRV-451', message: 'Meshy refused this content.' },
  { case: 'rig task invalid_input', matches: (f) => failed(f) && f.stage === 'rig' && (is(f.type, 'invalid_input') || is(f.code, 'invalid_input')), error: 'MG-PRV-422', message: 'Meshy could not rig the configured character.', aboutCharacter: true },
  { case: 'task format_conversion_failed', matches: (f) => failed(f) && is(f.code, 'format_conversion_failed'), error: 'MG-PRV-500', message: 'Meshy failed to convert the animation.' },
  { case: 'task invalid_input', matches: (f) => failed(f) && (is(f.type, 'invalid_input') || is(f.code, 'invalid_input')), error: 'MG-PRV-400', message: 'Meshy could not animate this request.' },
  { case: 'task timeout', matches: (f) => failed(f) && (is(f.type, 'timeout') || is(f.code, 'timeout')), error: 'MG-PRV-504', message: 'Meshy did not finish the animation in time.', resubmit: true },
  { case: 'task service_unavailable', matches: (f) => failed(f) && is(f.type, 'service_unavailable'), error: 'MG-PRV-503', message: 'Meshy is temporarily unavailable.', resubmit: true },
  { case: 'task server_error', matches: (f) => failed(f) && is(f.type, 'server_error'), error: 'MG-PRV-500', message: 'Meshy failed to generate the animation.', resubmit: true },
  { case: 'task failed (other)', matches: failed, error: 'MG-PRV-500', message: 'Meshy failed to generate the animation.' },
  { case: 'task canceled', matches: (f) => f.taskStatus === 'CANCELED', error: 'MG-PRV-500', message: 'Meshy cancelled the task.' },

  // Refused calls.
  { case: 'http 400 rigging', matches: (f) => f.status === 400 && f.stage === 'rig' && aboutModel(f) && !aboutKey(f), error: 'MG-PRV-422', message: 'Meshy refused the configured character for rigging.', aboutCharacter: true },
  { case: 'http 400 rigging key', matches: (f) => f.status === 400 && f.stage === 'rig' && aboutKey(f), error: 'MG-PRV-401', message: 'Meshy refused the gateway\'s API key.' },
  { case: 'http 400 rigging other', matches: (f) => f.status === 400 && f.stage === 'rig', error: 'MG-PRV-503', message: 'Meshy refused the gateway\'s rigging request (not because of the character).' },
  { case: 'http 400', matches: (f) => f.status === 400, error: 'MG-PRV-400', message: 'Meshy refused the animation request.' },
  { case: 'http 401', matches: (f) => f.status === 401, error: 'MG-PRV-401', message: 'Meshy refused the gateway\'s API key.' },
  { case: 'http 402', matches: (f) => f.status === 402, error: 'MG-PRV-402', message: 'The Meshy account has no credits left.' },
  { case: 'http 403/404/410 asset', matches: (f) => f.stage === 'download' && (f.status === 403 || f.status === 404 || f.status === 410), error: 'MG-PRV-410', message: 'Meshy no longer serves the animation file (its signed link expired).' },
  { case: 'http 403', matches: (f) => f.status === 403, error: 'MG-PRV-401', message: 'Meshy refused the gateway\'s request (forbidden).' },
  { case: 'http 404', matches: (f) => f.status === 404, error: 'MG-PRV-410', message: 'Meshy no longer knows this task.' },
  { case: 'http 422', matches: (f) => f.status === 422, error: 'MG-PRV-422', message: 'Meshy could not rig the configured character (pose estimation failed: not a humanoid?).', aboutCharacter: true },
  { case: 'http 429', matches: (f) => f.status === 429, error: 'MG-PRV-429', message: 'Meshy is rate-limiting this gateway.' },
  { case: 'http 500', matches: (f) => f.status === 500, error: 'MG-PRV-500', message: 'Meshy failed internally.' },
  { case: 'http 502/503/504', matches: (f) => f.status === 502 || f.status === 503 || f.status === 504, error: 'MG-PRV-503', message: 'Meshy is temporarily unavailable.' },
  { case: 'http other 4xx', matches: (f) => f.status !== undefined && f.status >= 400 && f.status < 500, error: 'MG-PRV-400', message: 'Meshy refused the request.' },
  { case: 'http other 5xx', matches: (f) => f.status !== undefined && f.status >= 500, error: 'MG-PRV-503', message: 'Meshy is temporarily unavailable.' },

  // No usable answer.
  { case: 'transport timeout', matches: (f) => f.kind === 'timeout', error: 'MG-PRV-504', message: 'Meshy did not answer in time.' },
  { case: 'transport network', matches: (f) => f.kind === 'network', error: 'MG-PRV-503', message: 'Meshy could not be reached.' },
  { case: 'unreadable answer', matches: (f) => f.kind === 'parse', error: 'MG-PRV-502', message: 'Meshy answered something the gateway could not read.' },
  { case: 'file too large', matches: (f) => f.kind === 'too_large', error: 'MG-PRV-502', message: 'Meshy\'s animation file is larger than the gateway accepts.' },
  { case: 'file host refused', matches: (f) => f.kind === 'refused', error: 'MG-PRV-403', message: 'Meshy pointed the gateway at a file host it does not fetch from.' },
];

const FALLBACK: ErrorRule = { case: 'unknown', matches: () => true, error: 'MG-PRV-502', message: 'Meshy failed in a way the gateway does not understand.' };

/** The table row a failure falls under. */
export function ruleFor(f: MeshyFailure): ErrorRule {
  return MESHY_ERROR_TABLE.find((r) => r.matches(f)) ?? FALLBACK;
}

/** The catalogue error for a Meshy failure, its origin in `details`. */
export function meshyError(f: MeshyFailure): GatewayError {
  const rule = ruleFor(f);
  const details: Record<string, unknown> = { provider: 'meshy', stage: f.stage };
  if (f.status !== undefined) details.provider_status = f.status;
  if (f.taskStatus) details.provider_task_status = f.taskStatus;
  // Meshy refunds a FAILED task (consumed_credits 0): a route may hand the job to its next target.
  if (f.taskStatus === 'FAILED') details.provider_charged = false;
  const code = f.code ?? f.type;
  if (code) details.provider_code = sanitizeProviderText(code);
  if (f.message) details.provider_message = sanitizeProviderText(f.message);
  if (f.taskId) details.provider_job_id = f.taskId;
  let retryAfterS: number | undefined;
  if (f.retryAfterMs !== undefined) retryAfterS = Math.max(1, Math.ceil(f.retryAfterMs / 1000));
  if (retryAfterS !== undefined && rule.error === 'MG-PRV-429') details.retry_after_s = retryAfterS;
  return new GatewayError(rule.error, rule.message, { details, retryAfterS });
}

/** A failed call as a MeshyFailure. */
export function failureOfCall(err: ProviderCallError, stage: MeshyStage, taskId?: string): MeshyFailure {
  const body = err.body && typeof err.body === 'object' ? (err.body as Record<string, unknown>) : {};
  return {
    stage,
    status: err.kind === 'http' ? err.status : undefined,
    kind: err.kind === 'http' ? undefined : err.kind,
    code: typeof body.code === 'string' ? body.code : undefined,
    message: err.providerMessage,
    taskId,
    retryAfterMs: err.retryAfterMs,
  };
}

/** Any error thrown while talking to Meshy, as a GatewayError (aborts and GatewayErrors pass through). */
export function asMeshyError(err: unknown, stage: MeshyStage, taskId?: string): unknown {
  if (err instanceof ProviderCallError) return meshyError(failureOfCall(err, stage, taskId));
  return err;
}

/** Meshy's 429 when the account's queue of tasks is full (as opposed to the request rate). */
export function isQueueFull(err: unknown): boolean {
  return err instanceof ProviderCallError && err.status === 429 && /NoMoreConcurrentTasks|concurrent/i.test(err.providerMessage ?? '');
}

/** Meshy's answer to an animation request on a rig task it no longer accepts (gone, expired, never succeeded). */
export function isRigRefused(err: unknown): boolean {
  if (!(err instanceof ProviderCallError) || err.kind !== 'http') return false;
  if (err.status === 404 || err.status === 410) return true;
  return err.status === 400 && /rig/i.test(err.providerMessage ?? '');
}
