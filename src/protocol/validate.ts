/**
 * The MMCP validation order for one request: schema and shape (422), then version, model, skeleton,
 * segments, references and loop, constraints, limits (400) — the first failure answers. The gateway's
 * timing.fps bound and its output and work budgets (budgets.ts, docs/limits.md) are part of the limits.
 */
import { GatewayError } from '../spec/errors.js';
import { SUPPORTED_MAJORS, isNewerMinor } from '../spec/version.js';
import { KNOWN_CONSTRAINT_TYPES, KNOWN_SEGMENT_TYPES, describeErrors, lenientValidators, validators, type SchemaIssue } from './schemas.js';
import type { Constraint, GenerateRequest, Joint, ModelCapabilities, MotionReferenceSegment, Segment } from '../spec/wire.js';
import { checkFps, checkRequestBudgets } from './budgets.js';
import { estimateCost, type RequestCost } from './cost.js';
import { totalFramesOf } from './frames.js';

/** Where validation finds the models (the adapter registry implements it). */
export interface ModelCatalog {
  model(id: string): ModelCapabilities | undefined;
  modelIds(): string[];
}

function schemaError(issues: SchemaIssue[], id: 'MG-REQ-001' | 'MG-REQ-009' | 'MG-REQ-010' | 'MG-REQ-011' = 'MG-REQ-001'): GatewayError {
  return new GatewayError(id, undefined, { details: { errors: issues } });
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * The fields of `original` that `cleaned` (the same document after ajv's removeAdditional) lost, as paths
 * like "segments[0].foo" (at most 100, each at most 200 characters).
 */
function removedPaths(original: unknown, cleaned: unknown, path: string, out: string[]): void {
  if (out.length >= 100) return;
  if (Array.isArray(original) && Array.isArray(cleaned)) {
    original.forEach((v, i) => removedPaths(v, cleaned[i], `${path}[${i}]`, out));
  } else if (isObject(original) && isObject(cleaned)) {
    for (const [k, v] of Object.entries(original)) {
      const at = path ? `${path}.${k}` : k;
      if (!Object.hasOwn(cleaned, k)) {
        if (out.length < 100) out.push(at.slice(0, 200));
      } else removedPaths(v, cleaned[k], at, out);
    }
  }
}

/**
 * Step 2 for a request of a newer minor than the one served: the schema on a copy, with the fields the
 * schema does not declare removed and listed. Segments and constraints of a type this server does not
 * know are set aside from the schema check and kept, so that step 6 / step 8 refuse them with
 * unsupported_segment / unsupported_constraint and the supported list, not 422 (a newer minor may add
 * types; which ones a model takes is what capabilities say).
 */
function lenientShape(body: unknown): { request: unknown; ignored: string[] } {
  const copy = structuredClone(body) as Record<string, unknown>;
  const setAside: Array<{ list: unknown[]; index: number; item: unknown }> = [];
  for (const [field, known] of [['segments', KNOWN_SEGMENT_TYPES], ['constraints', KNOWN_CONSTRAINT_TYPES]] as const) {
    const list = copy[field];
    if (!Array.isArray(list)) continue;
    for (let i = list.length - 1; i >= 0; i--) {
      const item: unknown = list[i];
      if (isObject(item) && typeof item.type === 'string' && !known.includes(item.type)) {
        setAside.push({ list, index: i, item });
        list.splice(i, 1);
      }
    }
  }
  const validate = lenientValidators.generateRequest;
  if (!validate(copy)) throw schemaError(describeErrors(validate.errors));
  for (const { list, index, item } of setAside.reverse()) list.splice(index, 0, item);
  const ignored: string[] = [];
  removedPaths(body, copy, '', ignored);
  return { request: copy, ignored };
}

/**
 * The request when its body passes the schema (leniently for a newer minor, on a copy), else undefined;
 * nothing else is checked. For weighing a batch's items before each is validated on its own.
 */
export function schemaValidRequest(body: unknown): GenerateRequest | undefined {
  if (isObject(body) && isNewerMinor(body.protocol_version)) {
    const copy = structuredClone(body);
    return lenientValidators.generateRequest(copy) ? (copy as unknown as GenerateRequest) : undefined;
  }
  return validators.generateRequest(body) ? (body as GenerateRequest) : undefined;
}

/** Duplicate joint names of a skeleton (422: the schema cannot say "unique by name"). */
function duplicateJoints(joints: readonly Joint[], path: string): SchemaIssue[] {
  const seen = new Set<string>();
  const dups: SchemaIssue[] = [];
  joints.forEach((j, i) => {
    if (seen.has(j.name)) dups.push({ path: `${path}/joints/${i}/name`, message: 'duplicate joint name' });
    seen.add(j.name);
  });
  return dups;
}

/** Step 2: the JSON Schema, then the shape rules a schema cannot say well (all 422 schema_validation). */
function checkShape(body: unknown): { req: GenerateRequest; ignored: string[] } {
  let req: GenerateRequest;
  let ignored: string[] = [];
  if (isObject(body) && isNewerMinor(body.protocol_version)) {
    const lenient = lenientShape(body);
    req = lenient.request as GenerateRequest;
    ignored = lenient.ignored;
  } else {
    if (!validators.generateRequest(body)) throw schemaError(describeErrors(validators.generateRequest.errors));
    req = body as GenerateRequest;
  }

  const dups = duplicateJoints(req.skeleton.joints, '/skeleton');
  (req.segments ?? []).forEach((s, i) => {
    if (s.type === 'motion_reference' && s.skeleton) dups.push(...duplicateJoints(s.skeleton.joints, `/segments/${i}/skeleton`));
  });
  if (dups.length) throw schemaError(dups.slice(0, 20), 'MG-REQ-009');

  const segments = req.segments ?? [];
  const constraints = req.constraints ?? [];
  if (segments.length > 0 && req.duration_frames !== undefined) {
    throw schemaError([{ path: '/duration_frames', message: 'must be absent when segments are given (the segments set the duration)' }], 'MG-REQ-010');
  }
  if (segments.length === 0 && req.duration_frames === undefined) {
    throw schemaError([{ path: '/duration_frames', message: 'is required when segments is empty' }], 'MG-REQ-010');
  }
  if (segments.length === 0 && constraints.length === 0) {
    throw schemaError([{ path: '/', message: 'segments and constraints are both empty: nothing to generate' }], 'MG-REQ-010');
  }

  const issues: SchemaIssue[] = [];
  constraints.forEach((c, i) => issues.push(...constraintShapeIssues(c, `/constraints/${i}`)));
  segments.forEach((s, i) => issues.push(...segmentShapeIssues(s, `/segments/${i}`)));
  const g = req.options?.guidance;
  if (g) {
    const expected = { nocfg: 0, regular: 1, separated: 2 }[g.type];
    const got = g.weight?.length ?? 0;
    if (got !== expected) issues.push({ path: '/options/guidance/weight', message: `must have ${expected} entries for guidance type ${g.type}` });
  }
  if (issues.length) throw schemaError(issues.slice(0, 20), 'MG-REQ-011');
  return { req, ignored };
}

function constraintShapeIssues(c: Constraint, path: string): SchemaIssue[] {
  const out: SchemaIssue[] = [];
  const sameLength = (name: string, arr: unknown[] | undefined, n: number) => {
    if (arr !== undefined && arr.length !== n) out.push({ path: `${path}/${name}`, message: `must have as many entries as frames (${n})` });
  };
  if (c.type === 'root_path') {
    sameLength('positions_xz', c.positions_xz, c.frames.length);
    sameLength('heading_radians', c.heading_radians, c.frames.length);
    for (let i = 1; i < c.frames.length; i++) {
      if (c.frames[i] <= c.frames[i - 1]) {
        out.push({ path: `${path}/frames/${i}`, message: 'frames must be strictly ascending' });
        break;
      }
    }
  } else if (c.type === 'effector_target') {
    sameLength('positions', c.positions, c.frames.length);
    sameLength('rotations', c.rotations, c.frames.length);
  }
  return out;
}

function segmentShapeIssues(s: Segment, path: string): SchemaIssue[] {
  const out: SchemaIssue[] = [];
  if (s.type === 'motion_reference') {
    // T is the clip's own length (rotations), independent of duration_frames (the reference SDK's rule).
    const T = s.rotations.length;
    if (s.root_positions.length !== T) out.push({ path: `${path}/root_positions`, message: `must have one entry per frame of rotations (${T})` });
    s.rotations.forEach((frame, t) => {
      if (frame.length !== s.joint_names.length && out.length < 5) {
        out.push({ path: `${path}/rotations/${t}`, message: `must have one rotation per joint name (${s.joint_names.length})` });
      }
    });
    if (new Set(s.joint_names).size !== s.joint_names.length) out.push({ path: `${path}/joint_names`, message: 'joint names must be unique' });
  } else if (s.type === 'video_reference') {
    const hasUrl = s.video.url !== undefined;
    const hasData = s.video.data !== undefined;
    if (hasUrl === hasData) out.push({ path: `${path}/video`, message: 'exactly one of url or data is required' });
    if (hasData && !s.video.media_type) out.push({ path: `${path}/video/media_type`, message: 'is required with data' });
    if (s.start_s !== undefined && s.end_s !== undefined && s.end_s <= s.start_s) out.push({ path: `${path}/end_s`, message: 'must be after start_s' });
  }
  return out;
}

/** Step 3: the protocol's major version. */
export function checkVersion(version: string): void {
  const major = version.split('.')[0].replace(/^0+(?=\d)/, '');
  if (!(SUPPORTED_MAJORS as readonly string[]).includes(major)) {
    throw new GatewayError('MG-PRO-001', `Protocol version ${major}.x is not supported; this server speaks 1.x.`, {
      details: { supported_majors: [...SUPPORTED_MAJORS] },
    });
  }
}

/** Step 5: topology (one root, parents first, no cycles) and non-unit rest rotations. */
function checkSkeletonTopology(joints: readonly Joint[], where: Record<string, unknown> = {}): void {
  const fail = (message: string, details: Record<string, unknown>) => {
    throw new GatewayError('MG-PRO-003', message, { details: { ...details, ...where } });
  };
  const label = (j: Joint) => j.display_name ?? j.name;
  const roots = joints.filter((j) => j.parent === null);
  if (roots.length === 0) fail('The skeleton has no root joint (a joint with parent null).', { reason: 'no_root' });
  if (roots.length > 1) fail(`The skeleton has ${roots.length} root joints; exactly one is allowed.`, { reason: 'multiple_roots', roots: roots.slice(0, 10).map((j) => j.name) });
  const index = new Map(joints.map((j, i) => [j.name, i]));
  // Cycles first: they are the more specific diagnosis of a joint listed before its parent.
  for (const j of joints) {
    if (j.parent === null || !index.has(j.parent)) continue;
    let cur: Joint | undefined = j;
    for (let steps = 0; cur && cur.parent !== null; steps++) {
      if (steps > joints.length) fail(`The skeleton has a cycle through joint "${label(j)}".`, { reason: 'cycle', joint: j.name });
      const pi = index.get(cur.parent);
      cur = pi === undefined ? undefined : joints[pi];
    }
  }
  joints.forEach((j, i) => {
    if (j.parent === null) return;
    const pi = index.get(j.parent);
    if (pi === undefined) fail(`Joint "${label(j)}" names a parent that is not in the skeleton.`, { reason: 'unknown_parent', joint: j.name });
    if (pi! >= i) fail(`Joint "${label(j)}" is listed before its parent; parents must come first.`, { reason: 'child_before_parent', joint: j.name, parent: j.parent });
  });
  joints.forEach((j) => {
    const q = j.rest_rotation;
    if (q && Math.hypot(q[0], q[1], q[2], q[3]) < 1e-6) {
      fail(`Joint "${label(j)}" has a zero rest_rotation; send a unit quaternion.`, { reason: 'invalid_rest_rotation', joint: j.name });
    }
  });
}

/** Whether the request's skeleton is the model's canonical skeleton (names, parents, rest within 0.1 mm). */
function isCanonicalSkeleton(joints: readonly Joint[], canonical: readonly Joint[]): boolean {
  if (joints.length !== canonical.length) return false;
  return joints.every((j, i) => {
    const c = canonical[i];
    const close = (a: readonly number[] | undefined, b: readonly number[] | undefined, def: number[]) =>
      (a ?? def).every((v, k) => Math.abs(v - (b ?? def)[k]) < 1e-4);
    return (
      j.name === c.name &&
      j.parent === c.parent &&
      close(j.rest_translation, c.rest_translation, [0, 0, 0]) &&
      close(j.rest_rotation, c.rest_rotation, [0, 0, 0, 1])
    );
  });
}

const codePoints = (s: string) => [...s].length;

/**
 * Step 7 for one motion_reference segment, in the reference SDK's order: its own skeleton (topology, as
 * the request skeleton's; and, for a model that cannot retarget, the canonical one verbatim), its joint
 * names on that skeleton (the segment's own when it has one, else the request's), the root among them
 * (our spec's rule: the clip must say where the character is), the clip's length against
 * max_reference_frames, and no zero quaternion (it has no rotation to read; other quaternions are taken
 * as sent and normalized, as the reference SDK does).
 */
function checkMotionReference(req: GenerateRequest, model: ModelCapabilities, s: MotionReferenceSegment, i: number): void {
  const own = s.skeleton;
  if (own) {
    checkSkeletonTopology(own.joints, { segment: i, skeleton: 'motion_reference' });
    if (!model.supports_retargeting && !isCanonicalSkeleton(own.joints, model.canonical_skeleton.joints)) {
      throw new GatewayError('MG-PRO-005', `Model "${model.id}" cannot retarget: the skeleton of motion reference ${i} must be its canonical_skeleton verbatim.`, {
        details: { model: model.id, segment: i },
      });
    }
  }
  const joints = (own ?? req.skeleton).joints;
  const names = new Set(joints.map((j) => j.name));
  const unknown = s.joint_names.filter((n) => !names.has(n));
  if (unknown.length) {
    throw new GatewayError('MG-PRO-009', `Motion reference ${i} names joints that are not in ${own ? 'its own skeleton' : 'the skeleton'}.`, {
      details: {
        segment: i,
        skeleton: own ? 'motion_reference' : 'request',
        unknown_joints: unknown.slice(0, 20),
        skeleton_joints: joints.slice(0, 256).map((j) => j.name),
      },
    });
  }
  const root = joints.find((j) => j.parent === null)!.name;
  if (!s.joint_names.includes(root)) {
    throw new GatewayError('MG-PRO-008', `Motion reference ${i} must animate the root joint "${root}".`, {
      details: { segment: i, root, skeleton: own ? 'motion_reference' : 'request' },
    });
  }
  const maxRef = model.limits.max_reference_frames;
  const T = s.rotations.length;
  if (maxRef !== undefined && T > maxRef) {
    // Exactly the reference server's details (its tests compare them whole).
    throw new GatewayError('MG-PRO-012', `Motion reference ${i} has ${T} frames; at most ${maxRef} (max_reference_frames) are accepted.`, {
      details: { max_reference_frames: maxRef, reference_frames: T, segment: i },
    });
  }
  for (let t = 0; t < T; t++) {
    const frame = s.rotations[t];
    for (let j = 0; j < frame.length; j++) {
      const q = frame[j];
      if (Math.hypot(q[0], q[1], q[2], q[3]) < 1e-6) {
        throw new GatewayError('MG-REQ-012', `Motion reference ${i} has a zero quaternion (frame ${t}, joint "${s.joint_names[j].slice(0, 64)}").`, {
          details: { segment: i, frame: t, joint: s.joint_names[j] },
        });
      }
    }
  }
}

/** Steps 6-9 against the chosen model; returns the cost of what passed (step 9 weighs it against the budgets). */
function checkAgainstModel(req: GenerateRequest, model: ModelCapabilities): RequestCost {
  const segments = req.segments ?? [];
  const constraints = req.constraints ?? [];
  const jointNames = req.skeleton.joints.map((j) => j.name);
  const jointSet = new Set(jointNames);
  const skeletonJoints = jointNames.slice(0, 256);

  // 6. Segment types.
  for (const [i, s] of segments.entries()) {
    if (!(model.supported_segments as string[]).includes(s.type)) {
      throw new GatewayError('MG-PRO-006', `Segment ${i} has type "${s.type}", which model "${model.id}" does not support.`, {
        details: { segment: i, supported_segments: model.supported_segments },
      });
    }
  }
  if (segments.some((s) => s.type === 'pose') && segments.length > 1) {
    throw new GatewayError('MG-PRO-015', 'A pose segment must be the only segment of the request.', { details: { field: 'segments' } });
  }

  // 7. Reference payloads and loop rules.
  for (const [i, s] of segments.entries()) {
    if (s.type === 'motion_reference') checkMotionReference(req, model, s, i);
    if (s.type === 'video_reference') {
      const maxSec = model.limits.max_video_seconds;
      const span = (s.end_s ?? 0) - (s.start_s ?? 0);
      if (maxSec !== undefined && span > maxSec) {
        throw new GatewayError('MG-PRO-012', `Video reference ${i} is longer than the model accepts.`, { details: { limit: 'max_video_seconds', max: maxSec } });
      }
      const maxBytes = model.limits.max_video_bytes;
      if (maxBytes !== undefined && s.video.data && Math.floor((s.video.data.length * 3) / 4) > maxBytes) {
        throw new GatewayError('MG-PRO-012', `Video reference ${i} is larger than the model accepts.`, { details: { limit: 'max_video_bytes', max: maxBytes } });
      }
    }
  }
  if (req.options?.loop) {
    if (!model.supports_loop) {
      throw new GatewayError('MG-PRO-007', `Model "${model.id}" does not support options.loop.`, { details: { option: 'loop' } });
    }
    if (segments.length > 1) {
      throw new GatewayError('MG-PRO-007', 'options.loop needs exactly one segment.', { details: { option: 'loop', segments: segments.length } });
    }
  }

  // 8. Constraints.
  const total = totalFramesOf(req);
  for (const [i, c] of constraints.entries()) {
    if (!(model.supported_constraints as string[]).includes(c.type)) {
      throw new GatewayError('MG-PRO-010', `Constraint ${i} has type "${c.type}", which model "${model.id}" does not support.`, {
        details: { constraint: i, supported_constraints: model.supported_constraints },
      });
    }
    const joints = c.type === 'effector_target' ? [c.joint] : c.type === 'pose_keyframe' ? Object.keys(c.joint_rotations) : [];
    const unknown = joints.filter((n) => !jointSet.has(n));
    if (unknown.length) {
      throw new GatewayError('MG-PRO-009', `Constraint ${i} names a joint that is not in the skeleton.`, {
        details: { constraint: i, unknown_joints: unknown.slice(0, 20), skeleton_joints: skeletonJoints },
      });
    }
    // ground_height names places, not frames: no frame range applies (points off the path are not reached).
    const frames = c.type === 'pose_keyframe' ? [c.frame] : c.type === 'ground_height' ? [] : c.frames;
    const bad = frames.find((f) => f > total - 1);
    if (bad !== undefined) {
      throw new GatewayError('MG-PRO-011', `Constraint ${i} refers to frame ${bad}, outside the clip's ${total} frames.`, {
        details: { constraint: i, frame: bad, total_frames: total },
      });
    }
    const quats = c.type === 'effector_target' ? (c.rotations ?? []) : c.type === 'pose_keyframe' ? Object.values(c.joint_rotations) : [];
    if (quats.some((q) => Math.hypot(q[0], q[1], q[2], q[3]) < 1e-6)) {
      throw new GatewayError('MG-REQ-012', `Constraint ${i} has a zero quaternion.`, { details: { constraint: i } });
    }
  }

  // 9. Limits.
  const limits = model.limits;
  const limit = (name: string, max: number, value: number, message: string) => {
    if (value > max) throw new GatewayError('MG-PRO-012', message, { details: { option: name, limit: name, max, value } });
  };
  limit('max_constraints_per_request', limits.max_constraints_per_request, constraints.length, `The request has ${constraints.length} constraints; at most ${limits.max_constraints_per_request} are accepted.`);
  const samples = req.options?.num_samples ?? 1;
  limit('max_num_samples', limits.max_num_samples, samples, `num_samples ${samples} is above the model's limit of ${limits.max_num_samples}.`);
  for (const [i, s] of segments.entries()) {
    if ('prompt' in s && typeof s.prompt === 'string') {
      const n = codePoints(s.prompt);
      if (n > limits.max_prompt_length) {
        throw new GatewayError('MG-PRO-012', `The prompt of segment ${i} has ${n} characters; at most ${limits.max_prompt_length} are accepted.`, {
          details: { option: 'max_prompt_length', limit: 'max_prompt_length', max: limits.max_prompt_length, value: n, segment: i },
        });
      }
    }
  }
  const fps = req.timing?.fps ?? model.fps;
  checkFps(fps, limits);
  const seconds = total / fps;
  if (seconds > limits.max_duration_seconds + 1e-9) {
    throw new GatewayError('MG-PRO-012', `The request lasts ${seconds.toFixed(2)} s; at most ${limits.max_duration_seconds} s are accepted.`, {
      details: { option: 'max_duration_seconds', limit: 'max_duration_seconds', max: limits.max_duration_seconds, value: Number(seconds.toFixed(3)), total_frames: total, fps },
    });
  }
  // The gateway's budgets come last: they weigh the request as a whole.
  const cost = estimateCost(req, model);
  checkRequestBudgets(cost, limits);
  return cost;
}

/** A request that passed validation. */
export interface ValidatedRequest {
  /** The request (for a newer minor: without the fields this server ignored). */
  request: GenerateRequest;
  model: ModelCapabilities;
  cost: RequestCost;
  /**
   * Fields of a newer-minor request this server did not know and ignored, as paths ("segments[0].foo");
   * empty for every other request. The answer lists them (MMCP_motion.x_ignored_fields and the
   * X-MMCP-Ignored-Fields header).
   */
  ignoredFields: string[];
}

/** The whole validation order for one request body; returns the request, its model and its estimated cost. */
export function validateGenerateRequest(body: unknown, catalog: ModelCatalog): ValidatedRequest {
  const { req: request, ignored } = checkShape(body);
  checkVersion(request.protocol_version);
  const model = catalog.model(request.model);
  if (!model) {
    throw new GatewayError('MG-PRO-002', `Model "${request.model.slice(0, 64)}" is not offered by this server.`, {
      details: { available_models: catalog.modelIds() },
    });
  }
  checkSkeletonTopology(request.skeleton.joints);
  if (!model.supports_retargeting && !isCanonicalSkeleton(request.skeleton.joints, model.canonical_skeleton.joints)) {
    throw new GatewayError('MG-PRO-005', `Model "${model.id}" cannot retarget: send its canonical_skeleton verbatim.`, {
      details: { model: model.id },
    });
  }
  const cost = checkAgainstModel(request, model);
  return { request, model, cost, ignoredFields: ignored };
}
