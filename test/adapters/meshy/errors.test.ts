/**
 * Every row of the Meshy error table, walked end to end: the simulator misbehaves one way, the gateway
 * answers the catalogue error of that row with Meshy's origin in details. Then the misbehaviours that
 * must end well: transient refusals and failures are retried (or resubmitted) into a success.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MESHY_ERROR_TABLE } from '../../../src/adapters/meshy/errors.js';
import type { MeshyConfig } from '../../../src/adapters/meshy/config.js';
import type { MeshyDeps } from '../../../src/adapters/meshy/index.js';
import type { SimOptions } from '../../fakes/meshy/server.js';
import { generate, request, startRig, type Answer, type Rig } from './harness.js';

interface Scenario {
  sim?: SimOptions;
  meshy?: Partial<MeshyConfig>;
  deps?: MeshyDeps;
  /** Rig the character first (so the misbehaviour hits the animation, not the rigging). */
  warm?: boolean;
  /** Misbehaviour to set up once the rig is up (and before the request). */
  arrange?: (rig: Rig) => void;
  /** Runs alongside the request (e.g. to make Meshy forget a task once it exists). */
  during?: (rig: Rig) => Promise<void>;
  status: number;
  code: string;
  errorCode: string;
  /** Expected details fields. */
  details?: Record<string, unknown>;
  /** Animation tasks created in the end (defaults unchecked). */
  tasks?: number;
}

const POST_ANIM = { method: 'POST', path: '/openapi/v1/animations' };
const animFailure = (error: { message: string; type?: string; code?: string }, times = 1) => (rig: Rig) =>
  rig.sim.failTasks({ kind: 'animations', error, times });

