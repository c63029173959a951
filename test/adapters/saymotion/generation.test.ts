/**
 * SayMotion through the gateway, as clients see it: sync and async answers, on the canonical, Mixamo and
 * Unreal skeletons, several segments, long segments in stitched chunks, samples as variants, and the
 * request mapping as the simulator received it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAnimationFile } from '../../../src/motion/decode.js';
import { FIXTURE_RIGS } from '../../fixtures/skeletons/index.js';
import { canonicalSkeleton } from '../../helpers/gateway.js';
import { validateGltf } from '../../helpers/gltf-validate.js';
import { generate, mmcp, request, settle, setup, text, type Setup } from './harness.js';

let s: Setup;
let canonical: any;
beforeAll(async () => {
  s = await setup({ sim: { maxVariantsGeneration: 4 } });
  canonical = await canonicalSkeleton(s.gw.url, 'saymotion');
});
afterAll(() => s.close());

/** The answer's samples decoded back into clips on the request skeleton. */
async function samplesOf(gltf: any) {
  const decoded = await decodeAnimationFile(new TextEncoder().encode(JSON.stringify(gltf)), { fps: mmcp(gltf).fps });
  return decoded.clips;
}

async function valid(gltf: any): Promise<void> {
  expect((await validateGltf(new TextEncoder().encode(JSON.stringify(gltf)), 'json')).errors).toEqual([]);
}

/** Largest root displacement in the XZ plane over a clip. */
function travel(clip: { rootPositions: Float64Array; numFrames: number }): number {
  const p = clip.rootPositions;
  const last = (clip.numFrames - 1) * 3;
  return Math.hypot(p[last] - p[0], p[last + 2] - p[2]);
}

describe('capabilities', () => {
  it('advertises the DeepMotion rig, async, stitched chunks and the account variant limit', async () => {
    const caps = await (await fetch(`${s.gw.url}/capabilities`)).json();
    const m = caps.models.find((x: any) => x.id === 'saymotion');
    expect(m).toMatchObject({
      provider: 'saymotion',
      fps: 30,
      supports_async: true,
      supports_retargeting: true,
      chunking: 'stitched',
      native_clip_seconds: 10,
      supported_segments: ['text', 'unconditioned', 'pose', 'motion_reference'],
      predicted_contact_joints: ['l_foot_JNT', 'l_toebase_JNT', 'r_foot_JNT', 'r_toebase_JNT'],
    });
    // maxVariantsGeneration of the account (4) caps the configured 8.
    expect(m.limits.max_num_samples).toBe(4);
    const names = m.canonical_skeleton.joints.map((j: any) => j.name);
    expect(names[0]).toBe('hips_JNT');
    expect(names).toContain('r_handPinky3_JNT');
    expect(Math.min(...m.canonical_skeleton.joints.map((_: any, i: number) => worldY(m.canonical_skeleton.joints, i)))).toBeCloseTo(0, 6);
  });
});

function worldY(joints: any[], i: number): number {
  let y = 0;
  for (let j = joints[i]; j; j = joints.find((k) => k.name === j.parent)) y += j.rest_translation[1];
  return y;
}

