/** Any humanoid in, the same humanoid out: every fixture rig gets valid glTF on its own joint names, feet planted. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGlb } from '../../src/motion/gltf.js';
import { mapHumanoid } from '../../src/motion/humanoid.js';
import { DRIFT_BOUND, LOWEST_BOUND, measureClip } from '../../src/motion/quality.js';
import { readAnswer } from '../../src/tools/read-answer.js';
import { FIXTURE_NAMES, FIXTURE_RIGS } from '../fixtures/skeletons/index.js';
import { postGenerate, startGateway, type Running } from '../helpers/gateway.js';
import { validateGltf } from '../helpers/gltf-validate.js';

let g: Running;
beforeAll(async () => {
  g = await startGateway();
});
afterAll(() => g.close());

const request = (skeleton: unknown, prompt = 'walk forward') => ({
  protocol_version: '1.2',
  model: 'procedural',
  skeleton,
  segments: [{ type: 'text', prompt, duration_frames: 90 }],
  options: { seed: 3 },
});

describe('procedural motion on foreign skeletons', () => {
  it.each(FIXTURE_NAMES.map((n) => [n]))('%s: valid glTF on its own joints, feet planted and above the floor', async (name) => {
    const rig = FIXTURE_RIGS[name];
    const res = await postGenerate(g.url, request(rig), { accept: 'model/gltf-binary' });
    expect(res.status).toBe(200);
    const glb = new Uint8Array(await res.arrayBuffer());
    expect((await validateGltf(glb, 'glb')).errors).toEqual([]);

    const json = parseGlb(glb).json as any;
    const motion = json.extensions.MMCP_motion;
    const names = new Set(rig.joints.map((j) => j.name));
    expect(json.nodes.map((n: { name: string }) => n.name).sort()).toEqual([...names].sort());
    expect(motion.canonical_to_request).toBeTruthy();
    for (const target of Object.values(motion.canonical_to_request as Record<string, string>)) expect(names.has(target)).toBe(true);
    const contactNames = Object.keys(motion.samples[0].foot_contacts);
    expect(contactNames.length).toBeGreaterThanOrEqual(2);
    for (const n of contactNames) expect(names.has(n)).toBe(true);

    // Read the answer back as a client would and measure every sole point (heel, ball, toe tip) by
    // forward kinematics: none under the floor, none moving while it is down.
    const answer = await readAnswer(glb, 30);
    const clip = answer.samples.find((c) => c.name === 'sample_0')!.clip;
    const q = measureClip(answer.skeleton, mapHumanoid(answer.skeleton), clip);
    expect(q.lowest.height).toBeGreaterThan(LOWEST_BOUND);
    expect(q.contactRuns).toBeGreaterThanOrEqual(2);
    expect(q.drift!.drift).toBeLessThan(DRIFT_BOUND);
  });

  it('refuses a skeleton that is not a mappable humanoid, naming what is missing', async () => {
    const legless = {
      joints: FIXTURE_RIGS.mixamo.joints.filter((j) => !/(UpLeg|Leg|Foot|Toe)/.test(j.name)),
    };
    const res = await postGenerate(g.url, request(legless));
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.code).toBe('invalid_skeleton');
    expect(body.error.details.missing_roles).toEqual(expect.arrayContaining(['left.upperLeg', 'right.foot']));
  });
});
