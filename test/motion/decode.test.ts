/** Round trips FBX-style provider files through decodeAnimationFile: structure and sampling (hostile input: decode-hostile.test.ts). */
import { describe, expect, it } from 'vitest';
import { Document, NodeIO } from '@gltf-transform/core';
import { decodeAnimationFile, type DecodedAnimationFile } from '../../src/motion/decode.js';
import type { Clip } from '../../src/spec/motion.js';
import { qangle, qmul, qnormalize, qslerp, qx, qz, vget, type Vec3 } from '../../src/motion/quat.js';
import { forwardKinematics, restPositions } from '../../src/motion/skeleton.js';
import type { Skeleton } from '../../src/spec/motion.js';
import { buildFbxStyleDocument, writeFbxStyleGlb, writeFbxStyleGltfJson, type FbxStyleGlbOptions } from '../fixtures/fbx-style-glb.js';
import { analyticPose, makeClip, repackGlb, SKEL, smooth, ZUP_CM } from './decode-fixtures.js';

// ---------------------------------------------------------------------------------------------------
// Comparing decoded motion with its source.

/**
 * Largest world-position (m) and world-rotation (rad) differences between the source and a decoded clip,
 * over the source's joints, found by name in the decoded skeleton.
 */
function motionError(src: Clip, decoded: DecodedAnimationFile, clipIndex = 0): { pos: number; rot: number } {
  const dec = decoded.clips[clipIndex].clip;
  const ds = decoded.skeleton;
  expect(dec.numFrames).toBe(src.numFrames);
  const map = SKEL.names.map((n) => ds.names.indexOf(n));
  expect(map.every((i) => i >= 0)).toBe(true);
  const J = SKEL.names.length;
  const DJ = ds.names.length;
  const sp = new Float64Array(J * 3), sr = new Float64Array(J * 4);
  const dp = new Float64Array(DJ * 3), dr = new Float64Array(DJ * 4);
  let pos = 0, rot = 0;
  for (let f = 0; f < src.numFrames; f++) {
    forwardKinematics(SKEL, src.rotations, src.rootPositions.subarray(f * 3, f * 3 + 3), sp, sr, f * J);
    forwardKinematics(ds, dec.rotations, dec.rootPositions.subarray(f * 3, f * 3 + 3), dp, dr, f * DJ);
    for (let j = 0; j < J; j++) {
      const k = map[j];
      pos = Math.max(pos, Math.hypot(sp[j * 3] - dp[k * 3], sp[j * 3 + 1] - dp[k * 3 + 1], sp[j * 3 + 2] - dp[k * 3 + 2]));
      rot = Math.max(rot, qangle(sr.subarray(j * 4, j * 4 + 4), dr.subarray(k * 4, k * 4 + 4)));
    }
  }
  return { pos, rot };
}

const MM = 1e-3;
const HALF_DEGREE = (0.5 * Math.PI) / 180;

function expectSameMotion(src: Clip, decoded: DecodedAnimationFile, clipIndex = 0, tol = { pos: MM, rot: HALF_DEGREE }): { pos: number; rot: number } {
  const err = motionError(src, decoded, clipIndex);
  expect(err.pos).toBeLessThan(tol.pos);
  expect(err.rot).toBeLessThan(tol.rot);
  return err;
}

function expectValidSkeleton(s: Skeleton): void {
  expect(s.parents[0]).toBe(-1);
  for (let j = 1; j < s.names.length; j++) expect(s.parents[j]).toBeGreaterThanOrEqual(0), expect(s.parents[j]).toBeLessThan(j);
  for (let j = 0; j < s.names.length; j++) expect(Array.from(s.restRotations.subarray(j * 4, j * 4 + 4))).toEqual([0, 0, 0, 1]);
  expect(new Set(s.names).size).toBe(s.names.length);
}

/** Source rest positions vs decoded ones, by name (m). */
function restError(decoded: Skeleton): number {
  const a = restPositions(SKEL);
  const b = restPositions(decoded);
  let max = 0;
  SKEL.names.forEach((n, j) => {
    const k = decoded.names.indexOf(n);
    max = Math.max(max, Math.hypot(a[j * 3] - b[k * 3], a[j * 3 + 1] - b[k * 3 + 1], a[j * 3 + 2] - b[k * 3 + 2]));
  });
  return max;
}

