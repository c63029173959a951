/**
 * The job runner as a unit: admission (validation, capacity, the seeded-result cache, start() once),
 * stepping on an injected clock, cancellation, deadlines, queue positions and resuming after a restart.
 * A real SQLite store in memory or in a temporary file; no HTTP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AdapterRegistry } from '../../src/adapters/registry.js';
import { JobRunner } from '../../src/jobs/runner.js';
import { SqliteStore as Store } from '../../src/jobs/sqlite-store.js';
import { createWorkers } from '../../src/jobs/pool.js';
import { GatewayError } from '../../src/spec/errors.js';
import { manualClock, type ManualClock } from '../helpers/clock.js';
import { testConfig } from '../helpers/config.js';
import { createGatedAdapter, type GatedAdapter } from '../helpers/gated-adapter.js';
import type { Config } from '../../src/config.js';

/** Resolves once a job sleeps on the clock (its step returned and it waits for the next one). */
async function sleeping(clock: ManualClock): Promise<void> {
  while (clock.pending === 0) await new Promise((r) => setImmediate(r));
}

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const tmp = mkdtempSync(join(tmpdir(), 'gw-runner-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Rig {
  runner: JobRunner;
  store: Store;
  gated: GatedAdapter;
  clock: ManualClock;
  finished: Array<[string, string]>;
}

const open: Rig[] = [];
afterEach(async () => {
  for (const r of open.splice(0)) {
    await r.runner.stop(0);
    r.store.close();
  }
});

function rig(over: Partial<Config> = {}, gated = createGatedAdapter(), dbPath = ':memory:', clock = manualClock()): Rig {
  const config = testConfig({ dbPath, ...over });
  const store = new Store(dbPath);
  const finished: Array<[string, string]> = [];
  const registry = new AdapterRegistry([gated], { max_request_bytes: config.maxRequestBytes, max_batch_size: config.maxBatchSize });
  const runner = new JobRunner({ store, registry, config, log: silent, workers: createWorkers({ threads: 0 }), clock, onFinished: (m, s) => void finished.push([m, s]) });
  void runner.start();
  const r = { runner, store, gated, clock, finished };
  open.push(r);
  return r;
}

const skeleton = createGatedAdapter().models()[0].canonical_skeleton;
const body = (over: Record<string, unknown> = {}) => ({
  protocol_version: '1.2',
  model: 'gated',
  skeleton,
  segments: [{ type: 'text', prompt: 'walk', duration_frames: 30 }],
  ...over,
});

describe('JobRunner', () => {
  it('prepares a request: validation errors come out as catalogue errors, the cost is samples × seconds', async () => {
    const { runner } = rig();
    expect(() => runner.prepare({ ...body(), model: 'nope' })).toThrow(GatewayError);
    expect(runner.prepare(body({ options: { num_samples: 3 } })).cost.sampleSeconds).toBeCloseTo(3 * 1, 6);
  });

  it('admits a job, calls start() once, and steps it on the clock until the provider is done', async () => {
    const r = rig();
    const job = await r.runner.admit(r.runner.prepare(body()), 'alice');
    expect(job.state).toBe('queued');
    expect(r.gated.calls.start).toBe(1);
    await r.gated.advanced(1);
    await sleeping(r.clock);
    expect((await r.store.getJob(job.id))!.state).toBe('running');
    // Each pending step waits 20 ms on the clock: nothing more happens until the clock moves.
    const before = r.gated.calls.advance;
    await r.clock.advance(20);
    await r.gated.advanced(before + 1);
    await sleeping(r.clock);
    r.gated.open();
    await r.clock.advance(20);
    await r.runner.waitFor(job.id, 5_000);
    const done = (await r.store.getJob(job.id))!;
    expect(done.state).toBe('succeeded');
    expect(done.result!.byteLength).toBeGreaterThan(1000);
    expect(done.progress).toBe(1);
    expect(r.gated.calls.start).toBe(1);
    expect(r.finished).toEqual([['gated', 'succeeded']]);
  });

  it('answers a seeded request from the result cache without calling start() again', async () => {
    const r = rig({}, createGatedAdapter({ open: true }));
    const first = await r.runner.admit(r.runner.prepare(body({ options: { seed: 7 } })), 'alice');
    await r.runner.waitFor(first.id, 5_000);
    expect((await r.store.getJob(first.id))!.state).toBe('succeeded');
    const again = await r.runner.admit(r.runner.prepare(body({ options: { seed: 7, num_samples: 1 } })), 'bob');
    expect(again.state).toBe('succeeded');
    expect(Buffer.compare(again.result!, (await r.store.getJob(first.id))!.result!)).toBe(0);
    expect(r.gated.calls.start).toBe(1);
  });

  it('refuses with 503 resource_exhausted when running and queued slots are full', async () => {
    const r = rig({ maxConcurrentJobs: 1, maxQueuedJobs: 1 });
    await r.runner.admit(r.runner.prepare(body()), 'a');
    await r.gated.advanced(1);
    await r.runner.admit(r.runner.prepare(body()), 'a');
    const err = await r.runner.admit(r.runner.prepare(body()), 'a').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('resource_exhausted');
    expect((err as GatewayError).retryAfterS).toBeGreaterThanOrEqual(1);
  });

  it('reports queue positions and a Retry-After that grows with the queue', async () => {
    const r = rig({ maxConcurrentJobs: 1 });
    const running = await r.runner.admit(r.runner.prepare(body()), 'a');
    await r.gated.advanced(1);
    const queued = [];
    for (let i = 0; i < 3; i++) queued.push(await r.runner.admit(r.runner.prepare(body()), 'a'));
    expect(await r.runner.queuePosition(running.id)).toBeUndefined();
    expect(await Promise.all(queued.map((j) => r.runner.queuePosition(j.id)))).toEqual([0, 1, 2]);
    const waits = [];
    for (const j of queued) waits.push(await r.runner.retryAfterS((await r.store.getJob(j.id))!));
    expect(waits[2]).toBeGreaterThanOrEqual(waits[0]);
    expect(r.runner.stats()).toEqual({ active: 1, queued: 3 });
  });

  it('cancels a running job at the provider and a queued one before it starts', async () => {
    const r = rig({ maxConcurrentJobs: 1 });
    const a = await r.runner.admit(r.runner.prepare(body()), 'a');
    await r.gated.advanced(1);
    const b = await r.runner.admit(r.runner.prepare(body()), 'a');
    expect(await r.runner.cancel(b.id)).toBe(true);
    expect(await r.runner.cancel(a.id)).toBe(true);
    await r.runner.waitFor(a.id, 1_000);
    await r.runner.stop(1_000);
    expect((await r.store.getJob(a.id))!.state).toBe('cancelled');
    expect((await r.store.getJob(b.id))!.state).toBe('cancelled');
    expect(r.gated.calls.cancel).toBe(1); // only the running one had provider work
    expect(await r.runner.cancel(a.id)).toBe(false);
  });

  it('fails a job past its deadline with 504 timeout and cancels it at the provider', async () => {
    const r = rig({ jobTimeoutS: 1 });
    const job = await r.runner.admit(r.runner.prepare(body()), 'a');
    await r.gated.advanced(1);
    await sleeping(r.clock);
    await r.clock.advance(1_100);
    await r.runner.waitFor(job.id, 5_000);
    const row = (await r.store.getJob(job.id))!;
    expect(row.state).toBe('failed');
    expect(JSON.parse(row.error!).id).toBe('MG-JOB-004');
    expect(r.gated.calls.cancel).toBe(1);
  });

  it('resumes an unfinished job after a restart from its checkpoint, without calling start() again', async () => {
    const db = join(tmp, 'resume.db');
    const shared = { calls: { start: 0, advance: 0, cancel: 0 }, gate: { open: false } };
    const first = rig({}, createGatedAdapter({ shared }), db);
    const job = await first.runner.admit(first.runner.prepare(body()), 'a');
    await first.gated.advanced(1);
    await sleeping(first.clock);
    await first.clock.advance(20);
    await first.gated.advanced(2);
    await first.runner.stop(1_000);
    first.store.close();
    open.splice(open.indexOf(first), 1);
    const reader = new Store(db); // the file is locked while a store has it open: read, then close
    const polls = JSON.parse((await reader.getJob(job.id))!.checkpoint!).polls;
    await reader.close();
    expect(polls).toBeGreaterThanOrEqual(1);

    shared.gate.open = true;
    const second = rig({}, createGatedAdapter({ shared }), db);
    await second.runner.waitFor(job.id, 5_000);
    expect((await second.store.getJob(job.id))!.state).toBe('succeeded');
    expect(shared.calls.start).toBe(1);
  });
});
