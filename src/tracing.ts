/**
 * OpenTelemetry traces, off unless an OTLP endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). Each gateway (or worker process) owns its tracer provider, never the
 * global one: two gateways in one process (tests, an embedding app) keep their spans apart, and nothing
 * is patched. Off, the tracer is the API's no-op one and a span costs a function call.
 *
 * Spans: one per HTTP request (`POST /generate`, kind server, continuing the caller's W3C `traceparent`),
 * one per job run (`job <model>`, a child of the request that created it when it runs in the same process),
 * one per provider step (`provider.step`) and one per render on the worker threads (`motion.render`).
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, trace, type Attributes, type Context, type Span, type SpanContext, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOffSampler, BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { Logger } from './spec/adapter.js';

export interface TracingConfig {
  /** Where spans are POSTed (OTLP/HTTP JSON), e.g. `http://collector:4318/v1/traces`. */
  url: string;
  /** Sent with every export (OTEL_EXPORTER_OTLP_HEADERS): a collector's API key, for instance. */
  headers: Record<string, string>;
  /** `service.name` of the spans (OTEL_SERVICE_NAME, default `motion-gateway`). */
  serviceName: string;
}

export interface Tracing {
  readonly enabled: boolean;
  readonly tracer: Tracer;
  /** The caller's trace context from a request's `traceparent`/`tracestate` (the root context without one). */
  extract(headers: Record<string, string | string[] | undefined>): Context;
  /** A context whose parent is `parent` (a span context kept from elsewhere), for spans started later. */
  under(parent: SpanContext | undefined): Context;
  /** Exports what is buffered, then stops (at shutdown). */
  shutdown(): Promise<void>;
}

const propagator = new W3CTraceContextPropagator();
/** Traces off: spans are never sampled (not recorded, not exported), whatever provider the process registered globally. */
const OFF = new TracerProvider({ sampler: new AlwaysOffSampler() });
const VERSION = '0.1.0';

/** Tracing as configured: exporting to `config.url`, or the no-op tracer when `config` is null. */
export function createTracing(config: TracingConfig | null, log?: Logger): Tracing {
  const extract = (headers: Record<string, string | string[] | undefined>) => propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
  const under = (parent: SpanContext | undefined) => (parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT);
  if (!config) {
    return { enabled: false, tracer: OFF.getTracer('motion-gateway'), extract, under, shutdown: async () => {} };
  }
  const exporter = new OTLPTraceExporter({ url: config.url, headers: config.headers });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName, 'service.version': VERSION }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 1_000 })],
  });
  log?.info({ otlp_traces_url: redactUrl(config.url), service_name: config.serviceName }, 'OpenTelemetry traces on');
  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    tracer: provider.getTracer('motion-gateway', VERSION),
    extract,
    under,
    shutdown() {
      stopped ??= provider.shutdown().catch((err: unknown) => log?.warn({ err: String(err) }, 'OpenTelemetry export at shutdown failed'));
      return stopped;
    },
  };
}

/** Runs `fn` inside a span: its outcome sets the status (an error's id or message), and the span always ends. */
export async function inSpan<T>(tracer: Tracer, name: string, parent: Context, attributes: Attributes, fn: (span: Span) => Promise<T>, kind: SpanKind = SpanKind.INTERNAL): Promise<T> {
  const span = tracer.startSpan(name, { kind, attributes }, parent);
  try {
    return await fn(span);
  } catch (err) {
    failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/** Marks a span failed by `err` (a GatewayError's id as `error.type`). */
export function failSpan(span: Span, err: unknown): void {
  const id = (err as { id?: unknown } | null)?.id;
  span.setAttribute('error.type', typeof id === 'string' ? id : ((err as Error | null)?.name ?? 'Error'));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

/** The URL without credentials or query (what the start-up log may show). */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid)';
  }
}
