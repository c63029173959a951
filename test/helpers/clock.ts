/**
 * Clocks for tests. `scaledClock(k)` runs time k times faster than the wall clock for everything that
 * shares it (gateway runner, adapters, simulators): a provider's 3 s Retry-After or a 2 s poll interval
 * passes in 3000/k and 2000/k real milliseconds, and every timestamp the parties exchange stays
 * consistent. `manualClock()` moves only when the test says so, for unit tests of time-driven logic.
 */
import { systemClock, type Clock } from '../../src/spec/clock.js';

export interface ScaledClock extends Clock {
  readonly factor: number;
}

export function scaledClock(factor: number): ScaledClock {
  const realStart = Date.now();
  return {
    factor,
    now: () => realStart + (Date.now() - realStart) * factor,
    sleep: (ms, signal) => systemClock.sleep(Math.max(0, ms) / factor, signal),
  };
}

export interface ManualClock extends Clock {
  /** Moves time forward, waking every sleeper whose time has come (in due order). */
  advance(ms: number): Promise<void>;
  /** Sleepers not yet woken. */
  readonly pending: number;
}

export function manualClock(start = 1_700_000_000_000): ManualClock {
  let t = start;
  const sleepers: Array<{ due: number; wake: () => void }> = [];
  return {
    now: () => t,
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve();
        const entry = {
          due: t + Math.max(0, ms),
          wake: () => {
            signal?.removeEventListener('abort', entry.wake);
            const i = sleepers.indexOf(entry);
            if (i >= 0) sleepers.splice(i, 1);
            resolve();
          },
        };
        sleepers.push(entry);
        signal?.addEventListener('abort', entry.wake, { once: true });
      }),
    async advance(ms) {
      const end = t + ms;
      for (;;) {
        const next = sleepers.filter((s) => s.due <= end).sort((a, b) => a.due - b.due)[0];
        if (!next) break;
        t = Math.max(t, next.due);
        next.wake();
        // Let the woken code run up to its next await before waking the next sleeper.
        await new Promise((r) => setImmediate(r));
      }
      t = end;
    },
    get pending() {
      return sleepers.length;
    },
  };
}
