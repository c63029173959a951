/**
 * The allocation-free hot path (src/motion/quat.ts in-place twins, src/motion/skeleton.ts path and clip
 * forward kinematics, shared world positions) computes exactly what the allocating helpers compute.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { clipWorldPositions } from '../../src/motion/clip.js';
import { footContacts } from '../../src/motion/contacts.js';
import { mapHumanoid } from '../../src/motion/humanoid.js';
import { qmul, qmulAt, qnormalize, qrotate, qrotateAt, qslerp, qslerpAt, type Quat, type Vec3 } from '../../src/motion/quat.js';
import {
  ancestorPath, ancestorsOf, clipForwardKinematics, forwardKinematics, forwardKinematicsPath,
} from '../../src/motion/skeleton.js';
import { fixtureSkeleton } from '../fixtures/skeletons/index.js';
import { rig, walkClip } from './walk.js';

const unit = fc.tuple(fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true }))
  .map((q) => qnormalize(q));
const vec = fc.tuple(fc.double({ min: -5, max: 5, noNaN: true }), fc.double({ min: -5, max: 5, noNaN: true }), fc.double({ min: -5, max: 5, noNaN: true }));
const params = { seed: 7, numRuns: 300 };

describe('in-place quaternion twins', () => {
  it('qmulAt writes the bits qmul returns, also when the output aliases an input', () => {
    fc.assert(fc.property(unit, unit, (a, b) => {
      const out = new Float64Array(8);
      qmulAt(out, 4, a, 0, b, 0);
      const aliased = Float64Array.from(a);
      qmulAt(aliased, 0, aliased, 0, b, 0);
      expect(Array.from(out.subarray(4))).toEqual(qmul(a, b));
      expect(Array.from(aliased)).toEqual(qmul(a, b));
    }), params);
  });

  it('qslerpAt writes the bits qslerp returns for any t, near-equal and opposite inputs included', () => {
    const near = unit.map((q): [Quat, Quat] => [q, qnormalize([q[0] + 1e-4, q[1], q[2], q[3]])]);
    const opposite = unit.map((q): [Quat, Quat] => [q, [-q[0], -q[1], -q[2], -q[3]]]);
    const pair = fc.oneof(fc.tuple(unit, unit), near, opposite);
    fc.assert(fc.property(pair, fc.double({ min: 0, max: 1, noNaN: true }), ([a, b], t) => {
      const out = new Float64Array(4);
      qslerpAt(out, 0, a, 0, b, 0, t);
      expect(Array.from(out)).toEqual(qslerp(a, b, t));
    }), params);
  });

  it('qrotateAt writes the bits qrotate returns', () => {
    fc.assert(fc.property(unit, vec, (q, v: Vec3) => {
      const out = new Float64Array(3);
      qrotateAt(out, 0, q, 0, v, 0);
      expect(Array.from(out)).toEqual(qrotate(q, v));
    }), params);
  });
});

describe('forward kinematics over paths and whole clips', () => {
  const skeleton = fixtureSkeleton('mixamo');
  const J = skeleton.names.length;
  const pose = fc.array(unit, { minLength: J, maxLength: J }).map((qs) => Float64Array.from(qs.flat()));

  it('posing only the ancestors of a joint gives those joints the bits of a full pass, and leaves other slots alone', () => {
    const map = mapHumanoid(skeleton);
    const path = ancestorPath(skeleton, map.left.foot);
    expect(Array.from(path)).toEqual([...path].sort((a, b) => a - b));
    fc.assert(fc.property(pose, vec, (rotations, root) => {
      const fullPos = new Float64Array(J * 3), fullRot = new Float64Array(J * 4);
      forwardKinematics(skeleton, rotations, root, fullPos, fullRot);
      const pos = new Float64Array(J * 3).fill(NaN), rot = new Float64Array(J * 4).fill(NaN);
      forwardKinematicsPath(skeleton, path, rotations, root, pos, rot);
      for (let j = 0; j < J; j++) {
        const onPath = path.includes(j);
        expect(Array.from(pos.subarray(j * 3, j * 3 + 3)).every((x) => Number.isNaN(x))).toBe(!onPath);
        if (onPath) {
          expect(Array.from(pos.subarray(j * 3, j * 3 + 3))).toEqual(Array.from(fullPos.subarray(j * 3, j * 3 + 3)));
          expect(Array.from(rot.subarray(j * 4, j * 4 + 4))).toEqual(Array.from(fullRot.subarray(j * 4, j * 4 + 4)));
        }
      }
    }), { seed: 11, numRuns: 50 });
  });

  it('ancestorsOf is the ascending union of the joints and their ancestors', () => {
    const map = mapHumanoid(skeleton);
    const union = new Set([...ancestorPath(skeleton, map.left.toe!), ...ancestorPath(skeleton, map.right.hand)]);
    expect(Array.from(ancestorsOf(skeleton, [map.left.toe!, map.right.hand]))).toEqual([...union].sort((a, b) => a - b));
  });

  it('clipForwardKinematics gives every frame the bits of a per-frame forwardKinematics', () => {
    const { s, map } = rig('ue5');
    const clip = walkClip(s, map, 1.5, 30);
    const Jr = s.names.length;
    const positions = new Float64Array(clip.numFrames * Jr * 3);
    const rotations = new Float64Array(clip.numFrames * Jr * 4);
    clipForwardKinematics(s, clip, positions, rotations);
    const pos = new Float64Array(Jr * 3), rot = new Float64Array(Jr * 4);
    for (let f = 0; f < clip.numFrames; f++) {
      forwardKinematics(s, clip.rotations, clip.rootPositions.subarray(f * 3, f * 3 + 3), pos, rot, f * Jr);
      expect(Array.from(positions.subarray(f * Jr * 3, (f + 1) * Jr * 3))).toEqual(Array.from(pos));
      expect(Array.from(rotations.subarray(f * Jr * 4, (f + 1) * Jr * 4))).toEqual(Array.from(rot));
    }
  });

  it('footContacts given the clip world positions flags the same frames as computing them itself', () => {
    const { s, map } = rig('mixamo');
    const clip = walkClip(s, map, 3, 30);
    const joints = [map.left.foot, map.right.foot];
    const shared = footContacts(s, clip, joints, { worldPositions: clipWorldPositions(s, clip) });
    expect(shared).toEqual(footContacts(s, clip, joints));
    expect(shared.flat().some(Boolean)).toBe(true);
  });
});

describe('mapHumanoid memo', () => {
  it('maps a rebuilt copy of a skeleton the same way, and a caller changing its map does not change the next one', () => {
    const first = mapHumanoid(fixtureSkeleton('vrm'));
    const expected = structuredClone(first);
    first.left.foot = -1;
    (first.spine as number[]).push(-1);
    expect(mapHumanoid(fixtureSkeleton('vrm'))).toEqual(expected);
  });

  it('keeps no failures: a rig collapsed to one point throws on every call, after its healthy twin mapped', () => {
    const s = fixtureSkeleton('mixamo');
    mapHumanoid(s);
    const collapsed = { ...s, offsets: new Float64Array(s.offsets.length) };
    expect(() => mapHumanoid(collapsed)).toThrow();
    expect(() => mapHumanoid(collapsed)).toThrow();
  });
});
