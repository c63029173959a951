/** The validation order, walked with malformed and hostile requests: each gets the right status and code, never a 500. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validators } from '../../src/protocol/schemas.js';
import { createProceduralAdapter } from '../../src/adapters/procedural/index.js';
import { createGatedAdapter } from '../helpers/gated-adapter.js';
import { canonicalSkeleton, rawRequest, startGateway, type RawResponse, type Running } from '../helpers/gateway.js';

let g: Running;
let skeleton: any;

beforeAll(async () => {
  g = await startGateway({ maxRequestBytes: 64 * 1024, maxJsonDepth: 32 }, {
    adapters: [
      createProceduralAdapter(),
      // A strict model for the checks the procedural model would pass (no retargeting, no loop, two constraint types).
      createGatedAdapter({ modelId: 'strict', open: true, caps: { supports_retargeting: false, supports_loop: false, supported_constraints: ['root_path', 'effector_target', 'pose_keyframe'], supported_segments: ['text', 'unconditioned', 'motion_reference'] } }),
    ],
  });
  skeleton = await canonicalSkeleton(g.url);
});
afterAll(() => g.close());

const base = (over: Record<string, unknown> = {}) => ({
  protocol_version: '1.2',
  model: 'procedural',
  skeleton,
  segments: [{ type: 'text', prompt: 'walk forward', duration_frames: 30 }],
  ...over,
});
const strict = (over: Record<string, unknown> = {}) => base({ model: 'strict', ...over });
const joints = () => structuredClone(skeleton.joints) as any[];
const withJoints = (js: any[]) => ({ ...skeleton, joints: js });
const deep = (n: number): unknown => (n === 0 ? 1 : { a: deep(n - 1) });

type Case = {
  name: string;
  status: number;
  code: string;
  body?: () => unknown;
  raw?: () => { headers?: Record<string, string>; body?: Buffer | string; chunks?: Array<Buffer | string> };
};

const json = { 'content-type': 'application/json' };
const big = 'x'.repeat(70 * 1024);

const cases: Case[] = [
  // 1. size, before parsing
  { name: 'oversize body by Content-Length', status: 413, code: 'payload_too_large', raw: () => ({ headers: json, body: `{"a":"${big}"}` }) },
  { name: 'oversize body sent chunked', status: 413, code: 'payload_too_large', raw: () => ({ headers: { ...json, 'transfer-encoding': 'chunked' }, chunks: Array.from({ length: 20 }, () => 'x'.repeat(8 * 1024)) }) },
  { name: 'oversize garbage is refused before parsing', status: 413, code: 'payload_too_large', raw: () => ({ headers: json, body: '{'.repeat(70 * 1024) }) },
  // 2. transport and schema
  { name: 'wrong Content-Type', status: 415, code: 'unsupported_media_type', raw: () => ({ headers: { 'content-type': 'text/plain' }, body: JSON.stringify(base()) }) },
  { name: 'missing Content-Type', status: 415, code: 'unsupported_media_type', raw: () => ({ headers: {}, body: JSON.stringify(base()) }) },
  { name: 'JSON in a non-UTF-8 charset', status: 415, code: 'unsupported_media_type', raw: () => ({ headers: { 'content-type': 'application/json; charset=latin1' }, body: JSON.stringify(base()) }) },
  { name: 'malformed JSON', status: 422, code: 'schema_validation', raw: () => ({ headers: json, body: '{"protocol_version": "1.2",' }) },
  { name: 'empty body', status: 422, code: 'schema_validation', raw: () => ({ headers: json, body: '' }) },
  { name: 'invalid UTF-8', status: 422, code: 'schema_validation', raw: () => ({ headers: json, body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) }) },
  { name: 'NaN literal', status: 422, code: 'schema_validation', raw: () => ({ headers: json, body: JSON.stringify(base()).replace('"duration_frames":30', '"duration_frames":NaN') }) },
  { name: 'Infinity literal', status: 422, code: 'schema_validation', raw: () => ({ headers: json, body: JSON.stringify(base()).replace('"duration_frames":30', '"duration_frames":Infinity') }) },
  { name: 'number overflowing to Infinity', status: 422, code: 'schema_validation', raw: () => ({ headers: json, body: JSON.stringify(base()).replace('"duration_frames":30', '"duration_frames":1e400') }) },
  { name: 'deep nesting', status: 422, code: 'schema_validation', body: () => base({ extensions: deep(60) }) },
  { name: 'deep nesting of arrays', status: 422, code: 'schema_validation', raw: () => ({ headers: json, body: '['.repeat(5000) + ']'.repeat(5000) }) },
  { name: 'body is an array', status: 422, code: 'schema_validation', body: () => [base()] },
  { name: 'body is a string', status: 422, code: 'schema_validation', body: () => 'walk' },
  { name: 'missing protocol_version', status: 422, code: 'schema_validation', body: () => { const b: any = base(); delete b.protocol_version; return b; } },
  { name: 'malformed protocol_version', status: 422, code: 'schema_validation', body: () => base({ protocol_version: '1' }) },
  { name: 'unknown top-level field', status: 422, code: 'schema_validation', body: () => base({ prompt: 'walk' }) },
  { name: 'unknown field in a segment', status: 422, code: 'schema_validation', body: () => base({ segments: [{ type: 'text', prompt: 'walk', duration_frames: 30, speed: 2 }] }) },
  { name: 'unknown segment type', status: 422, code: 'schema_validation', body: () => base({ segments: [{ type: 'dance', duration_frames: 30 }] }) },
  { name: 'unknown constraint type', status: 422, code: 'schema_validation', body: () => base({ constraints: [{ type: 'gaze', frames: [0] }] }) },
  { name: 'extensions not an object', status: 422, code: 'schema_validation', body: () => base({ extensions: 'fast' }) },
  { name: 'negative frames', status: 422, code: 'schema_validation', body: () => base({ segments: [{ type: 'text', prompt: 'walk', duration_frames: -5 }] }) },
  { name: 'fractional frames', status: 422, code: 'schema_validation', body: () => base({ segments: [{ type: 'text', prompt: 'walk', duration_frames: 12.5 }] }) },
  { name: 'zero frames', status: 422, code: 'schema_validation', body: () => base({ segments: [{ type: 'text', prompt: 'walk', duration_frames: 0 }] }) },
  { name: 'frames as a string', status: 422, code: 'schema_validation', body: () => base({ segments: [{ type: 'text', prompt: 'walk', duration_frames: '30' }] }) },
  { name: 'duration_frames with segments', status: 422, code: 'schema_validation', body: () => base({ duration_frames: 30 }) },
  { name: 'no segments, no duration_frames', status: 422, code: 'schema_validation', body: () => strict({ segments: [], constraints: [{ type: 'root_path', frames: [0], positions_xz: [[0, 0]] }] }) },
  { name: 'duration_frames without constraints', status: 422, code: 'schema_validation', body: () => base({ segments: [], duration_frames: 30 }) },
  { name: 'empty segments and constraints', status: 422, code: 'schema_validation', body: () => base({ segments: [], constraints: [] }) },
  { name: 'non-NFC joint name', status: 422, code: 'schema_validation', body: () => { const js = joints(); js[5].name = 'He\u0301ad'; return base({ skeleton: withJoints(js) }); } },
  { name: 'control character in a joint name', status: 422, code: 'schema_validation', body: () => { const js = joints(); js[5].name = 'He\u0007ad'; return base({ skeleton: withJoints(js) }); } },
  { name: 'joint name with surrounding white space', status: 422, code: 'schema_validation', body: () => { const js = joints(); js[5].name = ' Head'; return base({ skeleton: withJoints(js) }); } },
  { name: 'joint name of 129 code points', status: 422, code: 'schema_validation', body: () => { const js = joints(); js[5].name = 'j'.repeat(129); return base({ skeleton: withJoints(js) }); } },
  { name: 'non-NFC prompt', status: 422, code: 'schema_validation', body: () => base({ segments: [{ type: 'text', prompt: 'cafe\u0301 walk', duration_frames: 30 }] }) },
  { name: 'control character in a prompt', status: 422, code: 'schema_validation', body: () => base({ segments: [{ type: 'text', prompt: 'walk\u0000', duration_frames: 30 }] }) },
  { name: 'empty prompt', status: 422, code: 'schema_validation', body: () => base({ segments: [{ type: 'text', prompt: '', duration_frames: 30 }] }) },
  { name: 'duplicate joint names', status: 422, code: 'schema_validation', body: () => { const js = joints(); js.push({ ...js[5] }); return base({ skeleton: withJoints(js) }); } },
  { name: 'empty joint list', status: 422, code: 'schema_validation', body: () => base({ skeleton: withJoints([]) }) },
  { name: 'rest_translation of the wrong type', status: 422, code: 'schema_validation', body: () => { const js = joints(); js[1].rest_translation = ['0', 1, 0]; return base({ skeleton: withJoints(js) }); } },
  { name: 'quaternion with three numbers', status: 422, code: 'schema_validation', body: () => { const js = joints(); js[1].rest_rotation = [0, 0, 1]; return base({ skeleton: withJoints(js) }); } },
  { name: 'fractional seed', status: 422, code: 'schema_validation', body: () => base({ options: { seed: 1.5 } }) },
  { name: 'num_samples 0', status: 422, code: 'schema_validation', body: () => base({ options: { num_samples: 0 } }) },
  { name: 'transition_frames 61', status: 422, code: 'schema_validation', body: () => base({ options: { transition_frames: 61 } }) },
  { name: 'timing.fps 0', status: 422, code: 'schema_validation', body: () => base({ timing: { fps: 0 } }) },
  { name: 'negative timing.fps', status: 422, code: 'schema_validation', body: () => base({ timing: { fps: -30 } }) },
  { name: 'guidance weights of the wrong length', status: 422, code: 'schema_validation', body: () => base({ options: { guidance: { type: 'separated', weight: [2] } } }) },
  { name: 'root_path frames not ascending', status: 422, code: 'schema_validation', body: () => strict({ constraints: [{ type: 'root_path', frames: [5, 3], positions_xz: [[0, 0], [0, 1]] }] }) },
  { name: 'root_path arrays of unequal length', status: 422, code: 'schema_validation', body: () => strict({ constraints: [{ type: 'root_path', frames: [1, 3], positions_xz: [[0, 0]] }] }) },
  { name: 'effector arrays of unequal length', status: 422, code: 'schema_validation', body: () => strict({ constraints: [{ type: 'effector_target', joint: 'LeftHand', frames: [1, 3], positions: [[0, 1, 0]] }] }) },
  { name: 'pose_keyframe without rotations', status: 422, code: 'schema_validation', body: () => strict({ constraints: [{ type: 'pose_keyframe', frame: 3, joint_rotations: {} }] }) },
  { name: 'batch with requests not a list', status: 422, code: 'schema_validation', body: () => ({ protocol_version: '1.2', requests: 'all' }) },
  { name: 'an empty batch (refused whole, as the reference server does)', status: 422, code: 'schema_validation', body: () => ({ protocol_version: '1.3', requests: [] }) },
  { name: 'a motion reference of one frame', status: 422, code: 'schema_validation', body: () => base({ segments: [{ type: 'motion_reference', duration_frames: 10, joint_names: ['Hips'], rotations: [[[0, 0, 0, 1]]], root_positions: [[0, 1, 0]], fps: 30 }] }) },
  { name: 'a ground point of two numbers', status: 422, code: 'schema_validation', body: () => base({ protocol_version: '1.3', constraints: [{ type: 'ground_height', points: [[0, 0]] }] }) },
  { name: 'a ground profile with frames', status: 422, code: 'schema_validation', body: () => base({ protocol_version: '1.3', constraints: [{ type: 'ground_height', points: [[0, 0, 0]], frames: [0] }] }) },
  { name: 'an unknown field of our minor (1.3)', status: 422, code: 'schema_validation', body: () => base({ protocol_version: '1.3', mood: 'happy' }) },
  // 3. version
  { name: 'another major version', status: 400, code: 'version_unsupported', body: () => base({ protocol_version: '2.0' }) },
  { name: 'a batch in another major', status: 400, code: 'version_unsupported', body: () => ({ protocol_version: '0.9', requests: [base()] }) },
  // 4. model
  { name: 'unknown model', status: 400, code: 'unknown_model', body: () => base({ model: 'kimodo-xl' }) },
  // 5. skeleton
  { name: 'two roots', status: 400, code: 'invalid_skeleton', body: () => { const js = joints(); js[14].parent = null; return base({ skeleton: withJoints(js) }); } },
  { name: 'no root', status: 400, code: 'invalid_skeleton', body: () => { const js = joints(); js[0].parent = js[1].name; return base({ skeleton: withJoints(js) }); } },
  { name: 'a cycle', status: 400, code: 'invalid_skeleton', body: () => { const js = joints(); js.push({ name: 'A', parent: 'B', rest_translation: [0, 0, 0] }, { name: 'B', parent: 'A', rest_translation: [0, 0, 0] }); return base({ skeleton: withJoints(js) }); } },
  { name: 'a child before its parent', status: 400, code: 'invalid_skeleton', body: () => { const js = joints(); const [x] = js.splice(2, 1); js.push(x); return base({ skeleton: withJoints(js) }); } },
  { name: 'an unknown parent', status: 400, code: 'invalid_skeleton', body: () => { const js = joints(); js[3].parent = 'Nowhere'; return base({ skeleton: withJoints(js) }); } },
  { name: 'a zero rest rotation', status: 400, code: 'invalid_skeleton', body: () => { const js = joints(); js[3].rest_rotation = [0, 0, 0, 0]; return base({ skeleton: withJoints(js) }); } },
  { name: 'a foreign skeleton to a model without retargeting', status: 400, code: 'retargeting_unsupported', body: () => { const js = joints(); js[5].name = 'head_JNT'; return strict({ skeleton: withJoints(js) }); } },
  // 6. segments
  { name: 'a segment type the model lacks', status: 400, code: 'unsupported_segment', body: () => strict({ segments: [{ type: 'pose', prompt: 'a T pose' }] }) },
  { name: 'a motion reference naming a joint the skeleton lacks', status: 400, code: 'unknown_joint', body: () => base({ segments: [{ type: 'motion_reference', duration_frames: 10, joint_names: ['Hips', 'Tail'], rotations: [[[0, 0, 0, 1], [0, 0, 0, 1]], [[0, 0, 0, 1], [0, 0, 0, 1]]], root_positions: [[0, 1, 0], [0, 1, 0]], fps: 30 }] }) },
  { name: 'a video reference', status: 400, code: 'unsupported_segment', body: () => base({ segments: [{ type: 'video_reference', duration_frames: 30, video: { url: 'https://example.com/clip.mp4' } }] }) },
  { name: 'a segment type of a newer minor (1.9)', status: 400, code: 'unsupported_segment', body: () => base({ protocol_version: '1.9', segments: [{ type: 'dance_battle', duration_frames: 30 }] }) },
  // 7. loop
  { name: 'loop on a model without loops', status: 400, code: 'invalid_options', body: () => strict({ options: { loop: true } }) },
  // 8. constraints
  { name: 'an effector on an unknown joint', status: 400, code: 'unknown_joint', body: () => strict({ constraints: [{ type: 'effector_target', joint: 'Tail', frames: [1], positions: [[0, 1, 0]] }] }) },
  { name: 'a keyframe on an unknown joint', status: 400, code: 'unknown_joint', body: () => strict({ constraints: [{ type: 'pose_keyframe', frame: 1, joint_rotations: { Tail: [0, 0, 0, 1] } }] }) },
  { name: 'a frame out of range', status: 400, code: 'frame_out_of_range', body: () => strict({ constraints: [{ type: 'root_path', frames: [0, 30], positions_xz: [[0, 0], [0, 1]] }] }) },
  { name: 'a zero quaternion in a keyframe', status: 400, code: 'invalid_request', body: () => strict({ constraints: [{ type: 'pose_keyframe', frame: 1, joint_rotations: { Head: [0, 0, 0, 0] } }] }) },
  { name: 'a ground profile to a model that does not honour it', status: 400, code: 'unsupported_constraint', body: () => strict({ protocol_version: '1.3', constraints: [{ type: 'ground_height', points: [[0, 0, 0]] }] }) },
  { name: 'a constraint type of a newer minor (1.9)', status: 400, code: 'unsupported_constraint', body: () => base({ protocol_version: '1.9', constraints: [{ type: 'gaze', frames: [0], target: [0, 1, 2] }] }) },
  // 9. limits
  { name: 'too many samples', status: 400, code: 'invalid_options', body: () => base({ options: { num_samples: 17 } }) },
  { name: 'a prompt that is too long', status: 400, code: 'invalid_options', body: () => base({ segments: [{ type: 'text', prompt: 'walk '.repeat(201), duration_frames: 30 }] }) },
  { name: 'too long a clip', status: 400, code: 'invalid_options', body: () => base({ segments: [{ type: 'text', prompt: 'walk', duration_frames: 901 }] }) },
  { name: 'too long a clip at a custom fps', status: 400, code: 'invalid_options', body: () => base({ timing: { fps: 10 }, segments: [{ type: 'text', prompt: 'walk', duration_frames: 301 }] }) },
  { name: 'too many constraints', status: 400, code: 'invalid_options', body: () => strict({ constraints: Array.from({ length: 65 }, (_, i) => ({ type: 'root_path', frames: [i % 30], positions_xz: [[0, 0]] })) }) },
  { name: 'too large a batch', status: 400, code: 'invalid_options', body: () => ({ protocol_version: '1.2', requests: Array.from({ length: 17 }, () => base()) }) },
];

async function send(c: Case): Promise<RawResponse> {
  if (c.raw) {
    const r = c.raw();
    return rawRequest(g.url, { path: '/generate', headers: r.headers, body: r.body, chunks: r.chunks });
  }
  return rawRequest(g.url, { path: '/generate', headers: json, body: JSON.stringify(c.body!()) });
}

describe('POST /generate refuses malformed and hostile requests', () => {
  it('has at least 40 cases', () => expect(cases.length).toBeGreaterThanOrEqual(40));

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const res = await send(c);
    const body = res.json();
    expect({ status: res.status, code: body.error?.code }).toEqual({ status: c.status, code: c.code });
    expect(validators.errorEnvelope(body)).toBe(true);
    expect(body.detail.error_code).toMatch(/^MG-[A-Z]{3}-\d{3}$/);
    expect(String(res.headers['content-type'])).toContain('application/json');
    expect(res.headers['x-request-id']).toBeTruthy();
    expect(res.body.toString()).not.toMatch(/at .*\.(ts|js):\d+/); // no stack traces
  });

  it('names what is wrong in details without echoing input', async () => {
    const res = await send({ name: '', status: 0, code: '', body: () => base({ model: 'kimodo-xl' }) });
    expect(res.json().error.details.available_models).toContain('procedural');
    const v = await send({ name: '', status: 0, code: '', body: () => base({ protocol_version: '3.1' }) });
    expect(v.json().error.details.supported_majors).toEqual(['1']);
    const f = await send({ name: '', status: 0, code: '', body: () => strict({ constraints: [{ type: 'root_path', frames: [45], positions_xz: [[0, 0]] }] }) });
    expect(f.json().error.details).toMatchObject({ frame: 45, total_frames: 30 });
    const s = await send({ name: '', status: 0, code: '', body: () => base({ segments: [{ type: 'text', prompt: 'secret words', duration_frames: 30, bogus: 'secret value' }] }) });
    expect(s.json().error.details.errors[0].path).toBe('/segments/0');
    expect(s.body.toString()).not.toContain('secret value');
  });

  it('accepts any 1.x version, compared numerically', async () => {
    const res = await rawRequest(g.url, { path: '/generate', headers: json, body: JSON.stringify(base({ protocol_version: '1.10' })) });
    expect(res.status).toBe(200);
  });
});
