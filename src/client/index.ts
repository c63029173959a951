/**
 * The typed client of a motion gateway, for Node ≥ 20 and browsers (fetch, AbortSignal and ReadableStream
 * only): capabilities, generate (200 or 202, polled by Retry-After with progress from /status, cancellable),
 * job status, cancel and live events, typed errors carrying the envelope, and MMCP_motion helpers.
 */
import type { Capabilities, GenerateRequest, JobStatus, MmcpMotion } from '../spec/wire.js';
import { errorFromEnvelope, errorFromResponse, MotionGatewayError, retryAfterOf } from './errors.js';
import { gltfJsonOf, readMotion } from './motion.js';
import { readSse } from './sse.js';

export { MotionGatewayError, readMotion, gltfJsonOf };
export type { Capabilities, GenerateRequest, JobStatus, MmcpMotion };

export interface MotionGatewayClientOptions {
  /** The gateway's origin, e.g. `http://127.0.0.1:8080` (a path prefix is kept). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <key>` on every request. */
  apiKey?: string;
  /** A fetch to use instead of the global one (tests, proxies, instrumentation). */
  fetch?: typeof fetch;
  /** Attempts of one call when the gateway answers 429/503 (retryable) with Retry-After; default 3. */
  maxAttempts?: number;
  /** Longest Retry-After the client waits for itself; a longer one is thrown to the caller (default 60 s). */
  maxRetryAfterS?: number;
  /** Shortest wait between two polls of a job (default 500 ms, as the reference client). */
  minPollMs?: number;
  /**
   * How generate() follows a job it was answered 202 for: `events` (default) reads its live events
   * (SSE) and fetches the result the moment it is done, polling `/status` when the stream fails or is
   * cut; `poll` only polls, at the gateway's Retry-After.
   */
  follow?: 'events' | 'poll';
}

export type AnswerFormat = 'glb' | 'json';

export interface GenerateOptions {
  /** `glb` (default): `model/gltf-binary`; `json`: glTF JSON with data: URIs. */
  format?: AnswerFormat;
  /** Aborting cancels the job on the gateway (DELETE) and rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Called with each status while the job runs (progress 0-1, queue position, serving model), and with
   * how it came: from the job's live `events`, or from a `poll` of /status (the stream failed, or `follow: 'poll'`).
   */
  onProgress?: (status: JobStatus, via: 'events' | 'poll') => void;
  /** Called once when the gateway answered 202, with the job id. */
  onAccepted?: (jobId: string) => void;
  /** The Idempotency-Key to send (default: a fresh UUID per call, reused on its retries); false sends none. */
  idempotencyKey?: string | false;
  /** `Prefer: respond-async`: 202 at once. Implied by `signal`, so that an abort always has a job to cancel. */
  async?: boolean;
  /** `Prefer: wait=N`: how long the gateway may hold the request before answering 202. */
  waitS?: number;
}

export interface GenerateResult {
  format: AnswerFormat;
  /** The answer's bytes: a GLB, or the glTF JSON text as UTF-8. */
  bytes: Uint8Array;
  /** The parsed glTF JSON (for GLB: its JSON chunk). */
  gltf: Record<string, unknown>;
  /** The answer's MMCP_motion extension, or null. */
  motion: MmcpMotion | null;
  /** The job's id (X-Job-ID), when the gateway said. */
  jobId: string | null;
  /** X-Served-By: the model that served the request (a route's target). */
  servedBy: string | null;
  requestId: string | null;
  /** True when the answer is a replay of an earlier one with the same Idempotency-Key. */
  replayed: boolean;
  /** `Idempotency-Status` (e.g. `declined`: a retry would not be safe), when sent. */
  idempotencyStatus: string | null;
  /** X-MMCP-Ignored-Fields: request fields a newer-minor request had that the gateway ignored. */
  ignoredFields: string[];
}

/** One event of a job's live stream: a status change, or the final status (`done`, the stream's last). */
export interface JobEvent {
  type: 'status' | 'done';
  status: JobStatus;
}

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);
const ACCEPT: Record<AnswerFormat, string> = { glb: 'model/gltf-binary', json: 'model/gltf+json' };

