/**
 * A route over the real adapters, each against its provider simulator (real HTTP servers), all on one
 * fast clock: SayMotion answering 503 to every call hands the request to Meshy with the attempt reported;
 * its breaker opens after the configured failures, later requests skip SayMotion without calling it, and
 * once SayMotion recovers a half-open probe closes the breaker.
 */
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
let say: SayMotionSimulator;
let meshy: MeshySimulator;
let gw: Running;

beforeAll(async () => {
  [say, meshy] = await Promise.all([startSayMotionSimulator({ clock }), startMeshySimulator({ clock })]);
  gw = await startGateway(
    {
      routes: parseRoutes({ text2motion: ['saymotion', 'meshy', 'procedural'] }, 'MODEL_ROUTES'),
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