/** One scenario per row of MESHY_ERROR_TABLE, keyed by the row's case name. */
const SCENARIOS: Record<string, Scenario> = {
  'task moderation_blocked': {
    warm: true,
    arrange: animFailure({ message: 'Your request was blocked by moderation.', type: 'invalid_input', code: 'moderation_blocked' }),
    status: 400, code: 'invalid_request', errorCode: 'MG-PRV-451',
    details: { provider_code: 'moderation_blocked', provider_task_status: 'FAILED' }, tasks: 1,
  },
  'rig task invalid_input': {
    arrange: (rig) => rig.sim.failTasks({ kind: 'rigging', error: { message: 'Could not detect a humanoid pose.', type: 'invalid_input', code: 'invalid_input' } }),
    status: 400, code: 'invalid_request', errorCode: 'MG-PRV-422', details: { stage: 'rig', provider_code: 'invalid_input' }, tasks: 0,
  },
  'task format_conversion_failed': {
    warm: true,
    arrange: animFailure({ message: 'Conversion failed.', type: 'server_error', code: 'format_conversion_failed' }),
    status: 500, code: 'internal_error', errorCode: 'MG-PRV-500', details: { provider_code: 'format_conversion_failed' }, tasks: 1,
  },
  'task invalid_input': {
    warm: true,
    arrange: animFailure({ message: 'Invalid input.', type: 'invalid_input' }),
    status: 400, code: 'invalid_request', errorCode: 'MG-PRV-400', details: { provider_code: 'invalid_input', provider_message: 'Invalid input.' }, tasks: 1,
  },
  'task timeout': {
    warm: true,
    arrange: animFailure({ message: 'Task timed out.', type: 'timeout', code: 'timeout' }, 3),
    status: 504, code: 'timeout', errorCode: 'MG-PRV-504', details: { provider_code: 'timeout' }, tasks: 3,
  },
  'task service_unavailable': {
    warm: true,
    arrange: animFailure({ message: 'The server is busy. Please try again later.', type: 'service_unavailable' }, 3),
    status: 503, code: 'model_unavailable', errorCode: 'MG-PRV-503', details: { provider_message: 'The server is busy. Please try again later.' }, tasks: 3,
  },
  'task server_error': {
    warm: true,
    arrange: animFailure({ message: 'Internal server error.', type: 'server_error' }, 3),
    status: 500, code: 'internal_error', errorCode: 'MG-PRV-500', details: { provider_code: 'server_error' }, tasks: 3,
  },
  'task failed (other)': {
    warm: true,
    arrange: animFailure({ message: 'Something went wrong.' }),
    status: 500, code: 'internal_error', errorCode: 'MG-PRV-500', details: { provider_task_status: 'FAILED' }, tasks: 1,
  },
  'task canceled': {
    warm: true,
    arrange: (rig) => rig.sim.failTasks({ kind: 'animations', cancel: true }),
    status: 500, code: 'internal_error', errorCode: 'MG-PRV-500', details: { provider_task_status: 'CANCELED' }, tasks: 1,
  },
  'http 400 rigging': {
    meshy: { characterUrl: 'http://127.0.0.1:9/models/character.fbx' },
    status: 400, code: 'invalid_request', errorCode: 'MG-PRV-422', details: { stage: 'rig', provider_status: 400, provider_message: 'Invalid model file extension: .fbx' }, tasks: 0,
  },
  'http 400 rigging key': {
    arrange: (rig) => rig.sim.fail({ method: 'POST', path: '/openapi/v1/rigging', status: 400, message: 'Invalid API key format' }),
    status: 503, code: 'model_unavailable', errorCode: 'MG-PRV-401', details: { stage: 'rig', provider_status: 400 }, tasks: 0,
  },
  'http 400 rigging other': {
    arrange: (rig) => rig.sim.fail({ method: 'POST', path: '/openapi/v1/rigging', status: 400, message: 'Invalid JSON body' }),
    status: 503, code: 'model_unavailable', errorCode: 'MG-PRV-503', details: { stage: 'rig', provider_status: 400, provider_message: 'Invalid JSON body' }, tasks: 0,
  },
  'http 400': {
    warm: true,
    arrange: (rig) => rig.sim.fail({ ...POST_ANIM, status: 400, message: 'Invalid action_id' }),
    status: 400, code: 'invalid_request', errorCode: 'MG-PRV-400', details: { stage: 'animate', provider_status: 400 }, tasks: 0,
  },
  'http 401': {
    meshy: { apiKey: 'msy_not_a_key_of_this_account' },
    status: 503, code: 'model_unavailable', errorCode: 'MG-PRV-401', details: { provider_status: 401 }, tasks: 0,
  },
  'http 402': {
    warm: true,
    arrange: (rig) => {
      rig.sim.credits = 2;
    },
    status: 402, code: 'insufficient_credits', errorCode: 'MG-PRV-402', details: { provider_status: 402, provider_message: 'Insufficient credits' }, tasks: 0,
  },
  'http 403/404/410 asset': {
    sim: { assetTtlMs: 1 },
    status: 500, code: 'internal_error', errorCode: 'MG-PRV-410', details: { stage: 'download', provider_status: 403 }, tasks: 1,
  },
  'http 403': {
    warm: true,
    arrange: (rig) => rig.sim.fail({ ...POST_ANIM, status: 403, message: 'Forbidden' }),
    status: 503, code: 'model_unavailable', errorCode: 'MG-PRV-401', details: { provider_status: 403 }, tasks: 0,
  },
  'http 404': {
    warm: true,
    // The task stays queued until Meshy forgets it, the moment it exists.
    arrange: (rig) => {
      rig.sim.behave.timing.pendingMs = 600_000;
    },
    deps: { useStreams: false },
    during: async (rig) => {
      await rig.sim.when(() => rig.sim.created.some((c) => c.kind === 'animations'), 'the task');
      rig.sim.forget(rig.sim.created.filter((c) => c.kind === 'animations').at(-1)!.id);
    },
    status: 500, code: 'internal_error', errorCode: 'MG-PRV-410', details: { stage: 'poll', provider_status: 404 }, tasks: 1,
  },
  'http 422': {
    arrange: (rig) => rig.sim.fail({ method: 'POST', path: '/openapi/v1/rigging', status: 422, message: 'Pose estimation failed' }),
    status: 400, code: 'invalid_request', errorCode: 'MG-PRV-422', details: { provider_status: 422 }, tasks: 0,
  },
  'http 429': {
    warm: true,
    // Retry-After beyond what one step waits: the step is rescheduled once (maxRateLimitWaits), then the job fails.
    arrange: (rig) => rig.sim.fail({ ...POST_ANIM, status: 429, message: 'RateLimitExceeded', retryAfter: 1, times: 100 }),
    deps: { retry: { retries: 2, minTimeoutMs: 10, maxTimeoutMs: 20, maxRetryAfterMs: 5 }, maxRateLimitWaits: 1 },
    status: 503, code: 'resource_exhausted', errorCode: 'MG-PRV-429', details: { provider_status: 429, retry_after_s: 1 }, tasks: 0,
  },
  'http 500': {
    warm: true,
    arrange: (rig) => rig.sim.fail({ ...POST_ANIM, status: 500, message: 'Internal server error.' }),
    status: 500, code: 'internal_error', errorCode: 'MG-PRV-500', details: { provider_status: 500 }, tasks: 0,
  },
  'http 502/503/504': {
    warm: true,
    arrange: (rig) => rig.sim.fail({ ...POST_ANIM, status: 503, message: 'Service Unavailable', times: 10 }),
    status: 503, code: 'model_unavailable', errorCode: 'MG-PRV-503', details: { provider_status: 503 }, tasks: 0,
  },
  'http other 4xx': {
    warm: true,
    arrange: (rig) => rig.sim.fail({ ...POST_ANIM, status: 409, message: 'Conflict' }),
    status: 400, code: 'invalid_request', errorCode: 'MG-PRV-400', details: { provider_status: 409 }, tasks: 0,
  },
  'http other 5xx': {
    warm: true,
    arrange: (rig) => rig.sim.fail({ ...POST_ANIM, status: 507, message: 'Insufficient storage' }),
    status: 503, code: 'model_unavailable', errorCode: 'MG-PRV-503', details: { provider_status: 507 }, tasks: 0,
  },
  'transport timeout': {
    warm: true,
    deps: { timeoutMs: 300 },
    arrange: (rig) => rig.sim.fail({ ...POST_ANIM, delayMs: 1_000 }),
    status: 504, code: 'timeout', errorCode: 'MG-PRV-504', details: { stage: 'animate' }, tasks: 0,
  },
  'transport network': {
    warm: true,
    arrange: (rig) => rig.sim.fail({ ...POST_ANIM, drop: true, times: 10 }),
    status: 503, code: 'model_unavailable', errorCode: 'MG-PRV-503', details: { stage: 'animate' }, tasks: 0,
  },
  'unreadable answer': {
    warm: true,
    arrange: (rig) => rig.sim.fail({ ...POST_ANIM, status: 202, body: '<html>Accepted</html>' }),
    status: 500, code: 'internal_error', errorCode: 'MG-PRV-502', details: { stage: 'animate' }, tasks: 0,
  },
  'file host refused': {
    // The storage origin is loopback over http and not allow-listed: nothing is fetched from it.
    deps: { assetOrigins: [] },
    status: 503, code: 'model_unavailable', errorCode: 'MG-PRV-403', details: { stage: 'download' }, tasks: 1,
  },
  'file too large': {
    meshy: { downloadMaxBytes: 4_096 },
    status: 500, code: 'internal_error', errorCode: 'MG-PRV-502', details: { stage: 'download' }, tasks: 1,
  },
};

