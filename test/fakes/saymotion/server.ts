/**
 * A SayMotion simulator: a real HTTP server on loopback that plays DeepMotion's SayMotion REST API as
 * documented (session cookie, credits, text2motion jobs with variants, batched status, download links to
 * pre-signed storage, cancel, list, characters), can be told to misbehave per test, and counts every call.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { motionBvh, motionFbxZip, motionGlb, type RigStyle } from './files.js';
import { synthesize } from './motion.js';
import { restClip } from '../../../src/motion/clip.js';
import { DM_RIG } from './motion.js';

export type Route =
  | 'auth'
  | 'creditBalance'
  | 'process'
  | 'status'
  | 'download'
  | 'cancel'
  | 'list'
  | 'listModels'
  /** A result file (GLB, FBX zip, BVH) of a non-intermediate group, from storage or the API host. */
  | 'file'
  /** A file of an `inter…` url group (nobody should need it). */
  | 'interFile'
  | 'unknown';

/** How a FAILURE carries its code in `exc_message`: text, `"101"`, `["101"]` or the Python repr `"['101']"`. */
export type CodeFormat = 'text' | 'string' | 'list' | 'pylist';

/** How one job behaves (time-based, from its creation). */
export interface JobScript {
  /** Time spent queued (PROGRESS with positionInQueue). */
  queueMs?: number;
  /** Initial place in the queue, counting down to 1 while queued (default 3). */
  queuePosition?: number;
  /** Time spent running after the queue. */
  runMs?: number;
  /** details.total (default 100). */
  total?: number;
  /** The step runs past the total (up to 130 %) before the job succeeds. */
  overshoot?: boolean;
  /** A RETRY spell of this length half-way through the run (the run is longer by as much). */
  retryMs?: number;
  /** Never leaves PROGRESS (step stops at half the total). */
  stuck?: boolean;
  /** Ends in FAILURE with this code and/or message. */
  fail?: { code?: number; message?: string; format?: CodeFormat; type?: string };
  /** The first N status answers leave the job out (count 0 when alone). */
  hiddenPolls?: number;
  /** The delivered clip is this many times the requested duration (default 1). */
  durationScale?: number;
}

export type Fault =
  /** An HTTP error answer instead of the real one (no side effect). */
  | { status: number; body?: unknown; retryAfter?: string }
  /** 200 with JSON cut in the middle (after the real work is done). */
  | { kind: 'malformed' }
  /** The real answer, sent late. */
  | { kind: 'delay'; ms: number }
  /** The real work is done, no answer ever comes. */
  | { kind: 'hang' }
  /** The real work is done, then the connection is reset. */
  | { kind: 'drop' }
  /** Every session expires just before this call. */
  | { kind: 'expireSession' }
  /** status: `{"count": 0, "status": []}`. */
  | { kind: 'count0' }
  /** files: the first half of the bytes only. */
  | { kind: 'truncate' };

export interface FaultRule {
  route: Route;
  fault: Fault;
  /** How many matching calls it hits (default 1; Infinity for all). */
  times: number;
  /** Matching calls to let through first (default 0). */
  after: number;
}

