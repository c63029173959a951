/** Generates src/spec/wire.ts from schemas/*.schema.json (the schemas are the single source of truth). */
import { compile } from 'json-schema-to-typescript';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { loadSchemas, bundleForCodegen } from '../src/protocol/schema-files.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function generateWireTypes(): Promise<string> {
  const bundle = bundleForCodegen(loadSchemas());
  const ts = await compile(bundle as never, 'Wire', {
    bannerComment:
      '/* Generated from schemas/*.schema.json by `npm run gen:types`: do not edit by hand. */\n/* eslint-disable */',
    additionalProperties: false,
    unreachableDefinitions: true,
    strictIndexSignatures: false,
    format: false,
    style: { singleQuote: true },
  });
  return ts;
}

const out = join(root, 'src/spec/wire.ts');
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const ts = await generateWireTypes();
  const check = process.argv.includes('--check');
  if (check) {
    if (readFileSync(out, 'utf8') !== ts) {
      console.error('src/spec/wire.ts is out of date: run npm run gen:types');
      process.exit(1);
    }
  } else {
    writeFileSync(out, ts);
    console.log('wrote', out);
  }
}
