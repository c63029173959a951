/**
 * What OpenTelemetry traces cost: sync procedural /generate (5 s, 1 sample, GLB) on a gateway with traces
 * off (the default) and on, exporting to a collector on loopback, side by side; and the spans it received.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { proceduralBody, proceduralSkeleton, warmUp } from './requests.js';
import { load, startGateway, type Row } from './util.js';

export async function tracingSuite(durationS: number): Promise<Row[]> {
  let spans = 0;
  const collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: unknown[] }> }> };
      for (const rs of body.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spans += ss.spans?.length ?? 0;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  const run = async (env: Record<string, string>) => {
    const gw = await startGateway({ MAX_QUEUED_JOBS: '1024', ...env });
    try {
      await warmUp(gw.url);
      const body = proceduralBody({ skeleton: await proceduralSkeleton(gw.url), seconds: 5, samples: 1 });
      return await load({ url: `${gw.url}/generate`, method: 'POST', body, headers: { 'content-type': 'application/json', accept: 'model/gltf-binary' }, connections: 2, duration: durationS });
    } finally {
      await gw.stop(); // SIGTERM: the gateway flushes its spans
    }
  };
  try {
    const off = await run({});
    const on = await run({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
    const suite = 'traces (sync procedural, 5 s GLB)';
    return [
      { suite, metric: 'traces off (default)', value: `p50 ${off.p50} ms / p99 ${off.p99} ms`, note: `${off.rps.toFixed(1)} req/s` },
      { suite, metric: 'traces on (OTLP/HTTP to loopback)', value: `p50 ${on.p50} ms / p99 ${on.p99} ms`, note: `${on.rps.toFixed(1)} req/s, ${spans} spans received for ${on.requests} requests` },
      { suite, metric: 'on ÷ off', value: `req/s ${(on.rps / off.rps).toFixed(2)}, p50 ${(on.p50 / Math.max(1, off.p50)).toFixed(2)}` },
    ];
  } finally {
    await new Promise<void>((resolve) => collector.close(() => resolve()));
  }
}