export interface SimulatorOptions {
  clientId?: string;
  clientSecret?: string;
  /** The stock character id text2motion's `model=` must name. */
  characterId?: string;
  credits?: number;
  maxVariantsGeneration?: number;
  /** Session lifetime (default 3600 s). */
  sessionTtlS?: number;
  /** What the cookie says about its lifetime (default `expires`). */
  cookieExpiry?: 'expires' | 'max-age' | 'both' | 'none';
  /** What a call with an expired or missing session gets (default 401; 403 is the other likely answer). */
  sessionRejectStatus?: 401 | 403;
  /** The login answer's body (undocumented, so it varies; default text). */
  authBody?: 'text' | 'json' | 'empty';
  /** Default script of every job (default queued 0 ms, running 150 ms). */
  job?: JobScript;
  /** Where code 101 shows when credits run out (default an HTTP 402 on /process). */
  noCredit?: { at: 'process' | 'status' | 'download'; httpStatus?: number; format?: CodeFormat };
  /** Files on a separate pre-signed storage host (default) or on the API host behind the session cookie. */
  fileHost?: 'storage' | 'api';
  /** Lifetime of pre-signed file URLs (default 600 s). */
  signedUrlTtlS?: number;
  /** Frame rate of the GLB files (default 30). */
  fileFps?: number;
  rigStyle?: RigStyle;
  /** A 1-frame T-pose take before the motion in every GLB (default true). */
  tposeTake?: boolean;
  /** How /job/v1/list echoes a job's parameters (default the params array as sent). */
  listParameters?: 'array' | 'object';
  /** Characters as a bare array (the doc) or `{list: [...]}` (the official example; default). */
  listModelsShape?: 'array' | 'list';
  /** What a cancelled job shows in status (unknown in the docs; default FAILURE). */
  cancelledShows?: 'FAILURE' | 'REVOKED' | 'missing';
}

export interface SimJob {
  rid: string;
  params: string[];
  /** The prompt as the server understood it (outer quotes stripped, escapes undone). */
  prompt: string;
  /** The prompt param's raw value. */
  rawPrompt: string;
  model: string;
  duration: number;
  requestedDuration?: number;
  numVariant: number;
  knobs: Record<string, string>;
  createdAt: number;
  script: JobScript;
  cancelledAt?: number;
  charged: number;
  /** Code 101 waits for this job (noCredit at status/download). */
  creditShort: boolean;
  /** Parameter error found at submission (SayMotion code 502 at the end). */
  paramError?: string;
  statusReads: number;
}

export interface CallRecord {
  route: Route;
  method: string;
  path: string;
  status: number;
  /** Rids named in the path (status, download, cancel). */
  rids?: string[];
  /** Whether the call carried a `dmsess` cookie (any Cookie header, for storage). */
  cookie: boolean;
  host: 'api' | 'storage';
  at: number;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

interface Answer {
  status: number;
  headers?: Record<string, string | string[]>;
  body: string | Uint8Array;
}

const json = (status: number, body: unknown, headers: Record<string, string | string[]> = {}): Answer => ({ status, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) });

function base62(n: number): string {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(n)].map((b) => abc[b % 62]).join('');
}

