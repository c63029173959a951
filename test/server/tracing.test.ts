/**
 * OpenTelemetry traces: off by default; with an OTLP endpoint the gateway exports (OTLP/HTTP JSON) a span
 * per request continuing the caller's traceparent, and under it the job's run, its provider steps and
 * its render. The collector is a real HTTP server on loopback.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/spec/errors.js';
import { canonicalSkeleton, postGenerate, startGateway } from '../helpers/gateway.js';

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
  status?: { code?: number };
}

/** A collector: every span of every POST /v1/traces, with the headers it came with. */
let collector: Server;
let collectorUrl: string;
const spans: ExportedSpan[] = [];
const exportHeaders: string[] = [];
beforeAll(async () => {
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      exportHeaders.push(String(req.headers['x-collector-key'] ?? ''));
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      for (const rs of body.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spans.push(...ss.spans);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => collector.close(() => resolve())));

const attr = (s: ExportedSpan, key: string) => {
  const v = s.attributes.find((a) => a.key === key)?.value;
  return v ? Object.values(v)[0] : undefined;
};

describe('traces', () => {
  it('are off unless an OTLP endpoint is set, and a bad endpoint stops start-up', () => {
    expect(loadConfig({}).tracing).toBeNull();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/', OTEL_SDK_DISABLED: 'true' }).tracing).toBeNull();
    const on = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/', OTEL_EXPORTER_OTLP_HEADERS: 'x-key=s%3Dcret', OTEL_SERVICE_NAME: 'gw-eu' });
    expect(on.tracing).toEqual({ url: 'http://c:4318/v1/traces', headers: { 'x-key': 's=cret' }, serviceName: 'gw-eu' });
    // A collector's key is a secret: redacted from logs like the others.
    expect(on.secrets).toContain('s=cret');
    expect(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://c/otlp/traces' }).tracing?.url).toBe('https://c/otlp/traces');
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'c:4318' })).toThrow(ConfigError);
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'nokey', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c' })).toThrow(/key=value/);
  });

  it('export a request span continuing the caller’s trace, with the job, provider step and render under it', async () => {
    const gw = await startGateway({ tracing: { url: `${collectorUrl}/v1/traces`, headers: { 'x-collector-key': 'k1' }, serviceName: 'gw-test' } });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    let jobId: string | null;
    try {
      const res = await postGenerate(
        gw.url,
        { protocol_version: '1.3', model: 'procedural', skeleton: await canonicalSkeleton(gw.url, 'procedural'), segments: [{ type: 'text', prompt: 'walk', duration_frames: 20 }] },
        { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      );
      expect(res.status).toBe(200);
      jobId = res.headers.get('x-job-id');
      await res.arrayBuffer();
    } finally {
      await gw.close(); // flushes the spans
    }
    const ours = spans.filter((s) => s.traceId === traceId);
    const request = ours.find((s) => s.name === 'POST /generate')!;
    expect(request).toBeDefined();
    expect(request.parentSpanId).toBe('00f067aa0ba902b7');
    expect(request.kind).toBe(2); // SPAN_KIND_SERVER
    expect(attr(request, 'http.response.status_code')).toBe(200);
    expect(attr(request, 'mmcp.job_id')).toBe(jobId);
    const job = ours.find((s) => s.name === 'job procedural')!;
    expect(job.parentSpanId).toBe(request.spanId);
    expect(attr(job, 'mmcp.job_state')).toBe('succeeded');
    expect(attr(job, 'gateway.served_by')).toBe('procedural');
    const steps = ours.filter((s) => s.name === 'provider.step');
    expect(steps.length).toBeGreaterThan(0);
    expect(steps.every((s) => s.parentSpanId === job.spanId && attr(s, 'gateway.provider') === 'procedural')).toBe(true);
    expect(ours.find((s) => s.name === 'motion.render')?.parentSpanId).toBe(job.spanId);
    expect(exportHeaders.every((h) => h === 'k1')).toBe(true);
  });

  it('mark a failed request and its failed job as errors', async () => {
    const gw = await startGateway({ tracing: { url: `${collectorUrl}/v1/traces`, headers: {}, serviceName: 'gw-test' } });
    const traceId = 'aaf92f3577b34da6a3ce929d0e0e4736';
    try {
      const res = await postGenerate(gw.url, { protocol_version: '1.3', model: 'nope', skeleton: {}, segments: [] }, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
      expect(res.status).toBeGreaterThanOrEqual(400);
      await res.arrayBuffer();
    } finally {
      await gw.close();
    }
    const request = spans.find((s) => s.traceId === traceId && s.name === 'POST /generate')!;
    expect(attr(request, 'http.response.status_code')).toBeGreaterThanOrEqual(400);
    // A caller's error is not the server's: the span is not marked as an error (OpenTelemetry's HTTP server convention).
    expect(request.status?.code ?? 0).not.toBe(2);
  });
});
