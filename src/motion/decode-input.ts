/**
 * Checked reading of an untrusted glTF file for the decoder: its container (GLB chunks or JSON text), its
 * JSON values, and accessors whose every offset is checked against its buffer; any failure is MG-PRV-502.
 */
import { GatewayError } from '../spec/errors.js';

/** Throws the decoder's one error; `reason` is our own wording and must never include file content. */
export function fail(reason: string): never {
  throw new GatewayError('MG-PRV-502', `The provider's animation file could not be read: ${reason}.`, { details: { reason } });
}

// ---------------------------------------------------------------------------------------------------
// Container: GLB chunks or JSON text.

export type Json = Record<string, unknown>;
export interface Container {
  json: Json;
  /** The GLB BIN chunk, when there is one. */
  bin: Uint8Array | null;
}

const GLB_MAGIC = 0x46546c67; // 'glTF'
const CHUNK_JSON = 0x4e4f534a;
const CHUNK_BIN = 0x004e4942;

/** Splits a GLB into its JSON and BIN chunks, or parses glTF JSON text. */
export function readContainer(bytes: Uint8Array): Container {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength >= 4 && view.getUint32(0, true) === GLB_MAGIC) return readGlb(bytes, view);
  return { json: parseJsonText(bytes), bin: null };
}

function readGlb(bytes: Uint8Array, view: DataView): Container {
  if (bytes.byteLength < 20) fail('the GLB header is truncated');
  if (view.getUint32(4, true) !== 2) fail('the GLB container version is not 2');
  const length = view.getUint32(8, true);
  if (length > bytes.byteLength) fail('the GLB is truncated');
  let json: Json | null = null;
  let bin: Uint8Array | null = null;
  let off = 12;
  while (off + 8 <= length) {
    const chunkLength = view.getUint32(off, true);
    const type = view.getUint32(off + 4, true);
    off += 8;
    if (chunkLength > length - off) fail('a GLB chunk is truncated');
    const chunk = bytes.subarray(off, off + chunkLength);
    if (json === null) {
      if (type !== CHUNK_JSON) fail('the GLB does not start with a JSON chunk');
      json = parseJsonText(chunk);
    } else if (type === CHUNK_BIN && bin === null) {
      bin = chunk;
    }
    off += chunkLength;
  }
  if (json === null) fail('the GLB has no JSON chunk');
  return { json, bin };
}

function parseJsonText(bytes: Uint8Array): Json {
  let value: unknown;
  try {
    let text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    value = JSON.parse(text);
  } catch {
    fail('it is neither a GLB nor glTF JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('the glTF JSON is not an object');
  const version = (value as Json).asset !== undefined ? obj((value as Json).asset, 'asset').version : undefined;
  if (typeof version === 'string' && !version.startsWith('2.')) fail('the glTF version is not 2.x');
  return value as Json;
}

// ---------------------------------------------------------------------------------------------------
// Checked access to untrusted JSON.

export function obj(x: unknown, what: string): Json {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) fail(`${what} is not an object`);
  return x as Json;
}

export function list(x: unknown, what: string): unknown[] {
  if (x === undefined) return [];
  if (!Array.isArray(x)) fail(`${what} is not an array`);
  return x;
}

export function int(x: unknown, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > max) fail(`${what} is not a valid integer`);
  return x;
}

/** An index into an array of `length` items. */
export function ref(x: unknown, length: number, what: string): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x >= length) fail(`${what} refers to nothing`);
  return x;
}

/** `n` finite numbers, or `fallback` when absent. */
export function finite(x: unknown, n: number, what: string, fallback: number[]): number[] {
  if (x === undefined) return fallback;
  if (!Array.isArray(x) || x.length !== n || !x.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    fail(`${what} is not ${n} finite numbers`);
  }
  return x as number[];
}

// ---------------------------------------------------------------------------------------------------
// Buffers and accessors.

interface AccessorData {
  /** Elements × components, converted to numbers (normalized integers mapped to [-1, 1] or [0, 1]). */
  data: Float64Array;
  count: number;
  comps: number;
}

const COMPONENTS: Record<string, number> = { SCALAR: 1, VEC2: 2, VEC3: 3, VEC4: 4 };
const COMPONENT_BYTES: Record<number, number> = { 5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4 };

/** Reads accessors on demand (each once), checking every offset against its buffer. */
export class AccessorReader {
  private readonly buffers = new Map<number, Uint8Array>();
  private readonly accessors = new Map<number, AccessorData>();
  private decodedBytes = 0;

  constructor(
    private readonly json: Json,
    private readonly bin: Uint8Array | null,
    private readonly maxBytes: number,
  ) {}

