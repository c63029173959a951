/**
 * Peak RSS of the biggest admitted request: reads the output budget the gateway advertises in
 * /capabilities (limits.x_max_output_bytes, with x_max_fps and x_max_work), sizes one request on a
 * 200-joint rig to just under it with the gateway's own estimator (src/protocol/cost.ts), shrinking on a
 * 400 should the gateway disagree, and sends it to a fresh gateway child: its peak RSS (VmHWM) beside
 * the same child's when idle (warmed up).
 */
import { estimateCost } from '../src/protocol/cost.js';
import type { GenerateRequest, ModelCapabilities } from '../src/spec/wire.js';
import { bigHumanoidRig } from './big-rig.js';
import { proceduralBody, warmUp } from './requests.js';
import { mib, startGateway, type Row } from './util.js';

/** Used as the budget when the gateway advertises none (a gateway without one admits far larger answers). */
const FALLBACK_BUDGET_BYTES = 64 * 2 ** 20;
const RIG_JOINTS = 200;
/** The estimate aimed at, as a share of the budget. */
const FILL = 0.98;

interface Shape {
  seconds: number;
  samples: number;
  fps: number;
}

function requestOf(skeleton: GenerateRequest['skeleton'], s: Shape): GenerateRequest {
  return JSON.parse(proceduralBody({ skeleton, ...s })) as GenerateRequest;
}

/** The largest shape within the budgets: the most samples whose full-length clip fits, then the longest clip that fits with them. */
function largestShape(model: ModelCapabilities, skeleton: GenerateRequest['skeleton'], budgetBytes: number): Shape {
  const fps = model.limits.x_max_fps ?? model.fps;
  const maxWork = model.limits.x_max_work ?? Infinity;
  const fits = (s: Shape) => {
    const c = estimateCost(requestOf(skeleton, s), model);
    return c.outputBytes <= budgetBytes * FILL && c.work <= maxWork;
  };
  const maxS = model.limits.max_duration_seconds;
  const oneFull = estimateCost(requestOf(skeleton, { seconds: maxS, samples: 1, fps }), model).outputBytes;
  const samples = Math.max(1, Math.min(model.limits.max_num_samples, Math.ceil((budgetBytes * FILL) / oneFull)));
  let lo = 1 / fps;
  let hi = maxS;
  if (fits({ seconds: hi, samples, fps })) return { seconds: hi, samples, fps };
  for (let i = 0; i < 30; i++) {
    const mid = (lo + hi) / 2;
    if (fits({ seconds: mid, samples, fps })) lo = mid;
    else hi = mid;
  }
  return { seconds: Math.floor(lo * fps) / fps, samples, fps };
}

export async function memorySuite(): Promise<Row[]> {
  const gw = await startGateway({ SYNC_WAIT_MS: '300000', MAX_QUEUED_JOBS: '16' });
  try {
    await warmUp(gw.url);
    const idleMiB = gw.peakRssMiB();
    const caps = (await (await fetch(`${gw.url}/capabilities`)).json()) as { models: ModelCapabilities[] };
    const model = caps.models.find((m) => m.id === 'procedural')!;
    const advertised = model.limits.x_max_output_bytes;
    const budget = advertised ?? FALLBACK_BUDGET_BYTES;
    const skeleton = bigHumanoidRig(RIG_JOINTS);
    let shape = largestShape(model, skeleton, budget);
    let refusals = 0;
    for (;;) {
      const t0 = performance.now();
      const r = await fetch(`${gw.url}/generate`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'model/gltf-binary' }, body: proceduralBody({ skeleton, ...shape }) });
      const bytes = (await r.arrayBuffer()).byteLength;
      const seconds = (performance.now() - t0) / 1000;
      if (r.status === 400 && refusals < 5) {
        // Over a budget after all: 3 % shorter, and again.
        refusals++;
        shape = { ...shape, seconds: Math.floor(shape.seconds * 0.97 * shape.fps) / shape.fps };
        continue;
      }
      if (r.status !== 200) throw new Error(`memory bench: the near-budget request answered ${r.status}`);
      const peakMiB = gw.peakRssMiB();
      const estimate = estimateCost(requestOf(skeleton, shape), model).outputBytes;
      const frames = Math.round(shape.seconds * shape.fps);
      return [
        {
          suite: 'memory',
          metric: 'peak RSS, biggest admitted request vs idle',
          value: `${peakMiB.toFixed(0)} MiB vs ${idleMiB.toFixed(0)} MiB`,
          note:
            `+${(peakMiB - idleMiB).toFixed(0)} MiB, ×${(peakMiB / idleMiB).toFixed(2)}; ${RIG_JOINTS} joints × ${frames} frames (${shape.seconds.toFixed(2)} s at ${shape.fps} fps) × ${shape.samples} samples, ` +
            `GLB ${mib(bytes)} (estimate ${mib(estimate)}, ${((100 * estimate) / budget).toFixed(0)} % of ${advertised !== undefined ? `x_max_output_bytes ${mib(budget)}` : `a ${mib(budget)} stand-in: no x_max_output_bytes advertised`}), sync in ${seconds.toFixed(1)} s` +
            (refusals ? `, after ${refusals} 400s` : ''),
        },
      ];
    }
  } finally {
    await gw.stop();
  }
}
