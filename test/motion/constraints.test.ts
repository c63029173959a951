import { describe, expect, it } from 'vitest';
import { clipWorldPositions } from '../../src/motion/clip.js';
import { generateMotion } from '../../src/adapters/procedural/generate.js';
import { PROCEDURAL_SKELETON as S } from '../../src/adapters/procedural/rig.js';
import { applyConstraints } from '../../src/motion/constraints.js';
import { cleanupFootSkate, feetContacts } from '../../src/motion/cleanup.js';
import { soleDrift } from '../../src/motion/plant.js';
import { mapHumanoid } from '../../src/motion/humanoid.js';
import { qangle, qget, qx, qyaw, vget } from '../../src/motion/quat.js';
import type { Constraint } from '../../src/spec/wire.js';

const map = mapHumanoid(S);
const J = S.names.length;
const walk = generateMotion('walk', 120, 30, 1, 0).clip;
const idle = generateMotion('idle', 120, 30, 1, 0).clip;
const at = (world: Float64Array, f: number, j: number) => vget(world, f * J + j);

describe('effector_target', () => {
  it('reaches a reachable hand target and blends only around the key', () => {
    const before = clipWorldPositions(S, idle);
    const h = at(before, 40, map.left.hand);
    const target: [number, number, number] = [h[0] + 0.05, h[1] + 0.1, h[2] + 0.1];
    const c: Constraint = { type: 'effector_target', joint: 'LeftHand', frames: [40], positions: [target] };
    const { clip, residuals } = applyConstraints(S, map, idle, [c]);
    expect(residuals[0].type).toBe('effector_target');
    expect(residuals[0].max_position_error_m).toBeLessThan(0.01);
    const after = clipWorldPositions(S, clip);
    expect(Math.hypot(...at(after, 20, map.left.hand).map((v, i) => v - at(before, 20, map.left.hand)[i]))).toBeLessThan(1e-9);
    // Smooth: the hand moves at most a few cm per frame inside the blend window.
    for (let f = 33; f <= 47; f++) {
      const a = at(after, f, map.left.hand), b = at(after, f + 1, map.left.hand);
      expect(Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2])).toBeLessThan(0.06);
    }
  });

  it('reaches foot targets on several frames with the given end rotation', () => {
    const before = clipWorldPositions(S, idle);
    const frames = [60, 62, 64];
    const positions = frames.map((f) => { const p = at(before, f, map.right.foot); return [p[0], p[1] + 0.12, p[2] + 0.1] as [number, number, number]; });
    const rot = qx(-0.3);
    const c = { type: 'effector_target', joint: 'RightFoot', frames, positions, rotations: frames.map(() => rot) } as Constraint;
    const { residuals } = applyConstraints(S, map, idle, [c]);
    expect(residuals[0].max_position_error_m).toBeLessThan(0.01);
    expect(residuals[0].max_rotation_error_deg!).toBeLessThan(0.1);
  });

  it('reports a large residual for an unreachable target and for a joint without a chain', () => {
    const far: Constraint = { type: 'effector_target', joint: 'LeftHand', frames: [30], positions: [[5, 1, 5]] };
    const head: Constraint = { type: 'effector_target', joint: 'Head', frames: [30], positions: [[0, 3, 0]] };
    const { clip, residuals } = applyConstraints(S, map, idle, [far, head]);
    expect(residuals[0].max_position_error_m).toBeGreaterThan(3);
    expect(Number.isFinite(residuals[0].max_position_error_m)).toBe(true);
    expect(residuals[1].max_position_error_m).toBeGreaterThan(1);
    for (const v of clip.rotations) expect(Number.isFinite(v)).toBe(true);
  });

  it('aims an elbow target (best effort) close to reachable positions', () => {
    const before = clipWorldPositions(S, idle);
    const e = at(before, 50, map.left.forearm);
    const s = at(before, 50, map.left.upperArm);
    const d = [e[0] - s[0], e[1] - s[1] + 0.1, e[2] - s[2] + 0.1];
    const k = Math.hypot(e[0] - s[0], e[1] - s[1], e[2] - s[2]) / Math.hypot(d[0], d[1], d[2]);
    const c: Constraint = { type: 'effector_target', joint: 'LeftForeArm', frames: [50], positions: [[s[0] + d[0] * k, s[1] + d[1] * k, s[2] + d[2] * k]] };
    const { residuals } = applyConstraints(S, map, idle, [c]);
    expect(residuals[0].max_position_error_m).toBeLessThan(0.02);
  });
});

