/** The error catalogue is complete, published, and every code the source raises is in it; the wire types match the schemas. */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOGUE, GatewayError, type ErrorId } from '../../src/spec/errors.js';
import { validators } from '../../src/protocol/schemas.js';
import { ERRORS_DOC, renderErrorDocs } from '../../scripts/gen-error-docs.js';
import { generateWireTypes } from '../../scripts/gen-types.js';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('error catalogue', () => {
  it('has every error_code raised anywhere in src/', () => {
    const used = new Set<string>();
    for (const file of sourceFiles('src')) {
      for (const m of readFileSync(file, 'utf8').matchAll(/'(MG-[A-Z]{3}-\d{3})'/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(10);
    for (const id of used) expect(Object.keys(CATALOGUE)).toContain(id);
  });

  it('is published in docs/errors.md, up to date', () => {
    expect(readFileSync(ERRORS_DOC, 'utf8')).toBe(renderErrorDocs());
  });

  it('renders every entry as a valid envelope with Retry-After semantics', () => {
    for (const id of Object.keys(CATALOGUE) as ErrorId[]) {
      const err = new GatewayError(id, undefined, { retryAfterS: 12 });
      expect(validators.errorEnvelope(err.toEnvelope())).toBe(true);
      expect(err.action).not.toContain('{retry_after_s}');
      if (err.status === 429 || err.status === 503) expect(err.retryAfterS).toBe(12);
    }
  });
});

describe('wire types', () => {
  it('are generated from the schemas (src/spec/wire.ts is current)', async () => {
    expect(readFileSync('src/spec/wire.ts', 'utf8')).toBe(await generateWireTypes());
  });
});
