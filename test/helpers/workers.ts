/**
 * One pool of worker threads shared by every gateway a test file starts: starting threads (which load the
 * TypeScript sources through tsx) costs about half a second each, far more than most tests. The setup
 * file (test/setup.ts) closes it after the file's tests.
 */
import { createWorkers, type MotionWorkers } from '../../src/jobs/pool.js';

let shared: MotionWorkers | undefined;

export function sharedWorkers(): MotionWorkers {
  shared ??= createWorkers({ threads: 2, minThreads: 1, idleTimeoutMs: 10_000 });
  return shared;
}

export async function closeSharedWorkers(): Promise<void> {
  const pool = shared;
  shared = undefined;
  await pool?.close();
}
