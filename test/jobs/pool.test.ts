/**
 * The compute pool: tasks run on worker threads while the event loop keeps turning, large typed arrays
 * cross by transfer in both directions (small ones are copied), and failures keep their identity.
 */
import { threadId } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { createWorkers } from '../../src/jobs/pool.js';
import { GatewayError } from '../../src/spec/errors.js';
import { COMPUTE_TASKS } from '../fixtures/compute-tasks.js';

const pool = createWorkers({ threads: 2, minThreads: 1 });
afterAll(() => pool.close());

const task = (fn: string, input: unknown = {}) => ({ module: COMPUTE_TASKS, fn, input });

describe('compute pool', () => {
  it('runs a task on a worker thread, not the caller\'s', async () => {
    const { threadId: ran } = await pool.run<{ threadId: number }>(task('whereAmI'));
    expect(ran).not.toBe(threadId);
    expect(ran).toBeGreaterThan(0);
  });

  it('keeps the event loop turning while a task holds its thread (it could never finish inline)', async () => {
    const flag = new SharedArrayBuffer(4);
    const done = pool.run<{ threadId: number }>(task('blockUntilReleased', { flag }));
    // These turns of the event loop happen while the task blocks its thread.
    let turns = 0;
    for (; turns < 5; turns++) await new Promise((r) => setImmediate(r));
    const other = await pool.run<{ threadId: number }>(task('whereAmI'));
    Atomics.store(new Int32Array(flag), 0, 1);
    Atomics.notify(new Int32Array(flag), 0);
    const blocked = await done;
    expect(turns).toBe(5);
    expect(blocked.threadId).not.toBe(threadId);
    expect(other.threadId).not.toBe(blocked.threadId); // the second thread took the other task
  });

  it('moves large arrays both ways and copies small ones', async () => {
    const data = new Float64Array(100_000).fill(2);
    const small = new Float64Array([1, 2, 3]);
    const out = await pool.run<{ sum: number; large: Float64Array; small: Float64Array }>(task('sumAndMake', { data, small, n: 50_000 }));
    expect(out.sum).toBe(200_000);
    expect(data.byteLength).toBe(0); // moved to the worker: detached here
    expect(small.byteLength).toBe(24); // copied
    expect(out.large).toBeInstanceOf(Float64Array);
    expect(out.large.length).toBe(50_000);
    expect(out.large[49_999]).toBe(1.5);
    expect([...out.small]).toEqual([1, 2, 3]);
  });

  it('hands back a GatewayError as the same catalogue error, anything else as an internal failure', async () => {
    const err = await pool.run(task('failLikeAProvider')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).id).toBe('MG-PRV-502');
    expect((err as GatewayError).details).toEqual({ reason: 'test' });
    const plain = await pool.run(task('failPlainly')).catch((e: unknown) => e);
    expect(plain).toBeInstanceOf(Error);
    expect(plain).not.toBeInstanceOf(GatewayError);
    expect((plain as Error).message).toMatch(/plain failure/);
  });

  it('refuses a function the module does not export', async () => {
    await expect(pool.run(task('noSuchFunction'))).rejects.toThrow(/exports no function "noSuchFunction"/);
  });

  it('runs inline on the calling thread with zero threads (debugging only)', async () => {
    const inline = createWorkers({ threads: 0 });
    expect((await inline.run<{ threadId: number }>(task('whereAmI'))).threadId).toBe(threadId);
    expect(inline.stats().threads).toBe(0);
  });
});
