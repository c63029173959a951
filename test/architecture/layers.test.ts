/**
 * The layering of src/, enforced: every module imports only from its own layer folder or from a layer
 * below it (docs/architecture.md draws the picture). Read from the source text, so the rule holds for
 * type-only imports too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve('src');

/** Rank of each layer: a module may import its own layer or a lower rank, never a higher or a sibling one. */
const RANK: Record<string, number> = {
  spec: 0,
  'log.ts': 0,
  'tracing.ts': 1,
  motion: 1,
  protocol: 1,
  client: 1,
  adapters: 2,
  tools: 2,
  'config.ts': 3,
  jobs: 4,
  server: 5,
  'entry.ts': 5.5,
  'serve.ts': 5.75,
  'main.ts': 6,
  'worker-main.ts': 6,
  cli: 7,
};

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The layer of a file: its first folder under src/, or its own name for top-level files. */
const layerOf = (file: string) => relative(SRC, file).split('/')[0];

/** Relative imports and re-exports of a module, resolved to source paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/gm)) out.push(resolve(dirname(file), m[1]).replace(/\.js$/, '.ts'));
  for (const m of text.matchAll(/\bimport\(\s*'(\.[^']+)'\s*\)/g)) out.push(resolve(dirname(file), m[1]).replace(/\.js$/, '.ts'));
  return out;
}

const all = files(SRC);

describe('the layers of src/', () => {
  it('knows the layer of every top-level entry', () => {
    const unknown = [...new Set(all.map(layerOf))].filter((l) => !(l in RANK));
    expect(unknown).toEqual([]);
  });

  it('never imports from a higher or a sibling layer', () => {
    const violations: string[] = [];
    for (const file of all) {
      const from = layerOf(file);
      for (const target of importsOf(file)) {
        const to = layerOf(target);
        if (to !== from && !(RANK[to] < RANK[from])) violations.push(`${relative(SRC, file)} → ${relative(SRC, target)}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('keeps motion and protocol free of adapters, jobs and server', () => {
    const bad = all
      .filter((f) => ['motion', 'protocol', 'spec'].includes(layerOf(f)))
      .flatMap((f) => importsOf(f).filter((t) => ['adapters', 'jobs', 'server'].includes(layerOf(t))).map((t) => `${relative(SRC, f)} → ${relative(SRC, t)}`));
    expect(bad).toEqual([]);
  });

  it('keeps provider folders apart: a provider imports only itself, the adapter kit and lower layers', () => {
    const violations: string[] = [];
    for (const file of all.filter((f) => layerOf(f) === 'adapters')) {
      const own = relative(join(SRC, 'adapters'), file).split('/');
      if (own.length < 2 || own[0] === 'kit') continue;
      for (const target of importsOf(file).filter((t) => layerOf(t) === 'adapters')) {
        const folder = relative(join(SRC, 'adapters'), target).split('/');
        if (folder.length > 1 && folder[0] !== own[0] && folder[0] !== 'kit') violations.push(`${relative(SRC, file)} → ${relative(SRC, target)}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('reads process.env only where configuration is loaded', () => {
    const readers = all.filter((f) => /process\.env\b/.test(readFileSync(f, 'utf8'))).map((f) => relative(SRC, f));
    expect(readers.filter((f) => f !== 'config.ts' && f !== 'entry.ts')).toEqual([]);
  });

  it('finds the imports it checks (the check itself works)', () => {
    const pipeline = importsOf(join(SRC, 'motion/pipeline.ts')).map((t) => relative(SRC, t));
    expect(pipeline).toContain('spec/plan.ts');
  });
});
