/** Decoder test material: a small DeepMotion-style humanoid, smooth analytic motion on it, and a GLB JSON rewriter. */
import { allocClip } from '../../src/motion/clip.js';
import { qaxisAngle, qmul, qx, qy, vnormalize, type Quat, type Vec3 } from '../../src/motion/quat.js';
import { skeletonFromWire } from '../../src/motion/skeleton.js';
import type { Clip, Skeleton } from '../../src/spec/motion.js';
import { type Joint as WireJoint } from '../../src/spec/wire.js';

function humanoid(): Skeleton {
  const joints: WireJoint[] = [];
  const j = (name: string, parent: string | null, t: Vec3): void => {
    joints.push({ name, parent, rest_translation: t });
  };
  j('hips_JNT', null, [0, 0.95, 0]);
  j('spine_JNT', 'hips_JNT', [0, 0.1, 0]);
  j('spine1_JNT', 'spine_JNT', [0, 0.12, 0]);
  j('spine2_JNT', 'spine1_JNT', [0, 0.12, 0]);
  j('neck_JNT', 'spine2_JNT', [0, 0.14, 0]);
  j('head_JNT', 'neck_JNT', [0, 0.1, 0.02]);
  for (const [s, x] of [['l', 1], ['r', -1]] as const) {
    j(`${s}_shoulder_JNT`, 'spine2_JNT', [x * 0.05, 0.1, 0]);
    j(`${s}_arm_JNT`, `${s}_shoulder_JNT`, [x * 0.12, 0, 0]);
    j(`${s}_forearm_JNT`, `${s}_arm_JNT`, [x * 0.28, 0, 0]);
    j(`${s}_hand_JNT`, `${s}_forearm_JNT`, [x * 0.25, 0, 0]);
    j(`${s}_handIndex1_JNT`, `${s}_hand_JNT`, [x * 0.08, 0, 0.02]);
    j(`${s}_handIndex2_JNT`, `${s}_handIndex1_JNT`, [x * 0.03, 0, 0]);
    j(`${s}_handIndex3_JNT`, `${s}_handIndex2_JNT`, [x * 0.025, 0, 0]);
  }
  for (const [s, x] of [['l', 1], ['r', -1]] as const) {
    j(`${s}_upleg_JNT`, 'hips_JNT', [x * 0.09, -0.05, 0]);
    j(`${s}_leg_JNT`, `${s}_upleg_JNT`, [0, -0.42, 0]);
    j(`${s}_foot_JNT`, `${s}_leg_JNT`, [0, -0.4, -0.02]);
    j(`${s}_toebase_JNT`, `${s}_foot_JNT`, [0, -0.06, 0.12]);
  }
  return skeletonFromWire(joints);
}

export const SKEL = humanoid();

export interface Pose {
  rotations: Quat[];
  root: Vec3;
}

/** Smooth motion: every joint swings about its own axis (amplitude `amp` rad, up to `maxHz`); the root walks, bobs and turns. */
export function analyticPose(s: Skeleton, t: number, amp = 0.3, maxHz = 0.8, seed = 0): Pose {
  const rotations = s.names.map((_, j): Quat => {
    const axis = vnormalize([Math.sin(1.3 * j + seed), Math.cos(0.7 * j + 2 * seed), Math.sin(2.1 * j + 0.5)]);
    const hz = 0.3 + ((j * 0.37 + seed * 0.11) % 1) * (maxHz - 0.3);
    return qaxisAngle(axis, amp * Math.sin(2 * Math.PI * hz * t + j));
  });
  rotations[0] = qmul(qy(0.4 * t + seed), qx(0.1 * Math.sin(2 * Math.PI * 0.7 * t)));
  return { rotations, root: [0.2 * t, 0.95 + 0.03 * Math.sin(2 * Math.PI * 1.5 * t), 0.5 * t] };
}

export function makeClip(numFrames: number, fps: number, pose: (t: number) => Pose): Clip {
  const J = SKEL.names.length;
  const clip = allocClip(J, numFrames, fps);
  for (let f = 0; f < numFrames; f++) {
    const p = pose(f / fps);
    p.rotations.forEach((q, j) => clip.rotations.set(q, (f * J + j) * 4));
    clip.rootPositions.set(p.root, f * 3);
  }
  return clip;
}

export const smooth = (numFrames = 31, fps = 30, seed = 0): Clip => makeClip(numFrames, fps, (t) => analyticPose(SKEL, t, 0.3, 0.8, seed));

/** A centimetre, Z-up armature, as FBX converters write it. */
export const ZUP_CM = { scale: 0.01, rotation: qx(-Math.PI / 2) };

/** Rewrites the JSON chunk of a GLB (the BIN chunk is kept). */
export function repackGlb(glb: Uint8Array, mutate: (json: any) => void): Uint8Array {
  const view = new DataView(glb.buffer, glb.byteOffset, glb.byteLength);
  const jsonLength = view.getUint32(12, true);
  const json = JSON.parse(new TextDecoder().decode(glb.subarray(20, 20 + jsonLength)));
  mutate(json);
  let text = JSON.stringify(json);
  while (text.length % 4 !== 0) text += ' ';
  const jsonBytes = new TextEncoder().encode(text);
  const rest = glb.subarray(20 + jsonLength);
  const out = new Uint8Array(20 + jsonBytes.length + rest.length);
  const ov = new DataView(out.buffer);
  ov.setUint32(0, 0x46546c67, true);
  ov.setUint32(4, 2, true);
  ov.setUint32(8, out.length, true);
  ov.setUint32(12, jsonBytes.length, true);
  ov.setUint32(16, 0x4e4f534a, true);
  out.set(jsonBytes, 20);
  out.set(rest, 20 + jsonBytes.length);
  return out;
}
