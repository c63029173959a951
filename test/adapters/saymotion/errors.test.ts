/**
 * Walks every row of the SayMotion error table through the whole stack: the simulator produces the
 * row's situation, the gateway answers the row's envelope with the provider's origin in details.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_TABLE, type ErrorRow } from '../../../src/adapters/saymotion/errors.js';
import { CATALOGUE } from '../../../src/spec/errors.js';
import { canonicalSkeleton } from '../../helpers/gateway.js';
import type { CodeFormat } from '../../fakes/saymotion/jobs.js';
import { generate, request, setup, text, until, type Answer, type Setup } from './harness.js';

const label = (r: ErrorRow) => JSON.stringify(r.match);

function expectEnvelope(res: Answer, row: ErrorRow): void {
  const entry = CATALOGUE[row.id];
  expect(res.status, label(row)).toBe(entry.status);
  expect(res.body.detail.error_code, label(row)).toBe(row.id);
  expect(res.body.error.code).toBe(entry.code);
  expect(res.body.error.details.provider).toBe('saymotion');
  if (row.action) expect(res.body.detail.action).toBe(row.action);
  // Never a credential, a cookie or a signed URL in what the caller sees.
  expect(JSON.stringify(res.body)).not.toMatch(/secret_|dmsess=[0-9a-f]|X-Amz-Signature=/);
}

describe('every SayMotion code, as a job FAILURE', () => {
  let s: Setup;
  let skel: any;
  beforeAll(async () => {
    s = await setup({ sim: { job: { runMs: 20 } } });
    skel = await canonicalSkeleton(s.gw.url, 'saymotion');
  });
  afterAll(() => s.close());

  const formats: CodeFormat[] = ['string', 'list', 'pylist'];
  ERROR_TABLE.filter((r) => 'code' in r.match).forEach((row, i) => {
    const code = (row.match as { code: number }).code;
    it(`code ${code} → ${row.id}`, async () => {
      s.sim.script({ runMs: 20, fail: { code, format: formats[i % formats.length] } });
      const res = await generate(s.gw.url, request(skel, [text('a man walks', 30)]));
      expectEnvelope(res, row);
      const rid = [...s.sim.jobs.keys()].at(-1);
      expect(res.body.error.details).toMatchObject({ provider_code: code, provider_job_id: rid });
    });
  });
});

describe('every HTTP status row, on the billable POST', () => {
  let s: Setup;
  let skel: any;
  beforeAll(async () => {
    s = await setup();
    skel = await canonicalSkeleton(s.gw.url, 'saymotion');
  });
  afterAll(() => s.close());

  for (const row of ERROR_TABLE.filter((r) => 'http' in r.match)) {
    const http = (row.match as { http: number | string }).http;
    const status = http === '4xx' ? 418 : http === '5xx' ? 507 : (http as number);
    it(`HTTP ${http} → ${row.id}`, async () => {
      s.sim.clearFaults();
      s.sim.fail('process', { status, body: { message: `simulated ${status}` } }, { times: Infinity });
      const res = await generate(s.gw.url, request(skel, [text('a man walks', 30)]));
      s.sim.clearFaults();
      expectEnvelope(res, row);
      expect(res.body.error.details).toMatchObject({ provider_status: status, provider_message: `simulated ${status}` });
    });
  }
});

describe('every failure the adapter observes', () => {
  const cases: Record<string, (s: Setup) => Promise<void> | void> = {
    network: (s) => void s.sim.fail('status', { kind: 'drop' }, { times: Infinity }),
    timeout: (s) => void s.sim.fail('status', { kind: 'hang' }, { times: Infinity }),
    parse: (s) => void s.sim.fail('status', { kind: 'malformed' }, { times: Infinity }),
    too_large: () => undefined,
    // The storage host is loopback over http and not allow-listed (deps below): nothing is fetched from it.
    refused: () => undefined,
    job_failed: (s) => void s.sim.script({ runMs: 20, fail: { message: 'The motion could not be generated', format: 'text' } }),
    job_revoked: () => undefined,
    job_timeout: (s) => void s.sim.script({ stuck: true }),
    job_gone: () => undefined,
    no_result_file: (s) => void s.sim.fail('download', { status: 200, body: { count: 0, links: [] } }, { times: Infinity }),
    download_refused: () => undefined,
    file_unavailable: (s) => void s.sim.fail('file', { status: 403, body: 'AccessDenied' }, { times: Infinity }),
  };

  for (const row of ERROR_TABLE.filter((r) => 'failure' in r.match)) {
    const failure = (row.match as { failure: string }).failure;
    it(`${failure} → ${row.id}`, async () => {
      expect(cases[failure], `a case for ${failure}`).toBeDefined();
      const s = await setup({
        sim: {
          job: { runMs: failure === 'job_revoked' || failure === 'job_gone' ? 60_000 : 50 },
          cancelledShows: 'REVOKED',
          ...(failure === 'download_refused' ? { credits: 0, noCredit: { at: 'download' as const } } : {}),
        },
        config: { jobTimeoutS: failure === 'job_timeout' ? 1 : 60, ...(failure === 'too_large' ? { downloadMaxBytes: 2_048 } : {}) },
        // A hung call costs its timeout in real time, three attempts per tick, three ticks.
        deps: { callTimeoutMs: failure === 'timeout' ? 50 : 300, ...(failure === 'refused' ? { assetOrigins: [] } : {}) },
      });
      try {
        const skel = await canonicalSkeleton(s.gw.url, 'saymotion');
        await cases[failure](s);
        const pending = generate(s.gw.url, request(skel, [text('a man walks', 30)]));
        if (failure === 'job_revoked' || failure === 'job_gone') {
          await until(() => s.sim.count('status') > 0);
          const rid = [...s.sim.jobs.keys()][0];
          if (failure === 'job_revoked') s.sim.jobs.get(rid)!.cancelledAt = s.clock.now();
          else s.sim.forget(rid);
        }
        expectEnvelope(await pending, row);
        if (failure === 'refused') expect(s.sim.calls.filter((c) => c.host === 'storage')).toHaveLength(0);
      } finally {
        await s.close();
      }
    });
  }
});
