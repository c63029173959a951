/**
 * Async accept latency: `Prefer: respond-async` POST /generate of 10 s × 8-sample clips answers 202 after
 * the job's durable insert (a database file, as in production), before any motion work starts; and the
 * queue bound: a flood against MAX_QUEUED_JOBS=16 is answered 503 (MG-JOB-003, Retry-After) beyond it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { proceduralBody, proceduralSkeleton, warmUp } from './requests.js';
import { load, msOf, probe, startGateway, type ChildServer, type Row } from './util.js';

/** Accepts per second in the latency run: several times what the pool finishes, so the queue grows throughout. */
const ACCEPT_RATE = 20;
const FLOOD_QUEUE_BOUND = 16;
const FLOOD_REQUESTS = 300;

async function withGateway<T>(env: Record<string, string>, fn: (gw: ChildServer) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-async-'));
  const gw = await startGateway({ DB_PATH: join(dir, 'gateway.db'), ...env });
  try {
    await warmUp(gw.url);
    return await fn(gw);
  } finally {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const asyncRequest = (url: string, body: string) => ({
  url: `${url}/generate`,
  method: 'POST' as const,
  body,
  headers: { 'content-type': 'application/json', accept: 'model/gltf-binary', prefer: 'respond-async' },
});

const statusList = (statuses: Record<string, number>) =>
  Object.entries(statuses)
    .map(([s, n]) => `${s} × ${n}`)
    .join(', ');

export async function asyncSuite(durationS: number): Promise<Row[]> {
  const suite = 'generate (async accept, procedural)';
  const rows: Row[] = [];
  // The same accepts on a database file (each insert committed with fsync, as in production) and in memory (no fsync).
  let fileP50 = NaN;
  for (const db of ['file', 'memory'] as const) {
    await withGateway({ MAX_QUEUED_JOBS: '100000', ...(db === 'memory' ? { DB_PATH: ':memory:' } : {}) }, async (gw) => {
      const body = proceduralBody({ skeleton: await proceduralSkeleton(gw.url), seconds: 10, samples: 8 });
      const r = await probe({ ...asyncRequest(gw.url, body), rate: ACCEPT_RATE, durationS });
      if (db === 'file') fileP50 = r.p50;
      rows.push({
        suite,
        metric: `202 latency, 10 s × 8 samples, Prefer: respond-async, ${db === 'file' ? 'database file' : ':memory: store'}`,
        value: `p50 ${msOf(r.p50)} / p99 ${msOf(r.p99)}`,
        note:
          `max ${msOf(r.max)}; ${ACCEPT_RATE} req/s open-loop, ${r.requests} requests (${statusList(r.statuses)}), the pool finishing a few a second meanwhile` +
          (db === 'file' ? '; target p50 < 5 ms' : `; file ÷ memory p50 ${(fileP50 / r.p50).toFixed(2)} (synchronous commits on the event loop)`),
      });
    });
  }
  await withGateway({ MAX_QUEUED_JOBS: String(FLOOD_QUEUE_BOUND) }, async (gw) => {
    const body = proceduralBody({ skeleton: await proceduralSkeleton(gw.url), seconds: 10, samples: 8 });
    const r = await load({ ...asyncRequest(gw.url, body), connections: 16, amount: FLOOD_REQUESTS });
    // One refusal read in full: a burst twice the bound, so some of it is refused whatever drained meanwhile.
    const burst = await Promise.all(
      Array.from({ length: 2 * FLOOD_QUEUE_BOUND }, async () => {
        const answer = await fetch(`${gw.url}/generate`, { method: 'POST', body, headers: asyncRequest(gw.url, body).headers });
        return { status: answer.status, retryAfter: answer.headers.get('retry-after'), text: await answer.text() };
      }),
    );
    const refusal = burst.find((a) => a.status === 503);
    const envelope = refusal ? (JSON.parse(refusal.text) as { detail?: { error_code?: string } }) : undefined;
    rows.push({
      suite,
      metric: `queue bound: flood of ${FLOOD_REQUESTS} against MAX_QUEUED_JOBS=${FLOOD_QUEUE_BOUND}`,
      value: `${r.statuses['503'] ?? 0} × 503 of ${r.requests}`,
      note: `${statusList(r.statuses)} (16 connections, closed loop; 202 p99 ${r.p99} ms); a 503 reads ${envelope?.detail?.error_code ?? 'none seen'}, Retry-After ${refusal?.retryAfter ?? 'none'}`,
    });
  });
  return rows;
}
