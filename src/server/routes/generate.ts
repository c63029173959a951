/**
 * POST /generate: one request or a batch. The body is size-capped, parsed and validated in the MMCP order;
 * each request becomes a job; the answer is 200 with glTF when the job finishes within the wait, else 202.
 * Idempotency-Key replays the first answer, attaches duplicates to the first job, refuses a changed body.
 */
import type { Request, Response } from 'express';
import { GatewayError, asGatewayError } from '../../spec/errors.js';
import { parseJsonBody } from '../../protocol/body.js';
import { fingerprint } from '../../protocol/canonical.js';
import { describeErrors, lenientValidators, validators } from '../../protocol/schemas.js';
import { checkVersion } from '../../protocol/validate.js';
import { isNewerMinor } from '../../spec/version.js';
import type { BatchRequest } from '../../spec/wire.js';
import { checkBatchAdmission } from '../../jobs/admission.js';
import { isValidIdempotencyKey } from '../../jobs/idempotency.js';
import type { IdempotencyRow, JobRow } from '../../jobs/store.js';
import type { GatewayContext } from '../context.js';
import { isJsonContentType, readBody } from '../http.js';
import { acceptsJson, negotiateMotion, type MotionMediaType } from '../negotiate.js';
import { acceptedBody, jobError, jobPath, sendJob } from '../respond.js';
import { withIgnoredFields, withServedBy } from '../ignored-header.js';
import { batchItemOf, batchManifest, readBatchManifest, sendBatch } from '../batch-answer.js';
import { admitWithinJobLimit } from '../rate-limit.js';
import type { Span, SpanContext } from '@opentelemetry/api';

interface Prefer {
  respondAsync: boolean;
  /** RFC 7240 wait=N, in seconds. */
  waitS?: number;
}

function parsePrefer(header: string | undefined): Prefer {
  const out: Prefer = { respondAsync: false };
  for (const token of (header ?? '').split(/[,;]/)) {
    const [k, v] = token.trim().toLowerCase().split('=');
    if (k === 'respond-async') out.respondAsync = true;
    if (k === 'wait' && v && /^\d+$/.test(v.trim())) out.waitS = Number(v.trim());
  }
  return out;
}

interface IdemHandle {
  scope: string;
  key: string;
  fingerprint: string;
}

/** How long to hold the connection for a result before answering 202. */
function waitMsFor(gw: GatewayContext, prefer: Prefer, supportsAsync: boolean): number {
  if (!supportsAsync) return gw.config.jobTimeoutS * 1000;
  if (prefer.respondAsync) return 0;
  return Math.min(gw.config.syncWaitMs, prefer.waitS !== undefined ? prefer.waitS * 1000 : Infinity);
}

async function answerForJob(
  gw: GatewayContext,
  req: Request,
  res: Response,
  jobId: string,
  media: MotionMediaType,
  supportsAsync: boolean,
  idem: IdemHandle | undefined,
  extra: Record<string, string>,
): Promise<void> {
  const prefer = parsePrefer([req.headers.prefer ?? []].flat().join(','));
  const closed = new AbortController();
  res.on('close', () => closed.abort());
  const respondAsync = prefer.respondAsync && supportsAsync;
  if (!respondAsync) await gw.runner.waitFor(jobId, waitMsFor(gw, prefer, supportsAsync), closed.signal);
  const found = await gw.store.getJob(jobId);
  if (!found) throw new GatewayError('MG-JOB-001');
  // Prefer: respond-async gets 202 at once, even when the job happened to finish already.
  const row: JobRow = respondAsync ? { ...found, state: found.state === 'queued' ? 'queued' : 'running' } : found;
  const headers = { ...extra };
  if (respondAsync) headers['Preference-Applied'] = 'respond-async';
  if (idem) {
    if (row.state === 'succeeded') await gw.idempotency.complete(idem.scope, idem.key, 200, { 'X-Job-ID': row.id }, null);
    else if (row.state === 'queued' || row.state === 'running') {
      await gw.idempotency.complete(idem.scope, idem.key, 202, { Location: jobPath(row.id), 'X-Job-ID': row.id }, Buffer.from(JSON.stringify(acceptedBody(row))));
    } else {
      await gw.idempotency.complete(idem.scope, idem.key, jobError(row).status, { 'X-Job-ID': row.id }, Buffer.from(JSON.stringify(jobError(row).toEnvelope())));
    }
  }
  await sendJob(res, row, media, gw, { 'X-Job-ID': row.id, ...headers });
}

