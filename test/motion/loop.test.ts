import { describe, expect, it } from 'vitest';
import { generateMotion } from '../../src/adapters/procedural/generate.js';
import { PROCEDURAL_SKELETON as S } from '../../src/adapters/procedural/rig.js';
import { makeLoop } from '../../src/motion/loop.js';
import { qangle, qget } from '../../src/motion/quat.js';

const J = S.names.length;
const DEG = 180 / Math.PI;

describe('makeLoop', () => {
  for (const motion of ['walk', 'wave', 'idle'] as const) {
    it(`makes a seamless cycle of ${motion}`, () => {
      const src = generateMotion(motion, 97, 30, 3, 0).clip;
      const loop = makeLoop(S, src);
      const F = loop.numFrames;
      let worstElsewhere = 0;
      let worstSeam = 0;
      for (let j = 0; j < J; j++) {
        expect(qangle(qget(loop.rotations, j), qget(loop.rotations, (F - 1) * J + j)) * DEG).toBeLessThan(1);
        for (let f = 1; f < F; f++) {
          worstElsewhere = Math.max(worstElsewhere, qangle(qget(loop.rotations, (f - 1) * J + j), qget(loop.rotations, f * J + j)));
        }
        // Across the seam the next frame after the last is frame 1 (the last equals frame 0).
        worstSeam = Math.max(worstSeam, qangle(qget(loop.rotations, (F - 1) * J + j), qget(loop.rotations, 1 * J + j)));
      }
      expect(worstSeam).toBeLessThanOrEqual(worstElsewhere + 1e-9);
      // XZ travel kept, height continuous.
      expect(loop.rootPositions[(F - 1) * 3]).toBeCloseTo(src.rootPositions[(F - 1) * 3], 9);
      expect(loop.rootPositions[(F - 1) * 3 + 2]).toBeCloseTo(src.rootPositions[(F - 1) * 3 + 2], 9);
      expect(loop.rootPositions[(F - 1) * 3 + 1]).toBeCloseTo(loop.rootPositions[1], 9);
      for (const v of loop.rotations) expect(Number.isFinite(v)).toBe(true);
    });
  }
});
