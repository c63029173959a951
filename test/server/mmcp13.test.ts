/**
 * MMCP 1.3 at the protocol layer: the validation rules of motion_reference and pose segments and of the
 * ground_height constraint (each row: a body and the status and code it gets, in the spec's validation
 * order), forward compatibility (a newer minor's unknown fields ignored and listed, ours refused), the
 * plan's typed reference and ground, and the HTTP answers: /capabilities at 1.3, the ignored-fields
 * header, the empty batch, the 413's details.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProceduralAdapter } from '../../src/adapters/procedural/index.js';
import { AdapterRegistry } from '../../src/adapters/registry.js';
import { parseJsonBody } from '../../src/protocol/body.js';
import { buildPlan } from '../../src/protocol/plan.js';
import { validateGenerateRequest } from '../../src/protocol/validate.js';
import { ignoredFieldsHeader } from '../../src/server/ignored-header.js';
import { GatewayError } from '../../src/spec/errors.js';
import { SERVED_VERSION, isNewerMinor } from '../../src/spec/version.js';
import type { GenerateRequest, Joint } from '../../src/spec/wire.js';
import { createGatedAdapter } from '../helpers/gated-adapter.js';
import { postGenerate, rawRequest, startGateway, type Running } from '../helpers/gateway.js';

const MAX_REF = 300;
const REF_SEGMENTS = ['text', 'unconditioned', 'pose', 'motion_reference'] as const;
const ALL_CONSTRAINTS = ['root_path', 'effector_target', 'pose_keyframe', 'ground_height'] as const;

/** Models that advertise 1.2/1.3 features (the one switch: their supported lists), next to the procedural model that does not. */
function adapters() {
  return [
    createProceduralAdapter(),
    createGatedAdapter({ modelId: 'refs', provider: 'refs', caps: { supported_segments: [...REF_SEGMENTS], supported_constraints: [...ALL_CONSTRAINTS] } }),
    createGatedAdapter({ modelId: 'strict-refs', provider: 'strict', caps: { supported_segments: [...REF_SEGMENTS], supports_retargeting: false } }),
    // A model of text and gaps only: what a model that lists neither references nor poses (nor the ground) answers.
    createGatedAdapter({ modelId: 'texts', provider: 'texts', caps: { supported_segments: ['text', 'unconditioned'], supported_constraints: ['root_path', 'effector_target', 'pose_keyframe'] } }),
  ];
}

const registry = new AdapterRegistry(adapters(), { max_request_bytes: 1_048_576, max_batch_size: 16, max_reference_frames: MAX_REF });
const skeleton = registry.model('procedural')!.canonical_skeleton;
const names = skeleton.joints.map((j) => j.name);

const MIXAMO: { joints: Joint[] } = {
  joints: [
    { name: 'mixamorig:Hips', parent: null, rest_translation: [0, 1, 0], rest_rotation: [0, 0, 0, 1] },
    { name: 'mixamorig:Spine', parent: 'mixamorig:Hips', rest_translation: [0, 0.1, 0], rest_rotation: [0, 0, 0, 1] },
    { name: 'mixamorig:Head', parent: 'mixamorig:Spine', rest_translation: [0, 0.5, 0], rest_rotation: [0, 0, 0, 1] },
  ],
};

/** A motion_reference segment of T frames naming `js`. */
const ref = (js: string[] = names, T = 10, over: Record<string, unknown> = {}) => ({
  type: 'motion_reference',
  duration_frames: 20,
  joint_names: js,
  rotations: Array.from({ length: T }, () => js.map(() => [0, 0, 0, 1])),
  root_positions: Array.from({ length: T }, (_, i) => [0, 0.9, 0.01 * i]),
  fps: 30,
  ...over,
});
const text = (frames = 17) => ({ type: 'text', prompt: 'a person sits', duration_frames: frames });
const GROUND = { type: 'ground_height', points: [[0, 0, 0], [0, 3, 0], [0, 4.5, -0.6], [0, 7, -0.6]] };

