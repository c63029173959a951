/**
 * Time as the gateway reads it: the current epoch milliseconds and an abortable wait. Injected wherever
 * time decides behaviour (job deadlines, waits between steps, Retry-After, session expiry), so tests
 * can run hours of provider patience in milliseconds.
 */
export interface Clock {
  now(): number;
  /** Resolves after `ms` (at once when `signal` aborts; never rejects). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Wall-clock time and real timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done, { once: true });
    }),
};
