import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { contactJoints, humanoidRoles, mapHumanoid, type HumanoidMap } from '../../src/motion/humanoid.js';
import { qrotate, qy } from '../../src/motion/quat.js';
import { skeletonFromWire } from '../../src/motion/skeleton.js';
import type { Skeleton } from '../../src/spec/motion.js';
import { type Joint as WireJoint } from '../../src/spec/wire.js';
import { GatewayError } from '../../src/spec/errors.js';
import {
  FIXTURE_NAMES, FIXTURE_RIGS, blenderBonesLabels, fixtureSkeleton, jointNumbersLabels, namelessLabels, type FixtureName,
} from '../fixtures/skeletons/index.js';

/** Role → joint name, as the tests state the truth. */
function named(s: Skeleton, map: HumanoidMap): Record<string, string> {
  return Object.fromEntries(humanoidRoles(map).map(([role, j]) => [role, s.names[j]]));
}

/** Expected roles for one side, written out per convention (`L`/`R`, `l`/`r`, `Left`/`Right` filled in). */
function sides(make: (S: 'left' | 'right') => Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const S of ['left', 'right'] as const) for (const [k, v] of Object.entries(make(S))) out[`${S}.${k}`] = v;
  return out;
}
const LR = (S: 'left' | 'right', l: string, r: string): string => (S === 'left' ? l : r);

