/**
 * A production-sized humanoid rig for the large-answer benchmarks: the Mixamo fixture rig (65 joints)
 * with three twist joints along each upper arm, forearm, thigh and shin, and hair/face chains under the
 * head, up to the joint count asked for. Extra joints have neutral names, so the humanoid mapping still
 * finds the Mixamo body; they carry their rest pose through the answer like any unmapped joint.
 */
import type { GenerateRequest } from '../src/spec/wire.js';
import { FIXTURE_RIGS } from '../test/fixtures/skeletons/index.js';

type Skeleton = GenerateRequest['skeleton'];
type Joint = Skeleton['joints'][number];

/** Limb joints that get twist joints, and the child they twist towards. */
const TWISTED: Array<[string, string]> = [
  ['LeftArm', 'LeftForeArm'],
  ['LeftForeArm', 'LeftHand'],
  ['RightArm', 'RightForeArm'],
  ['RightForeArm', 'RightHand'],
  ['LeftUpLeg', 'LeftLeg'],
  ['LeftLeg', 'LeftFoot'],
  ['RightUpLeg', 'RightLeg'],
  ['RightLeg', 'RightFoot'],
];
const TWISTS_PER_BONE = 3;
const CHAIN_LENGTH = 3;

const round = (v: number) => Math.round(v * 1e4) / 1e4;

export function bigHumanoidRig(jointCount = 200): Skeleton {
  const base = FIXTURE_RIGS.mixamo.joints.map((j) => ({ ...j })) as Joint[];
  const byName = new Map(base.map((j) => [j.name, j]));
  const m = (n: string) => `mixamorig:${n}`;
  const extra: Joint[] = [];
  let n = 0;
  for (const [bone, child] of TWISTED) {
    const towards = byName.get(m(child))!.rest_translation;
    for (let k = 1; k <= TWISTS_PER_BONE; k++) {
      const f = k / (TWISTS_PER_BONE + 1);
      extra.push({ name: `extra_${String(++n).padStart(3, '0')}`, parent: m(bone), rest_translation: [round(towards[0] * f), round(towards[1] * f), round(towards[2] * f)] });
    }
  }
  // Hair and face: chains of CHAIN_LENGTH under the head, spread around it.
  for (let chain = 0; base.length + extra.length < jointCount; chain++) {
    const angle = chain * 2.399963; // golden angle: chains spread evenly
    let parent = m('Head');
    for (let link = 0; link < CHAIN_LENGTH && base.length + extra.length < jointCount; link++) {
      const name = `extra_${String(++n).padStart(3, '0')}`;
      const offset: Joint['rest_translation'] = link === 0 ? [round(0.08 * Math.cos(angle)), 0.1, round(0.08 * Math.sin(angle))] : [0, -0.03, round(-0.01)];
      extra.push({ name, parent, rest_translation: offset });
      parent = name;
    }
  }
  const joints = [...base, ...extra];
  return { joints: joints as Skeleton['joints'] };
}
