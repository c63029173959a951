/** Answers for a job in the MMCP way: 200 with glTF, the error envelope, or 202 with Location and Retry-After. */
import type { Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { GatewayError } from '../spec/errors.js';
import type { JobRow, Store } from '../jobs/store.js';
import type { JobRunner } from '../jobs/runner.js';
import type { MotionMediaType } from './negotiate.js';
import { sendError } from './http.js';
import { glbJson } from '../jobs/glb-layout.js';
import { glbPieces, jsonGltfOf } from './stream-gltf.js';
import { withIgnoredFields, withServedBy } from './ignored-header.js';
import { PROMPT_UNRECOGNIZED_HEADER, promptUnrecognizedHeader } from './understood-header.js';

export const jobPath = (id: string) => `/generate/jobs/${id}`;

/** What answering a job needs from the gateway. */
export type JobAnswerContext = { store: Store; runner: JobRunner };

/**
 * Writes an answer body piece by piece, waiting for 'drain' whenever the socket is behind (stream.pipeline),
 * so memory holds a piece or two, never the whole answer. A client that hangs up midway is not an error.
 */
export async function writePieces(res: Response, pieces: AsyncIterable<Buffer | string>): Promise<void> {
  if (res.req.method === 'HEAD') {
    res.end();
    return;
  }
  try {
    await pipeline(pieces, res);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') return;
    throw err;
  }
}

async function sendMotion(res: Response, gw: JobAnswerContext, row: JobRow, media: MotionMediaType, headers: Record<string, string> = {}): Promise<void> {
  let result;
  try {
    result = await gw.store.openResult(row);
  } catch (err) {
    if (err instanceof GatewayError) return sendError(res, err, headers); // the result file is gone: MG-JOB-007
    throw err;
  }
  try {
    const body = media === 'model/gltf-binary' ? { byteLength: result.byteLength, pieces: () => glbPieces(result) } : await jsonGltfOf(result);
    const unrecognized = promptUnrecognizedHeader(await glbJson(result));
    res.status(200);
    res.setHeader('Content-Type', media === 'model/gltf-binary' ? media : `${media}; charset=utf-8`);
    res.setHeader('Content-Location', jobPath(row.id));
    res.setHeader('Vary', 'Accept');
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    if (unrecognized) res.setHeader(PROMPT_UNRECOGNIZED_HEADER, unrecognized);
    res.setHeader('Content-Length', String(body.byteLength));
    await writePieces(res, body.pieces());
  } finally {
    await result.close();
  }
}

/** The error a final, unsuccessful job answers with. */
export function jobError(row: JobRow): GatewayError {
  if (row.state === 'cancelled') return new GatewayError('MG-JOB-005', undefined, { details: { job_id: row.id } });
  return GatewayError.fromJSON(JSON.parse(row.error ?? '{"id":"MG-SRV-001","message":"The job failed.","details":null}'));
}

export function acceptedBody(row: JobRow): { job_id: string; submitted_at: string } {
  return { job_id: row.id, submitted_at: new Date(row.created_at).toISOString() };
}

/** 202 for a job that is still queued or running. */
async function sendAccepted(res: Response, row: JobRow, runner: JobRunner, headers: Record<string, string> = {}): Promise<void> {
  const retryAfterS = await runner.retryAfterS(row);
  res.status(202);
  res.setHeader('Location', jobPath(row.id));
  res.setHeader('Retry-After', String(retryAfterS));
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.end(JSON.stringify(acceptedBody(row)));
}

/** Answers with whatever state the job is in now; a succeeded job's glTF is streamed from the store. */
export async function sendJob(res: Response, row: JobRow, media: MotionMediaType, gw: JobAnswerContext, given: Record<string, string> = {}): Promise<void> {
  const headers = withServedBy(row, withIgnoredFields(row, given));
  if (row.state === 'succeeded') await sendMotion(res, gw, row, media, headers);
  else if (row.state === 'failed' || row.state === 'cancelled') sendError(res, jobError(row), headers);
  else await sendAccepted(res, row, gw.runner, headers);
}
