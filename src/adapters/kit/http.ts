/**
 * Shared HTTP plumbing of the provider adapters: JSON calls, Retry-After parsing, retries, and capped,
 * guarded downloads (no credentials, no redirects, only hosts the egress policy allows). Errors are made
 * with the adapter's secrets already redacted from what the provider said.
 */
import pRetry, { AbortError } from 'p-retry';
import { request, type Dispatcher } from 'undici';
import { systemClock, type Clock } from '../../spec/clock.js';
import { AssetEgress, egressRefusalIn } from './egress.js';
import { ProviderCallError, sanitizeProviderText } from './errors.js';
import type { Secrets } from './redact.js';

export interface JsonCall {
  provider: string;
  method: 'GET' | 'POST' | 'DELETE' | 'PUT';
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  signal?: AbortSignal;
  timeoutMs?: number;
  dispatcher?: Dispatcher;
  /** Reads date-form Retry-After headers (default: the system clock). */
  clock?: Clock;
  /** Redacted from the provider's message and body of an error answer. */
  secrets?: Secrets;
}

export interface JsonAnswer<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

/** Milliseconds a provider asks us to wait, from `retry-after-ms` or `retry-after` (seconds or a date). */
export function retryAfterMs(headers: Record<string, string | string[] | undefined>, now = Date.now()): number | undefined {
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const ms = one(headers['retry-after-ms']);
  if (ms && /^\d+(\.\d+)?$/.test(ms.trim())) return Number(ms);
  const ra = one(headers['retry-after']);
  if (!ra) return undefined;
  if (/^\d+(\.\d+)?$/.test(ra.trim())) return Number(ra) * 1000;
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function endpointOf(method: string, url: string): string {
  try {
    return `${method} ${new URL(url).pathname}`;
  } catch {
    return method;
  }
}

function messageOf(body: unknown, text: string): string | undefined {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    const m = b.message ?? b.error ?? b.detail;
    if (typeof m === 'string') return sanitizeProviderText(m);
    if (m && typeof m === 'object' && typeof (m as Record<string, unknown>).message === 'string') {
      return sanitizeProviderText((m as Record<string, string>).message);
    }
  }
  return text ? sanitizeProviderText(text) : undefined;
}

/** One JSON call. Non-2xx answers, network failures, timeouts and unparsable bodies throw ProviderCallError. */
export async function callJson<T = unknown>(call: JsonCall): Promise<JsonAnswer<T>> {
  const endpoint = endpointOf(call.method, call.url);
  const headers: Record<string, string> = { accept: 'application/json', ...call.headers };
  let payload: string | undefined;
  if (call.body !== undefined) {
    payload = JSON.stringify(call.body);
    headers['content-type'] ??= 'application/json';
  }
  const timeout = call.timeoutMs ?? 30_000;
  const signal = call.signal ? AbortSignal.any([call.signal, AbortSignal.timeout(timeout)]) : AbortSignal.timeout(timeout);
  let res: Dispatcher.ResponseData;
  try {
    res = await request(call.url, { method: call.method, headers, body: payload, signal, dispatcher: call.dispatcher, headersTimeout: timeout, bodyTimeout: timeout });
  } catch (err) {
    if (call.signal?.aborted) throw err;
    const timedOut = (err as Error)?.name === 'TimeoutError' || /timeout/i.test(String((err as Error)?.name ?? ''));
    throw new ProviderCallError({ provider: call.provider, endpoint, kind: timedOut ? 'timeout' : 'network', cause: err });
  }
  let text: string;
  try {
    text = await res.body.text();
  } catch (err) {
    if (call.signal?.aborted) throw err;
    throw new ProviderCallError({ provider: call.provider, endpoint, kind: 'network', status: res.statusCode, cause: err });
  }
  let body: unknown;
  let parsed = false;
  if (text.trim()) {
    try {
      body = JSON.parse(text);
      parsed = true;
    } catch {
      body = undefined;
    }
  }
  if (res.statusCode < 200 || res.statusCode >= 300) {
    const message = messageOf(body, parsed ? '' : text);
    throw new ProviderCallError({
      provider: call.provider,
      endpoint,
      kind: 'http',
      status: res.statusCode,
      body: call.secrets ? call.secrets.value(body) : body,
      providerMessage: message !== undefined && call.secrets ? call.secrets.text(message) : message,
      retryAfterMs: retryAfterMs(res.headers, (call.clock ?? systemClock).now()),
    });
  }
  if (text.trim() && !parsed) {
    throw new ProviderCallError({ provider: call.provider, endpoint, kind: 'parse', status: res.statusCode, providerMessage: 'the answer is not JSON' });
  }
  return { status: res.statusCode, headers: res.headers, body: body as T };
}

export interface RetryOptions {
  signal?: AbortSignal;
  /** Epoch ms: no retry starts after it. */
  deadline?: number;
  retries?: number;
  minTimeoutMs?: number;
  maxTimeoutMs?: number;
  /** Longest Retry-After honoured within the retry loop (longer waits go back to the caller). */
  maxRetryAfterMs?: number;
  /** Whether an error is worth another try (default: ProviderCallError.isRetryable). */
  isRetryable?: (err: unknown) => boolean;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Time for the deadline, the backoff and Retry-After waits (default: the system clock). */
  clock?: Clock;
}

/** Exponential backoff with jitter: min × 2^(attempt-1), capped, times a random factor in [1, 2). */
function backoffMs(attempt: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, minMs * 2 ** (attempt - 1)) * (1 + Math.random());
}

