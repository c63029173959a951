/** Canonical JSON (sorted keys, no white space) and fingerprints, for idempotency and the seeded-result cache. */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level, so equal documents have equal text. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value as object)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

function sha256(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A stable fingerprint of a JSON document. */
export function fingerprint(value: unknown): string {
  return sha256(canonicalJson(value));
}