const round = async (opts: FbxStyleGlbOptions, fps = 30): Promise<DecodedAnimationFile> => decodeAnimationFile(await writeFbxStyleGlb(opts), { fps });

// ---------------------------------------------------------------------------------------------------

describe('decodeAnimationFile: FBX-born structure', () => {
  it('bakes bone-axis rest rotations away (plain Y-up file)', async () => {
    const clip = smooth();
    const decoded = await round({ skeleton: SKEL, clips: [{ name: 'Take 001', clip }] });
    expectValidSkeleton(decoded.skeleton);
    expect(decoded.skeleton.names).toEqual(SKEL.names);
    expect(restError(decoded.skeleton)).toBeLessThan(1e-6);
    const err = expectSameMotion(clip, decoded);
    expect(err.pos).toBeLessThan(1e-5); // every frame keyed: float32 rounding only
  });

  it('folds a centimetre, Z-up armature into a metre, Y-up skeleton', async () => {
    const clip = smooth();
    const decoded = await round({ skeleton: SKEL, clips: [{ name: 'Armature|Walk|baselayer', clip }], armature: { ...ZUP_CM, translation: [40, -10, 5] } });
    const hips = restPositions(decoded.skeleton);
    expect(hips[1]).toBeCloseTo(0.95, 5);
    expect(restError(decoded.skeleton)).toBeLessThan(1e-5);
    // Offsets are world-axis metres: the neck sits straight above spine2 by 14 cm.
    const neck = decoded.skeleton.names.indexOf('neck_JNT');
    expect(Array.from(decoded.skeleton.offsets.subarray(neck * 3, neck * 3 + 3)).map((v) => Math.round(v * 1e5) / 1e5 + 0)).toEqual([0, 0.14, 0]);
    expectSameMotion(clip, decoded);
  });

  it('keeps end bones and fingers, and finds the root in a shuffled skin that lists the armature', async () => {
    const clip = smooth();
    const decoded = await round({
      skeleton: SKEL,
      clips: [{ name: 'Armature|Walk|baselayer', clip }],
      armature: ZUP_CM,
      endBones: true,
      skin: { shuffle: 7, includeArmature: true },
      mesh: true,
    });
    const s = decoded.skeleton;
    expectValidSkeleton(s);
    expect(s.names[0]).toBe('hips_JNT');
    expect(s.names).not.toContain('Armature');
    expect(s.names).toContain('l_handIndex3_JNT');
    for (const leaf of ['head_JNT', 'l_handIndex3_JNT', 'r_toebase_JNT']) {
      const end = s.names.indexOf(`${leaf}_end`);
      expect(end).toBeGreaterThan(0);
      expect(s.names[s.parents[end]]).toBe(leaf);
    }
    expect(s.names.length).toBe(SKEL.names.length + 5);
    expect(decoded.notes.join('\n')).toMatch(/Armature as armature above the root/);
    expectSameMotion(clip, decoded);
    // End bones ride rigidly on their parent: 5 cm beyond the head along the neck→head direction at rest.
    const rest = restPositions(s);
    const head = s.names.indexOf('head_JNT');
    const headEnd = s.names.indexOf('head_JNT_end');
    expect(Math.hypot(...(vget(rest, headEnd).map((v, i) => v - rest[head * 3 + i]) as Vec3))).toBeCloseTo(0.05, 6);
  });

  it('reads every animation of a file, by name, each with its own length', async () => {
    const clips = [
      { name: 'Armature|Walk|baselayer', clip: smooth(31, 30, 0) },
      { name: 'Armature|Double_Combo_Attack|baselayer', clip: smooth(52, 30, 1) },
      { name: 'Armature|Idle|baselayer', clip: smooth(7, 30, 2) },
    ];
    const decoded = await round({ skeleton: SKEL, clips, armature: ZUP_CM });
    expect(decoded.clips.map((c) => c.name)).toEqual(clips.map((c) => c.name));
    expect(decoded.clips.map((c) => c.clip.numFrames)).toEqual([31, 52, 7]);
    clips.forEach((c, i) => expectSameMotion(c.clip, decoded, i));
  });

  it('decodes JSON glTF with data: URIs like the GLB', async () => {
    const clip = smooth();
    const opts: FbxStyleGlbOptions = { skeleton: SKEL, clips: [{ name: 'a', clip }], armature: ZUP_CM };
    const fromJson = await decodeAnimationFile(await writeFbxStyleGltfJson(opts), { fps: 30 });
    const fromGlb = await round(opts);
    expect(fromJson.skeleton.names).toEqual(fromGlb.skeleton.names);
    expect(Array.from(fromJson.clips[0].clip.rotations)).toEqual(Array.from(fromGlb.clips[0].clip.rotations));
    expectSameMotion(clip, fromJson);
  });

  it('reads node matrices like the TRS they encode', async () => {
    const clip = smooth();
    const glb = await writeFbxStyleGlb({ skeleton: SKEL, clips: [{ name: 'a', clip }], armature: { ...ZUP_CM, translation: [3, 0, -7] } });
    const asMatrix = repackGlb(glb, (json) => {
      for (const n of json.nodes) {
        const [x, y, z, w] = n.rotation ?? [0, 0, 0, 1];
        const [sx, sy, sz] = n.scale ?? [1, 1, 1];
        const [tx, ty, tz] = n.translation ?? [0, 0, 0];
        n.matrix = [
          (1 - 2 * (y * y + z * z)) * sx, 2 * (x * y + z * w) * sx, 2 * (x * z - y * w) * sx, 0,
          2 * (x * y - z * w) * sy, (1 - 2 * (x * x + z * z)) * sy, 2 * (y * z + x * w) * sy, 0,
          2 * (x * z + y * w) * sz, 2 * (y * z - x * w) * sz, (1 - 2 * (x * x + y * y)) * sz, 0,
          tx, ty, tz, 1,
        ];
        delete n.rotation, delete n.scale, delete n.translation;
      }
    });
    const decoded = await decodeAnimationFile(asMatrix, { fps: 30 });
    expect(restError(decoded.skeleton)).toBeLessThan(1e-5);
    expectSameMotion(clip, decoded);
  });

  it('picks the skin with the most joints', async () => {
    const doc = buildFbxStyleDocument({ skeleton: SKEL, clips: [{ name: 'a', clip: smooth() }], armature: ZUP_CM });
    const byName = (n: string) => doc.getRoot().listNodes().find((x) => x.getName() === n)!;
    const small = doc.createSkin('Prop').addJoint(byName('l_hand_JNT')).addJoint(byName('l_handIndex1_JNT'));
    doc.getRoot().listSkins().unshift(small);
    const decoded = await decodeAnimationFile(await new NodeIO().writeBinary(doc), { fps: 30 });
    expect(decoded.skeleton.names.length).toBe(SKEL.names.length);
    expect(decoded.notes.join('\n')).toMatch(/chose the skin with 28 joints out of 2 skins/);
  });

  it('uses the tree of animated nodes when the file has no skin', async () => {
    const clip = smooth();
    const decoded = await round({ skeleton: SKEL, clips: [{ name: 'a', clip }], armature: ZUP_CM, skin: false, endBones: true });
    expect(decoded.skeleton.names[0]).toBe('hips_JNT');
    expect(decoded.skeleton.names).toContain('head_JNT_end');
    expectSameMotion(clip, decoded);
  });

  it('keeps rest offsets and the root path exact under a non-uniform armature scale', async () => {
    const clip = makeClip(21, 30, (t) => ({ ...analyticPose(SKEL, t), rotations: analyticPose(SKEL, t).rotations.map((q, j) => (j === 0 ? q : [0, 0, 0, 1])) }));
    const decoded = await round({ skeleton: SKEL, clips: [{ name: 'a', clip }], armature: { scale: [0.01, 0.02, 0.05], rotation: qz(0.3) } });
    expect(restError(decoded.skeleton)).toBeLessThan(1e-5);
    const dec = decoded.clips[0].clip;
    for (let i = 0; i < clip.rootPositions.length; i++) expect(Math.abs(dec.rootPositions[i] - clip.rootPositions[i])).toBeLessThan(1e-5);
    expect(decoded.notes.join('\n')).toMatch(/non-uniform/);
  });
});

