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
  },
});
