/**
 * Model routes (MODEL_ROUTES): a route is a model of /capabilities whose capabilities every target
 * honours; a request to it is served by the first target that is ready and whose admission does not fail
 * with a fallback error; the answer says who served it (MMCP_motion.x_served_by, X-Served-By) on the
 * 200, polls and replays; extensions.routing reorders or narrows the targets.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Adapter } from '../../src/spec/adapter.js';
import { ConfigError, GatewayError } from '../../src/spec/errors.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { BreakerState } from '../../src/adapters/breakers.js';
import { parseRoutes } from '../../src/adapters/routes.js';
import { createProceduralAdapter } from '../../src/adapters/procedural/index.js';
import { createGatedAdapter, type GatedAdapter, type GatedOptions } from '../helpers/gated-adapter.js';
import { canonicalSkeleton, postGenerate, startGateway, type Running } from '../helpers/gateway.js';
import { testConfig } from '../helpers/config.js';
import { dropRedisPrefix } from '../helpers/redis-prefix.js';

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
import { createRegistry } from '../../src/server/app.js';

const tmp = mkdtempSync(join(tmpdir(), 'gw-routes-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const ROUTES = { text2motion: ['alpha', 'beta'] };

interface Target {
  adapter: GatedAdapter;
  ready: boolean;
  /** Thrown by start() when set (before any provider job exists). */
  startError?: GatewayError;
  /** Thrown by advance() when set. */
  advanceError?: GatewayError;
}

function target(id: string, opts: Pick<GatedOptions, 'caps' | 'shared'> = {}): Target {
  const inner = createGatedAdapter({ modelId: id, provider: id, open: true, caps: opts.caps, shared: opts.shared });
  const t: Target = { adapter: inner, ready: true };
  t.adapter = {
    ...inner,
    readiness: () => (t.ready ? { ready: true } : { ready: false, reason: `${id} is down` }),
    start: async (plan) => {
      if (t.startError) {
        inner.calls.start++;
        throw t.startError;
      }
      return inner.start(plan);
    },
    advance: async (plan, checkpoint, ctx) => {
      if (t.advanceError) {
        inner.calls.advance++;
        throw t.advanceError;
      }
      return inner.advance(plan, checkpoint, ctx);
    },
  };
  return t;
}

async function gateway(targets: Target[], routes: unknown = ROUTES, dbPath?: string, extra: Partial<Config> = {}): Promise<Running> {
  const adapters: Adapter[] = [createProceduralAdapter(), ...targets.map((t) => t.adapter)];
  return startGateway({ routes: parseRoutes(routes, 'MODEL_ROUTES'), ...(dbPath ? { dbPath } : {}), ...extra }, { adapters });
}

async function body(url: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  return {
    protocol_version: '1.3',
    model: 'text2motion',
    skeleton: await canonicalSkeleton(url, 'text2motion'),
    segments: [{ type: 'text', prompt: 'walk forward', duration_frames: 20 }],
    ...extra,
  };
}

const JSON_GLTF = { accept: 'model/gltf+json' };
const servedBy = async (res: Response) => (await res.json()).extensions.MMCP_motion.x_served_by;

describe('a route in /capabilities', () => {
  it('advertises what every target honours, on the procedural model’s skeleton', async () => {
    const alpha = target('alpha', { caps: { supported_constraints: ['root_path', 'pose_keyframe'], supports_batch: true, supports_async: false, limits: { ...createProceduralAdapter().models()[0].limits, max_duration_seconds: 7 } } });
    const beta = target('beta', { caps: { supported_constraints: ['root_path', 'effector_target'], supports_batch: false, supports_async: true, fps: 24 } });
    const gw = await gateway([alpha, beta]);
    try {
      const caps = await (await fetch(`${gw.url}/capabilities`)).json();
      const route = caps.models.find((m: any) => m.id === 'text2motion');
      const procedural = caps.models.find((m: any) => m.id === 'procedural');
      expect(route.supported_constraints).toEqual(['root_path']);
      expect(route.supports_batch).toBe(false);
      expect(route.supports_async).toBe(true);
      expect(route.limits.max_duration_seconds).toBe(7);
      expect(route.fps).toBe(caps.models.find((m: any) => m.id === 'alpha').fps);
      expect(route.canonical_skeleton).toEqual(procedural.canonical_skeleton);
      // Validated against the route's capabilities: beta takes effector targets, the route does not.
      const res = await postGenerate(gw.url, await body(gw.url, { constraints: [{ type: 'effector_target', joint: 'left_wrist', frames: [5], positions: [[0.3, 1, 0.2]] }] }));
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(JSON.stringify(await res.json())).toMatch(/effector_target/);
      expect(alpha.adapter.calls.start + beta.adapter.calls.start).toBe(0);
    } finally {
      await gw.close();
    }
  });
});

