/**
 * Circuit breakers, one per provider (opossum). A breaker counts the calls that hand a provider new work —
 * a job's first step, the one that submits it — and opens on a run of provider failures
 * (BREAKER_FAILURES in a row) or on a failure rate (BREAKER_ERROR_PERCENT of at least BREAKER_VOLUME calls
 * within BREAKER_WINDOW_MS). While it is open, admission passes the provider over (a route's next target
 * serves; a request naming the model itself answers 503 MG-SRV-004 with the time left as Retry-After).
 * After BREAKER_RESET_MS it is half-open: one new job goes through as the probe; its success closes the
 * breaker, its failure opens it again. A job already paid for is never stopped by a breaker: its later
 * steps (polls) go straight to the provider.
 *
 * Only provider faults count (PROVIDER_FAULTS): a caller's error, a cancel or our own bug is not the
 * provider failing. With STORE=redis the instances share their breakers' openings and closings
 * (BreakerSync), so a provider one instance finds failing is passed over by all.
 */
import CircuitBreaker from 'opossum';
import { GatewayError, asGatewayError } from '../spec/errors.js';
import { systemClock, type Clock } from '../spec/clock.js';

export interface BreakerOptions {
  /** Consecutive provider failures that open the breaker. */
  failures: number;
  /** Failure percentage over the window that opens it, once `volume` calls were made in the window. */
  errorPercent: number;
  volume: number;
  windowMs: number;
  /** How long it stays open before a half-open probe. */
  resetMs: number;
}

export type BreakerState = 'closed' | 'open' | 'half_open';

/** The GatewayError ids that are a provider failing (not the caller, not us): what a breaker counts. */
export const PROVIDER_FAULTS: ReadonlySet<string> = new Set([
  'MG-PRV-401',
  'MG-PRV-402',
  'MG-PRV-403',
  'MG-PRV-412',
  'MG-PRV-429',
  'MG-PRV-500',
  'MG-PRV-502',
  'MG-PRV-503',
  'MG-PRV-504',
]);

/** A breaker's state change, as instances tell each other. */
export interface BreakerEvent {
  provider: string;
  state: 'open' | 'closed';
  /** Epoch ms the breaker opened at, and when it will half-open (open events). */
  openedAt?: number;
  until?: number;
}

/** How instances share breaker events (the Redis dispatcher implements it). */
export interface BreakerSync {
  publish(event: BreakerEvent): void;
  /** Breakers open elsewhere now (to start in agreement). */
  openNow(): Promise<BreakerEvent[]>;
  subscribe(listener: (event: BreakerEvent) => void): void;
}

export interface BreakerView {
  state: BreakerState;
  /** Consecutive provider failures of the calls it counted. */
  consecutive_failures: number;
  /** Calls and failures in the current window. */
  calls: number;
  failed: number;
  opened_at?: string;
  /** Seconds until a half-open probe (open breakers). */
  retry_after_s?: number;
}

type Action = () => Promise<unknown>;

class ProviderBreaker {
  readonly breaker: CircuitBreaker<[Action], unknown>;
  consecutive = 0;
  openedAt: number | undefined;
  /** Set while applying another instance's event, so it is not published back. */
  remote = false;

  constructor(
    readonly provider: string,
    private readonly opts: BreakerOptions,
    private readonly clock: Clock,
    onChange: (b: ProviderBreaker, state: BreakerState) => void,
  ) {
    this.breaker = new CircuitBreaker<[Action], unknown>((fn: Action) => fn(), {
      timeout: false, // every provider call has its own deadline
      resetTimeout: opts.resetMs,
      errorThresholdPercentage: opts.errorPercent,
      volumeThreshold: opts.volume,
      rollingCountTimeout: opts.windowMs,
      rollingCountBuckets: 10,
      // Errors that are not the provider failing count as successes of the call.
      errorFilter: (err: unknown) => !PROVIDER_FAULTS.has(asGatewayError(err).id),
    });
    this.breaker.on('success', () => (this.consecutive = 0));
    this.breaker.on('failure', () => {
      this.consecutive += 1;
      if (this.consecutive >= this.opts.failures && !this.breaker.opened) this.breaker.open();
    });
    this.breaker.on('open', () => {
      this.openedAt ??= this.clock.now();
      onChange(this, 'open');
    });
    this.breaker.on('halfOpen', () => {
      this.openedAt = undefined; // a failed probe opens it anew
      onChange(this, 'half_open');
    });
    this.breaker.on('close', () => {
      this.consecutive = 0;
      this.openedAt = undefined;
      onChange(this, 'closed');
    });
  }

