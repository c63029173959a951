/** The Meshy HTTP client: rigging and animation tasks, their SSE streams and their files, with retries where a retry is safe. */
import { request, type Dispatcher } from 'undici';
import type { Clock } from '../../spec/clock.js';
import type { AssetEgress } from '../kit/egress.js';
import { callJson, download, withRetries, type RetryOptions } from '../kit/http.js';
import { ProviderCallError } from '../kit/errors.js';
import type { Secrets } from '../kit/redact.js';
import { isQueueFull } from './errors.js';

type TaskStatus = 'PENDING' | 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'CANCELED';
export const TERMINAL: ReadonlySet<string> = new Set(['SUCCEEDED', 'FAILED', 'CANCELED']);

/** A Meshy task object (rigging or animation), as documented; every field but id and status optional. */
export interface MeshyTask {
  id: string;
  type?: string;
  status: TaskStatus;
  progress?: number;
  preceding_tasks?: number;
  created_at?: number;
  started_at?: number;
  finished_at?: number;
  expires_at?: number;
  consumed_credits?: number;
  task_error?: { message?: string; type?: string; code?: string; doc_url?: string } | null;
  result?: Record<string, unknown> | null;
}

export type TaskKind = 'rigging' | 'animations';

export interface MeshyClientOptions {
  baseUrl: string;
  apiKey: string;
  /** Per-call timeout. */
  timeoutMs?: number;
  /** Retry tuning (tests shorten the backoff). */
  retry?: Pick<RetryOptions, 'retries' | 'minTimeoutMs' | 'maxTimeoutMs' | 'maxRetryAfterMs'>;
  /** Time for retry deadlines and Retry-After waits (default: the system clock). */
  clock?: Clock;
  dispatcher?: Dispatcher;
  /** Redacted from what Meshy's error answers say (the API key). */
  secrets?: Secrets;
  /** Which hosts result files may be fetched from (default: https on public addresses only). */
  egress?: AssetEgress;
}

export interface CallScope {
  signal?: AbortSignal;
  deadline?: number;
}

const PROVIDER = 'meshy';
const STATUSES = new Set(['PENDING', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'CANCELED']);

/** Checks the shape of a task object; anything else is an unreadable answer. */
function asTask(body: unknown, endpoint: string): MeshyTask {
  const b = body as Partial<MeshyTask> | null;
  if (!b || typeof b !== 'object' || typeof b.id !== 'string' || typeof b.status !== 'string' || !STATUSES.has(b.status)) {
    throw new ProviderCallError({ provider: PROVIDER, endpoint, kind: 'parse', providerMessage: 'the answer is not a task object' });
  }
  return b as MeshyTask;
}

/** The `result` of a task, wherever this API version puts it (nested, or at the top level). */
export function resultOf(task: MeshyTask): Record<string, unknown> {
  return task.result && typeof task.result === 'object' ? task.result : (task as unknown as Record<string, unknown>);
}

export class MeshyClient {
  private readonly base: string;

  constructor(private readonly opts: MeshyClientOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
  }

  private headers(): Record<string, string> {
    return { authorization: `Bearer ${this.opts.apiKey}` };
  }

  private retryOptions(scope: CallScope, isRetryable?: (e: unknown) => boolean): RetryOptions {
    return { ...this.opts.retry, clock: this.opts.clock, signal: scope.signal, deadline: scope.deadline, isRetryable };
  }

  /**
   * Creating a task is billable and Meshy has no idempotency key: only failures where Meshy surely made
   * nothing are retried (429 rate limits, 502/503/504 from the edge, connections that never got an
   * answer). A timeout may have created the task, so it is not retried. A full task queue is the
   * caller's to wait out.
   */
  private static safeToResubmit(err: unknown): boolean {
    if (!(err instanceof ProviderCallError)) return false;
    if (isQueueFull(err)) return false;
    if (err.kind === 'network') return true;
    return err.kind === 'http' && (err.status === 429 || err.status === 502 || err.status === 503 || err.status === 504);
  }

