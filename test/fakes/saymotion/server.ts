/**
 * A SayMotion simulator: a real HTTP server on loopback that plays DeepMotion's SayMotion REST API as
 * documented (session cookie, credits, text2motion jobs with variants, batched status, download links to
 * pre-signed storage, cancel, list, characters), can be told to misbehave per test, and counts every call.
 * This file is the HTTP side and the account; jobs.ts, storage.ts and faults.ts hold the rest.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { systemClock, type Clock } from '../../../src/spec/clock.js';
import { FaultPlan, routeOf, type Fault, type Route } from './faults.js';
import { JSON_HEADERS, cookieOf, json, readBody, type Answer } from './http.js';
import { jobStatus, readSubmission, type JobScript, type SimJob, type StatusEntry } from './jobs.js';
import { randomId, resolveOptions, type ResolvedOptions, type SimulatorOptions } from './options.js';
import { ResultFiles } from './storage.js';

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

export class SayMotionSimulator {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly characterId: string;
  readonly clock: Clock;
  readonly options: ResolvedOptions;
  credits: number;
  maxVariantsGeneration: number;
  readonly jobs = new Map<string, SimJob>();
  readonly calls: CallRecord[] = [];
  /** Scripts for the next jobs created, first in first out (then options.job). */
  readonly nextJobs: JobScript[] = [];
  /** Every session cookie value handed out, in order (to check none of them leaks). */
  readonly sessionsIssued: string[] = [];
  private readonly faults = new FaultPlan();
  private readonly sessions = new Map<string, number>();
  private readonly files: ResultFiles;
  private readonly sockets = new Set<Socket>();
  private api?: Server;
  private storage?: Server;
  url = '';
  storageUrl = '';

  constructor(opts: SimulatorOptions = {}) {
    this.options = resolveOptions(opts);
    this.clientId = this.options.clientId;
    this.clientSecret = this.options.clientSecret;
    this.characterId = this.options.characterId;
    this.clock = opts.clock ?? systemClock;
    this.credits = this.options.credits;
    this.maxVariantsGeneration = this.options.maxVariantsGeneration;
    this.files = new ResultFiles(this.clock, this.options, this.jobs, () => ({ api: this.url, storage: this.storageUrl }));
  }

  // ---- Test controls.

  /** Makes the next matching calls misbehave. */
  fail(route: Route, fault: Fault, opts: { times?: number; after?: number } = {}): this {
    this.faults.add(route, fault, opts);
    return this;
  }

  /** Removes every pending fault. */
  clearFaults(): void {
    this.faults.clear();
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

  private async serve(req: IncomingMessage, res: ServerResponse, host: 'api' | 'storage'): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const method = req.method ?? 'GET';
    const route = routeOf(method, url.pathname, host);
    const body = await readBody(req);
    const record: CallRecord = {
      route,
      method,
      path: url.pathname,
      status: 0,
      cookie: host === 'storage' ? req.headers.cookie !== undefined : cookieOf(req, 'dmsess') !== undefined,
      host,
      at: this.clock.now(),
    };
    const ridSegment = /^\/job\/v1\/(?:status|download|cancel)\/(.+)$/.exec(url.pathname)?.[1];
    if (ridSegment) record.rids = ridSegment.split(',').map(decodeURIComponent);
    this.calls.push(record);
    const fault = this.faults.take(route);
    if (fault && 'kind' in fault && fault.kind === 'expireSession') this.expireSessions();
    let answer: Answer;
    if (fault && 'status' in fault) {
      const headers: Record<string, string> = fault.retryAfter ? { 'retry-after': fault.retryAfter } : {};
      if (fault.echoCredentials) {
        const message = `session ${cookieOf(req, 'dmsess') ?? '(none)'} of client ${this.clientId} (secret ${this.clientSecret}) is not allowed here`;
        answer = json(fault.status, { message }, headers);
      } else answer = typeof fault.body === 'string' ? { status: fault.status, headers: { 'content-type': 'text/plain', ...headers }, body: fault.body } : json(fault.status, fault.body ?? { message: `simulated ${fault.status}` }, headers);
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
      if (fault.kind === 'delay') await this.clock.sleep(fault.ms);
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
    return exp !== undefined && this.clock.now() < exp;
  }

  private async handle(route: Route, req: IncomingMessage, url: URL, body: Buffer, host: 'api' | 'storage'): Promise<Answer> {
    if (host === 'storage') return this.files.fromStorage(url);
    if (route === 'auth') return this.auth(req);
    // Files on the API host are pre-signed: they need no session.
    if (route === 'file' || route === 'interFile') return this.files.fromApi(url);
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
        return json(404, { message: 'Not Found' });
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
    this.sessions.set(token, this.clock.now() + ttl);
    this.sessionsIssued.push(token);
    const attrs = [`dmsess=${token}`, 'Domain=127.0.0.1', 'Path=/'];
    const e = this.options.cookieExpiry;
    if (e === 'expires' || e === 'both') attrs.push(`Expires=${new Date(this.clock.now() + ttl).toUTCString()}`);
    if (e === 'max-age' || e === 'both') attrs.push(`Max-Age=${Math.floor(ttl / 1000)}`);
    attrs.push('HttpOnly');
    const headers = { 'set-cookie': [attrs.join('; ')] };
    if (this.options.authBody === 'json') return json(200, { result: true }, headers);
    if (this.options.authBody === 'empty') return { status: 200, headers, body: '' };
    return { status: 200, headers: { 'content-type': 'text/plain', ...headers }, body: 'Authenticated' };
  }

  private creditBalance(): Answer {
    const now = this.clock.now();
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
    const submission = readSubmission(body, this.characterId, this.maxVariantsGeneration);
    if ('refused' in submission) return submission.refused;
    const script = this.nextJobs.shift() ?? this.options.job;
    const cost = submission.numVariant * Math.ceil(submission.duration);
    const short = this.credits < cost;
    if (short && this.options.noCredit.at === 'process') {
      return json(this.options.noCredit.httpStatus ?? 402, { message: 'Not enough credit', code: 101 });
    }
    if (!short) this.credits -= cost;
    const rid = `${randomId(22)}-text2motion`;
    this.jobs.set(rid, { ...submission, rid, createdAt: this.clock.now(), script, charged: short ? 0 : cost, creditShort: short, statusReads: 0 });
    return json(200, { rid });
  }

  /** A job's status entry now, or undefined while it is hidden. */
  private statusEntry(job: SimJob): StatusEntry | undefined {
    return jobStatus(job, this.clock.now(), this.options);
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
              { name: `inter_${base}`, files: [{ glb: this.files.url(job, variant, `inter_${base}.glb`) }] },
              {
                name: base,
                files: [
                  { glb: this.files.url(job, variant, `${base}.glb`) },
                  { fbx: this.files.url(job, variant, `${base}.fbx`) },
                  { bvh: this.files.url(job, variant, `${base}.bvh`) },
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
    job.cancelledAt = this.clock.now();
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
        mtime: this.clock.now(),
      }));
    return json(200, { count: list.length, list });
  }

  private listModels(): Answer {
    const now = this.clock.now();
    const models = [
      { id: this.characterId, name: 'Stock Male', glb: `${this.url}/character/v1/models/${this.characterId}.glb`, rigId: 'dm_humanoid', platform: 'deepmotion', ctime: now - 1e9, mtime: now - 1e9 },
      { Id: 'roblox_r15_01', name: 'Roblox R15', rigId: 'roblox_r15', platform: 'roblox', ctime: now - 1e9, mtime: now - 1e9 },
    ];
    return json(200, this.options.listModelsShape === 'array' ? models : { count: models.length, list: models });
  }
}

/** Starts a simulator on an ephemeral loopback port. */
export function startSayMotionSimulator(opts: SimulatorOptions = {}): Promise<SayMotionSimulator> {
  return new SayMotionSimulator(opts).start();
}
