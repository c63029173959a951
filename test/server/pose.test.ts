/**
 * MMCP pose segments (one frame from a prompt, the only segment of its request), for every model: the
 * procedural model's pose vocabulary with its synonyms, every pose answered through HTTP on three rigs
 * (the canonical skeleton, Mixamo, UE5) as one frame of valid glTF with every sole point on the floor
 * and the pose reading as asked (measured by forward kinematics on the answer's own skeleton); an
 * unknown pose prompt reported like an unknown motion prompt; SayMotion and Meshy through their
 * simulators (a representative frame of a short generated motion) answering one frame too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { understandPose, POSE_IDS, type PoseId } from '../../src/adapters/procedural/prompt.js';
import { footModel, footPointAt } from '../../src/motion/foot.js';
import { mapHumanoid } from '../../src/motion/humanoid.js';
import { clipForwardKinematics, forwardKinematics } from '../../src/motion/skeleton.js';
import type { Clip, Skeleton } from '../../src/spec/motion.js';
import { readAnswer } from '../../src/tools/read-answer.js';
import { FIXTURE_RIGS } from '../fixtures/skeletons/index.js';
import { canonicalSkeleton, generateGlb, startGateway, type Running } from '../helpers/gateway.js';
import { validateGltf } from '../helpers/gltf-validate.js';
import { withProviderSimulators } from '../helpers/providers.js';

const DEG = Math.PI / 180;

describe('the pose vocabulary', () => {
  const cases: Array<[string, PoseId]> = [
    ['a T pose', 't_pose'],
    ['T-pose', 't_pose'],
    ['arms outstretched to the sides', 't_pose'],
    ['an A-pose', 'a_pose'],
    ['standing upright', 'standing'],
    ['sitting on a chair', 'sitting'],
    ['seated', 'sitting'],
    ['kneeling on one knee', 'kneeling'],
    ['squatting', 'crouching'],
    ['crouched low', 'crouching'],
    ['hands up in the air', 'arms_raised'],
    ['standing with arms raised', 'arms_raised'],
    ['pointing forward', 'pointing'],
    ['hands on hips', 'hands_on_hips'],
    ['arms akimbo', 'hands_on_hips'],
    ['arms folded', 'arms_crossed'],
    ['waving hello', 'waving'],
    ['a military salute', 'saluting'],
    ['lying on his back on the floor', 'lying_down'],
    ['at ease, hands behind his back', 'hands_behind_back'],
  ];
  it.each(cases)('"%s" is %s', (prompt, pose) => {
    const u = understandPose(prompt);
    expect(u.recognized).toBe(true);
    expect(u.pose).toBe(pose);
    expect(u.confidence).toBeGreaterThan(0.5);
  });

  it('an unknown prompt is the neutral standing pose, unrecognized, with the nearest poses by spelling', () => {
    const u = understandPose('a sittting zorbl');
    expect(u).toMatchObject({ pose: 'standing', recognized: false, confidence: 0 });
    expect(u.nearest?.[0]).toBe('sitting');
    expect(u.ignored).toEqual(['sittting', 'zorbl']);
  });
});

/** World joint positions and rotations of the answer's one frame, and its sole points (heel, ball, toe of each foot). */
function measure(s: Skeleton, clip: Clip) {
  const J = s.names.length;
  const pos = new Float64Array(clip.numFrames * J * 3);
  const rot = new Float64Array(clip.numFrames * J * 4);
  clipForwardKinematics(s, clip, pos, rot);
  const map = mapHumanoid(s);
  const feet = footModel(s, map);
  const soles: number[] = [];
  const out = new Float64Array(3);
  for (const side of feet.sides) for (const p of side) {
    footPointAt(p, J, pos, rot, 0, out);
    soles.push(out[1] - feet.floor);
  }
  const at = (j: number): [number, number, number] => [pos[j * 3], pos[j * 3 + 1] - feet.floor, pos[j * 3 + 2]];
  // The rest pose's heights, to read a pose against the rig's own proportions.
  const restPos = new Float64Array(J * 3);
  const restRot = new Float64Array(J * 4);
  const ident = new Float64Array(J * 4);
  for (let j = 0; j < J; j++) ident[j * 4 + 3] = 1;
  forwardKinematics(s, ident, s.offsets.subarray(0, 3), restPos, restRot, 0);
  const restY = (j: number) => restPos[j * 3 + 1] - feet.floor;
  return { map, soles, at, restY };
}

/** Posts a request for GLB (polling a 202) and returns the bytes. */
const poseRequest = (model: string, skeleton: unknown, prompt: string) => ({
  protocol_version: '1.3',
  model,
  skeleton,
  segments: [{ type: 'pose', prompt }],
  options: { seed: 5 },
});