describe('decodeAnimationFile: sampling', () => {
  it('STEP holds each key until the next one', async () => {
    // Keys every third frame; the truth holds each keyed pose for three frames.
    const keyed = smooth(31);
    const truth = makeClip(31, 30, (t) => analyticPose(SKEL, Math.floor(Math.round(t * 30) / 3) * 3 / 30));
    const frames = [...Array(11).keys()].map((k) => k * 3);
    const decoded = await round({ skeleton: SKEL, clips: [{ name: 'a', clip: keyed, interpolation: 'STEP', frames }], armature: ZUP_CM });
    const err = expectSameMotion(truth, decoded);
    expect(err.pos).toBeLessThan(1e-5);
  });

  it('CUBICSPLINE evaluates the Hermite curve between keys (decoded at twice the key rate)', async () => {
    const keyed = smooth(31, 30);
    const truth = smooth(61, 60);
    const decoded = await round({ skeleton: SKEL, clips: [{ name: 'a', clip: keyed, interpolation: 'CUBICSPLINE' }], armature: ZUP_CM }, 60);
    const err = expectSameMotion(truth, decoded);
    // LINEAR on the same keys is measurably worse: the test can tell the two apart.
    const linear = await round({ skeleton: SKEL, clips: [{ name: 'a', clip: keyed }], armature: ZUP_CM }, 60);
    expect(motionError(truth, linear).pos).toBeGreaterThan(err.pos * 2);
  });

  it('CUBICSPLINE tangents are per second, scaled by each key interval', async () => {
    // A hand-made file: one node, no skin, a cubic translation path keyed at uneven times with exact tangents.
    const p = (t: number): Vec3 => [t ** 3 - t, 2 * t * t, 0.5 * t ** 3 + t];
    const dp = (t: number): Vec3 => [3 * t * t - 1, 4 * t, 1.5 * t * t + 1];
    const times = [0, 0.3, 0.45, 1];
    const doc = new Document();
    const buffer = doc.createBuffer();
    const node = doc.createNode('Mover').setRotation(qnormalize([0.2, 0.1, 0, 1]));
    doc.createScene().addChild(doc.createNode('Scale').setScale([0.5, 0.5, 0.5]).addChild(node));
    const input = doc.createAccessor().setType('SCALAR').setArray(Float32Array.from(times)).setBuffer(buffer);
    const output = doc.createAccessor().setType('VEC3').setArray(Float32Array.from(times.flatMap((t) => [...dp(t), ...p(t), ...dp(t)]))).setBuffer(buffer);
    const sampler = doc.createAnimationSampler().setInput(input).setOutput(output).setInterpolation('CUBICSPLINE');
    doc.createAnimation('move').addSampler(sampler).addChannel(doc.createAnimationChannel().setTargetNode(node).setTargetPath('translation').setSampler(sampler));
    const decoded = await decodeAnimationFile(await new NodeIO().writeBinary(doc), { fps: 20 });
    expect(decoded.skeleton.names).toEqual(['Mover']);
    const clip = decoded.clips[0].clip;
    expect(clip.numFrames).toBe(21);
    for (let f = 0; f < 21; f++) {
      const want = p(f / 20).map((v) => v * 0.5); // the parent's scale folds into the world position
      for (let i = 0; i < 3; i++) expect(Math.abs(clip.rootPositions[f * 3 + i] - want[i])).toBeLessThan(1e-5);
      expect(qangle(clip.rotations.subarray(f * 4, f * 4 + 4), [0, 0, 0, 1])).toBeLessThan(1e-6);
    }
  });

  it('samples key times off the frame grid', async () => {
    const dense = smooth(481, 240); // 2 s of truth at 240 fps for the writer to sample from
    const truth = smooth(61, 30);
    const times = [0];
    for (let k = 1; k < 180; k++) times.push((k + 0.4 * Math.sin(k * 1.7)) / 90);
    times.push(2);
    const decoded = await round({ skeleton: SKEL, clips: [{ name: 'a', clip: dense, times }], armature: ZUP_CM });
    expectSameMotion(truth, decoded);
  });

  it('interpolates sparse keys (slerp between them)', async () => {
    const frames = [0, 4, 5, 13, 20, 30];
    const keyPose = (f: number) => analyticPose(SKEL, f / 30, 0.8, 1.5);
    // The truth between keys is the slerp of the keyed poses, as the protocol convention commutes with it.
    const truth = makeClip(31, 30, (t) => {
      const f = Math.round(t * 30);
      const k = frames.findIndex((x) => x > f);
      if (k < 0) return keyPose(30);
      const a = frames[k - 1], b = frames[k];
      const u = (f - a) / (b - a);
      const pa = keyPose(a), pb = keyPose(b);
      return { rotations: pa.rotations.map((q, j) => qslerp(q, pb.rotations[j], u)), root: pa.root.map((v, i) => v + (pb.root[i] - v) * u) as Vec3 };
    });
    const decoded = await round({ skeleton: SKEL, clips: [{ name: 'a', clip: truth, frames }], armature: ZUP_CM, roll: 1.9 });
    const err = expectSameMotion(truth, decoded);
    expect(err.pos).toBeLessThan(1e-4);
  });

  it('holds the rest value for joints and the root without channels', async () => {
    const omitted = ['spine1_JNT', 'l_forearm_JNT', 'r_handIndex2_JNT', 'l_toebase_JNT'];
    const idx = omitted.map((n) => SKEL.names.indexOf(n));
    const clip = makeClip(31, 30, (t) => {
      const p = analyticPose(SKEL, t);
      idx.forEach((j) => (p.rotations[j] = [0, 0, 0, 1]));
      return { ...p, root: [0, 0.95, 0] };
    });
    const decoded = await round({ skeleton: SKEL, clips: [{ name: 'a', clip, omitRotation: omitted, omitRootTranslation: true }], armature: ZUP_CM });
    expectSameMotion(clip, decoded);
  });

  it('folds channels on the armature node into the root', async () => {
    const clip = smooth();
    const motion = (t: number) => ({ rotation: qmul(qx(-Math.PI / 2), qz(0.6 * t)), translation: [0.3 * t, 0.1 * Math.sin(3 * t), 0] as Vec3 });
    const decoded = await round({ skeleton: SKEL, clips: [{ name: 'a', clip }], armature: { ...ZUP_CM, motion } });
    expectSameMotion(clip, decoded);
  });

  it('ignores scale channels and non-root translations, noting the ones that move', async () => {
    const clip = smooth();
    const doc = buildFbxStyleDocument({ skeleton: SKEL, clips: [{ name: 'Take', clip, constantChannels: true }], armature: ZUP_CM });
    // A provider that also animates the forearm's length: the skeleton keeps its rest offsets.
    const anim = doc.getRoot().listAnimations()[0];
    const forearm = anim.listChannels().find((c) => c.getTargetNode()?.getName() === 'l_forearm_JNT' && c.getTargetPath() === 'translation')!;
    const out = forearm.getSampler()!.getOutput()!;
    const arr = out.getArray() as Float32Array;
    for (let k = 0; k < out.getCount(); k++) arr[k * 3 + 1] *= 1.5;
    const decoded = await decodeAnimationFile(await new NodeIO().writeBinary(doc), { fps: 30 });
    expectSameMotion(clip, decoded);
    const notes = decoded.notes.join('\n');
    expect(notes).toMatch(/ignored animated translations of 1 non-root joints \(l_forearm_JNT\)/);
    expect(notes).not.toMatch(/scale/);
  });

  it('counts frames as floor(duration × fps) + 1 and starts at t = 0', async () => {
    const clip = smooth(31, 30); // 1 s
    for (const [fps, frames] of [[30, 31], [24, 25], [60, 61], [7, 8]] as const) {
      const decoded = await round({ skeleton: SKEL, clips: [{ name: 'a', clip }] }, fps);
      expect(decoded.clips[0].clip.numFrames).toBe(frames);
      expect(decoded.clips[0].clip.fps).toBe(fps);
    }
    // A 59-frame clip (duration 58/30 s, not exact in float32) keeps its last frame.
    const odd = await round({ skeleton: SKEL, clips: [{ name: 'a', clip: smooth(59, 30) }] });
    expect(odd.clips[0].clip.numFrames).toBe(59);
  });
});
