/** Serves the gateway configured by the environment until SIGTERM/SIGINT, then stops it gracefully (`npm start`, `motion-gateway serve`). */
import type { AddressInfo } from 'node:net';
import { createLogger } from './log.js';
import { createGateway } from './server/app.js';
import { configOrExit, stopOnSignals } from './entry.js';

/** Resolves once the gateway listens; the process then lives until a signal stops it. */
export async function serve(): Promise<void> {
  const config = await configOrExit();
  const log = createLogger(config.logLevel, { secrets: config.secrets });
  const gateway = createGateway(config, { logger: log, defaultMetrics: true });
  const url = await gateway.listen();
  // `bind` is the address really listened on (0.0.0.0 = every interface); `url` one this machine can reach it at.
  const bound = gateway.server.address() as AddressInfo;
  const bind = bound.family === 'IPv6' ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`;
  log.info({ bind, url, models: gateway.registry.modelIds(), store: config.store, ...(config.store === 'sqlite' ? { db: config.dbPath } : { redis_prefix: config.redisPrefix }) }, `motion gateway listening on ${bind} (${url})`);

  stopOnSignals(log, config.shutdownGraceMs, () => gateway.close());
}
