/**
 * Test harness: a SayMotion simulator and a real gateway serving the SayMotion adapter against it, both on
 * loopback and on one shared scaled clock: provider patience (job runs, Retry-After, session lifetimes,
 * provider job timeouts, grace periods) passes SPEED times faster than it says, and both sides agree on
 * every timestamp.
 */
import type { Config } from '../../../src/config.js';
import type { Clock } from '../../../src/spec/clock.js';
import type { SayMotionConfig } from '../../../src/adapters/saymotion/config.js';
import { createSayMotionAdapter, type SayMotionAdapter, type SayMotionDeps } from '../../../src/adapters/saymotion/index.js';
import { scaledClock } from '../../helpers/clock.js';
import { startGateway, type Running } from '../../helpers/gateway.js';
import type { GatewayOptions } from '../../../src/server/app.js';
import type { SimulatorOptions } from '../../fakes/saymotion/options.js';
import { startSayMotionSimulator, type SayMotionSimulator } from '../../fakes/saymotion/server.js';

export interface Setup {
  sim: SayMotionSimulator;
  gw: Running;
  adapter: SayMotionAdapter;
  cfg: SayMotionConfig;
  /** The time simulator, adapter and job runner share. */
  clock: Clock;
  close(): Promise<void>;
}

/**
 * How many times faster than the wall clock the tests' provider runs. Transport timeouts (callTimeoutMs,
 * downloadTimeoutMs) stay on real time: loopback is not faster for it.
 */
const SPEED = 10;

/** A simulator on a clock of its own (SPEED unless told), for tests that start gateways themselves. */
export function simulatorOn(opts: SimulatorOptions = {}, speed = SPEED): Promise<SayMotionSimulator> {
  return startSayMotionSimulator({ clock: scaledClock(speed), ...opts });
}

/** Production code paths, tuned short: quick backoffs and grace periods, so each misbehaviour plays out at once. */
export const FAST_DEPS: SayMotionDeps = {
  // Backoffs are on the clock: 50–400 clock ms are 5–40 real ms at SPEED.
  retry: { retries: 3, minTimeoutMs: 50, maxTimeoutMs: 400, maxRetryAfterMs: 1_500 },
  callTimeoutMs: 2_000,
  downloadTimeoutMs: 5_000,
  missingGraceMs: 2_000,
  // On the shared clock: the account check at start-up must not lose this race on a busy machine.
  initWaitMs: 20_000,
};

export function sayMotionConfig(sim: SayMotionSimulator, over: Partial<SayMotionConfig> = {}): SayMotionConfig {
  return {
    baseUrl: sim.url,
    clientId: sim.clientId,
    clientSecret: sim.clientSecret,
    characterId: sim.characterId,
    maxVariants: 8,
    pollIntervalMs: 30,
    jobTimeoutS: 60,
    downloadMaxBytes: 16 * 1_048_576,
    ...over,
  };
}

export async function setup(
  opts: {
    sim?: SimulatorOptions;
    simulator?: SayMotionSimulator;
    config?: Partial<SayMotionConfig>;
    deps?: SayMotionDeps;
    gateway?: Partial<Config>;
    /** How much faster than real time the setup's clock runs (default SPEED; ignored with `simulator`). */
    speed?: number;
    /** The gateway's logger (tests capture its lines). */
    logger?: GatewayOptions['logger'];
  } = {},
): Promise<Setup> {
  const sim = opts.simulator ?? (await simulatorOn(opts.sim, opts.speed));
  const clock = sim.clock;
  const cfg = sayMotionConfig(sim, opts.config);
  // The simulator's storage is another loopback origin: allow-listed as PROVIDER_ASSET_ORIGINS would.
  const adapter = createSayMotionAdapter(cfg, { ...FAST_DEPS, clock, assetOrigins: [sim.storageUrl], ...opts.deps });
  const gw = await startGateway({ syncWaitMs: 15_000, ...opts.gateway }, { adapters: [adapter], clock, ...(opts.logger ? { logger: opts.logger } : {}) });
  return {
    sim,
    gw,
    adapter,
    cfg,
    clock,
    async close() {
      await gw.close();
      if (!opts.simulator) await sim.close();
    },
  };
}

/** A GenerateRequest for the saymotion model. */
export function request(skeleton: unknown, segments: unknown[], options: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return { protocol_version: '1.2', model: 'saymotion', skeleton, segments, options, ...extra };
}

export const text = (prompt: string, frames: number) => ({ type: 'text', prompt, duration_frames: frames });

export interface Answer {
  status: number;
  headers: Headers;
  /** JSON body (glTF or error envelope). */
  body: any;
}

/** POST /generate and read the answer as JSON (glTF JSON or the error envelope). */
export async function generate(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${url}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', accept: 'model/gltf+json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

/** Polls an async job until it stops answering 202. */
export async function settle(url: string, location: string, timeoutMs = 20_000): Promise<Answer> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(url + location, { headers: { accept: 'model/gltf+json' } });
    const text = await res.text();
    if (res.status !== 202 || Date.now() > until) return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits until `cond` holds (polling every 10 ms). */
export async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The MMCP_motion extension of a glTF answer. */
export const mmcp = (gltf: any) => gltf.extensions.MMCP_motion;
