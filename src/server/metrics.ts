/** Prometheus metrics of one gateway (its own registry, so several gateways can live in one test process). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly jobsFinished = new Counter({
    name: 'gateway_jobs_finished_total',
    help: 'Jobs that reached a final state, by model and state.',
    labelNames: ['model', 'state'] as const,
    registers: [this.registry],
  });
  readonly jobsInFlight = new Gauge({
    name: 'gateway_jobs_in_flight',
    help: 'Jobs running or queued in this process.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly workerTasks = new Gauge({
    name: 'gateway_worker_tasks',
    help: 'Motion work on the worker threads: running, or queued for a thread.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly workerThreads = new Gauge({
    name: 'gateway_worker_threads',
    help: 'Worker threads alive for motion work.',
    registers: [this.registry],
  });

  constructor(defaults = false) {
    if (defaults) collectDefaultMetrics({ register: this.registry });
  }
}
