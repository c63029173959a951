/**
 * The SayMotion HTTP client: one method per endpoint the adapter uses, each a JSON call with the shared
 * session cookie, one fresh login and replay on a refused session, and retries with backoff on transient
 * failures. Answers are checked for the shape the adapter needs; anything else is a parse failure.
 */
import type { Dispatcher } from 'undici';
import type { Clock } from '../../spec/clock.js';
import type { AssetEgress } from '../kit/egress.js';
import { callJson, download, withRetries, type RetryOptions } from '../kit/http.js';
import { ProviderCallError } from '../kit/errors.js';
import type { Secrets } from '../kit/redact.js';
import { isSessionRefusal, PROVIDER } from './errors.js';
import { SayMotionSession, COOKIE_NAME, type SessionCookie } from './session.js';

export interface RetryTuning {
  retries?: number;
  minTimeoutMs?: number;
  maxTimeoutMs?: number;
  /** Longest Retry-After waited inside one call; longer ones go back to the caller's schedule. */
  maxRetryAfterMs?: number;
}

export interface SayMotionClientOptions {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Timeout of one API call. */
  timeoutMs: number;
  retry: RetryTuning;
  dispatcher?: Dispatcher;
  /** Time for retry waits and the session's expiry. */
  clock: Clock;
  /** The client secret and live cookies: redacted from error answers (cookies are added as they come). */
  secrets?: Secrets;
  /** Which hosts result files may be fetched from (default: https on public addresses only). */
  egress?: AssetEgress;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Epoch ms: no retry starts after it. */
  deadline?: number;
  /** Overrides the number of retries (0 = one attempt). */
  retries?: number;
}

export interface CreditBalance {
  credits: number;
  /** featureLimits.maxVariantsGeneration of the subscription, when the answer has it. */
  maxVariantsGeneration?: number;
}

export interface StatusEntry {
  rid: string;
  status: string;
  details?: Record<string, unknown>;
  positionInQueue?: number;
}

interface UrlGroup {
  name: string;
  /** Each file as `{ <type>: url }`, e.g. `{ glb: "https://…" }`. */
  files: Array<Record<string, unknown>>;
}

export interface DownloadLink {
  rid: string;
  variantDownloadStatus?: boolean;
  urls?: UrlGroup[];
}

export interface ListedJob {
  rid: string;
  processor?: string;
  parameters?: unknown;
  status?: string;
  /** Creation time, ms epoch. */
  ctime?: number;
}

export interface FileOptions extends CallOptions {
  maxBytes: number;
  timeoutMs: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function shapeError(endpoint: string, what: string): ProviderCallError {
  return new ProviderCallError({ provider: PROVIDER, endpoint, kind: 'parse', providerMessage: what });
}

/** Opaque rids go into the path percent-encoded, comma-separated. */
const ridPath = (rids: readonly string[]): string => rids.map(encodeURIComponent).join(',');

export class SayMotionClient {
  private readonly session: SayMotionSession;

  constructor(private readonly opts: SayMotionClientOptions) {
    this.session = new SayMotionSession({
      baseUrl: opts.baseUrl,
      clientId: opts.clientId,
      clientSecret: opts.clientSecret,
      timeoutMs: opts.timeoutMs,
      retry: this.retryOptions(),
      dispatcher: opts.dispatcher,
      clock: opts.clock,
      secrets: opts.secrets,
    });
  }

  get baseUrl(): string {
    return this.opts.baseUrl;
  }

  private retryOptions(retries?: number): Omit<RetryOptions, 'signal' | 'deadline'> {
    const r = this.opts.retry;
    return { retries: retries ?? r.retries ?? 4, minTimeoutMs: r.minTimeoutMs, maxTimeoutMs: r.maxTimeoutMs, maxRetryAfterMs: r.maxRetryAfterMs, clock: this.opts.clock };
  }

  /**
   * Runs `fn` with a session cookie; when the API refuses the session (401/403 without a SayMotion code),
   * logs in once more and replays. A second refusal is final (MG-PRV-401).
   */
  private async withSession<T>(fn: (cookie: SessionCookie) => Promise<T>, opts: CallOptions): Promise<T> {
    let cookie = await this.session.cookie(opts.signal);
    try {
      return await fn(cookie);
    } catch (err) {
      if (!isSessionRefusal(err)) throw err;
      this.session.invalidate(cookie);
      cookie = await this.session.cookie(opts.signal);
      return fn(cookie);
    }
  }

  /**
   * One API call with retries. Reads are retried on unreadable answers too (a cut connection looks like
   * that); the billable POST is not retried here at all (see submitText2Motion).
   */
  private async call<T>(method: 'GET' | 'POST', path: string, body: unknown, opts: CallOptions, read: (b: unknown) => T): Promise<T> {
    const url = `${this.opts.baseUrl}${path}`;
    const attempt = () =>
      this.withSession(async (cookie) => {
        const answer = await callJson({
          provider: PROVIDER,
          method,
          url,
          headers: { cookie: `${COOKIE_NAME}=${cookie.value}` },
          body,
          signal: opts.signal,
          timeoutMs: this.opts.timeoutMs,
          dispatcher: this.opts.dispatcher,
          secrets: this.opts.secrets,
        });
        return read(answer.body);
      }, opts);
    if (method === 'POST') return attempt();
    return withRetries(attempt, {
      ...this.retryOptions(opts.retries),
      signal: opts.signal,
      deadline: opts.deadline,
      isRetryable: (e) => e instanceof ProviderCallError && (e.isRetryable || e.kind === 'parse'),
    });
  }

