/**
 * Jobs over time: a restart mid-job resumes polling the provider job it already paid for (also when the
 * crash hit between the POST and saving its rid), DELETE cancels the provider job, and N concurrent jobs
 * share one batched status call per tick.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createSayMotionAdapter } from '../../../src/adapters/saymotion/index.js';
import { canonicalSkeleton, startGateway, type Running } from '../../helpers/gateway.js';
import type { SimulatorOptions } from '../../fakes/saymotion/options.js';
import type { SayMotionSimulator } from '../../fakes/saymotion/server.js';
import { FAST_DEPS, generate, request, sayMotionConfig, settle, setup, simulatorOn, text, until, type Setup } from './harness.js';

const tmp = mkdtempSync(join(tmpdir(), 'gw-saymotion-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/**
 * A simulator whose clock the gateways of the test share. Restarts must happen while the provider job is
 * still running: at a fifth of the harness' speed, a stop has half a real second for it.
 */
async function simulator(opts: SimulatorOptions): Promise<SayMotionSimulator> {
  const sim = await simulatorOn(opts, 2);
  cleanup.push(() => sim.close());
  return sim;
}

/** A gateway process on a database file: a "restart" is a new gateway (and a new adapter) on the same file. */
async function gatewayOn(sim: SayMotionSimulator, dbPath: string): Promise<Running> {
  const adapter = createSayMotionAdapter(sayMotionConfig(sim), { ...FAST_DEPS, clock: sim.clock, assetOrigins: [sim.storageUrl] });
  const g = await startGateway({ dbPath, syncWaitMs: 15_000, shutdownGraceMs: 2_000 }, { adapters: [adapter], clock: sim.clock });
  cleanup.push(() => g.close());
  return g;
}

describe('restarts', () => {
  it('resumes polling after a restart mid-job: one provider job, paid once', async () => {
    const sim = await simulator({ job: { runMs: 1_200 } });
    const db = join(tmp, 'resume.db');
    const g1 = await gatewayOn(sim, db);
    const skel = await canonicalSkeleton(g1.url, 'saymotion');
    const res = await generate(g1.url, request(skel, [text('a man walks', 60)]), { prefer: 'respond-async' });
    expect(res.status).toBe(202);
    await until(() => sim.count('status') >= 2);
    await g1.close();
    const credits = sim.credits;
    const polls = sim.count('status');

    const g2 = await gatewayOn(sim, db);
    const done = await settle(g2.url, res.headers.get('location')!);
    expect(done.status).toBe(200);
    // The second process polled the job the first one had submitted.
    expect(sim.count('status')).toBeGreaterThan(polls);
    expect(sim.count('process')).toBe(1);
    expect(sim.jobs.size).toBe(1);
    expect(sim.credits).toBe(credits);
    // The second process never needed to look for a lost submission.
    expect(sim.count('list')).toBe(0);
  });

  it('finds the job in the provider list after a crash between the POST and saving its rid', async () => {
    const sim = await simulator({ job: { runMs: 150 } });
    // The provider creates the job at once but answers late (1.5 s of real time): the gateway stops while the POST is in flight.
    sim.fail('process', { kind: 'delay', ms: 3_000 });
    const db = join(tmp, 'window.db');
    const g1 = await gatewayOn(sim, db);
    const skel = await canonicalSkeleton(g1.url, 'saymotion');
    const res = await generate(g1.url, request(skel, [text('a man walks', 60)]), { prefer: 'respond-async' });
    await until(() => sim.jobs.size === 1);
    await g1.close();
    expect(sim.count('process')).toBe(1);

    const g2 = await gatewayOn(sim, db);
    const done = await settle(g2.url, res.headers.get('location')!);
    expect(done.status).toBe(200);
    expect(sim.count('process')).toBe(1);
    expect(sim.jobs.size).toBe(1);
    expect(sim.count('list')).toBe(1);
  });

  it('does not adopt another job of ours with the same request when recovering', async () => {
    const sim = await simulator({ job: { runMs: 150 } });
    const db = join(tmp, 'claims.db');
    const g1 = await gatewayOn(sim, db);
    const skel = await canonicalSkeleton(g1.url, 'saymotion');
    const body = request(skel, [text('a man walks', 60)]);
    expect((await generate(g1.url, body)).status).toBe(200);
    // Same request; its POST never reaches the provider before the stop.
    sim.fail('process', { kind: 'hang' });
    const res = await generate(g1.url, body, { prefer: 'respond-async' });
    await until(() => sim.count('process') === 2);
    const firstRid = [...sim.jobs.keys()][0];
    sim.forget([...sim.jobs.keys()][1] ?? 'none');
    await g1.close();

    const g2 = await gatewayOn(sim, db);
    const done = await settle(g2.url, res.headers.get('location')!);
    expect(done.status).toBe(200);
    // The finished job of the same request was ours already: a new one was created instead.
    expect(sim.count('process')).toBe(3);
    expect([...sim.jobs.keys()]).toContain(firstRid);
  });
});

