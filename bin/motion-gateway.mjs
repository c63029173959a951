#!/usr/bin/env node
// The `motion-gateway` command: the built CLI (dist/src/cli/main.js) when the package is built, else the
// TypeScript sources through tsx (a clone without a build, as `npm run cli` does).
import { existsSync } from 'node:fs';

const built = new URL('../dist/src/cli/main.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
