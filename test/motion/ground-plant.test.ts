/**
 * The ground_height constraint applied by the toolkit (src/motion/ground-plant.ts through applyConstraints):
 * a procedural walk along +Z over a 0.3 m step up and then a 0.6 m drop, on the procedural rig and on a
 * fixture rig after retargeting; flat ground leaves the motion as it is.
 */
import { describe, expect, it } from 'vitest';
import { generateMotion } from '../../src/adapters/procedural/generate.js';
import { PROCEDURAL_SKELETON } from '../../src/adapters/procedural/rig.js';
import { cleanupFootSkate, feetContacts } from '../../src/motion/cleanup.js';
import { clipWorldPositions } from '../../src/motion/clip.js';
import { applyConstraints } from '../../src/motion/constraints.js';
import { footModel, footPointAt } from '../../src/motion/foot.js';
import { groundAtProfiles, groundHeightAt, heightsOverGround } from '../../src/motion/ground.js';
import { mapHumanoid, type HumanoidMap } from '../../src/motion/humanoid.js';
import { legPose, type SoleContacts } from '../../src/motion/plant.js';
import { measureClip, OFF_HINGE_BOUND } from '../../src/motion/quality.js';
import { retarget } from '../../src/motion/retarget.js';
import { skeletonFromWire } from '../../src/motion/skeleton.js';
import type { Clip, Skeleton } from '../../src/spec/motion.js';
import type { Constraint, GenerateRequest } from '../../src/spec/wire.js';
import { createProceduralAdapter, generatePlan } from '../../src/adapters/procedural/index.js';
import { renderSamples } from '../../src/motion/pipeline.js';
import { rootMotionRig } from '../../src/motion/root-motion.js';
import { IK_GAP_BOUND } from '../../src/motion/quality.js';
import { buildPlan } from '../../src/protocol/plan.js';
import { FIXTURE_RIGS } from '../fixtures/skeletons/index.js';

const FPS = 30;
const FRAMES = 180;
/** Flat to z = 1.5, a 0.3 m step up to z = 4, then a 0.6 m drop (to −0.3): a 6 s walk covers about 7.5 m. */
const STEPS: [number, number, number][] = [[0, -2, 0], [0, 1.5, 0], [0, 1.51, 0.3], [0, 4, 0.3], [0, 4.01, -0.3], [0, 12, -0.3]];
const ground = (points: [number, number, number][]): Constraint => ({ type: 'ground_height', points: points as [[number, number, number], ...[number, number, number][]] });

/** The walk as the pipeline hands it to the constraints: cleaned on its own rig, retargeted when a target is given. */
function walkOn(target?: Skeleton): { s: Skeleton; map: HumanoidMap; clip: Clip } {
  const src = PROCEDURAL_SKELETON;
  const srcMap = mapHumanoid(src);
  const clip = cleanupFootSkate(src, srcMap, generateMotion('walk', FRAMES, FPS, 1, 0).clip);
  if (!target) return { s: src, map: srcMap, clip };
  const map = mapHumanoid(target);
  return { s: target, map, clip: retarget(src, srcMap, clip, target, map).clip };
}

interface SolePoint { k: number; i: number; f: number; x: number; y: number; z: number; down: boolean }

/** Every sole point of every frame, by forward kinematics, with the input's contact flags. */
function solePoints(s: Skeleton, map: HumanoidMap, clip: Clip, contacts: SoleContacts): SolePoint[] {
  const fm = footModel(s, map);
  const pose = legPose(s, map, clip);
  const J = s.names.length;
  const p = new Float64Array(3);
  const out: SolePoint[] = [];
  for (let k = 0; k < 2; k++) for (let i = 0; i < 3; i++) for (let f = 0; f < clip.numFrames; f++) {
    footPointAt(fm.sides[k][i], J, pose.positions, pose.rotations, f, p);
    out.push({ k, i, f, x: p[0], y: p[1] - fm.floor, z: p[2], down: contacts[k][i][f] === 1 });
  }
  return out;
}

