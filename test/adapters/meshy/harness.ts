/**
 * Shared set-up of the Meshy tests: a simulator, a gateway serving the Meshy adapter against it, both on
 * one fast clock, and a client that reads answers as MMCP clients do.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { MeshyConfig } from '../../../src/adapters/meshy/config.js';
import { createMeshyAdapter, type MeshyDeps } from '../../../src/adapters/meshy/index.js';
import { MESHY_RIG } from '../../../src/adapters/meshy/rig.js';
import type { Config } from '../../../src/config.js';
import type { Clock } from '../../../src/spec/clock.js';
import { scaledClock } from '../../helpers/clock.js';
import { startGateway, type Running } from '../../helpers/gateway.js';
import type { GatewayOptions } from '../../../src/server/app.js';
import { startMeshySimulator, type MeshySimulator, type SimOptions } from '../../fakes/meshy/server.js';

/**
 * Scratch files (databases, a character file) of this test file, on tmpfs when there is one: the store
 * syncs every commit to disk, which costs tens of milliseconds per job on a disk and nothing in memory.
 * Removed after the file's last test (after hooks run in reverse order: the file's own close first).
 */
export const tmp = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'gw-meshy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let dbCounter = 0;
const freshDb = () => join(tmp, `meshy-${process.pid}-${++dbCounter}.db`);

/**
 * Simulated time runs this many times faster than the wall clock, for the simulator and the gateway
 * alike: a 1 s Retry-After passes in 20 ms, a 500 ms poll interval in 10 ms. Durations below are
 * simulated milliseconds unless they say otherwise.
 */
const TIME_FACTOR = 50;

/** A simulator on its own fast clock (a rig started with `simulator:` shares it). */
export function startSimulator(opts: SimOptions = {}): Promise<MeshySimulator> {
  return startMeshySimulator({ clock: scaledClock(TIME_FACTOR), ...opts });
}

/** Test timings: a step every few real milliseconds, short backoffs (in clock time: 10–40 real ms at TIME_FACTOR). */
export const FAST: MeshyDeps = {
  pollIntervalMs: 500,
  retry: { retries: 3, minTimeoutMs: 500, maxTimeoutMs: 2_000, maxRetryAfterMs: 3_000 },
  timeoutMs: 5_000,
};

export function meshyConfig(sim: MeshySimulator, over: Partial<MeshyConfig> = {}): MeshyConfig {
  return {
    baseUrl: sim.url,
    apiKey: sim.apiKey,
    characterUrl: sim.sampleUrl('humanoid'),
    characterHeightM: 1.7,
    maxConcurrentTasks: 4,
    jobTimeoutS: 900,
    downloadMaxBytes: 16 * 1_048_576,
    ...over,
  };
}

export interface Rig {
  sim: MeshySimulator;
  /** The clock the simulator and the gateway share. */
  clock: Clock;
  gw: Running;
  url: string;
  db: string;
  /** Stops the gateway and starts a new one on the same database (the simulator keeps running). */
  restart(over?: { meshy?: Partial<MeshyConfig>; deps?: MeshyDeps; gateway?: Partial<Config> }): Promise<void>;
  close(): Promise<void>;
}

export async function startRig(
  opts: { sim?: SimOptions; meshy?: Partial<MeshyConfig>; deps?: MeshyDeps; gateway?: Partial<Config>; simulator?: MeshySimulator; logger?: GatewayOptions['logger'] } = {},
): Promise<Rig> {
  const sim = opts.simulator ?? (await startSimulator(opts.sim));
  const clock = sim.clock;
  const db = freshDb();
  const boot = (meshy: Partial<MeshyConfig> = {}, deps: MeshyDeps = {}, gateway: Partial<Config> = {}) =>
    startGateway(
      { dbPath: db, syncWaitMs: 20_000, maxConcurrentJobs: 64, ...opts.gateway, ...gateway },
      {
        // The simulator's storage is another loopback origin: allow-listed as PROVIDER_ASSET_ORIGINS would.
        adapters: [createMeshyAdapter(meshyConfig(sim, { ...opts.meshy, ...meshy }), { ...FAST, clock, assetOrigins: [sim.assetOrigin], ...opts.deps, ...deps })],
        clock,
        ...(opts.logger ? { logger: opts.logger } : {}),
      },
    );
  const rig: Rig = {
    sim,
    clock,
    gw: await boot(),
    get url() {
      return this.gw.url;
    },
    db,
    async restart(over = {}) {
      await rig.gw.close();
      rig.gw = await boot(over.meshy, over.deps, over.gateway);
    },
    async close() {
      await rig.gw.close();
      if (!opts.simulator) await sim.close();
    },
  };
  return rig;
}