const EXPECTED: Record<FixtureName, Record<string, string>> = {
  mixamo: {
    hips: 'mixamorig:Hips', 'spine.0': 'mixamorig:Spine', 'spine.1': 'mixamorig:Spine1', 'spine.2': 'mixamorig:Spine2',
    chest: 'mixamorig:Spine2', neck: 'mixamorig:Neck', head: 'mixamorig:Head',
    ...sides((S) => {
      const P = `mixamorig:${LR(S, 'Left', 'Right')}`;
      return { shoulder: `${P}Shoulder`, upperArm: `${P}Arm`, forearm: `${P}ForeArm`, hand: `${P}Hand`, upperLeg: `${P}UpLeg`, lowerLeg: `${P}Leg`, foot: `${P}Foot`, toe: `${P}ToeBase` };
    }),
  },
  ue5: {
    hips: 'pelvis', 'spine.0': 'spine_01', 'spine.1': 'spine_02', 'spine.2': 'spine_03', 'spine.3': 'spine_04', 'spine.4': 'spine_05',
    chest: 'spine_05', neck: 'neck_01', head: 'head',
    ...sides((S) => {
      const s = LR(S, 'l', 'r');
      return { shoulder: `clavicle_${s}`, upperArm: `upperarm_${s}`, forearm: `lowerarm_${s}`, hand: `hand_${s}`, upperLeg: `thigh_${s}`, lowerLeg: `calf_${s}`, foot: `foot_${s}`, toe: `ball_${s}` };
    }),
  },
  vrm: {
    hips: 'J_Bip_C_Hips', 'spine.0': 'J_Bip_C_Spine', 'spine.1': 'J_Bip_C_Chest', 'spine.2': 'J_Bip_C_UpperChest',
    chest: 'J_Bip_C_UpperChest', neck: 'J_Bip_C_Neck', head: 'J_Bip_C_Head',
    ...sides((S) => {
      const b = `J_Bip_${LR(S, 'L', 'R')}_`;
      return { shoulder: `${b}Shoulder`, upperArm: `${b}UpperArm`, forearm: `${b}LowerArm`, hand: `${b}Hand`, upperLeg: `${b}UpperLeg`, lowerLeg: `${b}LowerLeg`, foot: `${b}Foot`, toe: `${b}ToeBase` };
    }),
  },
  rigify: {
    hips: 'DEF-spine', 'spine.0': 'DEF-spine.001', 'spine.1': 'DEF-spine.002', 'spine.2': 'DEF-spine.003',
    chest: 'DEF-spine.003', neck: 'DEF-spine.004', head: 'DEF-spine.006',
    ...sides((S) => {
      const x = LR(S, 'L', 'R');
      return { shoulder: `DEF-shoulder.${x}`, upperArm: `DEF-upper_arm.${x}`, forearm: `DEF-forearm.${x}`, hand: `DEF-hand.${x}`, upperLeg: `DEF-thigh.${x}`, lowerLeg: `DEF-shin.${x}`, foot: `DEF-foot.${x}`, toe: `DEF-toe.${x}` };
    }),
  },
  smpl: {
    hips: 'Pelvis', 'spine.0': 'Spine1', 'spine.1': 'Spine2', 'spine.2': 'Spine3', chest: 'Spine3', neck: 'Neck', head: 'Head',
    // The misleading names: L_Hip is the upper leg, L_Shoulder the upper arm, L_Foot the toe.
    ...sides((S) => {
      const x = LR(S, 'L', 'R');
      return { shoulder: `${x}_Collar`, upperArm: `${x}_Shoulder`, forearm: `${x}_Elbow`, hand: `${x}_Wrist`, upperLeg: `${x}_Hip`, lowerLeg: `${x}_Knee`, foot: `${x}_Ankle`, toe: `${x}_Foot` };
    }),
  },
  cmu: {
    hips: 'Hips', 'spine.0': 'LowerBack', 'spine.1': 'Spine', 'spine.2': 'Spine1', chest: 'Spine1', neck: 'Neck', head: 'Head',
    ...sides((S) => {
      const P = LR(S, 'Left', 'Right');
      return { shoulder: `${P}Shoulder`, upperArm: `${P}Arm`, forearm: `${P}ForeArm`, hand: `${P}Hand`, upperLeg: `${P}UpLeg`, lowerLeg: `${P}Leg`, foot: `${P}Foot`, toe: `${P}ToeBase` };
    }),
  },
  deepmotion: {
    hips: 'hips_JNT', 'spine.0': 'spine_JNT', 'spine.1': 'spine1_JNT', 'spine.2': 'spine2_JNT', chest: 'spine2_JNT', neck: 'neck_JNT', head: 'head_JNT',
    ...sides((S) => {
      const s = LR(S, 'l', 'r');
      return { shoulder: `${s}_shoulder_JNT`, upperArm: `${s}_arm_JNT`, forearm: `${s}_forearm_JNT`, hand: `${s}_hand_JNT`, upperLeg: `${s}_upleg_JNT`, lowerLeg: `${s}_leg_JNT`, foot: `${s}_foot_JNT`, toe: `${s}_toebase_JNT` };
    }),
  },
  meshy: {
    hips: 'Hips', 'spine.0': 'Spine02', 'spine.1': 'Spine01', 'spine.2': 'Spine', chest: 'Spine', neck: 'neck', head: 'Head',
    ...sides((S) => {
      const P = LR(S, 'Left', 'Right');
      return { shoulder: `${P}Shoulder`, upperArm: `${P}Arm`, forearm: `${P}ForeArm`, hand: `${P}Hand`, upperLeg: `${P}UpLeg`, lowerLeg: `${P}Leg`, foot: `${P}Foot`, toe: `${P}ToeBase` };
    }),
  },
  character1: {
    hips: 'Character1:Hips', 'spine.0': 'Character1:Spine', 'spine.1': 'Character1:Spine1', 'spine.2': 'Character1:Spine2', 'spine.3': 'Character1:Spine3',
    chest: 'Character1:Spine3', neck: 'Character1:Neck', head: 'Character1:Head',
    ...sides((S) => {
      const P = `Character1:${LR(S, 'Left', 'Right')}`;
      return { shoulder: `${P}Shoulder`, upperArm: `${P}Arm`, forearm: `${P}ForeArm`, hand: `${P}Hand`, upperLeg: `${P}UpLeg`, lowerLeg: `${P}Leg`, foot: `${P}Foot`, toe: `${P}ToeBase` };
    }),
  },
  nameless: Object.fromEntries(
    Object.entries({
      hips: 'hips', 'spine.0': 'spine0', 'spine.1': 'spine1', 'spine.2': 'chest', chest: 'chest', neck: 'neck', head: 'head',
      ...sides((S) => {
        const x = LR(S, 'L', 'R');
        return { shoulder: `clavicle${x}`, upperArm: `upperArm${x}`, forearm: `forearm${x}`, hand: `hand${x}`, upperLeg: `upperLeg${x}`, lowerLeg: `lowerLeg${x}`, foot: `foot${x}`, toe: `toe${x}` };
      }),
    }).map(([role, label]) => [role, namelessLabels[label]]),
  ),
  child: {
    hips: 'hips', 'spine.0': 'spine_01', 'spine.1': 'spine_02', 'spine.2': 'spine_03', chest: 'spine_03', neck: 'neck', head: 'head',
    ...sides((S) => {
      const s = LR(S, 'l', 'r');
      return { shoulder: `clavicle_${s}`, upperArm: `upperarm_${s}`, forearm: `lowerarm_${s}`, hand: `hand_${s}`, upperLeg: `thigh_${s}`, lowerLeg: `calf_${s}`, foot: `foot_${s}`, toe: `ball_${s}` };
    }),
  },
  tPose: posedExpectation(),
  aPose: posedExpectation(),
  // Straight T-pose arms (clavicle to finger tip on one line): the wrist comes from segment lengths.
  blenderBones: labelled(blenderBonesLabels, { 'spine.0': 'spine0', 'spine.1': 'spine1', 'spine.2': 'chest' }),
  jointNumbers: labelled(jointNumbersLabels, { 'spine.0': 'spine0', 'spine.1': 'spine1', 'spine.2': 'spine2', 'spine.3': 'chest' }),
};

