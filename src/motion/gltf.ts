/** The glTF 2.0 encoder of MMCP answers (skeleton nodes, skin, one dense animation per sample, MMCP_motion) as GLB, and its JSON twin. */
import { randomUUID } from 'node:crypto';
import type { GLTF } from '@gltf-transform/core';
import type { MmcpMotion, MotionSample } from '../spec/wire.js';
import type { Clip } from '../spec/motion.js';
import type { Skeleton } from '../spec/motion.js';

/** One sample of an answer: a clip on the request skeleton at the document's fps, and its metadata. */
export interface EncodeSample {
  /** Animation and MMCP_motion sample name, `sample_<i>`. */
  name: string;
  clip: Clip;
  /** Frames where provider chunks were stitched (empty when generated in one piece). */
  chunkBoundaries: number[];
  /** Request joint → one flag per frame, or null when the model predicts none. */
  footContacts: Record<string, boolean[]> | null;
  /** Further fields of the MMCP_motion sample entry (`x_understood`, `trajectory`, …); they never replace the required ones. */
  extras?: Record<string, unknown>;
}

export interface EncodeInput {
  skeleton: Skeleton;
  fps: number;
  samples: EncodeSample[];
  motion: {
    /** Protocol version served. */
    version: string;
    model: string;
    /** Canonical joint → request joint when the answer was retargeted, else null. */
    canonicalToRequest: Record<string, string> | null;
    /** Further top-level MMCP_motion fields (x_-prefixed); they never replace the required ones. */
    extras?: Record<string, unknown>;
  };
}

const MMCP_MOTION = 'MMCP_motion';
const GENERATOR = 'motion-gateway';
const DATA_URI_PREFIX = 'data:application/octet-stream;base64,';
const GLB_MAGIC = 0x46546c67; // "glTF"
const CHUNK_JSON = 0x4e4f534a; // "JSON"
const CHUNK_BIN = 0x004e4942; // "BIN\0"
const FLOAT = 5126;

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
  throw new Error('gltf.ts writes float32 data in platform byte order and needs a little-endian platform');
}

/**
 * World rest rotations Wrest (J×4): the product of the local rest rotations from the root down.
 * Identity everywhere for protocol-1.2 skeletons.
 */
export function worldRestRotations(s: Skeleton): Float64Array {
  const J = s.names.length;
  const w = new Float64Array(J * 4);
  for (let j = 0; j < J; j++) {
    const p = s.parents[j];
    if (p < 0) w.set(s.restRotations.subarray(j * 4, j * 4 + 4), j * 4);
    else mulInto(w, j * 4, w, p * 4, false, s.restRotations, j * 4);
    normalizeAt(w, j * 4);
  }
  return w;
}

/**
 * Encodes the answer as a GLB. Nodes mirror the skeleton (translation = the rest offset in the parent's
 * rest frame, rotation = the rest rotation); a skin lists every joint with inverse bind matrices; each
 * sample becomes an animation with one shared time accessor, a LINEAR rotation channel per joint and a
 * LINEAR translation channel for the root (and one per joint of `clip.jointTranslations`). Rotation keys are node-local:
 * r_j(t) = Wrest[parent]⁻¹ · q_j(t) · Wrest[j], stored as normalized float32 in one hemisphere per joint.
 * Throws on inconsistent input (joint counts, fps, contact lengths, non-finite values): those are bugs.
 */
export function encodeGlb(input: EncodeInput): Uint8Array {
  const { skeleton, fps, samples } = input;
  const J = skeleton.names.length;
  if (J === 0 || skeleton.parents[0] !== -1) throw new RangeError('encodeGlb: the skeleton must start with its root');
  if (!(fps > 0) || !Number.isFinite(fps)) throw new RangeError(`encodeGlb: bad fps ${fps}`);
  for (const s of samples) checkSample(s, J, fps);

  const wrest = worldRestRotations(skeleton);
  const identityRest = isIdentityEverywhere(wrest);
  const { json, floats, layout } = buildDocument(input, wrest);

  const jsonBytes = new TextEncoder().encode(JSON.stringify(json));
  const jsonLength = align4(jsonBytes.length);
  const binLength = floats * 4;
  const total = 12 + 8 + jsonLength + 8 + binLength;
  const glb = new Uint8Array(total);
  const view = new DataView(glb.buffer);
  view.setUint32(0, GLB_MAGIC, true);
  view.setUint32(4, 2, true);
  view.setUint32(8, total, true);
  view.setUint32(12, jsonLength, true);
  view.setUint32(16, CHUNK_JSON, true);
  glb.set(jsonBytes, 20);
  glb.fill(0x20, 20 + jsonBytes.length, 20 + jsonLength);
  const binStart = 20 + jsonLength;
  view.setUint32(binStart, binLength, true);
  view.setUint32(binStart + 4, CHUNK_BIN, true);
  const bin = new Float32Array(glb.buffer, binStart + 8, floats);

  writeInverseBindMatrices(bin, 0, skeleton, wrest);
  samples.forEach((s, i) => writeSample(bin, layout[i], s.clip, skeleton, wrest, identityRest, fps));
  return glb;
}

