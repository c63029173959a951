/** Idempotency keys as a unit: first use, replay, conflict, attaching duplicates, abandoning, expiry. */
import { afterEach, describe, expect, it } from 'vitest';
import { IdempotencyKeys, isValidIdempotencyKey } from '../../src/jobs/idempotency.js';
import { SqliteStore as Store } from '../../src/jobs/sqlite-store.js';

let store: Store;
afterEach(() => store?.close());

function keys(ttlS = 60): IdempotencyKeys {
  store = new Store(':memory:');
  return new IdempotencyKeys(store, ttlS);
}

describe('IdempotencyKeys', () => {
  it('accepts 1-255 printable ASCII characters only', () => {
    expect(isValidIdempotencyKey('a')).toBe(true);
    expect(isValidIdempotencyKey('x'.repeat(255))).toBe(true);
    expect(isValidIdempotencyKey('')).toBe(false);
    expect(isValidIdempotencyKey('x'.repeat(256))).toBe(false);
    expect(isValidIdempotencyKey('with space')).toBe(false);
    expect(isValidIdempotencyKey('é')).toBe(false);
  });

  it('reserves a new key, then replays the stored answer for the same body and refuses another', async () => {
    const k = keys();
    expect(await k.begin('alice', 'k1', 'fp1')).toEqual({ kind: 'new' });
    await k.complete('alice', 'k1', 200, { 'X-Job-ID': 'job_1' }, null);
    const again = await k.begin('alice', 'k1', 'fp1');
    expect(again.kind).toBe('replay');
    expect(again.kind === 'replay' && again.row.status).toBe(200);
    expect(await k.begin('alice', 'k1', 'fp2')).toEqual({ kind: 'conflict' });
  });

  it('scopes keys per caller', async () => {
    const k = keys();
    await k.begin('alice', 'k1', 'fp1');
    expect(await k.begin('bob', 'k1', 'other')).toEqual({ kind: 'new' });
  });

  it('makes a concurrent duplicate wait for the first request and attach to its job', async () => {
    const k = keys();
    await k.begin('alice', 'k1', 'fp1');
    const duplicate = k.begin('alice', 'k1', 'fp1');
    let settled = false;
    void duplicate.then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    await k.assignJob('alice', 'k1', 'job_42', 'fp1');
    expect(await duplicate).toEqual({ kind: 'attach', jobId: 'job_42' });
  });

  it('forgets an abandoned reservation so a corrected request may reuse the key', async () => {
    const k = keys();
    await k.begin('alice', 'k1', 'fp1');
    expect(await k.begin('alice', 'k1', 'fp2')).toEqual({ kind: 'conflict' }); // another body while in flight
    const waiting = k.begin('alice', 'k1', 'fp1');
    await k.abandon('alice', 'k1');
    expect(await waiting).toEqual({ kind: 'new' });
  });

  it('treats a reservation left by a stopped process as never made', async () => {
    const k = keys();
    await k.begin('alice', 'k1', 'fp1');
    const fresh = new IdempotencyKeys(store, 60); // another process: it holds no pending reservation
    expect(await fresh.begin('alice', 'k1', 'fp1')).toEqual({ kind: 'new' });
  });

  it('forgets a key after its time to live', async () => {
    const k = keys(60);
    await k.begin('alice', 'k1', 'fp1');
    await k.complete('alice', 'k1', 200, {}, null);
    const row = (await store.getIdempotency('alice', 'k1'))!;
    await store.putIdempotency({ ...row, expires_at: Date.now() - 1 });
    expect(await k.begin('alice', 'k1', 'fp2')).toEqual({ kind: 'new' });
  });
});
