/**
 * Gateway benchmarks: /capabilities throughput against bare express, sync procedural /generate latency
 * (with motion work on the worker-thread pool, and the same clip inline on the event loop to show what the
 * thread hop costs), peak RSS.
 */
import { proceduralBody, proceduralSkeleton, warmUp } from './requests.js';
import { startChild, startGateway, load, type Row } from './util.js';

/** The sync 5 s one-sample GLB p50 in bench/RESULTS.md before the worker pool (commit 36781bb, LOG_LEVEL info). */
const BEFORE_POOL_P50_MS = 29;

export async function gatewaySuite(durationS: number): Promise<Row[]> {
  const rows: Row[] = [];
  const hello = await startChild('bench/hello.ts');
  const gw = await startGateway({ MAX_QUEUED_JOBS: '1024' });
  try {
    await warmUp(gw.url);
    const base = await load({ url: `${hello.url}/`, duration: durationS });
    const caps = await load({ url: `${gw.url}/capabilities`, duration: durationS });
    rows.push({ suite: 'http', metric: 'bare express hello-world', value: `${base.rps.toFixed(0)} req/s`, note: `p99 ${base.p99} ms` });
    rows.push({ suite: 'http', metric: 'GET /capabilities', value: `${caps.rps.toFixed(0)} req/s`, note: `p99 ${caps.p99} ms, non-2xx ${caps.non2xx}` });
    rows.push({ suite: 'http', metric: '/capabilities ÷ hello-world', value: (caps.rps / base.rps).toFixed(2) });

    const skeleton = await proceduralSkeleton(gw.url);
    const cases: Array<[string, string, string]> = [
      ['5 s, 1 sample, JSON glTF', proceduralBody({ skeleton, seconds: 5, samples: 1 }), 'model/gltf+json'],
      ['5 s, 1 sample, GLB', proceduralBody({ skeleton, seconds: 5, samples: 1 }), 'model/gltf-binary'],
      ['10 s, 8 samples, GLB', proceduralBody({ skeleton, seconds: 10, samples: 8 }), 'model/gltf-binary'],
    ];
    const sync = async (url: string, payload: string, accept: string) =>
      load({ url: `${url}/generate`, method: 'POST', body: payload, headers: { 'content-type': 'application/json', accept }, connections: 2, duration: durationS });
    let pooledGlbP50 = NaN;
    for (const [name, payload, accept] of cases) {
      const r = await sync(gw.url, payload, accept);
      if (name === '5 s, 1 sample, GLB') pooledGlbP50 = r.p50;
      const before = name.startsWith('5 s, 1 sample') ? `; before the pool: p50 ${BEFORE_POOL_P50_MS} ms` : '';
      rows.push({ suite: 'generate (sync, procedural)', metric: name, value: `p50 ${r.p50} ms / p99 ${r.p99} ms`, note: `${r.rps.toFixed(1)} req/s, ${r.requests} requests, non-2xx ${r.non2xx}${before}` });
    }
    rows.push({ suite: 'memory', metric: 'gateway peak RSS', value: `${gw.peakRssMiB().toFixed(0)} MiB` });

    // The same clip with WORKER_THREADS=0: the work runs on the event loop, so the difference is the thread hop.
    const inline = await startGateway({ MAX_QUEUED_JOBS: '1024', WORKER_THREADS: '0' });
    try {
      await warmUp(inline.url);
      const r = await sync(inline.url, cases[1][1], cases[1][2]);
      rows.push({
        suite: 'generate (sync, procedural)',
        metric: '5 s, 1 sample, GLB, inline (WORKER_THREADS=0)',
        value: `p50 ${r.p50} ms / p99 ${r.p99} ms`,
        note: `${r.rps.toFixed(1)} req/s, non-2xx ${r.non2xx}; pool ÷ inline p50 ${(pooledGlbP50 / r.p50).toFixed(2)} (the thread hop, less the overlap of 2 connections)`,
      });
    } finally {
      await inline.stop();
    }
  } finally {
    await Promise.all([hello.stop(), gw.stop()]);
  }
  return rows;
}