/** Splits a GLB into its JSON document and its binary chunk (a view, not a copy). */
export function parseGlb(glb: Uint8Array): { json: GLTF.IGLTF; bin: Uint8Array } {
  if (glb.byteLength < 20) throw new Error('parseGlb: too short for a GLB');
  const view = new DataView(glb.buffer, glb.byteOffset, glb.byteLength);
  if (view.getUint32(0, true) !== GLB_MAGIC || view.getUint32(4, true) !== 2) throw new Error('parseGlb: not a glTF 2.0 GLB');
  const length = Math.min(view.getUint32(8, true), glb.byteLength);
  const jsonLength = view.getUint32(12, true);
  if (view.getUint32(16, true) !== CHUNK_JSON || 20 + jsonLength > length) throw new Error('parseGlb: bad JSON chunk');
  const json = JSON.parse(new TextDecoder().decode(glb.subarray(20, 20 + jsonLength))) as GLTF.IGLTF;
  let bin: Uint8Array = new Uint8Array(0);
  const binStart = 20 + jsonLength;
  if (binStart + 8 <= length && view.getUint32(binStart + 4, true) === CHUNK_BIN) {
    const binLength = view.getUint32(binStart, true);
    if (binStart + 8 + binLength > length) throw new Error('parseGlb: bad BIN chunk');
    bin = glb.subarray(binStart + 8, binStart + 8 + binLength);
  }
  return { json, bin };
}

/**
 * The JSON glTF text around buffer 0's base64 `data:` URI, as UTF-8: everything before the base64 and
 * everything after it. The megabytes of base64 never pass through JSON.stringify or a UTF-8 encoder: a
 * one-off marker holds their place in the JSON text. Undefined when the document has no buffer.
 */
export function jsonAroundDataUri(json: GLTF.IGLTF): { head: Buffer; tail: Buffer } | undefined {
  const buffer = json.buffers?.[0];
  if (!buffer) return undefined;
  const marker = `${DATA_URI_PREFIX}${randomUUID()}`;
  buffer.uri = marker;
  const text = JSON.stringify(json);
  const at = text.indexOf(marker);
  return { head: Buffer.from(text.slice(0, at) + DATA_URI_PREFIX, 'utf8'), tail: Buffer.from(text.slice(at + marker.length), 'utf8') };
}

/**
 * Converts a GLB into the equivalent JSON glTF (UTF-8 bytes): the same document with the binary chunk
 * embedded as a base64 `data:` URI in buffer 0. Everything else is carried over unchanged.
 */
