/** What every route handler works with: one gateway's configuration, store, adapters, runner and logger. */
import type { AdapterRegistry } from '../adapters/registry.js';
import type { Config } from '../config.js';
import type { IdempotencyKeys } from '../jobs/idempotency.js';
import type { JobRunner } from '../jobs/runner.js';
import type { Store } from '../jobs/store.js';
import type { Logger } from '../spec/adapter.js';
import type { Clock } from '../spec/clock.js';
import type { Metrics } from './metrics.js';
import type { Tracing } from '../tracing.js';

export interface GatewayContext {
  config: Config;
  store: Store;
  registry: AdapterRegistry;
  runner: JobRunner;
  idempotency: IdempotencyKeys;
  log: Logger;
  metrics: Metrics;
  /** The time jobs are stamped with (expiry, deadlines). */
  clock: Clock;
  /** OpenTelemetry spans (a no-op tracer unless configured). */
  tracing: Tracing;
}