describe('fallback', () => {
  it('skips a target that is not ready and lists it in attempts', async () => {
    const alpha = target('alpha');
    const beta = target('beta');
    alpha.ready = false;
    const gw = await gateway([alpha, beta]);
    try {
      const res = await postGenerate(gw.url, await body(gw.url), JSON_GLTF);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-served-by')).toBe('beta');
      const gltf = await res.json();
      expect(gltf.extensions.MMCP_motion.model).toBe('text2motion');
      expect(gltf.extensions.MMCP_motion.x_served_by).toEqual({ model: 'beta', provider: 'beta', attempts: [{ model: 'alpha', error_code: 'model_unavailable', error_id: 'MG-SRV-003' }] });
      expect(alpha.adapter.calls.start).toBe(0);
    } finally {
      await gw.close();
    }
  });

  it('serves a batch item naming the route by its next target, beside items naming a model', async () => {
    const alpha = target('alpha');
    const beta = target('beta');
    alpha.ready = false;
    const gw = await gateway([alpha, beta]);
    try {
      const item = await body(gw.url);
      const res = await postGenerate(gw.url, { protocol_version: '1.3', requests: [item, { ...item, model: 'beta' }, { ...item, extensions: { routing: { only: ['alpha'] } } }] }, { accept: 'application/json' });
      expect(res.status).toBe(200);
      const { results } = await res.json();
      expect(results[0].gltf.extensions.MMCP_motion.x_served_by).toEqual({ model: 'beta', provider: 'beta', attempts: [{ model: 'alpha', error_code: 'model_unavailable', error_id: 'MG-SRV-003' }] });
      expect(results[0].gltf.extensions.MMCP_motion.model).toBe('text2motion');
      expect(results[1].gltf.extensions.MMCP_motion.x_served_by).toEqual({ model: 'beta', provider: 'beta', attempts: [] });
      // Narrowed to the target that is down: that item fails alone, with the attempts.
      expect(results[2].error.code).toBe('model_unavailable');
      expect(results[2].error.details.attempts).toEqual([{ model: 'alpha', error_code: 'model_unavailable', error_id: 'MG-SRV-003' }]);
      expect(alpha.adapter.calls.start).toBe(0);
    } finally {
      await gw.close();
    }
  });

  it('hands the job to the next target when start fails with 503, and answers 503 with the attempts when all do', async () => {
    const alpha = target('alpha');
    const beta = target('beta');
    alpha.startError = new GatewayError('MG-PRV-503', undefined, { details: { provider: 'alpha' } });
    const gw = await gateway([alpha, beta]);
    try {
      const res = await postGenerate(gw.url, await body(gw.url), JSON_GLTF);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-served-by')).toBe('beta');
      expect((await servedBy(res)).attempts).toEqual([{ model: 'alpha', error_code: 'model_unavailable', error_id: 'MG-PRV-503' }]);
      expect([alpha.adapter.calls.start, beta.adapter.calls.start]).toEqual([1, 1]);

      beta.startError = new GatewayError('MG-PRV-504');
      const none = await postGenerate(gw.url, await body(gw.url));
      expect(none.status).toBe(504);
      const err = (await none.json()).error;
      expect(err.details.attempts.map((a: any) => [a.model, a.error_id])).toEqual([
        ['alpha', 'MG-PRV-503'],
        ['beta', 'MG-PRV-504'],
      ]);
    } finally {
      await gw.close();
    }
  });

  it('answers a caller error of the first target at once (no fallback)', async () => {
    const alpha = target('alpha');
    const beta = target('beta');
    alpha.startError = new GatewayError('MG-PRV-400', 'No motion in the library matches this prompt.', { details: { provider: 'alpha' } });
    const gw = await gateway([alpha, beta]);
    try {
      const res = await postGenerate(gw.url, await body(gw.url));
      expect(res.status).toBe(400);
      expect((await res.json()).error.code).toBe('invalid_request');
      expect(beta.adapter.calls.start).toBe(0);
    } finally {
      await gw.close();
    }
  });
});

