/**
 * Idempotency keys: scoped per API key, stored durably, bound to a fingerprint of the canonical request
 * body. A key is reserved before validation, so concurrent duplicates wait for the first and then share
 * its job instead of starting a second generation.
 */
import type { IdempotencyRow, Store } from './store.js';

export type IdempotencyDecision =
  /** First use: the caller proceeds and must call assignJob/complete/abandon. */
  | { kind: 'new' }
  | { kind: 'conflict' }
  /** A stored final answer to replay. */
  | { kind: 'replay'; row: IdempotencyRow }
  /** The first request's job is still running: answer from that same job. */
  | { kind: 'attach'; jobId: string };

const VALID_KEY = /^[\x21-\x7e]{1,255}$/;

export function isValidIdempotencyKey(key: string): boolean {
  return VALID_KEY.test(key);
}

export class IdempotencyKeys {
  /** Reservations of this process that have no job yet, keyed by scope + key. */
  private readonly pending = new Map<string, { promise: Promise<void>; release: () => void }>();

  constructor(
    private readonly store: Store,
    private readonly ttlS: number,
  ) {}

  private id(scope: string, key: string): string {
    return `${scope}\u0000${key}`;
  }

  async begin(scope: string, key: string, fingerprint: string): Promise<IdempotencyDecision> {
    for (;;) {
      const now = Date.now();
      let row = this.store.getIdempotency(scope, key);
      if (row && row.expires_at <= now) {
        this.store.deleteIdempotency(scope, key);
        row = undefined;
      }
      if (!row) {
        this.store.putIdempotency({ scope, key, fingerprint, job_id: null, status: null, headers: null, body: null, created_at: now, expires_at: now + this.ttlS * 1000 });
        let release!: () => void;
        const promise = new Promise<void>((r) => (release = r));
        this.pending.set(this.id(scope, key), { promise, release });
        return { kind: 'new' };
      }
      if (row.fingerprint !== fingerprint) return { kind: 'conflict' };
      if (row.status !== null) return { kind: 'replay', row };
      if (row.job_id) return { kind: 'attach', jobId: row.job_id };
      const p = this.pending.get(this.id(scope, key));
      if (!p) {
        // A reservation left by a process that stopped before creating the job: nothing was started.
        this.store.deleteIdempotency(scope, key);
        continue;
      }
      await p.promise;
    }
  }

  private settle(scope: string, key: string): void {
    const p = this.pending.get(this.id(scope, key));
    if (p) {
      this.pending.delete(this.id(scope, key));
      p.release();
    }
  }

  /** The key now stands for this job (duplicates attach to it). */
  assignJob(scope: string, key: string, jobId: string, fingerprint: string): void {
    const row = this.store.getIdempotency(scope, key);
    const now = Date.now();
    this.store.putIdempotency({
      scope,
      key,
      fingerprint,
      job_id: jobId,
      status: null,
      headers: null,
      body: null,
      created_at: row?.created_at ?? now,
      expires_at: row?.expires_at ?? now + this.ttlS * 1000,
    });
    this.settle(scope, key);
  }

  /** Stores the first final answer for replay. */
  complete(scope: string, key: string, status: number, headers: Record<string, string>, body: Uint8Array | null): void {
    this.store.completeIdempotency(scope, key, status, headers, body);
    this.settle(scope, key);
  }

  /** Forgets the reservation (validation failed or the key was declined): nothing was executed. */
  abandon(scope: string, key: string): void {
    this.store.deleteIdempotency(scope, key);
    this.settle(scope, key);
  }
}
