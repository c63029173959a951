import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // The package's public adapter contract, as adapters outside the tree import it (package.json "exports").
    alias: { 'motion-gateway/adapter': fileURLToPath(new URL('./src/adapters/public.ts', import.meta.url)) },
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Most test files wait on sockets, child processes and worker threads rather than compute: one file
    // more than there are cores keeps the CPUs busy (on 2 cores: 137 s with vitest's default of 1 file
    // at a time, 92 s with 2, 87 s with 3).
    maxWorkers: availableParallelism() + 1,
    // Files run one after another in each worker process, which keeps the modules it loaded: the gateway's
    // module graph is transformed and imported once per worker instead of once per file (on 2 cores:
    // 117 s → 78 s, import time 72 s → 13 s). Tests own what they start (gateways, servers, Redis prefixes)
    // and close it in their hooks, so no state crosses files.
    isolate: false,
  },
});
