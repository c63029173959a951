/**
 * A seeded property test against a running gateway (procedural model, small limits): thousands of hostile
 * requests (MMCP-like JSON with wrong types, huge numbers, deep nesting and odd unicode; batches; raw
 * bytes; wrong content types; odd Accept, Prefer, Idempotency-Key and Content-Encoding headers; odd
 * methods and paths) never get a 5xx, always carry an X-Request-ID, and every 4xx is our JSON envelope.
 */
import fc from 'fast-check';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validators } from '../../src/protocol/schemas.js';
import { canonicalSkeleton, startGateway, type Running } from '../helpers/gateway.js';
import { RawConnection } from '../helpers/raw-http.js';

const SEED = 20_240_611;
const NUM_RUNS = 3_000;
/** Raw heads cost a connection each. */
const RAW_RUNS = 1_000;

let g: Running;
let pool: Pool;
let skeleton: any;

beforeAll(async () => {
  g = await startGateway({ maxRequestBytes: 16 * 1024, maxBatchSize: 2, maxJsonDepth: 12, syncWaitMs: 2_000 });
  skeleton = await canonicalSkeleton(g.url);
  pool = new Pool(g.url, { connections: 4, keepAliveTimeout: 10_000 });
});
afterAll(async () => {
  await pool?.close();
  await g?.close();
});

// ---- values that are almost right, or wildly wrong ----

const weirdNumber = fc.oneof(
  fc.integer({ min: -5, max: 120 }),
  fc.constantFrom(0, -0, -1, 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER, 2 ** 53 + 1, 1e21, 0.5),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const weirdString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }), // lone surrogates included
  fc.constantFrom('', ' ', 'walk', 'jump', 'Hips', '\u0000', '\u202e', 'e\u0301', '🕺'.repeat(300), 'a'.repeat(2_000), '__proto__', 'constructor'),
);
const anything: fc.Arbitrary<unknown> = fc.oneof(weirdNumber, weirdString, fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 3 }));
/** Absent one time in three. */
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 3 });
/** Absent one time in ten. */
const usually = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 10 });
/** Present one time in six: headers that would stop most requests early, so deeper checks are reached too. */
const rarely = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

const quaternion = fc.oneof(fc.constant([0, 0, 0, 1]), fc.constant([0, 0, 0, 0]), fc.array(weirdNumber, { maxLength: 5 }), anything);
const joint = (i: number) =>
  fc.record(
    {
      name: fc.oneof(fc.constant(`J${i}`), weirdString, anything),
      parent: fc.oneof(fc.constant(i === 0 ? null : `J${i - 1}`), fc.constant(`J${i}`), weirdString, anything),
      rest_translation: fc.oneof(fc.constant([0, 0.1, 0]), fc.array(weirdNumber, { maxLength: 4 }), anything),
      rest_rotation: quaternion,
    },
    { requiredKeys: [] },
  );
/** The canonical skeleton, or one mangled: joints dropped, renamed, cycled, wrongly typed. */
const skeletonArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant('canonical' as const) },
  fc.integer({ min: 0, max: 6 }).chain((n) => fc.record({ joints: fc.tuple(...Array.from({ length: n }, (_, i) => joint(i))), up_axis: maybe(anything) }, { requiredKeys: ['joints'] })),
  fc.record({ canonicalJointsWith: fc.integer({ min: 0, max: 21 }), replacement: joint(99) }),
  anything,
);

const segment = fc.record(
  {
    type: fc.oneof({ weight: 6, arbitrary: fc.constant('text') }, fc.constantFrom('unconditioned', 'pose', 'motion_reference', 'video_reference'), weirdString),
    prompt: maybe(fc.oneof({ weight: 4, arbitrary: fc.constantFrom('walk', 'jump', 'wave', 'dance', 'kick') }, weirdString, anything)),
    duration_frames: usually(fc.oneof({ weight: 6, arbitrary: fc.integer({ min: -2, max: 40 }) }, weirdNumber, anything)),
    transition_frames: rarely(weirdNumber),
    video: rarely(fc.record({ url: maybe(weirdString), media_type: maybe(weirdString), data: maybe(weirdString) }, { requiredKeys: [] })),
    pose: rarely(anything),
  },
);
const constraint = fc.record(
  {
    type: fc.oneof(fc.constantFrom('root_path', 'effector_target', 'pose_keyframe'), weirdString),
    frames: maybe(fc.oneof(fc.array(weirdNumber, { maxLength: 6 }), anything)),
    positions: maybe(fc.oneof(fc.array(fc.array(weirdNumber, { maxLength: 3 }), { maxLength: 6 }), anything)),
    joint: maybe(weirdString),
  },
);

