/** Reads provider animation files (GLB, or glTF JSON with embedded data: URIs) into clips on the file's own skeleton, in the protocol's convention. */
import { GatewayError } from '../spec/errors.js';
import type { Clip } from '../spec/motion.js';
import { qinv, qmul, qnormalize, qslerp, type Quat, type Vec3 } from './quat.js';
import type { Skeleton } from '../spec/motion.js';

export interface DecodeOptions {
  /** Frame rate of the returned clips. */
  fps: number;
  /** Largest file accepted, data: URI payloads included (default 256 MiB). */
  maxBytes?: number;
  /** Largest frame count of one clip (default 100 000). */
  maxFrames?: number;
}

export interface DecodedAnimationFile {
  /** The file's own skeleton in metres, +Y up, identity rest rotations, parents first. */
  skeleton: Skeleton;
  /** One clip per animation of the file, in file order (empty for a rig without animations). */
  clips: Array<{ name: string; clip: Clip }>;
  /** What the decoder dropped or ignored, for logs (never shown to callers). */
  notes: string[];
}

const DEFAULT_MAX_BYTES = 256 * 2 ** 20;
const DEFAULT_MAX_FRAMES = 100_000;
/** Upper bound on frames × joints over all clips of one file (4 doubles each: 256 MiB). */
const MAX_TOTAL_SAMPLES = 8_000_000;
const MAX_NODES = 200_000;
const MAX_JOINTS = 4096;
/** Key times are float32: a key this close past a frame time counts as reached (STEP, frame counts). */
const TIME_EPS = 1e-5;
/** Fraction of a frame forgiven when counting frames (float32 durations round either way). */
const FRAME_EPS = 1e-3;

/**
 * Decodes an animation file as providers deliver it: picks the skin with the most joints (or, without
 * a skin, the tree of animated nodes), folds the whole node tree above it (axis rotations, centimetre
 * scales, animated armature nodes) into the root, bakes non-identity bone rest rotations away
 * (q_j = Wrest[parent]·r_j·Wrest[j]⁻¹) and samples every animation at `opts.fps` from t = 0 to its last
 * key. Unreadable input of any kind is a GatewayError MG-PRV-502 whose message never quotes the file.
 */
export async function decodeAnimationFile(bytes: Uint8Array, opts: DecodeOptions): Promise<DecodedAnimationFile> {
  if (!(opts.fps > 0 && opts.fps <= 1000)) throw new RangeError(`decodeAnimationFile: fps must be in (0, 1000], got ${opts.fps}`);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (bytes.byteLength > maxBytes) {
    throw new GatewayError('MG-PRV-502', 'The provider\'s animation file is larger than the gateway accepts.', {
      details: { reason: 'file_too_large', max_bytes: maxBytes },
    });
  }
  try {
    return decodeDocument(readContainer(bytes), { fps: opts.fps, maxBytes, maxFrames: opts.maxFrames ?? DEFAULT_MAX_FRAMES });
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    // A bug or an allocation failure on hostile input: never let its text reach the caller.
    throw new GatewayError('MG-PRV-502', 'The provider\'s animation file could not be read.', { details: { reason: 'undecodable' }, cause: err });
  }
}

/** Throws the decoder's one error; `reason` is our own wording and must never include file content. */
function fail(reason: string): never {
  throw new GatewayError('MG-PRV-502', `The provider's animation file could not be read: ${reason}.`, { details: { reason } });
}

// ---------------------------------------------------------------------------------------------------
// Container: GLB chunks or JSON text.

type Json = Record<string, unknown>;
interface Container {
  json: Json;
  /** The GLB BIN chunk, when there is one. */
  bin: Uint8Array | null;
}

const GLB_MAGIC = 0x46546c67; // 'glTF'
const CHUNK_JSON = 0x4e4f534a;
const CHUNK_BIN = 0x004e4942;

/** Splits a GLB into its JSON and BIN chunks, or parses glTF JSON text. */
function readContainer(bytes: Uint8Array): Container {
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

function obj(x: unknown, what: string): Json {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) fail(`${what} is not an object`);
  return x as Json;
}