/** The expectation of a rig built from labels (blender.ts): role → joint name through the label table. */
function labelled(labels: Readonly<Record<string, string>>, spine: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries({
      hips: 'hips', ...spine, chest: 'chest', neck: 'neck', head: 'head',
      ...sides((S) => {
        const x = LR(S, 'L', 'R');
        return { shoulder: `clavicle${x}`, upperArm: `upperArm${x}`, forearm: `forearm${x}`, hand: `hand${x}`, upperLeg: `upperLeg${x}`, lowerLeg: `lowerLeg${x}`, foot: `foot${x}`, toe: `toe${x}` };
      }),
    }).map(([role, label]) => [role, labels[label]]),
  );
}

function posedExpectation(): Record<string, string> {
  return {
    hips: 'Hips', 'spine.0': 'Spine', 'spine.1': 'Chest', 'spine.2': 'UpperChest', chest: 'UpperChest', neck: 'Neck', head: 'Head',
    ...sides((S) => {
      const P = LR(S, 'Left', 'Right');
      return { shoulder: `${P}Shoulder`, upperArm: `${P}UpperArm`, forearm: `${P}LowerArm`, hand: `${P}Hand`, upperLeg: `${P}UpperLeg`, lowerLeg: `${P}LowerLeg`, foot: `${P}Foot`, toe: `${P}Toes` };
    }),
  };
}

/** Catches the MG-PRO-004 error of `fn`. */
function mappingError(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GatewayError);
    expect((e as GatewayError).id).toBe('MG-PRO-004');
    return e as GatewayError;
  }
  throw new Error('expected MG-PRO-004');
}

/** A fixture without some joints (and everything below them). */
function without(name: FixtureName, drop: (joint: string) => boolean): Skeleton {
  const gone = new Set<string>();
  const joints = FIXTURE_RIGS[name].joints.filter((j) => {
    if (drop(j.name) || (j.parent !== null && gone.has(j.parent))) {
      gone.add(j.name);
      return false;
    }
    return true;
  });
  return skeletonFromWire(joints);
}

/** The same rig with every joint renamed `n<index>`: only topology and rest positions are left. */
function anonymous(s: Skeleton): Skeleton {
  return { ...s, names: s.names.map((_, i) => `n${i}`) };
}