const profile = STEPS.flat();
const G = (x: number, z: number) => groundHeightAt(profile, x, z);

describe.each([
  ['the procedural rig', undefined],
  ['a Mixamo rig (retargeted)', FIXTURE_RIGS.mixamo],
])('a walk over a step up and a drop, on %s', (_label, rig) => {
  const { s, map, clip: flat } = walkOn(rig ? skeletonFromWire(rig.joints) : undefined);
  const contacts = feetContacts(s, map, flat);
  const { clip, residuals } = applyConstraints(s, map, flat, [ground(STEPS)]);
  const points = solePoints(s, map, clip, contacts);

  it('plants the feet on the ground at their place within 2 cm, on every level of it', () => {
    const planted = points.filter((p) => p.down);
    let worst = 0;
    for (const p of planted) worst = Math.max(worst, Math.abs(p.y - G(p.x, p.z)));
    expect(worst).toBeLessThan(0.02);
    // The walk reaches every level: planted points stand on 0, on the step (0.3) and below the drop (−0.3).
    for (const level of [0, 0.3, -0.3]) expect(planted.filter((p) => Math.abs(G(p.x, p.z) - level) < 1e-9).length, `level ${level}`).toBeGreaterThan(20);
    // Reported as measured.
    expect(residuals[0]).toMatchObject({ constraint: 0, type: 'ground_height' });
    expect(residuals[0].max_position_error_m).toBeCloseTo(worst, 4);
    expect(residuals[0].planted_samples).toBe(planted.length);
  });

  it('leaves no sole point under the ground by more than 1 cm, any frame', () => {
    let lowest = Infinity;
    for (const p of points) lowest = Math.min(lowest, p.y - G(p.x, p.z));
    expect(lowest).toBeGreaterThan(-0.01);
    expect(residuals[0].lowest_sole_point_m).toBeCloseTo(lowest, 4);
  });

  it('keeps the hips at their flat-ground height over the level the feet stand on, away from the level changes', () => {
    const J = s.names.length;
    const before = clipWorldPositions(s, flat), after = clipWorldPositions(s, clip);
    // The level of each frame: the ground under the planted points; frames within 0.5 s of a change are left out.
    const level = new Array<number | null>(clip.numFrames).fill(null);
    for (let f = 0; f < clip.numFrames; f++) {
      const hs = points.filter((p) => p.f === f && p.down).map((p) => G(p.x, p.z));
      if (hs.length && Math.max(...hs) - Math.min(...hs) < 1e-9) level[f] = hs[0];
    }
    const W = FPS / 2;
    let checked = 0, worst = 0;
    for (let f = 0; f < clip.numFrames; f++) {
      const around = level.slice(Math.max(0, f - W), f + W + 1).filter((l): l is number => l !== null);
      if (level[f] === null || around.some((l) => l !== level[f])) continue;
      const h = (f * J + map.hips) * 3 + 1;
      worst = Math.max(worst, Math.abs(after[h] - level[f]! - before[h]));
      checked++;
    }
    expect(checked).toBeGreaterThan(40);
    expect(worst).toBeLessThan(0.03);
  });

  it('keeps the knees hinged, and the root without a pop: bounded speed and change of speed per frame', () => {
    expect(measureClip(s, map, clip).knee.offHinge).toBeLessThan(OFF_HINGE_BOUND);
    // A level change taken in one frame would move the root 0.3 m in it (9 m/s, about 270 m/s² on
    // either side); stepping down 0.6 m the hips drop fast and land hard, but over frames.
    const y = (f: number) => clip.rootPositions[f * 3 + 1];
    let speed = 0, accel = 0;
    for (let f = 1; f < clip.numFrames; f++) speed = Math.max(speed, Math.abs(y(f) - y(f - 1)) * FPS);
    for (let f = 1; f + 1 < clip.numFrames; f++) accel = Math.max(accel, Math.abs(y(f + 1) - 2 * y(f) + y(f - 1)) * FPS * FPS);
    expect(speed).toBeLessThan(4.5);
    expect(accel).toBeLessThan(90);
  });
});

