/**
 * A route over the real adapters, each against its provider simulator (real HTTP servers), all on one
 * fast clock: SayMotion answering 503 to every call hands the request to Meshy with the attempt reported;
 * its breaker opens after the configured failures, later requests skip SayMotion without calling it, and
 * once SayMotion recovers a half-open probe closes the breaker; a Meshy job that fails after a restart
 * (refunded) moves on to the next target.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSayMotionAdapter } from '../../src/adapters/saymotion/index.js';
import { createMeshyAdapter } from '../../src/adapters/meshy/index.js';
import { createProceduralAdapter } from '../../src/adapters/procedural/index.js';
import { parseRoutes } from '../../src/adapters/routes.js';
import { scaledClock } from '../helpers/clock.js';
import { canonicalSkeleton, startGateway, type Running } from '../helpers/gateway.js';
import { FAST_DEPS, sayMotionConfig } from '../adapters/saymotion/harness.js';
import { FAST as MESHY_FAST, meshyConfig } from '../adapters/meshy/harness.js';
import { startSayMotionSimulator, type SayMotionSimulator } from '../fakes/saymotion/server.js';
import { startMeshySimulator, type MeshySimulator } from '../fakes/meshy/server.js';

const clock = scaledClock(50);
const tmp = mkdtempSync(join(tmpdir(), 'gw-routes-providers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let say: SayMotionSimulator;
let meshy: MeshySimulator;
let gw: Running;

beforeAll(async () => {
  [say, meshy] = await Promise.all([startSayMotionSimulator({ clock }), startMeshySimulator({ clock })]);
  gw = await startGateway(
    {
      routes: parseRoutes({ text2motion: ['saymotion', 'meshy', 'procedural'], 'say-only': ['saymotion'] }, 'MODEL_ROUTES'),
      syncWaitMs: 20_000,
      // Two SayMotion failures in a row open its breaker; it lets a probe through 3 s (real time) later.
      breakers: { failures: 2, errorPercent: 100, volume: 1_000, windowMs: 60_000, resetMs: 3_000 },
    },
    {
      adapters: [
        createProceduralAdapter(),
        createSayMotionAdapter(sayMotionConfig(say), { ...FAST_DEPS, clock, assetOrigins: [say.storageUrl] }),
        createMeshyAdapter(meshyConfig(meshy), { ...MESHY_FAST, clock, assetOrigins: [meshy.assetOrigin] }),
      ],
      clock,
    },
  );
});
afterAll(async () => {
  await gw?.close();
  await Promise.all([say?.close(), meshy?.close()]);
});

/** POST /generate as an async job, then the job's answer once it has finished. */
async function generate(body: unknown): Promise<{ status: number; headers: Headers; json: any }> {
  const accepted = await fetch(`${gw.url}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'model/gltf+json', prefer: 'respond-async' },
    body: JSON.stringify(body),
  });
  let res = accepted;
  const location = accepted.headers.get('location');
  while (res.status === 202 && location) {
    await res.arrayBuffer();
    await gw.gw.runner.waitFor(location.split('/').pop()!, 20_000);
    res = await fetch(gw.url + location, { headers: { accept: 'model/gltf+json' } });
  }
  return { status: res.status, headers: res.headers, json: await res.json() };
}

const walk = async () => ({
  protocol_version: '1.3',
  model: 'text2motion',
  skeleton: await canonicalSkeleton(gw.url, 'text2motion'),
  segments: [{ type: 'text', prompt: 'walk forward', duration_frames: 60 }],
});

describe('a route over the provider simulators', () => {
  it('advertises in /capabilities the honest intersection of SayMotion, Meshy and the procedural model', async () => {
    const caps = (await (await fetch(`${gw.url}/capabilities`)).json()).models as any[];
    const route = caps.find((m) => m.id === 'text2motion');
    const targets = ['saymotion', 'meshy', 'procedural'].map((id) => caps.find((m) => m.id === id));
    const everywhere = (key: string) => targets[0][key].filter((v: string) => targets.every((t) => t[key].includes(v)));
    expect(route.supported_constraints).toEqual(everywhere('supported_constraints'));
    expect(route.supported_segments).toEqual(everywhere('supported_segments'));
    expect(route.supports_async).toBe(true); // SayMotion and Meshy are
    expect(route.supports_batch).toBe(targets.every((t) => t.supports_batch));
    for (const k of ['max_duration_seconds', 'max_num_samples', 'max_prompt_length']) expect(route.limits[k]).toBe(Math.min(...targets.map((t) => t.limits[k])));
    // The targets really differ, and the route takes the narrowest of each: SayMotion's samples, Meshy's
    // duration, no batch and no per-segment seed (only the procedural model has those).
    expect([route.limits.max_num_samples, route.limits.max_duration_seconds]).toEqual([4, 30]);
    expect([route.supports_batch, route.supports_segment_seed, targets[2].supports_batch, targets[2].supports_segment_seed]).toEqual([false, false, true, true]);
    expect(route.canonical_skeleton).toEqual(targets[2].canonical_skeleton);
  });

  it('SayMotion down (every call 503): Meshy serves, SayMotion listed in attempts; its breaker opens, skips it, and a probe closes it', async () => {
    say.fail('process', { status: 503, retryAfter: '1' }, { times: Infinity });

    const first = await generate(await walk());
    expect(first.status, JSON.stringify(first.json).slice(0, 300)).toBe(200);
    expect(first.headers.get('x-served-by')).toBe('meshy');
    const servedBy = first.json.extensions.MMCP_motion.x_served_by;
    expect(servedBy).toMatchObject({ model: 'meshy', provider: 'meshy' });
    expect(servedBy.attempts).toEqual([{ model: 'saymotion', error_code: 'model_unavailable', error_id: 'MG-PRV-503' }]);
    expect(say.count('process', 503) + say.count('auth', 503)).toBeGreaterThan(0);
    expect(say.count('process', 200)).toBe(0);

    // A second failure opens SayMotion's breaker (2 in a row)...
    const second = await generate({ ...(await walk()), options: { seed: 2 } });
    expect(second.headers.get('x-served-by')).toBe('meshy');
    expect(gw.gw.registry.breakers.state('saymotion')).toBe('open');

    // ...and the next request passes it over without a single call to SayMotion.
    say.resetCounts();
    const third = await generate({ ...(await walk()), options: { seed: 3 } });
    expect(third.status).toBe(200);
    expect(third.headers.get('x-served-by')).toBe('meshy');
    expect(third.json.extensions.MMCP_motion.x_served_by.attempts).toEqual([{ model: 'saymotion', error_code: 'model_unavailable', error_id: 'MG-SRV-004' }]);
    expect(say.calls).toHaveLength(0);
    const readyz = await (await fetch(`${gw.url}/readyz`)).json();
    expect(readyz.breakers.saymotion.state).toBe('open');

    // SayMotion recovers; once the breaker is half-open the next request is its probe, and closes it.
    say.clearFaults();
    await new Promise<void>((resolve) => {
      if (gw.gw.registry.breakers.state('saymotion') === 'half_open') return resolve();
      gw.gw.registry.breakers.onChange((p, s) => p === 'saymotion' && s === 'half_open' && resolve());
    });
    const probe = await generate({ ...(await walk()), options: { seed: 4 } });
    expect(probe.status).toBe(200);
    expect(probe.headers.get('x-served-by')).toBe('saymotion');
    expect(probe.json.extensions.MMCP_motion.x_served_by.attempts).toEqual([]);
    expect(say.count('process', 200)).toBe(1);
    expect(gw.gw.registry.breakers.state('saymotion')).toBe('closed');
  });
});

describe('a route with nowhere else to go', () => {
  it('waits out the provider’s Retry-After instead of failing (only: or a route of one target)', async () => {
    // More 503s than one call's retries: SayMotion then asks the job to come back after Retry-After.
    say.fail('process', { status: 503, retryAfter: '1' }, { times: 5 });
    for (const body of [{ ...(await walk()), model: 'say-only', options: { seed: 11 } }, { ...(await walk()), options: { seed: 12 }, extensions: { routing: { only: ['saymotion'] } } }]) {
      const res = await generate(body);
      expect(res.status, JSON.stringify(res.json).slice(0, 300)).toBe(200);
      expect(res.headers.get('x-served-by')).toBe('saymotion');
      say.fail('process', { status: 503, retryAfter: '1' }, { times: 5 });
    }
    say.clearFaults();
  });
});

describe('a route whose Meshy job fails after a restart', () => {
  it('moves the job to the next target once its refunded Meshy tasks failed, and asks Meshy for nothing more', async () => {
    // A slower clock, and tasks that stay PENDING a while: the restart comes while the first task waits.
    const slow = scaledClock(5);
    const sim = await startMeshySimulator({ clock: slow, timing: { pendingMs: 2_000 } });
    const db = join(tmp, 'meshy-route.db');
    const boot = () =>
      startGateway(
        { dbPath: db, routes: parseRoutes({ moves: ['meshy', 'procedural'] }, 'MODEL_ROUTES'), syncWaitMs: 20_000 },
        { adapters: [createProceduralAdapter(), createMeshyAdapter(meshyConfig(sim), { ...MESHY_FAST, clock: slow, assetOrigins: [sim.assetOrigin] })], clock: slow },
      );
    let running = await boot();
    try {
      // A kick is an animation task (a walk would be the rig's own clip). Every such task fails half-way with server_error: the first, and the two the adapter creates again.
      sim.failTasks({ kind: 'animations', error: { message: 'Internal server error.', type: 'server_error' }, at: 'running', times: 3 });
      const timing = sim.behave.timing;
      const quick = { ...timing };
      const accepted = await fetch(`${running.url}/generate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'model/gltf+json', prefer: 'respond-async' },
        body: JSON.stringify({ protocol_version: '1.3', model: 'moves', skeleton: await canonicalSkeleton(running.url, 'moves'), segments: [{ type: 'text', prompt: 'kick', duration_frames: 60 }] }),
      });
      expect(accepted.status).toBe(202);
      const location = accepted.headers.get('location')!;
      await accepted.arrayBuffer();
      await sim.when(() => sim.created.some((c) => c.kind === 'animations'), 'the first task');
      timing.runMs = 600_000; // the first task runs until the gateway is back
      await running.close();

      running = await boot();
      Object.assign(timing, quick);
      let res = await fetch(running.url + location, { headers: { accept: 'model/gltf+json' } });
      while (res.status === 202) {
        await res.arrayBuffer();
        await running.gw.runner.waitFor(location.split('/').pop()!, 20_000);
        res = await fetch(running.url + location, { headers: { accept: 'model/gltf+json' } });
      }
      const body = await res.json();
      expect(res.status, JSON.stringify(body).slice(0, 300)).toBe(200);
      expect(res.headers.get('x-served-by')).toBe('procedural');
      expect(body.extensions.MMCP_motion.x_served_by.attempts).toEqual([{ model: 'meshy', error_code: 'internal_error', error_id: 'MG-PRV-500' }]);
      // One task before the restart, two created again by the adapter after it (refunded failures), none more.
      expect(sim.created.filter((c) => c.kind === 'animations')).toHaveLength(3);
    } finally {
      await running.close();
      await sim.close();
    }
  });
});
