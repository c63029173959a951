/** What joint names say (src/motion/joint-names.ts): sides, role words, joint kinds, and the role hints read from them. */
import { describe, expect, it } from 'vitest';
import { centerRoleHint, limbRoleHints, nameWords, parseJointName, rolesFromNames } from '../../src/motion/joint-names.js';

describe('parseJointName', () => {
  it.each([
    ['mixamorig:LeftUpLeg', 'left', 'upleg'],
    ['Character1:RightForeArm', 'right', 'forearm'],
    ['thigh_l', 'left', 'thigh'],
    ['DEF-upper_arm.R', 'right', 'upperarm'],
    ['J_Bip_L_LowerLeg', 'left', 'lowerleg'],
    ['L_Hip', 'left', 'hip'],
    ['l_upleg_JNT', 'left', 'upleg'],
    ['LHipJoint', 'left', 'hipjoint'],
    ['RightToeBase', 'right', 'toebase'],
    ['spine_03', null, 'spine'],
    ['Bip01 L Thigh', 'left', 'thigh'],
  ] as const)('%s → side %s, role words %s', (raw, side, core) => {
    const n = parseJointName(raw);
    expect(n.side).toBe(side);
    expect(n.core).toBe(core);
  });
  it('marks twist, end, finger, segment and helper joints', () => {
    expect(parseJointName('upperarm_twist_01_l')).toMatchObject({ segment: true, minor: true });
    expect(parseJointName('Character1:LeftArmRoll')).toMatchObject({ segment: true });
    expect(parseJointName('DEF-forearm.L.001')).toMatchObject({ side: 'left', segment: true });
    expect(parseJointName('mixamorig:HeadTop_End')).toMatchObject({ end: true });
    expect(parseJointName('l_handIndex1_JNT')).toMatchObject({ side: 'left', finger: true });
    expect(parseJointName('ik_foot_l')).toMatchObject({ auxiliary: true });
    expect(parseJointName('J_Sec_Hair1_01')).toMatchObject({ auxiliary: true });
    expect(parseJointName('DEF-spine.003')).toMatchObject({ side: null, segment: false, core: 'spine' });
  });
});

describe('nameWords', () => {
  it('splits helper-bone names into their words, namespaces dropped', () => {
    expect(nameWords('ik_foot_l')).toEqual(['ik', 'foot', 'l']);
    expect(nameWords('rig:ik_hand_gun')).toEqual(['ik', 'hand', 'gun']);
    expect(nameWords('center_of_mass')).toEqual(['center', 'of', 'mass']);
    expect(nameWords('IKFootRoot')).toEqual(['ik', 'foot', 'root']);
    expect(nameWords('Bone.001')).toEqual(['bone', '001']);
    expect(nameWords('j07')).toEqual(['j', '07']);
  });

  it('reads Blender default and numbered names as saying nothing', () => {
    for (const n of ['Bone', 'Bone.001', 'Bone.017', 'j00', 'j35']) {
      const p = parseJointName(n);
      expect([p.core, p.side, p.auxiliary, p.minor]).toEqual(['', null, false, false]);
    }
  });
});

describe('role hints', () => {
  it('proposes limb roles for a joint of its own side only, and none for minor or auxiliary joints', () => {
    expect(limbRoleHints(parseJointName('mixamorig:LeftForeArm'), 'left')).toEqual([['forearm', 2]]);
    expect(limbRoleHints(parseJointName('mixamorig:LeftForeArm'), 'right')).toEqual([]);
    expect(limbRoleHints(parseJointName('foot_l'), 'left')).toEqual([['foot', 2], ['toe', 1]]);
    expect(limbRoleHints(parseJointName('upperarm_twist_01_l'), 'left')).toEqual([]);
    expect(limbRoleHints(parseJointName('ik_foot_l'), 'left')).toEqual([]);
    expect(limbRoleHints(parseJointName('Spine1'), 'left')).toEqual([]);
  });

  it('reads centre-line roles from their words, whatever side the name says', () => {
    expect(centerRoleHint(parseJointName('pelvis'))).toBe('hips');
    expect(centerRoleHint(parseJointName('mixamorig:Neck'))).toBe('neck');
    expect(centerRoleHint(parseJointName('L_Hip'))).toBe('hips');
    expect(centerRoleHint(parseJointName('Spine2'))).toBeUndefined();
  });

  it('assigns roles along a path in order, ties to the preferred word and then to the earlier joint', () => {
    const names = ['L_Shoulder', 'L_Elbow', 'L_Wrist', 'L_Hand'].map(parseJointName);
    const hints = (j: number) => limbRoleHints(names[j], 'left');
    expect(rolesFromNames([0, 1, 2, 3], ['shoulder', 'upperArm', 'forearm', 'hand'] as const, hints)).toEqual({ upperArm: 0, forearm: 1, hand: 2 });
  });

  it('reads names that are also properties of every object (constructor, toString) as saying nothing', () => {
    for (const n of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(limbRoleHints(parseJointName(n), 'left')).toEqual([]);
      expect(centerRoleHint(parseJointName(n))).toBeUndefined();
    }
  });
});
