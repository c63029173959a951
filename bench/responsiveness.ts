/**
 * Responsiveness under a saturated worker pool: /healthz and /capabilities latency, paced at a steady
 * rate, while several connections keep the pool busy with 10 s × 8-sample GLB sync requests, beside the
 * same probes on the idle gateway; and the gateway's event-loop lag over each window, read from its
 * /metrics (prom-client's monitorEventLoopDelay histogram, which each scrape resets).
 */
import { proceduralBody, proceduralSkeleton, warmUp } from './requests.js';
import { load, ms, msOf, probe, promValue, scrapeMetrics, startGateway, type ProbeResult, type Row } from './util.js';

/** Probe requests per second on each of the two routes: a steady trickle, so the probes do not load the loop themselves. */
const PROBE_RATE = 50;
/** Connections hammering /generate (a handful more than the pool's threads on any bench machine). */
const HAMMER_CONNECTIONS = 6;
/** prom-client samples the loop every 10 ms; its histogram reports whole intervals, so an idle loop reads about 10 ms. */
const LAG_RESOLUTION_S = 0.01;

interface Window {
  healthz: ProbeResult;
  capabilities: ProbeResult;
  lagP50: number;
  lagP99: number;
  lagMax: number;
  metrics: string;
}

async function probeWindow(url: string, durationS: number): Promise<Window> {
  await scrapeMetrics(url); // resets the event-loop histogram
  const paced = (path: string) => probe({ url: `${url}${path}`, rate: PROBE_RATE, durationS });
  const [healthz, capabilities] = await Promise.all([paced('/healthz'), paced('/capabilities')]);
  const metrics = await scrapeMetrics(url);
  return {
    healthz,
    capabilities,
    lagP50: promValue(metrics, 'nodejs_eventloop_lag_p50_seconds'),
    lagP99: promValue(metrics, 'nodejs_eventloop_lag_p99_seconds'),
    lagMax: promValue(metrics, 'nodejs_eventloop_lag_max_seconds'),
    metrics,
  };
}

export async function responsivenessSuite(durationS: number): Promise<Row[]> {
  const gw = await startGateway({ MAX_QUEUED_JOBS: '1024' });
  try {
    await warmUp(gw.url);
    const skeleton = await proceduralSkeleton(gw.url);
    const idle = await probeWindow(gw.url, durationS);

    const warmS = 2;
    const hammer = load({
      url: `${gw.url}/generate`,
      method: 'POST',
      body: proceduralBody({ skeleton, seconds: 10, samples: 8 }),
      headers: { 'content-type': 'application/json', accept: 'model/gltf-binary' },
      connections: HAMMER_CONNECTIONS,
      duration: durationS + warmS + 1,
    });
    await new Promise((r) => setTimeout(r, warmS * 1000));
    const busy = await probeWindow(gw.url, durationS);
    const h = await hammer;
    const threads = promValue(busy.metrics, 'gateway_worker_threads');
    const queued = promValue(busy.metrics, 'gateway_worker_tasks', 'kind="queued"');
    const running = promValue(busy.metrics, 'gateway_worker_tasks', 'kind="running"');

    const suite = 'responsiveness (pool saturated)';
    const non2xx = (r: ProbeResult) => r.requests - (r.statuses['200'] ?? 0);
    const pair = (name: string, a: ProbeResult, b: ProbeResult): Row => ({
      suite,
      metric: `${name} p99, idle → saturated`,
      value: `${msOf(a.p99)} → ${msOf(b.p99)}`,
      note: `×${(b.p99 / a.p99).toFixed(1)}; p50 ${msOf(a.p50)} → ${msOf(b.p50)}, max ${msOf(a.max)} → ${msOf(b.max)}; ${PROBE_RATE} req/s open-loop, ${b.requests} requests, non-200 ${non2xx(a) + non2xx(b)}; target p99 < 50 ms`,
    });
    return [
      pair('GET /healthz', idle.healthz, busy.healthz),
      pair('GET /capabilities', idle.capabilities, busy.capabilities),
      {
        suite,
        metric: 'event-loop lag p99, idle → saturated',
        value: `${ms(idle.lagP99)} → ${ms(busy.lagP99)}`,
        note: `max ${ms(idle.lagMax)} → ${ms(busy.lagMax)}, p50 ${ms(idle.lagP50)} → ${ms(busy.lagP50)}; prom-client /metrics over each window, in ${ms(LAG_RESOLUTION_S)} sampling intervals (idle ≈ ${ms(LAG_RESOLUTION_S)})`,
      },
      {
        suite,
        metric: `load: ${HAMMER_CONNECTIONS} connections of 10 s × 8-sample GLB sync`,
        value: `p50 ${h.p50} ms / p99 ${h.p99} ms`,
        note: `${h.rps.toFixed(1)} req/s, non-2xx ${h.non2xx}; pool at the end of the window: ${threads} threads, ${running} running, ${queued} queued`,
      },
    ];
  } finally {
    await gw.stop();
  }
}
