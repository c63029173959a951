import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Logger, NodeIO, type Document } from '@gltf-transform/core';
import { encodeGlb, glbToJson, parseGlb, worldRestRotations, type EncodeInput, type EncodeSample } from '../../src/motion/gltf.js';
import { allocClip } from '../../src/motion/clip.js';
import type { Clip } from '../../src/spec/motion.js';
import { forwardKinematics, skeletonFromWire } from '../../src/motion/skeleton.js';
import type { Skeleton } from '../../src/spec/motion.js';
import { type Joint as WireJoint } from '../../src/spec/wire.js';
import { qaxisAngle, qmul, qnormalize, qset, vget, type Quat } from '../../src/motion/quat.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { readFileSync } from 'node:fs';
import { validateGltf } from '../helpers/gltf-validate.js';

// ---------------------------------------------------------------------------------------------- fixtures

/** A humanoid of exactly 65 joints (body, fingers, end sites), identity rests, lowest joint at y = 0. */
function humanoid65(rest?: (name: string, i: number) => Quat): Skeleton {
  const joints: WireJoint[] = [];
  const add = (name: string, parent: string | null, t: [number, number, number]) =>
    joints.push({ name, parent, rest_translation: t, rest_rotation: rest ? rest(name, joints.length) : [0, 0, 0, 1] });
  add('Hips', null, [0, 0.95, 0]);
  add('Spine', 'Hips', [0, 0.1, 0]);
  add('Spine1', 'Spine', [0, 0.12, 0]);
  add('Spine2', 'Spine1', [0, 0.12, 0]);
  add('Neck', 'Spine2', [0, 0.15, 0]);
  add('Head', 'Neck', [0, 0.1, 0.02]);
  add('HeadTop_End', 'Head', [0, 0.18, 0]);
  for (const [side, sx] of [['Left', 1], ['Right', -1]] as const) {
    add(`${side}Shoulder`, 'Spine2', [sx * 0.06, 0.12, 0]);
    add(`${side}Arm`, `${side}Shoulder`, [sx * 0.12, 0, 0]);
    add(`${side}ForeArm`, `${side}Arm`, [sx * 0.28, 0, 0]);
    add(`${side}Hand`, `${side}ForeArm`, [sx * 0.25, 0, 0]);
    for (const [k, finger] of ['Thumb', 'Index', 'Middle', 'Ring', 'Pinky'].entries()) {
      let parent = `${side}Hand`;
      for (let s = 1; s <= 3; s++) {
        const name = `${side}Hand${finger}${s}`;
        add(name, parent, s === 1 ? [sx * 0.04, 0, 0.03 - k * 0.015] : [sx * 0.03, 0, 0]);
        parent = name;
      }
      add(`${side}Hand${finger}4`, parent, [sx * 0.02, 0, 0]);
    }
  }
  for (const [side, sx] of [['Left', 1], ['Right', -1]] as const) {
    add(`${side}UpLeg`, 'Hips', [sx * 0.09, -0.05, 0]);
    add(`${side}Leg`, `${side}UpLeg`, [0, -0.42, 0]);
    add(`${side}Foot`, `${side}Leg`, [0, -0.4, 0]);
    add(`${side}ToeBase`, `${side}Foot`, [0, -0.06, 0.12]);
    add(`${side}Toe_End`, `${side}ToeBase`, [0, -0.02, 0.06]);
  }
  return skeletonFromWire(joints);
}

/** A small rig with Unicode names and arbitrary rest rotations, as an FBX export would have. */
function oddRig(): Skeleton {
  const r = (i: number): Quat => qnormalize([Math.sin(i + 1), Math.cos(2 * i), 0.3 * i - 0.5, 1.2 + Math.sin(3 * i)]);
  return skeletonFromWire([
    { name: 'ルート', parent: null, rest_translation: [0.1, 1.0, -0.2], rest_rotation: r(0) },
    { name: 'Épine dorsale', parent: 'ルート', rest_translation: [0, 0.2, 0.05], rest_rotation: r(1) },
    { name: 'голова 🙂', parent: 'Épine dorsale', rest_translation: [0.02, 0.3, 0], rest_rotation: r(2) },
    { name: 'L_腿', parent: 'ルート', rest_translation: [0.1, -0.5, 0], rest_rotation: r(3) },
    { name: 'L_脚', parent: 'L_腿', rest_translation: [0, -0.45, 0.1], rest_rotation: r(4) },
    { name: 'R_腿', parent: 'ルート', rest_translation: [-0.1, -0.5, 0], rest_rotation: r(5) },
  ]);
}

