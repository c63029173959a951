/**
 * The SayMotion session: one `dmsess` cookie shared by every call of the process, obtained with Basic
 * credentials, renewed shortly before it expires and at once when the API refuses it. Concurrent callers
 * wait on the same login (no stampede); the secret never leaves this module except in the auth header.
 */
import { request, type Dispatcher } from 'undici';
import type { Clock } from '../../spec/clock.js';
import { ProviderCallError } from '../kit/errors.js';
import { retryAfterMs, withRetries, type RetryOptions } from '../kit/http.js';
import type { Secrets } from '../kit/redact.js';
import { PROVIDER } from './errors.js';

export const COOKIE_NAME = 'dmsess';
export const LOGIN_ENDPOINT = 'GET /account/v1/auth';
/** Lifetime assumed when the cookie carries neither Expires nor Max-Age (the real lifetime is undocumented). */
export const DEFAULT_SESSION_MS = 30 * 60_000;
/** Renew this long before expiry, at most (long sessions renew at 10 % of their lifetime before it). */
const RENEW_MARGIN_MS = 60_000;
/**
 * A tenth of a short session is shorter than a slow round trip: the margin is at least this, or a quarter
 * of the lifetime when that is shorter (a session of a few seconds still gets most of its life used).
 */
const MIN_RENEW_MARGIN_MS = 1_000;

export interface SessionCookie {
  value: string;
  /** Epoch ms when the provider stops accepting it. */
  expiresAt: number;
  /** Epoch ms after which we log in again rather than risk a refused call. */
  renewAt: number;
}

/**
 * Finds the `dmsess` cookie among Set-Cookie header values. Attributes are split on `;` properly (the
 * official SDK splits on `=` and keeps `; Domain` in the value); Max-Age wins over Expires (RFC 6265).
 */
export function parseSessionCookie(setCookie: string | string[] | undefined, now: number): SessionCookie | undefined {
  const headers = setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie];
  for (const header of headers) {
    const [pair, ...attrs] = header.split(';');
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim() !== COOKIE_NAME) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (!value) continue;
    let expiresAt: number | undefined;
    let maxAge: number | undefined;
    for (const attr of attrs) {
      const i = attr.indexOf('=');
      const key = (i < 0 ? attr : attr.slice(0, i)).trim().toLowerCase();
      const v = i < 0 ? '' : attr.slice(i + 1).trim();
      if (key === 'max-age' && /^-?\d+$/.test(v)) maxAge = Number(v);
      if (key === 'expires') {
        const t = Date.parse(v);
        if (!Number.isNaN(t)) expiresAt = t;
      }
    }
    if (maxAge !== undefined) expiresAt = now + maxAge * 1000;
    expiresAt ??= now + DEFAULT_SESSION_MS;
    const lifetime = Math.max(0, expiresAt - now);
    const margin = Math.min(RENEW_MARGIN_MS, Math.max(lifetime / 10, Math.min(lifetime / 4, MIN_RENEW_MARGIN_MS)));
    return { value, expiresAt, renewAt: expiresAt - margin };
  }
  return undefined;
}

export interface SessionOptions {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
  retry: Omit<RetryOptions, 'signal' | 'deadline'>;
  dispatcher?: Dispatcher;
  /** Time for the cookie's lifetime (and the login's retry waits, through `retry.clock`). */
  clock: Clock;
  /** Every cookie value obtained is added here: redacted from errors and logs from then on. */
  secrets?: Secrets;
}

export class SayMotionSession {
  private current?: SessionCookie;
  private pending?: Promise<SessionCookie>;

  constructor(private readonly opts: SessionOptions) {}

  /**
   * A cookie valid for a while yet: the current one, or a fresh login shared with every concurrent caller.
   * The shared login does not follow any one caller's signal (one cancelled job must not fail the
   * others' login); a caller whose signal aborts simply stops waiting for it.
   */
  async cookie(signal?: AbortSignal): Promise<SessionCookie> {
    const c = this.current;
    if (c && this.opts.clock.now() < c.renewAt) return c;
    this.pending ??= this.login().finally(() => {
      this.pending = undefined;
    });
    if (!signal) return this.pending;
    signal.throwIfAborted();
    return new Promise<SessionCookie>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending!.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /**
   * Forgets `stale` after the API refused it. A caller holding an older cookie than the current one does
   * not throw away a session another caller has just renewed.
   */
  invalidate(stale: SessionCookie): void {
    if (this.current === stale) this.current = undefined;
  }

  private async login(): Promise<SessionCookie> {
    const url = `${this.opts.baseUrl}/account/v1/auth`;
    const endpoint = LOGIN_ENDPOINT;
    const authorization = `Basic ${Buffer.from(`${this.opts.clientId}:${this.opts.clientSecret}`).toString('base64')}`;
    const cookie = await withRetries(
      async () => {
        const timeout = AbortSignal.timeout(this.opts.timeoutMs);
        let res: Dispatcher.ResponseData;
        try {
          res = await request(url, {
            method: 'GET',
            headers: { authorization, accept: '*/*' },
            signal: timeout,
            dispatcher: this.opts.dispatcher,
            headersTimeout: this.opts.timeoutMs,
            bodyTimeout: this.opts.timeoutMs,
          });
        } catch (err) {
          throw new ProviderCallError({ provider: PROVIDER, endpoint, kind: (err as Error)?.name === 'TimeoutError' ? 'timeout' : 'network', cause: err });
        }
        // The body of this answer is undocumented: read it only to free the connection.
        await res.body.dump().catch(() => undefined);
        if (res.statusCode < 200 || res.statusCode >= 300) {
          throw new ProviderCallError({ provider: PROVIDER, endpoint, kind: 'http', status: res.statusCode, retryAfterMs: retryAfterMs(res.headers, this.opts.clock.now()) });
        }
        const parsed = parseSessionCookie(res.headers['set-cookie'], this.opts.clock.now());
        if (!parsed) throw new ProviderCallError({ provider: PROVIDER, endpoint, kind: 'parse', status: res.statusCode, providerMessage: 'the login answer set no session cookie' });
        return parsed;
      },
      this.opts.retry,
    );
    this.opts.secrets?.addLive(cookie.value);
    this.current = cookie;
    return cookie;
  }
}
