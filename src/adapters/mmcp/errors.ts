/**
 * The one table that turns what an upstream MMCP server answered (its error envelope and HTTP status, or
 * a transport failure) into an error of the gateway's catalogue, keeping the upstream's own error in
 * `details.upstream` and its origin in `details.provider*`.
 */
import { GatewayError, asGatewayError, type ErrorId } from '../../spec/errors.js';
import { ProviderCallError, sanitizeProviderText, type ProviderFailureKind } from '../kit/errors.js';

interface Row {
  id: ErrorId;
  meaning: string;
}

/** By HTTP status; first the codes whose meaning depends on the upstream's `error.code`. */
function rowForStatus(status: number, code: string | undefined, polling: boolean): Row {
  if (status === 503 && code === 'resource_exhausted') return { id: 'MG-PRV-429', meaning: 'the upstream is at capacity' };
  if (status === 401 || status === 403) return { id: 'MG-PRV-401', meaning: 'the upstream refused the gateway\'s API key' };
  if (status === 402) return { id: 'MG-PRV-402', meaning: 'the upstream account has no credits left' };
  // A poll's 404 is an expired or forgotten job; a POST's is a wrong base URL.
  if (status === 404) return polling ? { id: 'MG-PRV-410', meaning: 'the upstream no longer has this job' } : { id: 'MG-PRV-503', meaning: 'the upstream has no /generate endpoint (check base_url)' };
  if (status === 410) return { id: 'MG-PRV-500', meaning: 'the upstream job was cancelled' };
  if (status === 408 || status === 504) return { id: 'MG-PRV-504', meaning: 'the upstream timed out' };
  if (status === 429) return { id: 'MG-PRV-429', meaning: 'the upstream is rate-limiting this gateway' };
  if (status === 502 || status === 503) return { id: 'MG-PRV-503', meaning: 'the upstream is unavailable' };
  // 400, 413, 422 and any other 4xx: the request as forwarded was refused (the caller's to change).
  if (status >= 400 && status < 500) return { id: 'MG-PRV-400', meaning: 'the upstream refused the request' };
  return { id: 'MG-PRV-500', meaning: 'the upstream failed' };
}

const FAILURES: Record<Exclude<ProviderFailureKind, 'http'>, Row> = {
  network: { id: 'MG-PRV-503', meaning: 'the upstream could not be reached' },
  timeout: { id: 'MG-PRV-504', meaning: 'the upstream did not answer in time' },
  parse: { id: 'MG-PRV-502', meaning: 'the upstream\'s answer could not be read' },
  too_large: { id: 'MG-PRV-502', meaning: 'the upstream\'s answer is larger than the gateway accepts' },
  refused: { id: 'MG-PRV-403', meaning: 'the upstream pointed the gateway at another origin' },
};

/** The upstream's MMCP error envelope in an error body, when it sent one. */
export function upstreamEnvelope(body: unknown): { code?: string; message?: string; errorCode?: string } | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const err = (body as { error?: unknown }).error;
  if (!err || typeof err !== 'object') return undefined;
  const e = err as Record<string, unknown>;
  const detail = (body as { detail?: unknown }).detail;
  const errorCode = detail && typeof detail === 'object' ? (detail as Record<string, unknown>).error_code : undefined;
  return {
    code: typeof e.code === 'string' ? e.code.slice(0, 64) : undefined,
    message: typeof e.message === 'string' ? sanitizeProviderText(e.message) : undefined,
    errorCode: typeof errorCode === 'string' ? errorCode.slice(0, 64) : undefined,
  };
}

/**
 * A failed call to an upstream as a catalogue error. The caller's faults (400/422) carry the upstream's
 * own message, which MMCP servers write for end users; everything else says what the upstream did.
 */
function upstreamError(provider: string, err: ProviderCallError, opts: { polling?: boolean; jobId?: string } = {}): GatewayError {
  const env = err.kind === 'http' ? upstreamEnvelope(err.body) : undefined;
  const row = err.kind === 'http' && err.status !== undefined ? rowForStatus(err.status, env?.code, opts.polling ?? false) : FAILURES[err.kind as Exclude<ProviderFailureKind, 'http'>] ?? FAILURES.network;
  const details: Record<string, unknown> = { provider };
  if (err.status !== undefined) details.provider_status = err.status;
  if (env?.code) details.provider_code = env.code;
  const message = env?.message ?? err.providerMessage;
  if (message) details.provider_message = message;
  if (opts.jobId) details.provider_job_id = opts.jobId;
  if (env) details.upstream = { code: env.code ?? null, message: env.message ?? null, ...(env.errorCode ? { error_code: env.errorCode } : {}) };
  const retryAfterS = err.retryAfterMs !== undefined ? Math.max(1, Math.ceil(err.retryAfterMs / 1000)) : undefined;
  if (retryAfterS !== undefined && (row.id === 'MG-PRV-429' || row.id === 'MG-PRV-503')) details.retry_after_s = retryAfterS;
  const text = row.id === 'MG-PRV-400' && env?.message ? `${provider}: ${env.message}` : `${provider}: ${row.meaning}${env?.message ? ` (${env.message})` : ''}.`;
  return new GatewayError(row.id, text, { details, retryAfterS, cause: err });
}

/** Any failure of an upstream call as a GatewayError (GatewayErrors pass through; bugs stay MG-SRV-001). */
export function toGatewayError(provider: string, err: unknown, opts: { polling?: boolean; jobId?: string } = {}): GatewayError {
  if (err instanceof ProviderCallError) return upstreamError(provider, err, opts);
  return asGatewayError(err);
}
