import { describe, expect, it } from 'vitest';
import { generateMotion } from '../../src/adapters/procedural/generate.js';
import { PROCEDURAL_SKELETON as S } from '../../src/adapters/procedural/rig.js';
import { restClip } from '../../src/motion/clip.js';
import { mapHumanoid } from '../../src/motion/humanoid.js';
import { qset, qy } from '../../src/motion/quat.js';
import { fitTrajectory } from '../../src/motion/trajectory.js';

const map = mapHumanoid(S);
type Params = { speed: number; heading_deg: number; radius_m: number; turned_deg: number; off_cm: number; speed_range: number[] };

describe('fitTrajectory', () => {
  it('fits a straight walk as a line with its speed', () => {
    const g = generateMotion('walk', 150, 30, 1, 0);
    const t = fitTrajectory(S, map, g.clip, false);
    const p = t.params as Params;
    expect(t.model).toBe('line');
    expect(t.loop).toBe(false);
    expect(p.speed).toBeCloseTo(g.info.speed as number, 1);
    const r = g.clip.rootPositions, L = (g.clip.numFrames - 1) * 3;
    const travel = Math.atan2(-(r[L] - r[0]), r[L + 2] - r[2]) * (180 / Math.PI); // MMCP sign
    expect(Math.abs(p.heading_deg - travel)).toBeLessThan(3);
    expect(Math.abs(p.heading_deg)).toBeLessThan(15);
    expect(p.off_cm).toBeLessThan(5);
    expect((t.position as number[][]).length).toBe(150);
    expect((t.yaw as number[]).length).toBe(150);
    const m = t.markers as { LeftFootDown: number[]; RightFootDown: number[] };
    expect(m.LeftFootDown.length + m.RightFootDown.length).toBeGreaterThan(4);
  });

  it('fits an idle as still', () => {
    const t = fitTrajectory(S, map, generateMotion('idle', 90, 30, 1, 0).clip, true);
    expect(t.model).toBe('still');
    expect(t.loop).toBe(true);
    expect((t.params as Params).speed).toBe(0);
  });

  it('fits a circle as an arc with MMCP signs', () => {
    // Root on a circle of radius 3 m, starting at the origin heading +Z and turning toward −X (MMCP positive).
    const F = 90, fps = 30, r = 3, w = 0.4; // rad/s
    const clip = restClip(S, F, fps);
    for (let f = 0; f < F; f++) {
      const a = (w * f) / fps;
      clip.rootPositions[f * 3] = -r * (1 - Math.cos(a));
      clip.rootPositions[f * 3 + 2] = r * Math.sin(a);
      qset(clip.rotations, f * S.names.length, qy(-a)); // facing the travel: MMCP heading a
    }
    const t = fitTrajectory(S, map, clip, false);
    const p = t.params as Params;
    expect(t.model).toBe('arc');
    expect(p.radius_m).toBeCloseTo(r, 2);
    expect(p.speed).toBeCloseTo(r * w, 2);
    expect(p.heading_deg).toBeCloseTo(0, 0);
    expect(p.turned_deg).toBeCloseTo((w * (F - 1)) / fps * (180 / Math.PI), 0);
    expect((t.yaw as number[])[F - 1]).toBeCloseTo(p.turned_deg, 0);
  });
});
