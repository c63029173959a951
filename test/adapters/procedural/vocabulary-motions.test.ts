/** Every motion of the vocabulary on the canonical rig: every sole point (heel, ball, toe tip) and joint on or above the floor, finite, unit quaternions. */
import { describe, expect, it } from 'vitest';
import { generateMotion } from '../../../src/adapters/procedural/generate.js';
import { MOTION_IDS, understand } from '../../../src/adapters/procedural/prompt.js';
import { PROCEDURAL_SKELETON } from '../../../src/adapters/procedural/rig.js';
import { footModel, footPointAt } from '../../../src/motion/foot.js';
import { mapHumanoid } from '../../../src/motion/humanoid.js';
import { clipForwardKinematics } from '../../../src/motion/skeleton.js';
import type { Clip } from '../../../src/spec/motion.js';

const FEET = footModel(PROCEDURAL_SKELETON, mapHumanoid(PROCEDURAL_SKELETON));

/** Lowest sole point and lowest joint over a clip (metres), by forward kinematics. */
function lowest(c: Clip): { sole: number; joint: number } {
  const J = c.jointCount;
  const P = new Float64Array(c.numFrames * J * 3);
  const R = new Float64Array(c.numFrames * J * 4);
  clipForwardKinematics(PROCEDURAL_SKELETON, c, P, R);
  const out = new Float64Array(3);
  let sole = Infinity;
  let joint = Infinity;
  for (let f = 0; f < c.numFrames; f++) {
    for (const side of FEET.sides) for (const p of side) {
      footPointAt(p, J, P, R, f, out);
      sole = Math.min(sole, out[1]);
    }
    for (let j = 0; j < J; j++) joint = Math.min(joint, P[(f * J + j) * 3 + 1]);
  }
  return { sole, joint };
}

function checkFinite(c: Clip): void {
  for (const v of c.rootPositions) expect(Number.isFinite(v)).toBe(true);
  for (let i = 0; i < c.numFrames * c.jointCount; i++) {
    const o = i * 4;
    const n = Math.hypot(c.rotations[o], c.rotations[o + 1], c.rotations[o + 2], c.rotations[o + 3]);
    expect(Math.abs(n - 1)).toBeLessThan(1e-9);
  }
}

describe('every motion on the canonical rig', () => {
  for (const motion of MOTION_IDS) {
    it(`${motion}: every sole point ≥ −1 cm, every joint ≥ −1 cm, finite, unit quaternions (3 seeds, 2 lengths)`, () => {
      for (const [frames, seed] of [[150, 3], [150, 123456], [61, 77]] as const) {
        const g = generateMotion(motion, frames, 30, seed, seed % 4);
        checkFinite(g.clip);
        const low = lowest(g.clip);
        expect(low.sole).toBeGreaterThan(-0.01);
        expect(low.joint).toBeGreaterThan(-0.01);
      }
    });
  }

  it('with manners and moods (zombie, limping, sneaking, tired, angry, happy, slowly) the feet stay above the floor too', () => {
    for (const prompt of ['zombie dance', 'wave while limping', 'sneakily look around', 'tired squat', 'angry jump', 'happily skip', 'slowly climb stairs', 'zombie run']) {
      const u = understand(prompt);
      const g = generateMotion(u.motion, 120, 30, 5, 0, u.modifiers);
      checkFinite(g.clip);
      expect(lowest(g.clip).sole).toBeGreaterThan(-0.01);
    }
  });
});