/** A deterministic wobbly clip: every joint turns about its own axis, the root walks forward and bobs. */
function wobble(s: Skeleton, frames: number, fps: number, phase = 0): Clip {
  const J = s.names.length;
  const c = allocClip(J, frames, fps);
  for (let f = 0; f < frames; f++) {
    const t = f / fps + phase;
    for (let j = 0; j < J; j++) {
      const axis = [Math.sin(j * 1.3 + 0.2), Math.cos(j * 0.7), Math.sin(j * 2.1 + 1)];
      // Large angles on some joints so hemisphere handling matters.
      const angle = (j % 5 === 0 ? 2.5 : 0.6) * Math.sin(2 * Math.PI * 0.7 * t + j);
      qset(c.rotations, f * J + j, qaxisAngle(axis, angle));
    }
    c.rootPositions.set([0.1 * Math.sin(t), 0.95 + 0.03 * Math.sin(4 * t), 1.3 * t], f * 3);
  }
  return c;
}

function input(s: Skeleton, clips: Clip[], fps: number, extra: Partial<EncodeSample> = {}): EncodeInput {
  return {
    skeleton: s,
    fps,
    samples: clips.map((clip, i) => ({
      name: `sample_${i}`,
      clip,
      chunkBoundaries: [],
      footContacts: null,
      ...extra,
    })),
    motion: { version: '1.2', model: 'test-model', canonicalToRequest: null },
  };
}

const io = new NodeIO().setLogger(new Logger(Logger.Verbosity.SILENT));

async function expectValid(glb: Uint8Array): Promise<void> {
  const asGlb = await validateGltf(glb, 'glb');
  expect(asGlb.errors).toEqual([]);
  expect(asGlb.warnings).toEqual([]);
  const asJson = await validateGltf(glbToJson(glb), 'json');
  expect(asJson.errors).toEqual([]);
  expect(asJson.warnings).toEqual([]);
}

/**
 * World joint positions of animation `anim` at `frame`, evaluated by glTF-Transform's own scene graph
 * (node TRS from the channel keys), in skeleton joint order.
 */
