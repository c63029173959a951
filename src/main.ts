/** Starts the gateway from the environment and stops it gracefully on SIGTERM/SIGINT. */
import { ConfigError } from './spec/errors.js';
import { loadConfig, loadExternalProviders } from './config.js';
import { createLogger } from './log.js';
import { createGateway } from './server/app.js';
import { stopOnSignals } from './shutdown.js';

async function main(): Promise<void> {
  let config;
  try {
    config = await loadExternalProviders(loadConfig(process.env), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`configuration error: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
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
