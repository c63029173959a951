/**
 * The one table that turns what SayMotion says went wrong (a code of its error table, an HTTP status, a
 * transport failure, or a job that went astray) into an error of the gateway's catalogue, keeping the
 * provider's origin in `details`.
 */
import { GatewayError, asGatewayError, type ErrorId } from '../../spec/errors.js';
import { ProviderCallError, sanitizeProviderText } from '../kit/errors.js';

export const PROVIDER = 'saymotion';

/** Failures the adapter itself detects (no code, no HTTP status to go by). */
type AdapterFailure =
  | 'network'
  | 'timeout'
  | 'parse'
  | 'too_large'
  | 'refused'
  | 'job_failed'
  | 'job_revoked'
  | 'job_timeout'
  | 'job_gone'
  | 'no_result_file'
  | 'download_refused'
  | 'file_unavailable';

type ErrorMatch = { code: number } | { http: number | '4xx' | '5xx' } | { failure: AdapterFailure };

export interface ErrorRow {
  match: ErrorMatch;
  id: ErrorId;
  /** What the provider meant (from its docs), shown in the message. */
  meaning: string;
  /** An action more specific than the catalogue's. */
  action?: string;
}

const codes = (list: number[], id: ErrorId, meaning: string, action?: string): ErrorRow[] => list.map((code) => ({ match: { code }, id, meaning, action }));

