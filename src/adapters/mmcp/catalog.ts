/**
 * What one upstream offers, kept current: its GET /capabilities read at start-up and retried in the
 * background until it answers (then re-read now and then), the last answer kept in the adapter's durable
 * store, so a gateway that restarts while the upstream is down still lists its models (as not ready) and
 * resumes the jobs it had sent there.
 */
import type { AdapterStore, Logger, Readiness } from '../../spec/adapter.js';
import type { Clock } from '../../spec/clock.js';
import type { ModelCapabilities } from '../../spec/wire.js';
import type { MmcpClient } from './client.js';
import { catalogOf, type UpstreamCatalog, type UpstreamModel } from './mapping.js';

const STORE_KEY = 'capabilities';

export interface CatalogTiming {
  /** First wait before GET /capabilities is tried again (doubled up to `retryMaxMs`). */
  retryMinMs: number;
  retryMaxMs: number;
  /** How often a served upstream's capabilities are read again (new models, changed limits). */
  refreshMs: number;
}

export class UpstreamCatalogKeeper {
  private catalog: UpstreamCatalog = { models: [], upstream: new Map(), skipped: [] };
  /** Whether the upstream has answered since this process started. */
  private live = false;
  private lastFailure = 'its capabilities have not been read yet';
  private readonly stopped = new AbortController();
  private loop?: Promise<void>;
  private store?: AdapterStore;
  log?: Logger;

  constructor(
    private readonly provider: string,
    private readonly client: MmcpClient,
    private readonly clock: Clock,
    private readonly timing: CatalogTiming,
  ) {}

  models(): ModelCapabilities[] {
    return this.catalog.models;
  }

  upstreamModel(modelId: string): UpstreamModel | undefined {
    return this.catalog.upstream.get(modelId);
  }

  readiness(): Readiness {
    if (this.live && this.catalog.models.length > 0) return { ready: true };
    if (this.live) return { ready: false, reason: `the upstream "${this.provider}" offers no model this gateway can serve` };
    return { ready: false, reason: `the upstream "${this.provider}" is not reachable: ${this.lastFailure}` };
  }

  /**
   * Reads the stored capabilities, then the upstream's, waiting for them at most `waitMs`; afterwards keeps
   * trying (and refreshing) in the background. Never throws.
   */
  async start(store: AdapterStore, waitMs: number): Promise<void> {
    this.store = store;
    try {
      const saved = await store.get(STORE_KEY);
      if (saved && !this.live) this.catalog = catalogOf(this.provider, JSON.parse(saved));
    } catch (err) {
      this.log?.warn({ provider: this.provider, err: String(err) }, 'stored upstream capabilities unreadable');
    }
    const first = this.refresh();
    this.loop = first.then(() => this.keep());
    const waited = new AbortController();
    await Promise.race([first, this.clock.sleep(waitMs, waited.signal)]);
    waited.abort();
  }

  /** One read of the upstream's capabilities; true when it answered. */
  private async refresh(): Promise<boolean> {
    try {
      const caps = await this.client.capabilities({ signal: this.stopped.signal });
      const catalog = catalogOf(this.provider, caps);
      for (const s of catalog.skipped) this.log?.warn({ provider: this.provider, model: s.model, reason: s.reason }, 'upstream model not served');
      this.catalog = catalog;
      if (!this.live) this.log?.info({ provider: this.provider, models: catalog.models.map((m) => m.id) }, 'upstream capabilities read');
      this.live = true;
      await this.store?.set(STORE_KEY, JSON.stringify(caps));
      return true;
    } catch (err) {
      if (this.stopped.signal.aborted) return false;
      this.lastFailure = err instanceof Error ? err.message : String(err);
      this.log?.warn({ provider: this.provider, err: this.lastFailure }, 'upstream capabilities unavailable');
      return false;
    }
  }

  /** Retries with a doubling wait until the upstream answers, then refreshes every `refreshMs`. */
  private async keep(): Promise<void> {
    let wait = this.timing.retryMinMs;
    while (!this.stopped.signal.aborted) {
      await this.clock.sleep(this.live ? this.timing.refreshMs : wait, this.stopped.signal);
      if (this.stopped.signal.aborted) return;
      const ok = await this.refresh();
      wait = ok ? this.timing.retryMinMs : Math.min(this.timing.retryMaxMs, wait * 2);
    }
  }

  async close(): Promise<void> {
    this.stopped.abort();
    await this.loop;
  }
}
