/**
 * The HTTP API of one upstream MMCP server: its capabilities, a generation (answered with glTF bytes or
 * 202 and a job location), a job poll and a cancel. The API key goes to the upstream's own origin only:
 * a job location on any other origin is refused before anything is sent to it.
 */
import { request, type Dispatcher } from 'undici';
import type { Clock } from '../../spec/clock.js';
import { callJson, retryAfterMs, sameOrigin, withRetries } from '../kit/http.js';
import { ProviderCallError, sanitizeProviderText } from '../kit/errors.js';
import type { Secrets } from '../kit/redact.js';
import { upstreamEnvelope } from './errors.js';

/** GLB first; JSON glTF, which every MMCP server must offer, as the fallback. */
const ACCEPT_MOTION = 'model/gltf-binary, model/gltf+json;q=0.5';
/** Error bodies read at most (an envelope is small; anything longer is not one). */
const MAX_ERROR_BYTES = 64 * 1024;

export interface RetryTuning {
  retries?: number;
  minTimeoutMs?: number;
  maxTimeoutMs?: number;
  maxRetryAfterMs?: number;
}

export interface MmcpClientOptions {
  provider: string;
  baseUrl: string;
  apiKey?: string;
  secrets: Secrets;
  clock: Clock;
  /** Timeout of a call that is not a synchronous generation (default 30 s). */
  callTimeoutMs: number;
  /** Largest glTF answer accepted. */
  maxResultBytes: number;
  retry: RetryTuning;
  dispatcher?: Dispatcher;
}

/** What a generation or a poll answered. */
export type MotionAnswer = (
  | { kind: 'accepted'; location: string; jobId?: string; retryAfterMs?: number }
  | { kind: 'result'; bytes: Uint8Array }
) & {
  /** The upstream sent `Idempotency-Status: declined`: a resend would start another job. */
  declined?: boolean;
};

export interface CallOptions {
  signal?: AbortSignal;
  /** Epoch ms: no retry starts after it. */
  deadline?: number;
}

