/**
 * The decoder's allocation-free sampling computes exactly what the allocating helpers compute: the new
 * in-place quaternion helpers against qnormalize/qslerp/qmul/qinv, and strided or unaligned float
 * accessors (read without the typed-array fast path) against the same data packed tightly.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeAnimationFile } from '../../src/motion/decode.js';
import { qinv, qmul, qmulInvAt, qnormalize, qnormalizeAt, qslerp, qslerpNormalizedAt } from '../../src/motion/quat.js';
import { writeFbxStyleGlb } from '../fixtures/fbx-style-glb.js';
import { SKEL, smooth, ZUP_CM } from './decode-fixtures.js';

const component = fc.oneof(
  fc.double({ min: -1, max: 1, noNaN: true }),
  fc.double({ min: -1e-7, max: 1e-7, noNaN: true }),
  fc.double({ min: -1e150, max: 1e150, noNaN: true }),
  fc.constantFrom(0, -0, 1, -1, 5e-324),
);
const quat = fc.tuple(component, component, component, component);
const unit = quat.map((q) => qnormalize(q));
const params = { seed: 23, numRuns: 2000 };

describe('decoder in-place quaternion helpers', () => {
  it('qnormalizeAt writes the bits qnormalize returns (zero, tiny and huge inputs, aliased output)', () => {
    fc.assert(fc.property(quat, (q) => {
      const out = new Float64Array(8);
      qnormalizeAt(out, 4, q, 0);
      const aliased = Float64Array.from(q);
      qnormalizeAt(aliased, 0, aliased, 0);
      expect(Array.from(out.subarray(4))).toEqual(qnormalize(q));
      expect(Array.from(aliased)).toEqual(qnormalize(q));
    }), params);
  });

  it('qslerpNormalizedAt writes the bits of qnormalize(qslerp(a, b, t)), for unnormalized keys too', () => {
    const pair = fc.oneof(fc.tuple(unit, unit), fc.tuple(quat, quat), unit.map((q) => [q, qnormalize([q[0] + 1e-4, q[1], q[2], q[3]])] as const));
    fc.assert(fc.property(pair, fc.double({ min: 0, max: 1, noNaN: true }), ([a, b], t) => {
      const packed = Float64Array.from([...a, ...b]);
      qslerpNormalizedAt(packed, 4, packed, 0, packed, 4, t);
      expect(Array.from(packed.subarray(4))).toEqual(qnormalize(qslerp(a, b, t)));
    }), params);
  });

  it('qmulInvAt writes the bits of qmul(qinv(a), b)', () => {
    fc.assert(fc.property(unit, unit, (a, b) => {
      const out = Float64Array.from([...a, ...b]);
      qmulInvAt(out, 0, out, 0, out, 4);
      expect(Array.from(out.subarray(0, 4))).toEqual(qmul(qinv(a), b));
    }), params);
  });
});

/** The JSON and BIN chunks of a GLB, and the GLB of a (changed) pair. */
function splitGlb(glb: Uint8Array): { json: any; bin: Uint8Array } {
  const view = new DataView(glb.buffer, glb.byteOffset, glb.byteLength);
  const jsonLength = view.getUint32(12, true);
  const binLength = view.getUint32(20 + jsonLength, true);
  return { json: JSON.parse(new TextDecoder().decode(glb.subarray(20, 20 + jsonLength))), bin: glb.slice(28 + jsonLength, 28 + jsonLength + binLength) };
}
function joinGlb(json: unknown, bin: Uint8Array): Uint8Array {
  let text = JSON.stringify(json);
  while (text.length % 4 !== 0) text += ' ';
  const jsonBytes = new TextEncoder().encode(text);
  const binPadded = bin.length % 4 === 0 ? bin : Uint8Array.from([...bin, ...new Array<number>(4 - (bin.length % 4)).fill(0)]);
  const out = new Uint8Array(28 + jsonBytes.length + binPadded.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0x46546c67, true); v.setUint32(4, 2, true); v.setUint32(8, out.length, true);
  v.setUint32(12, jsonBytes.length, true); v.setUint32(16, 0x4e4f534a, true);
  out.set(jsonBytes, 20);
  v.setUint32(20 + jsonBytes.length, binPadded.length, true); v.setUint32(24 + jsonBytes.length, 0x004e4942, true);
  out.set(binPadded, 28 + jsonBytes.length);
  return out;
}

/** Every animation output accessor copied to the end of BIN with `stride` bytes per element, starting `shift` bytes off alignment. */
function relayoutOutputs(glb: Uint8Array, stride: number, shift: number): Uint8Array {
  const { json, bin } = splitGlb(glb);
  const parts: number[] = [...bin];
  const outputs = new Set<number>(json.animations.flatMap((a: any) => a.samplers.map((s: any) => s.output)));
  for (const index of outputs) {
    const acc = json.accessors[index];
    const src = json.bufferViews[acc.bufferView];
    const elementBytes = { SCALAR: 4, VEC3: 12, VEC4: 16 }[acc.type as 'SCALAR' | 'VEC3' | 'VEC4'];
    const srcStride = src.byteStride ?? elementBytes;
    while ((parts.length - shift) % 4 !== 0) parts.push(0);
    const start = parts.length;
    for (let i = 0; i < acc.count; i++) {
      const at = (src.byteOffset ?? 0) + (acc.byteOffset ?? 0) + i * srcStride;
      parts.push(...bin.subarray(at, at + elementBytes), ...new Array<number>(stride - elementBytes).fill(0xff));
    }
    json.bufferViews.push({ buffer: 0, byteOffset: start, byteLength: parts.length - start, ...(stride !== elementBytes ? { byteStride: stride } : {}) });
    json.accessors[index] = { ...acc, bufferView: json.bufferViews.length - 1, byteOffset: 0 };
  }
  json.buffers[0].byteLength = parts.length;
  return joinGlb(json, Uint8Array.from(parts));
}

describe('decoder float accessors', () => {
  it('strided and unaligned animation data decode to the same bits as tightly packed data', async () => {
    const glb = await writeFbxStyleGlb({ skeleton: SKEL, clips: [{ name: 'a', clip: smooth(31, 30) }], armature: ZUP_CM });
    const tight = await decodeAnimationFile(glb, { fps: 30 });
    for (const [stride, shift] of [[20, 0], [20, 2], [0, 2]] as const) {
      const moved = relayoutOutputs(glb, stride || 16, shift);
      const decoded = await decodeAnimationFile(moved, { fps: 30 });
      expect(decoded.clips).toHaveLength(1);
      expect(Array.from(decoded.clips[0].clip.rotations)).toEqual(Array.from(tight.clips[0].clip.rotations));
      expect(Array.from(decoded.clips[0].clip.rootPositions)).toEqual(Array.from(tight.clips[0].clip.rootPositions));
    }
  });
});
