/**
 * SayMotion provider calls per finished job, N concurrent jobs through a real gateway against the
 * simulator: the batched status poller (one call per tick for every job) beside a naive poller (the same
 * cadence, one status call per job per tick).
 */
import { createSayMotionAdapter } from '../src/adapters/saymotion/index.js';
import { testConfig } from '../test/helpers/config.js';
import { createGateway } from '../src/server/app.js';
import { startSayMotionSimulator, type SayMotionSimulator } from '../test/fakes/saymotion/server.js';
import type { Row } from './util.js';

const N = 16;
const POLL_MS = 100;

interface Run {
  perJob: number;
  statusPerJob: number;
  wallMs: number;
  byRoute: Record<string, number>;
}

async function run(sim: SayMotionSimulator, maxRidsPerStatusCall: number): Promise<Run> {
  const adapter = createSayMotionAdapter(
    { baseUrl: sim.url, clientId: sim.clientId, clientSecret: sim.clientSecret, characterId: sim.characterId, maxVariants: 4, pollIntervalMs: POLL_MS, jobTimeoutS: 120, downloadMaxBytes: 64 * 2 ** 20 },
    { maxRidsPerStatusCall, assetOrigins: [sim.storageUrl] },
  );
  const gw = createGateway(testConfig({ maxConcurrentJobs: N, syncWaitMs: 60_000 }), { adapters: [adapter] });
  const url = await gw.listen(0, '127.0.0.1');
  try {
    const skeleton = (await (await fetch(`${url}/capabilities`)).json()).models[0].canonical_skeleton;
    sim.resetCounts();
    const t0 = performance.now();
    const answers = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        fetch(`${url}/generate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'model/gltf-binary' },
          body: JSON.stringify({ protocol_version: '1.2', model: 'saymotion', skeleton, segments: [{ type: 'text', prompt: `a man walks, take ${i}`, duration_frames: 90 }] }),
        }).then(async (r) => (await r.arrayBuffer(), r.status)),
      ),
    );
    const wallMs = performance.now() - t0;
    const finished = answers.filter((s) => s === 200).length;
    if (finished !== N) throw new Error(`saymotion bench: ${N - finished} of ${N} jobs did not finish`);
    const byRoute: Record<string, number> = {};
    for (const c of sim.calls) byRoute[c.route] = (byRoute[c.route] ?? 0) + 1;
    return { perJob: sim.calls.length / N, statusPerJob: (byRoute.status ?? 0) / N, wallMs, byRoute };
  } finally {
    await gw.close();
  }
}

export async function saymotionSuite(): Promise<Row[]> {
  // Jobs wait a little in the queue, then run about 1.5 s, like a short text2motion job at a quiet hour.
  const sim = await startSayMotionSimulator({ job: { queueMs: 300, queuePosition: 2, runMs: 1_500 } });
  try {
    const batched = await run(sim, 50);
    const naive = await run(sim, 1);
    // The one login happens at start-up (reading the account), before counting starts.
    const note = (r: Run) => Object.entries(r.byRoute).map(([k, v]) => `${k} ${v}`).join(', ') + ` (+1 login at start-up); ${(r.wallMs / 1000).toFixed(1)} s`;
    return [
      { suite: 'saymotion', metric: `provider calls per job, batched poller (${N} concurrent)`, value: batched.perJob.toFixed(2), note: note(batched) },
      { suite: 'saymotion', metric: `provider calls per job, naive poller (${N} concurrent)`, value: naive.perJob.toFixed(2), note: note(naive) },
      { suite: 'saymotion', metric: 'status calls per job, batched vs naive', value: `${batched.statusPerJob.toFixed(2)} vs ${naive.statusPerJob.toFixed(2)}`, note: `poll interval ${POLL_MS} ms` },
    ];
  } finally {
    await sim.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { markdownTable } = await import('./util.js');
  console.log(markdownTable(await saymotionSuite()));
}
