/** Answers for a job in the MMCP way: 200 with glTF, the error envelope, or 202 with Location and Retry-After. */
import type { Response } from 'express';
import { GatewayError } from '../spec/errors.js';
import { glbToJson } from '../motion/gltf.js';
import type { JobRow } from '../jobs/store.js';
import type { JobRunner } from '../jobs/runner.js';
import type { MotionMediaType } from './negotiate.js';
import { sendError } from './http.js';

export const jobPath = (id: string) => `/generate/jobs/${id}`;

/** The glTF bytes of a finished job in the negotiated format. */
export function motionBytes(row: JobRow, media: MotionMediaType): Uint8Array {
  const glb = new Uint8Array(row.result!.buffer, row.result!.byteOffset, row.result!.byteLength);
  return media === 'model/gltf-binary' ? glb : glbToJson(glb);
}

function sendMotion(res: Response, row: JobRow, media: MotionMediaType, headers: Record<string, string> = {}): void {
  const bytes = motionBytes(row, media);
  res.status(200);
  res.setHeader('Content-Type', media === 'model/gltf-binary' ? media : `${media}; charset=utf-8`);
  res.setHeader('Content-Location', jobPath(row.id));
  res.setHeader('Vary', 'Accept');
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
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
function sendAccepted(res: Response, row: JobRow, runner: JobRunner, headers: Record<string, string> = {}): void {
  res.status(202);
  res.setHeader('Location', jobPath(row.id));
  res.setHeader('Retry-After', String(runner.retryAfterS(row)));
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.end(JSON.stringify(acceptedBody(row)));
}

/** Answers with whatever state the job is in now. */
export function sendJob(res: Response, row: JobRow, media: MotionMediaType, runner: JobRunner, headers: Record<string, string> = {}): void {
  if (row.state === 'succeeded') sendMotion(res, row, media, headers);
  else if (row.state === 'failed' || row.state === 'cancelled') sendError(res, jobError(row), headers);
  else sendAccepted(res, row, runner, headers);
}