export class MmcpClient {
  constructor(private readonly o: MmcpClientOptions) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.o.apiKey ? { authorization: `Bearer ${this.o.apiKey}` } : {}), ...extra };
  }

  private retrying<T>(fn: () => Promise<T>, opts: CallOptions): Promise<T> {
    return withRetries(fn, { ...this.o.retry, signal: opts.signal, deadline: opts.deadline, clock: this.o.clock });
  }

  /** GET /capabilities. */
  async capabilities(opts: CallOptions = {}): Promise<unknown> {
    const url = `${this.o.baseUrl}/capabilities`;
    const call = () =>
      callJson({ provider: this.o.provider, method: 'GET', url, headers: this.headers(), signal: opts.signal, timeoutMs: this.o.callTimeoutMs, clock: this.o.clock, secrets: this.o.secrets, dispatcher: this.o.dispatcher });
    return (await this.retrying(call, opts)).body;
  }

  /**
   * POST /generate. The idempotency key is the same on every try and after every restart, so the upstream
   * starts one job per job of ours. `async` asks for 202 at once; otherwise the call waits up to `timeoutMs`.
   */
  generate(body: unknown, opts: CallOptions & { idempotencyKey: string; async: boolean; timeoutMs: number }): Promise<MotionAnswer> {
    const headers = this.headers({
      accept: ACCEPT_MOTION,
      'content-type': 'application/json; charset=utf-8',
      'idempotency-key': opts.idempotencyKey,
      ...(opts.async ? { prefer: 'respond-async' } : {}),
    });
    const payload = JSON.stringify(body);
    return this.retrying(() => this.exchange('POST', `${this.o.baseUrl}/generate`, headers, payload, opts.timeoutMs, opts.signal), opts);
  }

  /** GET of a job location the upstream gave. */
  poll(location: string, opts: CallOptions = {}): Promise<MotionAnswer> {
    return this.retrying(() => this.exchange('GET', location, this.headers({ accept: ACCEPT_MOTION }), undefined, this.o.callTimeoutMs * 4, opts.signal), opts);
  }

  /** DELETE of a job location; a job the upstream no longer has (404, 410) counts as cancelled. */
  async cancel(location: string, opts: CallOptions = {}): Promise<void> {
    this.checkOrigin('DELETE', location);
    const call = () =>
      callJson({ provider: this.o.provider, method: 'DELETE', url: location, headers: this.headers(), signal: opts.signal, timeoutMs: this.o.callTimeoutMs, clock: this.o.clock, secrets: this.o.secrets, dispatcher: this.o.dispatcher });
    try {
      await this.retrying(call, opts);
    } catch (err) {
      if (err instanceof ProviderCallError && (err.status === 404 || err.status === 410)) return;
      throw err;
    }
  }

  /** A job location as an absolute URL on the upstream's origin (a path is resolved against the base URL). */
  resolveLocation(location: string, endpoint: string): string {
    let url: string;
    try {
      url = new URL(location, `${this.o.baseUrl}/`).href;
    } catch {
      throw new ProviderCallError({ provider: this.o.provider, endpoint, kind: 'parse', providerMessage: 'the job location is not a URL' });
    }
    this.checkOrigin(endpoint, url);
    return url;
  }

  private checkOrigin(endpoint: string, url: string): void {
    if (!sameOrigin(url, this.o.baseUrl)) {
      throw new ProviderCallError({ provider: this.o.provider, endpoint, kind: 'refused', providerMessage: 'the job location is not on the upstream\'s origin (the API key is sent to that origin only)' });
    }
  }

  /** One call whose success is glTF bytes (200) or a job location (202); errors as ProviderCallError. */
  private async exchange(method: 'GET' | 'POST', url: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number, signal?: AbortSignal): Promise<MotionAnswer> {
    const endpoint = `${method} ${new URL(url).pathname}`;
    this.checkOrigin(endpoint, url);
    const timeout = AbortSignal.timeout(Math.max(1, timeoutMs));
    const all = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, { method, headers, body, signal: all, dispatcher: this.o.dispatcher, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new ProviderCallError({ provider: this.o.provider, endpoint, kind: timeout.aborted ? 'timeout' : 'network', cause: err });
    }
    const status = res.statusCode;
    const limit = status === 200 ? this.o.maxResultBytes : MAX_ERROR_BYTES;
    let bytes: Uint8Array;
    try {
      bytes = await readCapped(res.body, limit);
    } catch (err) {
      if (signal?.aborted) throw err;
      if (err instanceof TooLarge) {
        if (status === 200) throw new ProviderCallError({ provider: this.o.provider, endpoint, kind: 'too_large', status, providerMessage: `the answer is larger than ${limit} bytes` });
        bytes = new Uint8Array(0);
      } else {
        throw new ProviderCallError({ provider: this.o.provider, endpoint, kind: timeout.aborted ? 'timeout' : 'network', status, cause: err });
      }
    }
    const wait = retryAfterMs(res.headers, this.o.clock.now());
    const declined = String(res.headers['idempotency-status'] ?? '').toLowerCase() === 'declined' ? { declined: true } : {};
    if (status === 200) return { kind: 'result', bytes, ...declined };
    if (status === 202) {
      const raw = res.headers.location;
      const location = (Array.isArray(raw) ? raw[0] : raw) ?? (method === 'GET' ? url : undefined);
      // A poll's 202 may omit Location (the job is still where it was); a POST's may not.
      if (!location) throw new ProviderCallError({ provider: this.o.provider, endpoint, kind: 'parse', status, providerMessage: 'a 202 answer without a Location header' });
      return { kind: 'accepted', location: this.resolveLocation(location, endpoint), jobId: jobIdOf(bytes), retryAfterMs: wait, ...declined };
    }
    let parsed: unknown;
    const text = Buffer.from(bytes).toString('utf8');
    try {
      parsed = text.trim() ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    const env = upstreamEnvelope(parsed);
    const message = env?.message ?? (parsed === undefined && text ? sanitizeProviderText(text) : undefined);
    throw new ProviderCallError({
      provider: this.o.provider,
      endpoint,
      kind: 'http',
      status,
      body: this.o.secrets.value(parsed),
      providerMessage: message === undefined ? undefined : this.o.secrets.text(message),
      retryAfterMs: wait,
    });
  }
}

class TooLarge extends Error {}

/** An answer's body, refused as soon as it passes `max` bytes. */
async function readCapped(body: Dispatcher.ResponseData['body'], max: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > max) {
      body.once('error', () => undefined);
      body.destroy();
      throw new TooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  const out = Buffer.concat(chunks, size);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** The `job_id` of a 202 body (`{"job_id", "submitted_at"}`), when there is one. */
function jobIdOf(bytes: Uint8Array): string | undefined {
  if (bytes.byteLength === 0 || bytes.byteLength > 4096) return undefined;
  try {
    const v = JSON.parse(Buffer.from(bytes).toString('utf8')) as { job_id?: unknown };
    return typeof v.job_id === 'string' ? v.job_id.slice(0, 128) : undefined;
  } catch {
    return undefined;
  }
}