/** An MMCP GenerateRequest, every field possibly wrong; the skeleton is filled in at send time. */
const generateRequest = fc.record(
  {
    protocol_version: fc.oneof({ weight: 8, arbitrary: fc.constant('1.2') }, fc.constantFrom('1.0', '1.99', '2.0', '0.9', '1', ''), weirdString, anything),
    model: fc.oneof({ weight: 8, arbitrary: fc.constant('procedural') }, weirdString, anything),
    skeleton: skeletonArb,
    segments: usually(fc.oneof({ weight: 6, arbitrary: fc.array(segment, { maxLength: 3 }) }, anything)),
    constraints: rarely(fc.oneof(fc.array(constraint, { maxLength: 3 }), anything)),
    duration_frames: rarely(fc.oneof(weirdNumber, anything)),
    timing: rarely(fc.oneof(fc.record({ fps: maybe(fc.oneof(weirdNumber, anything)) }, { requiredKeys: [] }), anything)),
    options: rarely(
      fc.oneof(
        fc.record({ num_samples: maybe(fc.oneof(weirdNumber, anything)), seed: maybe(fc.oneof(weirdNumber, anything)), loop: maybe(anything) }, { requiredKeys: [] }),
        anything,
      ),
    ),
    extensions: rarely(anything),
  },
);

/** Where a nearly valid request gets its one wrong value (the skeleton's joints are indexed into the canonical rig). */
const MUTATION_PATHS: Array<Array<string | number>> = [
  [],
  ['protocol_version'],
  ['model'],
  ['segments'],
  ['segments', 0, 'type'],
  ['segments', 0, 'prompt'],
  ['segments', 0, 'duration_frames'],
  ['segments', 1],
  ['duration_frames'],
  ['timing'],
  ['timing', 'fps'],
  ['options'],
  ['options', 'num_samples'],
  ['options', 'seed'],
  ['options', 'loop'],
  ['constraints'],
  ['constraints', 0],
  ['skeleton', 'joints', 3, 'name'],
  ['skeleton', 'joints', 5, 'parent'],
  ['skeleton', 'joints', 0, 'parent'],
  ['skeleton', 'joints', 7, 'rest_rotation'],
  ['skeleton', 'joints', 2, 'rest_translation'],
  ['skeleton', 'joints', 30],
  ['extensions'],
];
/** Values a nearly valid request may get at that place: plausible ones and hostile ones. */
const mutationValue = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<unknown>(null, 0, 1, 2, 17, 1_000, 1e9, [0, 0, 0, 0], [0, 0, 0, 2], 'Hips', 'Head', 'NoSuchJoint', 'walk', {}, [], '1.2', '3.0', 'procedural', 'nope') },
  { weight: 2, arbitrary: fc.constantFrom<unknown>({ type: 'root_path', frames: [0, 10], positions: [[0, 0, 0], [1, 0, 0]] }, { type: 'effector_target', joint: 'LeftHand', frames: [5], positions: [[0, 1, 0]] }, { type: 'pose_keyframe', frames: [99], joint_names: ['Nope'] }) },
  { weight: 2, arbitrary: fc.constantFrom<unknown>({ type: 'text', prompt: 'jump', duration_frames: 20 }, { type: 'unconditioned', duration_frames: 20 }, { type: 'video_reference', video: { url: 'http://127.0.0.1:1/x.mp4' } }, { num_samples: 2, seed: 1 }, { fps: 24 }, { fps: 1000 }) },
  weirdNumber,
  weirdString,
  anything,
);
/** A valid request with one value replaced: reaches the later checks of the MMCP validation order. */
const nearlyValid = fc.record({
  path: fc.constantFrom(...MUTATION_PATHS),
  value: mutationValue,
  prompt: fc.constantFrom('walk', 'jump', 'wave hello', 'dance', 'kick', 'sit down'),
  frames: fc.integer({ min: 1, max: 40 }),
});

