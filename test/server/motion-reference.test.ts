/**
 * motion_reference segments spliced by the gateway's pipeline, for every model: a Mixamo clip (its own
 * rig) between two text segments, answered on a third rig (VRM), checked by forward kinematics against
 * the reference; the same clip sent at 60 fps; the procedural model, and SayMotion and Meshy through
 * their simulators (which generate only the text segments: the reference costs no provider work).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clipWorldPositions } from '../../src/motion/clip.js';
import { mapHumanoid } from '../../src/motion/humanoid.js';
import { skeletonFromWire } from '../../src/motion/skeleton.js';
import { readAnswer } from '../../src/tools/read-answer.js';
import type { Clip, Skeleton } from '../../src/spec/motion.js';
import { FIXTURE_RIGS } from '../fixtures/skeletons/index.js';
import { generateGlb, startGateway, type Running } from '../helpers/gateway.js';
import { withProviderSimulators } from '../helpers/providers.js';

const SOURCE = FIXTURE_RIGS.mixamo;
const TARGET = FIXTURE_RIGS.vrm;
const SEG = 30;
const DEG = Math.PI / 180;

/** The reference: the left arm raised from the T-pose by 0…80° about +Z, and the hips travelling 2 cm/frame. */
function reference(fps: number) {
  const frames = (SEG * fps) / 30;
  const names = SOURCE.joints.map((j) => j.name);
  const arm = names.findIndex((n) => /LeftArm$/.test(n));
  const hips = SOURCE.joints[0].rest_translation;
  const rotations = Array.from({ length: frames }, (_, t) => {
    const a = (80 * DEG * t) / (frames - 1);
    return names.map((_, j) => (j === arm ? [0, 0, Math.sin(a / 2), Math.cos(a / 2)] : [0, 0, 0, 1]));
  });
  const root_positions = Array.from({ length: frames }, (_, t) => [hips[0], hips[1], hips[2] + (0.02 * t * 30) / fps]);
  return { type: 'motion_reference', duration_frames: SEG, joint_names: names, rotations, root_positions, fps, skeleton: SOURCE };
}

const body = (model: string, fps = 30) => ({
  protocol_version: '1.3',
  model,
  skeleton: TARGET,
  segments: [
    { type: 'text', prompt: 'walk forward', duration_frames: SEG },
    reference(fps),
    { type: 'text', prompt: 'wave hello', duration_frames: SEG },
  ],
  options: { seed: 11 },
});

/** World direction of the left upper arm (shoulder joint to elbow) at frame f. */
function armDirection(s: Skeleton, clip: Clip, f: number): [number, number, number] {
  const m = mapHumanoid(s);
  const p = clipWorldPositions(s, clip);
  const J = s.names.length;
  const a = (f * J + m.left.upperArm) * 3, b = (f * J + m.left.forearm) * 3;
  const d = [p[b] - p[a], p[b + 1] - p[a + 1], p[b + 2] - p[a + 2]];
  const n = Math.hypot(d[0], d[1], d[2]);
  return [d[0] / n, d[1] / n, d[2] / n];
}

/** The reference's own arm, by forward kinematics on its own rig. */
function referenceArm(t: number): [number, number, number] {
  const s = skeletonFromWire(SOURCE.joints);
  const ref = reference(30);
  const clip: Clip = {
    fps: 30,
    numFrames: SEG,
    jointCount: s.names.length,
    rotations: Float64Array.from(ref.rotations.flat(2)),
    rootPositions: Float64Array.from(ref.root_positions.flat()),
  };
  return armDirection(s, clip, t);
}

const angle = (u: number[], v: number[]) => Math.acos(Math.min(1, Math.max(-1, u[0] * v[0] + u[1] * v[1] + u[2] * v[2]))) / DEG;

/** Posts a request for GLB and reads the answer back as a client would. */
async function answer(url: string, req: unknown) {
  return readAnswer((await generateGlb(url, req)).bytes, 30);
}

/** The spliced frames (away from the blends at both seams) follow the reference within `tolerance` degrees. */
async function expectSpliced(url: string, model: string, fps = 30) {
  const a = await answer(url, body(model, fps));
  const clip = a.samples[0].clip;
  expect(clip.numFrames).toBe(3 * SEG);
  for (let t = 8; t <= SEG - 8; t += 2) {
    expect(angle(armDirection(a.skeleton, clip, SEG + t), referenceArm(t)), `frame ${t} of the reference`).toBeLessThan(6);
  }
  return a;
}

describe('motion_reference, spliced by the pipeline', () => {
  let g: Running;
  beforeAll(async () => {
    g = await startGateway();
  });
  afterAll(() => g.close());

  it('is advertised by every model with its limit', async () => {
    const caps = (await (await fetch(`${g.url}/capabilities`)).json()) as any;
    expect(caps.protocol_version).toBe('1.3');
    const proc = caps.models.find((m: any) => m.id === 'procedural');
    expect(proc.supported_segments).toContain('motion_reference');
    expect(proc.supports_motion_reference_mixed).toBe(true);
    expect(proc.limits.max_reference_frames).toBeGreaterThan(0);
  });

  it('procedural: a Mixamo clip between two text segments, on a VRM rig, follows the reference', async () => {
    const a = await expectSpliced(g.url, 'procedural');
    const understood = (a.motion as any).samples[0].x_understood as Array<{ segment: number; source: string }>;
    expect(understood.find((u) => u.segment === 1)?.source).toBe('motion_reference');
  });

  it('procedural: the same clip sent at 60 fps is resampled to the answer fps', async () => {
    await expectSpliced(g.url, 'procedural', 60);
  });
});

describe('motion_reference through the provider simulators', () => {
  const p = withProviderSimulators();

  it('SayMotion generates the two text segments only; the reference is spliced in', async () => {
    await expectSpliced(p.say.gw.url, 'saymotion');
    expect(p.say.sim.jobs.size).toBe(2);
  });

  it('Meshy animates only the text segments\' actions; the reference costs no task', async () => {
    const animations = () => p.meshy.sim.count('POST /openapi/v1/animations');
    const before = animations();
    await expectSpliced(p.meshy.url, 'meshy');
    expect(animations() - before).toBeLessThanOrEqual(2);
  });
});
