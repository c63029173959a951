/**
 * A SayMotion walk's feet over HTTP: the simulator's character is not the advertised canonical rig (its
 * legs are shorter), and the answer, on the canonical skeleton or retargeted onto Mixamo, still puts no
 * sole point of either foot under the floor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { footModel, footPointAt } from '../../../src/motion/foot.js';
import { mapHumanoid } from '../../../src/motion/humanoid.js';
import { legPose } from '../../../src/motion/plant.js';
import { readAnswer } from '../../../src/tools/read-answer.js';
import { FIXTURE_RIGS } from '../../fixtures/skeletons/index.js';
import { canonicalSkeleton, generateGlb } from '../../helpers/gateway.js';
import { setup, type Setup } from './harness.js';

const FPS = 30;
const FRAMES = 180;

let s: Setup;
beforeAll(async () => {
  s = await setup();
});
afterAll(() => s.close());

/** Per foot (left, right), the lowest sole point over the answer's floor on any frame. */
async function lowestSoles(skeleton: unknown): Promise<number[]> {
  const body = {
    protocol_version: '1.3',
    model: 'saymotion',
    skeleton,
    segments: [{ type: 'text', prompt: 'walk forward', duration_frames: FRAMES }],
    timing: { fps: FPS },
    options: { seed: 5 },
  };
  const a = await readAnswer((await generateGlb(s.gw.url, body)).bytes, FPS);
  const sk = a.skeleton, map = mapHumanoid(sk), clip = a.samples[0].clip;
  expect(clip.numFrames).toBe(FRAMES);
  const fm = footModel(sk, map), pose = legPose(sk, map, clip), J = sk.names.length;
  const p = new Float64Array(3);
  return fm.sides.map((points) => {
    let low = Infinity;
    for (let f = 0; f < clip.numFrames; f++) {
      for (const point of points) {
        footPointAt(point, J, pose.positions, pose.rotations, f, p);
        low = Math.min(low, p[1] - fm.floor);
      }
    }
    return low;
  });
}

describe('a SayMotion walk stands on the floor', () => {
  it('on the canonical skeleton: no sole point of either foot more than 1 cm under the floor', async () => {
    const [left, right] = await lowestSoles(await canonicalSkeleton(s.gw.url, 'saymotion'));
    expect(left, 'left foot').toBeGreaterThanOrEqual(-0.01);
    expect(right, 'right foot').toBeGreaterThanOrEqual(-0.01);
  });

  it('retargeted onto Mixamo: no sole point of either foot more than 1 cm under the floor', async () => {
    const [left, right] = await lowestSoles(FIXTURE_RIGS.mixamo);
    expect(left, 'left foot').toBeGreaterThanOrEqual(-0.01);
    expect(right, 'right foot').toBeGreaterThanOrEqual(-0.01);
  });
});
