/**
 * SayMotion through the gateway beside DeepMotion's own SDK (dm-saymotion-api), against the same
 * simulator: 20 text2motion jobs of 5 s each, all at once, polled at the same cadence. The gateway (a
 * child process) gets 20 sync POST /generate requests answered with GLB on the caller's skeleton; the SDK
 * runs start_new_job for each (submit, poll get_job_status, download_job in its result callback, which
 * fetches every file of the job). Wall time of each, and provider calls per job from the simulator's count.
 * The simulator's files are built by one untimed pass before either side is timed.
 * Runnable alone: `npx tsx bench/saymotion-sdk.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SaymotionClient, Text2MotionParams } from 'dm-saymotion-api';
import { startSayMotionSimulator, type SayMotionSimulator } from '../test/fakes/saymotion/server.js';
import type { GenerateRequest } from '../src/spec/wire.js';
import { quietly, startGateway, type Row } from './util.js';

const JOBS = 20;
const CLIP_S = 5;
/** The same cadence for both: the SDK's poll_interval (seconds) and SAYMOTION_POLL_INTERVAL_MS. */
const POLL_MS = 500;
/** Like a short text2motion job at a quiet hour (as in bench/saymotion.ts). */
const JOB_SCRIPT = { queueMs: 300, queuePosition: 2, runMs: 1_500 };

interface Side {
  wallMs: number;
  /** The gateway's first (uncounted) job alone, modules loading included. */
  coldMs?: number;
  perJob: number;
  apiPerJob: number;
  byRoute: Record<string, number>;
}

function countCalls(sim: SayMotionSimulator, wallMs: number): Side {
  const byRoute: Record<string, number> = {};
  for (const c of sim.calls) byRoute[c.route] = (byRoute[c.route] ?? 0) + 1;
  const api = sim.calls.filter((c) => c.host === 'api').length;
  return { wallMs, perJob: sim.calls.length / JOBS, apiPerJob: api / JOBS, byRoute };
}

async function throughGateway(sim: SayMotionSimulator): Promise<Side> {
  const gw = await startGateway({
    SAYMOTION_BASE_URL: sim.url,
    SAYMOTION_CLIENT_ID: sim.clientId,
    SAYMOTION_CLIENT_SECRET: sim.clientSecret,
    SAYMOTION_CHARACTER_ID: sim.characterId,
    SAYMOTION_POLL_INTERVAL_MS: String(POLL_MS),
    PROVIDER_ASSET_ORIGINS: sim.storageUrl,
    SYNC_WAIT_MS: '120000',
  });
  try {
    const caps = (await (await fetch(`${gw.url}/capabilities`)).json()) as { models: Array<{ id: string; fps: number; canonical_skeleton: GenerateRequest['skeleton'] }> };
    const model = caps.models.find((m) => m.id === 'saymotion');
    if (!model) throw new Error('saymotion-sdk bench: the gateway does not offer the saymotion model');
    const generate = async (prompt: string) => {
      const body: GenerateRequest = {
        protocol_version: '1.2',
        model: 'saymotion',
        skeleton: model.canonical_skeleton,
        segments: [{ type: 'text', prompt, duration_frames: CLIP_S * model.fps }],
      };
      const r = await fetch(`${gw.url}/generate`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'model/gltf-binary' }, body: JSON.stringify(body) });
      await r.arrayBuffer();
      return r.status;
    };
    // One job first, not counted: a worker thread loads the SayMotion decoding modules on its first task
    // (under tsx it compiles them, over a second), which a gateway that has been up a while did long ago.
    // As many at once as there are cores, so that every worker thread of the pool has done one.
    const coldT0 = performance.now();
    const cold = await Promise.all(Array.from({ length: availableParallelism() }, (_, i) => generate(`a man walks, warm-up ${i}`)));
    const coldMs = performance.now() - coldT0;
    if (cold.some((s) => s !== 200)) throw new Error(`saymotion-sdk bench: a warm-up request answered ${cold.join(',')}`);
    // The one login happened at start-up (reading the account), before counting starts.
    sim.resetCounts();
    const t0 = performance.now();
    const statuses = await Promise.all(Array.from({ length: JOBS }, (_, i) => generate(`a man walks, take ${i}`)));
    const wallMs = performance.now() - t0;
    const failed = statuses.filter((s) => s !== 200).length;
    if (failed) throw new Error(`saymotion-sdk bench: ${failed} of ${JOBS} gateway requests did not answer 200 (${statuses.join(',')})`);
    return { ...countCalls(sim, wallMs), coldMs };
  } finally {
    await gw.stop();
  }
}