async function replay(gw: GatewayContext, res: Response, row: IdempotencyRow, media: MotionMediaType | null): Promise<void> {
  const headers: Record<string, string> = { ...(JSON.parse(row.headers ?? '{}') as Record<string, string>), 'Idempotent-Replayed': 'true' };
  const jobId = headers['X-Job-ID'];
  if (row.status === 200 && row.body === null) {
    const job = jobId ? await gw.store.getJob(jobId) : undefined;
    if (!job || job.state !== 'succeeded') throw new GatewayError('MG-JOB-001', 'The first answer to this Idempotency-Key is no longer available.');
    if (!media) throw new GatewayError('MG-REQ-006');
    return sendJob(res, job, media, gw, headers);
  }
  // A batch keeps a manifest of its items (batch-answer.ts): the answer is streamed again from the jobs.
  const batchItems = row.status === 200 && row.body ? readBatchManifest(row.body) : undefined;
  if (batchItems) return sendBatch(res, gw.store, batchItems, headers);
  res.status(row.status!);
  const job = jobId ? await gw.store.getJob(jobId) : undefined;
  if (row.status === 202) headers['Retry-After'] = String(job ? await gw.runner.retryAfterS(job) : 1);
  if (row.status === 429 || row.status === 503) headers['Retry-After'] ??= '5';
  for (const [k, v] of Object.entries(job ? withServedBy(job, withIgnoredFields(job, headers)) : headers)) res.setHeader(k, v);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(row.body ?? Buffer.alloc(0));
}

async function handleBatch(gw: GatewayContext, owner: string, body: unknown, res: Response, idem: IdemHandle | undefined): Promise<void> {
  // A batch of a newer minor: fields of the envelope this server does not know are ignored (its items are
  // read the same way, each on its own).
  const newer = !!body && typeof body === 'object' && isNewerMinor((body as { protocol_version?: unknown }).protocol_version);
  const validate = newer ? lenientValidators.batchRequest : validators.batchRequest;
  const checked = newer ? structuredClone(body) : body;
  if (!validate(checked)) {
    throw new GatewayError('MG-REQ-015', undefined, { details: { errors: describeErrors(validate.errors) } });
  }
  const batch = checked as BatchRequest;
  checkVersion(batch.protocol_version);
  if (batch.requests.length > gw.config.maxBatchSize) {
    throw new GatewayError('MG-PRO-013', `The batch has ${batch.requests.length} requests; at most ${gw.config.maxBatchSize} are accepted.`, {
      details: { max_batch_size: gw.config.maxBatchSize, option: 'max_batch_size' },
    });
  }
  // The whole batch's answers against their budget, before any item becomes a job.
  checkBatchAdmission(batch, gw.registry, gw.config.maxBatchOutputBytes);
  const items: Array<{ job?: JobRow; error?: GatewayError }> = [];
  for (const item of batch.requests) {
    try {
      const merged = { protocol_version: batch.protocol_version, ...(item as object) };
      const a = gw.runner.prepare(merged);
      if (!a.model.supports_batch) throw new GatewayError('MG-PRO-015', `Model "${a.model.id}" does not accept batch requests.`, { details: { field: 'model' } });
      items.push({ job: await admitWithinJobLimit(gw, owner, () => gw.runner.admit(a, owner, { sync: true, trace: spanOf(res) })) });
    } catch (err) {
      items.push({ error: asGatewayError(err) });
    }
  }
  const deadline = Date.now() + gw.config.syncWaitMs;
  await Promise.all(items.map((i) => (i.job ? gw.runner.waitFor(i.job.id, Math.max(0, deadline - Date.now())) : undefined)));
  // Streamed (batch-answer.ts): the answer is never one string; replay keeps the items, not the bytes.
  const answers = await Promise.all(items.map(async (i) => (i.error ? { envelope: i.error.toEnvelope() } : batchItemOf((await gw.store.getJob(i.job!.id))!))));
  if (idem) await gw.idempotency.complete(idem.scope, idem.key, 200, {}, batchManifest(answers));
  await sendBatch(res, gw.store, answers);
}

