/** The client's one error type: an answer of the gateway's error envelope (or a transport failure), with what a caller acts on. */
import type { ErrorEnvelope } from '../spec/wire.js';

/** MMCP codes worth retrying after Retry-After (mmcp.md, Errors). */
const RETRYABLE_CODES = new Set(['rate_limited', 'resource_exhausted', 'model_unavailable', 'timeout']);

export class MotionGatewayError extends Error {
  override readonly name = 'MotionGatewayError';
  /** HTTP status; 0 when no answer arrived (network failure). */
  readonly status: number;
  /** MMCP `error.code` (clients must accept codes they do not know); `network_error` without an answer. */
  readonly code: string;
  /** The gateway's `detail.error_code` (e.g. MG-REQ-001), what a support ticket quotes. */
  readonly errorCode: string | null;
  /** What the caller can do about it (`detail.action`). */
  readonly action: string | null;
  readonly details: Record<string, unknown> | null;
  readonly retryable: boolean;
  /** Seconds from Retry-After (or `details.retry_after_s`), when the gateway said. */
  readonly retryAfterS: number | null;
  readonly requestId: string | null;
  /** The envelope as answered, when there was one. */
  readonly envelope: ErrorEnvelope | null;

  constructor(init: { status: number; code: string; message: string; errorCode?: string | null; action?: string | null; details?: Record<string, unknown> | null; retryAfterS?: number | null; requestId?: string | null; envelope?: ErrorEnvelope | null; cause?: unknown }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.errorCode = init.errorCode ?? null;
    this.action = init.action ?? null;
    this.details = init.details ?? null;
    this.retryAfterS = init.retryAfterS ?? null;
    this.requestId = init.requestId ?? null;
    this.envelope = init.envelope ?? null;
    this.retryable = init.status === 0 || init.status === 429 || init.status === 503 || init.status === 504 || RETRYABLE_CODES.has(init.code);
  }
}

/** Seconds of a Retry-After header (delta-seconds or an HTTP date), or null. */
export function retryAfterOf(headers: Headers): number | null {
  const v = headers.get('retry-after');
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

const isObj = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);

/** The error of a non-2xx answer: its envelope read when it is one, else a generic error naming the status. */
export async function errorFromResponse(res: Response): Promise<MotionGatewayError> {
  const text = await res.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return errorFromEnvelope(res.status, body, res.headers);
}

/** A typed error from an envelope (as answered, or inside a job status); `headers` give Retry-After and X-Request-ID. */
export function errorFromEnvelope(status: number, body: unknown, headers?: Headers): MotionGatewayError {
  const requestId = headers?.get('x-request-id') ?? null;
  const headerRetry = headers ? retryAfterOf(headers) : null;
  const err = isObj(body) && isObj(body.error) ? body.error : null;
  const detail = isObj(body) && isObj(body.detail) ? body.detail : null;
  if (!err) return new MotionGatewayError({ status, code: status >= 500 ? 'internal_error' : 'http_error', message: `The gateway answered HTTP ${status}.`, retryAfterS: headerRetry, requestId });
  const details = isObj(err.details) ? err.details : null;
  const detailRetry = typeof details?.retry_after_s === 'number' ? details.retry_after_s : null;
  return new MotionGatewayError({
    status,
    code: typeof err.code === 'string' ? err.code : 'unknown',
    message: typeof err.message === 'string' ? err.message : `The gateway answered HTTP ${status}.`,
    errorCode: typeof detail?.error_code === 'string' ? detail.error_code : null,
    action: typeof detail?.action === 'string' ? detail.action : null,
    details,
    retryAfterS: headerRetry ?? detailRetry,
    requestId,
    envelope: detail ? (body as unknown as ErrorEnvelope) : null,
  });
}