async function throughSdk(sim: SayMotionSimulator): Promise<Side> {
  const client = new SaymotionClient(sim.url, sim.clientId, sim.clientSecret);
  const out = mkdtempSync(join(tmpdir(), 'bench-saymotion-sdk-'));
  try {
    // Logs in once before counting, as the gateway does at start-up (concurrent first calls would each log in).
    await client.get_credit_balance();
    sim.resetCounts();
    const params = new Text2MotionParams({ requested_animation_duration: CLIP_S, num_variant: 1 });
    const t0 = performance.now();
    await quietly(() =>
      Promise.all(
        Array.from({ length: JOBS }, (_, i) =>
          client.start_new_job(
            `a man walks, take ${i}`,
            sim.characterId,
            params,
            async (data) => {
              if (data.error) throw new Error(`saymotion-sdk bench: SDK job ${data.rid} failed: ${data.error.message}`);
              await client.download_job(data.rid, out);
            },
            () => {},
            POLL_MS / 1000,
          ),
        ),
      ),
    );
    return countCalls(sim, performance.now() - t0);
  } finally {
    await client.close();
    rmSync(out, { recursive: true, force: true });
  }
}

export async function saymotionSdkSuite(): Promise<Row[]> {
  const sim = await startSayMotionSimulator({ job: JOB_SCRIPT });
  try {
    // One untimed SDK pass first: the simulator builds each prompt's files once per process (its costliest
    // work, which a real provider's storage does not do on the download), so neither timed side pays it.
    await throughSdk(sim);
    const gateway = await throughGateway(sim);
    const sdk = await throughSdk(sim);
    const suite = 'saymotion: gateway vs official SDK';
    const routes = (s: Side) =>
      Object.entries(s.byRoute)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
    const shape = `${JOBS} jobs × ${CLIP_S} s at once, poll ${POLL_MS} ms both, simulated job ${(JOB_SCRIPT.queueMs + JOB_SCRIPT.runMs) / 1000} s`;
    return [
      {
        suite,
        metric: 'wall time, gateway (sync GLB, retargeted) vs SDK (start_new_job + download_job)',
        value: `${(gateway.wallMs / 1000).toFixed(2)} s vs ${(sdk.wallMs / 1000).toFixed(2)} s`,
        note: `gateway ÷ SDK ${(gateway.wallMs / sdk.wallMs).toFixed(2)} (target ≤ 1.1); ${shape}; the gateway warmed first by one job per core at once (those alone: ${((gateway.coldMs ?? NaN) / 1000).toFixed(2)} s)`,
      },
      {
        suite,
        metric: 'provider calls per job, gateway vs SDK',
        value: `${gateway.perJob.toFixed(2)} vs ${sdk.perJob.toFixed(2)}`,
        note: `gateway: ${routes(gateway)}; SDK: ${routes(sdk)} (download_job fetches GLB, FBX and BVH); API host only ${gateway.apiPerJob.toFixed(2)} vs ${sdk.apiPerJob.toFixed(2)}; +1 login each before counting; target gateway ≤ 4`,
      },
    ];
  } finally {
    await sim.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { markdownTable } = await import('./util.js');
  console.log(markdownTable(await saymotionSdkSuite()));
}