describe('cancel', () => {
  it('DELETE on our job cancels the provider job', async () => {
    const s: Setup = await setup({ sim: { job: { runMs: 60_000 } } });
    cleanup.push(() => s.close());
    const skel = await canonicalSkeleton(s.gw.url, 'saymotion');
    const res = await generate(s.gw.url, request(skel, [text('a man walks', 60)]), { prefer: 'respond-async' });
    await until(() => s.sim.count('status') >= 1);
    const del = await fetch(s.gw.url + res.headers.get('location')!, { method: 'DELETE' });
    expect(del.status).toBe(204);
    await until(() => s.sim.count('cancel') === 1);
    const rid = [...s.sim.jobs.keys()][0];
    expect(s.sim.calls.find((c) => c.route === 'cancel')!.rids).toEqual([rid]);
    expect(s.sim.jobs.get(rid)!.cancelledAt).toBeDefined();
    const after = await fetch(s.gw.url + res.headers.get('location')!);
    expect(after.status).toBeGreaterThanOrEqual(400);
    // Nothing polls the cancelled job any more: the poller dropped it and, with nothing else to watch,
    // has no tick scheduled once the one in flight (if any) is answered.
    expect(s.adapter.poller.watching(rid)).toBe(false);
    await s.adapter.poller.settled();
    expect(s.adapter.poller.active).toBe(false);
  });
});

describe('batched polling', () => {
  it('polls N concurrent jobs with one status call per tick', async () => {
    const N = 8;
    // All N jobs must be submitted within one provider run (1 s real: room on a loaded machine) for a tick to see them together.
    const s: Setup = await setup({ sim: { job: { runMs: 2_000 } }, gateway: { maxConcurrentJobs: N }, speed: 2 });
    cleanup.push(() => s.close());
    const skel = await canonicalSkeleton(s.gw.url, 'saymotion');
    const answers = await Promise.all(Array.from({ length: N }, (_, i) => generate(s.gw.url, request(skel, [text(`a man walks ${i}`, 30)]))));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const statusCalls = s.sim.calls.filter((c) => c.route === 'status');
    // One call per tick of the shared poller, never one per job.
    expect(statusCalls.length).toBe(s.adapter.poller.ticks);
    expect(s.adapter.poller.calls).toBe(s.adapter.poller.ticks);
    expect(Math.max(...statusCalls.map((c) => c.rids!.length))).toBe(N);
    for (const c of statusCalls) expect(new Set(c.rids).size).toBe(c.rids!.length);
    // A naive poller would have made about N times as many calls.
    const perJob = statusCalls.length / N;
    expect(perJob).toBeLessThan(10);
    expect(s.sim.count('process')).toBe(N);
    expect(s.sim.logins).toBe(1);
  });
});