export function postGenerate(gw: GatewayContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const raw = await readBody(req, gw.config.maxRequestBytes);
    if (!isJsonContentType(req.headers['content-type'])) {
      throw new GatewayError('MG-REQ-005', undefined, { details: { content_type: (req.headers['content-type'] ?? '').slice(0, 100) || null } });
    }
    const body = parseJsonBody(raw, gw.config.maxJsonDepth);
    const isBatch = !!body && typeof body === 'object' && !Array.isArray(body) && 'requests' in body;
    const media = isBatch ? (acceptsJson(req.headers.accept) ? 'application/json' : null) : negotiateMotion(req.headers.accept);
    if (!media) throw new GatewayError('MG-REQ-006');
    const owner = res.locals.owner as string;

    const rawKey = req.headers['idempotency-key'];
    let idem: IdemHandle | undefined;
    if (rawKey !== undefined) {
      const key = Array.isArray(rawKey) ? rawKey[0] : rawKey;
      if (!isValidIdempotencyKey(key)) throw new GatewayError('MG-JOB-006', undefined, { details: { header: 'Idempotency-Key' } });
      const fp = fingerprint(body);
      const decision = await gw.idempotency.begin(owner, key, fp);
      if (decision.kind === 'conflict') throw new GatewayError('MG-JOB-002');
      if (decision.kind === 'replay') return replay(gw, res, decision.row, media === 'application/json' && !isBatch ? 'model/gltf+json' : media);
      if (decision.kind === 'attach') {
        const job = await gw.store.getJob(decision.jobId);
        if (!job) throw new GatewayError('MG-JOB-001');
        const model = gw.registry.model(job.model);
        return answerForJob(gw, req, res, job.id, media, model?.supports_async ?? true, undefined, {});
      }
      idem = { scope: owner, key, fingerprint: fp };
    }

    let assigned = false;
    try {
      if (isBatch) {
        await handleBatch(gw, owner, body, res, idem);
        assigned = true;
        return;
      }
      const a = gw.runner.prepare(body);
      const extra: Record<string, string> = {};
      if (idem && a.cost.sampleSeconds > gw.config.idempotencyMaxCost) {
        await gw.idempotency.abandon(idem.scope, idem.key);
        idem = undefined;
        extra['Idempotency-Status'] = 'declined';
      }
      const sync = !(parsePrefer([req.headers.prefer ?? []].flat().join(',')).respondAsync && a.model.supports_async);
      const job = await admitWithinJobLimit(gw, owner, () => gw.runner.admit(a, owner, { sync, trace: spanOf(res) }));
      if (idem) await gw.idempotency.assignJob(idem.scope, idem.key, job.id, idem.fingerprint);
      assigned = true;
      await answerForJob(gw, req, res, job.id, media, a.model.supports_async, idem, extra);
    } catch (err) {
      // Requests refused before a job exists are not stored: a corrected retry may reuse the key.
      if (idem && !assigned) await gw.idempotency.abandon(idem.scope, idem.key);
      throw err;
    }
  };
}

/** The request's span context (middleware.ts), for the spans of the jobs it creates. */
function spanOf(res: Response): SpanContext | undefined {
  return (res.locals.span as Span | undefined)?.spanContext();
}