/** Nesting deeper than the depth cap, as text (arrays or objects). */
const deepJson = fc.tuple(fc.integer({ min: 1, max: 400 }), fc.boolean()).map(([depth, arrays]) => (arrays ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`));
/** JSON text a parser may take badly: huge literals, duplicate keys, trailing garbage, BOMs, non-JSON tokens. */
const nastyText = fc.constantFrom(
  '{"protocol_version":"1.2","model":"procedural","segments":[{"type":"text","prompt":"walk","duration_frames":1e999}]}',
  '{"protocol_version":"1.2","protocol_version":2}',
  '{"a":NaN}',
  '{"a":Infinity}',
  '\ufeff{}',
  '{}garbage',
  '[]',
  'null',
  '"just a string"',
  '123456789012345678901234567890',
  '{"__proto__":{"polluted":true}}',
  '{"requests":null}',
  '{"requests":{}}',
  '',
  ' ',
);

type Mutation = { path: Array<string | number>; value: unknown; prompt: string; frames: number };

interface HostileRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: { kind: 'json'; value: unknown } | { kind: 'nearly'; mutation: Mutation } | { kind: 'batch'; protocol_version: unknown; items: unknown[] } | { kind: 'text'; text: string } | { kind: 'bytes'; bytes: Uint8Array } | { kind: 'none' };
}

const headerValue = fc.oneof(fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 300 }), fc.constant(''));
const headersArb = fc.record(
  {
    'content-type': usually(
      fc.oneof(
        { weight: 30, arbitrary: fc.constant('application/json; charset=utf-8') },
        fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/json; charset=utf-16', 'APPLICATION/JSON', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json;;;', 'application/jsonx'),
        headerValue,
      ),
    ),
    accept: rarely(fc.oneof(fc.constantFrom('*/*', 'model/gltf-binary', 'model/gltf+json', 'application/json', 'text/html', 'model/gltf-binary;q=0', 'application/json;q=abc, */*;q=0', ''), headerValue)),
    prefer: rarely(fc.oneof(fc.constantFrom('respond-async', 'wait=0', 'wait=abc', 'wait=99999999999999999999', 'respond-async, wait=5', 'handling=strict'), headerValue)),
    'idempotency-key': rarely(fc.oneof(fc.constantFrom('k1', 'k2', '', ' '.repeat(3), 'x'.repeat(300)), headerValue)),
    'content-encoding': rarely(fc.oneof(fc.constantFrom('gzip', 'br', 'deflate', 'identity', 'IDENTITY', 'gzip, identity', 'identity,,', ','), headerValue)),
    'x-request-id': rarely(headerValue),
    authorization: rarely(headerValue),
  },
);
const pathArb = fc.oneof(
  { weight: 20, arbitrary: fc.constant('/generate') },
  fc.constantFrom('/capabilities', '/healthz', '/readyz', '/schemas', '/schemas/nope', '/openapi.json', '/generate/jobs/job_AAAAAAAAAAAAAAAAAAAAAA', '/generate/jobs/%E0%A4%A', '/%', '/generate/jobs/x/status'),
  weirdString.map((s) => `/generate/jobs/${encodeURIComponent(s)}`),
  weirdString.map((s) => `/${encodeURIComponent(s)}?q=${encodeURIComponent(s)}`),
);
const methodArb = fc.oneof({ weight: 20, arbitrary: fc.constant('POST') }, fc.constantFrom('GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND'));
const bodyArb: fc.Arbitrary<HostileRequest['body']> = fc.oneof(
  { weight: 8, arbitrary: nearlyValid.map((mutation) => ({ kind: 'nearly' as const, mutation })) },
  { weight: 4, arbitrary: generateRequest.map((value) => ({ kind: 'json' as const, value })) },
  {
    weight: 2,
    arbitrary: fc
      .record({ protocol_version: fc.oneof({ weight: 4, arbitrary: fc.constant('1.2') }, anything), items: fc.array(fc.oneof(nearlyValid.map((m) => ({ nearly: m })), generateRequest, anything), { maxLength: 3 }) })
      .map((b) => ({ kind: 'batch' as const, ...b })),
  },
  fc.oneof(deepJson, nastyText, fc.json({ maxDepth: 6 }), fc.string({ unit: 'binary', maxLength: 200 })).map((text) => ({ kind: 'text' as const, text })),
  fc.uint8Array({ maxLength: 2_000 }).map((bytes) => ({ kind: 'bytes' as const, bytes })),
  fc.integer({ min: 16 * 1024 + 1, max: 40 * 1024 }).map((n) => ({ kind: 'text' as const, text: `{"pad":"${'x'.repeat(n)}"}` })),
  fc.constant({ kind: 'none' as const }),
);
const hostileRequest: fc.Arbitrary<HostileRequest> = fc.record({ method: methodArb, path: pathArb, headers: headersArb, body: bodyArb }).map((r) => ({
  ...r,
  headers: Object.fromEntries(Object.entries(r.headers).filter(([, v]) => v !== undefined)) as Record<string, string>,
}));

/** The valid request a mutation starts from, with its one value set (an empty path leaves it valid). */
function mutated(m: Mutation): unknown {
  const request: any = { protocol_version: '1.2', model: 'procedural', skeleton: structuredClone(skeleton), segments: [{ type: 'text', prompt: m.prompt, duration_frames: m.frames }] };
  if (!m.path.length) return request;
  let at = request;
  for (const key of m.path.slice(0, -1)) {
    at[key] ??= {};
    at = at[key];
  }
  at[m.path[m.path.length - 1]] = m.value;
  return request;
}

/** Fills in the skeleton a generated request names: the canonical one, or the canonical one with one joint replaced. */
function withSkeleton(value: unknown): unknown {
  if (value && typeof value === 'object' && 'nearly' in value) return mutated((value as { nearly: Mutation }).nearly);
  if (!value || typeof value !== 'object' || !('skeleton' in value)) return value;
  const s = (value as { skeleton: unknown }).skeleton;
  if (s === 'canonical') return { ...value, skeleton };
  if (s && typeof s === 'object' && 'canonicalJointsWith' in s) {
    const { canonicalJointsWith: at, replacement } = s as { canonicalJointsWith: number; replacement: unknown };
    const joints = [...skeleton.joints];
    joints[at % joints.length] = replacement;
    return { ...value, skeleton: { ...skeleton, joints } };
  }
  return value;
}

function bodyBytes(body: HostileRequest['body']): Buffer | undefined {
  switch (body.kind) {
    case 'json':
      return Buffer.from(JSON.stringify(withSkeleton(body.value)) ?? 'null');
    case 'nearly':
      return Buffer.from(JSON.stringify(mutated(body.mutation)));
    case 'batch':
      return Buffer.from(JSON.stringify({ protocol_version: body.protocol_version, requests: body.items.map(withSkeleton) }));
    case 'text':
      return Buffer.from(body.text);
    case 'bytes':
      return Buffer.from(body.bytes);
    case 'none':
      return undefined;
  }
}

describe('hostile requests', () => {
  it(`never get a 5xx; every answer has an X-Request-ID and every 4xx is the JSON envelope (seed ${SEED}, ${NUM_RUNS} runs)`, async () => {
    const statuses = new Map<number, number>();
    const errorCodes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(hostileRequest, async (r) => {
        const body = r.method === 'GET' || r.method === 'HEAD' ? undefined : bodyBytes(r.body);
        const res = await pool.request({ method: r.method, path: r.path, headers: r.headers, body });
        const raw = Buffer.from(await res.body.arrayBuffer());
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        const context = `${r.method} ${r.path} -> ${res.statusCode} ${raw.toString('utf8').slice(0, 300)}`;
        expect(res.statusCode, context).toBeLessThan(500);
        expect(res.headers['x-request-id'], context).toBeTruthy();
        if (res.statusCode >= 400 && r.method !== 'HEAD') {
          expect(String(res.headers['content-type']), context).toMatch(/^application\/json/);
          const envelope = JSON.parse(raw.toString('utf8'));
          expect(validators.errorEnvelope(envelope), context).toBe(true);
          errorCodes.set(envelope.detail.error_code, (errorCodes.get(envelope.detail.error_code) ?? 0) + 1);
        }
      }),
      { seed: SEED, numRuns: NUM_RUNS, endOnFailure: true },
    );
    // The generators reach deep into the validation order, not just the first refusal.
    const seen = `${JSON.stringify([...statuses])} ${JSON.stringify([...errorCodes].sort())}`;
    expect(errorCodes.size, seen).toBeGreaterThanOrEqual(16);
    expect([...errorCodes.keys()].filter((c) => c.startsWith('MG-PRO-')).length, seen).toBeGreaterThanOrEqual(3);
    expect(statuses.get(200), seen).toBeGreaterThan(0);
  }, 60_000);
});

// ---- raw bytes where the HTTP parser reads them ----

const byteString = (max: number) => fc.uint8Array({ maxLength: max }).map((b) => Buffer.from(b).toString('latin1'));
const rawHead = fc.record({
  method: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('GET', 'POST', 'DELETE') }, fc.constantFrom('G ET', 'get', 'PROPFIND', 'BREW', '', '\u0000', 'PO\tST'), byteString(6)),
  target: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('/healthz', '/generate', '/capabilities') }, fc.constantFrom('/x y', '/%00', '*', 'http://evil.test/', '//', '/\u007f', ''), byteString(12).map((b) => `/${b}`)),
  version: fc.oneof({ weight: 4, arbitrary: fc.constant('HTTP/1.1') }, fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/9.9', 'http/1.1', 'HTTP/1.1 extra', '')),
  lines: fc.array(
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom('Host: gateway.test', 'Content-Type: application/json', 'Content-Length: 0', 'X-Request-ID: raw-1') },
      fc.constantFrom('Content-Length: -1', 'Content-Length: 1, 2', 'Content-Length: 99999999999999999999', 'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip, chunked', 'Transfer-Encoding: chunked\r\nContent-Length: 3', 'Content-Encoding: gzip', ' folded continuation', 'NoColonHere', ': empty name', 'X-Ctl: \u0001\u0002', 'Expect: 100-continue', 'Connection: upgrade', 'Upgrade: websocket'),
      byteString(30),
    ),
    { maxLength: 6 },
  ),
  eol: fc.constantFrom('\r\n', '\r\n', '\n'),
  body: fc.oneof(fc.constant(''), fc.constantFrom('{}', '5\r\nhello\r\n0\r\n\r\n', 'ZZ\r\n'), byteString(64)),
});

describe('hostile bytes on the socket', () => {
  it(`always get one complete answer, never a 5xx, with an X-Request-ID, 4xx in the envelope (seed ${SEED}, ${RAW_RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(rawHead, async (h) => {
        const bytes = `${h.method} ${h.target} ${h.version}${h.eol}${h.lines.map((l) => l + h.eol).join('')}${h.eol}${h.body}`;
        const conn = await RawConnection.open(g.url);
        try {
          await conn.write(Buffer.from(bytes, 'latin1'));
          conn.socket.end(); // the client is done sending: an unfinished request ends at EOF
          const res = await conn.response();
          const context = `${JSON.stringify(bytes).slice(0, 300)} -> ${res.status} ${res.body.toString('utf8').slice(0, 200)}`;
          expect(res.status, context).toBeLessThan(500);
          expect(res.headers['x-request-id'], context).toBeTruthy();
          if (res.status >= 400) {
            expect(res.headers['content-type'], context).toMatch(/^application\/json/);
            expect(validators.errorEnvelope(res.json()), context).toBe(true);
          }
        } finally {
          conn.destroy();
        }
      }),
      { seed: SEED, numRuns: RAW_RUNS, endOnFailure: true },
    );
  }, 60_000);
});