describe('pose_keyframe', () => {
  it('sets the listed joints at the frame, blended in and out', () => {
    const q = qx(-1.2);
    const c: Constraint = { type: 'pose_keyframe', frame: 50, joint_rotations: { LeftForeArm: q }, fill_mode: 'generate' };
    const { clip, residuals } = applyConstraints(S, map, idle, [c]);
    expect(residuals[0].max_rotation_error_deg!).toBeLessThan(0.01);
    const j = S.names.indexOf('LeftForeArm');
    expect(qangle(qget(clip.rotations, 40 * J + j), qget(idle.rotations, 40 * J + j))).toBeLessThan(1e-9);
    const mid = qangle(qget(clip.rotations, 47 * J + j), q);
    expect(mid).toBeGreaterThan(0.01);
    expect(mid).toBeLessThan(qangle(qget(idle.rotations, 47 * J + j), q));
  });

  it("fill_mode 'rest' pins other joints to rest and moves the root", () => {
    const c: Constraint = { type: 'pose_keyframe', frame: 30, joint_rotations: { RightArm: qx(0.5) }, root_position: [0.2, 0.9, 0.1], fill_mode: 'rest' };
    const { clip, residuals } = applyConstraints(S, map, walk, [c]);
    expect(residuals[0].max_rotation_error_deg!).toBeLessThan(0.01);
    expect(residuals[0].max_position_error_m).toBeLessThan(1e-6);
    const other = S.names.indexOf('LeftLeg');
    expect(qangle(qget(clip.rotations, 30 * J + other), [0, 0, 0, 1])).toBeLessThan(1e-6);
  });
});

describe('root_path', () => {
  it('follows a curving path, turns toward travel and introduces no foot sliding', () => {
    const keys = [0, 60, 119];
    const positions: Array<[number, number]> = [[0, 0], [0.4, 2.2], [1.4, 4.2]];
    const c = { type: 'root_path', frames: keys, positions_xz: positions } as Constraint;
    const contacts = feetContacts(S, map, walk);
    const { clip, residuals } = applyConstraints(S, map, walk, [c]);
    expect(residuals[0].max_position_error_m).toBeLessThan(0.01);
    // Every sole point (heel, ball, toe tip) stays put within 1 cm while it is down, and none goes under the floor.
    const { drift, lowest } = soleDrift(S, map, clip, contacts);
    expect(drift).toBeLessThan(0.01);
    expect(lowest).toBeGreaterThan(-0.002);
    // The body turned toward +X (qyaw positive toward +X) on the way to the last key.
    const yawEnd = qyaw(qget(clip.rotations, 110 * J));
    const dir = Math.atan2(1.0, 2.0);
    expect(Math.abs(yawEnd - dir)).toBeLessThan(0.35);
  });

  it('takes headings (MMCP sign) and keeps the offset outside the keys', () => {
    const c: Constraint = { type: 'root_path', frames: [30, 90], positions_xz: [[0.5, 0.5], [0.7, 0.5]], heading_radians: [0, Math.PI / 2] };
    const { clip, residuals } = applyConstraints(S, map, idle, [c]);
    expect(residuals[0].max_position_error_m).toBeLessThan(0.005);
    expect(residuals[0].max_rotation_error_deg!).toBeLessThan(1);
    // MMCP +π/2 turns +Z toward −X: qyaw −π/2.
    expect(qyaw(qget(clip.rotations, 90 * J))).toBeCloseTo(-Math.PI / 2, 1);
    const off = (f: number) => clip.rootPositions[f * 3] - idle.rootPositions[f * 3];
    expect(off(0)).toBeCloseTo(off(30), 6);
    expect(off(119)).toBeCloseTo(off(90), 6);
  });
});

describe('cleanupFootSkate', () => {
  it('holds every planted sole point within 1 cm of where it landed, never under the floor, on a skating walk', () => {
    // Add skate: push the root forward a little faster than the feet.
    const skated = { ...walk, rotations: walk.rotations.slice(), rootPositions: walk.rootPositions.slice() };
    for (let f = 0; f < skated.numFrames; f++) skated.rootPositions[f * 3 + 2] *= 1.06;
    const contacts = feetContacts(S, map, skated);
    const before = soleDrift(S, map, skated, contacts);
    expect(before.drift).toBeGreaterThan(0.03);
    const after = soleDrift(S, map, cleanupFootSkate(S, map, skated), contacts);
    expect(after.drift).toBeLessThan(0.01);
    expect(after.lowest).toBeGreaterThan(-0.002);
  });
});
