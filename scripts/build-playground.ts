/** Bundles the playground page (web/playground, with three.js) into dist/playground for `npm start` to serve. */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundlePlayground } from '../src/server/playground.js';

const out = join(process.cwd(), 'dist', 'playground');
const files = await bundlePlayground(process.cwd());
// Old hashed assets go: the directory holds exactly one build.
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const [name, file] of files) writeFileSync(join(out, name), file.body);
console.log(`playground: ${[...files].map(([name, f]) => `${name} ${(f.body.length / 1024).toFixed(0)} KiB`).join(', ')} → ${out}`);