  get state(): BreakerState {
    return this.breaker.opened ? 'open' : this.breaker.halfOpen ? 'half_open' : 'closed';
  }

  /** Seconds until the half-open probe, at least 1. */
  retryAfterS(): number {
    const left = (this.openedAt ?? this.clock.now()) + this.opts.resetMs - this.clock.now();
    return Math.max(1, Math.ceil(left / 1000));
  }
}

export class ProviderBreakers {
  private readonly byProvider = new Map<string, ProviderBreaker>();
  private readonly listeners: ((provider: string, state: BreakerState) => void)[] = [];
  private sync: BreakerSync | undefined;
  private readonly clock: Clock;

  constructor(
    private readonly opts: BreakerOptions,
    clock?: Clock,
  ) {
    this.clock = clock ?? systemClock;
  }

  private of(provider: string): ProviderBreaker {
    let b = this.byProvider.get(provider);
    if (!b) {
      b = new ProviderBreaker(provider, this.opts, this.clock, (pb, state) => this.changed(pb, state));
      this.byProvider.set(provider, b);
    }
    return b;
  }

  private changed(b: ProviderBreaker, state: BreakerState): void {
    for (const l of this.listeners) l(b.provider, state);
    if (b.remote || !this.sync || state === 'half_open') return;
    const openedAt = b.openedAt ?? this.clock.now();
    this.sync.publish(state === 'open' ? { provider: b.provider, state, openedAt, until: openedAt + this.opts.resetMs } : { provider: b.provider, state });
  }

  /** Called on every state change (metrics). */
  onChange(listener: (provider: string, state: BreakerState) => void): void {
    this.listeners.push(listener);
  }

  /** Shares openings and closings with the other instances, starting from the breakers open there now. */
  async attach(sync: BreakerSync): Promise<void> {
    this.sync = sync;
    sync.subscribe((e) => this.apply(e));
    for (const e of await sync.openNow()) this.apply(e);
  }

  private apply(e: BreakerEvent): void {
    const b = this.of(e.provider);
    b.remote = true;
    try {
      if (e.state === 'open' && !b.breaker.opened) {
        b.openedAt = e.openedAt ?? this.clock.now();
        b.breaker.open();
      } else if (e.state === 'closed' && !b.breaker.closed) b.breaker.close();
    } finally {
      b.remote = false;
    }
  }

  state(provider: string): BreakerState {
    return this.byProvider.get(provider)?.state ?? 'closed';
  }

  /**
   * Why new work must not go to `provider` now: its breaker is open, or half-open with its probe already
   * out. Undefined when it may take a job.
   */
  refusal(provider: string): GatewayError | undefined {
    const b = this.byProvider.get(provider);
    if (!b || b.breaker.closed || b.breaker.pendingClose) return undefined;
    const probing = b.breaker.halfOpen;
    return new GatewayError('MG-SRV-004', undefined, {
      retryAfterS: probing ? 1 : b.retryAfterS(),
      details: { provider, breaker: b.state, ...(probing ? { probe: 'in flight' } : {}) },
    });
  }

  /** Runs a call that hands `provider` new work through its breaker (refused with MG-SRV-004 when open). */
  async call<T>(provider: string, fn: () => Promise<T>): Promise<T> {
    const b = this.of(provider);
    try {
      return (await b.breaker.fire(fn)) as T;
    } catch (err) {
      if ((err as { code?: string }).code === 'EOPENBREAKER') throw this.refusal(provider) ?? new GatewayError('MG-SRV-004', undefined, { retryAfterS: 1, details: { provider } });
      throw err;
    }
  }

  view(providers: readonly string[]): Record<string, BreakerView> {
    return Object.fromEntries(
      providers.map((p) => {
        const b = this.byProvider.get(p);
        if (!b) return [p, { state: 'closed', consecutive_failures: 0, calls: 0, failed: 0 } satisfies BreakerView];
        const stats = b.breaker.stats;
        const v: BreakerView = { state: b.state, consecutive_failures: b.consecutive, calls: stats.fires, failed: stats.failures };
        if (b.openedAt !== undefined) v.opened_at = new Date(b.openedAt).toISOString();
        if (b.state === 'open') v.retry_after_s = b.retryAfterS();
        return [p, v];
      }),
    );
  }

  close(): void {
    for (const b of this.byProvider.values()) b.breaker.shutdown();
  }
}
