/**
 * The `motion-gateway` command line as a user runs it: a child process talking HTTP to a real gateway on
 * loopback, judged by its exit code, its stderr lines and the files it leaves behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProceduralAdapter } from '../../src/adapters/procedural/index.js';
import { batchCommand } from '../../src/cli/batch.js';
import { MotionGatewayClient } from '../../src/client/index.js';
import { createGatedAdapter, type GatedAdapter } from '../helpers/gated-adapter.js';
import type { Adapter } from '../../src/spec/adapter.js';
import { GatewayError } from '../../src/spec/errors.js';
import { startGateway, type Running } from '../helpers/gateway.js';
import { mixamoCharacterGlb } from '../fixtures/playground/character.js';
import { mixamo } from '../fixtures/skeletons/mixamo.js';

/** The repository: the CLI runs from it as `npm run cli` would. */
const root = fileURLToPath(new URL('../..', import.meta.url));
const KEY = 'cli-test-key-0123456789abcdef';
const auth = { authorization: `Bearer ${KEY}` };
const dir = mkdtempSync(join(tmpdir(), 'mg-cli-'));
let gw: Running;
let gated: GatedAdapter;
/** A model whose jobs fail (MG-PRV-500) while this is set. */
let flakyFails = true;

beforeAll(async () => {
  gated = createGatedAdapter();
  const inner = createGatedAdapter({ modelId: 'flaky', provider: 'flaky', open: true });
  const flaky: Adapter = {
    ...inner,
    advance: async (plan, checkpoint, ctx) => {
      if (flakyFails) throw new GatewayError('MG-PRV-500');
      return inner.advance(plan, checkpoint, ctx);
    },
  };
  gw = await startGateway({ apiKeys: [KEY] }, { adapters: [createProceduralAdapter(), gated, flaky] });
});
afterAll(async () => {
  await gw?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  /** Resolves when stderr so far matches `re`. */
  stderrMatches(re: RegExp): Promise<RegExpExecArray>;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function cli(args: string[], env: Record<string, string> = {}, entry = ['--import', 'tsx', 'src/cli/main.ts']): Run {
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: root,
    env: { ...process.env, MOTION_GATEWAY_URL: gw.url, MOTION_GATEWAY_API_KEY: KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => {
    stderr += d;
    for (const w of waiters.splice(0)) w();
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  const stderrMatches = (re: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const m = re.exec(stderr);
        if (m) resolve(m);
        else waiters.push(check);
      };
      child.on('close', () => reject(new Error(`exited before stderr matched ${re}: ${stderr}`)));
      check();
    });
  return { child, stderrMatches, done };
}

const run = async (args: string[], env?: Record<string, string>) => {
  const r = await cli(args, env).done;
  // The API key is a secret: nothing the CLI prints may carry it.
  expect(r.stdout + r.stderr).not.toContain(KEY);
  return r;
};

/** The JSON chunk of a GLB, read by hand (glTF magic, version 2, a JSON chunk first). */
function glbJson(bytes: Buffer): any {
  expect(bytes.readUInt32LE(0)).toBe(0x46546c67);
  expect(bytes.readUInt32LE(4)).toBe(2);
  expect(bytes.readUInt32LE(16)).toBe(0x4e4f534a);
  return JSON.parse(bytes.subarray(20, 20 + bytes.readUInt32LE(12)).toString('utf8'));
}

// Each test spawns its own process and writes its own files: they run side by side (the batch pair in order).
describe.concurrent('motion-gateway generate', () => {
  it('writes a GLB with MMCP_motion, prints progress on stderr and a JSON summary on stdout', async () => {
    const out = join(dir, 'walk.glb');
    const r = await run(['generate', '--prompt', 'walk forward', '--prompt', 'wave hello', '--seconds', '2', '--seed', '7', '-o', out, '--json']);
    expect(r.code).toBe(0);
    const gltf = glbJson(readFileSync(out));
    const motion = gltf.extensions.MMCP_motion;
    expect(motion.model).toBe('procedural');
    // Two 2 s segments at the model's 30 fps.
    expect(motion.samples[0].num_frames).toBe(120);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ file: out, served_by: 'procedural', bytes: readFileSync(out).byteLength, duration_s: 4, format: 'glb' });
    expect(summary.job_id).toMatch(/^job_/);
    expect(r.stderr).toContain(`accepted: job ${summary.job_id}`);
    expect(r.stderr).toContain(`done: ${out} (served by procedural)`);
  });

  it('reads --skeleton from a skinned GLB: the answer is on the character’s own joints', async () => {
    const character = join(dir, 'character.glb');
    writeFileSync(character, await mixamoCharacterGlb());
    const out = join(dir, 'character-walk.gltf');
    const r = await run(['generate', '--prompt', 'walk forward', '--seconds', '1', '--skeleton', character, '-o', out]);
    expect(r.code).toBe(0);
    // .gltf → a JSON glTF answer.
    const gltf = JSON.parse(readFileSync(out, 'utf8'));
    const names = new Set(gltf.nodes.map((n: { name: string }) => n.name));
    for (const j of mixamo.joints) expect(names.has(j.name)).toBe(true);
    expect(gltf.extensions.MMCP_motion.samples[0].num_frames).toBe(30);
  });

  it('an invalid request exits 2 with the envelope’s message and action, and writes nothing', async () => {
    const sub = join(dir, 'invalid');
    mkdirSync(sub);
    const out = join(sub, 'too-many.glb');
    const caps = await (await fetch(`${gw.url}/capabilities`, { headers: auth })).json();
    const direct = await fetch(`${gw.url}/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ protocol_version: '1.3', model: 'procedural', skeleton: caps.models[0].canonical_skeleton, segments: [{ type: 'text', prompt: 'walk', duration_frames: 30 }], options: { num_samples: 1000 } }),
    });
    const envelope = await direct.json();
    expect(direct.status).toBeGreaterThanOrEqual(400);
    expect(direct.status).toBeLessThan(500);
    const r = await run(['generate', '--prompt', 'walk', '--seconds', '1', '--samples', '1000', '-o', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: ${envelope.error.message}\n  action: ${envelope.detail.action}\n`);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(readdirSync(sub)).toEqual([]);
  });

  it('a wrong API key exits 3', async () => {
    const wrong = 'not-the-key-0123456789abcdef';
    const r = await run(['generate', '--api-key', wrong, '--prompt', 'walk', '-o', join(dir, 'denied.glb')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^error: .+/m);
    expect(r.stderr).not.toContain(wrong);
    expect(existsSync(join(dir, 'denied.glb'))).toBe(false);
  });

  it('Ctrl-C while the job runs cancels it and exits 130', async () => {
    const out = join(dir, 'interrupted.glb');
    const started = gated.calls.cancel;
    const c = cli(['generate', '--model', 'gated', '--prompt', 'walk', '-o', out]);
    const [, jobId] = await c.stderrMatches(/accepted: job (\S+)\n/);
    // A plain progress line from a status poll (the gated job stays running until the test opens it).
    await c.stderrMatches(/running \d+%\n/);
    c.child.kill('SIGINT');
    const r = await c.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain(`interrupted: job ${jobId} was cancelled`);
    expect(gated.calls.cancel).toBe(started + 1);
    const status = await (await fetch(`${gw.url}/generate/jobs/${jobId}/status`, { headers: auth })).json();
    expect(status.state).toBe('cancelled');
    expect(existsSync(out)).toBe(false);
  });
});

describe('motion-gateway batch', () => {
  const out = join(dir, 'batch');
  const manifest = join(dir, 'manifest.json');
  const report = () => JSON.parse(readFileSync(join(out, 'batch-report.json'), 'utf8'));
  let firstJobs: Record<string, string>;

  it('writes one GLB per clip and a report', async () => {
    writeFileSync(join(dir, 'hero.glb'), await mixamoCharacterGlb());
    writeFileSync(
      manifest,
      JSON.stringify({
        // A skeleton file named by the defaults is read relative to the manifest.
        defaults: { skeleton: 'hero.glb', options: { seed: 3 }, seconds: 1 },
        clips: [
          { name: 'walk', prompt: 'walk forward' },
          { name: 'run', prompt: 'run', seconds: 2 },
          { name: 'wave', request: { segments: [{ type: 'text', prompt: 'wave hello', duration_frames: 15 }], options: { num_samples: 2 } } },
        ],
      }),
    );
    const r = await run(['batch', manifest, '--out', out, '--concurrency', '2']);
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['batch-report.json', 'run.glb', 'walk.glb', 'wave.glb']);
    const frames = Object.fromEntries(['walk', 'run', 'wave'].map((n) => [n, glbJson(readFileSync(join(out, `${n}.glb`))).extensions.MMCP_motion]));
    expect(frames.walk.samples[0].num_frames).toBe(30);
    expect(frames.run.samples[0].num_frames).toBe(60);
    expect(frames.wave.samples).toHaveLength(2);
    expect(glbJson(readFileSync(join(out, 'walk.glb'))).nodes.map((n: { name: string }) => n.name)).toEqual(expect.arrayContaining(mixamo.joints.map((j) => j.name)));
    const rep = report();
    expect(rep.clips.map((c: { name: string; status: string }) => [c.name, c.status])).toEqual([['walk', 'written'], ['run', 'written'], ['wave', 'written']]);
    firstJobs = Object.fromEntries(rep.clips.map((c: { name: string; job_id: string }) => [c.name, c.job_id]));
  });

  it('resumes: existing files are skipped, and the re-made clip replays its already-paid job', async () => {
    unlinkSync(join(out, 'run.glb'));
    const r = await run(['batch', manifest, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('skipped walk (exists)');
    expect(r.stderr).toContain('skipped wave (exists)');
    const rep = report();
    expect(rep).toMatchObject({ written: 1, skipped: 2, failed: 0 });
    const run2 = rep.clips.find((c: { name: string }) => c.name === 'run');
    expect(run2.status).toBe('written');
    // Same request body → same Idempotency-Key → the gateway answered the first run's job again.
    expect(run2.job_id).toBe(firstJobs.run);
    expect(glbJson(readFileSync(join(out, 'run.glb'))).extensions.MMCP_motion.samples[0].num_frames).toBe(60);
  });

  it('reports a failing clip with its error and exits with its class, the other clips written (in-process)', async () => {
    const failing = join(dir, 'failing.json');
    const failOut = join(dir, 'failing');
    writeFileSync(failing, JSON.stringify({ clips: [{ name: 'ok', prompt: 'walk', seconds: 1 }, { name: 'bad', request: { segments: [{ type: 'text', prompt: 'walk', duration_frames: 30 }], options: { num_samples: 1000 } } }] }));
    const client = new MotionGatewayClient({ baseUrl: gw.url, apiKey: KEY, minPollMs: 20 });
    const code = await batchCommand(client, failing, { out: failOut, concurrency: 2 });
    expect(code).toBe(2);
    expect(readdirSync(failOut).sort()).toEqual(['batch-report.json', 'ok.glb']);
    const rep = JSON.parse(readFileSync(join(failOut, 'batch-report.json'), 'utf8'));
    expect(rep).toMatchObject({ written: 1, skipped: 0, failed: 1 });
    const bad = rep.clips.find((c: { name: string }) => c.name === 'bad');
    expect(bad).toMatchObject({ status: 'failed', error: { code: 'invalid_options', exit_code: 2 } });
    expect(bad.error.message).toMatch(/sample/i);
    expect(typeof bad.error.action).toBe('string');
  });
  it('tries a clip that failed last time afresh (a new key), instead of having its failed job replayed (in-process)', async () => {
    const flakyManifest = join(dir, 'flaky.json');
    const flakyOut = join(dir, 'flaky');
    writeFileSync(flakyManifest, JSON.stringify({ defaults: { model: 'flaky' }, clips: [{ name: 'f', prompt: 'walk', seconds: 1 }] }));
    const client = new MotionGatewayClient({ baseUrl: gw.url, apiKey: KEY, minPollMs: 20 });
    const readReport = () => JSON.parse(readFileSync(join(flakyOut, 'batch-report.json'), 'utf8')).clips[0];
    flakyFails = true;
    expect(await batchCommand(client, flakyManifest, { out: flakyOut, concurrency: 1 })).toBe(1);
    expect(readReport()).toMatchObject({ status: 'failed', attempt: 1, error: { code: 'internal_error' } });
    flakyFails = false;
    expect(await batchCommand(client, flakyManifest, { out: flakyOut, concurrency: 1 })).toBe(0);
    expect(readReport()).toMatchObject({ status: 'written', attempt: 2 });
    expect(existsSync(join(flakyOut, 'f.glb'))).toBe(true);
  });
});

describe.concurrent('motion-gateway capabilities, jobs, bin', () => {
  it('capabilities --json prints what /capabilities answers', async () => {
    const r = await run(['capabilities', '--json']);
    expect(r.code).toBe(0);
    const direct = await (await fetch(`${gw.url}/capabilities`, { headers: auth })).json();
    expect(JSON.parse(r.stdout)).toEqual(direct);
  });

  it('jobs status of an unknown id exits 4', async () => {
    const r = await run(['jobs', 'status', 'job_doesnotexist']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^error: .+/m);
    expect(r.stdout).toBe('');
  });

  it('bin/motion-gateway.mjs --version runs (from source through tsx in a checkout, so never a stale build)', async () => {
    const r = await cli(['--version'], {}, ['bin/motion-gateway.mjs']).done;
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  });
});
