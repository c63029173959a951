/** The async job endpoints: poll (MMCP; results streamed from the store), cancel (MMCP), and the status view for progress bars (our addition). */
import type { Request, Response } from 'express';
import { GatewayError } from '../../spec/errors.js';
import type { JobStatus } from '../../spec/wire.js';
import { servedByOf, type JobRow } from '../../jobs/store.js';
import type { GatewayContext } from '../context.js';
import { negotiateMotion } from '../negotiate.js';
import { jobError, sendJob } from '../respond.js';

/** The caller's job, or 404 for unknown, expired and other keys' jobs alike (ids reveal nothing). */
export async function ownJob(gw: GatewayContext, req: Request, res: Response): Promise<JobRow> {
  const id = String(req.params.id);
  const row = /^job_[A-Za-z0-9_-]{10,64}$/.test(id) ? await gw.store.getJob(id) : undefined;
  if (!row || row.owner !== res.locals.owner || (row.expires_at !== null && row.expires_at <= gw.clock.now())) {
    throw new GatewayError('MG-JOB-001');
  }
  return row;
}

export function getJob(gw: GatewayContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const row = await ownJob(gw, req, res);
    const media = negotiateMotion(req.headers.accept);
    if (!media) throw new GatewayError('MG-REQ-006');
    await sendJob(res, row, media, gw, { 'X-Job-ID': row.id });
  };
}

export function deleteJob(gw: GatewayContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const row = await ownJob(gw, req, res);
    if (row.state === 'queued' || row.state === 'running') await gw.runner.cancel(row.id);
    else await gw.store.deleteJob(row.id); // a finished job: forget its result
    res.status(204).end();
  };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export async function jobStatusView(gw: GatewayContext, row: JobRow): Promise<JobStatus> {
  const unfinished = row.state === 'queued' || row.state === 'running';
  const ownQueue = unfinished ? await gw.runner.queuePosition(row.id, row.provider) : undefined;
  const view: JobStatus = {
    job_id: row.id,
    state: row.state,
    model: row.model,
    served_by: { model: servedByOf(row).model, provider: servedByOf(row).provider },
    progress: row.state === 'succeeded' ? 1 : row.progress,
    queue_position: ownQueue ?? (unfinished ? row.queue_position : null),
    created_at: iso(row.created_at)!,
    started_at: iso(row.started_at),
    updated_at: iso(row.updated_at)!,
    finished_at: iso(row.finished_at),
    expires_at: iso(row.expires_at),
  };
  if (unfinished) view.retry_after_s = await gw.runner.retryAfterS(row);
  if (row.state === 'failed' || row.state === 'cancelled') view.error = jobError(row).toEnvelope();
  return view;
}

export function getJobStatus(gw: GatewayContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const row = await ownJob(gw, req, res);
    const view = await jobStatusView(gw, row);
    if (view.retry_after_s) res.setHeader('Retry-After', String(view.retry_after_s));
    res.setHeader('Cache-Control', 'no-store');
    res.status(200).json(view);
  };
}