export function glbToJson(glb: Uint8Array): Uint8Array {
  const { json, bin } = parseGlb(glb);
  const around = jsonAroundDataUri(json);
  if (!around) return new TextEncoder().encode(JSON.stringify(json));
  const { head, tail } = around;
  const data = Buffer.from(bin.buffer, bin.byteOffset, Math.min(json.buffers![0].byteLength, bin.byteLength));
  const base64Length = 4 * Math.ceil(data.byteLength / 3);
  const out = Buffer.allocUnsafeSlow(head.byteLength + base64Length + tail.byteLength);
  head.copy(out, 0);
  out.write(data.toString('base64'), head.byteLength, 'latin1');
  tail.copy(out, head.byteLength + base64Length);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Where one sample's data lives in the binary chunk (offsets in floats) and its accessors. */
interface SampleLayout {
  frames: number;
  timeOffset: number;
  rotationOffset: number;
  translationOffset: number;
}

function buildDocument(input: EncodeInput, wrest: Float64Array): { json: GLTF.IGLTF; floats: number; layout: SampleLayout[] } {
  const { skeleton, fps, samples, motion } = input;
  const J = skeleton.names.length;
  const children: number[][] = skeleton.names.map(() => []);
  for (let j = 0; j < J; j++) if (skeleton.parents[j] >= 0) children[skeleton.parents[j]].push(j);

  const nodes: GLTF.INode[] = skeleton.names.map((name, j) => {
    const node: GLTF.INode = { name };
    if (children[j].length > 0) node.children = children[j];
    node.translation = restTranslation(skeleton, wrest, j);
    const r = skeleton.restRotations.slice(j * 4, j * 4 + 4);
    normalizeAt(r, 0);
    node.rotation = Array.from(r);
    return node;
  });

  const bufferViews: GLTF.IBufferView[] = [{ buffer: 0, byteOffset: 0, byteLength: J * 64 }];
  const accessors: GLTF.IAccessor[] = [{ bufferView: 0, componentType: FLOAT, count: J, type: 'MAT4' }];
  const animations: GLTF.IAnimation[] = [];
  const layout: SampleLayout[] = [];
  let offset = J * 16;

  for (const sample of samples) {
    const F = sample.clip.numFrames;
    const moved = sample.clip.jointTranslations?.joints ?? [];
    const sampleFloats = F + J * F * 4 + F * 3 + moved.length * F * 3;
    const view = bufferViews.length;
    bufferViews.push({ buffer: 0, byteOffset: offset * 4, byteLength: sampleFloats * 4 });
    layout.push({ frames: F, timeOffset: offset, rotationOffset: offset + F, translationOffset: offset + F + J * F * 4 });

    const time = accessors.length;
    accessors.push({
      bufferView: view, componentType: FLOAT, count: F, type: 'SCALAR',
      min: [0], max: [Math.fround((F - 1) / fps)],
    });
    const channels: GLTF.IAnimationChannel[] = [];
    const samplers: GLTF.IAnimationSampler[] = [];
    for (let j = 0; j < J; j++) {
      accessors.push({ bufferView: view, byteOffset: (F + j * F * 4) * 4, componentType: FLOAT, count: F, type: 'VEC4' });
      channels.push({ sampler: samplers.length, target: { node: j, path: 'rotation' } });
      samplers.push({ input: time, output: accessors.length - 1, interpolation: 'LINEAR' });
    }
    accessors.push({ bufferView: view, byteOffset: (F + J * F * 4) * 4, componentType: FLOAT, count: F, type: 'VEC3' });
    channels.push({ sampler: samplers.length, target: { node: 0, path: 'translation' } });
    samplers.push({ input: time, output: accessors.length - 1, interpolation: 'LINEAR' });
    // Joints a floor-level root or IK bones moved (clip.jointTranslations): a translation channel each.
    moved.forEach((j, k) => {
      accessors.push({ bufferView: view, byteOffset: (F + J * F * 4 + F * 3 + k * F * 3) * 4, componentType: FLOAT, count: F, type: 'VEC3' });
      channels.push({ sampler: samplers.length, target: { node: j, path: 'translation' } });
      samplers.push({ input: time, output: accessors.length - 1, interpolation: 'LINEAR' });
    });
    animations.push({ name: sample.name, channels, samplers });
    offset += sampleFloats;
  }

  const extension: MmcpMotion = withExtras(
    {
      version: motion.version,
      model: motion.model,
      fps,
      canonical_to_request: motion.canonicalToRequest ?? null,
      samples: samples.map((s): MotionSample =>
        withExtras(
          {
            name: s.name,
            num_frames: s.clip.numFrames,
            chunk_boundaries: s.chunkBoundaries,
            foot_contacts: s.footContacts,
          },
          s.extras,
        ),
      ),
    },
    motion.extras,
  );

  const json: GLTF.IGLTF = {
    asset: { version: '2.0', generator: GENERATOR },
    extensionsUsed: [MMCP_MOTION],
    extensions: { [MMCP_MOTION]: extension },
    scene: 0,
    scenes: [{ nodes: [0] }],
    nodes,
    skins: [{ joints: skeleton.names.map((_, j) => j), skeleton: 0, inverseBindMatrices: 0 }],
    animations,
    accessors,
    bufferViews,
    buffers: [{ byteLength: offset * 4 }],
  };
  if (animations.length === 0) delete json.animations;
  return { json, floats: offset, layout };
}

/** `core` with the own fields of `extras` appended, except those `core` already has. */
function withExtras<T extends object>(core: T, extras: Record<string, unknown> | undefined): T {
  if (!extras) return core;
  const added = Object.entries(extras).filter(([k, v]) => !Object.hasOwn(core, k) && v !== undefined);
  return Object.fromEntries([...Object.entries(core), ...added]) as T;
}

/** The rest offset of joint j expressed in its parent's rest frame: Wrest[parent]⁻¹ · offset[j]. */
function restTranslation(s: Skeleton, wrest: Float64Array, j: number): number[] {
  const o = s.offsets.subarray(j * 3, j * 3 + 3);
  const p = s.parents[j];
  if (p < 0) return Array.from(o);
  const q = wrest.subarray(p * 4, p * 4 + 4);
  return rotate(-q[0], -q[1], -q[2], q[3], o[0], o[1], o[2]);
}

/** Column-major inverse of each joint's world rest matrix T(restPosition) · R(Wrest); last row 0 0 0 1. */
function writeInverseBindMatrices(out: Float32Array, at: number, s: Skeleton, wrest: Float64Array): void {
  const J = s.names.length;
  const pos = new Float64Array(J * 3);
  for (let j = 0; j < J; j++) {
    const p = s.parents[j];
    for (let k = 0; k < 3; k++) pos[j * 3 + k] = (p < 0 ? 0 : pos[p * 3 + k]) + s.offsets[j * 3 + k];
  }
  for (let j = 0; j < J; j++) {
    // The inverse rotation's matrix is the transpose of the rest rotation's matrix.
    const x = -wrest[j * 4], y = -wrest[j * 4 + 1], z = -wrest[j * 4 + 2], w = wrest[j * 4 + 3];
    const r = [
      1 - 2 * (y * y + z * z), 2 * (x * y + z * w), 2 * (x * z - y * w),
      2 * (x * y - z * w), 1 - 2 * (x * x + z * z), 2 * (y * z + x * w),
      2 * (x * z + y * w), 2 * (y * z - x * w), 1 - 2 * (x * x + y * y),
    ]; // column-major 3×3 of the inverse rotation
    const px = pos[j * 3], py = pos[j * 3 + 1], pz = pos[j * 3 + 2];
    const m = at + j * 16;
    for (let c = 0; c < 3; c++) {
      for (let row = 0; row < 3; row++) out[m + c * 4 + row] = r[c * 3 + row];
      out[m + c * 4 + 3] = 0;
    }
    for (let row = 0; row < 3; row++) out[m + 12 + row] = -(r[row] * px + r[3 + row] * py + r[6 + row] * pz);
    out[m + 15] = 1;
  }
}

/** Writes one sample's times, node-local rotation keys and root translations at its layout. */
function writeSample(
  out: Float32Array,
  at: SampleLayout,
  clip: Clip,
  s: Skeleton,
  wrest: Float64Array,
  identityRest: boolean,
  fps: number,
): void {
  const F = at.frames;
  const J = clip.jointCount;
  for (let f = 0; f < F; f++) out[at.timeOffset + f] = f / fps;

  const q = new Float64Array(4);
  const t = new Float64Array(4);
  for (let j = 0; j < J; j++) {
    const p = s.parents[j];
    const base = at.rotationOffset + j * F * 4;
    let px = 0, py = 0, pz = 0, pw = 1;
    for (let f = 0; f < F; f++) {
      const src = (f * J + j) * 4;
      if (identityRest) {
        q[0] = clip.rotations[src]; q[1] = clip.rotations[src + 1]; q[2] = clip.rotations[src + 2]; q[3] = clip.rotations[src + 3];
      } else {
        // r = Wrest[parent]⁻¹ · q · Wrest[j]
        mulInto(t, 0, clip.rotations, src, false, wrest, j * 4);
        if (p < 0) q.set(t);
        else mulInto(q, 0, wrest, p * 4, true, t, 0);
      }
      normalizeAt(q, 0);
      if (f > 0 && q[0] * px + q[1] * py + q[2] * pz + q[3] * pw < 0) {
        q[0] = -q[0]; q[1] = -q[1]; q[2] = -q[2]; q[3] = -q[3];
      }
      px = q[0]; py = q[1]; pz = q[2]; pw = q[3];
      const o = base + f * 4;
      out[o] = px; out[o + 1] = py; out[o + 2] = pz; out[o + 3] = pw;
    }
  }
  out.set(clip.rootPositions.subarray(0, F * 3), at.translationOffset);
  const moved = clip.jointTranslations;
  if (moved) {
    // Node translations: the offset along world-aligned rest axes taken into the parent's rest frame, Wrest[parent]⁻¹ · t.
    const K = moved.joints.length;
    moved.joints.forEach((j, k) => {
      const p = s.parents[j];
      const qx = -wrest[p * 4], qy = -wrest[p * 4 + 1], qz = -wrest[p * 4 + 2], qw = wrest[p * 4 + 3];
      const base = at.translationOffset + F * 3 + k * F * 3;
      for (let f = 0; f < F; f++) {
        const src = (f * K + k) * 3;
        const v = identityRest
          ? [moved.offsets[src], moved.offsets[src + 1], moved.offsets[src + 2]]
          : rotate(qx, qy, qz, qw, moved.offsets[src], moved.offsets[src + 1], moved.offsets[src + 2]);
        out[base + f * 3] = v[0]; out[base + f * 3 + 1] = v[1]; out[base + f * 3 + 2] = v[2];
      }
    });
  }
}

function checkSample(s: EncodeSample, J: number, fps: number): void {
  const c = s.clip;
  if (c.jointCount !== J) throw new RangeError(`encodeGlb: ${s.name} has ${c.jointCount} joints, the skeleton ${J}`);
  if (c.numFrames < 1) throw new RangeError(`encodeGlb: ${s.name} has no frames`);
  if (Math.abs(c.fps - fps) > 1e-9) throw new RangeError(`encodeGlb: ${s.name} is at ${c.fps} fps, the document at ${fps}`);
  if (c.rotations.length < c.numFrames * J * 4 || c.rootPositions.length < c.numFrames * 3) {
    throw new RangeError(`encodeGlb: ${s.name} arrays are shorter than its frame count`);
  }
  if (Math.fround((c.numFrames - 1) / fps) <= Math.fround((c.numFrames - 2) / fps) && c.numFrames > 1) {
    throw new RangeError(`encodeGlb: ${s.name} has key times too close for float32`);
  }
  const moved = c.jointTranslations;
  if (moved) {
    if (moved.offsets.length < c.numFrames * moved.joints.length * 3) throw new RangeError(`encodeGlb: ${s.name} joint translations are shorter than its frame count`);
    if (moved.joints.some((j, k) => !(j > 0 && j < J) || (k > 0 && j <= moved.joints[k - 1]))) throw new RangeError(`encodeGlb: ${s.name} translates joints that are not ascending non-root joints`);
    if (!allFinite(moved.offsets, c.numFrames * moved.joints.length * 3)) throw new RangeError(`encodeGlb: ${s.name} holds non-finite values`);
  }
  if (!allFinite(c.rotations, c.numFrames * J * 4) || !allFinite(c.rootPositions, c.numFrames * 3)) {
    throw new RangeError(`encodeGlb: ${s.name} holds non-finite values`);
  }
  for (const [joint, flags] of Object.entries(s.footContacts ?? {})) {
    if (flags.length !== c.numFrames) throw new RangeError(`encodeGlb: ${s.name} contacts of ${joint} have ${flags.length} frames`);
  }
}

function allFinite(a: Float64Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

function isIdentityEverywhere(q: Float64Array): boolean {
  for (let i = 0; i < q.length; i += 4) if (Math.abs(q[i + 3]) < 1 - 1e-12) return false;
  return true;
}

/** out[o] = (a[ao] or its conjugate) · b[bo], Hamilton product of quaternions in packed arrays. */
function mulInto(out: Float64Array, o: number, a: ArrayLike<number>, ao: number, conjugateA: boolean, b: ArrayLike<number>, bo: number): void {
  const s = conjugateA ? -1 : 1;
  const ax = a[ao] * s, ay = a[ao + 1] * s, az = a[ao + 2] * s, aw = a[ao + 3];
  const bx = b[bo], by = b[bo + 1], bz = b[bo + 2], bw = b[bo + 3];
  out[o] = aw * bx + ax * bw + ay * bz - az * by;
  out[o + 1] = aw * by - ax * bz + ay * bw + az * bx;
  out[o + 2] = aw * bz + ax * by - ay * bx + az * bw;
  out[o + 3] = aw * bw - ax * bx - ay * by - az * bz;
}

function normalizeAt(q: Float64Array, o: number): void {
  // sqrt of the sum rather than Math.hypot: this runs for every key, and the keys are float32 in the end.
  const n = Math.sqrt(q[o] * q[o] + q[o + 1] * q[o + 1] + q[o + 2] * q[o + 2] + q[o + 3] * q[o + 3]);
  if (n < 1e-12) {
    q[o] = 0; q[o + 1] = 0; q[o + 2] = 0; q[o + 3] = 1;
  } else {
    q[o] /= n; q[o + 1] /= n; q[o + 2] /= n; q[o + 3] /= n;
  }
}

function rotate(x: number, y: number, z: number, w: number, vx: number, vy: number, vz: number): number[] {
  const tx = 2 * (y * vz - z * vy);
  const ty = 2 * (z * vx - x * vz);
  const tz = 2 * (x * vy - y * vx);
  return [vx + w * tx + (y * tz - z * ty), vy + w * ty + (z * tx - x * tz), vz + w * tz + (x * ty - y * tx)];
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
