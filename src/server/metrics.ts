/** Prometheus metrics of one gateway (its own registry, so several gateways can live in one test process). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BreakerState, ProviderBreakers } from '../adapters/breakers.js';
import type { RunnerEvents } from '../jobs/runner.js';

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

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

  readonly breakerState = new Gauge({
    name: 'gateway_breaker_state',
    help: 'Circuit breaker of each provider: 0 closed, 1 half-open, 2 open.',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });
  readonly breakerTransitions = new Counter({
    name: 'gateway_breaker_transitions_total',
    help: 'Circuit breaker state changes, by provider and the state entered.',
    labelNames: ['provider', 'state'] as const,
    registers: [this.registry],
  });
  readonly routeJobs = new Counter({
    name: 'gateway_route_jobs_total',
    help: 'Jobs a route handed to a target (at admission, or moved on after a failure).',
    labelNames: ['route', 'target'] as const,
    registers: [this.registry],
  });
  readonly routeFallbacks = new Counter({
    name: 'gateway_route_fallbacks_total',
    help: 'Targets a route passed over, by the reason (the error id: not ready, breaker open, its failure).',
    labelNames: ['route', 'target', 'reason'] as const,
    registers: [this.registry],
  });
  readonly providerCalls = new Histogram({
    name: 'gateway_provider_step_seconds',
    help: 'Duration of provider steps (one submit or poll and what it fetched), by provider and outcome (ok or the error id).',
    labelNames: ['provider', 'outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  runnerEvents(): RunnerEvents {
    return {
      providerCall: (provider, seconds, outcome) => this.providerCalls.observe({ provider, outcome }, seconds),
      routed: (route, target) => this.routeJobs.inc({ route, target }),
      fallback: (route, target, reason) => this.routeFallbacks.inc({ route, target, reason }),
    };
  }

  /** Breaker state per provider, from the start (all closed) and on every change. */
  watchBreakers(breakers: ProviderBreakers, providers: readonly string[]): void {
    for (const p of providers) this.breakerState.set({ provider: p }, BREAKER_VALUE[breakers.state(p)]);
    breakers.onChange((provider, state) => {
      this.breakerState.set({ provider }, BREAKER_VALUE[state]);
      this.breakerTransitions.inc({ provider, state });
    });
  }

  constructor(defaults = false) {
    if (defaults) collectDefaultMetrics({ register: this.registry });
  }
}
