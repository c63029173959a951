/**
 * The page's view of the gateway, a thin layer over the typed client (src/client): a generation whose
 * progress comes live from the job's event stream (or from the client's /status polls once the stream
 * fails), and errors as the page shows them (the envelope's message and action).
 */
import { MotionGatewayClient, MotionGatewayError, type GenerateRequest, type JobStatus } from '../../../src/client/index.js';

/** An error as the page shows it: the envelope's message and action, its code, the fields to fix. */
export interface ErrorView {
  message: string;
  action?: string;
  code?: string;
  errors: string[];
}

/** Which transport fed a progress report: the job's SSE stream, or the /status polls that stand in when it fails. */
export type ProgressSource = 'events' | 'status';

/** A client of the gateway that served this page, sending the key typed into the page (if any). */
export function gatewayClient(apiKey: string | undefined): MotionGatewayClient {
  return new MotionGatewayClient({ baseUrl: location.origin, ...(apiKey ? { apiKey } : {}) });
}

/**
 * Generates a GLB: the client submits it as a job, follows the job's live events (progress as it
 * happens, the answer the moment it is done) and polls `/status` instead when the stream fails; each
 * report is passed on with the transport that brought it. An abort cancels the job at the gateway.
 */
export async function generateGlb(
  client: MotionGatewayClient,
  request: GenerateRequest,
  opts: { signal: AbortSignal; onProgress: (status: JobStatus, source: ProgressSource) => void },
): Promise<Uint8Array> {
  const answer = await client.generate(request, {
    format: 'glb',
    signal: opts.signal,
    onProgress: (status, via) => {
      if (!opts.signal.aborted) opts.onProgress(status, via === 'events' ? 'events' : 'status');
    },
  });
  return answer.bytes;
}

export function describeError(err: unknown): ErrorView {
  if (err instanceof MotionGatewayError) {
    const listed = (err.details as { errors?: Array<{ path?: string; message?: string } | string> } | null)?.errors;
    return {
      message: err.message,
      ...(err.action ? { action: err.action } : {}),
      // Status 0: no answer arrived, so there is no HTTP status to name.
      code: err.status ? `${err.errorCode ?? err.code} · HTTP ${err.status}` : err.code,
      errors: (Array.isArray(listed) ? listed : []).slice(0, 5).map((e) => (typeof e === 'string' ? e : `${e.path ?? ''} ${e.message ?? ''}`.trim())),
    };
  }
  return { message: err instanceof Error ? err.message : String(err), errors: [] };
}
