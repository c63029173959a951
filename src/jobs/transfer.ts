/**
 * What crosses between the event loop and the worker threads without a copy: the ArrayBuffers behind the
 * typed arrays of a value (motion clips, file bytes, GLB answers). A buffer is moved only when it is
 * large (≥ MOVE_MIN_BYTES) and some view covers all of it. Small ones are copied, which costs nothing
 * and keeps the tables modules share between calls (a rig's offsets and parents, the views Node carves
 * out of its shared Buffer pool) from being detached under their other users.
 */
import { GatewayError } from '../spec/errors.js';

/** The whole-buffer ArrayBuffers of the typed arrays reachable from `value` (plain objects and arrays). */
const MOVE_MIN_BYTES = 64 * 1024;

export function transferablesOf(value: unknown): ArrayBuffer[] {
  const found = new Set<ArrayBuffer>();
  const seen = new Set<object>();
  const visit = (v: unknown, depth: number): void => {
    if (v === null || typeof v !== 'object' || depth > 64 || seen.has(v)) return;
    seen.add(v);
    if (ArrayBuffer.isView(v)) {
      const buf = v.buffer;
      if (buf instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === buf.byteLength && buf.byteLength >= MOVE_MIN_BYTES) found.add(buf);
      return;
    }
    if (v instanceof ArrayBuffer) {
      if (v.byteLength >= MOVE_MIN_BYTES) found.add(v);
      return;
    }
    if (Array.isArray(v)) {
      for (const item of v) visit(item, depth + 1);
      return;
    }
    if (v instanceof Map || v instanceof Set || v instanceof Date || v instanceof RegExp) return;
    for (const key of Object.keys(v)) visit((v as Record<string, unknown>)[key], depth + 1);
  };
  visit(value, 0);
  return [...found];
}

/** A failure as it crosses threads: GatewayErrors keep their identity, anything else becomes an internal error. */
export interface ThrownAcross {
  gateway?: ReturnType<GatewayError['toJSON']>;
  message: string;
  stack?: string;
}

export function throwable(err: unknown): ThrownAcross {
  if (err instanceof GatewayError) return { gateway: err.toJSON(), message: err.message };
  const e = err instanceof Error ? err : new Error(String(err));
  return { message: e.message, stack: e.stack };
}

/** The error to throw on the calling side for a failure that happened on a worker thread. */
export function rethrown(t: ThrownAcross): Error {
  if (t.gateway) return GatewayError.fromJSON(t.gateway);
  const err = new Error(`worker task failed: ${t.message}`);
  if (t.stack) err.stack = t.stack;
  return err;
}
