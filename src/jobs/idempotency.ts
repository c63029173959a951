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

/** A reservation without a job older than this was left by a process that stopped (admission takes far less). */
const RESERVATION_STALE_MS = 30_000;
const FOREIGN_RESERVATION_POLL_MS = 20;

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
      const fresh: IdempotencyRow = { scope, key, fingerprint, job_id: null, status: null, headers: null, body: null, created_at: now, expires_at: now + this.ttlS * 1000 };
      // Atomic in the store: of concurrent first uses (here or on other instances) exactly one is 'new'.
      const row = await this.store.reserveIdempotency(fresh);
      if (!row) {
        let release!: () => void;
        const promise = new Promise<void>((r) => (release = r));
        this.pending.set(this.id(scope, key), { promise, release });
        return { kind: 'new' };
      }
      if (row.expires_at <= now) {
        await this.store.deleteIdempotency(scope, key);
        continue;
      }
      if (row.fingerprint !== fingerprint) return { kind: 'conflict' };
      if (row.status !== null) return { kind: 'replay', row };
      if (row.job_id) return { kind: 'attach', jobId: row.job_id };
      const p = this.pending.get(this.id(scope, key));
      if (p) {
        await p.promise;
        continue;
      }
      if (this.store.shared && now - row.created_at < RESERVATION_STALE_MS) {
        // Another instance reserved the key and is still validating or starting its job: wait for it.
        await new Promise((r) => setTimeout(r, FOREIGN_RESERVATION_POLL_MS));
        continue;
      }
      // A reservation left by a process that stopped before creating the job: nothing was started.
      await this.store.deleteIdempotency(scope, key);
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
  async assignJob(scope: string, key: string, jobId: string, fingerprint: string): Promise<void> {
    const row = await this.store.getIdempotency(scope, key);
    const now = Date.now();
    await this.store.putIdempotency({
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
  async complete(scope: string, key: string, status: number, headers: Record<string, string>, body: Uint8Array | null): Promise<void> {
    await this.store.completeIdempotency(scope, key, status, headers, body);
    this.settle(scope, key);
  }

  /** Forgets the reservation (validation failed or the key was declined): nothing was executed. */
  async abandon(scope: string, key: string): Promise<void> {
    try {
      await this.store.deleteIdempotency(scope, key);
    } finally {
      this.settle(scope, key);
    }
  }
}
