/**
 * Test harness of the mmcp adapter: a second gateway as the upstream MMCP server (the procedural model, a
 * gated copy of it whose jobs run until the test opens the gate, and a copy that only answers
 * synchronously), behind a loopback proxy that counts every call, records what was sent, can be "down"
 * (every connection dropped) and can answer chosen calls itself; and downstream gateways whose only
 * extra provider is that upstream.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProceduralAdapter } from '../../../src/adapters/procedural/index.js';
import { createMmcpAdapter, type MmcpAdapter, type MmcpDeps } from '../../../src/adapters/mmcp/index.js';
import type { UpstreamConfig } from '../../../src/adapters/mmcp/config.js';
import type { Config } from '../../../src/config.js';
import type { Logger } from '../../../src/spec/adapter.js';
import { createGatedAdapter, type GatedAdapter } from '../../helpers/gated-adapter.js';
import { startGateway, type Running } from '../../helpers/gateway.js';

export const UPSTREAM_KEY = 'upstream-key-7f3a9c2e5b1d4f60';

export interface SeenCall {
  method: string;
  path: string;
  authorization?: string;
  prefer?: string;
  idempotencyKey?: string;
  accept?: string;
  body?: string;
}

/** An answer the proxy gives itself instead of forwarding (times: how many calls it answers). */
export interface Injected {
  method: string;
  /** Matches paths starting with it. */
  path: string;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  times: number;
  /** Forward the call, but hold the answer back this long (the upstream did the work). */
  delayMs?: number;
}

export interface Upstream {
  /** The proxy's URL: the base URL the downstream is configured with. */
  url: string;
  gateway: Running;
  gated: GatedAdapter;
  /** Whether jobs of up/gated may finish (closed at the start of each test). */
  gate: { open: boolean };
  calls: SeenCall[];
  count(method: string, pathPrefix: string): number;
  down: boolean;
  inject(i: Injected): void;
  close(): Promise<void>;
}

export async function startUpstream(gatewayConfig: Partial<Config> = {}): Promise<Upstream> {
  const gate = { open: false };
  const gated = createGatedAdapter({ modelId: 'gated', shared: { calls: { start: 0, advance: 0, cancel: 0 }, gate } });
  const still = createProceduralAdapter({ modelId: 'still', capabilities: { supports_async: false } });
  // The sync copy is its own provider so its jobs have their own queue.
  const stillAdapter = Object.create(still, { provider: { value: 'still' } }) as typeof still;
  const gateway = await startGateway({ apiKeys: [UPSTREAM_KEY], syncWaitMs: 10_000, ...gatewayConfig }, { adapters: [createProceduralAdapter(), gated, stillAdapter] });
  const target = new URL(gateway.url);
  const calls: SeenCall[] = [];
  const injected: Injected[] = [];
  const state = { down: false };

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer, delayMs = 0) => {
    const out = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        setTimeout(() => {
          if (res.destroyed) return;
          res.writeHead(up.statusCode ?? 502, up.headers);
          res.end(Buffer.concat(chunks));
        }, delayMs);
      });
    });
    out.on('error', () => res.destroy());
    out.end(body);
  };

  const server: Server = createServer((req, res) => {
    if (state.down) {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
      calls.push({
        method: req.method ?? '',
        path: req.url ?? '',
        authorization: one(req.headers.authorization),
        prefer: one(req.headers.prefer),
        idempotencyKey: one(req.headers['idempotency-key']),
        accept: one(req.headers.accept),
        body: body.length ? body.toString('utf8') : undefined,
      });
      const hit = injected.find((i) => i.times > 0 && i.method === req.method && (req.url ?? '').startsWith(i.path));
      if (hit) {
        hit.times--;
        if (hit.delayMs !== undefined) return forward(req, res, body, hit.delayMs);
        res.writeHead(hit.status, { 'content-type': 'application/json', ...hit.headers });
        res.end(hit.body === undefined ? '' : JSON.stringify(hit.body));
        return;
      }
      forward(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    gateway,
    gated,
    gate,
    calls,
    count: (method, prefix) => calls.filter((c) => c.method === method && c.path.startsWith(prefix)).length,
    get down() {
      return state.down;
    },
    set down(v: boolean) {
      state.down = v;
    },
    inject: (i) => injected.push(i),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.close();
    },
  };
}

/** Production code paths, tuned short: quick backoffs and polls, capabilities retried every 50-200 ms. */
const FAST_DEPS: MmcpDeps = {
  retry: { retries: 2, minTimeoutMs: 10, maxTimeoutMs: 50, maxRetryAfterMs: 2_000 },
  callTimeoutMs: 5_000,
  initWaitMs: 5_000,
  minPollMs: 20,
  maxPollMs: 100,
  catalog: { retryMinMs: 50, retryMaxMs: 200 },
};

function upstreamConfig(up: Upstream, over: Partial<UpstreamConfig> = {}): UpstreamConfig {
  return { id: 'up', baseUrl: up.url, apiKeyEnv: 'MMCP_UP_API_KEY', apiKey: UPSTREAM_KEY, ...over };
}

/** A logger keeping every line as JSON text (the tests look for secrets in it). */
export function captureLog(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (obj: object, msg?: string) => lines.push(JSON.stringify({ level, ...obj, msg }, (_k, v) => (v instanceof Error ? { message: v.message, stack: v.stack } : v)));
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

export interface Downstream {
  gw: Running;
  adapter: MmcpAdapter;
}

/** A downstream gateway serving the procedural model and the upstream (as provider "up"). */
export async function startDownstream(
  up: Upstream,
  opts: { dbPath?: string; deps?: MmcpDeps; config?: Partial<UpstreamConfig>; gateway?: Partial<Config>; logger?: Logger } = {},
): Promise<Downstream> {
  const adapter = createMmcpAdapter(upstreamConfig(up, opts.config), { ...FAST_DEPS, ...opts.deps });
  const gw = await startGateway(
    { syncWaitMs: 10_000, shutdownGraceMs: 2_000, ...(opts.dbPath ? { dbPath: opts.dbPath } : {}), ...opts.gateway },
    { adapters: [createProceduralAdapter(), adapter], ...(opts.logger ? { logger: opts.logger } : {}) },
  );
  return { gw, adapter };
}

export const text = (prompt: string, frames: number) => ({ type: 'text', prompt, duration_frames: frames });

export function request(model: string, skeleton: unknown, segments: unknown[], extra: Record<string, unknown> = {}) {
  return { protocol_version: '1.2', model, skeleton, segments, options: { seed: 7 }, ...extra };
}

/** POST /generate (JSON answer: glTF or the error envelope). */
export async function generate(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  const res = await fetch(`${url}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', accept: 'model/gltf+json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null, text };
}

/** Polls a job location until it stops answering 202 (JSON answer). */
export async function settle(url: string, location: string, timeoutMs = 20_000): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(url + location, { headers: { accept: 'model/gltf+json' } });
    const text = await res.text();
    if (res.status !== 202 || Date.now() > until) return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null, text };
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits until `cond` holds (polling every 10 ms). */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
