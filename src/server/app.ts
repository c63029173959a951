/** Assembles one gateway: store, adapters, job runner and the express app with its routes. */
import express from 'express';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import type { Adapter } from '../spec/adapter.js';
import { AdapterRegistry } from '../adapters/registry.js';
import type { Config } from '../config.js';
import { systemClock, type Clock } from '../spec/clock.js';
import { IdempotencyKeys } from '../jobs/idempotency.js';
import { createWorkers, type MotionWorkers } from '../jobs/pool.js';
import { JobRunner } from '../jobs/runner.js';
import { createStore } from '../jobs/store.js';
import { createLogger } from '../log.js';
import type { Logger } from '../spec/adapter.js';
import { answerClientErrors, requireHost } from './client-error.js';
import type { GatewayContext } from './context.js';
import { HttpDrain } from './drain.js';
import { methodNotAllowed } from './http.js';
import { Metrics } from './metrics.js';
import { authenticate, errorHandler, notFound, requestContext } from './middleware.js';
import { playground } from './playground.js';
import { limitRequests } from './rate-limit.js';
import { postGenerate } from './routes/generate.js';
import { deleteJob, getJob, getJobStatus } from './routes/jobs.js';
import { getJobEvents } from './routes/job-events.js';
import { getCapabilities, getHealth, getMetrics, getOpenApi, getReady, getSchema, getSchemaIndex } from './routes/meta.js';
import { createTracing } from '../tracing.js';

export interface GatewayOptions {
  /** Adapters to serve instead of those the configuration asks for. */
  adapters?: Adapter[];
  logger?: Logger;
  /**
   * Worker threads to use instead of a pool of the configured size (tests share one pool between many
   * gateways). The gateway does not close a pool it was handed.
   */
  workers?: MotionWorkers;
  /** Time for job deadlines and waits between steps (tests run provider patience on a virtual clock). */
  clock?: Clock;
  defaultMetrics?: boolean;
}

export interface Gateway extends GatewayContext {
  app: express.Express;
  server: Server;
  /** Listens (port 0 = ephemeral) and starts the runner, which resumes unfinished jobs. */
  listen(port?: number, host?: string): Promise<string>;
  /**
   * Graceful stop within SHUTDOWN_GRACE_MS: refuse new connections (and new requests on kept-alive ones, 503),
   * let running steps reach a checkpoint and in-flight requests finish, then close what is left and the store.
   */
  close(): Promise<void>;
}

/** The configured adapters (or `adapters`) with the gateway's limits: what a gateway and a worker-only process serve. */
export function createRegistry(config: Config, adapters?: Adapter[]): AdapterRegistry {
  return new AdapterRegistry(adapters ?? config.providers.map((p) => p.definition.create(p.config, { assetOrigins: config.assetOrigins })), {
    max_request_bytes: config.maxRequestBytes,
    max_batch_size: config.maxBatchSize,
    max_reference_frames: config.maxReferenceFrames,
    x_max_fps: config.maxFps,
    x_max_output_bytes: config.maxOutputBytes,
    x_max_batch_output_bytes: config.maxBatchOutputBytes,
    x_max_work: config.maxWork,
  }, config.routes, config.breakers);
}

export function createGateway(config: Config, opts: GatewayOptions = {}): Gateway {
  const log = opts.logger ?? createLogger(config.logLevel, { secrets: config.secrets });
  const store = createStore(config);
  const registry = createRegistry(config, opts.adapters);
  const metrics = new Metrics(opts.defaultMetrics ?? false);
  const workers = opts.workers ?? createWorkers({ threads: config.workerThreads });
  const tracing = createTracing(config.tracing, log);
  const runner = new JobRunner({
    tracing,
    store,
    registry,
    config,
    log,
    workers,
    clock: opts.clock,
    onFinished: (model, state) => metrics.jobsFinished.inc({ model, state }),
    events: metrics.runnerEvents(),
  });
  metrics.watchBreakers(registry.breakers, registry.adapters.map((a) => a.provider));
  const idempotency = new IdempotencyKeys(store, config.idempotencyTtlS);
  const gw: GatewayContext = { config, store, registry, runner, idempotency, log, metrics, clock: opts.clock ?? systemClock, tracing };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(requestContext(gw));

  app.get('/healthz', getHealth());
  app.get('/readyz', getReady(gw));
  app.get('/openapi.json', getOpenApi());
  app.get('/schemas', getSchemaIndex());
  app.get('/schemas/:name', getSchema());
  app.get('/metrics', getMetrics(gw));
  for (const path of ['/healthz', '/readyz', '/openapi.json', '/schemas', '/schemas/:name', '/metrics']) app.all(path, methodNotAllowed(['GET', 'HEAD']));

  const auth = authenticate(gw);
  // Polls and cancels are not counted: a caller following the Retry-After of a 202 is never refused for it.
  const counted = [auth, limitRequests(gw)];
  app.route('/capabilities').get(counted, getCapabilities(gw)).all(methodNotAllowed(['GET', 'HEAD']));
  app.route('/generate').post(counted, postGenerate(gw)).all(methodNotAllowed(['POST']));
  app.route('/generate/jobs/:id').get(auth, getJob(gw)).delete(auth, deleteJob(gw)).all(methodNotAllowed(['GET', 'HEAD', 'DELETE']));
  app.route('/generate/jobs/:id/status').get(auth, getJobStatus(gw)).all(methodNotAllowed(['GET', 'HEAD']));
  app.route('/generate/jobs/:id/events').get(auth, getJobEvents(gw)).all(methodNotAllowed(['GET']));
  app.use(playground(log));
  app.use(notFound());
  app.use(errorHandler(gw));

  const server = createServer({ requestTimeout: 120_000, headersTimeout: 30_000, keepAliveTimeout: 5_000, requireHostHeader: false });
  const drain = new HttpDrain(server, gw.clock, log);
  server.on('request', drain.listener(requireHost(app)));
  answerClientErrors(server, log);
  let closing: Promise<void> | undefined;

  return {
    ...gw,
    app,
    server,
    async listen(port = config.port, host = config.host) {
      await store.open();
      await Promise.all(registry.adapters.map((a) => a.init?.({ store: store.kv(a.provider), log })));
      await runner.start();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      const addr = server.address() as AddressInfo;
      const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      return `http://${h === '0.0.0.0' ? '127.0.0.1' : h}:${addr.port}`;
    },
    close() {
      closing ??= (async () => {
        // One grace for everything; the store stays open until the last answer has been written.
        const deadline = gw.clock.now() + config.shutdownGraceMs;
        const stopped = drain.begin();
        await runner.stop(config.shutdownGraceMs); // running steps reach a checkpoint; sync waiters wake and answer 202
        await drain.settle(deadline - gw.clock.now());
        await drain.closeRemaining();
        await stopped;
        await registry.close();
        if (!opts.workers) await workers.close();
        await runner.close();
        await store.close();
        await tracing.shutdown(); // the spans of this stop too
      })();
      return closing;
    },
  };
}
