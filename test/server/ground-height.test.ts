/**
 * The MMCP 1.3 ground_height constraint over HTTP, for every model: a walk along +Z over a 0.3 m step up
 * and then a 0.6 m drop, on the procedural model and through the SayMotion and Meshy simulators. The
 * answer is read as a client reads it (GLB, forward kinematics, MMCP_motion's contacts and residuals)
 * and set against the same request on flat ground: the feet the answer says are down stand on the
 * ground's height at their place as the flat walk's stand on the floor, on every level of it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clipWorldPositions } from '../../src/motion/clip.js';
import { footModel, footPointAt } from '../../src/motion/foot.js';
import { groundHeightAt } from '../../src/motion/ground.js';
import { mapHumanoid } from '../../src/motion/humanoid.js';
import { legPose } from '../../src/motion/plant.js';
import { readAnswer } from '../../src/tools/read-answer.js';
import { canonicalSkeleton, generateGlb, postGenerate, startGateway, type Running } from '../helpers/gateway.js';
import { withProviderSimulators } from '../helpers/providers.js';

const FPS = 30;
const FRAMES = 180;
/** Flat to z = 1.5, a 0.3 m step up to z = 4, then a 0.6 m drop (to −0.3); the walks cover about 7 m in 6 s. */
const POINTS = [[0, -2, 0], [0, 1.5, 0], [0, 1.51, 0.3], [0, 4, 0.3], [0, 4.01, -0.3], [0, 12, -0.3]];
const PROFILE = POINTS.flat();
const G = (x: number, z: number) => groundHeightAt(PROFILE, x, z);

type Answer = Awaited<ReturnType<typeof readAnswer>>;

/** The walk's answer over the steps, and the same request (same seed) on flat ground. */
async function walkOverSteps(url: string, model: string): Promise<{ flat: Answer; steps: Answer }> {
  const body = {
    protocol_version: '1.3',
    model,
    skeleton: await canonicalSkeleton(url, model),
    segments: [{ type: 'text', prompt: 'walk forward', duration_frames: FRAMES }],
    timing: { fps: FPS },
    options: { seed: 5 },
  };
  const [flat, steps] = await Promise.all([
    generateGlb(url, body),
    generateGlb(url, { ...body, constraints: [{ type: 'ground_height', points: POINTS }] }),
  ]);
  return { flat: await readAnswer(flat.bytes, FPS), steps: await readAnswer(steps.bytes, FPS) };
}

/**
 * Per foot and frame, the lowest sole point's height over the ground under it (`ground`) or over the
 * floor, that ground's height, and whether the answer's foot_contacts say the foot is down.
 */
function feet(a: Answer, ground: boolean) {
  const s = a.skeleton;
  const map = mapHumanoid(s);
  const clip = a.samples[0].clip;
  const fm = footModel(s, map);
  const pose = legPose(s, map, clip);
  const J = s.names.length;
  const contacts = (a.motion as any).samples[0].foot_contacts as Record<string, boolean[]>;
  const p = new Float64Array(3);
  return [map.left, map.right].map((side, k) => {
    const flags = contacts[s.names[side.foot]];
    expect(flags, `contacts of ${s.names[side.foot]}`).toHaveLength(clip.numFrames);
    return Array.from({ length: clip.numFrames }, (_, f) => {
      let gap = Infinity, level = 0;
      for (const point of fm.sides[k]) {
        footPointAt(point, J, pose.positions, pose.rotations, f, p);
        const h = ground ? G(p[0], p[2]) : 0;
        if (p[1] - fm.floor - h < gap) { gap = p[1] - fm.floor - h; level = h; }
      }
      return { gap, level, down: flags[f] };
    });
  });
}

/**
 * The walk over the steps against the same walk on flat ground: the feet the answer says are down stand
 * on the ground's height as the flat walk's stand on the floor (within 2 cm), on every level of the
 * ground when the model plants its feet; no sole point lower under the ground than the flat walk's under
 * the floor; the hips over the middle of each level as high as on flat ground; the residuals reported.
 */
