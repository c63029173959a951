/** Any humanoid in, the same humanoid out: every fixture rig gets valid glTF on its own joint names, feet planted. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contactRuns, footContacts } from '../../src/motion/contacts.js';
import { clipWorldPositions } from '../../src/motion/clip.js';
import { decodeAnimationFile } from '../../src/motion/decode.js';
import { parseGlb } from '../../src/motion/gltf.js';
import { contactJoints, mapHumanoid } from '../../src/motion/humanoid.js';
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

    // Read the answer back as a client would and measure the feet by forward kinematics.
    const decoded = await decodeAnimationFile(glb, { fps: 30 });
    const { skeleton, clips } = decoded;
    const clip = clips.find((c) => c.name === 'sample_0')!.clip;
    const feet = contactJoints(mapHumanoid(skeleton)).slice(0, 4);
    const world = clipWorldPositions(skeleton, clip);
    const J = skeleton.names.length;
    let lowest = Infinity;
    for (let f = 0; f < clip.numFrames; f++) for (const j of feet) lowest = Math.min(lowest, world[(f * J + j) * 3 + 1]);
    expect(lowest).toBeGreaterThan(-0.01);
    const flags = footContacts(skeleton, clip, feet);
    let planted = 0;
    flags.forEach((fl, k) => {
      for (const run of contactRuns(fl)) {
        // The touch-down and lift-off frames are flagged planted by design (min of the two speeds); skip them.
        const start = run.start + 1, end = run.end - 1;
        if (end - start < 2) continue;
        planted++;
        const j = feet[k];
        const x0 = world[(start * J + j) * 3], z0 = world[(start * J + j) * 3 + 2];
        for (let f = start; f <= end; f++) {
          const dx = world[(f * J + j) * 3] - x0, dz = world[(f * J + j) * 3 + 2] - z0;
          expect(Math.hypot(dx, dz)).toBeLessThan(0.02);
        }
      }
    });
    expect(planted).toBeGreaterThanOrEqual(2);
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