/** Every row, first match wins: SayMotion codes, then HTTP statuses, then status classes, then failures. */
export const ERROR_TABLE: readonly ErrorRow[] = [
  // SayMotion's error codes (its docs' table). Render codes cannot come from text2motion, but a
  // provider that answers them anyway still gets a precise envelope.
  ...codes([101], 'MG-PRV-402', 'not enough credit'),
  ...codes([494], 'MG-PRV-400', 'invalid pipeline input'),
  ...codes([498], 'MG-PRV-500', 'unknown pipeline error'),
  ...codes([501], 'MG-PRV-500', 'error while generating motion'),
  ...codes([502], 'MG-PRV-400', 'error parsing motion generation parameters', 'Check extensions.saymotion and the prompt; error.details.provider_message says why.'),
  ...codes([599], 'MG-PRV-504', 'motion generation timeout'),
  ...codes([603, 604, 607, 610], 'MG-PRV-500', 'pose tracking error'),
  ...codes([605], 'MG-PRV-400', 'the physics filter is incompatible with the character', 'Turn the physics filter off with extensions.saymotion.physicsFilter = false.'),
  ...codes([699], 'MG-PRV-504', 'pose tracking timeout'),
  ...codes([799], 'MG-PRV-504', 'pose correction timeout'),
  ...codes([899], 'MG-PRV-504', 'BVH export timeout'),
  ...codes([999], 'MG-PRV-504', 'animation baking timeout'),
  ...codes([703, 704, 710], 'MG-PRV-500', 'pose correction error'),
  ...codes([803, 804, 810], 'MG-PRV-500', 'BVH export error'),
  ...codes([901], 'MG-PRV-412', 'custom character error: mesh'),
  ...codes([902], 'MG-PRV-412', 'custom character error: BVH'),
  ...codes([903], 'MG-PRV-412', 'custom character error: copying the animation'),
  ...codes([904], 'MG-PRV-412', 'custom character error: exporting the animation'),
  ...codes([905], 'MG-PRV-412', 'custom character error: no skin'),
  ...codes([906], 'MG-PRV-412', 'custom character error: blendshapes'),
  ...codes([907], 'MG-PRV-412', 'custom character error: face data'),
  ...codes([908], 'MG-PRV-412', 'custom character error: metadata'),
  ...codes([909], 'MG-PRV-412', 'custom character error'),
  ...codes([1101], 'MG-PRV-504', 'render process stuck'),
  ...codes([1102], 'MG-PRV-400', 'invalid render input parameter'),
  ...codes([1105], 'MG-PRV-500', 'render: could not load the character'),
  ...codes([1106], 'MG-PRV-500', 'render: could not attach the animation'),
  ...codes([1107], 'MG-PRV-500', 'render: could not configure the backdrop'),

  // HTTP answers (after the gateway's own retries, and after one fresh login for 401/403).
  { match: { http: 400 }, id: 'MG-PRV-400', meaning: 'the request was refused' },
  { match: { http: 401 }, id: 'MG-PRV-401', meaning: 'the credentials or the session were refused' },
  { match: { http: 402 }, id: 'MG-PRV-402', meaning: 'payment required' },
  { match: { http: 403 }, id: 'MG-PRV-401', meaning: 'access was refused' },
  { match: { http: 404 }, id: 'MG-PRV-410', meaning: 'the job or result is unknown' },
  { match: { http: 408 }, id: 'MG-PRV-504', meaning: 'the provider timed out' },
  { match: { http: 409 }, id: 'MG-PRV-400', meaning: 'conflict' },
  { match: { http: 410 }, id: 'MG-PRV-410', meaning: 'the result is gone' },
  { match: { http: 413 }, id: 'MG-PRV-400', meaning: 'the request is too large' },
  { match: { http: 422 }, id: 'MG-PRV-400', meaning: 'the request could not be processed' },
  { match: { http: 429 }, id: 'MG-PRV-429', meaning: 'too many requests' },
  { match: { http: 500 }, id: 'MG-PRV-500', meaning: 'internal error' },
  { match: { http: 502 }, id: 'MG-PRV-503', meaning: 'bad gateway' },
  { match: { http: 503 }, id: 'MG-PRV-503', meaning: 'service unavailable' },
  { match: { http: 504 }, id: 'MG-PRV-504', meaning: 'gateway timeout' },
  { match: { http: '4xx' }, id: 'MG-PRV-400', meaning: 'the request was refused' },
  { match: { http: '5xx' }, id: 'MG-PRV-500', meaning: 'server error' },

  // What the adapter observes itself.
  { match: { failure: 'network' }, id: 'MG-PRV-503', meaning: 'the provider could not be reached' },
  { match: { failure: 'timeout' }, id: 'MG-PRV-504', meaning: 'the provider did not answer in time' },
  { match: { failure: 'parse' }, id: 'MG-PRV-502', meaning: 'the answer could not be read' },
  { match: { failure: 'too_large' }, id: 'MG-PRV-502', meaning: 'the result file is larger than the gateway accepts' },
  { match: { failure: 'refused' }, id: 'MG-PRV-403', meaning: 'a result file URL points at a host the gateway does not fetch from' },
  { match: { failure: 'job_failed' }, id: 'MG-PRV-500', meaning: 'the job failed' },
  { match: { failure: 'job_revoked' }, id: 'MG-PRV-500', meaning: 'the job was cancelled at the provider' },
  { match: { failure: 'job_timeout' }, id: 'MG-PRV-504', meaning: 'the job did not finish within the configured time' },
  { match: { failure: 'job_gone' }, id: 'MG-PRV-410', meaning: 'the provider no longer lists the job' },
  { match: { failure: 'no_result_file' }, id: 'MG-PRV-502', meaning: 'the result has no GLB file' },
  { match: { failure: 'download_refused' }, id: 'MG-PRV-402', meaning: 'the variant may not be downloaded (balance too low)' },
  { match: { failure: 'file_unavailable' }, id: 'MG-PRV-410', meaning: 'the result file could not be fetched, even from a fresh link' },
];

/** What went wrong, as far as the table cares. */
export interface Fault {
  code?: number;
  status?: number;
  failure?: AdapterFailure;
  /** The provider's own words (sanitized before use). */
  message?: string;
  rid?: string;
  retryAfterMs?: number;
}

