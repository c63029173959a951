/** Gateway benchmarks: /capabilities throughput against bare express, sync procedural /generate latency, peak RSS. */
import { startChild, load, type Row } from './util.js';

const skeletonOf = async (url: string) => {
  const caps = (await (await fetch(`${url}/capabilities`)).json()) as { models: Array<{ id: string; canonical_skeleton: unknown }> };
  return caps.models.find((m) => m.id === 'procedural')!.canonical_skeleton;
};

export async function gatewaySuite(durationS: number): Promise<Row[]> {
  const rows: Row[] = [];
  const hello = await startChild('bench/hello.ts');
  const gw = await startChild('src/main.ts', { LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1', DB_PATH: ':memory:', MAX_CONCURRENT_JOBS: '4', MAX_QUEUED_JOBS: '1024' });
  try {
    const base = await load({ url: `${hello.url}/`, duration: durationS });
    const caps = await load({ url: `${gw.url}/capabilities`, duration: durationS });
    rows.push({ suite: 'http', metric: 'bare express hello-world', value: `${base.rps.toFixed(0)} req/s`, note: `p99 ${base.p99} ms` });
    rows.push({ suite: 'http', metric: 'GET /capabilities', value: `${caps.rps.toFixed(0)} req/s`, note: `p99 ${caps.p99} ms, non-2xx ${caps.non2xx}` });
    rows.push({ suite: 'http', metric: '/capabilities ÷ hello-world', value: (caps.rps / base.rps).toFixed(2) });

    const skeleton = await skeletonOf(gw.url);
    const body = (seconds: number, samples: number) =>
      JSON.stringify({ protocol_version: '1.2', model: 'procedural', skeleton, segments: [{ type: 'text', prompt: 'walk forward', duration_frames: seconds * 30 }], options: { num_samples: samples } });
    const cases: Array<[string, string, string]> = [
      ['5 s, 1 sample, JSON glTF', body(5, 1), 'model/gltf+json'],
      ['5 s, 1 sample, GLB', body(5, 1), 'model/gltf-binary'],
      ['10 s, 8 samples, GLB', body(10, 8), 'model/gltf-binary'],
    ];
    for (const [name, payload, accept] of cases) {
      const r = await load({
        url: `${gw.url}/generate`,
        method: 'POST',
        body: payload,
        headers: { 'content-type': 'application/json', accept },
        connections: 2,
        duration: durationS,
      });
      rows.push({ suite: 'generate (sync, procedural)', metric: name, value: `p50 ${r.p50} ms / p99 ${r.p99} ms`, note: `${r.rps.toFixed(1)} req/s, ${r.requests} requests, non-2xx ${r.non2xx}` });
    }
    rows.push({ suite: 'memory', metric: 'gateway peak RSS', value: `${gw.peakRssMiB().toFixed(0)} MiB` });
  } finally {
    await Promise.all([hello.stop(), gw.stop()]);
  }
  return rows;
}