const req = (over: Record<string, unknown> = {}) => ({ protocol_version: '1.3', model: 'refs', skeleton, segments: [text(30)], ...over });

/** The outcome of a body through the server's path (JSON text → parse → the validation order). */
function outcome(body: unknown, replace?: [string, string]): { status: number; code: string; details?: Record<string, unknown> | null; ignored?: string[]; request?: GenerateRequest } {
  let textBody = JSON.stringify(body);
  if (replace) textBody = textBody.replace(replace[0], replace[1]);
  try {
    const v = validateGenerateRequest(parseJsonBody(Buffer.from(textBody), 32), registry);
    return { status: 200, code: 'ok', ignored: v.ignoredFields, request: v.request };
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    return { status: err.status, code: err.code, details: err.details };
  }
}

type Row = [name: string, body: () => unknown, status: number, code: string, replace?: [string, string]];

const rows: Row[] = [
  // motion_reference: the shapes (422 schema_validation)
  ['a reference naming every joint', () => req({ segments: [ref()] }), 200, 'ok'],
  ['a reference of two frames (the fewest)', () => req({ segments: [ref(names, 2)] }), 200, 'ok'],
  ['a reference of one frame', () => req({ segments: [ref(names, 1)] }), 422, 'schema_validation'],
  ['root_positions of another length than rotations', () => req({ segments: [ref(names, 4, { root_positions: [[0, 0, 0], [0, 0, 0], [0, 0, 0]] })] }), 422, 'schema_validation'],
  ['a frame with another joint count', () => req({ segments: [ref(names.slice(0, 2), 4, { rotations: [[[0, 0, 0, 1]], [[0, 0, 0, 1]], [[0, 0, 0, 1]], [[0, 0, 0, 1]]] })] }), 422, 'schema_validation'],
  ['a rotation of three numbers', () => req({ segments: [ref(names.slice(0, 2), 2, { rotations: [[[0, 0, 0, 1], [0, 0, 1]], [[0, 0, 0, 1], [0, 0, 0, 1]]] })] }), 422, 'schema_validation'],
  ['a root position of two numbers', () => req({ segments: [ref(names.slice(0, 2), 2, { root_positions: [[0, 1], [0, 1, 0]] })] }), 422, 'schema_validation'],
  ['no joint names', () => req({ segments: [ref([], 2)] }), 422, 'schema_validation'],
  ['a joint named twice', () => req({ segments: [ref([names[0], names[0]], 2)] }), 422, 'schema_validation'],
  ['fidelity 0 (deprecated, accepted)', () => req({ segments: [ref(names, 3, { fidelity: 0 })] }), 200, 'ok'],
  ['fidelity other than 0', () => req({ segments: [ref(names, 3, { fidelity: 0.05 })] }), 422, 'schema_validation'],
  ['duration_frames 0', () => req({ segments: [ref(names, 3, { duration_frames: 0 })] }), 422, 'schema_validation'],
  ['no duration_frames', () => { const s: Record<string, unknown> = ref(names, 3); delete s.duration_frames; return req({ segments: [s] }); }, 422, 'schema_validation'],
  ['fps 0', () => req({ segments: [ref(names, 3, { fps: 0 })] }), 422, 'schema_validation'],
  ['a prompt on a reference (unknown field)', () => req({ segments: [ref(names, 3, { prompt: 'walk' })] }), 422, 'schema_validation'],
  ['a non-finite rotation (1e400)', () => req({ segments: [ref(names.slice(0, 2), 2, { rotations: [[[0, 0, 0, 1], [0, 0, 0, 1]], [[0, 0, 0, 1], [0, 0, 0, 12345]]] })] }), 422, 'schema_validation', ['12345', '1e400']],
  ['a non-finite root position (-1e999)', () => req({ segments: [ref(names.slice(0, 2), 2, { root_positions: [[0, 0.9, 0], [0, 0.9, 54321]] })] }), 422, 'schema_validation', ['54321', '-1e999']],
  ['its own skeleton with two joints of one name', () => req({ segments: [ref(['mixamorig:Hips'], 2, { skeleton: { joints: [...MIXAMO.joints, { ...MIXAMO.joints[2] }] } })] }), 422, 'schema_validation'],
  // 6. the segment type, where not advertised
  ['a reference to a model that does not list motion_reference', () => req({ model: 'texts', segments: [ref()] }), 400, 'unsupported_segment'],
  ['a pose to a model that does not list pose', () => req({ model: 'texts', segments: [{ type: 'pose', prompt: 'a T pose' }] }), 400, 'unsupported_segment'],
  ['a video reference (no model takes video)', () => req({ segments: [{ type: 'video_reference', duration_frames: 30, video: { url: 'https://example.com/a.mp4' } }] }), 400, 'unsupported_segment'],
  // 7. the reference payload, in the reference server's order
  ['its own skeleton with two roots', () => req({ segments: [ref(['mixamorig:Hips'], 2, { skeleton: { joints: [MIXAMO.joints[0], { ...MIXAMO.joints[1], parent: null }] } })] }), 400, 'invalid_skeleton'],
  ['its own skeleton to a model that cannot retarget', () => req({ model: 'strict-refs', segments: [ref(['mixamorig:Hips'], 2, { skeleton: MIXAMO })] }), 400, 'retargeting_unsupported'],
  ['the canonical skeleton as its own, to a model that cannot retarget', () => req({ model: 'strict-refs', segments: [ref(names, 2, { skeleton })] }), 200, 'ok'],
  ['a joint not on the skeleton', () => req({ segments: [ref(), ref([...names.slice(0, -1), 'NotAJoint'])] }), 400, 'unknown_joint'],
  ['request joints on a reference with its own rig', () => req({ segments: [ref(names.slice(0, 2), 2, { skeleton: MIXAMO })] }), 400, 'unknown_joint'],
  ['its own rig’s joints', () => req({ segments: [ref(['mixamorig:Hips', 'mixamorig:Head'], 4, { skeleton: MIXAMO })] }), 200, 'ok'],
  ['no root among the joint names', () => req({ segments: [ref(names.slice(1), 2)] }), 400, 'invalid_request'],
  ['no root on its own rig', () => req({ segments: [ref(['mixamorig:Spine'], 2, { skeleton: MIXAMO })] }), 400, 'invalid_request'],
  ['no root and an unknown joint: the unknown joint answers first', () => req({ segments: [ref([...names.slice(1), 'NotAJoint'], 2)] }), 400, 'unknown_joint'],
  [`${MAX_REF} reference frames (the most)`, () => req({ segments: [ref(names.slice(0, 2), 10), ref(names.slice(0, 2), MAX_REF, { duration_frames: 10 })] }), 200, 'ok'],
  [`${MAX_REF + 1} reference frames`, () => req({ segments: [ref(names.slice(0, 2), 10), ref(names.slice(0, 2), MAX_REF + 1, { duration_frames: 10 })] }), 400, 'invalid_options'],
  ['a zero quaternion', () => req({ segments: [ref(names.slice(0, 2), 2, { rotations: [[[0, 0, 0, 1], [0, 0, 0, 1]], [[0, 0, 0, 1], [0, 0, 0, 0]]] })] }), 400, 'invalid_request'],
  ['non-unit quaternions (taken as sent)', () => req({ segments: [ref(names.slice(0, 1), 2, { rotations: [[[0, 0, 0, 1.02]], [[0, 0.1, 0, 0.99]]] })] }), 200, 'ok'],
  // a reference composes like a text segment: loop, frame range, mixing
  ['reference, text, reference', () => req({ segments: [ref(), text(), ref()] }), 200, 'ok'],
  ['loop over one reference', () => req({ segments: [ref()], options: { loop: true } }), 200, 'ok'],
  ['loop over two references', () => req({ segments: [ref(), ref()], options: { loop: true } }), 400, 'invalid_options'],
  ['a keyframe at the last frame of two references', () => req({ segments: [ref(), ref()], constraints: [{ type: 'pose_keyframe', frame: 39, joint_rotations: { [names[0]]: [0, 0, 0, 1] } }] }), 200, 'ok'],
  ['a keyframe one frame past two references', () => req({ segments: [ref(), ref()], constraints: [{ type: 'pose_keyframe', frame: 40, joint_rotations: { [names[0]]: [0, 0, 0, 1] } }] }), 400, 'frame_out_of_range'],
  ['a reference whose clip is far shorter than its segment', () => req({ segments: [ref(names.slice(0, 2), 5, { duration_frames: 200 })] }), 200, 'ok'],
  // pose
  ['a pose alone', () => req({ segments: [{ type: 'pose', prompt: 'a T pose' }] }), 200, 'ok'],
  ['a pose of one frame, said', () => req({ segments: [{ type: 'pose', prompt: 'a T pose', duration_frames: 1 }] }), 200, 'ok'],
  ['a pose of two frames', () => req({ segments: [{ type: 'pose', prompt: 'a T pose', duration_frames: 2 }] }), 422, 'schema_validation'],
  ['a pose next to another segment', () => req({ segments: [{ type: 'pose', prompt: 'a T pose' }, text()] }), 400, 'invalid_request'],
  ['a pose next to a reference', () => req({ segments: [ref(), { type: 'pose', prompt: 'a T pose' }] }), 400, 'invalid_request'],
  ['a pose without a prompt', () => req({ segments: [{ type: 'pose' }] }), 422, 'schema_validation'],
  // ground_height (1.3)
  ['a ground profile', () => req({ constraints: [GROUND] }), 200, 'ok'],
  ['a ground point far from any path (places, not frames)', () => req({ constraints: [{ type: 'ground_height', points: [[100, 100, -3]] }] }), 200, 'ok'],
  ['a ground profile in a 1.2 request', () => req({ protocol_version: '1.2', constraints: [GROUND] }), 200, 'ok'],
  ['no ground points', () => req({ constraints: [{ type: 'ground_height', points: [] }] }), 422, 'schema_validation'],
  ['a ground point of two numbers', () => req({ constraints: [{ type: 'ground_height', points: [[0, 0]] }] }), 422, 'schema_validation'],
  ['a ground point of four numbers', () => req({ constraints: [{ type: 'ground_height', points: [[0, 0, 0, 1]] }] }), 422, 'schema_validation'],
  ['a non-finite ground height', () => req({ constraints: [{ type: 'ground_height', points: [[0, 0, 777]] }] }), 422, 'schema_validation', ['777', '1e400']],
  ['a ground profile with frames', () => req({ constraints: [{ type: 'ground_height', points: [[0, 0, 0]], frames: [0] }] }), 422, 'schema_validation'],
  ['a ground profile to the procedural model (the toolkit applies it for every model)', () => req({ model: 'procedural', constraints: [GROUND] }), 200, 'ok'],
  ['a ground profile to a model that does not list it', () => req({ model: 'texts', constraints: [GROUND] }), 400, 'unsupported_constraint'],
  // forward compatibility
  ['an unknown field in a 1.9 request', () => req({ protocol_version: '1.9', mood: 'happy' }), 200, 'ok'],
  ['the same field in a 1.3 request', () => req({ mood: 'happy' }), 422, 'schema_validation'],
  ['the same field in a 1.2 request', () => req({ protocol_version: '1.2', mood: 'happy' }), 422, 'schema_validation'],
  ['an unknown field in a 1.10 request (10 > 3)', () => req({ protocol_version: '1.10', mood: 'happy' }), 200, 'ok'],
  ['an unknown constraint type in a 1.9 request', () => req({ protocol_version: '1.9', constraints: [{ type: 'gaze', frames: [0], target: [0, 1, 2] }] }), 400, 'unsupported_constraint'],
  ['an unknown segment type in a 1.9 request', () => req({ protocol_version: '1.9', segments: [{ type: 'dance_battle', duration_frames: 30 }] }), 400, 'unsupported_segment'],
  ['an unknown constraint type in a 1.3 request', () => req({ constraints: [{ type: 'gaze', frames: [0] }] }), 422, 'schema_validation'],
  ['a known field of the wrong type in a 1.9 request', () => req({ protocol_version: '1.9', segments: [{ type: 'text', prompt: 'walk', duration_frames: '30' }] }), 422, 'schema_validation'],
  ['a 2.0 request', () => req({ protocol_version: '2.0' }), 400, 'version_unsupported'],
];

