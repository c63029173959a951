/**
 * The Meshy adapter's provider paths that must hold up against an expiring rig and a hostile or leaky
 * provider, end to end against the simulator: an expired rig on the bundled walk/run path is replaced
 * once; rigging refusals are remembered only when they are about the character; result URLs pointing at
 * loopback, private or rebinding hosts are refused without a connection while allow-listed ones are
 * fetched; asset downloads carry no API key; an API key Meshy echoes never reaches the caller or the logs.
 */
import { Writable } from 'node:stream';
import type { LookupFunction } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { generate, request, startRig, type Rig } from './harness.js';

const rigs: Rig[] = [];
async function open(opts: Parameters<typeof startRig>[0] = {}): Promise<Rig> {
  const r = await startRig(opts);
  rigs.push(r);
  return r;
}
afterEach(async () => {
  await Promise.all(rigs.splice(0).map((r) => r.close()));
});

const rigPosts = (rig: Rig) => rig.sim.count('POST /openapi/v1/rigging');
const rigIds = (rig: Rig) => rig.sim.created.filter((c) => c.kind === 'rigging').map((c) => c.id);
const storedRig = async (rig: Rig) => JSON.parse((await rig.gw.gw.store.kv('meshy').get('rig')) ?? 'null') as { task_id: string; state: string } | null;
/** Meshy's bundled Walking clip (-2) and a library action. */
const WALK = { extensions: { meshy: { action_id: -2 } } };