function evaluate(doc: Document, s: Skeleton, anim: number, frame: number): Float64Array {
  const root = doc.getRoot();
  const nodes = root.listNodes();
  for (const ch of root.listAnimations()[anim].listChannels()) {
    const node = ch.getTargetNode()!;
    const out = ch.getSampler()!.getOutput()!;
    if (ch.getTargetPath() === 'rotation') node.setRotation(out.getElement(frame, [0, 0, 0, 0]) as Quat);
    else node.setTranslation(out.getElement(frame, [0, 0, 0]) as [number, number, number]);
  }
  const pos = new Float64Array(s.names.length * 3);
  s.names.forEach((name, j) => {
    const node = nodes.find((n) => n.getName() === name)!;
    pos.set(node.getWorldTranslation(), j * 3);
  });
  return pos;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function mmcp(glb: Uint8Array): Record<string, any> {
  return (parseGlb(glb).json.extensions as Record<string, any>).MMCP_motion;
}

// ---------------------------------------------------------------------------------------------- tests

describe('encodeGlb: validity', () => {
  const s = humanoid65();

  it('passes the Khronos validator with one sample', async () => {
    await expectValid(encodeGlb(input(s, [wobble(s, 60, 30)], 30)));
  });

  it('passes the Khronos validator with eight samples', async () => {
    const clips = Array.from({ length: 8 }, (_, i) => wobble(s, 90, 30, i * 0.37));
    await expectValid(encodeGlb(input(s, clips, 30)));
  });

  it('passes the Khronos validator with a single frame', async () => {
    const glb = encodeGlb(input(s, [wobble(s, 1, 30)], 30));
    await expectValid(glb);
    const acc = parseGlb(glb).json.accessors![1];
    expect(acc).toMatchObject({ count: 1, min: [0], max: [0] });
  });

  it('passes the Khronos validator with non-identity rest rotations and Unicode names', async () => {
    const rig = oddRig();
    const glb = encodeGlb(input(rig, [wobble(rig, 45, 24), wobble(rig, 45, 24, 1)], 24));
    await expectValid(glb);
    expect(parseGlb(glb).json.nodes!.map((n) => n.name)).toEqual(rig.names);
  });

  it('passes the Khronos validator for arbitrary small rigs and clips (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom(12, 24, 29.97, 30, 60, 120),
        fc.integer({ min: 0, max: 1000 }),
        async (J, F, fps, seed) => {
          const joints: WireJoint[] = Array.from({ length: J }, (_, j) => ({
            name: `j${j}`,
            parent: j === 0 ? null : `j${(seed + j) % j}`,
            rest_translation: [Math.sin(seed + j), Math.cos(j), 0.1 * j],
            rest_rotation: qnormalize([Math.sin(seed * j), Math.cos(seed + j), 0.5, Math.sin(j) + 0.1]),
          }));
          const rig = skeletonFromWire(joints);
          const glb = encodeGlb(input(rig, [wobble(rig, F, fps, seed)], fps));
          const report = await validateGltf(glb, 'glb');
          expect(report.errors).toEqual([]);
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('encodeGlb: document structure', () => {
  const s = humanoid65();
  const clips = [wobble(s, 30, 30), wobble(s, 30, 30, 0.5)];
  const contacts = { LeftFoot: Array.from({ length: 30 }, (_, f) => f < 10), RightFoot: Array.from({ length: 30 }, (_, f) => f >= 15) };
  const glb = encodeGlb({
    skeleton: s,
    fps: 30,
    samples: clips.map((clip, i) => ({
      name: `sample_${i}`,
      clip,
      chunkBoundaries: i === 0 ? [] : [12],
      footContacts: i === 0 ? contacts : null,
      extras: { x_understood: [{ segment: 0, action: 'walk' }], name: 'must not win' },
    })),
    motion: { version: '1.2', model: 'kimodo', canonicalToRequest: { pelvis: 'Hips' }, extras: { x_provider: 'fake', fps: 999 } },
  });
  const { json } = parseGlb(glb);

  it('mirrors the skeleton in nodes, scene and skin', () => {
    expect(json.nodes!.map((n) => n.name)).toEqual(s.names);
    expect(json.scenes).toEqual([{ nodes: [0] }]);
    s.names.forEach((_, j) => {
      const kids = json.nodes![j].children ?? [];
      expect(kids).toEqual(s.names.map((__, k) => k).filter((k) => s.parents[k] === j));
      expect(json.nodes![j].translation).toEqual(Array.from(vget(s.offsets, j)));
      expect(json.nodes![j].rotation).toEqual([0, 0, 0, 1]);
    });
    expect(json.skins).toEqual([{ joints: s.names.map((_, j) => j), skeleton: 0, inverseBindMatrices: 0 }]);
    expect(json.asset.generator).toBe('motion-gateway');
  });

  it('has one animation per sample with dense LINEAR channels and one time accessor', () => {
    expect(json.animations!.map((a) => a.name)).toEqual(['sample_0', 'sample_1']);
    for (const anim of json.animations!) {
      expect(anim.channels).toHaveLength(s.names.length + 1);
      const inputs = new Set(anim.samplers.map((x) => x.input));
      expect(inputs.size).toBe(1);
      expect(anim.samplers.every((x) => x.interpolation === 'LINEAR')).toBe(true);
      const rotated = anim.channels.filter((c) => c.target.path === 'rotation').map((c) => c.target.node);
      expect(rotated).toEqual(s.names.map((_, j) => j));
      expect(anim.channels.filter((c) => c.target.path === 'translation').map((c) => c.target.node)).toEqual([0]);
      const time = json.accessors![[...inputs][0]];
      expect(time).toMatchObject({ count: 30, min: [0], max: [Math.fround(29 / 30)] });
    }
  });

  it('writes MMCP_motion with every field, extras never overriding the required ones', () => {
    expect(json.extensionsUsed).toEqual(['MMCP_motion']);
    const ext = mmcp(glb);
    expect(ext).toEqual({
      version: '1.2',
      model: 'kimodo',
      fps: 30,
      canonical_to_request: { pelvis: 'Hips' },
      x_provider: 'fake',
      samples: [
        { name: 'sample_0', num_frames: 30, chunk_boundaries: [], foot_contacts: contacts, x_understood: [{ segment: 0, action: 'walk' }] },
        { name: 'sample_1', num_frames: 30, chunk_boundaries: [12], foot_contacts: null, x_understood: [{ segment: 0, action: 'walk' }] },
      ],
    });
  });

  it('writes an MMCP_motion object that satisfies schemas/mmcp-motion.schema.json', () => {
    const load = (f: string) => JSON.parse(readFileSync(new URL(`../../schemas/${f}`, import.meta.url), 'utf8'));
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema(load('common.schema.json'));
    const check = ajv.compile(load('mmcp-motion.schema.json'));
    expect(check(mmcp(glb)), JSON.stringify(check.errors)).toBe(true);
    expect(check(mmcp(encodeGlb(input(s, [wobble(s, 1, 30)], 30))))).toBe(true);
  });

  it('writes canonical_to_request as null when not retargeted', () => {
    expect(mmcp(encodeGlb(input(s, [clips[0]], 30))).canonical_to_request).toBeNull();
  });

  it('keeps buffers 4-byte aligned and the GLB chunks well formed', () => {
    expect(glb.byteLength % 4).toBe(0);
    for (const v of json.bufferViews!) expect((v.byteOffset ?? 0) % 4).toBe(0);
    for (const a of json.accessors!) expect((a.byteOffset ?? 0) % 4).toBe(0);
    expect(parseGlb(glb).bin.byteLength).toBe(json.buffers![0].byteLength);
  });

  it('writes inverse bind matrices that undo the world rest matrices, last row 0 0 0 1', async () => {
    for (const rig of [s, oddRig()]) {
      const doc = await io.readBinary(encodeGlb(input(rig, [wobble(rig, 2, 30)], 30)));
      // Reading the document back leaves nodes at rest (no animation applied).
      const skin = doc.getRoot().listSkins()[0];
      const ibm = skin.getInverseBindMatrices()!;
      skin.listJoints().forEach((node, j) => {
        const m = ibm.getElement(j, new Array(16).fill(0));
        expect([m[3], m[7], m[11], m[15]]).toEqual([0, 0, 0, 1]);
        const w = node.getWorldMatrix();
        const prod = mat4mul(w, m);
        expect(maxDiff(prod, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])).toBeLessThan(1e-5);
      });
    }
  });
});

describe('encodeGlb: round trip through glTF-Transform', () => {
  for (const [label, rig] of [['identity rests', humanoid65()], ['non-identity rests', oddRig()], ['rotated humanoid rests', humanoid65((_, i) => qnormalize([Math.sin(i), 0.3, Math.cos(3 * i), 1.1]))]] as const) {
    it(`reproduces forward kinematics of the input at every checked frame (${label})`, async () => {
      const clips = [wobble(rig, 40, 30), wobble(rig, 40, 30, 2.2)];
      const doc = await io.readBinary(encodeGlb(input(rig, clips, 30)));
      const J = rig.names.length;
      const expected = new Float64Array(J * 3);
      for (const [k, clip] of clips.entries()) {
        for (const f of [0, 1, 17, 39]) {
          forwardKinematics(rig, clip.rotations, clip.rootPositions.subarray(f * 3, f * 3 + 3), expected, undefined, f * J);
          expect(maxDiff(evaluate(doc, rig, k, f), expected)).toBeLessThan(2e-5);
        }
      }
      // With the rest rotations, a zero-motion clip leaves every node at its rest world position.
      const names = doc.getRoot().listNodes().map((n) => n.getName());
      expect(names).toEqual(rig.names);
    });
  }

  it('stores unit quaternions in one hemisphere per joint and strictly increasing times', async () => {
    const rig = oddRig();
    const doc = await io.readBinary(encodeGlb(input(rig, [wobble(rig, 120, 30)], 30)));
    const anim = doc.getRoot().listAnimations()[0];
    const times = anim.listSamplers()[0].getInput()!.getArray()!;
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThan(times[i - 1]);
    expect(times[119]).toBeCloseTo(119 / 30, 6);
    for (const ch of anim.listChannels().filter((c) => c.getTargetPath() === 'rotation')) {
      const a = ch.getSampler()!.getOutput()!.getArray()!;
      for (let f = 0; f < a.length / 4; f++) {
        expect(Math.abs(Math.hypot(a[f * 4], a[f * 4 + 1], a[f * 4 + 2], a[f * 4 + 3]) - 1)).toBeLessThan(1e-6);
        if (f > 0) expect(a[f * 4] * a[f * 4 - 4] + a[f * 4 + 1] * a[f * 4 - 3] + a[f * 4 + 2] * a[f * 4 - 2] + a[f * 4 + 3] * a[f * 4 - 1]).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it('keys are node-local: a clip holding the rest pose animates every node with its rest rotation', async () => {
    const rig = oddRig();
    const J = rig.names.length;
    const still = allocClip(J, 2, 30);
    for (let i = 0; i < 2 * J; i++) qset(still.rotations, i, [0, 0, 0, 1]);
    still.rootPositions.set([...vget(rig.offsets, 0), ...vget(rig.offsets, 0)]);
    const doc = await io.readBinary(encodeGlb(input(rig, [still], 30)));
    for (const ch of doc.getRoot().listAnimations()[0].listChannels()) {
      if (ch.getTargetPath() !== 'rotation') continue;
      const j = rig.names.indexOf(ch.getTargetNode()!.getName());
      const key = ch.getSampler()!.getOutput()!.getElement(1, [0, 0, 0, 0]);
      const restLocal = Array.from(rig.restRotations.subarray(j * 4, j * 4 + 4));
      expect(Math.abs(key.reduce((d, v, i) => d + v * restLocal[i], 0))).toBeCloseTo(1, 6);
    }
  });

  it('worldRestRotations composes local rest rotations from the root down', () => {
    const rig = oddRig();
    const w = worldRestRotations(rig);
    const chain = [2, 1, 0]; // head → spine → root
    const expected = chain.reduceRight<Quat>((acc, j) => qmul(acc, Array.from(rig.restRotations.subarray(j * 4, j * 4 + 4))), [0, 0, 0, 1]);
    const got = Array.from(w.subarray(8, 12));
    expect(Math.abs(got.reduce((d, v, i) => d + v * expected[i], 0))).toBeCloseTo(1, 9);
  });
});

describe('glbToJson', () => {
  const s = humanoid65();
  const glb = encodeGlb(input(s, [wobble(s, 50, 30), wobble(s, 50, 30, 1)], 30, {
    footContacts: { LeftFoot: new Array(50).fill(true) },
  }));

  it('carries exactly the same document and bytes as the GLB', async () => {
    const fromJson = JSON.parse(new TextDecoder().decode(glbToJson(glb)));
    const { json, bin } = parseGlb(glb);
    const uri: string = fromJson.buffers[0].uri;
    expect(uri.startsWith('data:application/octet-stream;base64,')).toBe(true);
    const decoded = Buffer.from(uri.slice(uri.indexOf(',') + 1), 'base64');
    expect(decoded.equals(Buffer.from(bin))).toBe(true);
    delete fromJson.buffers[0].uri;
    expect(fromJson).toEqual(json);
  });

  it('reads back in glTF-Transform to the same animation data', async () => {
    const fromGlb = await io.readBinary(glb);
    const fromJson = await io.readJSON({ json: JSON.parse(new TextDecoder().decode(glbToJson(glb))), resources: {} });
    const a = fromGlb.getRoot().listAccessors().map((x) => Array.from(x.getArray()!));
    const b = fromJson.getRoot().listAccessors().map((x) => Array.from(x.getArray()!));
    expect(b).toEqual(a);
  });

  it('refuses bytes that are not a GLB', () => {
    expect(() => glbToJson(new TextEncoder().encode('{"asset":{"version":"2.0"}}'))).toThrow();
  });
});

describe('encodeGlb: input checks and a full-size answer', () => {
  const s = humanoid65();

  it('throws on inconsistent input rather than writing an invalid document', () => {
    const c = wobble(s, 10, 30);
    expect(() => encodeGlb(input(s, [c], 24))).toThrow(/fps/);
    expect(() => encodeGlb(input(s, [c], 30, { footContacts: { LeftFoot: [true] } }))).toThrow(/contacts/);
    const bad = wobble(s, 10, 30);
    bad.rotations[5] = NaN;
    expect(() => encodeGlb(input(s, [bad], 30))).toThrow(/non-finite/);
  });

  // How fast this runs is measured by bench/motion.ts (`npm run bench`).
  it('encodes 8 samples × 10 s × 30 fps × 65 joints: eight animations of 300 keys on every joint, and its JSON twin', () => {
    expect(s.names.length).toBe(65);
    const clips = Array.from({ length: 8 }, (_, i) => wobble(s, 300, 30, i));
    const glb = encodeGlb(input(s, clips, 30));
    const { json } = parseGlb(glb);
    expect(json.animations!.map((a) => a.name)).toEqual(clips.map((_, i) => `sample_${i}`));
    for (const anim of json.animations!) {
      expect(anim.channels).toHaveLength(66);
      for (const sampler of anim.samplers) {
        expect(json.accessors![sampler.input].count).toBe(300);
        expect(json.accessors![sampler.output].count).toBe(300);
      }
    }
    const twin = JSON.parse(new TextDecoder().decode(glbToJson(glb))) as typeof json;
    expect(twin.animations).toEqual(json.animations);
  });
});

/** Column-major 4×4 product a·b. */
function mat4mul(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const out = new Array<number>(16).fill(0);
  for (let c = 0; c < 4; c++) for (let r = 0; r < 4; r++) for (let k = 0; k < 4; k++) out[c * 4 + r] += a[k * 4 + r] * b[c * 4 + k];
  return out;
}