describe('MMCP 1.3 validation rules', () => {
  it.each(rows.map((r) => [r[0], r] as const))('%s', (_name, [, body, status, code, replace]) => {
    expect(outcome(body(), replace)).toMatchObject({ status, code });
  });

  it('caps the clip with the reference server’s details', () => {
    const r = outcome(req({ segments: [ref(names.slice(0, 2), 10), ref(names.slice(0, 2), MAX_REF + 1, { duration_frames: 10 })] }));
    expect(r.details).toEqual({ max_reference_frames: MAX_REF, reference_frames: MAX_REF + 1, segment: 1 });
  });

  it('names the reference’s own rig when its joints are not on it', () => {
    const r = outcome(req({ segments: [ref(names.slice(0, 2), 2, { skeleton: MIXAMO })] }));
    expect(r.details).toMatchObject({ segment: 0, skeleton: 'motion_reference', unknown_joints: names.slice(0, 2) });
    expect(r.details!.skeleton_joints).toContain('mixamorig:Hips');
  });

  it('lists what is supported when a type is not', () => {
    expect(outcome(req({ model: 'texts', segments: [ref()] })).details).toEqual({ segment: 0, supported_segments: ['text', 'unconditioned'] });
    const g = outcome(req({ model: 'texts', constraints: [GROUND] })).details!;
    expect(g.supported_constraints).toEqual(['root_path', 'effector_target', 'pose_keyframe']);
    expect(outcome(req({ protocol_version: '1.9', constraints: [GROUND, { type: 'gaze', frames: [0] }] })).details).toEqual({ constraint: 1, supported_constraints: [...ALL_CONSTRAINTS] });
    expect(outcome(req({ protocol_version: '1.9', segments: [text(), { type: 'dance_battle', duration_frames: 30 }] })).details).toEqual({ segment: 1, supported_segments: [...REF_SEGMENTS] });
  });

  it('ignores and lists every unknown field of a newer minor, and only those', () => {
    const body = req({
      protocol_version: '1.9',
      mood: 'happy',
      segments: [{ ...text(30), speed: 2 }, ref(names.slice(0, 2), 2, { style: { a: 1 } })],
      options: { seed: 4, turbo: true },
      skeleton: { ...skeleton, joints: skeleton.joints.map((j, i) => (i === 2 ? { ...j, color: 'red' } : j)) },
      constraints: [{ ...GROUND, smoothing: 0.5 }],
      extensions: { refs: { anything: 1 } },
    });
    const r = outcome(body);
    expect(r.status).toBe(200);
    // In the order of the document.
    expect(r.ignored).toEqual(['skeleton.joints[2].color', 'segments[0].speed', 'segments[1].style', 'mood', 'options.turbo', 'constraints[0].smoothing']);
    const request = r.request as unknown as Record<string, any>;
    expect(request.mood).toBeUndefined();
    expect(request.segments[0].speed).toBeUndefined();
    expect(request.options).toEqual({ seed: 4 });
    expect(request.extensions).toEqual({ refs: { anything: 1 } });
    expect(outcome(req({ protocol_version: '1.9' })).ignored).toEqual([]);
    expect(outcome(req()).ignored).toEqual([]);
  });

  it('writes the ignored fields as a header value any HTTP stack carries', () => {
    expect(ignoredFieldsHeader(['mood', 'segments[0].speed'])).toBe('mood, segments[0].speed');
    expect(ignoredFieldsHeader(['humeur du jour', 'a,b', '100%', 'café', 'x\ud800'])).toBe('humeur%20du%20jour, a%2Cb, 100%25, caf%C3%A9, x%EF%BF%BD');
    const many = ignoredFieldsHeader(Array.from({ length: 100 }, (_, i) => `field_${i}_${'y'.repeat(60)}`));
    expect(many.length).toBeLessThanOrEqual(4000);
    expect(many.split(', ').every((f) => /^field_\d+_y{60}$/.test(f))).toBe(true);
  });

  it('compares minors numerically', () => {
    expect(SERVED_VERSION).toBe('1.3');
    expect(['1.4', '1.9', '1.10', '1.30'].map(isNewerMinor)).toEqual([true, true, true, true]);
    expect(['1.0', '1.2', '1.3', '01.3', '2.9', '0.9', '1', 3].map(isNewerMinor)).toEqual([false, false, false, false, false, false, false, false]);
  });
});

