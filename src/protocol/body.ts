/** Turns the raw bytes of a request body into JSON, refusing invalid UTF-8, deep nesting and non-finite numbers. */
import { GatewayError } from '../spec/errors.js';

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Measures the nesting depth of JSON text without parsing it, so hostile documents never reach a
 * recursive parser. Strings are skipped, escapes included.
 */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      depth++;
      if (depth > max) max = depth;
    } else if (c === 125 || c === 93) depth--;
  }
  return max;
}

function hasNonFinite(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return true;
    } else if (v && typeof v === 'object') {
      for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push(child);
    }
  }
  return false;
}

/** Parses a JSON body; every failure is a 422 schema_validation error. */
export function parseJsonBody(raw: Uint8Array, maxDepth: number): unknown {
  let text: string;
  try {
    text = decoder.decode(raw);
  } catch {
    throw new GatewayError('MG-REQ-002', 'The request body is not valid UTF-8.', { details: { errors: [{ path: '/', message: 'invalid UTF-8' }] } });
  }
  if (text.trim() === '') {
    throw new GatewayError('MG-REQ-002', 'The request body is empty.', { details: { errors: [{ path: '/', message: 'empty body' }] } });
  }
  const depth = jsonDepth(text);
  if (depth > maxDepth) {
    throw new GatewayError('MG-REQ-003', undefined, { details: { max_depth: maxDepth, errors: [{ path: '/', message: `nested deeper than ${maxDepth} levels` }] } });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const position = /position (\d+)/.exec(String((err as Error).message))?.[1];
    throw new GatewayError('MG-REQ-002', undefined, {
      details: { errors: [{ path: '/', message: position ? `JSON syntax error at byte offset ${position}` : 'JSON syntax error' }] },
    });
  }
  if (hasNonFinite(value)) {
    throw new GatewayError('MG-REQ-001', 'The request contains a number too large to represent.', {
      details: { errors: [{ path: '/', message: 'numbers must be finite' }] },
    });
  }
  return value;
}
