/**
 * DeepMotion's own TypeScript SDK (npm dm-saymotion-api) drives the simulator end to end: log in, read
 * credits, list models, start a job with variants, poll it, download every file, list and cancel jobs.
 * A simulator the vendor's client is happy with plays the API as the vendor expects.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuthenticationError, SaymotionClient, Text2MotionParams } from 'dm-saymotion-api';
import { decodeAnimationFile } from '../../../src/motion/decode.js';
import { startSayMotionSimulator, type SayMotionSimulator } from '../../fakes/saymotion/server.js';

let sim: SayMotionSimulator;
const out = mkdtempSync(join(tmpdir(), 'dm-sdk-'));

beforeAll(async () => {
  sim = await startSayMotionSimulator({ job: { queueMs: 150, queuePosition: 2, runMs: 250 } });
  // The SDK narrates downloads on the console.
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
});
afterAll(async () => {
  await sim.close();
  rmSync(out, { recursive: true, force: true });
});

describe('the official SayMotion SDK against the simulator', () => {
  it('logs in, reads credits, lists models, runs a job with variants, polls it and downloads it', async () => {
    const client = new SaymotionClient(sim.url, sim.clientId, sim.clientSecret, 10);
    expect(await client.get_credit_balance()).toBe(10_000);
    const models = await client.list_character_models();
    expect(models.map((m) => m.id)).toContain(sim.characterId);
    expect(models.find((m) => m.platform === 'roblox')?.id).toBe('roblox_r15_01');

    const progress: Array<{ percent: number; queue: number }> = [];
    let result: { rid: string; result?: unknown; error?: unknown } | undefined;
    const params = new Text2MotionParams({ num_variant: 2, requested_animation_duration: 3, foot_locking_mode: 'always', physics_filter: false });
    const rid = await client.start_new_job(
      'a person waves hello',
      models[0].id,
      params,
      (data) => {
        result = data;
      },
      (data) => {
        progress.push({ percent: data.progress_percent, queue: data.position_in_queue });
      },
      0.03,
      true,
      20,
    );
    expect(rid).toMatch(/^[A-Za-z0-9]{22}-text2motion$/);
    expect(result?.rid).toBe(rid);
    expect(result?.error).toBeUndefined();
    expect(result?.result).toBeDefined();
    expect(progress.some((p) => p.queue > 0)).toBe(true);
    expect(progress.some((p) => p.queue === 0 && p.percent > 0)).toBe(true);

    const job = sim.jobs.get(rid)!;
    expect(job.prompt).toBe('a person waves hello');
    expect(job.numVariant).toBe(2);
    expect(job.knobs).toMatchObject({ footLockingMode: 'always', dis: 's' });
    expect(sim.credits).toBe(10_000 - 2 * 3);

    const status = await client.get_job_status(rid);
    expect(status.status).toBe('SUCCESS');

    const link = await client.download_job(rid, out, 2);
    expect(link.variant_download_status).toBe(true);
    const files = readdirSync(join(out, rid)).sort();
    // Every file of the result group, none of the intermediate one.
    expect(files).toEqual([`${rid}_v2.bvh`, `${rid}_v2.fbx`, `${rid}_v2.glb`]);
    expect(sim.count('interFile')).toBe(0);
    expect(sim.calls.filter((c) => c.host === 'storage').every((c) => !c.cookie)).toBe(true);
    const fbx = readFileSync(join(out, rid, `${rid}_v2.fbx`));
    expect(fbx.subarray(0, 4).toString('latin1')).toBe('PK\u0003\u0004');
    expect(readFileSync(join(out, rid, `${rid}_v2.bvh`), 'utf8')).toMatch(/^HIERARCHY\nROOT hips_JNT/);
    const decoded = await decodeAnimationFile(readFileSync(join(out, rid, `${rid}_v2.glb`)), { fps: 30 });
    expect(decoded.skeleton.names).toContain('l_handIndex3_JNT');
    const longest = Math.max(...decoded.clips.map((c) => c.clip.numFrames));
    expect(longest).toBe(90);

    const jobs = await client.list_jobs();
    expect(jobs.find((j) => j.rid === rid)).toMatchObject({ status: 'SUCCESS', processor: 'text2motion', charged_amount: 6 });
    expect(sim.logins).toBe(1);
    await client.close();
  });

  it('starts a job without blocking and cancels it', async () => {
    const client = new SaymotionClient(sim.url, sim.clientId, sim.clientSecret, 10);
    sim.script({ queueMs: 0, runMs: 60_000 });
    const rid = await client.start_new_job('a man runs', sim.characterId, new Text2MotionParams({ requested_animation_duration: 2 }), undefined, undefined, 5, false);
    expect((await client.get_job_status(rid)).status).toBe('PROGRESS');
    expect(await client.cancel_job(rid)).toBe(true);
    expect((await client.get_job_status(rid)).status).toBe('FAILURE');
    expect(await client.cancel_job(rid)).toBe(false);
    await client.close();
  });

  it('refuses wrong credentials the way the SDK understands', async () => {
    const client = new SaymotionClient(sim.url, sim.clientId, 'wrong', 10);
    await expect(client.get_credit_balance()).rejects.toBeInstanceOf(AuthenticationError);
    await client.close();
  });
});
