/** Starts a real gateway on an ephemeral loopback port for a test, and talks HTTP to it. */
import { request as httpRequest } from 'node:http';
import { testConfig } from './config.js';
import type { Config } from '../../src/config.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/server/app.js';
import { sharedWorkers } from './workers.js';

export interface Running {
  url: string;
  gw: Gateway;
  close(): Promise<void>;
}

export async function startGateway(overrides: Partial<Config> = {}, opts: GatewayOptions = {}): Promise<Running> {
  const gw = createGateway(testConfig(overrides), { workers: sharedWorkers(), ...opts });
  const url = await gw.listen(0, '127.0.0.1');
  return { url, gw, close: () => gw.close() };
}

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