  /** Accessor `index` as numbers; all values must be finite. */
  read(index: number): AccessorData {
    const cached = this.accessors.get(index);
    if (cached) return cached;
    const accessors = list(this.json.accessors, 'accessors');
    const a = obj(accessors[ref(index, accessors.length, 'an animation sampler')], 'an accessor');
    const comps = COMPONENTS[String(a.type)];
    const componentType = Number(a.componentType);
    const size = COMPONENT_BYTES[componentType];
    if (comps === undefined || size === undefined) fail('an accessor has an unsupported type');
    const count = int(a.count, 'an accessor count', 1 << 26);
    // An accessor never holds more than the file (sparse ones included): refuse before allocating.
    if (count * comps * size > this.maxBytes) fail('an accessor is larger than the gateway accepts');
    const dense = a.bufferView === undefined ? null : this.view(a.bufferView, int(a.byteOffset ?? 0, 'an accessor offset'), count, comps * size);
    const data = new Float64Array(count * comps);
    if (dense !== null) readComponents(dense.bytes, dense.stride, count, comps, componentType, a.normalized === true, data);
    if (a.sparse !== undefined) this.applySparse(obj(a.sparse, 'a sparse accessor'), count, comps, componentType, a.normalized === true, data);
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) fail('animation data holds non-finite numbers');
    const out = { data, count, comps };
    this.accessors.set(index, out);
    return out;
  }

  private applySparse(s: Json, count: number, comps: number, componentType: number, normalized: boolean, data: Float64Array): void {
    const n = int(s.count, 'a sparse count', count);
    const ix = obj(s.indices, 'sparse indices');
    const ixType = Number(ix.componentType);
    if (ixType !== 5121 && ixType !== 5123 && ixType !== 5125) fail('sparse indices have an unsupported type');
    const ixView = this.view(ix.bufferView, int(ix.byteOffset ?? 0, 'a sparse offset'), n, COMPONENT_BYTES[ixType], true);
    const indices = new Float64Array(n);
    readComponents(ixView.bytes, COMPONENT_BYTES[ixType], n, 1, ixType, false, indices);
    const vals = obj(s.values, 'sparse values');
    const size = COMPONENT_BYTES[componentType];
    const valView = this.view(vals.bufferView, int(vals.byteOffset ?? 0, 'a sparse offset'), n, comps * size, true);
    const values = new Float64Array(n * comps);
    readComponents(valView.bytes, comps * size, n, comps, componentType, normalized, values);
    for (let i = 0; i < n; i++) {
      const at = indices[i];
      if (at >= count) fail('a sparse index is out of range');
      data.set(values.subarray(i * comps, i * comps + comps), at * comps);
    }
  }

  /** The bytes of `count` elements of `elementBytes` each in a buffer view, after bounds checks. */
  private view(viewIndex: unknown, offset: number, count: number, elementBytes: number, tight = false): { bytes: Uint8Array; stride: number } {
    const views = list(this.json.bufferViews, 'bufferViews');
    const v = obj(views[ref(viewIndex, views.length, 'an accessor')], 'a buffer view');
    if (v.extensions !== undefined && obj(v.extensions, 'extensions').EXT_meshopt_compression !== undefined) {
      fail('its animation data is meshopt-compressed');
    }
    const buffer = this.buffer(int(v.buffer, 'a buffer index'));
    const viewOffset = int(v.byteOffset ?? 0, 'a buffer view offset');
    const viewLength = int(v.byteLength, 'a buffer view length');
    const stride = tight || v.byteStride === undefined ? elementBytes : int(v.byteStride, 'a byte stride', 252);
    if (stride < elementBytes) fail('a buffer view stride is too small');
    if (viewOffset + viewLength > buffer.byteLength) fail('a buffer view lies outside its buffer');
    const needed = offset + stride * (count - 1) + elementBytes;
    if (count > 0 && needed > viewLength) fail('an accessor lies outside its buffer view');
    return { bytes: buffer.subarray(viewOffset + offset, viewOffset + viewLength), stride };
  }

  /** Buffer `index`: the GLB BIN chunk or a base64 data: URI, decoded once. */
  private buffer(index: number): Uint8Array {
    const cached = this.buffers.get(index);
    if (cached) return cached;
    const buffers = list(this.json.buffers, 'buffers');
    const b = obj(buffers[ref(index, buffers.length, 'a buffer view')], 'a buffer');
    const byteLength = int(b.byteLength, 'a buffer length');
    let bytes: Uint8Array;
    if (b.uri === undefined) {
      if (index !== 0 || this.bin === null) fail('a buffer is missing');
      bytes = this.bin;
    } else {
      const match = typeof b.uri === 'string' ? /^data:[^,]*;base64,/.exec(b.uri) : null;
      if (match === null) fail('it refers to an external or non-base64 buffer');
      const payload = (b.uri as string).slice(match[0].length);
      this.decodedBytes += Math.floor((payload.length * 3) / 4);
      if (this.decodedBytes > this.maxBytes) fail('its embedded buffers are larger than the gateway accepts');
      bytes = new Uint8Array(Buffer.from(payload, 'base64'));
    }
    if (bytes.byteLength < byteLength) fail('a buffer is shorter than it declares');
    bytes = bytes.subarray(0, byteLength);
    this.buffers.set(index, bytes);
    return bytes;
  }
}

/** Whether this machine stores numbers little-endian, as glTF does (typed arrays then read the file's floats as they are). */
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reads `count` elements of `comps` components (little-endian) into `out`, normalizing when asked. */
function readComponents(bytes: Uint8Array, stride: number, count: number, comps: number, type: number, normalized: boolean, out: Float64Array): void {
  if (type === 5126 && LITTLE_ENDIAN_HOST && bytes.byteOffset % 4 === 0 && stride % 4 === 0) {
    // Aligned floats (every animation accessor the providers write): read them through a Float32Array.
    const floats = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
    const step = stride >> 2;
    if (step === comps) out.set(floats.subarray(0, count * comps));
    else for (let i = 0; i < count; i++) for (let c = 0; c < comps; c++) out[i * comps + c] = floats[i * step + c];
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = COMPONENT_BYTES[type];
  for (let i = 0; i < count; i++) {
    const base = i * stride;
    for (let c = 0; c < comps; c++) {
      const at = base + c * size;
      let v: number;
      switch (type) {
        case 5126: v = view.getFloat32(at, true); break;
        case 5120: v = view.getInt8(at); if (normalized) v = Math.max(v / 127, -1); break;
        case 5121: v = view.getUint8(at); if (normalized) v /= 255; break;
        case 5122: v = view.getInt16(at, true); if (normalized) v = Math.max(v / 32767, -1); break;
        case 5123: v = view.getUint16(at, true); if (normalized) v /= 65535; break;
        default: v = view.getUint32(at, true);
      }
      out[i * comps + c] = v;
    }
  }
}
