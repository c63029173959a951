import { describe, expect, it } from 'vitest';
import { restFloor, restPositions } from '../../../src/motion/skeleton.js';
import { CONTACT_JOINTS, JOINT, PROCEDURAL_SKELETON, proceduralSkeletonWire } from '../../../src/adapters/procedural/rig.js';

const NAMES = [
  'Hips', 'Spine', 'Spine1', 'Spine2', 'Neck', 'Head', 'LeftShoulder', 'LeftArm', 'LeftForeArm', 'LeftHand',
  'RightShoulder', 'RightArm', 'RightForeArm', 'RightHand', 'LeftUpLeg', 'LeftLeg', 'LeftFoot', 'LeftToeBase',
  'RightUpLeg', 'RightLeg', 'RightFoot', 'RightToeBase',
];

describe('procedural canonical skeleton', () => {
  const rest = restPositions(PROCEDURAL_SKELETON);
  const y = (name: keyof typeof JOINT) => rest[JOINT[name] * 3 + 1];
  const p = (name: keyof typeof JOINT) => [rest[JOINT[name] * 3], rest[JOINT[name] * 3 + 1], rest[JOINT[name] * 3 + 2]];

  it('has the 22 joints, parents first, and named indices that match', () => {
    expect(PROCEDURAL_SKELETON.names).toEqual(NAMES);
    NAMES.forEach((n, i) => expect(JOINT[n as keyof typeof JOINT]).toBe(i));
    for (let j = 1; j < NAMES.length; j++) expect(PROCEDURAL_SKELETON.parents[j]).toBeLessThan(j);
    expect(PROCEDURAL_SKELETON.parents[0]).toBe(-1);
    expect([...CONTACT_JOINTS]).toEqual(['LeftFoot', 'LeftToeBase', 'RightFoot', 'RightToeBase']);
  });

  it('stands 1.75 m tall with hips at 0.95 m, ankles 8 cm up and toes on the floor ahead of them', () => {
    expect(restFloor(PROCEDURAL_SKELETON)).toBe(0);
    expect(y('Hips')).toBeCloseTo(0.95, 2);
    expect(y('LeftFoot')).toBeCloseTo(0.08, 2);
    expect(y('RightToeBase')).toBe(0);
    expect(p('LeftToeBase')[2]).toBeGreaterThan(p('LeftFoot')[2] + 0.1);
    // The crown is about 0.15 m above the head joint.
    expect(y('Head') + 0.15).toBeGreaterThan(1.7);
    expect(y('Head') + 0.15).toBeLessThan(1.8);
  });

  it('is a T-pose facing +Z with its left side at +X', () => {
    expect(p('LeftHand')[0]).toBeGreaterThan(0.6);
    expect(p('RightHand')[0]).toBeLessThan(-0.6);
    expect(y('LeftHand')).toBeCloseTo(y('LeftArm'), 6);
    expect(p('LeftUpLeg')[0]).toBeGreaterThan(0);
  });

  it('has a wire form with identity rest rotations that round-trips', () => {
    const wire = proceduralSkeletonWire();
    expect(wire.coordinate_system).toBe('right_handed_y_up');
    expect(wire.units).toBe('meters');
    expect(wire.joints).toHaveLength(22);
    expect(wire.joints[0]).toEqual({ name: 'Hips', parent: null, rest_translation: [0, 0.953125, 0], rest_rotation: [0, 0, 0, 1] });
    for (const j of wire.joints) expect(j.rest_rotation).toEqual([0, 0, 0, 1]);
    expect(wire.joints.find((j) => j.name === 'LeftToeBase')?.parent).toBe('LeftFoot');
    // A fresh copy each time: callers may mutate it.
    wire.joints[0].rest_translation[1] = 5;
    expect(proceduralSkeletonWire().joints[0].rest_translation[1]).toBe(0.953125);
  });
});
