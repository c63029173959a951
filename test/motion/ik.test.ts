import { describe, expect, it } from 'vitest';
import { solveTwoBone } from '../../src/motion/ik.js';
import { forwardKinematics, skeletonFromWire } from '../../src/motion/skeleton.js';
import { vget, vlen, vsub, type Vec3 } from '../../src/motion/quat.js';

const leg = skeletonFromWire([
  { name: 'Hips', parent: null, rest_translation: [0, 1, 0] },
  { name: 'UpLeg', parent: 'Hips', rest_translation: [0.1, -0.05, 0] },
  { name: 'Leg', parent: 'UpLeg', rest_translation: [0, -0.45, 0] },
  { name: 'Foot', parent: 'Leg', rest_translation: [0, -0.42, 0] },
]);

function endPos(rot: Float64Array, root: Vec3): { foot: Vec3; knee: Vec3 } {
  const pos = new Float64Array(12);
  forwardKinematics(leg, rot, root, pos);
  return { foot: vget(pos, 3), knee: vget(pos, 2) };
}

describe('solveTwoBone', () => {
  const identity = () => Float64Array.from([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]);
  it('reaches reachable targets, bending the knee toward the pole', () => {
    for (const target of [[0.1, 0.2, 0.2], [0.15, 0.3, -0.1], [0.05, 0.1, 0.05]] as Vec3[]) {
      const rot = identity();
      const residual = solveTwoBone(leg, rot, 0, [0, 1, 0], { upper: 1, mid: 2, end: 3 }, target, { poleHint: [0, 0, 1] });
      const { foot, knee } = endPos(rot, [0, 1, 0]);
      expect(residual).toBeLessThan(1e-6);
      expect(vlen(vsub(foot, target))).toBeLessThan(1e-6);
      expect(knee[2]).toBeGreaterThan(Math.min(target[2], 0) - 1e-9);
    }
  });
  it('clamps unreachable targets to the limb length and reports the residual', () => {
    const rot = identity();
    const residual = solveTwoBone(leg, rot, 0, [0, 1, 0], { upper: 1, mid: 2, end: 3 }, [0.1, -1, 0], { poleHint: [0, 0, 1] });
    expect(residual).toBeGreaterThan(0.05);
    const { foot } = endPos(rot, [0, 1, 0]);
    expect(foot[1]).toBeCloseTo(0.95 - 0.87 * 0.99995, 3);
  });
});
