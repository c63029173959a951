/**
 * The download egress guard on its own, against a real loopback HTTP server that counts connections:
 * which addresses count as public, the connect-time lookup, and download() refusing untrusted hosts,
 * private addresses, rebinding names and redirects without a connection, while a trusted origin is
 * fetched (without credentials) under its size cap.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LookupFunction } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AssetEgress, guardedLookup, nonPublicRange } from '../../../src/adapters/kit/egress.js';
import { ProviderCallError } from '../../../src/adapters/kit/errors.js';
import { download } from '../../../src/adapters/kit/http.js';

function fixedLookup(addresses: string[], asked: string[]): LookupFunction {
  return ((host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => {
    asked.push(host);
    const list = addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    if (opts.all) cb(null, list);
    else cb(null, list[0].address, list[0].family);
  }) as unknown as LookupFunction;
}

/** Runs a guarded lookup and returns what it answered. */
function resolveWith(lookup: LookupFunction, host: string, all: boolean): Promise<{ err: Error | null; address: unknown }> {
  return new Promise((resolve) => {
    (lookup as unknown as (h: string, o: object, cb: (err: Error | null, address: unknown) => void) => void)(host, { all }, (err, address) => resolve({ err, address }));
  });
}

describe('public addresses', () => {
  it.each(['8.8.8.8', '93.184.216.34', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'])('%s is public', (a) => {
    expect(nonPublicRange(a)).toBeUndefined();
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['224.0.0.1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:10.1.2.3', 'private'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['2002:7f00:1::1', '6to4'],
  ])('%s is refused as %s', (a, range) => {
    expect(nonPublicRange(a)).toBe(range);
  });
});

describe('the connect-time lookup', () => {
  it('passes public answers on in both lookup forms', async () => {
    const asked: string[] = [];
    const lookup = guardedLookup(fixedLookup(['93.184.216.34', '2606:4700::1111'], asked));
    expect(await resolveWith(lookup, 'cdn.example', false)).toEqual({ err: null, address: '93.184.216.34' });
    const all = await resolveWith(lookup, 'cdn.example', true);
    expect(all.err).toBeNull();
    expect(all.address).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:4700::1111', family: 6 },
    ]);
  });

  it('refuses a name with one private address among public ones', async () => {
    const lookup = guardedLookup(fixedLookup(['93.184.216.34', '10.0.0.7'], []));
    const { err } = await resolveWith(lookup, 'mixed.example', true);
    expect(err?.message).toBe('mixed.example resolves to 10.0.0.7, a private address');
  });
});

describe('download() through the egress guard', () => {
  let server: Server;
  let origin: string;
  let port: string;
  let connections = 0;
  const seen: IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers);
      if (req.url === '/redirect') {
        res.writeHead(302, { location: `${origin}/file` });
        res.end();
        return;
      }
      const body = Buffer.alloc(req.url === '/big' ? 4_096 : 64, 7);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      res.end(body);
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = String((server.address() as AddressInfo).port);
    origin = `http://127.0.0.1:${port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const refusal = async (url: string, egress: AssetEgress): Promise<ProviderCallError> => {
    const err = await download(url, { provider: 'test', maxBytes: 1_024, egress }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProviderCallError);
    return err as ProviderCallError;
  };

  it('refuses loopback over http when it is not a trusted origin, without connecting', async () => {
    const before = connections;
    const err = await refusal(`${origin}/file`, new AssetEgress({ apiBaseUrl: 'https://api.example' }));
    expect(err.kind).toBe('refused');
    expect(err.isRetryable).toBe(false);
    expect(err.providerMessage).toBe(`the file host 127.0.0.1:${port} is not https and not a trusted origin`);
    expect(connections).toBe(before);
  });

  it('refuses https on a private address literal before any lookup', async () => {
    const asked: string[] = [];
    const err = await refusal('https://10.0.0.1/file.glb', new AssetEgress({ lookup: fixedLookup(['10.0.0.1'], asked) }));
    expect(err.providerMessage).toBe('the file host 10.0.0.1 is a private address');
    expect(asked).toEqual([]);
    const v6 = await refusal('https://[::ffff:127.0.0.1]/file.glb', new AssetEgress());
    expect(v6.providerMessage).toBe('the file host ::ffff:7f00:1 is a loopback address');
  });

  it('refuses a host name that resolves to loopback when the connection looks it up: the server is never reached', async () => {
    const asked: string[] = [];
    const egress = new AssetEgress({ lookup: fixedLookup(['127.0.0.1'], asked) });
    const before = connections;
    const err = await refusal(`https://files.example.test:${port}/file`, egress);
    expect(err.kind).toBe('refused');
    expect(err.providerMessage).toBe('files.example.test resolves to 127.0.0.1, a loopback address');
    expect(asked).toEqual(['files.example.test']);
    expect(connections).toBe(before);
    await egress.close();
  });

  it('fetches a trusted origin (PROVIDER_ASSET_ORIGINS) with no credentials, and keeps the size cap', async () => {
    const egress = new AssetEgress({ apiBaseUrl: 'https://api.example', assetOrigins: [origin] });
    const bytes = await download(`${origin}/file`, { provider: 'test', maxBytes: 1_024, egress });
    expect(bytes.byteLength).toBe(64);
    expect(seen.at(-1)!.authorization).toBeUndefined();
    expect(seen.at(-1)!.cookie).toBeUndefined();
    const big = await refusal(`${origin}/big`, egress);
    expect(big.kind).toBe('too_large');
  });

  it('refuses a redirect instead of following it', async () => {
    const egress = new AssetEgress({ assetOrigins: [origin] });
    const before = seen.length;
    const err = await refusal(`${origin}/redirect`, egress);
    expect(err.kind).toBe('refused');
    expect(err.status).toBe(302);
    expect(seen.length - before).toBe(1);
  });

  it('refuses by default (no policy given): nothing is trusted', async () => {
    const err = await download(`${origin}/file`, { provider: 'test', maxBytes: 1_024 }).catch((e: unknown) => e as ProviderCallError);
    expect((err as ProviderCallError).kind).toBe('refused');
  });
});