describe('generation', () => {
  it('answers a sync request on the canonical skeleton with a valid glTF, quoting the prompt as the SDKs do', async () => {
    s.sim.resetCounts();
    const before = s.sim.jobs.size;
    const prompt = 'a man walks and says "hi" \\ then stops';
    const res = await generate(s.gw.url, request(canonical, [text(prompt, 60)]));
    expect(res.status).toBe(200);
    await valid(res.body);
    expect(mmcp(res.body).samples).toHaveLength(1);
    expect(mmcp(res.body).samples[0]).toMatchObject({ num_frames: 60, chunk_boundaries: [] });
    expect(mmcp(res.body).samples[0].x_understood[0].provider_job_ids).toHaveLength(1);

    expect(s.sim.jobs.size).toBe(before + 1);
    const job = [...s.sim.jobs.values()].at(-1)!;
    expect(job.rawPrompt).toBe('"a man walks and says \\"hi\\" \\\\ then stops"');
    expect(job.prompt).toBe(prompt);
    expect(job.params).toEqual([`prompt=${job.rawPrompt}`, `model=${s.sim.characterId}`, 'requestedAnimationDuration=2', 'numVariant=1']);

    const [clip] = await samplesOf(res.body);
    expect(travel(clip.clip)).toBeGreaterThan(1); // a walk goes somewhere
    // One submission, one batched link call, one file: the GLB of the result group (never the intermediate one).
    expect(s.sim.count('process')).toBe(1);
    expect(s.sim.count('download')).toBe(1);
    expect(s.sim.count('file')).toBe(1);
    expect(s.sim.count('interFile')).toBe(0);
    // Pre-signed storage never sees the session cookie.
    expect(s.sim.calls.filter((c) => c.host === 'storage').every((c) => !c.cookie)).toBe(true);
    expect(s.sim.calls.filter((c) => c.host === 'api' && c.route !== 'auth').every((c) => c.cookie)).toBe(true);
  });

  it('answers 202 and then the glTF for an async request on a Mixamo skeleton', async () => {
    const res = await generate(s.gw.url, request(FIXTURE_RIGS.mixamo, [text('a woman waves hello', 45)]), { prefer: 'respond-async' });
    expect(res.status).toBe(202);
    const done = await settle(s.gw.url, res.headers.get('location')!);
    expect(done.status).toBe(200);
    await valid(done.body);
    expect(done.body.nodes.map((n: any) => n.name)).toEqual(expect.arrayContaining(['mixamorig:Hips', 'mixamorig:LeftHand']));
    expect(mmcp(done.body).samples[0].num_frames).toBe(45);
  });

  it('retargets onto an Unreal mannequin, synchronously', async () => {
    const res = await generate(s.gw.url, request(FIXTURE_RIGS.ue5, [text('a man jogs forward', 90)], {}, { timing: { fps: 24 } }));
    expect(res.status).toBe(200);
    await valid(res.body);
    expect(mmcp(res.body).fps).toBe(24);
    expect(mmcp(res.body).samples[0].num_frames).toBe(90);
    const [clip] = await samplesOf(res.body);
    expect(travel(clip.clip)).toBeGreaterThan(1);
  });

  it('turns num_samples into variants of one job: one sample per variant, each downloaded once', async () => {
    s.sim.resetCounts();
    const res = await generate(s.gw.url, request(canonical, [text('a person dances', 40)], { num_samples: 3 }));
    expect(res.status).toBe(200);
    await valid(res.body);
    expect(mmcp(res.body).samples.map((x: any) => x.name)).toEqual(['sample_0', 'sample_1', 'sample_2']);
    expect(s.sim.count('process')).toBe(1);
    expect([...s.sim.jobs.values()].at(-1)!.numVariant).toBe(3);
    expect(s.sim.count('download')).toBe(3);
    expect(s.sim.count('file')).toBe(3);
    const clips = await samplesOf(res.body);
    const diff = (a: Float64Array, b: Float64Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    expect(diff(clips[0].clip.rotations, clips[1].clip.rotations)).toBeGreaterThan(0.01);
    expect(diff(clips[1].clip.rotations, clips[2].clip.rotations)).toBeGreaterThan(0.01);
  });

  it('refuses more samples than the account may ask for', async () => {
    const res = await generate(s.gw.url, request(canonical, [text('a person dances', 40)], { num_samples: 5 }));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_options');
  });

  it('generates several segments, one provider job per text segment, bridging the unconditioned one', async () => {
    s.sim.resetCounts();
    const res = await generate(s.gw.url, request(canonical, [text('a man walks', 60), { type: 'unconditioned', duration_frames: 20 }, text('a man jumps', 45)]));
    expect(res.status).toBe(200);
    await valid(res.body);
    expect(mmcp(res.body).samples[0].num_frames).toBe(125);
    expect(s.sim.count('process')).toBe(2);
    // Both jobs in flight together were polled by the same status calls; their links came in one call.
    expect(s.sim.calls.filter((c) => c.route === 'status').some((c) => c.rids!.length === 2)).toBe(true);
    expect(s.sim.count('download')).toBe(1);
    expect(s.sim.calls.find((c) => c.route === 'download')!.rids).toHaveLength(2);
  });

  it('generates a segment longer than the useful duration in stitched chunks and reports the seams', async () => {
    s.sim.resetCounts();
    const before = s.sim.jobs.size;
    const res = await generate(s.gw.url, request(canonical, [text('a man walks', 750)]));
    expect(res.status).toBe(200);
    await valid(res.body);
    expect(mmcp(res.body).samples[0]).toMatchObject({ num_frames: 750, chunk_boundaries: [250, 500] });
    const jobs = [...s.sim.jobs.values()].slice(before);
    expect(jobs.map((j) => j.requestedDuration)).toEqual([8.33, 8.33, 8.33]);
    expect(mmcp(res.body).samples[0].x_understood[0].provider_job_ids).toHaveLength(3);
    // The walk keeps going forward across the seams (chunks are aligned, not restarted at the origin).
    const [clip] = await samplesOf(res.body);
    const z = (f: number) => clip.clip.rootPositions[f * 3 + 2];
    expect(z(260) - z(240)).toBeGreaterThan(0.5);
    expect(z(749) - z(0)).toBeGreaterThan(20);
  });

  it('maps provider knobs from extensions and post_processing: false, and refuses unknown knobs', async () => {
    const before = s.sim.jobs.size;
    let res = await generate(
      s.gw.url,
      request(canonical, [text('a man walks', 30)], {}, { extensions: { saymotion: { footLockingMode: 'grounding', poseFilteringStrength: 0.4, physicsFilter: false } } }),
    );
    expect(res.status).toBe(200);
    expect([...s.sim.jobs.values()][before].knobs).toEqual({ footLockingMode: 'grounding', poseFilteringStrength: '0.4', dis: 's' });

    res = await generate(s.gw.url, request(canonical, [text('a man walks', 30)], { post_processing: false }));
    expect(res.status).toBe(200);
    expect([...s.sim.jobs.values()][before + 1].knobs).toEqual({ footLockingMode: 'never' });

    res = await generate(s.gw.url, request(canonical, [text('a man walks', 30)], {}, { extensions: { saymotion: { footlockingmode: 'always' } } }));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_options', details: { option: 'extensions.saymotion.footlockingmode' } });
    res = await generate(s.gw.url, request(canonical, [text('a man walks', 30)], {}, { extensions: { saymotion: { poseFilteringStrength: 3 } } }));
    expect(res.status).toBe(400);
    expect(s.sim.jobs.size).toBe(before + 2);
  });

  it('answers a constraints-only request without calling the provider', async () => {
    s.sim.resetCounts();
    const res = await generate(s.gw.url, {
      protocol_version: '1.2',
      model: 'saymotion',
      skeleton: canonical,
      duration_frames: 30,
      constraints: [{ type: 'root_path', frames: [0, 29], positions_xz: [[0, 0], [1, 0]] }],
    });
    expect(res.status).toBe(200);
    expect(s.sim.count('process')).toBe(0);
  });
});

describe('provider file variants', () => {
  for (const variant of [
    { rigStyle: 'cm' as const, fileFps: 60, fileHost: 'storage' as const, tposeTake: false },
    { rigStyle: 'zup' as const, fileFps: 24, fileHost: 'api' as const, tposeTake: true },
  ]) {
    it(`decodes ${variant.rigStyle} rigs at ${variant.fileFps} fps from the ${variant.fileHost} host`, async () => {
      const t = await setup({ sim: variant });
      try {
        const skel = await canonicalSkeleton(t.gw.url, 'saymotion');
        const res = await generate(t.gw.url, request(skel, [text('a man walks', 60)]));
        expect(res.status).toBe(200);
        const [clip] = await samplesOf(res.body);
        expect(travel(clip.clip)).toBeGreaterThan(1);
        const files = t.sim.calls.filter((c) => c.route === 'file');
        expect(files).toHaveLength(1);
        // Pre-signed files get no cookie, even on the API's own host.
        expect(files[0].cookie).toBe(false);
      } finally {
        await t.close();
      }
    });
  }
});
