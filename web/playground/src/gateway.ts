/**
 * The page's view of the gateway: capabilities, a generation followed through its job's status (progress,
 * queue position, the serving provider), and errors as the page shows them (the envelope's message and action).
 */
import type { Capabilities, ErrorEnvelope, GenerateRequest, JobStatus } from '../../../src/spec/wire.js';

/** An error as the page shows it: the envelope's message and action, its code, the fields to fix. */
export interface ErrorView {
  message: string;
  action?: string;
  code?: string;
  errors: string[];
}

const POLL_MS = 250;

class EnvelopeError extends Error {
  constructor(readonly status: number, readonly envelope: ErrorEnvelope | undefined, fallback: string) {
    super(envelope?.error.message ?? fallback);
  }
}

export class PlaygroundClient {
  constructor(private readonly baseUrl: string, private readonly apiKey: string | undefined) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}), ...extra };
  }

  private async fail(res: Response): Promise<never> {
    let envelope: ErrorEnvelope | undefined;
    try {
      envelope = (await res.json()) as ErrorEnvelope;
    } catch {
      envelope = undefined;
    }
    throw new EnvelopeError(res.status, envelope?.error ? envelope : undefined, `The gateway answered ${res.status}.`);
  }

  async capabilities(): Promise<Capabilities> {
    const res = await fetch(`${this.baseUrl}/capabilities`, { headers: this.headers() });
    if (!res.ok) return this.fail(res);
    return (await res.json()) as Capabilities;
  }

  /**
   * Submits asynchronously (the answer comes from the job, so progress can be shown), follows the job's
   * `/status` until it is final, then fetches the GLB. An abort cancels the job at the gateway.
   */
  async generate(req: GenerateRequest, opts: { signal: AbortSignal; onProgress: (s: JobStatus) => void }): Promise<Uint8Array> {
    const glb = { accept: 'model/gltf-binary' };
    let res = await fetch(`${this.baseUrl}/generate`, {
      method: 'POST',
      signal: opts.signal,
      headers: this.headers({ ...glb, 'content-type': 'application/json; charset=utf-8', prefer: 'respond-async' }),
      body: JSON.stringify(req),
    });
    if (res.status === 202) {
      const job = `${this.baseUrl}${res.headers.get('location')}`;
      const cancel = () => void fetch(job, { method: 'DELETE', headers: this.headers() }).catch(() => undefined);
      opts.signal.addEventListener('abort', cancel, { once: true });
      try {
        for (;;) {
          const status = await fetch(`${job}/status`, { signal: opts.signal, headers: this.headers() });
          if (!status.ok) return await this.fail(status);
          const view = (await status.json()) as JobStatus;
          opts.onProgress(view);
          if (view.state !== 'queued' && view.state !== 'running') break;
          // A progress bar wants more than the Retry-After cadence; /status polls are never rate-limited.
          await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        }
        res = await fetch(job, { signal: opts.signal, headers: this.headers(glb) });
      } finally {
        opts.signal.removeEventListener('abort', cancel);
      }
    }
    if (!res.ok) return this.fail(res);
    return new Uint8Array(await res.arrayBuffer());
  }
}

export function describeError(err: unknown): ErrorView {
  if (err instanceof EnvelopeError && err.envelope) {
    const details = err.envelope.error.details as { errors?: Array<{ path?: string; message?: string } | string> } | null;
    return {
      message: err.envelope.error.message,
      action: err.envelope.detail?.action,
      code: `${err.envelope.detail?.error_code ?? err.envelope.error.code} · HTTP ${err.status}`,
      errors: (details?.errors ?? []).slice(0, 5).map((e) => (typeof e === 'string' ? e : `${e.path ?? ''} ${e.message ?? ''}`.trim())),
    };
  }
  return { message: err instanceof Error ? err.message : String(err), errors: [] };
}
