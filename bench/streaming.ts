/**
 * JSON vs GLB streaming of one large finished answer (a 200-joint rig × 60 fps × 30 s × 4 samples),
 * fetched from GET /generate/jobs/{id} in each form several times: time to first byte and to the last,
 * bytes, and how far the gateway's resident set grows while serving it (VmHWM reset before each fetch,
 * read after, against VmRSS at the start).
 */
import { request } from 'undici';
import { bigHumanoidRig } from './big-rig.js';
import { proceduralBody, warmUp } from './requests.js';
import { mib, msOf, startGateway, type ChildServer, type Row } from './util.js';

const SHAPE = { joints: 200, fps: 60, seconds: 30, samples: 4 };
const FETCHES_EACH = 3;

interface Fetch {
  ttfbMs: number;
  totalMs: number;
  bytes: number;
  growthMiB: number;
}

async function fetchOnce(gw: ChildServer, path: string, accept: string): Promise<Fetch> {
  gw.resetPeakRss();
  const before = gw.rssMiB();
  const t0 = performance.now();
  const r = await request(`${gw.url}${path}`, { headers: { accept } });
  if (r.statusCode !== 200) throw new Error(`streaming bench: GET ${path} as ${accept} answered ${r.statusCode}`);
  let ttfbMs = NaN;
  let bytes = 0;
  for await (const chunk of r.body) {
    if (bytes === 0) ttfbMs = performance.now() - t0;
    bytes += (chunk as Buffer).length;
  }
  return { ttfbMs, totalMs: performance.now() - t0, bytes, growthMiB: gw.peakRssMiB() - before };
}

async function finishedJob(gw: ChildServer): Promise<{ path: string; generateS: number }> {
  const t0 = performance.now();
  const r = await fetch(`${gw.url}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'model/gltf-binary', prefer: 'respond-async' },
    body: proceduralBody({ skeleton: bigHumanoidRig(SHAPE.joints), seconds: SHAPE.seconds, samples: SHAPE.samples, fps: SHAPE.fps }),
  });
  const body = await r.text();
  if (r.status !== 202) throw new Error(`streaming bench: the large request answered ${r.status}: ${body.slice(0, 300)}`);
  const path = r.headers.get('location')!;
  for (;;) {
    const s = (await (await fetch(`${gw.url}${path}/status`)).json()) as { state: string };
    if (s.state === 'succeeded') return { path, generateS: (performance.now() - t0) / 1000 };
    if (s.state !== 'queued' && s.state !== 'running') throw new Error(`streaming bench: the large job ended ${s.state}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function streamingSuite(): Promise<Row[]> {
  const gw = await startGateway({});
  try {
    await warmUp(gw.url);
    const { path, generateS } = await finishedJob(gw);
    const glb: Fetch[] = [];
    const json: Fetch[] = [];
    for (let i = 0; i < FETCHES_EACH; i++) {
      glb.push(await fetchOnce(gw, path, 'model/gltf-binary'));
      json.push(await fetchOnce(gw, path, 'model/gltf+json'));
    }
    const suite = `streaming a large answer (${SHAPE.joints} joints × ${SHAPE.fps} fps × ${SHAPE.seconds} s × ${SHAPE.samples} samples)`;
    const row = (name: string, f: Fetch[]): Row => ({
      suite,
      metric: `GET /generate/jobs/{id} as ${name}`,
      value: `TTFB ${msOf(median(f.map((x) => x.ttfbMs)))}, total ${msOf(median(f.map((x) => x.totalMs)))}`,
      note: `${mib(f[0].bytes)}; RSS growth while serving ≤ ${Math.max(...f.map((x) => x.growthMiB)).toFixed(1)} MiB; medians of ${FETCHES_EACH}`,
    });
    const g = median(glb.map((x) => x.totalMs));
    const j = median(json.map((x) => x.totalMs));
    return [
      row('GLB', glb),
      row('JSON glTF', json),
      {
        suite,
        metric: 'JSON ÷ GLB',
        value: `time ×${(j / g).toFixed(2)}, bytes ×${(json[0].bytes / glb[0].bytes).toFixed(2)}`,
        note: `generated once, async, in ${generateS.toFixed(1)} s; gateway RSS after: ${gw.rssMiB().toFixed(0)} MiB`,
      },
    ];
  } finally {
    await gw.stop();
  }
}