function list(x: unknown, what: string): unknown[] {
  if (x === undefined) return [];
  if (!Array.isArray(x)) fail(`${what} is not an array`);
  return x;
}

function int(x: unknown, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > max) fail(`${what} is not a valid integer`);
  return x;
}

/** An index into an array of `length` items. */
function ref(x: unknown, length: number, what: string): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x >= length) fail(`${what} refers to nothing`);
  return x;
}

/** `n` finite numbers, or `fallback` when absent. */
function finite(x: unknown, n: number, what: string, fallback: number[]): number[] {
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
class AccessorReader {
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

/** Reads `count` elements of `comps` components (little-endian) into `out`, normalizing when asked. */
function readComponents(bytes: Uint8Array, stride: number, count: number, comps: number, type: number, normalized: boolean, out: Float64Array): void {
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

// ---------------------------------------------------------------------------------------------------
// Nodes: rest transforms and hierarchy.

interface SceneNode {
  name: string | null;
  children: number[];
  parent: number;
  t: Vec3;
  r: Quat;
  s: Vec3;
  /** Carries a mesh or camera (never a bone when there is no skin). */
  hasContent: boolean;
}

/** Parses every node's rest TRS (matrices decomposed) and checks that the hierarchy is a forest. */
function readNodes(json: Json): SceneNode[] {
  const raw = list(json.nodes, 'nodes');
  if (raw.length > MAX_NODES) fail('it has too many nodes');
  const nodes: SceneNode[] = raw.map((x, i) => {
    const n = obj(x, 'a node');
    const trs = n.matrix !== undefined
      ? trsFromMatrix(finite(n.matrix, 16, 'a node matrix', []))
      : {
          t: finite(n.translation, 3, 'a node translation', [0, 0, 0]) as Vec3,
          r: qnormalize(finite(n.rotation, 4, 'a node rotation', [0, 0, 0, 1])),
          s: finite(n.scale, 3, 'a node scale', [1, 1, 1]) as Vec3,
        };
    return {
      name: typeof n.name === 'string' && n.name.length > 0 ? n.name : null,
      children: list(n.children, 'node children').map((c) => ref(c, raw.length, `node ${i}`)),
      parent: -1,
      ...trs,
      hasContent: n.mesh !== undefined || n.camera !== undefined,
    };
  });
  nodes.forEach((n, i) => {
    for (const c of n.children) {
      if (nodes[c].parent !== -1 || c === i) fail('its node hierarchy is not a tree');
      nodes[c].parent = i;
    }
  });
  // With one parent each, a cycle is exactly a node no root reaches.
  let reached = 0;
  const stack = nodes.flatMap((n, i) => (n.parent < 0 ? [i] : []));
  while (stack.length > 0) {
    reached++;
    for (const c of nodes[stack.pop() as number].children) stack.push(c);
  }
  if (reached !== nodes.length) fail('its node hierarchy has a cycle');
  return nodes;
}

/** Translation, rotation and scale of a column-major affine matrix (a mirror goes into scale x). */
function trsFromMatrix(m: readonly number[]): { t: Vec3; r: Quat; s: Vec3 } {
  const cols = [0, 4, 8].map((o) => [m[o], m[o + 1], m[o + 2]]);
  const s = cols.map((c) => Math.hypot(c[0], c[1], c[2])) as Vec3;
  const det =
    cols[0][0] * (cols[1][1] * cols[2][2] - cols[1][2] * cols[2][1]) -
    cols[1][0] * (cols[0][1] * cols[2][2] - cols[0][2] * cols[2][1]) +
    cols[2][0] * (cols[0][1] * cols[1][2] - cols[0][2] * cols[1][1]);
  if (det < 0) s[0] = -s[0];
  if (s.some((v) => Math.abs(v) < 1e-12)) return { t: [m[12], m[13], m[14]], r: [0, 0, 0, 1], s };
  const c = cols.map((col, i) => col.map((v) => v / s[i]));
  // Rotation matrix R[row][col] = c[col][row].
  const [m00, m10, m20] = c[0];
  const [m01, m11, m21] = c[1];
  const [m02, m12, m22] = c[2];
  const trace = m00 + m11 + m22;
  let q: Quat;
  if (trace > 0) {
    const k = 0.5 / Math.sqrt(trace + 1);
    q = [(m21 - m12) * k, (m02 - m20) * k, (m10 - m01) * k, 0.25 / k];
  } else if (m00 > m11 && m00 > m22) {
    const k = 2 * Math.sqrt(1 + m00 - m11 - m22);
    q = [0.25 * k, (m01 + m10) / k, (m02 + m20) / k, (m21 - m12) / k];
  } else if (m11 > m22) {
    const k = 2 * Math.sqrt(1 + m11 - m00 - m22);
    q = [(m01 + m10) / k, 0.25 * k, (m12 + m21) / k, (m02 - m20) / k];
  } else {
    const k = 2 * Math.sqrt(1 + m22 - m00 - m11);
    q = [(m02 + m20) / k, (m12 + m21) / k, 0.25 * k, (m10 - m01) / k];
  }
  return { t: [m[12], m[13], m[14]], r: qnormalize(q), s };
}

// ---------------------------------------------------------------------------------------------------
// Affine transforms (3×3 linear part row-major, then translation), for positions under scale.

type Affine = number[];
const AFFINE_IDENTITY: Affine = [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0];

/** The matrix T·R·S of a node. */
function affineFromTrs(t: ArrayLike<number>, r: ArrayLike<number>, s: ArrayLike<number>): Affine {
  const [x, y, z, w] = [r[0], r[1], r[2], r[3]];
  return [
    (1 - 2 * (y * y + z * z)) * s[0], 2 * (x * y - z * w) * s[1], 2 * (x * z + y * w) * s[2],
    2 * (x * y + z * w) * s[0], (1 - 2 * (x * x + z * z)) * s[1], 2 * (y * z - x * w) * s[2],
    2 * (x * z - y * w) * s[0], 2 * (y * z + x * w) * s[1], (1 - 2 * (x * x + y * y)) * s[2],
    t[0], t[1], t[2],
  ];
}

/** a·b (apply b, then a). */
function affineMul(a: Affine, b: Affine): Affine {
  const out = new Array<number>(12);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) out[r * 3 + c] = a[r * 3] * b[c] + a[r * 3 + 1] * b[3 + c] + a[r * 3 + 2] * b[6 + c];
    out[9 + r] = a[r * 3] * b[9] + a[r * 3 + 1] * b[10] + a[r * 3 + 2] * b[11] + a[9 + r];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Choosing the skeleton.

interface SkeletonPlan {
  /** Node index of each joint, parents first. */
  nodes: number[];
  parents: Int32Array;
  /**
   * Per joint, the nodes whose local transforms lead from its parent joint to it (the joint's own node
   * last); for the root, from the top of the node tree, so armature nodes fold into the root.
   */
  chains: number[][];
}

/** The candidate joint nodes: the largest skin's joints, else the subtree of the animated nodes. */
function candidateJoints(json: Json, nodes: SceneNode[], animated: Set<number>, notes: string[]): Set<number> {
  const skins = list(json.skins, 'skins').map((s) => list(obj(s, 'a skin').joints, 'skin joints').map((j) => ref(j, nodes.length, 'a skin joint')));
  if (skins.length > 0) {
    const best = skins.reduce((a, b) => (b.length > a.length ? b : a));
    if (skins.length > 1) notes.push(`chose the skin with ${best.length} joints out of ${skins.length} skins`);
    if (best.length > 0) return new Set(best);
  }
  if (animated.size === 0) fail('it has neither a skin nor animated nodes');
  // Without a skin: everything under the lowest common ancestor of the animated nodes, minus meshes.
  const paths = [...animated].map((n) => ancestry(nodes, n));
  let depth = 0;
  while (paths.every((p) => depth < p.length && p[depth] === paths[0][depth])) depth++;
  const top = depth > 0 ? [paths[0][depth - 1]] : paths.map((p) => p[0]);
  const out = new Set<number>();
  const stack = [...top];
  while (stack.length > 0) {
    const n = stack.pop() as number;
    if (!nodes[n].hasContent || animated.has(n)) out.add(n);
    for (const c of nodes[n].children) stack.push(c);
  }
  notes.push('the file has no skin: the skeleton is the tree of its animated nodes');
  return out;
}

/** Node indices from the top of the tree down to `n`, inclusive. */
function ancestry(nodes: SceneNode[], n: number): number[] {
  const out: number[] = [];
  for (let i = n; i >= 0; i = nodes[i].parent) out.push(i);
  return out.reverse();
}

/** The nearest ancestor of `n` in `set`, or -1. */
function jointParent(nodes: SceneNode[], set: Set<number>, n: number): number {
  for (let p = nodes[n].parent; p >= 0; p = nodes[p].parent) if (set.has(p)) return p;
  return -1;
}

/**
 * Orders the candidates into one skeleton: the largest connected tree; then, while its top joint has
 * a single child joint above a branching one, the top is dropped (an armature or scene node listed in
 * the skin). Dropping loses no motion: the dropped nodes' transforms fold into the new root.
 */
function planSkeleton(nodes: SceneNode[], candidates: Set<number>, notes: string[]): SkeletonPlan {
  if (candidates.size > MAX_JOINTS) fail('its skeleton has too many joints');
  const kids = new Map<number, number[]>();
  const roots: number[] = [];
  for (const n of candidates) {
    const p = jointParent(nodes, candidates, n);
    if (p < 0) roots.push(n);
    else kids.set(p, [...(kids.get(p) ?? []), n]);
  }
  const size = (n: number): number => 1 + (kids.get(n) ?? []).reduce((a, c) => a + size(c), 0);
  const sizes = roots.map(size);
  let root = roots[sizes.indexOf(Math.max(...sizes))];
  if (roots.length > 1) notes.push(`kept the largest of ${roots.length} joint trees; dropped ${candidates.size - Math.max(...sizes)} joints`);
  const branches = (n: number): boolean => {
    const k = kids.get(n) ?? [];
    return k.length > 1 || (k.length === 1 && branches(k[0]));
  };
  const dropped: string[] = [];
  while ((kids.get(root) ?? []).length === 1 && branches(root)) {
    dropped.push(nodes[root].name ?? `node ${root}`);
    root = (kids.get(root) as number[])[0];
  }
  if (dropped.length > 0) notes.push(`treated ${dropped.join(', ')} as armature above the root joint (folded into the root)`);
  // Parents-first order following the file's child order.
  const order: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const n = stack.pop() as number;
    if (candidates.has(n)) order.push(n);
    for (let i = nodes[n].children.length - 1; i >= 0; i--) stack.push(nodes[n].children[i]);
  }
  const slot = new Map(order.map((n, i) => [n, i]));
  const parents = new Int32Array(order.length);
  const chains = order.map((n, j) => {
    if (j === 0) {
      parents[0] = -1;
      return ancestry(nodes, n);
    }
    const p = jointParent(nodes, candidates, n);
    parents[j] = slot.get(p) as number;
    const chain: number[] = [];
    for (let i = n; i !== p; i = nodes[i].parent) chain.push(i);
    return chain.reverse();
  });
  return { nodes: order, parents, chains };
}

/** Unique joint names: the node's name, or `joint_<node>`; repeats get `#2`, `#3`… */
function jointNames(nodes: SceneNode[], plan: SkeletonPlan, notes: string[]): string[] {
  const seen = new Map<string, number>();
  let renamed = 0;
  const names = plan.nodes.map((n) => {
    const base = nodes[n].name ?? `joint_${n}`;
    const k = (seen.get(base) ?? 0) + 1;
    seen.set(base, k);
    if (k > 1) renamed++;
    return k > 1 ? `${base}#${k}` : base;
  });
  if (renamed > 0) notes.push(`renamed ${renamed} joints with duplicate names`);
  return names;
}

// ---------------------------------------------------------------------------------------------------
// Samplers.

const enum Interp { Linear, Step, Cubic }

interface Sampler {
  times: Float64Array;
  /** Per key `comps` values; for CUBICSPLINE per key [in-tangent, value, out-tangent]. */
  values: Float64Array;
  comps: number;
  interp: Interp;
}

/** Index of the last key at or before `t` (within TIME_EPS), or -1 before the first key. */
function keyAt(times: Float64Array, t: number): number {
  let lo = 0;
  let hi = times.length - 1;
  if (times[0] > t + TIME_EPS) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (times[mid] <= t + TIME_EPS) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Evaluates a sampler at `t` into `out`: LINEAR (slerp for rotations), STEP, or CUBICSPLINE (Hermite
 * with tangents scaled by the key interval; rotations normalized after). Holds the end keys outside
 * the keyed range.
 */
function sampleAt(s: Sampler, t: number, isRotation: boolean, out: number[]): void {
  const n = s.times.length;
  const c = s.comps;
  const stride = s.interp === Interp.Cubic ? 3 * c : c;
  const valueOffset = s.interp === Interp.Cubic ? c : 0;
  const k = keyAt(s.times, t);
  if (k < 0 || k >= n - 1 || s.interp === Interp.Step) {
    const at = Math.max(0, k) * stride + valueOffset;
    for (let i = 0; i < c; i++) out[i] = s.values[at + i];
  } else {
    const dt = s.times[k + 1] - s.times[k];
    const u = dt > 0 ? Math.min(1, Math.max(0, (t - s.times[k]) / dt)) : 1;
    const a = k * stride;
    const b = (k + 1) * stride;
    if (s.interp === Interp.Linear) {
      if (isRotation) {
        const q = qslerp(s.values.subarray(a, a + 4), s.values.subarray(b, b + 4), u);
        for (let i = 0; i < 4; i++) out[i] = q[i];
      } else {
        for (let i = 0; i < c; i++) out[i] = s.values[a + i] + (s.values[b + i] - s.values[a + i]) * u;
      }
    } else {
      const u2 = u * u;
      const u3 = u2 * u;
      const h00 = 2 * u3 - 3 * u2 + 1;
      const h10 = (u3 - 2 * u2 + u) * dt;
      const h01 = -2 * u3 + 3 * u2;
      const h11 = (u3 - u2) * dt;
      for (let i = 0; i < c; i++) {
        out[i] = h00 * s.values[a + c + i] + h10 * s.values[a + 2 * c + i] + h01 * s.values[b + c + i] + h11 * s.values[b + i];
      }
    }
  }
  if (isRotation) {
    const q = qnormalize(out);
    for (let i = 0; i < 4; i++) out[i] = q[i];
  }
}

/** Builds a checked sampler from its JSON (times finite and non-decreasing, enough output keys). */
function readSampler(reader: AccessorReader, raw: Json, comps: number): Sampler {
  const interp = raw.interpolation === undefined || raw.interpolation === 'LINEAR' ? Interp.Linear
    : raw.interpolation === 'STEP' ? Interp.Step
    : raw.interpolation === 'CUBICSPLINE' ? Interp.Cubic
    : fail('an animation sampler has an unknown interpolation');
  const input = reader.read(int(raw.input, 'a sampler input'));
  const output = reader.read(int(raw.output, 'a sampler output'));
  if (input.comps !== 1) fail('animation key times are not scalars');
  if (output.comps !== comps) fail('animation values have the wrong type');
  const times = input.data;
  if (times.length === 0) fail('an animation sampler has no keys');
  for (let i = 1; i < times.length; i++) if (times[i] < times[i - 1]) fail('animation key times decrease');
  if (output.count < times.length * (interp === Interp.Cubic ? 3 : 1)) fail('an animation has fewer values than key times');
  return { times, values: output.data, comps, interp };
}

/** Largest distance of a sampler's key values from `rest` (ignoring tangents). */
function maxDeviation(s: Sampler, rest: ArrayLike<number>): number {
  const stride = s.interp === Interp.Cubic ? 3 * s.comps : s.comps;
  const off = s.interp === Interp.Cubic ? s.comps : 0;
  let max = 0;
  for (let k = 0; k < s.times.length; k++) {
    let d = 0;
    for (let i = 0; i < s.comps; i++) d += (s.values[k * stride + off + i] - rest[i]) ** 2;
    max = Math.max(max, Math.sqrt(d));
  }
  return max;
}

// ---------------------------------------------------------------------------------------------------
// Animations.

interface AnimationChannels {
  name: string;
  rotation: Map<number, Sampler>;
  /** Translations of the root and the nodes above it only. */
  translation: Map<number, Sampler>;
  duration: number;
}

/** Nodes targeted by rotation or translation channels in any animation. */
function animatedNodes(json: Json, nodeCount: number): Set<number> {
  const out = new Set<number>();
  for (const a of list(json.animations, 'animations')) {
    for (const ch of list(obj(a, 'an animation').channels, 'animation channels')) {
      const target = obj(obj(ch, 'an animation channel').target, 'a channel target');
      if (target.node !== undefined && (target.path === 'rotation' || target.path === 'translation')) {
        out.add(ref(target.node, nodeCount, 'an animation channel'));
      }
    }
  }
  return out;
}

/**
 * Reads the channels of one animation that move the skeleton. Rotations count on every node of a
 * chain, translations only on the root and above; the rest are ignored (and noted when they move).
 */
function readAnimation(reader: AccessorReader, raw: Json, index: number, nodes: SceneNode[], plan: SkeletonPlan, notes: string[]): AnimationChannels {
  const rotationNodes = new Set(plan.chains.flat());
  const translationNodes = new Set(plan.chains[0]);
  const samplers = list(raw.samplers, 'animation samplers');
  const name = typeof raw.name === 'string' && raw.name.length > 0 ? raw.name : `animation_${index}`;
  const out: AnimationChannels = { name, rotation: new Map(), translation: new Map(), duration: 0 };
  const movedTranslations: string[] = [];
  let scaled = 0;
  for (const chRaw of list(raw.channels, 'animation channels')) {
    const ch = obj(chRaw, 'an animation channel');
    const target = obj(ch.target, 'a channel target');
    if (target.node === undefined) continue;
    const node = ref(target.node, nodes.length, 'an animation channel');
    if (!rotationNodes.has(node)) continue;
    const samplerRaw = obj(samplers[ref(ch.sampler, samplers.length, 'an animation channel')], 'an animation sampler');
    if (target.path === 'rotation') {
      out.rotation.set(node, readSampler(reader, samplerRaw, 4));
    } else if (target.path === 'translation') {
      const s = readSampler(reader, samplerRaw, 3);
      if (translationNodes.has(node)) out.translation.set(node, s);
      else if (maxDeviation(s, nodes[node].t) > 1e-3 * Math.hypot(...nodes[node].t) + 1e-6) movedTranslations.push(nodes[node].name ?? `node ${node}`);
    } else if (target.path === 'scale') {
      if (maxDeviation(readSampler(reader, samplerRaw, 3), nodes[node].s) > 1e-4 * Math.hypot(...nodes[node].s)) scaled++;
    }
  }
  for (const s of [...out.rotation.values(), ...out.translation.values()]) out.duration = Math.max(out.duration, s.times[s.times.length - 1]);
  if (movedTranslations.length > 0) {
    const shown = movedTranslations.slice(0, 5).join(', ') + (movedTranslations.length > 5 ? ', …' : '');
    notes.push(`${name}: ignored animated translations of ${movedTranslations.length} non-root joints (${shown}); the skeleton keeps its rest offsets`);
  }
  if (scaled > 0) notes.push(`${name}: ignored animated scale on ${scaled} nodes`);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Evaluation.

/**
 * World rotations of every joint (pure rotations, scales left out) and the root's world position for
 * one pose; `rot`/`trans` give a node's animated local values, falling back to its rest values.
 */
function evaluatePose(
  nodes: SceneNode[],
  plan: SkeletonPlan,
  rot: (node: number) => ArrayLike<number>,
  trans: (node: number) => ArrayLike<number>,
  outWorld: Float64Array,
): Vec3 {
  let m = AFFINE_IDENTITY;
  let w: Quat = [0, 0, 0, 1];
  for (const n of plan.chains[0]) {
    const r = rot(n);
    m = affineMul(m, affineFromTrs(trans(n), r, nodes[n].s));
    w = qmul(w, r);
  }
  outWorld.set(qnormalize(w), 0);
  for (let j = 1; j < plan.nodes.length; j++) {
    const p = plan.parents[j];
    let q: Quat = [outWorld[p * 4], outWorld[p * 4 + 1], outWorld[p * 4 + 2], outWorld[p * 4 + 3]];
    for (const n of plan.chains[j]) q = qmul(q, rot(n));
    outWorld.set(qnormalize(q), j * 4);
  }
  return [m[9], m[10], m[11]];
}

/** World rest positions of every joint, scales and armature axes included (J×3). */
function restWorldPositions(nodes: SceneNode[], plan: SkeletonPlan): Float64Array {
  const J = plan.nodes.length;
  const world: Affine[] = [];
  const out = new Float64Array(J * 3);
  for (let j = 0; j < J; j++) {
    let m = j === 0 ? AFFINE_IDENTITY : world[plan.parents[j]];
    for (const n of plan.chains[j]) m = affineMul(m, affineFromTrs(nodes[n].t, nodes[n].r, nodes[n].s));
    world.push(m);
    out.set([m[9], m[10], m[11]], j * 3);
  }
  return out;
}

/** Number of frames covering `duration` seconds at `fps`, both ends included. */
export function frameCount(duration: number, fps: number): number {
  return Math.floor(duration * fps + FRAME_EPS) + 1;
}

/**
 * Samples one animation into a clip in the protocol convention: Q_j(t) = W_j(t)·Wrest_j⁻¹ is the
 * joint's world rotation measured from a world-aligned rest and q_j = Q_parent⁻¹·Q_j its local one
 * (= Wrest[parent]·r_j·Wrest[j]⁻¹ for a joint directly under its parent); keys kept in one hemisphere.
 */
function sampleClip(nodes: SceneNode[], plan: SkeletonPlan, restInv: Float64Array, anim: AnimationChannels, fps: number, numFrames: number): Clip {
  const J = plan.nodes.length;
  const rotations = new Float64Array(numFrames * J * 4);
  const rootPositions = new Float64Array(numFrames * 3);
  const world = new Float64Array(J * 4);
  const worldFromRest = new Float64Array(J * 4);
  const rotCache = new Map<number, number[]>();
  const transCache = new Map<number, number[]>();
  let t = 0;
  const rot = (n: number): ArrayLike<number> => {
    const s = anim.rotation.get(n);
    if (!s) return nodes[n].r;
    const out = rotCache.get(n) ?? [0, 0, 0, 1];
    rotCache.set(n, out);
    sampleAt(s, t, true, out);
    return out;
  };
  const trans = (n: number): ArrayLike<number> => {
    const s = anim.translation.get(n);
    if (!s) return nodes[n].t;
    const out = transCache.get(n) ?? [0, 0, 0];
    transCache.set(n, out);
    sampleAt(s, t, false, out);
    return out;
  };
  for (let f = 0; f < numFrames; f++) {
    t = f / fps;
    const root = evaluatePose(nodes, plan, rot, trans, world);
    rootPositions.set(root, f * 3);
    for (let j = 0; j < J; j++) {
      worldFromRest.set(qmul(world.subarray(j * 4, j * 4 + 4), restInv.subarray(j * 4, j * 4 + 4)), j * 4);
      const p = plan.parents[j];
      let q = p < 0 ? qnormalize(worldFromRest.subarray(0, 4)) : qnormalize(qmul(qinv(worldFromRest.subarray(p * 4, p * 4 + 4)), worldFromRest.subarray(j * 4, j * 4 + 4)));
      const at = (f * J + j) * 4;
      if (f > 0) {
        const prev = at - J * 4;
        const dot = q[0] * rotations[prev] + q[1] * rotations[prev + 1] + q[2] * rotations[prev + 2] + q[3] * rotations[prev + 3];
        if (dot < 0) q = [-q[0], -q[1], -q[2], -q[3]];
      }
      rotations.set(q, at);
    }
  }
  for (let i = 0; i < rotations.length; i++) if (!Number.isFinite(rotations[i])) fail('its animation evaluates to non-finite rotations');
  for (let i = 0; i < rootPositions.length; i++) if (!Number.isFinite(rootPositions[i])) fail('its animation evaluates to non-finite positions');
  return { fps, numFrames, jointCount: J, rotations, rootPositions };
}

// ---------------------------------------------------------------------------------------------------
// The whole document.

function decodeDocument(container: Container, opts: Required<DecodeOptions>): DecodedAnimationFile {
  const { json } = container;
  const notes: string[] = [];
  const nodes = readNodes(json);
  if (nodes.length === 0) fail('it has no nodes');
  const plan = planSkeleton(nodes, candidateJoints(json, nodes, animatedNodes(json, nodes.length), notes), notes);
  const J = plan.nodes.length;

  const restWorld = new Float64Array(J * 4);
  evaluatePose(nodes, plan, (n) => nodes[n].r, (n) => nodes[n].t, restWorld);
  const restInv = new Float64Array(J * 4);
  for (let j = 0; j < J; j++) restInv.set(qinv(restWorld.subarray(j * 4, j * 4 + 4)), j * 4);
  const restPos = restWorldPositions(nodes, plan);
  const offsets = new Float64Array(J * 3);
  for (let j = 0; j < J; j++) {
    const p = plan.parents[j];
    for (let i = 0; i < 3; i++) offsets[j * 3 + i] = restPos[j * 3 + i] - (p < 0 ? 0 : restPos[p * 3 + i]);
  }
  for (let i = 0; i < offsets.length; i++) if (!Number.isFinite(offsets[i])) fail('its rest pose is not finite');
  const restRotations = new Float64Array(J * 4);
  for (let j = 0; j < J; j++) restRotations[j * 4 + 3] = 1;
  const skeleton: Skeleton = { names: jointNames(nodes, plan, notes), parents: plan.parents, offsets, restRotations };
  warnIfScaled(nodes, plan, notes);

  const reader = new AccessorReader(json, container.bin, opts.maxBytes);
  const clips: DecodedAnimationFile['clips'] = [];
  let samples = 0;
  list(json.animations, 'animations').forEach((raw, i) => {
    const anim = readAnimation(reader, obj(raw, 'an animation'), i, nodes, plan, notes);
    if (anim.rotation.size === 0 && anim.translation.size === 0) {
      notes.push(`${anim.name}: skipped (no channel moves the skeleton)`);
      return;
    }
    if (!(anim.duration * opts.fps < opts.maxFrames)) fail('an animation is longer than the gateway accepts');
    const numFrames = frameCount(anim.duration, opts.fps);
    samples += numFrames * J;
    if (samples > MAX_TOTAL_SAMPLES) fail('its animations are larger than the gateway accepts');
    clips.push({ name: anim.name, clip: sampleClip(nodes, plan, restInv, anim, opts.fps, numFrames) });
  });
  return { skeleton, clips, notes };
}

/** Notes scales the decoder cannot represent exactly (non-uniform or mirroring). */
function warnIfScaled(nodes: SceneNode[], plan: SkeletonPlan, notes: string[]): void {
  const chainNodes = plan.chains.flat();
  const nonUniform = chainNodes.filter((n) => {
    const s = nodes[n].s;
    return Math.abs(s[0] - s[1]) > 1e-6 * Math.abs(s[0]) || Math.abs(s[0] - s[2]) > 1e-6 * Math.abs(s[0]) || Math.min(...s) < 0;
  });
  if (nonUniform.length > 0) {
    notes.push(`${nonUniform.length} nodes carry non-uniform or mirroring scale: rest offsets and root positions include it, rotations stay pure (poses away from rest are approximate)`);
  }
}
