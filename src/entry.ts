/**
 * What both entry points do around their work: the gateway (main.ts) and the worker-only process
 * (worker-main.ts) read their configuration the same way (a bad value exits 2 with the message), and stop
 * the same way: SIGTERM/SIGINT run the graceful stop once (its grace is SHUTDOWN_GRACE_MS), then exit 0,
 * or 1 when it failed; a second signal means the operator will not wait for the drain, and exits at once.
 */
import { ConfigError } from './spec/errors.js';
import type { Logger } from './spec/adapter.js';
import { loadConfig, loadExternalProviders, type Config } from './config.js';

/** The configuration from the environment; a ConfigError (from loading or from `check`) exits 2 with its message. */
export async function configOrExit(check: (config: Config) => void = () => {}): Promise<Config> {
  try {
    const config = await loadExternalProviders(loadConfig(process.env), process.env);
    check(config);
    return config;
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`configuration error: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
}

export function stopOnSignals(log: Logger, graceMs: number, stopGracefully: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting without finishing the drain');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal, grace_ms: graceMs }, 'shutting down');
    stopGracefully().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