function expectOnTheSteps({ flat, steps }: { flat: Answer; steps: Answer }, plants: boolean) {
  const before = feet(flat, false), after = feet(steps, true);
  let both = 0, lowBefore = Infinity, lowAfter = Infinity;
  for (let k = 0; k < 2; k++) {
    for (let f = 0; f < FRAMES; f++) {
      lowBefore = Math.min(lowBefore, before[k][f].gap);
      lowAfter = Math.min(lowAfter, after[k][f].gap);
      if (!after[k][f].down || !before[k][f].down) continue;
      expect(Math.abs(after[k][f].gap - before[k][f].gap), `foot ${k} frame ${f}`).toBeLessThan(0.02);
      both++;
    }
  }
  expect(lowAfter).toBeGreaterThan(lowBefore - 0.01);
  const residual = (steps.motion as any).samples[0].x_constraint_residuals;
  expect(residual).toHaveLength(1);
  expect(residual[0]).toMatchObject({ constraint: 0, type: 'ground_height' });
  expect(residual[0].lowest_sole_point_m).toBeCloseTo(lowAfter, 2);
  if (plants) {
    expect(both).toBeGreaterThan(50);
    // Down on every level: the contacts are read over the ground, and the feet stand on each step.
    const down = after.flat().filter((x) => x.down);
    for (const level of [0, 0.3, -0.3]) expect(down.filter((x) => Math.abs(x.level - level) < 1e-9).length, `frames down at ${level} m`).toBeGreaterThan(5);
    // Within 2 cm, beyond the depth the model's own walk already puts a foot under the flat floor.
    expect(residual[0].max_position_error_m).toBeLessThan(0.02 + Math.max(0, -lowBefore));
    expect(residual[0].planted_samples).toBeGreaterThan(50);
  }
  // The hips over the middle of the step and well past the drop (where the walk has settled on each level).
  const hips = (a: Answer, f: number) => {
    const j = mapHumanoid(a.skeleton).hips, J = a.skeleton.names.length;
    const w = clipWorldPositions(a.skeleton, a.samples[0].clip);
    return [w[(f * J + j) * 3], w[(f * J + j) * 3 + 1], w[(f * J + j) * 3 + 2]];
  };
  let checked = 0;
  for (let f = 0; f < FRAMES; f++) {
    const [x, y, z] = hips(flat, f);
    if (!((z > 2.5 && z < 3) || z > 5.5)) continue;
    const [x2, y2, z2] = hips(steps, f);
    expect(Math.hypot(x2 - x, z2 - z)).toBeLessThan(1e-3);
    expect(Math.abs(y2 - G(x2, z2) - y), `hips at frame ${f}`).toBeLessThan(0.05);
    checked++;
  }
  expect(checked).toBeGreaterThan(10);
}

describe('ground_height on the procedural model', () => {
  let g: Running;
  beforeAll(async () => {
    g = await startGateway();
  });
  afterAll(() => g.close());

  it('is listed in supported_constraints', async () => {
    const caps = await (await fetch(`${g.url}/capabilities`)).json();
    for (const m of caps.models) expect(m.supported_constraints, m.id).toContain('ground_height');
  });

  it('plants a walk\'s feet on a step up and below a drop', async () => {
    expectOnTheSteps(await walkOverSteps(g.url, 'procedural'), true);
  });

  it('still refuses a malformed ground profile (422), and takes a point off the path (200)', async () => {
    const skeleton = await canonicalSkeleton(g.url);
    const base = { protocol_version: '1.3', model: 'procedural', skeleton, segments: [{ type: 'text', prompt: 'walk', duration_frames: 30 }] };
    const bad = await postGenerate(g.url, { ...base, constraints: [{ type: 'ground_height', points: [[0, 0]] }] });
    expect(bad.status).toBe(422);
    expect((await bad.json()).error.code).toBe('schema_validation');
    const far = await postGenerate(g.url, { ...base, constraints: [{ type: 'ground_height', points: [[100, 100, -3]] }] }, { accept: 'model/gltf+json' });
    expect(far.status).toBe(200);
    const residual = (await far.json()).extensions.MMCP_motion.samples[0].x_constraint_residuals[0];
    // A single point is level ground everywhere: the whole walk stands 3 m lower, on it.
    expect(residual.type).toBe('ground_height');
    expect(residual.max_position_error_m).toBeLessThan(0.02);
  });
});

describe('ground_height through the provider simulators', () => {
  const p = withProviderSimulators();

  it('SayMotion lists it and its walk is carried onto the steps', async () => {
    const caps = await (await fetch(`${p.say.gw.url}/capabilities`)).json();
    expect(caps.models.find((m: any) => m.id === 'saymotion').supported_constraints).toContain('ground_height');
    expectOnTheSteps(await walkOverSteps(p.say.gw.url, 'saymotion'), true);
  });

  // The simulator's Meshy walk swings its legs while the root glides: no foot is ever still, so nothing
  // is planted, and the body is carried over the ground.
  it('Meshy lists it and its walk is carried over the steps', async () => {
    const caps = await (await fetch(`${p.meshy.url}/capabilities`)).json();
    expect(caps.models.find((m: any) => m.id === 'meshy').supported_constraints).toContain('ground_height');
    expectOnTheSteps(await walkOverSteps(p.meshy.url, 'meshy'), false);
  });
});