const rigs: Rig[] = [];
afterEach(async () => {
  await Promise.all(rigs.splice(0).map((r) => r.close()));
});

async function play(s: Scenario): Promise<{ rig: Rig; answer: Answer }> {
  const rig = await startRig({ sim: s.sim, meshy: s.meshy, deps: s.deps });
  rigs.push(rig);
  if (s.warm) {
    const warm = await generate(rig.url, request([{ prompt: 'wave', frames: 30 }]));
    expect(warm.status, JSON.stringify(warm.error)).toBe(200);
    rig.sim.created.splice(0);
  }
  s.arrange?.(rig);
  const [answer] = await Promise.all([generate(rig.url, request([{ prompt: 'kick', frames: 30 }])), s.during?.(rig)]);
  return { rig, answer };
}

describe('the Meshy error table', () => {
  it('has a scenario for every row, and no scenario without a row', () => {
    expect(Object.keys(SCENARIOS).sort()).toEqual(MESHY_ERROR_TABLE.map((r) => r.case).sort());
  });

  for (const row of MESHY_ERROR_TABLE) {
    it(`${row.case} → ${row.error}`, async () => {
      const s = SCENARIOS[row.case];
      const { rig, answer } = await play(s);
      expect(answer.status, JSON.stringify(answer.error)).toBe(s.status);
      expect(answer.error!.error.code).toBe(s.code);
      expect(answer.error!.detail.error_code).toBe(s.errorCode);
      expect(answer.error!.detail.error_code).toBe(row.error);
      expect(answer.error!.error.details).toMatchObject({ provider: 'meshy', ...s.details });
      const text = JSON.stringify(answer.error);
      expect(text).not.toMatch(/Signature=|msy_|Bearer/);
      if (answer.error!.error.details.provider_task_status) expect(answer.error!.error.details.provider_job_id).toMatch(/^anim-|^rig-/);
      // Meshy refunds a FAILED task: the error says so, so a route may move the job on.
      expect(answer.error!.error.details.provider_charged).toBe(answer.error!.error.details.provider_task_status === 'FAILED' ? false : undefined);
      if (s.status === 503) expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      if (s.tasks !== undefined) expect(rig.sim.created.filter((c) => c.kind === 'animations')).toHaveLength(s.tasks);
      // A failed job leaves nothing running (and paid) at Meshy.
      await rig.sim.when(() => rig.sim.active() === 0, 'no task left running');
    });
  }
});

