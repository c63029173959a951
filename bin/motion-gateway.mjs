#!/usr/bin/env node
// The `motion-gateway` command. In a checkout with its dev dependencies (tsx) it runs the TypeScript sources,
// so it is never a stale build; where only the build is installed (the Docker image, a production install)
// it runs dist/src/cli/main.js.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const source = new URL('../src/cli/main.ts', import.meta.url);
const built = new URL('../dist/src/cli/main.js', import.meta.url);
let tsx = false;
try {
  createRequire(import.meta.url).resolve('tsx/esm/api');
  tsx = existsSync(source);
} catch {
  // no tsx: a production install
}
if (tsx) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(built.href);
}