/**
 * Runs `fn` with exponential backoff and jitter on transient failures, honouring the provider's
 * Retry-After (up to `maxRetryAfterMs`) instead of the backoff, and never starting a retry past the
 * deadline. Every wait is on the clock; p-retry only counts attempts.
 */
export async function withRetries<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const retryable = opts.isRetryable ?? ((e: unknown) => e instanceof ProviderCallError && e.isRetryable);
  const maxRetryAfter = opts.maxRetryAfterMs ?? 30_000;
  const clock = opts.clock ?? systemClock;
  return pRetry(
    async (attempt) => {
      try {
        return await fn(attempt);
      } catch (err) {
        if (!retryable(err)) throw new AbortError(err as Error);
        throw err;
      }
    },
    {
      retries: opts.retries ?? 4,
      minTimeout: 0,
      maxTimeout: 0,
      randomize: false,
      signal: opts.signal,
      onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
        const asked = error instanceof ProviderCallError ? error.retryAfterMs : undefined;
        if (retriesLeft <= 0) return;
        if (asked !== undefined && asked > maxRetryAfter) throw error; // too long for this loop: let the caller reschedule
        const wait = asked ?? backoffMs(attemptNumber, opts.minTimeoutMs ?? 250, opts.maxTimeoutMs ?? 8_000);
        if (opts.deadline !== undefined && clock.now() + wait > opts.deadline) throw error;
        opts.onRetry?.(error, attemptNumber, wait);
        await clock.sleep(wait, opts.signal);
        if (opts.signal?.aborted) throw opts.signal.reason;
      },
    },
  ).catch((err: unknown) => {
    // p-retry wraps the original in AbortError for non-retryable failures; give callers the original.
    throw err instanceof AbortError && (err as { originalError?: unknown }).originalError ? (err as { originalError: unknown }).originalError : err;
  });
}

export interface DownloadOptions {
  provider: string;
  maxBytes: number;
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Extra request headers. Never credentials: result URLs are pre-signed, and a provider's answer chooses
   * where they point.
   */
  headers?: Record<string, string>;
  /** The dispatcher for URLs on trusted origins (the egress policy has its own for the others). */
  dispatcher?: Dispatcher;
  /** Which hosts may be fetched (default: https on public addresses only, no origin trusted). */
  egress?: AssetEgress;
}

/** Drops an answer's body unread (undici reports a destroyed body as an error: nobody needs to hear it). */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.once('error', () => undefined);
  body.destroy();
}

/** The policy of downloads that name none: nothing trusted, https on public addresses only. */
let defaultEgress: AssetEgress | undefined;

/**
 * Downloads a file a provider pointed at: refused before any byte is sent when the egress policy does
 * not allow its URL (ProviderCallError kind `refused`), refused on a redirect (never followed), refused
 * as soon as it exceeds `maxBytes`, and when it takes longer than the timeout.
 */
export async function download(url: string, opts: DownloadOptions): Promise<Uint8Array> {
  const endpoint = endpointOf('GET', url);
  const route = (opts.egress ?? (defaultEgress ??= new AssetEgress())).route(url);
  if (!route.allowed) throw new ProviderCallError({ provider: opts.provider, endpoint, kind: 'refused', providerMessage: route.reason });
  const timeout = opts.timeoutMs ?? 60_000;
  const signal = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(timeout)]) : AbortSignal.timeout(timeout);
  let res: Dispatcher.ResponseData;
  try {
    // undici's request() does not follow redirects: a 3xx is refused below.
    res = await request(url, { method: 'GET', headers: opts.headers, signal, dispatcher: route.dispatcher ?? opts.dispatcher });
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    const refusal = egressRefusalIn(err);
    if (refusal) throw new ProviderCallError({ provider: opts.provider, endpoint, kind: 'refused', providerMessage: refusal.message, cause: err });
    throw new ProviderCallError({ provider: opts.provider, endpoint, kind: (err as Error)?.name === 'TimeoutError' ? 'timeout' : 'network', cause: err });
  }
  if (res.statusCode >= 300 && res.statusCode < 400) {
    await res.body.dump().catch(() => undefined);
    throw new ProviderCallError({ provider: opts.provider, endpoint, kind: 'refused', status: res.statusCode, providerMessage: `the file host answered a redirect (${res.statusCode}), which the gateway does not follow` });
  }
  if (res.statusCode < 200 || res.statusCode >= 300) {
    await res.body.dump().catch(() => undefined);
    throw new ProviderCallError({ provider: opts.provider, endpoint, kind: 'http', status: res.statusCode, retryAfterMs: retryAfterMs(res.headers) });
  }
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > opts.maxBytes) {
    discard(res.body);
    throw new ProviderCallError({ provider: opts.provider, endpoint, kind: 'too_large', status: res.statusCode, providerMessage: `file larger than ${opts.maxBytes} bytes` });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > opts.maxBytes) {
        discard(res.body);
        throw new ProviderCallError({ provider: opts.provider, endpoint, kind: 'too_large', status: res.statusCode, providerMessage: `file larger than ${opts.maxBytes} bytes` });
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof ProviderCallError || opts.signal?.aborted) throw err;
    throw new ProviderCallError({ provider: opts.provider, endpoint, kind: (err as Error)?.name === 'TimeoutError' ? 'timeout' : 'network', cause: err });
  }
  const out = Buffer.concat(chunks, size);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Whether `url` is on the same origin as `base` (credentials may be sent only then). */
export function sameOrigin(url: string, base: string): boolean {
  try {
    return new URL(url).origin === new URL(base).origin;
  } catch {
    return false;
  }
}
