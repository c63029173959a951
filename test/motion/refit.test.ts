/**
 * refitProportions (src/motion/retarget.ts): a clip moved between two rigs with the same joints and other
 * bone lengths, here the DeepMotion fixture character and the SayMotion model's advertised canonical rig
 * (longer shins, hips 2.5 cm higher).
 */
import { describe, expect, it } from 'vitest';
import type { Clip, Skeleton } from '../../src/spec/motion.js';
import { DEEPMOTION_SKELETON } from '../../src/adapters/saymotion/rig.js';
import { clipWorldPositions } from '../../src/motion/clip.js';
import { footModel, footPointAt } from '../../src/motion/foot.js';
import { mapHumanoid } from '../../src/motion/humanoid.js';
import { legPose } from '../../src/motion/plant.js';
import { qget, qset, qz } from '../../src/motion/quat.js';
import { refitProportions } from '../../src/motion/retarget.js';
import { restPositions } from '../../src/motion/skeleton.js';
import { rig, walkClip } from './walk.js';

const source = rig('deepmotion');
const target = { s: DEEPMOTION_SKELETON, map: mapHumanoid(DEEPMOTION_SKELETON) };

/** The lowest sole point of either foot over the rig's floor, any frame. */
function lowestSole(s: Skeleton, clip: Clip): number {
  const map = mapHumanoid(s), fm = footModel(s, map), pose = legPose(s, map, clip), J = s.names.length;
  const p = new Float64Array(3);
  let low = Infinity;
  for (let f = 0; f < clip.numFrames; f++) {
    for (const side of fm.sides) for (const point of side) { footPointAt(point, J, pose.positions, pose.rotations, f, p); low = Math.min(low, p[1] - fm.floor); }
  }
  return low;
}

describe('refitProportions', () => {
  const clip = walkClip(source.s, source.map);
  const rs = restPositions(source.s), rt = restPositions(target.s);
  const ratio = rt[target.map.hips * 3 + 1] / rs[source.map.hips * 3 + 1];

  it('the rigs differ: played as it is on the longer legs, the walk puts the feet under the floor', () => {
    expect(ratio).toBeGreaterThan(1.02);
    expect(lowestSole(source.s, clip)).toBeGreaterThan(-0.005);
    expect(lowestSole(target.s, clip)).toBeLessThan(-0.02);
  });

  it('keeps every local rotation without planting, and the hips travel scaled by the hip heights', () => {
    const out = refitProportions(source.s, source.map, clip, target.s, target.map, { plantFeet: false });
    expect(Array.from(out.rotations)).toEqual(Array.from(clip.rotations));
    const J = source.s.names.length, h = source.map.hips;
    const ws = clipWorldPositions(source.s, clip), wt = clipWorldPositions(target.s, out);
    for (let f = 0; f < clip.numFrames; f += 7) {
      for (let k = 0; k < 3; k++) {
        const moved = ws[(f * J + h) * 3 + k] - rs[h * 3 + k];
        expect(wt[(f * J + h) * 3 + k] - rt[h * 3 + k], `frame ${f} axis ${k}`).toBeCloseTo(moved * ratio, 9);
      }
    }
  });

  it('re-plants the feet on the target floor: no sole point under it, fingers still as the source moves them', () => {
    // A finger curling through the walk: no humanoid role, so only a joint-for-joint transfer keeps it.
    const J = source.s.names.length, finger = source.s.names.indexOf('l_handIndex2_JNT');
    const curled = { ...clip, rotations: clip.rotations.slice() };
    for (let f = 0; f < clip.numFrames; f++) qset(curled.rotations, f * J + finger, qz(0.6 * Math.sin(f / 5)));
    const out = refitProportions(source.s, source.map, curled, target.s, target.map);
    expect(lowestSole(target.s, out)).toBeGreaterThan(-0.002);
    for (let f = 0; f < clip.numFrames; f++) expect(qget(out.rotations, f * J + finger)).toEqual(qget(curled.rotations, f * J + finger));
  });
});