  private async create(kind: TaskKind, body: Record<string, unknown>, scope: CallScope): Promise<string> {
    const url = `${this.base}/openapi/v1/${kind}`;
    // A task is paid for once Meshy accepts it: a creation in flight is never abandoned (its id would be
    // lost and a restart would pay again). The job's signal only stops further attempts.
    const answer = await withRetries(
      () => callJson<{ result?: unknown }>({ provider: PROVIDER, method: 'POST', url, headers: this.headers(), body, timeoutMs: this.opts.timeoutMs, dispatcher: this.opts.dispatcher, secrets: this.opts.secrets }),
      this.retryOptions({ deadline: scope.deadline }, (err) => !scope.signal?.aborted && MeshyClient.safeToResubmit(err)),
    );
    const id = answer.body?.result;
    if (typeof id !== 'string' || id === '') {
      throw new ProviderCallError({ provider: PROVIDER, endpoint: `POST /openapi/v1/${kind}`, kind: 'parse', providerMessage: 'no task id in the answer' });
    }
    return id;
  }

  /** POST /openapi/v1/rigging → the rig task id. */
  createRig(input: { model_url: string; height_meters: number }, scope: CallScope = {}): Promise<string> {
    return this.create('rigging', input, scope);
  }

  /** POST /openapi/v1/animations → the animation task id. */
  createAnimation(input: { rig_task_id: string; action_id: number; post_process?: { operation_type: 'change_fps'; fps: number } }, scope: CallScope = {}): Promise<string> {
    return this.create('animations', input, scope);
  }

  /** GET a task (retried on transient failures: reading is free). */
  async getTask(kind: TaskKind, id: string, scope: CallScope = {}): Promise<MeshyTask> {
    const url = `${this.base}/openapi/v1/${kind}/${encodeURIComponent(id)}`;
    const answer = await withRetries(
      () => callJson({ provider: PROVIDER, method: 'GET', url, headers: this.headers(), signal: scope.signal, timeoutMs: this.opts.timeoutMs, dispatcher: this.opts.dispatcher, secrets: this.opts.secrets }),
      this.retryOptions(scope),
    );
    return asTask(answer.body, `GET /openapi/v1/${kind}/:id`);
  }

  /** DELETE a task (cancels it when it is still running). */
  async deleteTask(kind: TaskKind, id: string, scope: CallScope = {}): Promise<void> {
    const url = `${this.base}/openapi/v1/${kind}/${encodeURIComponent(id)}`;
    await withRetries(
      () => callJson({ provider: PROVIDER, method: 'DELETE', url, headers: this.headers(), signal: scope.signal, timeoutMs: this.opts.timeoutMs, dispatcher: this.opts.dispatcher, secrets: this.opts.secrets }),
      { ...this.retryOptions(scope), retries: 2 },
    );
  }

  /**
   * Opens a task's SSE stream. Resolves once the answer's headers are in; a refused stream (non-2xx,
   * or not `text/event-stream`) throws ProviderCallError. The body has no transport idle timeout: the
   * caller judges silence on its own clock and aborts `signal`.
   */
  async openStream(kind: TaskKind, id: string, signal: AbortSignal): Promise<AsyncIterable<Uint8Array>> {
    const url = `${this.base}/openapi/v1/${kind}/${encodeURIComponent(id)}/stream`;
    const endpoint = `GET /openapi/v1/${kind}/:id/stream`;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: 'GET',
        headers: { ...this.headers(), accept: 'text/event-stream', 'cache-control': 'no-cache' },
        signal,
        dispatcher: this.opts.dispatcher,
        headersTimeout: this.opts.timeoutMs ?? 30_000,
        bodyTimeout: 0,
      });
    } catch (err) {
      throw new ProviderCallError({ provider: PROVIDER, endpoint, kind: 'network', cause: err });
    }
    const type = String(res.headers['content-type'] ?? '');
    if (res.statusCode < 200 || res.statusCode >= 300 || !type.includes('text/event-stream')) {
      await res.body.dump().catch(() => undefined);
      throw new ProviderCallError({ provider: PROVIDER, endpoint, kind: res.statusCode >= 300 ? 'http' : 'parse', status: res.statusCode });
    }
    return res.body;
  }

  /**
   * Downloads a result file. Its URL is pre-signed, so it gets no credentials, wherever it points (even
   * the API's own origin); the egress policy decides whether it is fetched at all. Transient failures are
   * retried; an expired link (403/404/410) and a refused host are not.
   */
  downloadFile(url: string, maxBytes: number, scope: CallScope = {}): Promise<Uint8Array> {
    return withRetries(
      () => download(url, { provider: PROVIDER, maxBytes, signal: scope.signal, dispatcher: this.opts.dispatcher, egress: this.opts.egress, timeoutMs: 120_000 }),
      this.retryOptions(scope),
    );
  }
}
