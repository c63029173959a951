/**
 * The Meshy adapter end to end through the gateway against the simulator: capabilities, the rig kept
 * across requests and restarts, multi-segment requests, duration fitting, frame rates, progress over SSE
 * (happy, dropped, silent, error event), restarts mid-job, cancel, and the account's task cap.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MESHY_RIG } from '../../../src/adapters/meshy/rig.js';
import { FIXTURE_RIGS } from '../../fixtures/skeletons/index.js';
import { validateGltf } from '../../helpers/gltf-validate.js';
import type { MeshySimulator } from '../../fakes/meshy/server.js';
import { finish, generate, request, rootTrack, startRig, startSimulator, tmp, understood, type Rig } from './harness.js';

const rigs: Rig[] = [];
async function open(opts: Parameters<typeof startRig>[0] = {}): Promise<Rig> {
  const r = await startRig(opts);
  rigs.push(r);
  return r;
}
afterEach(async () => {
  await Promise.all(rigs.splice(0).map((r) => r.close()));
});

const animationPosts = (sim: MeshySimulator) => sim.count('POST /openapi/v1/animations');
const rigPosts = (sim: MeshySimulator) => sim.count('POST /openapi/v1/rigging');

async function accepted(url: string, body: unknown): Promise<string> {
  const res = await fetch(`${url}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', prefer: 'respond-async', accept: 'model/gltf+json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(202);
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  await res.arrayBuffer();
  return res.headers.get('location')!;
}

describe('capabilities', () => {
  it('lists the meshy model with its rig, async and retargeting', async () => {
    const rig = await open();
    const caps = await (await fetch(`${rig.url}/capabilities`)).json();
    const m = caps.models.find((x: any) => x.id === 'meshy');
    expect(m).toMatchObject({ provider: 'meshy', fps: 30, supports_async: true, supports_retargeting: true, chunking: 'none' });
    expect(m.supported_segments).toEqual(['text', 'unconditioned', 'pose', 'motion_reference']);
    expect(m.supported_constraints).toEqual(['root_path', 'effector_target', 'pose_keyframe', 'ground_height']);
    const names = m.canonical_skeleton.joints.map((j: any) => j.name);
    for (const n of ['Hips', 'Spine02', 'Spine01', 'Spine', 'neck', 'Head', 'head_end', 'headfront', 'LeftToeBase']) expect(names).toContain(n);
    expect(names.some((n: string) => /index|thumb|finger/i.test(n))).toBe(false);
    expect(Math.min(...rigHeights(m.canonical_skeleton))).toBeCloseTo(0, 6);
    expect(m.predicted_contact_joints.every((j: string) => names.includes(j))).toBe(true);
    expect(rigPosts(rig.sim) + animationPosts(rig.sim)).toBe(0); // capabilities cost nothing
  });
});

function rigHeights(skel: any): number[] {
  const world = new Map<string, number>();
  return skel.joints.map((j: any) => {
    const y = (j.parent ? world.get(j.parent)! : 0) + j.rest_translation[1];
    world.set(j.name, y);
    return y;
  });
}

describe('the rig', () => {
  it('is rigged once, then reused across requests and restarts', async () => {
    const rig = await open();
    for (const prompt of ['wave hello', 'kick']) {
      const a = await generate(rig.url, request([{ prompt, frames: 30 }]));
      expect(a.status, JSON.stringify(a.error)).toBe(200);
    }
    expect(rigPosts(rig.sim)).toBe(1);
    const rigId = rig.sim.created.find((c) => c.kind === 'rigging')!.id;
    await rig.restart();
    const b = await generate(rig.url, request([{ prompt: 'jump', frames: 30 }]));
    expect(b.status, JSON.stringify(b.error)).toBe(200);
    expect(rigPosts(rig.sim)).toBe(1);
    expect(rig.sim.created.filter((c) => c.kind === 'animations').every((c) => c.body.rig_task_id === rigId)).toBe(true);
    // The rigging request carried the configured height and character.
    expect(rig.sim.created[0].body).toMatchObject({ height_meters: 1.7, model: rig.sim.sampleUrl('humanoid') });
  });

  it('is shared by simultaneous first requests (one rigging task)', async () => {
    const rig = await open();
    const answers = await Promise.all(['wave', 'kick', 'jump', 'shrug', 'cheer'].map((p) => generate(rig.url, request([{ prompt: p, frames: 30 }]))));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(rigPosts(rig.sim)).toBe(1);
  });

  it('uses a configured rig task id without rigging', async () => {
    const sim = await startSimulator();
    try {
      const first = await open({ simulator: sim });
      expect((await generate(first.url, request([{ prompt: 'wave', frames: 30 }]))).status).toBe(200);
      const rigId = sim.created[0].id;
      const second = await open({ simulator: sim, meshy: { rigTaskId: rigId, characterUrl: undefined } });
      const a = await generate(second.url, request([{ prompt: 'kick', frames: 30 }]));
      expect(a.status, JSON.stringify(a.error)).toBe(200);
      expect(rigPosts(sim)).toBe(1);
    } finally {
      await Promise.all(rigs.splice(0).map((r) => r.close()));
      await sim.close();
    }
  });

  it('is rigged again, once and transparently, when Meshy no longer accepts it', async () => {
    const rig = await open();
    expect((await generate(rig.url, request([{ prompt: 'wave', frames: 30 }]))).status).toBe(200);
    const oldRig = rig.sim.created[0].id;
    rig.sim.forget(oldRig);
    const a = await generate(rig.url, request([{ prompt: 'kick', frames: 30 }]));
    expect(a.status, JSON.stringify(a.error)).toBe(200);
    expect(rigPosts(rig.sim)).toBe(2);
    const newRig = rig.sim.created.filter((c) => c.kind === 'rigging')[1].id;
    expect(rig.sim.created.at(-1)!.body.rig_task_id).toBe(newRig);
    // The new rig replaced the old one in the store, for later requests and restarts.
    await rig.restart();
    expect((await generate(rig.url, request([{ prompt: 'jump', frames: 30 }]))).status).toBe(200);
    expect(rigPosts(rig.sim)).toBe(2);
  });

  it('answers 503 when a configured rig is refused and there is no character to rig', async () => {
    const rig = await open({ meshy: { rigTaskId: 'rig-does-not-exist', characterUrl: undefined } });
    const a = await generate(rig.url, request([{ prompt: 'wave', frames: 30 }]));
    expect(a.status).toBe(503);
    expect(a.error!.error.code).toBe('model_unavailable');
    expect(a.error!.detail.error_code).toBe('MG-SRV-003');
    expect(rigPosts(rig.sim)).toBe(0);
  });

  it('sends a local character file as a data URI', async () => {
    const sim = await startSimulator();
    try {
      const bytes = Buffer.from(await (await fetch(sim.sampleUrl('humanoid'))).arrayBuffer());
      const file = join(tmp, 'character.glb');
      writeFileSync(file, bytes);
      const rig = await open({ simulator: sim, meshy: { characterUrl: `file://${file}` } });
      expect((await generate(rig.url, request([{ prompt: 'wave', frames: 30 }]))).status).toBe(200);
      expect(sim.created[0].body.model).toBe('data-uri');
    } finally {
      await Promise.all(rigs.splice(0).map((r) => r.close()));
      await sim.close();
    }
  });
});

describe('requests', () => {
  it('composes a multi-segment request into valid glTF, one task per distinct action', async () => {
    const rig = await open();
    const body = request([{ prompt: 'walk', frames: 60 }, { prompt: 'wave hello', frames: 45 }, { prompt: 'kick', frames: 30 }, { prompt: 'wave hello', frames: 40 }, { unconditioned: 20 }]);
    const a = await generate(rig.url, body);
    expect(a.status, JSON.stringify(a.error)).toBe(200);
    const u = understood(a.gltf)[0];
    expect(u.map((x: any) => [x.segment, x.action_id])).toEqual([[0, -2], [1, 28], [2, 103], [3, 28], [4, 0]]);
    expect(u[4].via).toBe('unconditioned');
    expect(a.gltf.extensions.MMCP_motion.samples[0].num_frames).toBe(195);
    // Walking comes with the rig; wave, kick and idle are one task each (the repeated wave is paid once).
    expect(rig.sim.created.filter((c) => c.kind === 'animations').map((c) => c.body.action_id).sort((x, y) => Number(x) - Number(y))).toEqual([0, 28, 103]);
    const glb = await fetch(`${rig.url}/generate/jobs/${a.jobId}`, { headers: { accept: 'model/gltf-binary' } });
    const report = await validateGltf(new Uint8Array(await glb.arrayBuffer()), 'glb');
    expect(report.errors).toEqual([]);
    // Signed storage links were fetched without our API key.
    expect(rig.sim.stats.assetAuthLeaks).toBe(0);
  });

  it('fits clips to the segment durations: walks loop and keep travelling, one-shots scale or hold', async () => {
    const rig = await open();
    const a = await generate(rig.url, request([{ prompt: 'walk', frames: 150 }]));
    expect(a.status, JSON.stringify(a.error)).toBe(200);
    const walk = understood(a.gltf)[0][0];
    expect(walk.fit).toBe('loop');
    const root = rootTrack(a.gltf);
    expect(root).toHaveLength(150);
    const travel = root[149][2] - root[0][2];
    expect(travel).toBeGreaterThan(5.5); // ~1.3 m/s for 5 s, no jump back at the seams
    expect(travel).toBeLessThan(7.5);
    for (let f = 1; f < 150; f++) expect(root[f][2] - root[f - 1][2]).toBeGreaterThan(0);

    const short = await generate(rig.url, request([{ prompt: 'jump', frames: 40 }]));
    const long = await generate(rig.url, request([{ prompt: 'jump', frames: 240 }]));
    const s = understood(short.gltf)[0][0];
    const l = understood(long.gltf)[0][0];
    expect(['time_scale', 'trim']).toContain(s.fit);
    expect(l.fit).toBe('hold');
    expect(l.rate).toBeCloseTo(0.8, 3);
    expect(long.gltf.extensions.MMCP_motion.samples[0].num_frames).toBe(240);
    expect(rig.sim.created.filter((c) => c.kind === 'animations' && c.body.action_id === 86)).toHaveLength(2);
  });

  it('asks Meshy for the frame rate when it offers it, and resamples otherwise', async () => {
    const rig = await open();
    const at60 = await generate(rig.url, request([{ prompt: 'kick', frames: 60 }], { timing: { fps: 60 } }));
    expect(at60.status, JSON.stringify(at60.error)).toBe(200);
    expect(rig.sim.created.at(-1)!.body.post_process).toEqual({ operation_type: 'change_fps', fps: 60 });
    expect(at60.gltf.extensions.MMCP_motion).toMatchObject({ fps: 60 });
    const at50 = await generate(rig.url, request([{ prompt: 'punch', frames: 50 }], { timing: { fps: 50 } }));
    expect(at50.status, JSON.stringify(at50.error)).toBe(200);
    expect(rig.sim.created.at(-1)!.body.post_process).toBeUndefined();
    expect(at50.gltf.extensions.MMCP_motion.samples[0].num_frames).toBe(50);
  });

  it('loops seamlessly when options.loop asks for it', async () => {
    const rig = await open();
    const a = await generate(rig.url, request([{ prompt: 'walk', frames: 90 }], { options: { loop: true } }));
    expect(a.status, JSON.stringify(a.error)).toBe(200);
    expect(understood(a.gltf)[0][0].inplace).toBe(true);
  });
});

describe('progress', () => {
  it('follows the SSE stream without polling when it stays up', async () => {
    const rig = await open();
    expect((await generate(rig.url, request([{ prompt: 'kick', frames: 30 }]))).status).toBe(200);
    expect(rig.sim.stats.streamsOpened).toBe(1);
    expect(rig.sim.count('GET /openapi/v1/animations/:id')).toBe(0);
  });

  it('falls back to polling when the stream drops mid-way', async () => {
    // A run long enough for the stream to have more to say than it is allowed to.
    const rig = await open({ sim: { stream: { dropAfter: 2 }, timing: { runMs: 5_000 } } });
    const a = await generate(rig.url, request([{ prompt: 'kick', frames: 30 }]));
    expect(a.status, JSON.stringify(a.error)).toBe(200);
    expect(rig.sim.stats.streamsOpened).toBe(1);
    expect(rig.sim.count('GET /openapi/v1/animations/:id')).toBeGreaterThan(0);
  });

  it('falls back to polling when the stream goes silent, is refused, or is not SSE', async () => {
    for (const stream of ['hang', 'refuse', 'not-sse'] as const) {
      const rig = await open({ sim: { stream }, deps: { streamIdleMs: 2_000 } });
      const a = await generate(rig.url, request([{ prompt: 'kick', frames: 30 }]));
      expect(a.status, `${stream}: ${JSON.stringify(a.error)}`).toBe(200);
      expect(rig.sim.count('GET /openapi/v1/animations/:id')).toBeGreaterThan(0);
    }
  });

  it('polls only, when streams are turned off', async () => {
    const rig = await open({ deps: { useStreams: false } });
    expect((await generate(rig.url, request([{ prompt: 'kick', frames: 30 }]))).status).toBe(200);
    expect(rig.sim.stats.streamsOpened).toBe(0);
  });

  it('reads an error event (task not found) and answers with the provider error', async () => {
    const rig = await open();
    const location = await accepted(rig.url, request([{ prompt: 'kick', frames: 30 }]));
    await rig.sim.when(() => rig.sim.created.some((c) => c.kind === 'animations'), 'the task');
    rig.sim.behave.timing.pendingMs = 600_000; // the task stays queued until Meshy forgets it
    await rig.sim.when(() => rig.sim.stats.streamsOpened > 0, 'its stream');
    rig.sim.forget(rig.sim.created.find((c) => c.kind === 'animations')!.id);
    const done = await finish(rig, location);
    expect(rig.sim.stats.errorEvents).toBe(1);
    expect(done.status).toBe(500);
    expect(done.body.detail.error_code).toBe('MG-PRV-410');
    expect(done.body.error.details).toMatchObject({ provider: 'meshy', provider_status: 404 });
  });

  it('reports queue position and progress on the status endpoint, with Retry-After', async () => {
    const rig = await open({ sim: { workers: 1 } });
    expect((await generate(rig.url, request([{ prompt: 'wave', frames: 30 }]))).status).toBe(200); // the rig
    // One worker and a long run: the first task runs while the other two wait, long enough to be seen.
    const timing = rig.sim.behave.timing;
    const quick = { ...timing };
    Object.assign(timing, { runMs: 60_000, stallMs: 60_000 });
    const first = await accepted(rig.url, request([{ prompt: 'kick', frames: 30 }]));
    await accepted(rig.url, request([{ prompt: 'jump', frames: 30 }]));
    const third = await accepted(rig.url, request([{ prompt: 'shrug', frames: 30 }]));
    await rig.sim.when(() => rig.sim.created.filter((c) => c.kind === 'animations').length === 4, 'tasks');
    let sawQueue = false;
    let sawProgress = false;
    const deadline = Date.now() + 10_000;
    while (!(sawQueue && sawProgress) && Date.now() < deadline) {
      const s1 = await (await fetch(`${rig.url}${first}/status`)).json();
      const res = await fetch(`${rig.url}${third}/status`);
      const s3 = await res.json();
      if (s3.state === 'running') expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // One task runs at Meshy, the third waits behind the second: Meshy says preceding_tasks 1.
      if (s3.state === 'running' && s3.queue_position >= 1) sawQueue = true;
      if (s1.progress > 0 && s1.progress < 1) sawProgress = true;
    }
    expect(sawQueue).toBe(true);
    expect(sawProgress).toBe(true);
    Object.assign(timing, quick);
    expect((await finish(rig, first)).status).toBe(200);
    expect((await finish(rig, third)).status).toBe(200);
  });
});

describe('jobs', () => {
  it('resumes after a restart mid-job without creating a second Meshy task', async () => {
    const rig = await open();
    const timing = rig.sim.behave.timing;
    const quick = { ...timing };
    const location = await accepted(rig.url, request([{ prompt: 'kick', frames: 30 }]));
    await rig.sim.when(() => rig.sim.created.some((c) => c.kind === 'animations'), 'the task');
    timing.runMs = 600_000; // the task runs until the gateway is back
    // The gateway follows the task (its stream is open): the task id is in the job's checkpoint.
    await rig.sim.when(() => rig.sim.count('GET /openapi/v1/animations/:id/stream') > 0, 'the task followed');
    await rig.restart();
    Object.assign(timing, quick);
    const done = await finish(rig, location);
    expect(done.status, JSON.stringify(done.body.error)).toBe(200);
    expect(animationPosts(rig.sim)).toBe(1);
    expect(rigPosts(rig.sim)).toBe(1);
  });

  it('resumes a restart during rigging without rigging twice', async () => {
    const rig = await open();
    const timing = rig.sim.behave.timing;
    const quick = { ...timing };
    timing.runMs = 600_000; // rigging runs until the gateway is back
    const location = await accepted(rig.url, request([{ prompt: 'kick', frames: 30 }]));
    // The gateway follows the rigging task: its id is in the adapter's store.
    await rig.sim.when(() => rig.sim.count('GET /openapi/v1/rigging/:id') > 0, 'the rigging task followed');
    await rig.restart();
    Object.assign(timing, quick);
    expect((await finish(rig, location)).status).toBe(200);
    expect(rigPosts(rig.sim)).toBe(1);
    expect(animationPosts(rig.sim)).toBe(1);
  });

  it.each(['animations', 'rigging'] as const)('never pays twice for a %s task whose creation was in flight when the gateway stopped', async (kind) => {
    const rig = await open();
    rig.sim.behave.answerDelayMs = 400; // Meshy has made the task; its id is still on the way
    const location = await accepted(rig.url, request([{ prompt: 'kick', frames: 30 }]));
    await rig.sim.when(() => rig.sim.created.some((c) => c.kind === kind), `the ${kind} task`);
    await rig.restart();
    rig.sim.behave.answerDelayMs = 0;
    expect((await finish(rig, location)).status).toBe(200);
    expect(rigPosts(rig.sim)).toBe(1);
    expect(animationPosts(rig.sim)).toBe(1);
  });

  it('deletes the Meshy task when the job is cancelled', async () => {
    const rig = await open();
    const location = await accepted(rig.url, request([{ prompt: 'kick', frames: 30 }]));
    await rig.sim.when(() => rig.sim.created.some((c) => c.kind === 'animations'), 'the task');
    rig.sim.behave.timing.runMs = 600_000; // the task is still running when the job is cancelled
    await rig.sim.when(() => rig.sim.count('GET /openapi/v1/animations/:id/stream') > 0, 'the task followed');
    const taskId = rig.sim.created.find((c) => c.kind === 'animations')!.id;
    expect((await fetch(`${rig.url}${location}`, { method: 'DELETE' })).status).toBe(204);
    await rig.sim.when(() => rig.sim.count('DELETE /openapi/v1/animations/:id') === 1, 'the DELETE');
    expect(rig.sim.tasks.has(taskId)).toBe(false);
    expect(rig.sim.active()).toBe(0);
  });

  it('keeps at most the configured number of tasks at Meshy under 50 simultaneous requests', async () => {
    const cap = 3;
    const rig = await open({
      sim: { queueCap: cap, workers: cap, timing: { pendingMs: 5, runMs: 60, stallMs: 20 } },
      meshy: { maxConcurrentTasks: cap },
      gateway: { maxConcurrentJobs: 64, maxQueuedJobs: 256 },
    });
    expect((await generate(rig.url, request([{ prompt: 'wave', frames: 30 }]))).status).toBe(200); // rig first
    const prompts = ['kick', 'jump', 'shrug', 'cheer', 'punch', 'dance', 'sleep', 'swim', 'die', 'backflip'];
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => generate(rig.url, request([{ prompt: prompts[i % prompts.length], frames: 30 }]))));
    expect(answers.filter((a) => a.status !== 200).map((a) => a.error)).toEqual([]);
    expect(rig.sim.stats.queueFull429).toBe(0);
    expect(rig.sim.stats.peakActive).toBeLessThanOrEqual(cap);
    expect(rig.sim.stats.peakActive).toBe(cap); // the cap was actually used
    expect(animationPosts(rig.sim)).toBe(51);
  });
});

describe('on other skeletons', () => {
  // Retargeting is the pipeline's (src/motion/pipeline.ts); these run once it retargets.
  for (const name of ['mixamo', 'ue5', 'vrm'] as const) {
    it(`delivers Meshy actions on a ${name} skeleton`, async () => {
      const rig = await open();
      const a = await generate(rig.url, { ...request([{ prompt: 'walk', frames: 60 }, { prompt: 'wave hello', frames: 45 }]), skeleton: FIXTURE_RIGS[name] });
      expect(a.status, JSON.stringify(a.error)).toBe(200);
      const nodes = a.gltf.nodes.map((n: any) => n.name);
      expect(nodes).toEqual(FIXTURE_RIGS[name].joints.map((j) => j.name));
      expect(understood(a.gltf)[0].map((u: any) => u.action_id)).toEqual([-2, 28]);
    });
  }
  it('keeps the canonical skeleton of the capabilities equal to what Meshy files decode to (names, hierarchy)', async () => {
    const rig = await open();
    const a = await generate(rig.url, request([{ prompt: 'kick', frames: 30 }]));
    expect(a.gltf.nodes.map((n: any) => n.name)).toEqual(MESHY_RIG.joints.map((j) => j.name));
  });
});

