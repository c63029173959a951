/**
 * The answer to a batch, `{"results":[{"gltf":{…}} | envelope, …]}`, written as a stream: each item's
 * JSON glTF is streamed from the store (stream-gltf.ts) between small strings of JSON, so a batch of
 * large results is never built as one string. What an Idempotency-Key stores for replay is a small
 * manifest (the job of each item, or the envelope it answered), not the answer's bytes.
 */
import type { Response } from 'express';
import { GatewayError } from '../spec/errors.js';
import type { ErrorEnvelope } from '../spec/wire.js';
import type { JobRow, Store } from '../jobs/store.js';
import type { StoredResult } from '../jobs/stored-result.js';
import { jobError, jobPath, writePieces } from './respond.js';
import { jsonGltfOf, type JsonGltf } from './stream-gltf.js';

/** One item of a batch answer: the succeeded job whose glTF it is, or the envelope it answers. */
export type BatchItem = { job_id: string } | { envelope: ErrorEnvelope };

/** The manifest an Idempotency-Key keeps for replay. */
interface BatchManifest {
  batch_items: BatchItem[];
}

/** The item for an admitted job as it stands now (a job still running is answered with 504 timeout). */
export function batchItemOf(row: JobRow): BatchItem {
  if (row.state === 'succeeded') return { job_id: row.id };
  if (row.state === 'failed' || row.state === 'cancelled') return { envelope: jobError(row).toEnvelope() };
  return {
    envelope: new GatewayError('MG-JOB-004', 'This batch item is still running; poll its job.', {
      details: { job_id: row.id, location: jobPath(row.id) },
    }).toEnvelope(),
  };
}

export function batchManifest(items: BatchItem[]): Buffer {
  return Buffer.from(JSON.stringify({ batch_items: items } satisfies BatchManifest));
}

/** The items of a stored manifest, or undefined for a body stored whole (before manifests existed). */
export function readBatchManifest(body: Buffer): BatchItem[] | undefined {
  const parsed = JSON.parse(body.toString('utf8')) as Partial<BatchManifest>;
  return Array.isArray(parsed.batch_items) ? parsed.batch_items : undefined;
}

type Part = { kind: 'gltf'; gltf: JsonGltf } | { kind: 'envelope'; envelope: ErrorEnvelope };

async function* batchPieces(parts: Part[]): AsyncGenerator<Buffer | string> {
  yield '{"results":[';
  for (const [i, part] of parts.entries()) {
    if (i) yield ',';
    if (part.kind === 'envelope') {
      yield JSON.stringify(part.envelope);
      continue;
    }
    yield '{"gltf":';
    yield* part.gltf.pieces();
    yield '}';
  }
  yield ']}';
}

/**
 * Answers 200 with the batch. Every result is opened before the status is sent, so an item whose job
 * expired (MG-JOB-001) or whose result file vanished (MG-JOB-007) is answered by its envelope, in place.
 */
export async function sendBatch(res: Response, store: Store, items: BatchItem[], headers: Record<string, string> = {}): Promise<void> {
  const opened: StoredResult[] = [];
  try {
    const parts: Part[] = [];
    for (const item of items) {
      if ('envelope' in item) {
        parts.push({ kind: 'envelope', envelope: item.envelope });
        continue;
      }
      const row = await store.getJob(item.job_id);
      try {
        if (!row || row.state !== 'succeeded') throw new GatewayError('MG-JOB-001', undefined, { details: { job_id: item.job_id } });
        const result = await store.openResult(row);
        opened.push(result);
        parts.push({ kind: 'gltf', gltf: await jsonGltfOf(result) });
      } catch (err) {
        if (!(err instanceof GatewayError)) throw err;
        parts.push({ kind: 'envelope', envelope: err.toEnvelope() });
      }
    }
    res.status(200);
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    await writePieces(res, batchPieces(parts));
  } finally {
    await Promise.all(opened.map((r) => r.close()));
  }
}