/** The value of a `k=v` param, with the official SDKs' double quotes removed and inner escapes undone. */
function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1).replace(/\\(["\\])/g, '$1') : v;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

export class SayMotionSimulator {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly characterId: string;
  readonly options: Required<Omit<SimulatorOptions, 'noCredit' | 'job'>> & { noCredit: NonNullable<SimulatorOptions['noCredit']>; job: JobScript };
  credits: number;
  maxVariantsGeneration: number;
  readonly jobs = new Map<string, SimJob>();
  readonly calls: CallRecord[] = [];
  /** Scripts for the next jobs created, first in first out (then options.job). */
  readonly nextJobs: JobScript[] = [];
  private readonly faults: FaultRule[] = [];
  private readonly sessions = new Map<string, number>();
  private readonly fileCache = new Map<string, Promise<Uint8Array>>();
  private readonly signingKey = randomBytes(16);
  private readonly sockets = new Set<Socket>();
  private api?: Server;
  private storage?: Server;
  url = '';
  storageUrl = '';

  constructor(opts: SimulatorOptions = {}) {
    this.clientId = opts.clientId ?? `client_${base62(10)}`;
    this.clientSecret = opts.clientSecret ?? `secret_${base62(24)}`;
    this.characterId = opts.characterId ?? 'dm_stock_male_01';
    this.options = {
      clientId: this.clientId,
      clientSecret: this.clientSecret,
      characterId: this.characterId,
      credits: opts.credits ?? 10_000,
      maxVariantsGeneration: opts.maxVariantsGeneration ?? 4,
      sessionTtlS: opts.sessionTtlS ?? 3600,
      cookieExpiry: opts.cookieExpiry ?? 'expires',
      sessionRejectStatus: opts.sessionRejectStatus ?? 401,
      authBody: opts.authBody ?? 'text',
      job: opts.job ?? { queueMs: 0, runMs: 150 },
      noCredit: opts.noCredit ?? { at: 'process', httpStatus: 402 },
      fileHost: opts.fileHost ?? 'storage',
      signedUrlTtlS: opts.signedUrlTtlS ?? 600,
      fileFps: opts.fileFps ?? 30,
      rigStyle: opts.rigStyle ?? 'cm+zup',
      tposeTake: opts.tposeTake ?? true,
      listParameters: opts.listParameters ?? 'array',
      listModelsShape: opts.listModelsShape ?? 'list',
      cancelledShows: opts.cancelledShows ?? 'FAILURE',
    };
    this.credits = this.options.credits;
    this.maxVariantsGeneration = this.options.maxVariantsGeneration;
  }

  // ---- Test controls.

  /** Makes the next matching calls misbehave. */
  fail(route: Route, fault: Fault, opts: { times?: number; after?: number } = {}): this {
    this.faults.push({ route, fault, times: opts.times ?? 1, after: opts.after ?? 0 });
    return this;
  }

  /** Removes every pending fault. */
  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Scripts the next jobs created (in order). */
  script(...scripts: JobScript[]): this {
    this.nextJobs.push(...scripts);
    return this;
  }

  /** Expires every session now (the next call without a fresh login is refused). */
  expireSessions(): void {
    this.sessions.clear();
  }

  /** Forgets a job (the provider's retention ran out). */
  forget(rid: string): void {
    this.jobs.delete(rid);
  }

  /** Calls to a route, optionally only those answered with `status`. */
  count(route: Route, status?: number): number {
    return this.calls.filter((c) => c.route === route && (status === undefined || c.status === status)).length;
  }

  /** Successful logins. */
  get logins(): number {
    return this.count('auth', 200);
  }

  resetCounts(): void {
    this.calls.length = 0;
  }

  // ---- Lifecycle.

  /** Listens on loopback: the API on `port` (default ephemeral), the storage host on an ephemeral port. */
  async start(port = 0): Promise<this> {
    this.api = createServer((req, res) => void this.serve(req, res, 'api'));
    this.storage = createServer((req, res) => void this.serve(req, res, 'storage'));
    for (const s of [this.api, this.storage]) s.on('connection', (sock) => {
      this.sockets.add(sock);
      sock.on('close', () => this.sockets.delete(sock));
    });
    const listen = (s: Server, p: number) =>
      new Promise<string>((resolve, reject) => {
        s.once('error', reject);
        s.listen(p, '127.0.0.1', () => resolve(`http://127.0.0.1:${(s.address() as AddressInfo).port}`));
      });
    this.url = await listen(this.api, port);
    this.storageUrl = await listen(this.storage, 0);
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all([this.api, this.storage].map((s) => new Promise<void>((r) => (s ? s.close(() => r()) : r()))));
  }

  // ---- HTTP.

  private takeFault(route: Route): Fault | undefined {
    for (const rule of this.faults) {
      if (rule.route !== route || rule.times <= 0) continue;
      if (rule.after > 0) {
        rule.after--;
        continue;
      }
      rule.times--;
      return rule.fault;
    }
    return undefined;
  }

  private routeOf(method: string, path: string, host: 'api' | 'storage'): Route {
    if (host === 'storage') return /\/inter_/.test(path) ? 'interFile' : 'file';
    if (path === '/account/v1/auth') return 'auth';
    if (path === '/account/v1/creditBalance') return 'creditBalance';
    if (method === 'POST' && path.startsWith('/job/v1/process/')) return 'process';
    if (path.startsWith('/job/v1/status/')) return 'status';
    if (path.startsWith('/job/v1/download/')) return 'download';
    if (path.startsWith('/job/v1/cancel/')) return 'cancel';
    if (path === '/job/v1/list' || path.startsWith('/job/v1/list/')) return 'list';
    if (path === '/character/v1/listModels') return 'listModels';
    if (path.startsWith('/job/v1/files/')) return /\/inter_/.test(path) ? 'interFile' : 'file';
    return 'unknown';
  }

  private async serve(req: IncomingMessage, res: ServerResponse, host: 'api' | 'storage'): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const method = req.method ?? 'GET';
    const route = this.routeOf(method, url.pathname, host);
    const body = await readBody(req);
    const record: CallRecord = {
      route,
      method,
      path: url.pathname,
      status: 0,
      cookie: host === 'storage' ? req.headers.cookie !== undefined : cookieOf(req, 'dmsess') !== undefined,
      host,
      at: Date.now(),
    };
    const ridSegment = /^\/job\/v1\/(?:status|download|cancel)\/(.+)$/.exec(url.pathname)?.[1];
    if (ridSegment) record.rids = ridSegment.split(',').map(decodeURIComponent);
    this.calls.push(record);
    const fault = this.takeFault(route);
    if (fault && 'kind' in fault && fault.kind === 'expireSession') this.expireSessions();
    let answer: Answer;
    if (fault && 'status' in fault) {
      const headers: Record<string, string> = fault.retryAfter ? { 'retry-after': fault.retryAfter } : {};
      answer = typeof fault.body === 'string' ? { status: fault.status, headers: { 'content-type': 'text/plain', ...headers }, body: fault.body } : json(fault.status, fault.body ?? { message: `simulated ${fault.status}` }, headers);
    } else {
      try {
        answer = await this.handle(route, req, url, body, host);
      } catch (err) {
        answer = json(500, { message: `simulator error: ${(err as Error).message}` });
      }
    }
    if (fault && 'kind' in fault) {
      if (fault.kind === 'malformed') answer = { status: 200, headers: JSON_HEADERS, body: '{"count": 1, "status": [{"rid": ' };
      if (fault.kind === 'count0' && route === 'status') answer = json(200, { count: 0, status: [] });
      if (fault.kind === 'truncate' && answer.body instanceof Uint8Array) answer = { ...answer, body: answer.body.subarray(0, Math.floor(answer.body.length / 2)) };
      if (fault.kind === 'hang') return;
      if (fault.kind === 'drop') {
        record.status = -1;
        req.socket.destroy();
        return;
      }
      if (fault.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
    }
    record.status = answer.status;
    const bytes = typeof answer.body === 'string' ? Buffer.from(answer.body) : Buffer.from(answer.body);
    res.writeHead(answer.status, { ...answer.headers, 'content-length': String(bytes.length) });
    res.end(method === 'HEAD' ? undefined : bytes);
  }

  /** The session the call carries, if still valid. */
  private sessionOk(req: IncomingMessage): boolean {
    const v = cookieOf(req, 'dmsess');
    const exp = v === undefined ? undefined : this.sessions.get(v);
    return exp !== undefined && Date.now() < exp;
  }

  private async handle(route: Route, req: IncomingMessage, url: URL, body: Buffer, host: 'api' | 'storage'): Promise<Answer> {
    if (host === 'storage') return this.storageFile(url);
    if (route === 'auth') return this.auth(req);
    if (route === 'unknown') return json(404, { message: 'Not Found' });
    if (!this.sessionOk(req)) return json(this.options.sessionRejectStatus, { message: 'Session expired or invalid' });
    switch (route) {
      case 'creditBalance':
        return this.creditBalance();
      case 'process':
        return this.process(url, body);
      case 'status':
        return this.status(url);
      case 'download':
        return this.download(url);
      case 'cancel':
        return this.cancel(url);
      case 'list':
        return this.list(url);
      case 'listModels':
        return this.listModels();
      default:
        return this.apiFile(url);
    }
  }

  private auth(req: IncomingMessage): Answer {
    const h = String(req.headers.authorization ?? '');
    const m = /^Basic\s+(\S+)$/i.exec(h);
    const decoded = m ? Buffer.from(m[1], 'base64').toString('utf8') : '';
    if (decoded !== `${this.clientId}:${this.clientSecret}`) return json(401, { message: 'Invalid client credentials' });
    // Hex, so the official SDK's split('=') parsing keeps it whole.
    const token = randomBytes(24).toString('hex');
    const ttl = this.options.sessionTtlS * 1000;
    this.sessions.set(token, Date.now() + ttl);
    const attrs = [`dmsess=${token}`, 'Domain=127.0.0.1', 'Path=/'];
    const e = this.options.cookieExpiry;
    if (e === 'expires' || e === 'both') attrs.push(`Expires=${new Date(Date.now() + ttl).toUTCString()}`);
    if (e === 'max-age' || e === 'both') attrs.push(`Max-Age=${Math.floor(ttl / 1000)}`);
    attrs.push('HttpOnly');
    const headers = { 'set-cookie': [attrs.join('; ')] };
    if (this.options.authBody === 'json') return json(200, { result: true }, headers);
    if (this.options.authBody === 'empty') return { status: 200, headers, body: '' };
    return { status: 200, headers: { 'content-type': 'text/plain', ...headers }, body: 'Authenticated' };
  }

  private creditBalance(): Answer {
    const now = Date.now();
    return json(200, {
      credits: this.credits,
      subscription: {
        name: 'Professional',
        credits: this.options.credits,
        featureLimits: { maxVariantsGeneration: this.maxVariantsGeneration },
        currentPeriod: { start: now - 86_400_000, end: now + 29 * 86_400_000 },
      },
    });
  }

  private process(url: URL, body: Buffer): Answer {
    if (!url.pathname.endsWith('/text2motion')) return json(404, { message: 'unknown processor' });
    let params: unknown;
    try {
      params = (JSON.parse(body.toString('utf8')) as { params?: unknown }).params;
    } catch {
      return json(400, { message: 'body is not JSON' });
    }
    if (!Array.isArray(params) || !params.every((p) => typeof p === 'string')) return json(400, { message: 'params must be a list of strings' });
    const kv = new Map<string, string>();
    for (const p of params as string[]) {
      const i = p.indexOf('=');
      if (i > 0) kv.set(p.slice(0, i), p.slice(i + 1));
    }
    const rawPrompt = kv.get('prompt');
    if (!rawPrompt) return json(400, { message: 'prompt is required' });
    const model = kv.get('model');
    // Seen in public client code: a missing model is a 500 "model not found".
    if (!model || model !== this.characterId) return json(500, { message: 'model not found' });
    const numVariant = kv.has('numVariant') ? Number(kv.get('numVariant')) : 1;
    if (!Number.isInteger(numVariant) || numVariant < 1 || numVariant > 8) return json(400, { message: 'numVariant must be 1..8' });
    if (numVariant > this.maxVariantsGeneration) return json(400, { message: `numVariant exceeds the subscription's maxVariantsGeneration (${this.maxVariantsGeneration})` });
    const requested = kv.has('requestedAnimationDuration') ? Number(kv.get('requestedAnimationDuration')) : undefined;
    if (requested !== undefined && !(requested > 0 && requested <= 10.5)) return json(400, { message: 'requestedAnimationDuration must be within 1-10 seconds' });
    const prompt = unquote(rawPrompt);
    const script = this.nextJobs.shift() ?? this.options.job;
    const duration = requested ?? 3 + (prompt.length % 5);
    let paramError: string | undefined;
    const knobs: Record<string, string> = {};
    for (const [k, v] of kv) if (!['prompt', 'model', 'numVariant', 'requestedAnimationDuration'].includes(k)) knobs[k] = v;
    if (knobs.footLockingMode !== undefined && !['auto', 'always', 'never', 'grounding'].includes(knobs.footLockingMode)) paramError = 'footLockingMode';
    if (knobs.poseFilteringStrength !== undefined && !(Number(knobs.poseFilteringStrength) >= 0 && Number(knobs.poseFilteringStrength) <= 1)) paramError = 'poseFilteringStrength';
    if (knobs.dis !== undefined && knobs.dis !== 's') paramError = 'dis';
    const cost = numVariant * Math.ceil(duration);
    const short = this.credits < cost;
    if (short && this.options.noCredit.at === 'process') {
      return json(this.options.noCredit.httpStatus ?? 402, { message: 'Not enough credit', code: 101 });
    }
    if (!short) this.credits -= cost;
    const rid = `${base62(22)}-text2motion`;
    this.jobs.set(rid, {
      rid,
      params: [...(params as string[])],
      prompt,
      rawPrompt,
      model,
      duration,
      requestedDuration: requested,
      numVariant,
      knobs,
      createdAt: Date.now(),
      script,
      charged: short ? 0 : cost,
      creditShort: short,
      paramError,
      statusReads: 0,
    });
    return json(200, { rid });
  }

  /** A job's status entry now, or undefined while it is hidden. */
  statusEntry(job: SimJob, now = Date.now()): { rid: string; status: string; details: Record<string, unknown>; positionInQueue?: number } | undefined {
    const s = job.script;
    if (job.cancelledAt !== undefined) {
      if (this.options.cancelledShows === 'missing') return undefined;
      if (this.options.cancelledShows === 'REVOKED') return { rid: job.rid, status: 'REVOKED', details: {} };
      return { rid: job.rid, status: 'FAILURE', details: { exc_message: 'Job cancelled by user', exc_type: 'JobCancelled' } };
    }
    const elapsed = now - job.createdAt;
    const queueMs = s.queueMs ?? 0;
    const total = s.total ?? 100;
    if (elapsed < queueMs) {
      const start = s.queuePosition ?? 3;
      const pos = Math.max(1, Math.ceil(start * (1 - elapsed / queueMs)));
      return { rid: job.rid, status: 'PROGRESS', details: { step: 0, total }, positionInQueue: pos };
    }
    const runMs = (s.runMs ?? 150) + (s.retryMs ?? 0);
    const t = elapsed - queueMs;
    if (s.retryMs && t > (runMs - s.retryMs) / 2 && t < (runMs - s.retryMs) / 2 + s.retryMs) {
      return { rid: job.rid, status: 'RETRY', details: { exc_message: 'Worker lost, retrying', exc_type: 'WorkerLostError' } };
    }
    if (s.stuck) return { rid: job.rid, status: 'PROGRESS', details: { step: Math.floor(total / 2), total }, positionInQueue: 0 };
    if (t < runMs) {
      const frac = t / runMs;
      return { rid: job.rid, status: 'PROGRESS', details: { step: Math.floor(total * frac * (s.overshoot ? 1.3 : 1)), total }, positionInQueue: 0 };
    }
    const failure = s.fail ?? (job.paramError ? { code: 502, format: 'string' as const } : job.creditShort && this.options.noCredit.at === 'status' ? { code: 101, format: this.options.noCredit.format ?? 'string' } : undefined);
    if (failure) {
      const code = failure.code;
      const format = failure.format ?? 'string';
      const text = failure.message ?? (code === 101 ? 'Not enough credit' : `Motion generation failed${code ? ` (${code})` : ''}`);
      const exc_message = code === undefined || format === 'text' ? text : format === 'string' ? String(code) : format === 'list' ? [String(code)] : `['${code}']`;
      return { rid: job.rid, status: 'FAILURE', details: { exc_message, exc_type: failure.type ?? 'MotionGenerationError' } };
    }
    return { rid: job.rid, status: 'SUCCESS', details: { In: [`prompt.txt`], out: [`${job.rid}.glb`] } };
  }

  private status(url: URL): Answer {
    const rids = url.pathname.slice('/job/v1/status/'.length).split(',').map(decodeURIComponent);
    const status = [];
    for (const rid of rids) {
      const job = this.jobs.get(rid);
      if (!job) continue;
      job.statusReads++;
      if (job.statusReads <= (job.script.hiddenPolls ?? 0)) continue;
      const e = this.statusEntry(job);
      if (e) status.push(e);
    }
    return json(200, { count: status.length, status });
  }

  private fileUrl(job: SimJob, variant: number, name: string): string {
    const path = `/dm-output/${job.rid}/${variant}/${name}`;
    if (this.options.fileHost === 'api') return `${this.url}/job/v1/files/${job.rid}/${variant}/${name}`;
    const expires = Math.floor(Date.now() / 1000) + this.options.signedUrlTtlS;
    const sig = createHmac('sha256', this.signingKey).update(`${path}\n${expires}`).digest('hex');
    return `${this.storageUrl}${path}?X-Amz-Expires=${expires}&X-Amz-Signature=${sig}`;
  }

  private download(url: URL): Answer {
    const rids = url.pathname.slice('/job/v1/download/'.length).split(',').map(decodeURIComponent);
    const variants = (url.searchParams.get('variant_id') ?? '1').split(',').map(Number);
    const links = rids.map((rid, i) => {
      const job = this.jobs.get(rid);
      const entry = job && this.statusEntry(job);
      if (!job || entry?.status !== 'SUCCESS') return { rid };
      const variant = variants[Math.min(i, variants.length - 1)];
      const allowed = Number.isInteger(variant) && variant >= 1 && variant <= job.numVariant && !(job.creditShort && this.options.noCredit.at === 'download');
      const base = `${job.rid}_v${variant}`;
      return {
        rid,
        name: job.prompt.slice(0, 40),
        parameters: job.params,
        renderJobList: [],
        variantDownloadStatus: allowed,
        urls: allowed
          ? [
              { name: `inter_${base}`, files: [{ glb: this.fileUrl(job, variant, `inter_${base}.glb`) }] },
              {
                name: base,
                files: [
                  { glb: this.fileUrl(job, variant, `${base}.glb`) },
                  { fbx: this.fileUrl(job, variant, `${base}.fbx`) },
                  { bvh: this.fileUrl(job, variant, `${base}.bvh`) },
                ],
              },
            ]
          : [],
      };
    });
    return json(200, { count: links.length, links });
  }

  private cancel(url: URL): Answer {
    const rid = decodeURIComponent(url.pathname.slice('/job/v1/cancel/'.length));
    const job = this.jobs.get(rid);
    const entry = job && this.statusEntry(job);
    if (!job || !entry || entry.status === 'SUCCESS' || entry.status === 'FAILURE') return json(200, { result: false });
    job.cancelledAt = Date.now();
    return json(200, { result: true });
  }

  private list(url: URL): Answer {
    const [, , , , statuses, processor] = url.pathname.split('/');
    const wanted = statuses ? new Set(statuses.split(',')) : undefined;
    const list = [...this.jobs.values()]
      .map((job) => ({ job, status: this.statusEntry(job)?.status ?? 'PROGRESS' }))
      .filter(({ status }) => !wanted || wanted.has(status))
      .filter(() => !processor || processor === 'text2motion')
      .sort((a, b) => b.job.createdAt - a.job.createdAt)
      .map(({ job, status }) => ({
        rid: job.rid,
        processor: 'text2motion',
        parameters:
          this.options.listParameters === 'object'
            ? { prompt: job.prompt, model: job.model, numVariant: job.numVariant, requestedAnimationDuration: job.requestedDuration, ...job.knobs }
            : job.params,
        variants: Object.fromEntries(Array.from({ length: job.numVariant }, (_, i) => [String(i + 1), { download: status === 'SUCCESS' }])),
        chargedAmount: job.charged,
        status,
        ctime: job.createdAt,
        mtime: Date.now(),
      }));
    return json(200, { count: list.length, list });
  }

  private listModels(): Answer {
    const now = Date.now();
    const models = [
      { id: this.characterId, name: 'Stock Male', glb: `${this.url}/character/v1/models/${this.characterId}.glb`, rigId: 'dm_humanoid', platform: 'deepmotion', ctime: now - 1e9, mtime: now - 1e9 },
      { Id: 'roblox_r15_01', name: 'Roblox R15', rigId: 'roblox_r15', platform: 'roblox', ctime: now - 1e9, mtime: now - 1e9 },
    ];
    return json(200, this.options.listModelsShape === 'array' ? models : { count: models.length, list: models });
  }

  /** The bytes of one result file of a job's variant (built once). */
  private fileBytes(job: SimJob, variant: number, name: string): Promise<Uint8Array> {
    const key = `${job.rid}/${variant}/${name}`;
    let p = this.fileCache.get(key);
    if (!p) {
      const fps = this.options.fileFps;
      const seconds = job.duration * (job.script.durationScale ?? 1);
      const clip = () => synthesize(job.prompt, seconds, variant, fps);
      p = (async () => {
        if (name.startsWith('inter_')) return motionGlb(restClip(DM_RIG, 2, fps), { rigStyle: this.options.rigStyle, tposeTake: false });
        if (name.endsWith('.glb')) return motionGlb(clip(), { rigStyle: this.options.rigStyle, tposeTake: this.options.tposeTake });
        if (name.endsWith('.bvh')) return new Uint8Array(Buffer.from(motionBvh(clip())));
        return motionFbxZip(clip(), name.replace(/\.fbx$/, ''));
      })();
      this.fileCache.set(key, p);
    }
    return p;
  }

  private async fileAnswer(rid: string, variant: number, name: string): Promise<Answer> {
    const job = this.jobs.get(rid);
    if (!job || variant < 1 || variant > job.numVariant) return { status: 404, headers: { 'content-type': 'application/xml' }, body: '<Error><Code>NoSuchKey</Code></Error>' };
    const type = name.endsWith('.glb') ? 'model/gltf-binary' : name.endsWith('.bvh') ? 'text/plain' : 'application/zip';
    return { status: 200, headers: { 'content-type': type }, body: await this.fileBytes(job, variant, name) };
  }

  private async storageFile(url: URL): Promise<Answer> {
    const m = /^\/dm-output\/([^/]+)\/(\d+)\/([^/]+)$/.exec(url.pathname);
    const expires = Number(url.searchParams.get('X-Amz-Expires'));
    const sig = url.searchParams.get('X-Amz-Signature') ?? '';
    const good = createHmac('sha256', this.signingKey).update(`${url.pathname}\n${expires}`).digest('hex');
    if (!m || sig !== good) return { status: 403, headers: { 'content-type': 'application/xml' }, body: '<Error><Code>SignatureDoesNotMatch</Code></Error>' };
    if (Date.now() / 1000 > expires) return { status: 403, headers: { 'content-type': 'application/xml' }, body: '<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>' };
    return this.fileAnswer(m[1], Number(m[2]), m[3]);
  }

  private apiFile(url: URL): Promise<Answer> | Answer {
    const m = /^\/job\/v1\/files\/([^/]+)\/(\d+)\/([^/]+)$/.exec(url.pathname);
    if (!m) return json(404, { message: 'Not Found' });
    return this.fileAnswer(m[1], Number(m[2]), m[3]);
  }
}

/** Starts a simulator on an ephemeral loopback port. */
export function startSayMotionSimulator(opts: SimulatorOptions = {}): Promise<SayMotionSimulator> {
  return new SayMotionSimulator(opts).start();
}
