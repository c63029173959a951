/**
 * The process's stop, shared by the gateway (main.ts) and the worker-only process (worker-main.ts):
 * SIGTERM/SIGINT run the graceful stop once (its grace is SHUTDOWN_GRACE_MS), then exit 0, or 1 when it
 * failed; a second signal means the operator will not wait for the drain, and exits at once.
 */
import type { Logger } from './spec/adapter.js';

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
