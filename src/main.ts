/** Starts the gateway from the environment and stops it gracefully on SIGTERM/SIGINT. */
import { createLogger } from './log.js';
import { createGateway } from './server/app.js';
import { configOrExit, stopOnSignals } from './entry.js';

async function main(): Promise<void> {
  const config = await configOrExit();
  const log = createLogger(config.logLevel, { secrets: config.secrets });
  const gateway = createGateway(config, { logger: log, defaultMetrics: true });
  const url = await gateway.listen();
  log.info({ url, models: gateway.registry.modelIds(), store: config.store, ...(config.store === 'sqlite' ? { db: config.dbPath } : { redis_prefix: config.redisPrefix }) }, 'motion gateway listening');

  stopOnSignals(log, config.shutdownGraceMs, () => gateway.close());
}

main().catch((err) => {
  console.error('failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
