/** The ground of a ground_height constraint (src/motion/ground.ts): piecewise-linear along the points as a path. */
import { describe, expect, it } from 'vitest';
import { groundHeightAt, groundHeightAtProfiles } from '../../src/motion/ground.js';

// The reference tests' "run and jump down": flat to z = 3, a 0.6 m drop by z = 4.5, flat to z = 7.
const JUMP_DOWN = Float64Array.from([0, 0, 0, 0, 3, 0, 0, 4.5, -0.6, 0, 7, -0.6]);

describe('groundHeightAt', () => {
  it('returns the given height at every point', () => {
    for (let i = 0; i < 4; i++) expect(groundHeightAt(JUMP_DOWN, JUMP_DOWN[i * 3], JUMP_DOWN[i * 3 + 1])).toBeCloseTo(JUMP_DOWN[i * 3 + 2], 12);
  });

  it('keeps flat stretches exactly flat and ramps linearly between points', () => {
    for (const z of [0.5, 1, 2, 2.9, 3]) expect(groundHeightAt(JUMP_DOWN, 0, z)).toBe(0);
    for (const z of [4.5, 5, 6.9]) expect(groundHeightAt(JUMP_DOWN, 0, z)).toBeCloseTo(-0.6, 12);
    expect(groundHeightAt(JUMP_DOWN, 0, 3.75)).toBeCloseTo(-0.3, 12);
    expect(groundHeightAt(JUMP_DOWN, 0, 3.3)).toBeCloseTo(-0.12, 12);
  });

  it('is level across the path: a place beside it takes the height at its projection', () => {
    expect(groundHeightAt(JUMP_DOWN, 0.4, 3.75)).toBeCloseTo(-0.3, 12);
    expect(groundHeightAt(JUMP_DOWN, -1.2, 1)).toBe(0);
    expect(groundHeightAt(JUMP_DOWN, 2, 6)).toBeCloseTo(-0.6, 12);
  });

  it('continues the end heights past either end of the path', () => {
    expect(groundHeightAt(JUMP_DOWN, 0, -5)).toBe(0);
    expect(groundHeightAt(JUMP_DOWN, 0, 40)).toBeCloseTo(-0.6, 12);
  });

  it('treats one point as level ground at its height, far away included', () => {
    const one = [100, 100, -3];
    expect(groundHeightAt(one, 0, 0)).toBe(-3);
    expect(groundHeightAt(one, 100, 100)).toBe(-3);
  });

  it('follows a path that turns: the nearest segment decides', () => {
    // East along x at height 0.2, then north along z rising to 1.0.
    const L = [0, 0, 0.2, 4, 0, 0.2, 4, 4, 1.0];
    expect(groundHeightAt(L, 2, 0.3)).toBeCloseTo(0.2, 12);
    expect(groundHeightAt(L, 4.3, 2)).toBeCloseTo(0.6, 12);
    expect(groundHeightAt(L, 3.9, 3)).toBeCloseTo(0.8, 12);
  });

  it('survives repeated points (zero-length segments)', () => {
    expect(groundHeightAt([0, 0, 0.5, 0, 0, 0.5, 0, 2, 1.5], 0, 1)).toBeCloseTo(1, 12);
  });

  it('refuses an empty profile', () => {
    expect(() => groundHeightAt([], 0, 0)).toThrow(RangeError);
  });
});

describe('groundHeightAtProfiles', () => {
  it('takes the height of the profile passing nearest', () => {
    const a = [0, 0, 0, 0, 10, 0]; // along z at x = 0, level 0
    const b = [5, 0, 0.5, 5, 10, 0.5]; // along z at x = 5, level 0.5
    expect(groundHeightAtProfiles([a, b], 1, 3)).toBe(0);
    expect(groundHeightAtProfiles([a, b], 4, 3)).toBe(0.5);
    expect(groundHeightAtProfiles([a, b], 2.5, 3)).toBe(0); // a tie: the first profile
  });
});