/** Sleeps `ms` unless `signal` aborts first (then rejects with its reason). */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class MotionGatewayClient {
  private readonly base: string;
  private readonly doFetch: typeof fetch;
  private readonly maxAttempts: number;
  private readonly maxRetryAfterS: number;
  private readonly minPollMs: number;

  /** Job endpoints: status (`/status`), cancel (DELETE), result, and live events (SSE). */
  readonly jobs: {
    status: (id: string, opts?: { signal?: AbortSignal }) => Promise<JobStatus>;
    cancel: (id: string, opts?: { signal?: AbortSignal }) => Promise<void>;
    result: (id: string, opts?: { format?: AnswerFormat; signal?: AbortSignal }) => Promise<GenerateResult>;
    events: (id: string, opts?: { signal?: AbortSignal }) => AsyncGenerator<JobEvent>;
  };

  constructor(private readonly opts: MotionGatewayClientOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.doFetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? 3);
    this.maxRetryAfterS = opts.maxRetryAfterS ?? 60;
    this.minPollMs = opts.minPollMs ?? 500;
    this.jobs = {
      status: (id, o) => this.jobStatus(id, o?.signal),
      cancel: (id, o) => this.cancelJob(id, o?.signal),
      result: (id, o) => this.jobResult(id, o?.format ?? 'glb', o?.signal),
      events: (id, o) => this.jobEvents(id, o?.signal),
    };
  }

  /** GET /capabilities: models, canonical skeletons, limits. */
  async capabilities(opts: { signal?: AbortSignal } = {}): Promise<Capabilities> {
    const res = await this.send('/capabilities', { headers: { accept: 'application/json' }, signal: opts.signal });
    return (await res.json()) as Capabilities;
  }

  /**
   * POST /generate: answers the motion when it is ready, following a 202 by polling `/status` at its
   * Retry-After (progress to `onProgress`) and then fetching the result. Throws MotionGatewayError.
   */
  async generate(request: GenerateRequest, opts: GenerateOptions = {}): Promise<GenerateResult> {
    const format = opts.format ?? 'glb';
    const signal = opts.signal;
    signal?.throwIfAborted();
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', accept: ACCEPT[format] };
    // One key per logical generation, minted outside the retry loop: a retried POST is the same request.
    const key = opts.idempotencyKey === false ? undefined : (opts.idempotencyKey ?? globalThis.crypto.randomUUID());
    if (key) headers['idempotency-key'] = key;
    const prefer: string[] = [];
    if (opts.async || signal) prefer.push('respond-async');
    if (opts.waitS !== undefined) prefer.push(`wait=${Math.max(0, Math.floor(opts.waitS))}`);
    if (prefer.length) headers.prefer = prefer.join(', ');
    const res = await this.send('/generate', { method: 'POST', headers, body: JSON.stringify(request), signal });
    if (res.status !== 202) return this.answerOf(res, format);
    const jobId = await this.jobIdOf(res);
    opts.onAccepted?.(jobId);
    try {
      return await this.follow(jobId, format, retryAfterOf(res.headers), opts.onProgress, signal);
    } catch (err) {
      if (signal?.aborted) {
        // Stopping observation does not stop the job: an abort is an explicit cancel.
        await this.cancelJob(jobId).catch(() => {});
        throw signal.reason;
      }
      throw err;
    }
  }

  private async follow(jobId: string, format: AnswerFormat, firstWaitS: number | null, onProgress: GenerateOptions['onProgress'], signal?: AbortSignal): Promise<GenerateResult> {
    if (this.opts.follow !== 'poll') {
      let done = false;
      try {
        for await (const event of this.jobEvents(jobId, signal)) {
          onProgress?.(event.status, 'events');
          if (event.type === 'done') {
            done = true;
            break;
          }
        }
      } catch (err) {
        if (signal?.aborted) throw err;
        // The stream was refused or cut (a proxy, a restart): polling carries on from here.
      }
      if (done) return this.jobResult(jobId, format, signal);
    }
    let waitS = firstWaitS ?? 1;
    for (;;) {
      await sleep(Math.max(this.minPollMs, waitS * 1000), signal);
      const status = await this.jobStatus(jobId, signal);
      onProgress?.(status, 'poll');
      if (FINAL.has(status.state)) return this.jobResult(jobId, format, signal);
      waitS = status.retry_after_s ?? 1;
    }
  }

  private async jobStatus(id: string, signal?: AbortSignal): Promise<JobStatus> {
    const res = await this.send(`/generate/jobs/${encodeURIComponent(id)}/status`, { headers: { accept: 'application/json' }, signal });
    return (await res.json()) as JobStatus;
  }

  private async cancelJob(id: string, signal?: AbortSignal): Promise<void> {
    const res = await this.send(`/generate/jobs/${encodeURIComponent(id)}`, { method: 'DELETE', signal });
    await res.body?.cancel();
  }

  /** GET /generate/jobs/{id} of a finished job: the motion, or its error thrown (410 for a cancelled one). */
  private async jobResult(id: string, format: AnswerFormat, signal?: AbortSignal): Promise<GenerateResult> {
    const res = await this.send(`/generate/jobs/${encodeURIComponent(id)}`, { headers: { accept: ACCEPT[format] }, signal });
    if (res.status === 202) {
      await res.body?.cancel();
      throw new MotionGatewayError({ status: 202, code: 'job_unfinished', message: `Job ${id} has not finished yet.`, retryAfterS: retryAfterOf(res.headers), requestId: res.headers.get('x-request-id') });
    }
    return this.answerOf(res, format);
  }

  private async *jobEvents(id: string, signal?: AbortSignal): AsyncGenerator<JobEvent> {
    const res = await this.send(`/generate/jobs/${encodeURIComponent(id)}/events`, { headers: { accept: 'text/event-stream' }, signal });
    if (!res.body) return;
    for await (const msg of readSse(res.body)) {
      if (msg.event === 'error') throw errorFromEnvelope(404, JSON.parse(msg.data), res.headers);
      if (msg.event !== 'status' && msg.event !== 'done' && msg.event !== 'message') continue;
      const type = msg.event === 'done' ? 'done' : 'status';
      yield { type, status: JSON.parse(msg.data) as JobStatus };
      if (type === 'done') return;
    }
  }

  private async jobIdOf(res: Response): Promise<string> {
    const body = (await res.json().catch(() => null)) as { job_id?: unknown } | null;
    const fromHeader = res.headers.get('x-job-id') ?? /\/generate\/jobs\/([^/?#]+)/.exec(res.headers.get('location') ?? '')?.[1];
    const id = typeof body?.job_id === 'string' ? body.job_id : fromHeader;
    if (!id) throw new MotionGatewayError({ status: 202, code: 'invalid_answer', message: 'The gateway answered 202 without a job id.', requestId: res.headers.get('x-request-id') });
    return id;
  }

  private async answerOf(res: Response, format: AnswerFormat): Promise<GenerateResult> {
    const bytes = new Uint8Array(await res.arrayBuffer());
    const gltf = gltfJsonOf(bytes);
    const ignored = res.headers.get('x-mmcp-ignored-fields');
    return {
      format,
      bytes,
      gltf,
      motion: readMotion(gltf),
      jobId: res.headers.get('x-job-id'),
      servedBy: res.headers.get('x-served-by'),
      requestId: res.headers.get('x-request-id'),
      replayed: res.headers.get('idempotent-replayed') === 'true',
      idempotencyStatus: res.headers.get('idempotency-status'),
      ignoredFields: ignored ? ignored.split(',').map((s) => s.trim()).filter(Boolean) : [],
    };
  }

  /**
   * One call: retried on a retryable 429/503 with its Retry-After (up to `maxAttempts`, and only when the
   * wait is at most `maxRetryAfterS`); non-2xx answers are thrown as MotionGatewayError.
   */
  private async send(path: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.opts.apiKey) headers.set('authorization', `Bearer ${this.opts.apiKey}`);
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await this.doFetch(this.base + path, { ...init, headers });
      } catch (err) {
        if (init.signal?.aborted) throw init.signal.reason;
        throw new MotionGatewayError({ status: 0, code: 'network_error', message: `The gateway could not be reached (${(err as Error)?.message ?? String(err)}).`, cause: err });
      }
      if (res.ok) return res;
      const err = await errorFromResponse(res);
      const wait = err.retryAfterS;
      if (!(res.status === 429 || res.status === 503) || !err.retryable || attempt >= this.maxAttempts || wait === null || wait > this.maxRetryAfterS) throw err;
      await sleep(wait * 1000, init.signal ?? undefined);
    }
  }
}
