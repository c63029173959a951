/**
 * Large answers through a real gateway: a 200-joint rig × 60 fps × 30 s × 4 samples (a ~24 MB GLB, far
 * over the row limit) is stored as a file, served as GLB and as streamed JSON glTF (both valid, the JSON
 * equal to glbToJson's), written under backpressure without the whole text in memory; batches of large
 * items stream as valid JSON and replay from a manifest; cached admissions and idempotent replays work;
 * small answers are the same bytes as before; a vanished result file answers 404, not 500.
 */
import type { SqliteStore } from '../../src/jobs/sqlite-store.js';
import { RedisStore } from '../../src/jobs/redis-store.js';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { glbToJson } from '../../src/motion/gltf.js';
import { canonicalSkeleton, postGenerate, startGateway, type Running } from '../helpers/gateway.js';
import { validateGltf } from '../helpers/gltf-validate.js';

let g: Running;
let skeleton: any;

beforeAll(async () => {
  g = await startGateway({ syncWaitMs: 120_000 });
  const canonical = await canonicalSkeleton(g.url);
  // The procedural rig plus 178 hair joints (chains of ten under the head): 200 joints in all.
  const joints = [...canonical.joints];
  for (let i = 0; joints.length < 200; i++) {
    joints.push({ name: `Hair_${i}`, parent: i % 10 === 0 ? 'Head' : `Hair_${i - 1}`, rest_translation: [0, 0.02, 0], rest_rotation: [0, 0, 0, 1] });
  }
  skeleton = { ...canonical, joints };
});
afterAll(() => g.close());

const large = (over: { seed?: number; samples?: number; frames?: number } = {}) => ({
  protocol_version: '1.2',
  model: 'procedural',
  skeleton,
  timing: { fps: 60 },
  options: { num_samples: over.samples ?? 4, seed: over.seed ?? 11 },
  segments: [{ type: 'text', prompt: 'walk forward', duration_frames: over.frames ?? 1800 }],
});

const small = (prompt: string, samples: number, canonical = true) => ({
  protocol_version: '1.2',
  model: 'procedural',
  skeleton: canonical ? { ...skeleton, joints: skeleton.joints.slice(0, 22) } : skeleton,
  options: { num_samples: samples, seed: 3 },
  segments: [{ type: 'text', prompt, duration_frames: 20 }],
});

const pollJob = (id: string, accept: string) => fetch(`${g.url}/generate/jobs/${id}`, { headers: { accept } });