  /** `GET /account/v1/creditBalance`. */
  creditBalance(opts: CallOptions = {}): Promise<CreditBalance> {
    return this.call('GET', '/account/v1/creditBalance', undefined, opts, (b) => {
      if (!isObject(b) || typeof b.credits !== 'number') throw shapeError('GET /account/v1/creditBalance', 'no credits in the answer');
      const sub = isObject(b.subscription) ? b.subscription : {};
      const limits = isObject(sub.featureLimits) ? sub.featureLimits : {};
      const max = Number(limits.maxVariantsGeneration);
      return { credits: b.credits, maxVariantsGeneration: Number.isInteger(max) && max > 0 ? max : undefined };
    });
  }

  /**
   * `POST /job/v1/process/text2motion`: one attempt, no retry. Whether a failed attempt created a job is
   * the caller's question (it looks in the job list before submitting again).
   */
  submitText2Motion(params: readonly string[], opts: CallOptions = {}): Promise<string> {
    return this.call('POST', '/job/v1/process/text2motion', { params }, opts, (b) => {
      if (!isObject(b) || typeof b.rid !== 'string' || !b.rid) throw shapeError('POST /job/v1/process/text2motion', 'no rid in the answer');
      return b.rid;
    });
  }

  /** `GET /job/v1/status/<rid1>,<rid2>,…`: the entries the provider listed (missing ones are still running). */
  status(rids: readonly string[], opts: CallOptions = {}): Promise<StatusEntry[]> {
    return this.call('GET', `/job/v1/status/${ridPath(rids)}`, undefined, opts, (b) => {
      if (!isObject(b)) throw shapeError('GET /job/v1/status', 'the answer is not an object');
      if (b.status === undefined && Number(b.count) === 0) return [];
      if (!Array.isArray(b.status)) throw shapeError('GET /job/v1/status', 'no status list in the answer');
      const out: StatusEntry[] = [];
      for (const e of b.status) {
        if (!isObject(e) || typeof e.rid !== 'string' || typeof e.status !== 'string') continue;
        const pos = Number(e.positionInQueue ?? e.position_in_queue);
        out.push({ rid: e.rid, status: e.status, details: isObject(e.details) ? e.details : undefined, positionInQueue: Number.isFinite(pos) ? pos : undefined });
      }
      return out;
    });
  }

  /** `GET /job/v1/download/<rids>?variant_id=<ids>`: one variant per rid. */
  downloadLinks(rids: readonly string[], variants: readonly number[], opts: CallOptions = {}): Promise<DownloadLink[]> {
    const path = `/job/v1/download/${ridPath(rids)}?variant_id=${variants.join(',')}`;
    return this.call('GET', path, undefined, opts, (b) => {
      if (!isObject(b) || !Array.isArray(b.links)) throw shapeError('GET /job/v1/download', 'no links in the answer');
      return b.links.filter(isObject).map((l) => ({
        rid: String(l.rid ?? ''),
        variantDownloadStatus: typeof l.variantDownloadStatus === 'boolean' ? l.variantDownloadStatus : undefined,
        urls: Array.isArray(l.urls)
          ? l.urls.filter(isObject).map((g) => ({ name: String(g.name ?? ''), files: Array.isArray(g.files) ? g.files.filter(isObject) : [] }))
          : undefined,
      }));
    });
  }

  /** `GET /job/v1/cancel/<rid>` (a GET, as documented). */
  cancel(rid: string, opts: CallOptions = {}): Promise<boolean> {
    return this.call('GET', `/job/v1/cancel/${encodeURIComponent(rid)}`, undefined, opts, (b) => isObject(b) && b.result === true);
  }

  /** `GET /job/v1/list`: the account's recent jobs. */
  list(opts: CallOptions = {}): Promise<ListedJob[]> {
    return this.call('GET', '/job/v1/list', undefined, opts, (b) => {
      const list = Array.isArray(b) ? b : isObject(b) && Array.isArray(b.list) ? b.list : undefined;
      if (!list) throw shapeError('GET /job/v1/list', 'no list in the answer');
      return list.filter(isObject).map((j) => ({
        rid: String(j.rid ?? ''),
        processor: typeof j.processor === 'string' ? j.processor : undefined,
        parameters: j.parameters,
        status: typeof j.status === 'string' ? j.status : undefined,
        ctime: typeof j.ctime === 'number' ? j.ctime : undefined,
      }));
    });
  }

  /**
   * Downloads a result file, capped in size and time. File URLs are pre-signed (the official SDK fetches
   * them without the cookie): they get no credentials at all, wherever they point, and the egress policy
   * decides whether they are fetched.
   */
  async file(url: string, opts: FileOptions): Promise<Uint8Array> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw shapeError('GET file', 'a file URL is not a URL');
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw shapeError('GET file', 'a file URL is not http(s)');
    const fetchOnce = () =>
      download(url, { provider: PROVIDER, maxBytes: opts.maxBytes, timeoutMs: opts.timeoutMs, signal: opts.signal, dispatcher: this.opts.dispatcher, egress: this.opts.egress });
    return withRetries(fetchOnce, {
      ...this.retryOptions(opts.retries),
      signal: opts.signal,
      deadline: opts.deadline,
    });
  }
}
