/**
 * Reads an MMCP answer (GLB) back into clips on its own skeleton, for tools that look at what a caller
 * receives (the quality report, contact sheets): the project's decoder for rotations and the root, the
 * fps from the MMCP_motion extension, and the animated translations of non-root joints (a floor-level
 * root's pelvis, IK bones) carried over as `Clip.jointTranslations`, which the provider-file decoder
 * ignores.
 */
import { decodeAnimationFile } from '../motion/decode.js';
import { AccessorReader, readContainer, type Json } from '../motion/decode-input.js';
import { qmul, qrotate, type Quat } from '../motion/quat.js';
import type { Clip, Skeleton } from '../spec/motion.js';

export interface ReadAnswer {
  skeleton: Skeleton;
  fps: number;
  samples: Array<{ name: string; clip: Clip }>;
  /** The MMCP_motion extension as written (samples' foot contacts, x_understood…), or null. */
  motion: Json | null;
}

const asObj = (x: unknown): Json | null => (x && typeof x === 'object' && !Array.isArray(x) ? (x as Json) : null);
const asList = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);

/** Decodes an answer GLB; `fps` defaults to the one MMCP_motion states (else 30). */
export async function readAnswer(bytes: Uint8Array, fps?: number): Promise<ReadAnswer> {
  const { json, bin } = readContainer(bytes);
  const motion = asObj(asObj(json.extensions)?.MMCP_motion);
  const rate = fps ?? (typeof motion?.fps === 'number' && motion.fps > 0 ? motion.fps : 30);
  const decoded = await decodeAnimationFile(bytes, { fps: rate });
  const s = decoded.skeleton;
  const nodes = asList(json.nodes).map((n) => asObj(n) ?? {});
  const nodeParent = new Int32Array(nodes.length).fill(-1);
  nodes.forEach((n, i) => asList(n.children).forEach((c) => { if (typeof c === 'number') nodeParent[c] = i; }));
  const jointOfNode = new Map<number, number>();
  nodes.forEach((n, i) => {
    const j = typeof n.name === 'string' ? s.names.indexOf(n.name) : -1;
    if (j > 0) jointOfNode.set(i, j);
  });
  // World rest rotation of a node's parent chain (node-local translations are in the parent's rest frame).
  const restWorld = (node: number): Quat => {
    let q: Quat = [0, 0, 0, 1];
    for (let k = node; k >= 0; k = nodeParent[k]) {
      const r = asList(nodes[k].rotation);
      if (r.length === 4) q = qmul(r as Quat, q);
    }
    return q;
  };
  const reader = new AccessorReader(json, bin, 256 * 2 ** 20);
  const animations = asList(json.animations).map((a) => asObj(a) ?? {});
  const samples = decoded.clips.map(({ name, clip }) => {
    const anim = animations.find((a) => a.name === name);
    const moved: Array<{ joint: number; data: Float64Array; count: number; parentRest: Quat }> = [];
    const samplers = asList(anim?.samplers).map((x) => asObj(x) ?? {});
    for (const chRaw of asList(anim?.channels)) {
      const ch = asObj(chRaw);
      const target = asObj(ch?.target);
      if (!ch || !target || target.path !== 'translation' || typeof target.node !== 'number') continue;
      const joint = jointOfNode.get(target.node);
      const sampler = samplers[Number(ch.sampler)];
      if (joint === undefined || !sampler || typeof sampler.output !== 'number') continue;
      const out = reader.read(sampler.output);
      if (out.comps !== 3) continue;
      moved.push({ joint, data: out.data, count: out.count, parentRest: restWorld(nodeParent[target.node]) });
    }
    if (!moved.length) return { name, clip };
    moved.sort((a, b) => a.joint - b.joint);
    const F = clip.numFrames, K = moved.length;
    const offsets = new Float64Array(F * K * 3);
    moved.forEach((m, k) => {
      for (let f = 0; f < F; f++) {
        const i = Math.min(f, m.count - 1) * 3;
        const v = qrotate(m.parentRest, [m.data[i], m.data[i + 1], m.data[i + 2]]);
        offsets.set(v, (f * K + k) * 3);
      }
    });
    return { name, clip: { ...clip, jointTranslations: { joints: moved.map((m) => m.joint), offsets } } };
  });
  return { skeleton: s, fps: rate, samples, motion };
}