/** A GET whose reading the test controls: chunk sizes are recorded; `pauseAfterFirst` stops reading after one chunk. */
function slowGet(path: string, accept: string) {
  const u = new URL(g.url);
  let res!: IncomingMessage;
  const chunks: Buffer[] = [];
  const firstChunk = new Promise<void>((resolveFirst, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, path, headers: { accept } }, (r) => {
      res = r;
      r.on('data', (c: Buffer) => {
        chunks.push(c);
        if (chunks.length === 1) {
          r.pause();
          resolveFirst();
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
  return {
    firstChunk,
    chunks,
    rest: () =>
      new Promise<Buffer>((resolve) => {
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.resume();
      }),
  };
}

/** The gateway's next server-side response, and a promise of the first write the socket could not take (backpressure) or of its end. */
function nextServerResponse(): Promise<{ res: ServerResponse; stalled: Promise<void> }> {
  return new Promise((resolve) => {
    g.gw.server.once('request', (_req, res: ServerResponse) => {
      const write = res.write.bind(res) as (...args: unknown[]) => boolean;
      let stall!: () => void;
      const stalled = new Promise<void>((r) => (stall = r));
      res.write = ((...args: unknown[]) => {
        const ok = write(...args);
        if (!ok) stall();
        return ok;
      }) as typeof res.write;
      // An answer ended in one call never stalls a write: let the assertions see that instead of a timeout.
      const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
      res.end = ((...args: unknown[]) => {
        stall();
        return end(...args);
      }) as typeof res.end;
      resolve({ res, stalled });
    });
  });
}

describe('a large answer', () => {
  let jobId: string;
  let glb: Buffer;

  beforeAll(async () => {
    const res = await postGenerate(g.url, large(), { accept: 'model/gltf-binary' });
    expect(res.status).toBe(200);
    jobId = res.headers.get('x-job-id')!;
    glb = Buffer.from(await res.arrayBuffer());
  }, 120_000);

  it('is stored as a file beside the database, not in its row', async () => {
    expect(glb.byteLength).toBeGreaterThan(20 * 1024 * 1024);
    const row = (await g.gw.store.getJob(jobId))!;
    expect(row).toMatchObject({ state: 'succeeded', result: null, result_path: `${jobId}.glb`, result_size: glb.byteLength });
  });

  it('is served as a valid GLB, the same bytes on every poll', async () => {
    const report = await validateGltf(glb, 'glb');
    expect(report.errors).toEqual([]);
    const polled = await pollJob(jobId, 'model/gltf-binary');
    expect(polled.status).toBe(200);
    expect(polled.headers.get('content-length')).toBe(String(glb.byteLength));
    expect(Buffer.from(await polled.arrayBuffer()).equals(glb)).toBe(true);
  }, 60_000);

  it('is served as valid JSON glTF equal to glbToJson of the GLB, with an exact Content-Length', async () => {
    const res = await pollJob(jobId, 'model/gltf+json');
    expect(res.status).toBe(200);
    const json = Buffer.from(await res.arrayBuffer());
    expect(res.headers.get('content-length')).toBe(String(json.byteLength));
    expect(json.equals(Buffer.from(glbToJson(glb)))).toBe(true);
    const report = await validateGltf(json, 'json');
    expect(report.errors).toEqual([]);
  }, 60_000);

  it('streams the JSON under backpressure: while the client is not reading, the end is not written and little is buffered', async () => {
    const server = nextServerResponse();
    const client = slowGet(`/generate/jobs/${jobId}`, 'model/gltf+json');
    await client.firstChunk;
    const { res, stalled } = await server;
    await stalled;
    // A one-shot res.end(wholeText) would have ended already and would hold ~32 MB in its buffer.
    expect(res.writableEnded).toBe(false);
    expect(res.writableLength).toBeLessThan(1024 * 1024);
    const body = await client.rest();
    expect(client.chunks.length).toBeGreaterThan(20);
    expect(body.equals(Buffer.from(glbToJson(glb)))).toBe(true);
  }, 60_000);

  it('answers a repeated seeded request from the cache, the new job with its own file of the same bytes', async () => {
    const res = await postGenerate(g.url, large(), { accept: 'model/gltf-binary' });
    expect(res.status).toBe(200);
    const again = res.headers.get('x-job-id')!;
    expect(again).not.toBe(jobId);
    expect(Buffer.from(await res.arrayBuffer()).equals(glb)).toBe(true);
    expect((await g.gw.store.getJob(again))!.result_path).toBe(`${again}.glb`);
  }, 60_000);

  it('replays a large answer for its Idempotency-Key', async () => {
    const headers = { accept: 'model/gltf-binary', 'idempotency-key': 'large-single-1' };
    const first = await postGenerate(g.url, large({ seed: 12, samples: 1 }), headers);
    const firstBytes = Buffer.from(await first.arrayBuffer());
    const replayed = await postGenerate(g.url, large({ seed: 12, samples: 1 }), headers);
    expect([first.status, replayed.status]).toEqual([200, 200]);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(Buffer.from(await replayed.arrayBuffer()).equals(firstBytes)).toBe(true);
  }, 60_000);

  it('answers 404 MG-JOB-007 when its result file vanished, and the status view says failed', async () => {
    const res = await postGenerate(g.url, large({ seed: 13, samples: 1, frames: 600 }), { accept: 'model/gltf-binary' });
    const id = res.headers.get('x-job-id')!;
    await res.arrayBuffer();
    if (g.gw.store instanceof RedisStore) await g.gw.store.redis.del(`${g.gw.config.redisPrefix}result:${id}.glb`);
    else unlinkSync(join((g.gw.store as SqliteStore).files.dir, `${id}.glb`));
    const poll = await pollJob(id, 'model/gltf+json');
    expect(poll.status).toBe(404);
    expect(poll.headers.get('x-job-id')).toBe(id);
    const body = await poll.json();
    expect(body.error.code).toBe('job_not_found');
    expect(body.detail.error_code).toBe('MG-JOB-007');
    const status = await (await fetch(`${g.url}/generate/jobs/${id}/status`)).json();
    expect(status.state).toBe('failed');
  }, 60_000);
});

describe('a batch of large items', () => {
  const batch = () => ({
    protocol_version: '1.2',
    requests: [21, 22, 23].map((seed) => {
      const { protocol_version: _v, ...item } = large({ seed, samples: 1 });
      return item;
    }),
  });
  let first: { status: number; body: Buffer; chunks: number };

  async function post(headers: Record<string, string>) {
    const res = await postGenerate(g.url, batch(), { accept: 'application/json', ...headers });
    let chunks = 0;
    const parts: Buffer[] = [];
    for await (const c of res.body!) {
      chunks++;
      parts.push(Buffer.from(c));
    }
    return { status: res.status, headers: res.headers, body: Buffer.concat(parts), chunks };
  }

  beforeAll(async () => {
    first = await post({ 'idempotency-key': 'large-batch-1' });
  }, 120_000);

  it('answers 200 with valid JSON, read as a stream, each item a valid glTF', async () => {
    expect(first.status).toBe(200);
    expect(first.body.byteLength).toBeGreaterThan(3 * 6 * 1024 * 1024);
    expect(first.chunks).toBeGreaterThan(20);
    const { results } = JSON.parse(first.body.toString('utf8'));
    expect(results).toHaveLength(3);
    for (const item of results) {
      expect(item.gltf.asset.version).toBe('2.0');
      const report = await validateGltf(Buffer.from(JSON.stringify(item.gltf)), 'json');
      expect(report.errors).toEqual([]);
    }
  }, 120_000);

  it('stores a small manifest for its Idempotency-Key and replays the same bytes from the jobs', async () => {
    const stored = (await g.gw.store.getIdempotency('anonymous', 'large-batch-1'))!;
    expect(stored.body!.byteLength).toBeLessThan(4096);
    const replay = await post({ 'idempotency-key': 'large-batch-1' });
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.equals(first.body)).toBe(true);
  }, 60_000);
});

describe('small answers', () => {
  it('stay in their row and are served as the same JSON glTF glbToJson makes', async () => {
    const cases = [small('walk forward', 1), small('jump', 2), small('wave hello', 3), small('kick', 1, false)];
    for (const body of cases) {
      const res = await postGenerate(g.url, body, { accept: 'model/gltf-binary' });
      expect(res.status).toBe(200);
      const glb = Buffer.from(await res.arrayBuffer());
      const id = res.headers.get('x-job-id')!;
      // SQLite keeps a small result in its row; Redis keeps every result as one value named by the row.
      if (g.gw.store.kind === 'sqlite') expect((await g.gw.store.getJob(id))!.result_path).toBeNull();
      const json = Buffer.from(await (await pollJob(id, 'model/gltf+json')).arrayBuffer());
      expect(json.equals(Buffer.from(glbToJson(glb)))).toBe(true);
    }
  }, 60_000);

  it('in a batch, are the bytes of JSON.stringify({results}) over glbToJson, as before streaming', async () => {
    const items = [small('walk forward', 1), small('jump', 2)].map(({ protocol_version: _v, ...rest }) => rest);
    const res = await postGenerate(g.url, { protocol_version: '1.2', requests: [...items, { model: 'nope' }] }, { accept: 'application/json' });
    expect(res.status).toBe(200);
    const text = Buffer.from(await res.arrayBuffer()).toString('utf8');
    const { results } = JSON.parse(text);
    expect(results[2].error.code).toBeTruthy();
    // The same seeded requests again as GLB come from the cache: the bytes the batch items were made from.
    const glbs = await Promise.all(items.map(async (item) => Buffer.from(await (await postGenerate(g.url, { protocol_version: '1.2', ...item }, { accept: 'model/gltf-binary' })).arrayBuffer())));
    const expected = JSON.stringify({ results: [...glbs.map((b) => ({ gltf: JSON.parse(Buffer.from(glbToJson(b)).toString('utf8')) })), results[2]] });
    expect(text).toBe(expected);
  }, 60_000);
});