describe('flat ground', () => {
  it('leaves the motion exactly as it is', () => {
    const { s, map, clip } = walkOn();
    const { clip: out, residuals } = applyConstraints(s, map, clip, [ground([[0, 0, 0], [0, 10, 0]])]);
    expect(out.rotations).toEqual(clip.rotations);
    expect(out.rootPositions).toEqual(clip.rootPositions);
    expect(residuals[0].planted_samples).toBeGreaterThan(0);
    expect(residuals[0].max_position_error_m).toBeLessThan(0.02);
  });

  it('raises the whole motion by a level ground\'s height', () => {
    const { s, map, clip } = walkOn();
    const { clip: out } = applyConstraints(s, map, clip, [ground([[0, 0, 0.25]])]);
    const a = clipWorldPositions(s, clip), b = clipWorldPositions(s, out);
    let worst = 0;
    for (let o = 0; o < a.length; o += 3) worst = Math.max(worst, Math.abs(b[o] - a[o]), Math.abs(b[o + 1] - a[o + 1] - 0.25), Math.abs(b[o + 2] - a[o + 2]));
    expect(worst).toBeLessThan(1e-6);
  });
});

describe('a floor-level root and IK bones (a UE5 rig), through the pipeline', () => {
  it('stand the root on the ground under it and keep ik_foot_* on the feet', () => {
    const model = createProceduralAdapter().models()[0];
    const request = {
      protocol_version: '1.3',
      model: model.id,
      skeleton: FIXTURE_RIGS.ue5,
      segments: [{ type: 'text', prompt: 'walk forward', duration_frames: FRAMES }],
      constraints: [ground(STEPS)],
      timing: { fps: FPS },
    } as unknown as GenerateRequest;
    const plan = buildPlan(request, model, 'procedural', 1);
    const { target, samples } = renderSamples(plan, { skeleton: PROCEDURAL_SKELETON, samples: generatePlan(plan) });
    const map = mapHumanoid(target);
    const rig = rootMotionRig(target, map);
    expect(rig.floorRoot).not.toBeNull();
    const clip = samples[0].clip;
    const r = clip.rootPositions;
    let off = 0;
    const levels = new Set<number>();
    for (let f = 0; f < clip.numFrames; f++) {
      const h = G(r[f * 3], r[f * 3 + 2]);
      levels.add(h);
      off = Math.max(off, Math.abs(r[f * 3 + 1] - rig.floorRoot!.floorY - h));
    }
    expect(off).toBeLessThan(1e-9);
    for (const level of [-0.3, 0, 0.3]) expect(levels.has(level), `root on ${level}`).toBe(true);
    const q = measureClip(target, map, clip);
    expect(q.ikGap!.gap).toBeLessThan(IK_GAP_BOUND);
    expect(samples[0].extras?.x_constraint_residuals).toMatchObject([{ type: 'ground_height' }]);
  });
});

describe('reading the ground for the pass and its residuals', () => {
  it('names the profile that decides a place, and takes heights over the ground under each joint', () => {
    const a = [0, 0, 0, 0, 10, 0], b = [5, 0, 0.5, 5, 10, 0.5];
    const at = { h: NaN, index: -1 };
    groundAtProfiles([a, b], 1, 3, at);
    expect(at).toEqual({ h: 0, index: 0 });
    groundAtProfiles([a, b], 4, 3, at);
    expect(at).toEqual({ h: 0.5, index: 1 });
    const world = Float64Array.from([1, 0.2, 3, 4, 0.7, 3]);
    expect(Array.from(heightsOverGround(world, [a, b]))).toEqual([1, 0.2, 3, 4, 0.7 - 0.5, 3]);
    expect(Array.from(world)).toEqual([1, 0.2, 3, 4, 0.7, 3]);
  });
});