/** Polls a job until it is final; the final answer. */
async function settle(gw: Running, location: string): Promise<Response> {
  for (;;) {
    const res = await fetch(gw.url + location, { headers: JSON_GLTF });
    if (res.status !== 202) return res;
    await res.arrayBuffer();
    await gw.gw.runner.waitFor(location.split('/').pop()!, 5_000);
  }
}

describe('fallback of a running job', () => {
  it('moves to the next target when the first advance fails with 503 before any checkpoint', async () => {
    const alpha = target('alpha');
    const beta = target('beta');
    alpha.advanceError = new GatewayError('MG-PRV-503');
    const gw = await gateway([alpha, beta]);
    try {
      const accepted = await postGenerate(gw.url, await body(gw.url), { prefer: 'respond-async', ...JSON_GLTF });
      expect(accepted.status).toBe(202);
      await accepted.arrayBuffer();
      const done = await settle(gw, accepted.headers.get('location')!);
      expect(done.status).toBe(200);
      expect(done.headers.get('x-served-by')).toBe('beta');
      expect((await servedBy(done)).attempts).toEqual([{ model: 'alpha', error_code: 'model_unavailable', error_id: 'MG-PRV-503' }]);
      expect([alpha.adapter.calls.advance, beta.adapter.calls.start]).toEqual([1, 1]);
      const status = await (await fetch(`${gw.url}${accepted.headers.get('location')}/status`)).json();
      expect(status.served_by).toEqual({ model: 'beta', provider: 'beta' });
    } finally {
      await gw.close();
    }
  });

  it('fails without falling back once the target has made progress (it may have been paid)', async () => {
    const shared = { calls: { start: 0, advance: 0, cancel: 0 }, gate: { open: false } };
    const alpha = target('alpha', { shared });
    const beta = target('beta');
    const gw = await gateway([alpha, beta]);
    try {
      const accepted = await postGenerate(gw.url, await body(gw.url), { prefer: 'respond-async', ...JSON_GLTF });
      await accepted.arrayBuffer();
      await alpha.adapter.advanced(1);
      alpha.advanceError = new GatewayError('MG-PRV-503');
      const done = await settle(gw, accepted.headers.get('location')!);
      expect(done.status).toBe(503);
      expect(done.headers.get('x-served-by')).toBe('alpha');
      expect(beta.adapter.calls.start).toBe(0);
    } finally {
      await gw.close();
    }
  });
});

describe('fallback of a job that began before a restart', () => {
  it('moves on when the target fails mid-way without charging (provider_charged: false), never starting it twice', async () => {
    const db = join(tmp, 'uncharged.db');
    const shared = { calls: { start: 0, advance: 0, cancel: 0 }, gate: { open: false } };
    const alpha1 = target('alpha', { shared });
    const first = await gateway([alpha1, target('beta')], ROUTES, db);
    const accepted = await postGenerate(first.url, await body(first.url), { prefer: 'respond-async', ...JSON_GLTF });
    expect(accepted.status).toBe(202);
    const location = accepted.headers.get('location')!;
    await accepted.arrayBuffer();
    await alpha1.adapter.advanced(1);
    await first.close();

    // After the restart alpha's job fails, and alpha says nothing was charged (Meshy refunds a FAILED task).
    const alpha2 = target('alpha', { shared });
    alpha2.advanceError = new GatewayError('MG-PRV-500', 'The provider failed.', { details: { provider_task_status: 'FAILED', provider_charged: false } });
    const beta2 = target('beta');
    const second = await gateway([alpha2, beta2], ROUTES, db);
    try {
      const done = await settle(second, location);
      expect(done.status).toBe(200);
      expect(done.headers.get('x-served-by')).toBe('beta');
      expect((await servedBy(done)).attempts).toEqual([{ model: 'alpha', error_code: 'internal_error', error_id: 'MG-PRV-500' }]);
      // alpha's provider job was created once, before the restart; beta's once, after it.
      expect([shared.calls.start, beta2.adapter.calls.start]).toEqual([1, 1]);
    } finally {
      await second.close();
    }
  });

  it('fails the job when the failure may have been charged (no provider_charged: false)', async () => {
    const db = join(tmp, 'charged.db');
    const shared = { calls: { start: 0, advance: 0, cancel: 0 }, gate: { open: false } };
    const alpha1 = target('alpha', { shared });
    const first = await gateway([alpha1, target('beta')], ROUTES, db);
    const accepted = await postGenerate(first.url, await body(first.url), { prefer: 'respond-async', ...JSON_GLTF });
    const location = accepted.headers.get('location')!;
    await accepted.arrayBuffer();
    await alpha1.adapter.advanced(1);
    await first.close();

    const alpha2 = target('alpha', { shared });
    alpha2.advanceError = new GatewayError('MG-PRV-500');
    const beta2 = target('beta');
    const second = await gateway([alpha2, beta2], ROUTES, db);
    try {
      const done = await settle(second, location);
      expect(done.status).toBe(500);
      expect(done.headers.get('x-served-by')).toBe('alpha');
      expect(beta2.adapter.calls.start).toBe(0);
    } finally {
      await second.close();
    }
  });
});

