/**
 * Every way the simulator can misbehave, through the gateway: each ends recovered (and the test says at
 * what cost in provider calls) or in the right error envelope, with the provider's origin in details.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { canonicalSkeleton } from '../../helpers/gateway.js';
import type { SimulatorOptions } from '../../fakes/saymotion/options.js';
import type { SayMotionConfig } from '../../../src/adapters/saymotion/config.js';
import type { SayMotionDeps } from '../../../src/adapters/saymotion/index.js';
import { generate, request, settle, setup, text, until, type Setup } from './harness.js';

let running: Setup[] = [];
afterEach(async () => {
  await Promise.all(running.map((s) => s.close()));
  running = [];
});

async function start(opts: { sim?: SimulatorOptions; config?: Partial<SayMotionConfig>; deps?: SayMotionDeps; speed?: number } = {}) {
  const s = await setup(opts);
  running.push(s);
  const skeleton = await canonicalSkeleton(s.gw.url, 'saymotion');
  const walk = (frames = 30, options: Record<string, unknown> = {}) => request(skeleton, [text('a man walks', frames)], options);
  return { s, sim: s.sim, url: s.gw.url, clock: s.clock, walk };
}

const lastRid = (t: { sim: Setup['sim'] }) => [...t.sim.jobs.keys()].at(-1);

describe('sessions', () => {
  it('logs in again once when the session expires mid-job, and replays the call', async () => {
    // Long enough in provider time for a third status call whatever the machine's load.
    const t = await start({ sim: { job: { runMs: 1_500 } } });
    t.sim.fail('status', { kind: 'expireSession' }, { after: 2 });
    const res = await generate(t.url, t.walk());
    expect(res.status).toBe(200);
    expect(t.sim.count('status', 401)).toBe(1);
    expect(t.sim.logins).toBe(2);
    expect(t.sim.jobs.size).toBe(1);
  });

  it('reads a 403 as an expired session too', async () => {
    const t = await start({ sim: { sessionRejectStatus: 403, job: { runMs: 200 } } });
    t.sim.fail('process', { kind: 'expireSession' });
    const res = await generate(t.url, t.walk());
    expect(res.status).toBe(200);
    expect(t.sim.count('process', 403)).toBe(1);
    expect(t.sim.count('process')).toBe(2);
    expect(t.sim.jobs.size).toBe(1);
  });

  it('renews a short session before it expires, so the provider never refuses a call', async () => {
    // Renewal keeps a quarter of a one-second session's life in hand (a tenth of long ones), and a call
    // needs a loopback round trip of it: at twice real time that is 125 real milliseconds, enough on a
    // loaded machine.
    await Promise.all(
      (['expires', 'max-age'] as const).map(async (cookieExpiry) => {
        const t = await start({ sim: { sessionTtlS: 1, cookieExpiry, job: { runMs: 2_200 } }, speed: 2 });
        const res = await generate(t.url, t.walk());
        expect(res.status).toBe(200);
        expect(t.sim.calls.filter((c) => c.status === 401)).toEqual([]);
        expect(t.sim.logins).toBeGreaterThanOrEqual(3);
      }),
    );
  });

  it('copes with a cookie without lifetime and an empty or JSON login body', async () => {
    for (const authBody of ['empty', 'json'] as const) {
      const t = await start({ sim: { cookieExpiry: 'none', authBody } });
      expect((await generate(t.url, t.walk())).status).toBe(200);
    }
  });

  it('shares one login between concurrent requests (no stampede)', async () => {
    const t = await start({ sim: { job: { runMs: 200 } } });
    expect(t.sim.logins).toBe(1); // at start-up, reading the account
    t.sim.expireSessions();
    const answers = await Promise.all(Array.from({ length: 6 }, () => generate(t.url, t.walk())));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(t.sim.logins).toBe(2);
  });

  it('answers 503 model_unavailable when the provider refuses the gateway credentials, and /readyz says why', async () => {
    const t = await start({ config: { clientSecret: 'wrong-secret' } });
    const res = await generate(t.url, t.walk());
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('model_unavailable');
    expect(t.sim.jobs.size).toBe(0);
    const ready = await (await fetch(`${t.url}/readyz`)).json();
    expect(JSON.stringify(ready)).toContain('refused the gateway credentials');
    expect(JSON.stringify(ready)).not.toContain('wrong-secret');
  });

  it('fails a job with MG-PRV-401 when the API refuses a fresh session as well', async () => {
    const t = await start();
    t.sim.fail('process', { status: 401, body: { message: 'Unauthorized' } }, { times: 2 });
    const res = await generate(t.url, t.walk());
    expect(res.status).toBe(503);
    expect(res.body.detail.error_code).toBe('MG-PRV-401');
    expect(res.body.error.details).toMatchObject({ provider: 'saymotion', provider_status: 401 });
    expect(t.sim.logins).toBe(2);
  });
});

describe('rate limits and server errors', () => {
  it('retries a 429 after the Retry-After it was given', async () => {
    const t = await start();
    t.sim.fail('process', { status: 429, retryAfter: '1' });
    const res = await generate(t.url, t.walk());
    expect(res.status).toBe(200);
    const posts = t.sim.calls.filter((c) => c.route === 'process');
    expect(posts).toHaveLength(2);
    expect(posts[1].at - posts[0].at).toBeGreaterThanOrEqual(950);
  });

  it('waits out a Retry-After longer than one step between steps, inside the deadline', async () => {
    const t = await start();
    t.sim.fail('process', { status: 503, retryAfter: '2' });
    const res = await generate(t.url, t.walk());
    expect(res.status).toBe(200);
    const posts = t.sim.calls.filter((c) => c.route === 'process');
    expect(posts[1].at - posts[0].at).toBeGreaterThanOrEqual(1_950);
    expect(t.sim.jobs.size).toBe(1);
  });

  it('ends a persistent 429 in 503 resource_exhausted with Retry-After and the provider status', async () => {
    const t = await start();
    t.sim.fail('process', { status: 429, body: { message: 'Too many requests' } }, { times: Infinity });
    const res = await generate(t.url, t.walk());
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(res.body.error.code).toBe('resource_exhausted');
    expect(res.body.detail.error_code).toBe('MG-PRV-429');
    expect(res.body.error.details).toMatchObject({ provider: 'saymotion', provider_status: 429, provider_message: 'Too many requests' });
    expect(t.sim.count('process')).toBe(4);
  });

  it('gives up on a Retry-After past the deadline at once', async () => {
    // Nothing to wait for here: real time keeps the 3 s deadline far from any hiccup of a busy machine.
    const s = await setup({ gateway: { jobTimeoutS: 3 }, speed: 1 });
    running.push(s);
    const skel = await canonicalSkeleton(s.gw.url, 'saymotion');
    s.sim.fail('process', { status: 429, retryAfter: '30' });
    const t0 = Date.now();
    const res = await generate(s.gw.url, request(skel, [text('a man walks', 30)]));
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(res.body.detail.error_code).toBe('MG-PRV-429');
    expect(res.body.error.details.retry_after_s).toBe(30);
  });

  it('recovers from 5xx answers on status and download', async () => {
    const t = await start({ sim: { job: { runMs: 200 } } });
    t.sim.fail('status', { status: 503 }, { times: 2 }).fail('download', { status: 500 }).fail('file', { status: 502 });
    const res = await generate(t.url, t.walk());
    expect(res.status).toBe(200);
    expect(t.sim.count('download')).toBe(2);
    expect(t.sim.count('file')).toBe(2);
  });
});

describe('lost answers to the billable POST', () => {
  for (const [name, fault] of [
    ['a 500', { status: 500 }],
    ['a reset connection', { kind: 'drop' }],
    ['malformed JSON', { kind: 'malformed' }],
    ['no answer at all', { kind: 'hang' }],
  ] as const) {
    it(`finds the job ${name} created instead of paying twice`, async () => {
      const t = await start({ deps: { callTimeoutMs: 200 }, sim: { listParameters: name === 'malformed JSON' ? 'object' : 'array' } });
      t.sim.fail('process', fault);
      const res = await generate(t.url, t.walk());
      expect(res.status).toBe(200);
      // A 500 is refused before any work; the others did create the job.
      expect(t.sim.jobs.size).toBe(1);
      expect(t.sim.count('list')).toBeGreaterThanOrEqual(1);
    });
  }
});

describe('slow, stuck and odd jobs', () => {
  it('reports queue position and progress while a job waits and runs', async () => {
    // The client samples over HTTP, at loopback speed: at four times real time each phase still lasts
    // over a hundred real milliseconds.
    const t = await start({ sim: { job: { queueMs: 500, queuePosition: 6, runMs: 500 } }, speed: 4 });
    const res = await generate(t.url, t.walk(), { prefer: 'respond-async' });
    const status = `${t.url}${res.headers.get('location')}/status`;
    const seen: Array<{ queue: number | null; progress: number | null }> = [];
    let state = 'running';
    while (state === 'running' || state === 'queued') {
      const v = await (await fetch(status)).json();
      state = v.state;
      seen.push({ queue: v.queue_position, progress: v.progress });
      await t.clock.sleep(40);
    }
    expect(state).toBe('succeeded');
    expect(seen.some((v) => (v.queue ?? 0) >= 3)).toBe(true);
    expect(seen.some((v) => (v.progress ?? 0) > 0 && (v.progress ?? 0) < 1 && !v.queue)).toBe(true);
    // Deep in the queue the poller looks less often than its 30 ms interval.
    expect(t.sim.count('status')).toBeLessThan(1000 / 30);
  });

  it('cancels a stuck job at the provider and answers 504 after the provider timeout', async () => {
    const t = await start({ sim: { job: { stuck: true } }, config: { jobTimeoutS: 1 } });
    const res = await generate(t.url, t.walk());
    expect(res.status).toBe(504);
    expect(res.body.detail.error_code).toBe('MG-PRV-504');
    expect(res.body.error.details.provider_job_id).toBe(lastRid(t));
    expect(t.sim.count('cancel')).toBe(1);
    expect(t.sim.jobs.get(lastRid(t)!)!.cancelledAt).toBeDefined();
  });

  it('treats count: 0 and a job missing from the answer as still running', async () => {
    const t = await start({ sim: { job: { runMs: 2_000, hiddenPolls: 3 } } });
    t.sim.fail('status', { kind: 'count0' }, { times: 2, after: 4 });
    const res = await generate(t.url, t.walk());
    expect(res.status).toBe(200);
    // Three answers left the job out and two more were count 0 before it was seen done.
    expect(t.sim.count('status')).toBeGreaterThanOrEqual(7);
  });

  it('fails with MG-PRV-410 when the provider forgets the job', async () => {
    const t = await start({ sim: { job: { runMs: 60_000 } } });
    const pending = generate(t.url, t.walk());
    await until(() => t.sim.count('status') > 0);
    t.sim.forget(lastRid(t)!);
    const res = await pending;
    expect(res.status).toBe(500);
    expect(res.body.detail.error_code).toBe('MG-PRV-410');
  });

  it('clamps progress when step exceeds total, and rides out a RETRY spell', async () => {
    const t = await start({ sim: { job: { runMs: 2_000, overshoot: true, retryMs: 1_000 } } });
    const res = await generate(t.url, t.walk(), { prefer: 'respond-async' });
    const status = `${t.url}${res.headers.get('location')}/status`;
    let v: any;
    do {
      v = await (await fetch(status)).json();
      expect(v.progress ?? 0).toBeLessThanOrEqual(1);
      await t.clock.sleep(20);
    } while (v.state === 'running' || v.state === 'queued');
    expect(v.state).toBe('succeeded');
    expect(t.sim.calls.some((c) => c.route === 'status')).toBe(true);
  });
});

describe('unreadable answers', () => {
  it('recovers from one malformed status answer', async () => {
    const t = await start({ sim: { job: { runMs: 150 } } });
    t.sim.fail('status', { kind: 'malformed' });
    expect((await generate(t.url, t.walk())).status).toBe(200);
  });

  it('ends persistent malformed status answers in MG-PRV-502', async () => {
    const t = await start();
    t.sim.fail('status', { kind: 'malformed' }, { times: Infinity });
    const res = await generate(t.url, t.walk());
    expect(res.status).toBe(500);
    expect(res.body.detail.error_code).toBe('MG-PRV-502');
  });

  it('fetches a fresh link once after a truncated GLB', async () => {
    const t = await start();
    t.sim.fail('file', { kind: 'truncate' });
    expect((await generate(t.url, t.walk())).status).toBe(200);
    expect(t.sim.count('download')).toBe(2);
    expect(t.sim.count('file')).toBe(2);
  });

  it('ends a GLB that stays truncated in MG-PRV-502', async () => {
    const t = await start();
    t.sim.fail('file', { kind: 'truncate' }, { times: Infinity });
    const res = await generate(t.url, t.walk());
    expect(res.body.detail.error_code).toBe('MG-PRV-502');
    expect(res.body.error.details.provider_job_id).toBe(lastRid(t));
  });

  it('refuses a file over the size cap without downloading it twice', async () => {
    const t = await start({ config: { downloadMaxBytes: 4_096 } });
    const res = await generate(t.url, t.walk());
    expect(res.body.detail.error_code).toBe('MG-PRV-502');
    expect(t.sim.count('file')).toBe(1);
  });

  it('fetches a fresh link when the pre-signed URL has expired', async () => {
    const t = await start({ sim: { signedUrlTtlS: -1 } });
    const res = await generate(t.url, t.walk());
    expect(res.status).toBe(500);
    expect(res.body.detail.error_code).toBe('MG-PRV-410');
    expect(res.body.error.details).toMatchObject({ provider_status: 403 });
    expect(t.sim.count('download')).toBe(2);
    // Storage refusing a URL says nothing about our credentials: the model stays ready.
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
  });
});

describe('no credits (code 101 wherever it may appear)', () => {
  for (const httpStatus of [402, 403, 400]) {
    it(`on /process as HTTP ${httpStatus}`, async () => {
      const t = await start({ sim: { credits: 0, noCredit: { at: 'process', httpStatus } } });
      const res = await generate(t.url, t.walk());
      expect(res.status).toBe(402);
      expect(res.body.error.code).toBe('insufficient_credits');
      expect(res.body.error.details).toMatchObject({ provider: 'saymotion', provider_status: httpStatus, provider_code: 101 });
      // A coded 403 is not a session problem: no second login.
      expect(t.sim.logins).toBe(1);
      expect(t.sim.count('process')).toBe(1);
    });
  }

  for (const format of ['string', 'list', 'pylist', 'text'] as const) {
    it(`in a FAILURE status, exc_message as ${format}`, async () => {
      const t = await start({ sim: { credits: 0, noCredit: { at: 'status', format } } });
      const res = await generate(t.url, t.walk());
      expect(res.status).toBe(402);
      expect(res.body.detail.error_code).toBe('MG-PRV-402');
      expect(res.body.error.details).toMatchObject({ provider_code: 101, provider_job_id: lastRid(t) });
    });
  }

  it('as variantDownloadStatus: false', async () => {
    const t = await start({ sim: { credits: 0, noCredit: { at: 'download' } } });
    const res = await generate(t.url, t.walk());
    expect(res.status).toBe(402);
    expect(res.body.detail.error_code).toBe('MG-PRV-402');
    expect(t.sim.count('file')).toBe(0);
  });
});

describe('async jobs', () => {
  it('survives polling by the client through a RETRY and answers the same glTF twice', async () => {
    const t = await start({ sim: { job: { runMs: 1_000, retryMs: 1_000 } } });
    const res = await generate(t.url, t.walk(), { prefer: 'respond-async' });
    const loc = res.headers.get('location')!;
    const a = await settle(t.url, loc);
    const b = await settle(t.url, loc);
    expect(a.status).toBe(200);
    expect(b.body).toEqual(a.body);
    expect(t.sim.count('file')).toBe(1);
  });
});