/** The wire form of the Meshy rig, as /capabilities shows it. */
const meshySkeleton = () => structuredClone(MESHY_RIG);

export function request(segments: Array<{ prompt?: string; frames: number } | { unconditioned: number }>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    protocol_version: '1.2',
    model: 'meshy',
    skeleton: meshySkeleton(),
    segments: segments.map((s) => ('unconditioned' in s ? { type: 'unconditioned', duration_frames: s.unconditioned } : { type: 'text', prompt: s.prompt, duration_frames: s.frames })),
    ...extra,
  };
}

export interface Answer {
  status: number;
  headers: Headers;
  /** The glTF document (JSON) on success. */
  gltf?: any;
  /** The error envelope otherwise. */
  error?: { error: { code: string; message: string; details: any }; detail: { error_code: string; message: string; action: string } };
  jobId?: string;
}

/** POST /generate and, when the answer is 202, poll the job until it is final, as the reference client does. */
export async function generate(url: string, body: unknown, opts: { headers?: Record<string, string>; poll?: boolean } = {}): Promise<Answer> {
  let res = await fetch(`${url}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', accept: 'model/gltf+json', ...opts.headers },
    body: JSON.stringify(body),
  });
  const jobId = res.headers.get('x-job-id') ?? undefined;
  while (res.status === 202 && opts.poll !== false) {
    await res.arrayBuffer();
    await new Promise((r) => setTimeout(r, 50));
    res = await fetch(`${url}${res.headers.get('location')}`, { headers: { accept: 'model/gltf+json' } });
  }
  const text = await res.text();
  const parsed = text ? JSON.parse(text) : undefined;
  if (res.status === 200) return { status: 200, headers: res.headers, gltf: parsed, jobId };
  return { status: res.status, headers: res.headers, error: res.status === 202 ? undefined : parsed, jobId };
}

/** `x_understood` of each sample. */
export function understood(gltf: any): any[][] {
  return gltf.extensions.MMCP_motion.samples.map((s: any) => s.x_understood);
}

/** Root translation keys of one animation (x, y, z per frame), read from the embedded buffer. */
export function rootTrack(gltf: any, sample = 0): number[][] {
  const anim = gltf.animations[sample];
  const channel = anim.channels.find((c: any) => c.target.path === 'translation' && c.target.node === 0);
  const acc = gltf.accessors[anim.samplers[channel.sampler].output];
  const view = gltf.bufferViews[acc.bufferView];
  const data = Buffer.from(String(gltf.buffers[0].uri).split(',')[1], 'base64');
  const floats = new Float32Array(data.buffer, data.byteOffset + (view.byteOffset ?? 0) + (acc.byteOffset ?? 0), acc.count * 3);
  return Array.from({ length: acc.count }, (_, i) => [floats[i * 3], floats[i * 3 + 1], floats[i * 3 + 2]]);
}

/** Polls a job until it is final (awaiting the runner's own notice, not a timer) and reads its answer. */
export async function finish(rig: Rig, location: string): Promise<{ status: number; body: any }> {
  const id = location.split('/').at(-1)!;
  for (;;) {
    await rig.gw.gw.runner.waitFor(id, 20_000);
    const res = await fetch(`${rig.url}${location}`, { headers: { accept: 'model/gltf+json' } });
    if (res.status !== 202) return { status: res.status, body: await res.json() };
    await res.arrayBuffer();
  }
}
