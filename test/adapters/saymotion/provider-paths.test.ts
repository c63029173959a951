/**
 * The SayMotion adapter's provider paths against a hostile or leaky provider, end to end against the
 * simulator: result files get no session cookie on either host while API calls carry it; download links
 * pointing at private or rebinding hosts are refused without a request; a client secret or session cookie
 * the provider echoes never reaches the caller's envelope or the log lines.
 */
import { Writable } from 'node:stream';
import type { LookupFunction } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { canonicalSkeleton } from '../../helpers/gateway.js';
import { generate, request, setup, simulatorOn, text, until, type Setup } from './harness.js';

const open: Setup[] = [];
async function start(opts: Parameters<typeof setup>[0] = {}): Promise<Setup> {
  const s = await setup(opts);
  open.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

function fixedLookup(address: string, asked: string[]): LookupFunction {
  return ((host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => {
    asked.push(host);
    if (opts.all) cb(null, [{ address, family: 4 }]);
    else cb(null, address, 4);
  }) as unknown as LookupFunction;
}

/** A logger writing JSON lines into `lines`, handed no secrets: what it gets is the adapter's own doing. */
function capturingLogger(lines: string[]) {
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return createLogger('debug', { destination });
}

describe('result files', () => {
  for (const fileHost of ['storage', 'api'] as const) {
    it(`on the ${fileHost} host get no session cookie, while every API call carries it`, async () => {
      const s = await start({ sim: { fileHost } });
      const res = await generate(s.gw.url, request(await canonicalSkeleton(s.gw.url, 'saymotion'), [text('a man walks', 30)]));
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const files = s.sim.calls.filter((c) => c.route === 'file');
      expect(files).toHaveLength(1);
      expect(files.every((c) => !c.cookie)).toBe(true);
      expect(s.sim.calls.filter((c) => c.host === 'api' && c.route !== 'auth' && c.route !== 'file').every((c) => c.cookie)).toBe(true);
    });
  }

  it('on a private address are refused with MG-PRV-403, and never requested', async () => {
    const s = await start({ sim: { fileUrlOrigin: 'https://192.168.0.10' } });
    const res = await generate(s.gw.url, request(await canonicalSkeleton(s.gw.url, 'saymotion'), [text('a man walks', 30)]));
    expect(res.status).toBe(503);
    expect(res.body.detail.error_code).toBe('MG-PRV-403');
    expect(res.body.error.details.provider_message).toMatch(/192\.168\.0\.10 is a private address/);
    expect(s.sim.calls.filter((c) => c.route === 'file')).toHaveLength(0);
  });

  it('on a host name resolving to loopback are refused at connection time: the storage host is never reached', async () => {
    const asked: string[] = [];
    const sim = await simulatorOn();
    const s = await start({ simulator: sim, deps: { assetOrigins: [], lookup: fixedLookup('127.0.0.1', asked) } });
    open.push({ ...s, close: () => sim.close() });
    // The links name the simulator's own storage port through a host name.
    const port = new URL(sim.storageUrl).port;
    sim.options.fileUrlOrigin = `https://files.deepmotion.example:${port}`;
    const res = await generate(s.gw.url, request(await canonicalSkeleton(s.gw.url, 'saymotion'), [text('a man walks', 30)]));
    expect(res.status).toBe(503);
    expect(res.body.detail.error_code).toBe('MG-PRV-403');
    expect(asked).toContain('files.deepmotion.example');
    expect(sim.calls.filter((c) => c.host === 'storage')).toHaveLength(0);
  });
});

describe('credentials SayMotion echoes', () => {
  it('are redacted from the envelope (a refused call, a failed job) and from the log lines (a failed cancel)', async () => {
    const lines: string[] = [];
    const s = await start({ sim: { job: { runMs: 60_000 } }, logger: capturingLogger(lines) });
    const skel = await canonicalSkeleton(s.gw.url, 'saymotion');

    s.sim.fail('process', { status: 400, echoCredentials: true });
    const refused = await generate(s.gw.url, request(skel, [text('a man walks', 30)]));
    expect(refused.status).toBe(400);
    expect(refused.body.error.details.provider_message).toMatch(/^session \[redacted\] of client .* \(secret \[redacted\]\) is not allowed here$/);

    s.sim.script({ runMs: 20, fail: { message: `denied for secret ${s.sim.clientSecret}`, format: 'text' } });
    const failed = await generate(s.gw.url, request(skel, [text('a man jumps', 30)]));
    expect(failed.status).toBe(500);
    expect(failed.body.error.details.provider_message).toMatch(/denied for secret \[redacted\]$/);

    // A cancel SayMotion refuses, quoting the credentials, is logged.
    s.sim.fail('cancel', { status: 500, echoCredentials: true }, { times: Infinity });
    const pending = await generate(s.gw.url, request(skel, [text('a man waves', 30)]), { prefer: 'respond-async' });
    await until(() => s.sim.count('status') >= 1);
    expect((await fetch(s.gw.url + pending.headers.get('location')!, { method: 'DELETE' })).status).toBe(204);
    await until(() => lines.some((l) => l.includes('SayMotion cancel failed')));
    expect(lines.find((l) => l.includes('SayMotion cancel failed'))).toContain('[redacted]');

    expect(s.sim.sessionsIssued.length).toBeGreaterThan(0);
    for (const out of [JSON.stringify(refused.body), JSON.stringify(failed.body), ...lines]) {
      expect(out).not.toContain(s.sim.clientSecret);
      for (const cookie of s.sim.sessionsIssued) expect(out).not.toContain(cookie);
    }
  });
});
