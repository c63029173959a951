/** Rows and readers the store tests share: deterministic bytes, a job row, a stored result read back in pieces. */
import type { NewJobRow, Store } from '../../src/jobs/store.js';
import { readPieces } from '../../src/jobs/stored-result.js';

/** Deterministic bytes (a linear congruential sequence): each length and seed gives different, repeatable content. */
export function bytes(length: number, seed = 1): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** A queued procedural job created at `t0`, with `over` applied. */
export function jobRow(id: string, t0: number, over: Partial<NewJobRow> = {}): NewJobRow {
  return {
    id,
    owner: 'alice',
    model: 'procedural',
    provider: 'procedural',
    request: '{"prompt":"wave"}',
    seed: 7,
    state: 'queued',
    checkpoint: '{}',
    progress: null,
    queue_position: null,
    wait_ms: null,
    result: null,
    error: null,
    cache_key: null,
    created_at: t0,
    started_at: null,
    updated_at: t0,
    finished_at: null,
    expires_at: null,
    deadline: t0 + 600_000,
    ...over,
  };
}

/** A job's stored result read back whole, in pieces of `pieceBytes`. */
export async function readAll(s: Store, id: string, pieceBytes = 64 * 1024): Promise<Buffer> {
  const result = await s.openResult((await s.getJob(id))!);
  try {
    const pieces: Buffer[] = [];
    for await (const p of readPieces(result, 0, result.byteLength, pieceBytes)) pieces.push(p);
    return Buffer.concat(pieces);
  } finally {
    await result.close();
  }
}