/** Answers a pose and checks what every pose must be: one frame, every sole point at or above −1 cm. */
async function pose(url: string, model: string, skeleton: unknown, prompt: string) {
  const { bytes, headers } = await generateGlb(url, poseRequest(model, skeleton, prompt));
  const a = await readAnswer(bytes);
  expect(a.samples).toHaveLength(1);
  const clip = a.samples[0].clip;
  expect(clip.numFrames).toBe(1);
  const m = measure(a.skeleton, clip);
  expect(Math.min(...m.soles), `lowest sole point of "${prompt}"`).toBeGreaterThanOrEqual(-0.01);
  return { ...m, bytes, headers, answer: a };
}

const PROMPTS: Record<PoseId, string> = {
  t_pose: 'a T-pose', a_pose: 'an A pose', standing: 'standing', sitting: 'sitting on a chair', kneeling: 'kneeling',
  crouching: 'crouching', arms_raised: 'arms raised', pointing: 'pointing ahead', hands_on_hips: 'hands on hips',
  arms_crossed: 'arms crossed', waving: 'waving', saluting: 'saluting', lying_down: 'lying down',
  hands_behind_back: 'hands behind back', hands_clasped: 'hands clasped',
};

describe('pose segments on the procedural model, through HTTP, on three rigs', () => {
  let g: Running;
  const rigs: Record<string, unknown> = {};
  beforeAll(async () => {
    g = await startGateway();
    rigs.canonical = await canonicalSkeleton(g.url);
    rigs.mixamo = FIXTURE_RIGS.mixamo;
    rigs.ue5 = FIXTURE_RIGS.ue5;
  });
  afterAll(() => g.close());

  it('is advertised', async () => {
    const caps = (await (await fetch(`${g.url}/capabilities`)).json()) as any;
    for (const m of caps.models) expect(m.supported_segments).toContain('pose');
  });

  for (const rig of ['canonical', 'mixamo', 'ue5']) {
    it(`${rig}: every pose is one frame of valid glTF with the feet on the floor`, async () => {
      for (const id of POSE_IDS) {
        const r = await pose(g.url, 'procedural', rigs[rig], PROMPTS[id]);
        const u = (r.answer.motion as any).samples[0].x_understood[0];
        expect(u).toMatchObject({ segment: 0, source: 'pose', pose: id, recognized: true });
        if (id === 't_pose' || id === 'sitting') {
          const v = await validateGltf(r.bytes, 'glb');
          expect(v.errors, `${id} on ${rig}`).toEqual([]);
        }
      }
    });

    it(`${rig}: the poses read as asked`, async () => {
      const s = rigs[rig];
      // T-pose: each arm (shoulder joint to wrist) horizontal within 8° and pointing out to its own side.
      const t = await pose(g.url, 'procedural', s, 'T-pose');
      for (const [side, sign] of [['left', 1], ['right', -1]] as const) {
        const a = t.at(t.map[side].upperArm), w = t.at(t.map[side].hand);
        const d = [w[0] - a[0], w[1] - a[1], w[2] - a[2]];
        const n = Math.hypot(d[0], d[1], d[2]);
        expect(Math.abs(Math.asin(d[1] / n)) / DEG, `${side} arm elevation`).toBeLessThan(8);
        expect((sign * d[0]) / n, `${side} arm points to its side`).toBeGreaterThan(0.95);
      }
      // Arms raised: both wrists above the top of the head joint.
      const up = await pose(g.url, 'procedural', s, 'arms raised');
      const head = up.at(up.map.head)[1];
      expect(up.at(up.map.left.hand)[1]).toBeGreaterThan(head + 0.05 * up.restY(up.map.head));
      expect(up.at(up.map.right.hand)[1]).toBeGreaterThan(head + 0.05 * up.restY(up.map.head));
      // Sitting: the hips at chair height (0.50–0.56 m on the 0.93 m canonical hips: 52–64 % of the rest height).
      const sit = await pose(g.url, 'procedural', s, 'sitting on a chair');
      const hipRatio = sit.at(sit.map.hips)[1] / sit.restY(sit.map.hips);
      expect(hipRatio).toBeGreaterThan(0.5);
      expect(hipRatio).toBeLessThan(0.68);
      // Kneeling: one knee near the floor (under 15 % of the rest knee height… of the hips), the other well above it.
      const kn = await pose(g.url, 'procedural', s, 'kneeling');
      const knees = [kn.at(kn.map.left.lowerLeg)[1], kn.at(kn.map.right.lowerLeg)[1]].sort((a, b) => a - b);
      expect(knees[0] / kn.restY(kn.map.hips)).toBeLessThan(0.15);
      expect(knees[1] / kn.restY(kn.map.hips)).toBeGreaterThan(0.3);
      // Lying down: the head and hips near the floor.
      const lie = await pose(g.url, 'procedural', s, 'lying down');
      expect(lie.at(lie.map.head)[1] / lie.restY(lie.map.head)).toBeLessThan(0.25);
      expect(lie.at(lie.map.hips)[1] / lie.restY(lie.map.hips)).toBeLessThan(0.3);
      // Crouching: the hips well below standing, both feet down.
      const cr = await pose(g.url, 'procedural', s, 'crouching');
      expect(cr.at(cr.map.hips)[1] / cr.restY(cr.map.hips)).toBeLessThan(0.8);
      // Arms crossed: the wrists past the midline, the two forearms' centre lines at least 7 cm apart (no intersection).
      const cx = await pose(g.url, 'procedural', s, 'arms crossed');
      const seg = (a: number[], b: number[], t: number) => a.map((v, i) => v + (b[i] - v) * t);
      let gap = Infinity;
      for (let i = 0; i <= 40; i++) for (let k = 0; k <= 40; k++) {
        const p = seg(cx.at(cx.map.left.forearm), cx.at(cx.map.left.hand), i / 40), q = seg(cx.at(cx.map.right.forearm), cx.at(cx.map.right.hand), k / 40);
        gap = Math.min(gap, Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]));
      }
      expect(gap, 'forearm to forearm').toBeGreaterThan(0.07);
      expect(cx.at(cx.map.left.hand)[0]).toBeLessThan(cx.at(cx.map.hips)[0]);
      expect(cx.at(cx.map.right.hand)[0]).toBeGreaterThan(cx.at(cx.map.hips)[0]);
      // Standing: the hips near their rest height, both wrists below the hips.
      const st = await pose(g.url, 'procedural', s, 'standing');
      expect(st.at(st.map.hips)[1] / st.restY(st.map.hips)).toBeGreaterThan(0.97);
      expect(st.at(st.map.left.hand)[1]).toBeLessThan(st.at(st.map.hips)[1]);
    });
  }

  it('an unknown pose prompt: the neutral standing pose, reported in x_understood and the header', async () => {
    const r = await pose(g.url, 'procedural', rigs.canonical, 'a flumoxed zorbl');
    const u = (r.answer.motion as any).samples[0].x_understood[0];
    expect(u).toMatchObject({ segment: 0, source: 'pose', pose: 'standing', recognized: false, confidence: 0 });
    expect(u.nearest.length).toBeGreaterThan(0);
    expect(u.note).toMatch(/not recognized/);
    expect(r.headers.get('x-prompt-unrecognized')).toMatch(/^0;nearest=/);
    expect(r.at(r.map.hips)[1] / r.restY(r.map.hips)).toBeGreaterThan(0.97);
  });

  it('extensions.procedural.strict refuses an unknown pose prompt', async () => {
    const res = await fetch(`${g.url}/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...poseRequest('procedural', rigs.canonical, 'a flumoxed zorbl'), extensions: { procedural: { strict: true } } }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({ code: 'invalid_request', details: { segment: 0, known_poses: POSE_IDS.length } });
  });
});

describe('pose segments through the provider simulators', () => {
  const p = withProviderSimulators();

  it('SayMotion: one job of a short motion for the prompt, answered as its representative frame', async () => {
    const r = await pose(p.say.gw.url, 'saymotion', FIXTURE_RIGS.mixamo, 'sitting on a chair');
    const u = (r.answer.motion as any).samples[0].x_understood.find((e: any) => e.segment === 0);
    expect(u).toMatchObject({ source: 'pose', pose_motion_frames: 60 });
    expect(u.pose_frame).toBeGreaterThanOrEqual(15);
    expect(p.say.sim.jobs.size).toBe(1);
    const v = await validateGltf(r.bytes, 'glb');
    expect(v.errors).toEqual([]);
  });

  it('Meshy: the action the prompt names, answered as its representative frame', async () => {
    const r = await pose(p.meshy.url, 'meshy', FIXTURE_RIGS.ue5, 'waving');
    const u = (r.answer.motion as any).samples[0].x_understood.find((e: any) => e.segment === 0);
    expect(u).toMatchObject({ source: 'pose', pose_motion_frames: 60 });
    expect(u.pose_frame).toBeGreaterThanOrEqual(15);
    const v = await validateGltf(r.bytes, 'glb');
    expect(v.errors).toEqual([]);
  });
});