describe('circuit breakers', () => {
  /** Resolves when the provider's breaker enters `state`. */
  const entered = (gw: Running, provider: string, state: BreakerState) =>
    new Promise<void>((resolve) => {
      if (gw.gw.registry.breakers.state(provider) === state) return resolve();
      gw.gw.registry.breakers.onChange((p, s) => p === provider && s === state && resolve());
    });
  const metric = async (gw: Running, line: string) => (await (await fetch(`${gw.url}/metrics`)).text()).split('\n').find((l) => l.startsWith(line));

  it('open after a run of failures, pass the target over without calling it, and close after a half-open probe succeeds', async () => {
    const alpha = target('alpha');
    const beta = target('beta');
    alpha.advanceError = new GatewayError('MG-PRV-503');
    const gw = await gateway([alpha, beta], ROUTES, undefined, { breakers: { failures: 2, errorPercent: 100, volume: 1_000, windowMs: 60_000, resetMs: 400 } });
    try {
      for (const n of [1, 2]) {
        const res = await postGenerate(gw.url, await body(gw.url), JSON_GLTF);
        expect(res.status).toBe(200);
        expect(res.headers.get('x-served-by')).toBe('beta');
        expect(alpha.adapter.calls.advance).toBe(n);
      }
      expect(gw.gw.registry.breakers.state('alpha')).toBe('open');
      expect(await metric(gw, 'gateway_breaker_state{provider="alpha"}')).toBe('gateway_breaker_state{provider="alpha"} 2');
      expect(await metric(gw, 'gateway_breaker_state{provider="beta"}')).toBe('gateway_breaker_state{provider="beta"} 0');
      const ready = await (await fetch(`${gw.url}/readyz`)).json();
      expect(ready.breakers.alpha).toMatchObject({ state: 'open', consecutive_failures: 2 });

      // Open: skipped at admission, never called.
      const skipped = await postGenerate(gw.url, await body(gw.url), JSON_GLTF);
      expect(skipped.status).toBe(200);
      expect((await servedBy(skipped)).attempts).toEqual([{ model: 'alpha', error_code: 'model_unavailable', error_id: 'MG-SRV-004' }]);
      expect(alpha.adapter.calls.advance).toBe(2);
      // Naming the model itself: 503 with the time until the probe.
      const direct = await postGenerate(gw.url, { ...(await body(gw.url)), model: 'alpha', skeleton: await canonicalSkeleton(gw.url, 'alpha') });
      expect(direct.status).toBe(503);
      expect(Number(direct.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await direct.json()).detail.error_code).toBe('MG-SRV-004');
      expect(await metric(gw, 'gateway_route_fallbacks_total{route="text2motion",target="alpha",reason="MG-SRV-004"}')).toMatch(/ 1$/);
      expect(await metric(gw, 'gateway_route_fallbacks_total{route="text2motion",target="alpha",reason="MG-PRV-503"}')).toMatch(/ 2$/);

      // Recovered: the half-open probe goes to alpha and closes the breaker.
      alpha.advanceError = undefined;
      await entered(gw, 'alpha', 'half_open');
      const probe = await postGenerate(gw.url, await body(gw.url), JSON_GLTF);
      expect(probe.status).toBe(200);
      expect(probe.headers.get('x-served-by')).toBe('alpha');
      expect(gw.gw.registry.breakers.state('alpha')).toBe('closed');
      expect(await metric(gw, 'gateway_breaker_state{provider="alpha"}')).toBe('gateway_breaker_state{provider="alpha"} 0');
      expect(await metric(gw, 'gateway_provider_step_seconds_count{provider="alpha",outcome="MG-PRV-503"}')).toMatch(/ 2$/);
    } finally {
      await gw.close();
    }
  });

  it('a failed probe opens the breaker again; caller errors never count', async () => {
    const alpha = target('alpha');
    const beta = target('beta');
    alpha.advanceError = new GatewayError('MG-PRV-400');
    const gw = await gateway([alpha, beta], ROUTES, undefined, { breakers: { failures: 1, errorPercent: 100, volume: 1_000, windowMs: 60_000, resetMs: 300 } });
    try {
      for (let i = 0; i < 3; i++) expect((await postGenerate(gw.url, await body(gw.url), JSON_GLTF)).status).toBe(400);
      expect(gw.gw.registry.breakers.state('alpha')).toBe('closed');
      alpha.advanceError = new GatewayError('MG-PRV-500');
      expect((await postGenerate(gw.url, await body(gw.url), JSON_GLTF)).headers.get('x-served-by')).toBe('beta');
      expect(gw.gw.registry.breakers.state('alpha')).toBe('open');
      await entered(gw, 'alpha', 'half_open');
      const calls = alpha.adapter.calls.advance;
      expect((await postGenerate(gw.url, await body(gw.url), JSON_GLTF)).headers.get('x-served-by')).toBe('beta');
      expect(alpha.adapter.calls.advance).toBe(calls + 1); // the probe
      expect(gw.gw.registry.breakers.state('alpha')).toBe('open');
    } finally {
      await gw.close();
    }
  });
});

