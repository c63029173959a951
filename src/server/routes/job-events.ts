/**
 * GET /generate/jobs/{id}/events (our addition): a job's status as Server-Sent Events — an event whenever its
 * state, progress, queue position or serving model changes, a keepalive comment every 15 s, and a final
 * `done` event with the final status, after which the stream ends. Each event's data is the /status JSON.
 * The store is read on an interval (so a job another instance runs is followed too), and the runner wakes
 * the stream at once when the job finishes here.
 */
import type { Request, Response } from 'express';
import { GatewayError } from '../../spec/errors.js';
import type { JobStatus } from '../../spec/wire.js';
import type { GatewayContext } from '../context.js';
import { jobStatusView, ownJob } from './jobs.js';

/** How often the store is read for changes. */
const POLL_MS = 300;
/** A comment this often keeps proxies and load balancers from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

/** What a listener sees change; timestamps alone (updated_at on every checkpoint) are no news. */
const fingerprint = (v: JobStatus) => JSON.stringify([v.state, v.progress, v.queue_position, v.served_by?.model, v.served_by?.provider]);

export function getJobEvents(gw: GatewayContext) {
  return async (req: Request, res: Response): Promise<void> => {
    // Ownership is checked before the stream starts, so an unknown or foreign job is the usual 404 envelope.
    const first = await ownJob(gw, req, res);
    const owner = res.locals.owner as string;
    const closed = new AbortController();
    res.on('close', () => closed.abort());
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    try {
      let row = first;
      let last = '';
      while (!closed.signal.aborted) {
        const view = await jobStatusView(gw, row);
        if (FINAL.has(view.state)) {
          send('done', view);
          break;
        }
        const fp = fingerprint(view);
        if (fp !== last) send('status', view);
        last = fp;
        const started = performance.now();
        await gw.runner.waitFor(row.id, POLL_MS, closed.signal);
        if (closed.signal.aborted) break;
        const next = await gw.store.getJob(row.id);
        if (!next || next.owner !== owner) {
          send('error', new GatewayError('MG-JOB-001').toEnvelope());
          break;
        }
        // The runner wakes waiters early only when the job finished or the gateway is stopping: an
        // unfinished job woken early means a drain, and a stream must not hold the shutdown's grace.
        if (!FINAL.has(next.state) && performance.now() - started < POLL_MS - 20) break;
        row = next;
      }
    } finally {
      clearInterval(keepalive);
      res.end();
    }
  };
}