describe('misbehaviours that end well', () => {
  it('resubmits a transiently failed task (refunded) and succeeds', async () => {
    const { rig, answer } = await play({ warm: true, arrange: animFailure({ message: 'The server is busy. Please try again later.', type: 'service_unavailable' }), status: 200, code: '', errorCode: '' });
    expect(answer.status, JSON.stringify(answer.error)).toBe(200);
    expect(rig.sim.created.filter((c) => c.kind === 'animations')).toHaveLength(2);
    expect([...rig.sim.tasks.values()].filter((t) => t.status === 'FAILED').every((t) => t.consumed_credits === 0)).toBe(true);
  });

  for (const [flavour, message] of [['RateLimitExceeded', 'RateLimitExceeded'], ['NoMoreConcurrentTasks', 'NoMoreConcurrentTasks']] as const) {
    for (const retryAfter of [undefined, 1]) {
      it(`waits out 429 ${flavour} ${retryAfter === undefined ? 'without' : 'with'} Retry-After`, async () => {
        let started = 0;
        const arrange = (r: Rig) => {
          started = r.clock.now();
          r.sim.fail({ ...POST_ANIM, status: 429, message, retryAfter, times: 2 });
        };
        const { rig, answer } = await play({ warm: true, arrange, status: 200, code: '', errorCode: '' });
        expect(answer.status, JSON.stringify(answer.error)).toBe(200);
        expect(rig.sim.count('POST /openapi/v1/animations')).toBe(3 + 1); // the warm-up, two refusals, the creation
        expect(rig.sim.created.filter((c) => c.kind === 'animations')).toHaveLength(1);
        // Two Retry-After of 1 s were honoured (on the clock the gateway and Meshy share).
        if (retryAfter) expect(rig.clock.now() - started).toBeGreaterThanOrEqual(2_000);
      });
    }
  }

  it('keeps below the account request rate by backing off on RateLimitExceeded', async () => {
    // A low rate: the burst of four jobs exceeds it whatever the real time their CPU work takes.
    const rig = await startRig({ sim: { rateLimitPerSecond: 3, rateLimitRetryAfter: null }, deps: { useStreams: false, pollIntervalMs: 50 } });
    rigs.push(rig);
    const answers = await Promise.all(['kick', 'jump', 'wave', 'shrug'].map((p) => generate(rig.url, request([{ prompt: p, frames: 30 }]))));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(rig.sim.stats.rateLimited429).toBeGreaterThan(0);
  });

  it('retries the edge\'s 502/503/504 and dropped connections on creation, never a timeout', async () => {
    for (const fault of [{ status: 502, message: 'Bad Gateway' }, { status: 504, message: 'Gateway Timeout' }, { drop: true }]) {
      const { rig, answer } = await play({ warm: true, arrange: (r) => r.sim.fail({ ...POST_ANIM, ...fault, times: 2 }), status: 200, code: '', errorCode: '' });
      expect(answer.status, JSON.stringify(answer.error)).toBe(200);
      expect(rig.sim.created.filter((c) => c.kind === 'animations')).toHaveLength(1);
    }
  });

  it('retries failed polls and stream refusals, then succeeds', async () => {
    const { answer } = await play({
      warm: true,
      deps: { useStreams: false },
      arrange: (r) => r.sim.fail({ method: 'GET', path: /^\/openapi\/v1\/animations\/[^/]+$/, status: 500, message: 'Internal server error.', times: 2 }),
      status: 200, code: '', errorCode: '',
    });
    expect(answer.status, JSON.stringify(answer.error)).toBe(200);
  });

  it('refuses truncated or non-GLB files from storage with 500 MG-PRV-502', async () => {
    for (const assets of ['truncated', 'not-glb'] as const) {
      const { answer } = await play({ sim: { assets }, status: 500, code: '', errorCode: '' });
      expect(answer.status).toBe(500);
      expect(answer.error!.detail.error_code).toBe('MG-PRV-502');
      expect(answer.error!.error.details.provider).toBe('meshy');
    }
  });

  it('sends no API key to pre-signed assets, even on the API origin, and never to storage', async () => {
    const { rig, answer } = await play({ sim: { assetsOnApiOrigin: true }, status: 200, code: '', errorCode: '' });
    expect(answer.status, JSON.stringify(answer.error)).toBe(200);
    expect(rig.sim.assetOrigin).toBe(rig.sim.url);
    expect(rig.sim.count('GET /assets')).toBe(1);
    expect(rig.sim.stats.assetAuthLeaks).toBe(0);
    const other = await play({ status: 200, code: '', errorCode: '' });
    expect(other.answer.status).toBe(200);
    expect(other.rig.sim.stats.assetAuthLeaks).toBe(0);
    expect(other.rig.sim.count('GET /assets')).toBe(1);
  });

  it('reports the refused key on /readyz', async () => {
    const bad = await play(SCENARIOS['http 401']);
    const ready = await (await fetch(`${bad.rig.url}/readyz`)).json();
    expect(JSON.stringify(ready)).toMatch(/API key/);
  });

  it('refuses a character that is not a humanoid (422) or has too many faces (400), and says so on /readyz', async () => {
    for (const model of ['quadruped', 'huge'] as const) {
      const rig = await startRig({});
      rigs.push(rig);
      await rig.restart({ meshy: { characterUrl: rig.sim.sampleUrl(model) } });
      const a = await generate(rig.url, request([{ prompt: 'kick', frames: 30 }]));
      expect(a.status).toBe(400);
      expect(a.error!.detail.error_code).toBe('MG-PRV-422');
      expect(a.error!.error.details.provider_status).toBe(model === 'huge' ? 400 : 422);
      const ready = await fetch(`${rig.url}/readyz`);
      expect(JSON.stringify(await ready.json())).toMatch(/cannot be rigged/);
      const again = await generate(rig.url, request([{ prompt: 'kick', frames: 30 }]));
      expect(again.status).toBe(503);
      expect(rig.sim.count('POST /openapi/v1/rigging')).toBe(1);
    }
  });
});