describe('the plan of a 1.3 request', () => {
  it('carries each motion reference typed, and the ground profiles', () => {
    const rot = [[[0, 0, 0, 1], [0, 0.6, 0, 0.8]], [[0, 0, 0.6, 0.8], [0, 0, 0, 1]], [[0.6, 0, 0, 0.8], [0, 0, 0, 1]]];
    const a = ref([names[0], names[3]], 3, { rotations: rot, duration_frames: 12 });
    const b = ref(['mixamorig:Hips', 'mixamorig:Head'], 2, { skeleton: MIXAMO, fps: 60 });
    const v = validateGenerateRequest(structuredClone(req({ segments: [a, text(), b], constraints: [GROUND, { type: 'ground_height', points: [[1, 2, 0.25]] }] })), registry);
    const plan = buildPlan(v.request, v.model, 'refs', 7);
    expect(plan.segments.map((s) => [s.type, s.startFrame, s.frames])).toEqual([['motion_reference', 0, 12], ['text', 12, 17], ['motion_reference', 29, 20]]);
    const r0 = plan.segments[0].reference!;
    expect(r0).toMatchObject({ jointNames: [names[0], names[3]], frameCount: 3, fps: 30 });
    expect(Array.from(r0.rotations)).toEqual(rot.flat(2));
    expect(Array.from(r0.rootPositions)).toEqual(a.root_positions.flat());
    expect(r0.skeleton).toBeUndefined();
    expect(plan.segments[1].reference).toBeUndefined();
    expect(plan.segments[2].reference!.skeleton!.map((j) => j.name)).toEqual(['mixamorig:Hips', 'mixamorig:Spine', 'mixamorig:Head']);
    expect(plan.segments[2].reference!.fps).toBe(60);
    expect(plan.groundProfiles!.map((p) => Array.from(p))).toEqual([GROUND.points.flat(), [1, 2, 0.25]]);
    expect(plan.ignoredFields).toBeUndefined();
    // Structured-clonable, as plans cross to worker threads.
    expect(structuredClone(plan).segments[0].reference!.rotations).toBeInstanceOf(Float64Array);
  });

  it('carries the ignored fields of a newer minor', () => {
    const v = validateGenerateRequest(req({ protocol_version: '1.9', mood: 'happy' }), registry);
    expect(buildPlan(v.request, v.model, 'refs', 7, v.ignoredFields).ignoredFields).toEqual(['mood']);
    const plain = validateGenerateRequest(req(), registry);
    expect(buildPlan(plain.request, plain.model, 'refs', 7).groundProfiles).toBeUndefined();
  });
});