/** A resolver that answers `address` for every host, and remembers what it was asked. */
function fixedLookup(address: string, asked: string[]): LookupFunction {
  return ((host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => {
    asked.push(host);
    if (opts.all) cb(null, [{ address, family: address.includes(':') ? 6 : 4 }]);
    else cb(null, address, address.includes(':') ? 6 : 4);
  }) as unknown as LookupFunction;
}

/** A logger writing JSON lines into `lines` (no secrets handed to it: what it gets is the adapter's own doing). */
function capturingLogger(lines: string[]) {
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return createLogger('debug', { destination });
}

describe('an expired rig', () => {
  it('on the bundled-walk path: the job succeeds after exactly one re-rig, the stored record is replaced, and later requests and restarts use the new rig', async () => {
    const rig = await open();
    const first = await generate(rig.url, request([{ prompt: 'walk', frames: 30 }], WALK));
    expect(first.status, JSON.stringify(first.error)).toBe(200);
    const [oldRig] = rigIds(rig);
    expect((await storedRig(rig))?.task_id).toBe(oldRig);

    // Meshy lets the rig task expire; the gateway restarts with the old record in its store.
    rig.sim.forget(oldRig);
    await rig.restart();
    const again = await generate(rig.url, request([{ prompt: 'walk', frames: 30 }], WALK));
    expect(again.status, JSON.stringify(again.error)).toBe(200);
    expect(rigPosts(rig)).toBe(2);
    const newRig = rigIds(rig)[1];
    expect((await storedRig(rig))).toMatchObject({ task_id: newRig, state: 'succeeded' });
    // The walk came from the new rig's bundled clips.
    expect(rig.sim.count('GET /openapi/v1/rigging/:id')).toBeGreaterThan(0);

    await rig.restart();
    const later = await generate(rig.url, request([{ prompt: 'walk', frames: 30 }], WALK));
    expect(later.status, JSON.stringify(later.error)).toBe(200);
    expect(rigPosts(rig)).toBe(2);
  });

  it('found by an animation creation in a job that also walks: one re-rig serves both the walk and the new task', async () => {
    const rig = await open();
    expect((await generate(rig.url, request([{ prompt: 'wave', frames: 30 }]))).status).toBe(200);
    const [oldRig] = rigIds(rig);
    rig.sim.forget(oldRig);
    const body = request([{ prompt: 'walk', frames: 30 }, { prompt: 'kick', frames: 30 }], { extensions: { meshy: { action_id: [-2, null] } } });
    const a = await generate(rig.url, body);
    expect(a.status, JSON.stringify(a.error)).toBe(200);
    expect(rigPosts(rig)).toBe(2);
    const newRig = rigIds(rig)[1];
    expect(rig.sim.created.filter((c) => c.kind === 'animations').at(-1)!.body.rig_task_id).toBe(newRig);
    expect((await storedRig(rig))?.task_id).toBe(newRig);
  });
});

describe('rigging refusals', () => {
  it('a 400 about the API key is not held against the character: the next request rigs again and succeeds', async () => {
    const rig = await open();
    rig.sim.fail({ method: 'POST', path: '/openapi/v1/rigging', status: 400, message: 'Invalid API key format' });
    const refused = await generate(rig.url, request([{ prompt: 'kick', frames: 30 }]));
    expect(refused.status).toBe(503);
    expect(refused.error!.detail.error_code).toBe('MG-PRV-401');
    const ready = await (await fetch(`${rig.url}/readyz`)).json();
    expect(JSON.stringify(ready)).not.toMatch(/cannot be rigged/);
    const next = await generate(rig.url, request([{ prompt: 'kick', frames: 30 }]));
    expect(next.status, JSON.stringify(next.error)).toBe(200);
    expect(rigPosts(rig)).toBe(2);
  });

  it('a 400 about neither (a body Meshy could not read) is not remembered either', async () => {
    const rig = await open();
    rig.sim.fail({ method: 'POST', path: '/openapi/v1/rigging', status: 400, message: 'Invalid JSON body' });
    const refused = await generate(rig.url, request([{ prompt: 'kick', frames: 30 }]));
    expect(refused.status).toBe(503);
    expect(refused.error!.detail.error_code).toBe('MG-PRV-503');
    const next = await generate(rig.url, request([{ prompt: 'kick', frames: 30 }]));
    expect(next.status, JSON.stringify(next.error)).toBe(200);
    expect(rigPosts(rig)).toBe(2);
  });

  it('a 400 about the character file is remembered: no second rigging call, /readyz says why', async () => {
    const rig = await open();
    rig.sim.fail({ method: 'POST', path: '/openapi/v1/rigging', status: 400, message: 'Invalid model file extension: .fbx' });
    const refused = await generate(rig.url, request([{ prompt: 'kick', frames: 30 }]));
    expect(refused.status).toBe(400);
    expect(refused.error!.detail.error_code).toBe('MG-PRV-422');
    const ready = await (await fetch(`${rig.url}/readyz`)).json();
    expect(JSON.stringify(ready)).toMatch(/cannot be rigged/);
    const next = await generate(rig.url, request([{ prompt: 'kick', frames: 30 }]));
    expect(next.status).toBe(503);
    expect(rigPosts(rig)).toBe(1);
  });
});

describe('result URLs from Meshy', () => {
  it('on loopback but not the API origin (and not allow-listed): refused with MG-PRV-403, no asset request made', async () => {
    const rig = await open({ deps: { assetOrigins: [] } });
    const a = await generate(rig.url, request([{ prompt: 'kick', frames: 30 }]));
    expect(a.status).toBe(503);
    expect(a.error!.detail.error_code).toBe('MG-PRV-403');
    expect(a.error!.error.details).toMatchObject({ provider: 'meshy', stage: 'download' });
    expect(a.error!.error.details.provider_message).toMatch(/not https/);
    expect(rig.sim.count('GET /assets')).toBe(0);
  });

  it('on a private address (https://10.0.0.1): refused before any lookup or connection', async () => {
    const asked: string[] = [];
    const rig = await open({ sim: { assetUrlOrigin: 'https://10.0.0.1' }, deps: { lookup: fixedLookup('10.0.0.1', asked) } });
    const a = await generate(rig.url, request([{ prompt: 'kick', frames: 30 }]));
    expect(a.status).toBe(503);
    expect(a.error!.detail.error_code).toBe('MG-PRV-403');
    expect(a.error!.error.details.provider_message).toMatch(/10\.0\.0\.1 is a private address/);
    expect(asked).toEqual([]);
  });

  it('on a host name that resolves to 127.0.0.1: refused when the connection looks it up, the asset server never reached', async () => {
    const asked: string[] = [];
    // Every instance of the simulator shares this loopback storage; the answer names it by a host name.
    const probe = await open();
    const port = new URL(probe.sim.assetOrigin).port;
    const rig = await open({ simulator: probe.sim, deps: { assetOrigins: [], lookup: fixedLookup('127.0.0.1', asked) } });
    probe.sim.behave.assetUrlOrigin = `https://assets.meshy.example:${port}`;
    const a = await generate(rig.url, request([{ prompt: 'kick', frames: 30 }]));
    expect(a.status).toBe(503);
    expect(a.error!.detail.error_code).toBe('MG-PRV-403');
    expect(a.error!.error.details.provider_message).toMatch(/assets\.meshy\.example resolves to 127\.0\.0\.1, a loopback address/);
    expect(asked).toContain('assets.meshy.example');
    expect(probe.sim.count('GET /assets')).toBe(0);
  });

  it('on an allow-listed origin: fetched, and without the API key (the API calls carry it)', async () => {
    const rig = await open();
    const a = await generate(rig.url, request([{ prompt: 'kick', frames: 30 }], WALK));
    expect(a.status, JSON.stringify(a.error)).toBe(200);
    expect(rig.sim.count('GET /assets')).toBe(1);
    expect(rig.sim.stats.assetAuthLeaks).toBe(0);
    // Every API call was authenticated (the simulator answers 401 to one without the key).
    expect(rig.sim.count('POST /openapi/v1/rigging')).toBe(1);
  });
});

describe('an API key Meshy echoes', () => {
  const KEY = 'sk-live-4f9a8b7c6d5e4f3a2b1c';

  it('is redacted from the envelope of a refused call and of a failed task, and from the log lines', async () => {
    const lines: string[] = [];
    const rig = await open({ sim: { keys: [KEY] }, logger: capturingLogger(lines) });
    expect((await generate(rig.url, request([{ prompt: 'wave', frames: 30 }]))).status).toBe(200);

    rig.sim.fail({ method: 'POST', path: '/openapi/v1/animations', status: 400, message: `Key ${KEY} may not use action 42` });
    const refused = await generate(rig.url, request([{ prompt: 'kick', frames: 30 }]));
    expect(refused.status).toBe(400);
    expect(refused.error!.error.details.provider_message).toBe('Key [redacted] may not use action 42');

    rig.sim.failTasks({ kind: 'animations', error: { message: `task rejected for ${KEY}`, type: 'invalid_input' } });
    const failed = await generate(rig.url, request([{ prompt: 'jump', frames: 30 }]));
    expect(failed.status).toBe(400);
    expect(failed.error!.error.details.provider_message).toBe('task rejected for [redacted]');

    // A failing job deletes its other task (queued behind it: Meshy works on one at a time here); Meshy's
    // refusal of the delete, quoting the key, is logged.
    rig.sim.behave.workers = 1;
    rig.sim.failTasks({ kind: 'animations', error: { message: 'Invalid input.', type: 'invalid_input' } });
    rig.sim.fail({ method: 'DELETE', path: '/openapi/v1/animations', status: 500, message: `cannot delete with ${KEY}`, times: 10 });
    const both = await generate(rig.url, request([{ prompt: 'shrug', frames: 30 }, { prompt: 'cheer', frames: 30 }]));
    expect(both.status).toBe(400);
    expect(lines.some((l) => l.includes('could not be deleted') && l.includes('[redacted]'))).toBe(true);

    for (const text of [JSON.stringify(refused.error), JSON.stringify(failed.error), JSON.stringify(both.error), ...lines]) expect(text).not.toContain(KEY);
  });
});
