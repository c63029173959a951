/** Loads the JSON Schemas of the wire format from schemas/ (the one source of truth for validation, types and OpenAPI). */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type JsonSchema = Record<string, unknown> & { $id?: string; $defs?: Record<string, JsonSchema> };

function findSchemasDir(): string {
  // Works from src/ (tsx, vitest) and from dist/src/ (compiled).
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'schemas');
    try {
      if (readdirSync(candidate).some((f) => f.endsWith('.schema.json'))) return candidate;
    } catch {
      /* keep walking up */
    }
    dir = dirname(dir);
  }
  throw new Error('schemas/ directory not found');
}

const SCHEMAS_DIR = findSchemasDir();

/** Every schema file, keyed by its short name (file name without `.schema.json`). */
export function loadSchemas(): Map<string, JsonSchema> {
  const out = new Map<string, JsonSchema>();
  for (const file of readdirSync(SCHEMAS_DIR).sort()) {
    if (!file.endsWith('.schema.json')) continue;
    out.set(file.replace(/\.schema\.json$/, ''), JSON.parse(readFileSync(join(SCHEMAS_DIR, file), 'utf8')) as JsonSchema);
  }
  return out;
}

const URN = /^urn:mmcp:([a-z0-9-]+)(?:#\/\$defs\/(\w+))?$/;

/** The component name of a schema file or one of its $defs (e.g. "generate-request" → "GenerateRequest"). */
function componentName(shortName: string, def?: string): string {
  return def ?? shortName.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join('');
}

/**
 * Rewrites every `urn:mmcp:…` and local `#/$defs/…` reference with `rewrite(component)`, and returns a map
 * of component name → schema (files and their $defs flattened). Used for codegen and OpenAPI.
 */
export function flattenComponents(schemas: Map<string, JsonSchema>, rewrite: (component: string) => string): Map<string, unknown> {
  const components = new Map<string, unknown>();
  const fix = (node: unknown, file: string): unknown => {
    if (Array.isArray(node)) return node.map((n) => fix(n, file));
    if (node && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref' && typeof v === 'string') {
          const local = /^#\/\$defs\/(\w+)$/.exec(v);
          const m = URN.exec(v);
          if (local) out.$ref = rewrite(local[1]);
          else if (m) out.$ref = rewrite(componentName(m[1], m[2]));
          else out.$ref = v;
        } else if (k === '$defs' || k === '$id' || k === '$schema' || k === 'discriminator') {
          continue;
        } else {
          out[k] = fix(v, file);
        }
      }
      return out;
    }
    return node;
  };
  for (const [name, schema] of schemas) {
    const { $defs, ...top } = schema;
    if (Object.keys(top).some((k) => !k.startsWith('$') && k !== 'title' && k !== 'description')) {
      components.set(componentName(name), fix(top, name));
    }
    for (const [defName, def] of Object.entries($defs ?? {})) components.set(defName, fix(def, name));
  }
  return components;
}

/** One self-contained schema with every component under $defs, for json-schema-to-typescript. */
export function bundleForCodegen(schemas: Map<string, JsonSchema>): JsonSchema {
  const components = flattenComponents(schemas, (c) => `#/$defs/${c}`);
  const defs: Record<string, unknown> = {};
  for (const [name, s] of components) defs[name] = { ...(s as object), title: name };
  return {
    title: 'Wire',
    type: 'object',
    properties: Object.fromEntries([...components.keys()].map((k) => [k, { $ref: `#/$defs/${k}` }])),
    additionalProperties: false,
    $defs: defs as Record<string, JsonSchema>,
  };
}