describe('MMCP 1.3 over HTTP', () => {
  let g: Running;
  beforeAll(async () => {
    g = await startGateway({ maxRequestBytes: 64 * 1024, maxReferenceFrames: 450 }, { adapters: adapters() });
  });
  afterAll(() => g?.close());

  it('serves 1.3, with max_reference_frames (configured) only where references are taken, and no video limits', async () => {
    const caps = await (await fetch(`${g.url}/capabilities`)).json();
    expect(caps.protocol_version).toBe('1.3');
    const byId = Object.fromEntries(caps.models.map((m: any) => [m.id, m]));
    // The pipeline splices references for every model: the procedural model lists them, a text-only one does not.
    expect(byId.procedural.limits.max_reference_frames).toBe(450);
    expect(byId.procedural.supported_segments).toEqual(['text', 'unconditioned', 'pose', 'motion_reference']);
    expect(byId.texts.limits.max_reference_frames).toBeUndefined();
    expect(byId.procedural.supported_constraints).toContain('ground_height');
    expect(byId.texts.supported_constraints).not.toContain('ground_height');
    expect(byId.refs.limits.max_reference_frames).toBe(450);
    expect(byId.refs.supports_motion_reference_mixed).toBe(true); // implied by listing motion_reference
    expect(byId.texts.supports_motion_reference_mixed).toBe(false);
    for (const m of caps.models) {
      expect(m.limits.max_video_bytes).toBeUndefined();
      expect(m.limits.max_video_seconds).toBeUndefined();
    }
  });

  it('answers a 1.9 request with an unknown field, listing it in X-MMCP-Ignored-Fields; refuses it at 1.3', async () => {
    const body = { protocol_version: '1.9', model: 'procedural', skeleton, segments: [{ ...text(15), speed: 2 }], mood: 'happy', options: { seed: 1 } };
    const ok = await postGenerate(g.url, body);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-mmcp-ignored-fields')).toBe('segments[0].speed, mood');
    const motion = (await ok.json()).extensions.MMCP_motion;
    expect(motion.version).toBe('1.3');
    expect(motion.x_ignored_fields).toEqual(['segments[0].speed', 'mood']);
    const refused = await postGenerate(g.url, { ...body, protocol_version: '1.3' });
    expect(refused.status).toBe(422);
    expect((await refused.json()).error.code).toBe('schema_validation');
    const plain = await postGenerate(g.url, { ...body, protocol_version: '1.9', segments: [text(15)], mood: undefined });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('x-mmcp-ignored-fields')).toBeNull();
    expect((await plain.json()).extensions.MMCP_motion.x_ignored_fields).toBeUndefined();
  });

  it('refuses an empty batch whole with 422', async () => {
    const res = await postGenerate(g.url, { protocol_version: '1.3', requests: [] });
    expect(res.status).toBe(422);
    const e = (await res.json()).error;
    expect(e.code).toBe('schema_validation');
    expect(e.details.errors[0].path).toBe('/requests');
  });

  it('ignores unknown fields of a newer minor’s batch envelope, and checks its items on their own', async () => {
    const res = await postGenerate(g.url, { protocol_version: '1.9', priority: 'high', requests: [{ model: 'procedural', skeleton, segments: [{ type: 'dance_battle', duration_frames: 3 }] }] });
    expect(res.status).toBe(200);
    expect((await res.json()).results[0].error).toMatchObject({ code: 'unsupported_segment', details: { supported_segments: ['text', 'unconditioned', 'pose', 'motion_reference'] } });
  });

  it('says how large a refused body is and what the limit is (413)', async () => {
    const declared = await rawRequest(g.url, { path: '/generate', headers: { 'content-type': 'application/json' }, body: `{"a":"${'x'.repeat(70 * 1024)}"}` });
    expect(declared.status).toBe(413);
    expect(declared.json().error.details).toEqual({ max_request_bytes: 64 * 1024, request_bytes: 70 * 1024 + 8 });
    const chunked = await rawRequest(g.url, { path: '/generate', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, chunks: Array.from({ length: 20 }, () => 'x'.repeat(8 * 1024)) });
    expect(chunked.status).toBe(413);
    const d = chunked.json().error.details;
    expect(d.max_request_bytes).toBe(64 * 1024);
    expect(d.request_bytes).toBeGreaterThan(64 * 1024);
  });
});
