/**
 * `npm run worker`: a worker-only process for a cluster (STORE=redis). It runs the jobs every instance
 * accepts, from the shared job queues, on its own worker threads, and serves no HTTP. SIGTERM/SIGINT stop
 * it like a gateway: no new jobs, running steps reach a checkpoint within SHUTDOWN_GRACE_MS, and their jobs
 * go back to the queues for the other instances.
 */
import { ConfigError } from './spec/errors.js';
import { createWorkers } from './jobs/pool.js';
import { JobRunner } from './jobs/runner.js';
import { createStore } from './jobs/store.js';
import { createLogger } from './log.js';
import { createRegistry } from './server/app.js';
import { configOrExit, stopOnSignals } from './entry.js';
import { createTracing } from './tracing.js';

async function main(): Promise<void> {
  const config = await configOrExit((c) => {
    if (c.store !== 'redis') throw new ConfigError('npm run worker needs STORE=redis: it runs the jobs of gateways that share a Redis (with SQLite the gateway process runs its own jobs)');
    if (c.workerConcurrency === 0) throw new ConfigError('WORKER_CONCURRENCY=0 leaves a worker-only process nothing to do');
  });
  const log = createLogger(config.logLevel, { secrets: config.secrets });
  const store = createStore(config);
  await store.open();
  const registry = createRegistry(config);
  await Promise.all(registry.adapters.map((a) => a.init?.({ store: store.kv(a.provider), log })));
  const workers = createWorkers({ threads: config.workerThreads });
  const tracing = createTracing(config.tracing, log);
  const runner = new JobRunner({ store, registry, config, log, workers, tracing });
  await runner.start();
  log.info({ models: registry.modelIds(), redis_prefix: config.redisPrefix, threads: config.workerThreads }, 'motion gateway worker running');

  stopOnSignals(log, config.shutdownGraceMs, async () => {
    await runner.stop(config.shutdownGraceMs);
    await registry.close();
    await workers.close();
    await runner.close();
    await store.close();
    await tracing.shutdown();
  });
}

main().catch((err) => {
  console.error('failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