describe('circuit breakers across instances (STORE=redis)', () => {
  it('an opening on one instance holds on the others, and for one started later', async () => {
    const prefix = `mgtest:breakers-${randomBytes(6).toString('hex')}:`;
    const redis: Partial<Config> = { store: 'redis', redisUrl: REDIS_URL, redisPrefix: prefix, breakers: { failures: 1, errorPercent: 100, volume: 1_000, windowMs: 60_000, resetMs: 60_000 } };
    const pair = () => {
      const alpha = target('alpha');
      alpha.advanceError = new GatewayError('MG-PRV-503');
      return [alpha, target('beta')];
    };
    const [alphaA, betaA] = pair();
    const [alphaB, betaB] = pair();
    const a = await gateway([alphaA, betaA], ROUTES, undefined, redis);
    const b = await gateway([alphaB, betaB], ROUTES, undefined, redis);
    let c: Running | undefined;
    try {
      const openedOnB = new Promise<void>((resolve) => b.gw.registry.breakers.onChange((p, st) => p === 'alpha' && st === 'open' && resolve()));
      expect((await postGenerate(a.url, await body(a.url), JSON_GLTF)).headers.get('x-served-by')).toBe('beta');
      expect(a.gw.registry.breakers.state('alpha')).toBe('open');
      await openedOnB;
      const onB = await postGenerate(b.url, await body(b.url), JSON_GLTF);
      expect(onB.headers.get('x-served-by')).toBe('beta');
      expect((await servedBy(onB)).attempts[0]).toMatchObject({ model: 'alpha', error_id: 'MG-SRV-004' });
      expect(alphaB.adapter.calls.advance).toBe(0);
      const [alphaC, betaC] = pair();
      c = await gateway([alphaC, betaC], ROUTES, undefined, redis);
      expect(c.gw.registry.breakers.state('alpha')).toBe('open');
    } finally {
      await Promise.all([a.close(), b.close(), c?.close()]);
      await dropRedisPrefix(REDIS_URL, prefix);
    }
  });
});