/** The row for a fault: its code if the table knows it, else the failure the adapter saw, else its HTTP status or class. */
export function rowFor(fault: Fault): ErrorRow {
  const byCode = fault.code === undefined ? undefined : ERROR_TABLE.find((r) => 'code' in r.match && r.match.code === fault.code);
  if (byCode) return byCode;
  const byFailure = fault.failure === undefined ? undefined : ERROR_TABLE.find((r) => 'failure' in r.match && r.match.failure === fault.failure);
  if (byFailure) return byFailure;
  if (fault.status !== undefined) {
    const cls = fault.status >= 500 ? '5xx' : fault.status >= 400 ? '4xx' : undefined;
    const byStatus = ERROR_TABLE.find((r) => 'http' in r.match && r.match.http === fault.status) ?? ERROR_TABLE.find((r) => 'http' in r.match && r.match.http === cls);
    if (byStatus) return byStatus;
  }
  const failure = fault.failure ?? 'job_failed';
  return ERROR_TABLE.find((r) => 'failure' in r.match && r.match.failure === failure)!;
}

/** The catalogue error of a fault, with the provider's origin in `details`. */
export function sayMotionError(fault: Fault, cause?: unknown): GatewayError {
  const row = rowFor(fault);
  const details: Record<string, unknown> = { provider: PROVIDER };
  if (fault.status !== undefined) details.provider_status = fault.status;
  if (fault.code !== undefined) details.provider_code = fault.code;
  if (fault.message) details.provider_message = sanitizeProviderText(fault.message);
  if (fault.rid) details.provider_job_id = fault.rid;
  const retryAfterS = fault.retryAfterMs !== undefined ? Math.max(1, Math.ceil(fault.retryAfterMs / 1000)) : undefined;
  if (retryAfterS !== undefined && (row.id === 'MG-PRV-429' || row.id === 'MG-PRV-503')) details.retry_after_s = retryAfterS;
  return new GatewayError(row.id, `SayMotion: ${row.meaning}${fault.code !== undefined ? ` (code ${fault.code})` : ''}.`, {
    details,
    retryAfterS,
    action: row.action,
    cause,
  });
}

/**
 * SayMotion codes in a value the provider sent: a number, a numeric string (`"101"`), a list (`["101"]`)
 * or its Python repr (`"['101']"`), or English text about credits (the one code text is known to carry).
 */
export function codesIn(value: unknown): number[] {
  if (typeof value === 'number' && Number.isInteger(value)) return [value];
  if (Array.isArray(value)) return value.flatMap(codesIn);
  if (typeof value !== 'string') return [];
  const t = value.trim();
  if (/^\d{3,4}$/.test(t)) return [Number(t)];
  if (/^\[[\s\d'",]*\]$/.test(t)) return [...t.matchAll(/\d{3,4}/g)].map((m) => Number(m[0]));
  if (/\b(not enough|insufficient)\b[^.]*\bcredit/i.test(t)) return [101];
  return [];
}

/** The SayMotion code in an HTTP error body, ignoring a `code` that merely repeats the HTTP status. */
export function codeInBody(body: unknown, status?: number): number | undefined {
  if (!body || typeof body !== 'object') return codesIn(body)[0];
  const b = body as Record<string, unknown>;
  const nested = b.error && typeof b.error === 'object' ? (b.error as Record<string, unknown>) : {};
  for (const v of [b.code, b.errorCode, b.error_code, nested.code, b.exc_message, b.message, b.error, nested.message]) {
    const found = codesIn(v).find((c) => c !== status);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A failed call as a fault: its status, the SayMotion code its body carries, its Retry-After. */
function faultOfCall(err: ProviderCallError, rid?: string): Fault {
  if (err.kind !== 'http') return { failure: err.kind, message: err.providerMessage, rid, status: err.status };
  return { status: err.status, code: codeInBody(err.body, err.status), message: err.providerMessage, rid, retryAfterMs: err.retryAfterMs };
}

/** Whether a 401/403 answer is about the session (and worth a fresh login) rather than a coded refusal such as 101. */
export function isSessionRefusal(err: unknown): boolean {
  return err instanceof ProviderCallError && err.kind === 'http' && (err.status === 401 || err.status === 403) && codeInBody(err.body, err.status) === undefined;
}

/** Any failure of a SayMotion call as a GatewayError (GatewayErrors pass through; bugs stay MG-SRV-001). */
export function toGatewayError(err: unknown, rid?: string): GatewayError {
  if (err instanceof ProviderCallError) return sayMotionError(faultOfCall(err, rid), err);
  return asGatewayError(err);
}
