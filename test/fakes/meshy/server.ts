/**
 * A Meshy simulator: a real HTTP server on loopback that plays the Meshy API as documented (Bearer keys,
 * rigging and animation tasks with their lifecycle and queue, credits, rate limits, SSE streams, signed
 * and expiring asset URLs on a separate storage origin), counts every call, and misbehaves on request.
 * Its time (task lifecycle, ticks, rate-limit windows, URL expiry) runs on an injectable clock, so a test
 * can share one fast clock between the simulator and the gateway.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { loadLibrary } from '../../../src/adapters/meshy/library.js';
import { systemClock, type Clock } from '../../../src/spec/clock.js';
import { animationGlb, riggedCharacterGlb, sampleModelGlb, type SampleModel, type SimAction } from './motions.js';

type TaskKind = 'rigging' | 'animations';
type SimStatus = 'PENDING' | 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'CANCELED';

interface SimTask {
  id: string;
  kind: TaskKind;
  status: SimStatus;
  progress: number;
  created_at: number;
  started_at: number;
  finished_at: number;
  expires_at: number;
  consumed_credits: number;
  cost: number;
  task_error: { message: string; type?: string; code?: string };
  /** What the task was asked (rigging: height, model; animation: rig, action, post_process). */
  input: Record<string, unknown>;
  /** A planned failure, applied when the task reaches `at`. */
  fault?: TaskFault;
  /** When the 99 % stall began. */
  stallFrom?: number;
}

interface TaskFault {
  kind: TaskKind;
  /** FAILED with this task_error, or CANCELED. */
  error?: { message: string; type?: string; code?: string };
  cancel?: boolean;
  /** Fail while queued, or half-way through running (default). */
  at?: 'pending' | 'running';
  /** How many of the next tasks of that kind (default 1). */
  times?: number;
}

interface HttpFault {
  method?: string;
  /** Path prefix or pattern (query strings excluded). */
  path: string | RegExp;
  status?: number;
  /** Sent as `{"message": …}`. */
  message?: string;
  /** A raw body instead (e.g. HTML from a proxy). */
  body?: string;
  contentType?: string;
  retryAfter?: string | number;
  /** Closes the connection without an answer. */
  drop?: boolean;
  /**
   * Waits before answering (or before dropping), in real milliseconds: it races the client's transport
   * timeout, which runs on real time whatever the clock.
   */
  delayMs?: number;
  /** How many matching requests it hits (default 1). */
  times?: number;
}

interface Timing {
  /** Least time a task stays PENDING. */
  pendingMs: number;
  /** IN_PROGRESS from 0 to 99 %. */
  runMs: number;
  /** The finalizing stall at 99 %. */
  stallMs: number;
  tickMs: number;
}

type StreamMode = 'ok' | 'hang' | 'refuse' | 'not-sse' | { dropAfter: number };
type AssetMode = 'ok' | 'truncated' | 'not-glb';

interface Behaviour {
  timing: Timing;
  /** Tasks Meshy works on at once (the rest queue with preceding_tasks). */
  workers: number;
  /** PENDING + IN_PROGRESS tasks the account may have; more → 429 NoMoreConcurrentTasks. */
  queueCap: number;
  /** Requests per second per account (0 = unlimited); more → 429 RateLimitExceeded. */
  rateLimitPerSecond: number;
  /** Retry-After (seconds) sent with each 429 flavour, or null for none. */
  rateLimitRetryAfter: number | null;
  queueFullRetryAfter: number | null;
  /** Lifetime of signed asset URLs. */
  assetTtlMs: number;
  stream: StreamMode;
  assets: AssetMode;
  /** Real milliseconds between creating a task and answering its id (an answer slow to come back). */
  answerDelayMs: number;
  /** Origin written into asset URLs (default: the origin serving them). */
  assetUrlOrigin?: string;
}