describe('weighted choice', () => {
  it('gives each target its share of first tries, falls back in the drawn order, and prefer/only still apply', async () => {
    const alpha = target('alpha');
    const beta = target('beta');
    const gw = await gateway([alpha, beta], { text2motion: [{ model: 'alpha', weight: 3 }, { model: 'beta', weight: 1 }] });
    let state = 7; // a seeded draw (LCG), so the split is the same on every run
    gw.gw.registry.random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    try {
      const served: Record<string, number> = { alpha: 0, beta: 0 };
      for (let i = 0; i < 40; i++) {
        const res = await postGenerate(gw.url, await body(gw.url, { options: { seed: i } }), JSON_GLTF);
        expect(res.status).toBe(200);
        served[res.headers.get('x-served-by')!]++;
        await res.arrayBuffer();
      }
      // 3:1 of 40 is 30:10; a binomial draw stays within ±9 of it (over 3 standard deviations).
      expect(served.alpha).toBeGreaterThanOrEqual(21);
      expect(served.beta).toBeGreaterThanOrEqual(3);
      expect(served.alpha + served.beta).toBe(40);
      // Whichever is drawn first, a failing one hands over to the other.
      alpha.ready = false;
      for (let i = 0; i < 4; i++) expect((await postGenerate(gw.url, await body(gw.url, { options: { seed: 100 + i } }), JSON_GLTF)).headers.get('x-served-by')).toBe('beta');
      alpha.ready = true;
      for (let i = 0; i < 4; i++) {
        const res = await postGenerate(gw.url, await body(gw.url, { options: { seed: 200 + i }, extensions: { routing: { prefer: 'beta' } } }), JSON_GLTF);
        expect(res.headers.get('x-served-by')).toBe('beta');
      }
    } finally {
      await gw.close();
    }
  });
});

describe('extensions.routing', () => {
  it('prefer puts a target first, only narrows the list, and a target the route does not hold is refused', async () => {
    const alpha = target('alpha');
    const beta = target('beta');
    const gw = await gateway([alpha, beta]);
    try {
      const preferred = await postGenerate(gw.url, await body(gw.url, { extensions: { routing: { prefer: 'beta' } } }), JSON_GLTF);
      expect(preferred.status).toBe(200);
      expect(await servedBy(preferred)).toEqual({ model: 'beta', provider: 'beta', attempts: [] });

      alpha.ready = false;
      const only = await postGenerate(gw.url, await body(gw.url, { extensions: { routing: { only: ['alpha'] } } }));
      expect(only.status).toBe(503);
      expect((await only.json()).error.details.targets).toEqual({ alpha: 'alpha is down' });

      const unknown = await postGenerate(gw.url, await body(gw.url, { extensions: { routing: { prefer: 'procedural' } } }));
      expect(unknown.status).toBe(400);
      const err = (await unknown.json()).error;
      expect(err.code).toBe('invalid_options');
      expect(err.details.targets).toEqual(['alpha', 'beta']);
      expect(beta.adapter.calls.start).toBe(1);
    } finally {
      await gw.close();
    }
  });
});

describe('who served it', () => {
  it('X-Served-By on the 200 of a plain model, on a poll and on a seeded replay served from the cache', async () => {
    const alpha = target('alpha');
    const beta = target('beta');
    const gw = await gateway([alpha, beta]);
    try {
      const plain = await postGenerate(gw.url, { ...(await body(gw.url)), model: 'procedural' }, JSON_GLTF);
      expect(plain.status).toBe(200);
      expect(plain.headers.get('x-served-by')).toBe('procedural');
      expect(await servedBy(plain)).toEqual({ model: 'procedural', provider: 'procedural', attempts: [] });

      const seeded = await body(gw.url, { options: { seed: 11 } });
      const first = await postGenerate(gw.url, seeded, { prefer: 'respond-async', ...JSON_GLTF });
      expect(first.status).toBe(202);
      expect(first.headers.get('x-served-by')).toBe('alpha');
      const location = first.headers.get('location')!;
      await first.arrayBuffer();
      const status = await (await fetch(`${gw.url}${location}/status`)).json();
      expect(status.served_by).toEqual({ model: 'alpha', provider: 'alpha' });
      let poll = await fetch(gw.url + location, { headers: JSON_GLTF });
      while (poll.status === 202) {
        expect(poll.headers.get('x-served-by')).toBe('alpha');
        await poll.arrayBuffer();
        await gw.gw.runner.waitFor(location.split('/').pop()!, 5_000);
        poll = await fetch(gw.url + location, { headers: JSON_GLTF });
      }
      expect(poll.status).toBe(200);
      expect(poll.headers.get('x-served-by')).toBe('alpha');
      const original = await poll.text();

      // Alpha is down now: the same request and seed still get alpha's answer, from the cache.
      alpha.ready = false;
      const startsBefore = alpha.adapter.calls.start + beta.adapter.calls.start;
      const replay = await postGenerate(gw.url, seeded, JSON_GLTF);
      expect(replay.status).toBe(200);
      expect(replay.headers.get('x-served-by')).toBe('alpha');
      expect(await replay.text()).toBe(original);
      expect(alpha.adapter.calls.start + beta.adapter.calls.start).toBe(startsBefore);
    } finally {
      await gw.close();
    }
  });

  it('an async job stays on its target across a restart (the target is in the job row)', async () => {
    const db = join(tmp, 'restart.db');
    const shared = { calls: { start: 0, advance: 0, cancel: 0 }, gate: { open: false } };
    const mk = () => {
      const alpha = target('alpha');
      const beta = target('beta', { shared });
      return { alpha, beta };
    };
    const one = mk();
    one.alpha.ready = false;
    const first = await gateway([one.alpha, one.beta], ROUTES, db);
    const accepted = await postGenerate(first.url, await body(first.url), { prefer: 'respond-async', ...JSON_GLTF });
    expect(accepted.status).toBe(202);
    const location = accepted.headers.get('location')!;
    await accepted.arrayBuffer();
    await one.beta.adapter.advanced(1);
    await first.close();

    // Alpha is ready again, but the job's provider work is beta's: it finishes there.
    shared.gate.open = true;
    const two = mk();
    const second = await gateway([two.alpha, two.beta], ROUTES, db);
    try {
      let done = await fetch(second.url + location, { headers: JSON_GLTF });
      while (done.status === 202) {
        await done.arrayBuffer();
        await second.gw.runner.waitFor(location.split('/').pop()!, 5_000);
        done = await fetch(second.url + location, { headers: JSON_GLTF });
      }
      expect(done.status).toBe(200);
      expect(done.headers.get('x-served-by')).toBe('beta');
      expect((await servedBy(done)).attempts.map((a: any) => a.model)).toEqual(['alpha']);
      expect(shared.calls.start).toBe(1);
      expect(two.alpha.adapter.calls.start + two.alpha.adapter.calls.advance).toBe(0);
    } finally {
      await second.close();
    }
  });
});