describe('mapHumanoid', () => {
  for (const name of FIXTURE_NAMES) {
    it(`maps every role of the ${name} rig`, () => {
      const s = fixtureSkeleton(name);
      expect(named(s, mapHumanoid(s))).toEqual(EXPECTED[name]);
    });
  }

  // Geometry alone must agree with the names wherever it decides; where it cannot (Rigify's split limb
  // bones in a straight arm), it must refuse rather than guess.
  for (const name of FIXTURE_NAMES) {
    it(`maps the ${name} rig the same from topology and rest positions alone, or refuses`, () => {
      const s = fixtureSkeleton(name);
      const anon = anonymous(s);
      if (name === 'rigify') {
        const err = mappingError(() => mapHumanoid(anon));
        expect(err.details?.ambiguous).toEqual(expect.arrayContaining(['left.upperArm', 'right.upperArm']));
        return;
      }
      const byIndex = (m: HumanoidMap) => Object.fromEntries(humanoidRoles(m));
      expect(byIndex(mapHumanoid(anon))).toEqual(byIndex(mapHumanoid(s)));
    });
  }

  it('settles sides from rest positions, whatever the joint order', () => {
    const s = fixtureSkeleton('nameless');
    const map = mapHumanoid(s);
    const restX = (j: number): number => {
      let x = 0;
      for (let k = j; k >= 0; k = s.parents[k]) x += s.offsets[k * 3];
      return x;
    };
    for (const role of ['upperArm', 'hand', 'upperLeg', 'foot'] as const) {
      expect(restX(map.left[role])).toBeGreaterThan(0);
      expect(restX(map.right[role])).toBeLessThan(0);
    }
  });

  it('names the missing leg roles of a rig without legs', () => {
    const s = without('mixamo', (n) => /UpLeg$/.test(n));
    const err = mappingError(() => mapHumanoid(s));
    expect(err.status).toBe(400);
    expect(err.code).toBe('invalid_skeleton');
    expect(err.details?.missing_roles).toEqual(
      expect.arrayContaining(['left.upperLeg', 'left.lowerLeg', 'left.foot', 'right.upperLeg', 'right.lowerLeg', 'right.foot']),
    );
    expect(err.details?.missing_roles).not.toContain('hips');
    expect(err.details?.missing_roles).not.toContain('left.upperArm');
  });

  it('names the missing arm of a one-armed rig', () => {
    const s = without('ue5', (n) => n === 'clavicle_r');
    const err = mappingError(() => mapHumanoid(s));
    expect(err.details?.missing_roles).toEqual(['right.upperArm', 'right.forearm', 'right.hand']);
  });

  it('reports hips, legs and the rest when a nameless rig has no legs', () => {
    const s = without('nameless', (n) => n === namelessLabels.upperLegL || n === namelessLabels.upperLegR);
    const err = mappingError(() => mapHumanoid(s));
    expect(err.details?.missing_roles).toEqual(expect.arrayContaining(['hips', 'left.foot', 'right.foot']));
  });

  it('refuses a rig with no head above the arms', () => {
    const s = without('smpl', (n) => n === 'Neck');
    const err = mappingError(() => mapHumanoid(s));
    expect(err.details?.missing_roles).toEqual(expect.arrayContaining(['neck', 'head']));
  });

  it('refuses a rig whose names and rest positions disagree on sides (a character facing -Z)', () => {
    // Mixamo turned 180° about +Y: LeftArm now lies at -X.
    const turned: WireJoint[] = FIXTURE_RIGS.mixamo.joints.map((j) => ({ ...j, rest_translation: qrotate(qy(Math.PI), j.rest_translation) }));
    const err = mappingError(() => mapHumanoid(skeletonFromWire(turned)));
    expect(err.details?.ambiguous).toEqual(expect.arrayContaining(['sides']));
    // Without names the toes give the facing away.
    const err2 = mappingError(() => mapHumanoid(anonymous(skeletonFromWire(turned))));
    expect(err2.details?.ambiguous).toEqual(['facing']);
  });

  it('is not fooled by joint order: any parent-first order of the same rig maps the same joints', () => {
    const base = FIXTURE_RIGS.deepmotion.joints;
    fc.assert(
      fc.property(fc.array(fc.integer(), { minLength: base.length, maxLength: base.length }), (keys) => {
        // A random topological order: repeatedly take the ready joint with the smallest random key.
        const placed = new Set<string | null>([null]);
        const order: WireJoint[] = [];
        const left = base.map((j, i) => ({ j, k: keys[i] }));
        while (left.length) {
          const ready = left.filter(({ j }) => placed.has(j.parent)).sort((a, b) => a.k - b.k)[0];
          order.push(ready.j);
          placed.add(ready.j.name);
          left.splice(left.indexOf(ready), 1);
        }
        const s = skeletonFromWire(order);
        expect(named(s, mapHumanoid(s))).toEqual(EXPECTED.deepmotion);
      }),
      { numRuns: 25 },
    );
  });

  it('refuses a name-free straight arm whose bones are all the same length, saying why', () => {
    // The Blender rig with the finger joints moved out to forearm length: four equal bones in a line.
    const L = blenderBonesLabels;
    const joints = FIXTURE_RIGS.blenderBones.joints.map((j) => {
      if (j.name !== L.fingerL && j.name !== L.fingerTipL) return j;
      const fore = FIXTURE_RIGS.blenderBones.joints.find((k) => k.name === L.handL)!.rest_translation;
      return { ...j, rest_translation: [...fore] as [number, number, number] };
    });
    const err = mappingError(() => mapHumanoid(skeletonFromWire(joints)));
    expect(err.details?.ambiguous).toEqual(['left.upperArm', 'left.forearm', 'left.hand']);
    expect(err.message).toMatch(/left arm's joints cannot be told apart/);
  });

  it('lists the feet and toes as contact joints', () => {
    const s = fixtureSkeleton('ue5');
    const map = mapHumanoid(s);
    expect(contactJoints(map).map((j) => s.names[j])).toEqual(['foot_l', 'ball_l', 'foot_r', 'ball_r']);
    const meshyNoToes = without('meshy', (n) => /ToeBase$/.test(n));
    expect(contactJoints(mapHumanoid(meshyNoToes)).map((j) => meshyNoToes.names[j])).toEqual(['LeftFoot', 'RightFoot']);
  });
});