export interface SimOptions extends Partial<Omit<Behaviour, 'timing'>> {
  timing?: Partial<Timing>;
  /** Accepted API keys (default: one generated `msy_sim_…` key). */
  keys?: string[];
  credits?: number;
  /** Serve assets from the API origin instead of a separate storage origin. */
  assetsOnApiOrigin?: boolean;
  /**
   * The origin written into asset URLs instead of the one serving them (a provider answer pointing
   * elsewhere: another loopback port, a private address, a named host). Settable later as `behave.assetUrlOrigin`.
   */
  assetUrlOrigin?: string;
  /** The simulated service's time (default: the system clock). */
  clock?: Clock;
  /** The API's loopback port (default 0: any free port); a separate storage origin always takes a free one. */
  port?: number;
}

interface SimStats {
  /** Most tasks PENDING or IN_PROGRESS at once. */
  peakActive: number;
  queueFull429: number;
  rateLimited429: number;
  /** Asset requests that carried an Authorization header, on either origin (pre-signed URLs need none). */
  assetAuthLeaks: number;
  streamsOpened: number;
  /** `event: error` sent (unknown or vanished tasks). */
  errorEvents: number;
}

export interface MeshySimulator {
  url: string;
  /** The clock the simulated service runs on. */
  clock: Clock;
  apiKey: string;
  /** Origin of the signed asset URLs. */
  assetOrigin: string;
  /** URL of a sample model to rig (`humanoid`, `quadruped`, `huge`). */
  sampleUrl(kind: SampleModel): string;
  behave: Behaviour;
  credits: number;
  /** Calls per route, e.g. `POST /openapi/v1/animations`, `GET /openapi/v1/animations/:id/stream`, `GET /assets`. */
  calls: Record<string, number>;
  /** Bodies of accepted task creations, in order. */
  created: Array<{ kind: TaskKind; id: string; body: Record<string, unknown> }>;
  stats: SimStats;
  tasks: Map<string, SimTask>;
  fail(fault: HttpFault): void;
  failTasks(fault: TaskFault): void;
  /** Makes Meshy forget a task (expired or deleted on its side): GET answers 404, animations on a forgotten rig too. */
  forget(id: string): void;
  /** Calls of one route so far. */
  count(route: string): number;
  /** Tasks PENDING or IN_PROGRESS now. */
  active(): number;
  /**
   * Resolves once `cond` holds, checked now and after every request answered and every tick: a test
   * awaits what the simulator sees instead of sleeping. Rejects after `timeoutMs` of real time.
   */
  when(cond: () => boolean, what?: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const ACTION_COST = 3;
const RIG_COST = 5;
const MAX_FACES = 300_000;
const FPS_OFFERED = [24, 25, 30, 60];

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function refuse(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  json(res, status, { message }, headers);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Files already made, shared by every simulator of the process: they depend only on their key (action,
 * fps, height or sample kind), and making one takes tens of milliseconds.
 */
const glbCache = new Map<string, Promise<Uint8Array>>();
function cachedGlb(key: string, make: () => Promise<Uint8Array>): Promise<Uint8Array> {
  let p = glbCache.get(key);
  if (!p) {
    p = make();
    glbCache.set(key, p);
  }
  return p;
}

/** Faces of a GLB's meshes, read from its JSON chunk (index counts, or vertex counts without indices). */
function glbFaces(json: Record<string, any>): number {
  let faces = 0;
  for (const mesh of json.meshes ?? []) {
    for (const prim of mesh.primitives ?? []) {
      const acc = prim.indices !== undefined ? json.accessors?.[prim.indices] : json.accessors?.[prim.attributes?.POSITION];
      faces += Math.floor((acc?.count ?? 0) / 3);
    }
  }
  return faces;
}

function glbJson(bytes: Buffer): Record<string, any> | undefined {
  if (bytes.length < 20 || bytes.readUInt32LE(0) !== 0x46546c67) return undefined;
  const len = bytes.readUInt32LE(12);
  try {
    return JSON.parse(bytes.subarray(20, 20 + len).toString('utf8')) as Record<string, any>;
  } catch {
    return undefined;
  }
}

/** Pose estimation, simulated: a model is a humanoid unless it says otherwise (asset.extras.shape or a mesh name). */
function looksHumanoid(json: Record<string, any>): boolean {
  if (json.asset?.extras?.shape && json.asset.extras.shape !== 'humanoid') return false;
  return !(json.meshes ?? []).some((m: any) => /quadruped|dog|horse|car|chair|table/i.test(String(m.name ?? '')));
}

export async function startMeshySimulator(opts: SimOptions = {}): Promise<MeshySimulator> {
  const library = loadLibrary();
  const clock = opts.clock ?? systemClock;
  const keys = new Set(opts.keys ?? [`msy_sim_${randomBytes(12).toString('hex')}`]);
  const secret = randomBytes(16);
  const behave: Behaviour = {
    timing: { pendingMs: 20, runMs: 150, stallMs: 80, tickMs: 10, ...opts.timing },
    workers: opts.workers ?? 4,
    queueCap: opts.queueCap ?? 10,
    rateLimitPerSecond: opts.rateLimitPerSecond ?? 0,
    rateLimitRetryAfter: opts.rateLimitRetryAfter === undefined ? 1 : opts.rateLimitRetryAfter,
    queueFullRetryAfter: opts.queueFullRetryAfter === undefined ? null : opts.queueFullRetryAfter,
    assetTtlMs: opts.assetTtlMs ?? 3 * 86_400_000,
    stream: opts.stream ?? 'ok',
    assets: opts.assets ?? 'ok',
    answerDelayMs: opts.answerDelayMs ?? 0,
    assetUrlOrigin: opts.assetUrlOrigin,
  };
  const tasks = new Map<string, SimTask>();
  const order: string[] = [];
  const calls: Record<string, number> = {};
  const created: MeshySimulator['created'] = [];
  const stats: SimStats = { peakActive: 0, queueFull429: 0, rateLimited429: 0, assetAuthLeaks: 0, streamsOpened: 0, errorEvents: 0 };
  const httpFaults: HttpFault[] = [];
  const taskFaults: TaskFault[] = [];
  const subscribers = new Map<string, Set<(t: SimTask) => void>>();
  /** Open streams to tell when their task disappears. */
  const vanished = new Map<string, Set<() => void>>();
  const recent: number[] = [];
  const sockets = new Set<Socket>();
  /** Conditions tests await (see `when`), re-checked whenever the simulator's state may have changed. */
  const waiters = new Set<() => void>();
  const changed = () => {
    for (const check of [...waiters]) check();
  };
  let credits = opts.credits ?? 100_000;
  let apiOrigin = '';
  let assetOrigin = '';

  const count = (route: string) => {
    calls[route] = (calls[route] ?? 0) + 1;
  };
  const activeTasks = () => [...tasks.values()].filter((t) => t.status === 'PENDING' || t.status === 'IN_PROGRESS');

  // ------------------------------------------------------------------------------------------------
  // Task objects as Meshy shows them.

  const sign = (path: string, expires: number) => createHmac('sha256', secret).update(`${path}|${expires}`).digest('hex').slice(0, 32);
  const assetUrl = (t: SimTask, file: string) => {
    const path = `/assets/${t.id}/${file}`;
    return `${behave.assetUrlOrigin ?? assetOrigin}${path}?Expires=${t.expires_at}&Signature=${sign(path, t.expires_at)}`;
  };

  function resultOf(t: SimTask): Record<string, unknown> {
    if (t.kind === 'rigging') {
      return {
        rigged_character_glb_url: assetUrl(t, 'character.glb'),
        rigged_character_fbx_url: assetUrl(t, 'character.fbx'),
        basic_animations: {
          walking_glb_url: assetUrl(t, 'walking.glb'),
          walking_fbx_url: assetUrl(t, 'walking.fbx'),
          walking_armature_glb_url: assetUrl(t, 'walking_armature.glb'),
          running_glb_url: assetUrl(t, 'running.glb'),
          running_fbx_url: assetUrl(t, 'running.fbx'),
          running_armature_glb_url: assetUrl(t, 'running_armature.glb'),
        },
      };
    }
    const out: Record<string, unknown> = { animation_glb_url: assetUrl(t, 'animation.glb'), animation_fbx_url: assetUrl(t, 'animation.fbx') };
    const pp = t.input.post_process as { operation_type?: string } | undefined;
    if (pp?.operation_type === 'change_fps') out.processed_animation_fps_fbx_url = assetUrl(t, 'animation_fps.fbx');
    if (pp?.operation_type === 'fbx2usdz') out.processed_usdz_url = assetUrl(t, 'animation.usdz');
    if (pp?.operation_type === 'extract_armature') out.processed_armature_fbx_url = assetUrl(t, 'armature.fbx');
    return out;
  }

  function precedingOf(t: SimTask): number {
    if (t.status !== 'PENDING') return 0;
    let n = 0;
    for (const id of order) {
      if (id === t.id) break;
      if (tasks.get(id)?.status === 'PENDING') n++;
    }
    return n;
  }

  function view(t: SimTask): Record<string, unknown> {
    const out: Record<string, unknown> = {
      id: t.id,
      type: t.kind === 'rigging' ? 'rig' : 'animate',
      status: t.status,
      progress: t.progress,
      created_at: t.created_at,
      started_at: t.started_at,
      finished_at: t.finished_at,
      expires_at: t.expires_at,
      preceding_tasks: precedingOf(t),
      consumed_credits: t.consumed_credits,
      task_error: t.task_error,
    };
    if (t.status === 'SUCCEEDED') out.result = resultOf(t);
    return out;
  }

  function emit(t: SimTask): void {
    for (const fn of subscribers.get(t.id) ?? []) fn(t);
  }

  function end(t: SimTask, status: SimStatus, error?: TaskFault['error']): void {
    t.status = status;
    t.finished_at = clock.now();
    if (status === 'SUCCEEDED') {
      t.progress = 100;
      t.expires_at = t.finished_at + behave.assetTtlMs;
    } else {
      // Failed and cancelled tasks are refunded.
      credits += t.consumed_credits;
      t.consumed_credits = 0;
      if (error) t.task_error = { ...error };
    }
  }

  // The simulated service's heartbeat: every tick moves tasks along their lifecycle.
  function tick(): void {
    const now = clock.now();
    let running = [...tasks.values()].filter((t) => t.status === 'IN_PROGRESS').length;
    for (const id of order) {
      const t = tasks.get(id);
      if (!t) continue;
      const before = `${t.status}|${t.progress}`;
      if (t.status === 'PENDING') {
        if (t.fault?.at === 'pending' && now - t.created_at >= behave.timing.pendingMs) {
          end(t, t.fault.cancel ? 'CANCELED' : 'FAILED', t.fault.error);
        } else if (running < behave.workers && now - t.created_at >= behave.timing.pendingMs) {
          t.status = 'IN_PROGRESS';
          t.started_at = now;
          running++;
        }
      } else if (t.status === 'IN_PROGRESS') {
        const elapsed = now - t.started_at;
        t.progress = Math.min(99, Math.floor((99 * elapsed) / Math.max(1, behave.timing.runMs)));
        if (t.fault && t.fault.at !== 'pending' && t.progress >= 50) {
          end(t, t.fault.cancel ? 'CANCELED' : 'FAILED', t.fault.error);
          running--;
        } else if (t.progress >= 99) {
          t.stallFrom ??= now;
          if (now - t.stallFrom >= behave.timing.stallMs) {
            end(t, 'SUCCEEDED');
            running--;
          }
        }
      }
      if (`${t.status}|${t.progress}` !== before) emit(t);
    }
    stats.peakActive = Math.max(stats.peakActive, activeTasks().length);
    changed();
  }
  const stopTicking = new AbortController();
  void (async () => {
    while (!stopTicking.signal.aborted) {
      await clock.sleep(behave.timing.tickMs, stopTicking.signal);
      if (!stopTicking.signal.aborted) tick();
    }
  })();

  // ------------------------------------------------------------------------------------------------
  // Creating tasks.

  function takeTaskFault(kind: TaskKind): TaskFault | undefined {
    const i = taskFaults.findIndex((f) => f.kind === kind);
    if (i < 0) return undefined;
    const f = taskFaults[i];
    const left = (f.times ?? 1) - 1;
    if (left <= 0) taskFaults.splice(i, 1);
    else taskFaults[i] = { ...f, times: left };
    return f;
  }

  /** Credits and the queue cap, checked for every billable creation. */
  function admitTask(res: ServerResponse, cost: number): boolean {
    if (activeTasks().length >= behave.queueCap) {
      stats.queueFull429++;
      const headers: Record<string, string> = behave.queueFullRetryAfter === null ? {} : { 'retry-after': String(behave.queueFullRetryAfter) };
      refuse(res, 429, 'NoMoreConcurrentTasks: the account has reached its limit of queued tasks', headers);
      return false;
    }
    if (credits < cost) {
      refuse(res, 402, 'Insufficient credits');
      return false;
    }
    return true;
  }

  function createTask(kind: TaskKind, input: Record<string, unknown>, cost: number): SimTask {
    const id = `${kind === 'rigging' ? 'rig' : 'anim'}-${randomBytes(8).toString('hex')}`;
    credits -= cost;
    const t: SimTask = {
      id,
      kind,
      status: 'PENDING',
      progress: 0,
      created_at: clock.now(),
      started_at: 0,
      finished_at: 0,
      expires_at: 0,
      consumed_credits: cost,
      cost,
      task_error: { message: '' },
      input,
      fault: takeTaskFault(kind),
    };
    tasks.set(id, t);
    order.push(id);
    created.push({ kind, id, body: input });
    stats.peakActive = Math.max(stats.peakActive, activeTasks().length);
    return t;
  }

  async function modelBytes(modelUrl: string): Promise<{ bytes?: Buffer; error?: string }> {
    const data = /^data:([^;,]*)(;base64)?,(.*)$/s.exec(modelUrl);
    if (data) {
      const type = data[1] || 'text/plain';
      if (!/^(model\/gltf-binary|application\/octet-stream)$/i.test(type)) return { error: `Invalid model file extension: .${type.split('/')[1] ?? type}` };
      return { bytes: data[2] ? Buffer.from(data[3], 'base64') : Buffer.from(decodeURIComponent(data[3]), 'latin1') };
    }
    let u: URL;
    try {
      u = new URL(modelUrl);
    } catch {
      return { error: 'Invalid model_url' };
    }
    const ext = /\.([A-Za-z0-9]+)$/.exec(u.pathname)?.[1]?.toLowerCase();
    if (ext !== 'glb') return { error: `Invalid model file extension: .${ext ?? ''}` };
    try {
      const r = await fetch(u, { signal: AbortSignal.timeout(5_000) });
      if (!r.ok) return { error: 'Failed to download the model from model_url' };
      return { bytes: Buffer.from(await r.arrayBuffer()) };
    } catch {
      return { error: 'Failed to download the model from model_url' };
    }
  }

  async function postRigging(res: ServerResponse, body: Record<string, any>): Promise<void> {
    if (body.input_task_id !== undefined) {
      const src = typeof body.input_task_id === 'string' ? tasks.get(body.input_task_id) : undefined;
      if (!src || src.status !== 'SUCCEEDED') return refuse(res, 400, 'Invalid input_task_id');
    } else if (typeof body.model_url !== 'string' || body.model_url === '') {
      return refuse(res, 400, 'model_url or input_task_id is required');
    }
    if (body.height_meters !== undefined && !(typeof body.height_meters === 'number' && body.height_meters > 0 && body.height_meters < 10)) {
      return refuse(res, 400, 'Invalid height_meters');
    }
    if (body.texture_image_url !== undefined && (typeof body.texture_image_url !== 'string' || !/\.png(\?|$)/i.test(body.texture_image_url))) {
      return refuse(res, 400, 'Invalid texture_image_url: a .png is expected');
    }
    if (body.input_task_id === undefined) {
      const model = await modelBytes(body.model_url as string);
      if (model.error) return refuse(res, 400, model.error);
      const doc = glbJson(model.bytes!);
      if (!doc) return refuse(res, 400, 'Invalid model file: not a .glb');
      const faces = glbFaces(doc);
      if (faces > MAX_FACES) return refuse(res, 400, `The model has too many faces (${faces} > ${MAX_FACES})`);
      if (!looksHumanoid(doc)) return refuse(res, 422, 'Pose estimation failed: the model does not look like a humanoid');
    }
    if (!admitTask(res, RIG_COST)) return;
    const t = createTask('rigging', { height_meters: body.height_meters ?? 1.7, model: body.model_url?.startsWith('data:') ? 'data-uri' : body.model_url ?? body.input_task_id }, RIG_COST);
    answerCreated(res, t);
  }

  function postAnimation(res: ServerResponse, body: Record<string, any>): void {
    if (typeof body.rig_task_id !== 'string' || body.rig_task_id === '') return refuse(res, 400, 'rig_task_id is required');
    if (body.action_id === undefined && body.action_ids === undefined) return refuse(res, 400, 'action_id is required');
    const ids: unknown[] = body.action_ids !== undefined ? (Array.isArray(body.action_ids) ? body.action_ids : [null]) : [body.action_id];
    for (const id of ids) {
      if (!Number.isInteger(id) || !library.byId.has(id as number)) return refuse(res, 400, `Invalid action_id: ${JSON.stringify(id)}`);
    }
    if (body.post_process !== undefined) {
      const pp = body.post_process;
      if (!pp || typeof pp !== 'object' || !['change_fps', 'fbx2usdz', 'extract_armature'].includes(pp.operation_type)) return refuse(res, 400, 'Invalid post_process.operation_type');
      if (pp.operation_type === 'change_fps' && pp.fps !== undefined && !FPS_OFFERED.includes(pp.fps)) return refuse(res, 400, 'Invalid post_process.fps: one of 24, 25, 30, 60');
    }
    const rig = tasks.get(body.rig_task_id);
    if (!rig || rig.kind !== 'rigging') return refuse(res, 404, 'Rig task not found');
    if (rig.status !== 'SUCCEEDED') return refuse(res, 400, 'The rig task has not succeeded');
    if (!admitTask(res, ACTION_COST)) return;
    const t = createTask('animations', { rig_task_id: body.rig_task_id, action_id: ids[0], post_process: body.post_process, height: rig.input.height_meters }, ACTION_COST);
    answerCreated(res, t);
  }

  function answerCreated(res: ServerResponse, t: SimTask): void {
    if (behave.answerDelayMs > 0) setTimeout(() => json(res, 202, { result: t.id }), behave.answerDelayMs);
    else json(res, 202, { result: t.id });
  }

  // ------------------------------------------------------------------------------------------------
  // Streams.

  function stream(req: IncomingMessage, res: ServerResponse, t: SimTask | undefined): void {
    stats.streamsOpened++;
    const mode = behave.stream;
    if (mode === 'refuse') return refuse(res, 500, 'Internal server error.');
    if (mode === 'not-sse') return json(res, 200, t ? view(t) : { message: 'Task not found' });
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.flushHeaders();
    if (!t) {
      stats.errorEvents++;
      res.end(`event: error\ndata: ${JSON.stringify({ status_code: 404, message: 'Task not found' })}\n\n`);
      return;
    }
    if (mode === 'hang') return; // headers, then silence
    let sent = 0;
    const send = (task: SimTask) => {
      if (typeof mode === 'object' && sent >= mode.dropAfter) {
        res.destroy();
        return;
      }
      sent++;
      const terminal = task.status === 'SUCCEEDED' || task.status === 'FAILED' || task.status === 'CANCELED';
      const data = terminal ? view(task) : { id: task.id, status: task.status, progress: task.progress };
      res.write(`event: message\ndata: ${JSON.stringify(data)}\n\n`);
      if (terminal) {
        unsubscribe();
        res.end();
      }
    };
    const set = subscribers.get(t.id) ?? new Set();
    subscribers.set(t.id, set);
    const unsubscribe = () => set.delete(send);
    set.add(send);
    const gone = () => {
      unsubscribe();
      stats.errorEvents++;
      res.end(`event: error\ndata: ${JSON.stringify({ status_code: 404, message: 'Task not found' })}\n\n`);
    };
    const goneSet = vanished.get(t.id) ?? new Set();
    vanished.set(t.id, goneSet);
    goneSet.add(gone);
    req.on('close', () => goneSet.delete(gone));
    req.on('close', unsubscribe);
    send(t);
  }

  // ------------------------------------------------------------------------------------------------
  // Assets (signed, expiring, no credentials expected).

  async function asset(req: IncomingMessage, res: ServerResponse, url: URL, onStorage: boolean): Promise<void> {
    count('GET /assets');
    // A pre-signed URL needs no credentials: any that come are a leak. Storage refuses a request that
    // carries credentials besides its signature (as S3 does); the API origin serves it anyway.
    if (req.headers.authorization) stats.assetAuthLeaks++;
    if (onStorage && req.headers.authorization) {
      res.writeHead(400, { 'content-type': 'application/xml' });
      res.end('<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>');
      return;
    }
    const expires = Number(url.searchParams.get('Expires'));
    const signature = url.searchParams.get('Signature');
    if (!signature || signature !== sign(url.pathname, expires) || !(expires > clock.now())) {
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>');
      return;
    }
    const [, , id, file] = url.pathname.split('/');
    const t = tasks.get(id ?? '');
    if (!t || t.status !== 'SUCCEEDED') {
      res.writeHead(404, { 'content-type': 'application/xml' });
      res.end('<Error><Code>NoSuchKey</Code></Error>');
      return;
    }
    let bytes: Uint8Array;
    if (file?.endsWith('.glb')) {
      const height = Number(t.kind === 'rigging' ? t.input.height_meters : t.input.height) || 1.7;
      let action: SimAction | undefined;
      let fps = 30;
      if (t.kind === 'animations') {
        action = library.byId.get(t.input.action_id as number);
        const pp = t.input.post_process as { operation_type?: string; fps?: number } | undefined;
        if (pp?.operation_type === 'change_fps') fps = pp.fps ?? 30;
      } else if (file.startsWith('walking')) action = library.byId.get(-2);
      else if (file.startsWith('running')) action = library.byId.get(-1);
      const key = `${action?.action_id ?? 'character'}|${fps}|${height}`;
      bytes = await cachedGlb(key, () => (action ? animationGlb(action, { fps, height }) : riggedCharacterGlb(height)));
    } else {
      bytes = Buffer.from(`Kaydara FBX Binary  \0(simulated ${file})`);
    }
    if (behave.assets === 'truncated') bytes = bytes.subarray(0, Math.min(100, bytes.length));
    if (behave.assets === 'not-glb') bytes = Buffer.from('<html><body>Service Unavailable</body></html>');
    res.writeHead(200, { 'content-type': file?.endsWith('.glb') ? 'model/gltf-binary' : 'application/octet-stream', 'content-length': bytes.length });
    res.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  // ------------------------------------------------------------------------------------------------
  // The API.

  function takeHttpFault(method: string, path: string): HttpFault | undefined {
    const i = httpFaults.findIndex((f) => (!f.method || f.method === method) && (typeof f.path === 'string' ? path.startsWith(f.path) : f.path.test(path)));
    if (i < 0) return undefined;
    const f = httpFaults[i];
    const left = (f.times ?? 1) - 1;
    if (left <= 0) httpFaults.splice(i, 1);
    else httpFaults[i] = { ...f, times: left };
    return f;
  }

  function routeOf(method: string, path: string): { route: string; kind?: TaskKind; id?: string; tail?: string } {
    const m = /^\/openapi\/v1\/(rigging|animations)(?:\/([^/]+))?(?:\/(stream))?\/?$/.exec(path);
    if (!m) return { route: `${method} ${path}` };
    const kind = m[1] as TaskKind;
    const id = m[2] ? decodeURIComponent(m[2]) : undefined;
    const route = `${method} /openapi/v1/${kind}${id ? '/:id' : ''}${m[3] ? '/stream' : ''}`;
    return { route, kind, id, tail: m[3] };
  }

  async function api(req: IncomingMessage, res: ServerResponse, onStorage: boolean): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const method = req.method ?? 'GET';
    if (url.pathname.startsWith('/assets/')) return asset(req, res, url, onStorage);
    if (onStorage) return refuse(res, 404, 'Not found');
    const sample = /^\/samples\/(humanoid|quadruped|huge)\.glb$/.exec(url.pathname);
    if (sample) {
      // Customer models to rig (not part of Meshy's API): what MESHY_CHARACTER_URL may point at.
      const kind = sample[1] as SampleModel;
      const bytes = Buffer.from(await cachedGlb(`sample|${kind}`, () => sampleModelGlb(kind)));
      res.writeHead(200, { 'content-type': 'model/gltf-binary', 'content-length': bytes.length });
      res.end(bytes);
      return;
    }
    const { route, kind, id, tail } = routeOf(method, url.pathname);
    count(route);
    const fault = takeHttpFault(method, url.pathname);
    if (fault) {
      if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault.drop) {
        req.socket.destroy();
        return;
      }
      const headers: Record<string, string> = fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {};
      if (fault.body !== undefined) {
        res.writeHead(fault.status ?? 200, { 'content-type': fault.contentType ?? 'text/html', ...headers });
        res.end(fault.body);
        return;
      }
      if (fault.status === 429) {
        if (/NoMoreConcurrentTasks/.test(fault.message ?? '')) stats.queueFull429++;
        else stats.rateLimited429++;
      }
      return refuse(res, fault.status ?? 500, fault.message ?? 'Internal server error.', headers);
    }
    const auth = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!auth || !keys.has(auth[1])) return refuse(res, 401, 'Invalid API key');
    if (behave.rateLimitPerSecond > 0) {
      const now = clock.now();
      while (recent.length && now - recent[0] > 1000) recent.shift();
      if (recent.length >= behave.rateLimitPerSecond) {
        stats.rateLimited429++;
        return refuse(res, 429, 'RateLimitExceeded: too many requests', behave.rateLimitRetryAfter === null ? {} : { 'retry-after': String(behave.rateLimitRetryAfter) });
      }
      recent.push(now);
    }
    if (!kind) return refuse(res, 404, 'Not found');
    if (!id) {
      if (method !== 'POST') return refuse(res, 405, 'Method not allowed');
      let body: Record<string, any>;
      try {
        const parsed = JSON.parse(await readBody(req)) as unknown;
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
        body = parsed as Record<string, any>;
      } catch {
        return refuse(res, 400, 'Invalid JSON body');
      }
      return kind === 'rigging' ? postRigging(res, body) : postAnimation(res, body);
    }
    const t = tasks.get(id);
    const own = t && t.kind === kind ? t : undefined;
    if (tail === 'stream') {
      if (method !== 'GET') return refuse(res, 405, 'Method not allowed');
      return stream(req, res, own);
    }
    if (!own) return refuse(res, 404, 'Task not found');
    if (method === 'GET') return json(res, 200, view(own));
    if (method === 'DELETE') {
      if (own.status === 'PENDING' || own.status === 'IN_PROGRESS') {
        credits += own.consumed_credits;
        own.consumed_credits = 0;
      }
      sim.forget(id);
      return json(res, 200, {});
    }
    return refuse(res, 405, 'Method not allowed');
  }

  const handler = (onStorage: boolean) => (req: IncomingMessage, res: ServerResponse) => {
    api(req, res, onStorage)
      .catch((err) => {
        if (!res.headersSent) refuse(res, 500, `Internal server error. (${String(err)})`);
        else res.destroy();
      })
      .finally(changed);
  };
  const listen = async (server: Server, port = 0): Promise<string> => {
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const server = createServer(handler(false));
  apiOrigin = await listen(server, opts.port);
  const storage = opts.assetsOnApiOrigin ? undefined : createServer(handler(true));
  assetOrigin = storage ? await listen(storage) : apiOrigin;

  const sim: MeshySimulator = {
    url: apiOrigin,
    clock,
    apiKey: [...keys][0],
    assetOrigin,
    sampleUrl: (kind) => `${apiOrigin}/samples/${kind}.glb`,
    behave,
    get credits() {
      return credits;
    },
    set credits(v: number) {
      credits = v;
    },
    calls,
    created,
    stats,
    tasks,
    fail: (f) => void httpFaults.push(f),
    failTasks: (f) => void taskFaults.push(f),
    forget: (id) => {
      tasks.delete(id);
      for (const fn of vanished.get(id) ?? []) fn();
      vanished.delete(id);
      changed();
    },
    count: (route) => calls[route] ?? 0,
    active: () => activeTasks().length,
    when: (cond, what = 'a simulator condition', timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!cond()) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    async close() {
      stopTicking.abort();
      for (const s of sockets) s.destroy();
      await Promise.all([server, storage].filter((s): s is Server => !!s).map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
  return sim;
}
