/** Starts a real gateway on an ephemeral loopback port for a test, and talks HTTP to it. */
import { request as httpRequest } from 'node:http';
import { randomBytes } from 'node:crypto';
import { afterAll } from 'vitest';
import { testConfig } from './config.js';
import type { Config } from '../../src/config.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/server/app.js';
import { sharedWorkers } from './workers.js';
import { dropRedisPrefix } from './redis-prefix.js';

export interface Running {
  url: string;
  gw: Gateway;
  close(): Promise<void>;
}

export async function startGateway(overrides: Partial<Config> = {}, opts: GatewayOptions = {}): Promise<Running> {
  const config = testConfig(overrides);
  if (config.store === 'redis' && config.dbPath !== ':memory:') filePrefixes.set(config.redisPrefix, config.redisUrl);
  const gw = createGateway(config, { workers: sharedWorkers(), ...opts });
  const url = await gw.listen(0, '127.0.0.1');
  return {
    url,
    gw,
    close: async () => {
      await gw.close();
      // An in-memory gateway's records go with it; on Redis that is its key prefix.
      if (config.store === 'redis' && config.dbPath === ':memory:') await dropRedisPrefix(config.redisUrl, config.redisPrefix);
    },
  };
}

/** Redis prefixes of file-backed test gateways (restarts reuse them): deleted when the test file ends. */
const filePrefixes = new Map<string, string>();
// Gateway processes a test spawns inherit the environment: on Redis, give them a prefix of their own too.
if (process.env.STORE === 'redis' && !process.env.REDIS_PREFIX) {
  process.env.REDIS_PREFIX = `mgtest:proc-${randomBytes(6).toString('hex')}:`;
  filePrefixes.set(process.env.REDIS_PREFIX, process.env.REDIS_URL || 'redis://127.0.0.1:6379');
}
afterAll(async () => {
  for (const [prefix, url] of filePrefixes) await dropRedisPrefix(url, prefix);
  filePrefixes.clear();
});


export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json(): any;
}

/** A raw HTTP request (for bodies fetch will not send: chunked streams, bad encodings, odd methods). */
export function rawRequest(
  url: string,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: Buffer | string; chunks?: Array<Buffer | string> },
): Promise<RawResponse> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: u.hostname, port: u.port, method: opts.method ?? 'POST', path: opts.path, headers: opts.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) });
        });
      },
    );
    req.on('error', reject);
    if (opts.chunks) {
      for (const c of opts.chunks) req.write(c);
      req.end();
    } else {
      req.end(opts.body);
    }
  });
}

/** POST /generate with a JSON body. */
export function postGenerate(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** The canonical skeleton of a model, read from /capabilities as a client would. */
export async function canonicalSkeleton(url: string, model = 'procedural'): Promise<any> {
  const caps = await (await fetch(`${url}/capabilities`)).json();
  return caps.models.find((m: any) => m.id === model).canonical_skeleton;
}

/** POSTs a request for a GLB answer, polls a 202 until it is final, and returns the bytes (throws on an error answer). */
export async function generateGlb(url: string, req: unknown): Promise<{ bytes: Uint8Array; headers: Headers }> {
  let res = await fetch(`${url}/generate`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'model/gltf-binary' }, body: JSON.stringify(req) });
  while (res.status === 202) {
    await res.arrayBuffer();
    await new Promise((r) => setTimeout(r, 50));
    res = await fetch(url + res.headers.get('location'), { headers: { accept: 'model/gltf-binary' } });
  }
  if (res.status !== 200) throw new Error(`answered ${res.status}: ${await res.text()}`);
  return { bytes: new Uint8Array(await res.arrayBuffer()), headers: res.headers };
}