describe('route configuration', () => {
  const adapters = () => [createProceduralAdapter(), target('alpha').adapter, target('beta').adapter];
  const registryWith = (routes: unknown) => () => createRegistry(testConfig({ routes: parseRoutes(routes, 'MODEL_ROUTES') }), adapters());

  it.each([
    ['an unknown target', { r: ['alpha', 'nope'] }, /route "r" targets "nope", which is not a model/],
    ['an id clashing with a model', { alpha: ['beta'] }, /route "alpha" has the id of a served model/],
    ['a route as a target', { r: ['alpha'], s: ['r'] }, /route "s" targets "r".*cannot target another route/],
  ])('refuses %s when the registry is built', (_name, routes, message) => {
    expect(registryWith(routes)).toThrow(ConfigError);
    expect(registryWith(routes)).toThrow(message);
  });

  it.each([
    ['an empty list', '{"r": []}', /route "r" needs a non-empty list/],
    ['a duplicate target', '{"r": ["alpha", {"model": "alpha"}]}', /route "r" lists target "alpha" twice/],
    ['a target of the wrong shape', '{"r": [{"name": "alpha"}]}', /route "r" target 0 must be a model id/],
    ['not JSON', '{r:', /MODEL_ROUTES is not valid JSON/],
    ['a weight that is not positive', '{"r": [{"model": "alpha", "weight": 0}, "beta"]}', /target "alpha": weight must be a positive number/],
  ])('refuses %s in MODEL_ROUTES', (_name, value, message) => {
    expect(() => loadConfig({ MODEL_ROUTES: value })).toThrow(ConfigError);
    expect(() => loadConfig({ MODEL_ROUTES: value })).toThrow(message);
  });

  it('reads ROUTES_FILE as YAML, with pinned extensions', () => {
    const file = join(tmp, 'routes.yaml');
    writeFileSync(file, 'text2motion:\n  - model: alpha\n    extensions: { style: brisk }\n  - beta\n');
    expect(loadConfig({ ROUTES_FILE: file }).routes).toEqual([{ id: 'text2motion', targets: [{ model: 'alpha', extensions: { style: 'brisk' } }, { model: 'beta' }] }]);
    expect(() => loadConfig({ ROUTES_FILE: join(tmp, 'missing.yaml') })).toThrow(/ROUTES_FILE: cannot read/);
    expect(() => loadConfig({ ROUTES_FILE: file, MODEL_ROUTES: '{}' })).toThrow(/both set/);
  });
});
