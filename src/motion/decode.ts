/** Reads provider animation files (GLB, or glTF JSON with embedded data: URIs) into clips on the file's own skeleton, in the protocol's convention. */
import { GatewayError } from '../spec/errors.js';
import type { Clip, Skeleton } from '../spec/motion.js';
import { AccessorReader, fail, int, list, obj, readContainer, ref, type Container, type Json } from './decode-input.js';
import {
  candidateJoints, jointNames, planSkeleton, PoseEvaluator, readNodes, restWorldPositions, warnIfScaled, type SceneNode,
  type SkeletonPlan,
} from './decode-skeleton.js';
import { qinv, qmulAt, qmulInvAt, qnormalizeAt, qslerpNormalizedAt } from './quat.js';

export interface DecodeOptions {
  /** Frame rate of the returned clips. */
  fps: number;
  /** Largest file accepted, data: URI payloads included (default 256 MiB). */
  maxBytes?: number;
  /** Largest frame count of one clip (default 100 000). */
  maxFrames?: number;
}

export interface DecodedAnimationFile {
  /** The file's own skeleton in metres, +Y up, identity rest rotations, parents first. */
  skeleton: Skeleton;
  /** One clip per animation of the file, in file order (empty for a rig without animations). */
  clips: Array<{ name: string; clip: Clip }>;
  /** What the decoder dropped or ignored, for logs (never shown to callers). */
  notes: string[];
}

const DEFAULT_MAX_BYTES = 256 * 2 ** 20;
const DEFAULT_MAX_FRAMES = 100_000;
/** Upper bound on frames × joints over all clips of one file (4 doubles each: 256 MiB). */
const MAX_TOTAL_SAMPLES = 8_000_000;
/** Key times are float32: a key this close past a frame time counts as reached (STEP, frame counts). */
const TIME_EPS = 1e-5;
/** Fraction of a frame forgiven when counting frames (float32 durations round either way). */
const FRAME_EPS = 1e-3;

/**
 * Decodes an animation file as providers deliver it: picks the skin with the most joints (or, without
 * a skin, the tree of animated nodes), folds the whole node tree above it (axis rotations, centimetre
 * scales, animated armature nodes) into the root, bakes non-identity bone rest rotations away
 * (q_j = Wrest[parent]·r_j·Wrest[j]⁻¹) and samples every animation at `opts.fps` from t = 0 to its last
 * key. Unreadable input of any kind is a GatewayError MG-PRV-502 whose message never quotes the file.
 */
export async function decodeAnimationFile(bytes: Uint8Array, opts: DecodeOptions): Promise<DecodedAnimationFile> {
  if (!(opts.fps > 0 && opts.fps <= 1000)) throw new RangeError(`decodeAnimationFile: fps must be in (0, 1000], got ${opts.fps}`);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (bytes.byteLength > maxBytes) {
    throw new GatewayError('MG-PRV-502', 'The provider\'s animation file is larger than the gateway accepts.', {
      details: { reason: 'file_too_large', max_bytes: maxBytes },
    });
  }
  try {
    return decodeDocument(readContainer(bytes), { fps: opts.fps, maxBytes, maxFrames: opts.maxFrames ?? DEFAULT_MAX_FRAMES });
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    // A bug or an allocation failure on hostile input: never let its text reach the caller.
    throw new GatewayError('MG-PRV-502', 'The provider\'s animation file could not be read.', { details: { reason: 'undecodable' }, cause: err });
  }
}

// ---------------------------------------------------------------------------------------------------
// Samplers.

const enum Interp { Linear, Step, Cubic }

interface Sampler {
  times: Float64Array;
  /** Per key `comps` values; for CUBICSPLINE per key [in-tangent, value, out-tangent]. */
  values: Float64Array;
  comps: number;
  interp: Interp;
}

/** Index of the last key at or before `t` (within TIME_EPS), or -1 before the first key. */
function keyAt(times: Float64Array, t: number): number {
  let lo = 0;
  let hi = times.length - 1;
  if (times[0] > t + TIME_EPS) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (times[mid] <= t + TIME_EPS) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Evaluates a sampler at `t` into `out` at offset `o`: LINEAR (slerp for rotations), STEP, or
 * CUBICSPLINE (Hermite with tangents scaled by the key interval; rotations normalized after). Holds
 * the end keys outside the keyed range. Allocates nothing.
 */
/** Interpolation weights this close to a key are the key (see sampleAt). */
const KEY_SNAP = 1e-5;

function sampleAt(s: Sampler, t: number, isRotation: boolean, out: Float64Array, o: number): void {
  const { times, values } = s;
  const n = times.length;
  const c = s.comps;
  const stride = s.interp === Interp.Cubic ? 3 * c : c;
  const valueOffset = s.interp === Interp.Cubic ? c : 0;
  const k = keyAt(times, t);
  if (k < 0 || k >= n - 1 || s.interp === Interp.Step) {
    const at = Math.max(0, k) * stride + valueOffset;
    for (let i = 0; i < c; i++) out[o + i] = values[at + i];
  } else {
    const dt = times[k + 1] - times[k];
    const u = dt > 0 ? Math.min(1, Math.max(0, (t - times[k]) / dt)) : 1;
    const a = k * stride;
    const b = (k + 1) * stride;
    if (s.interp === Interp.Linear) {
      if (isRotation) {
        // A frame on a key (a 60 fps file read at 30 fps: every frame, up to the float32 rounding of its
        // key times) takes the key itself: the slerp would move it by under a 100,000th of the key step.
        if (u < KEY_SNAP) qnormalizeAt(out, o, values, a);
        else if (u > 1 - KEY_SNAP) qnormalizeAt(out, o, values, b);
        else qslerpNormalizedAt(out, o, values, a, values, b, u);
        return;
      }
      for (let i = 0; i < c; i++) out[o + i] = values[a + i] + (values[b + i] - values[a + i]) * u;
    } else {
      const u2 = u * u;
      const u3 = u2 * u;
      const h00 = 2 * u3 - 3 * u2 + 1;
      const h10 = (u3 - 2 * u2 + u) * dt;
      const h01 = -2 * u3 + 3 * u2;
      const h11 = (u3 - u2) * dt;
      for (let i = 0; i < c; i++) {
        out[o + i] = h00 * values[a + c + i] + h10 * values[a + 2 * c + i] + h01 * values[b + c + i] + h11 * values[b + i];
      }
    }
  }
  if (isRotation) qnormalizeAt(out, o, out, o);
}

/** Builds a checked sampler from its JSON (times finite and non-decreasing, enough output keys). */
function readSampler(reader: AccessorReader, raw: Json, comps: number): Sampler {
  const interp = raw.interpolation === undefined || raw.interpolation === 'LINEAR' ? Interp.Linear
    : raw.interpolation === 'STEP' ? Interp.Step
    : raw.interpolation === 'CUBICSPLINE' ? Interp.Cubic
    : fail('an animation sampler has an unknown interpolation');
  const input = reader.read(int(raw.input, 'a sampler input'));
  const output = reader.read(int(raw.output, 'a sampler output'));
  if (input.comps !== 1) fail('animation key times are not scalars');
  if (output.comps !== comps) fail('animation values have the wrong type');
  const times = input.data;
  if (times.length === 0) fail('an animation sampler has no keys');
  for (let i = 1; i < times.length; i++) if (times[i] < times[i - 1]) fail('animation key times decrease');
  if (output.count < times.length * (interp === Interp.Cubic ? 3 : 1)) fail('an animation has fewer values than key times');
  return { times, values: output.data, comps, interp };
}

/** Largest distance of a sampler's key values from `rest` (ignoring tangents). */
function maxDeviation(s: Sampler, rest: ArrayLike<number>): number {
  const stride = s.interp === Interp.Cubic ? 3 * s.comps : s.comps;
  const off = s.interp === Interp.Cubic ? s.comps : 0;
  let max = 0;
  for (let k = 0; k < s.times.length; k++) {
    let d = 0;
    for (let i = 0; i < s.comps; i++) d += (s.values[k * stride + off + i] - rest[i]) ** 2;
    max = Math.max(max, Math.sqrt(d));
  }
  return max;
}

// ---------------------------------------------------------------------------------------------------
// Animations.

interface AnimationChannels {
  name: string;
  rotation: Map<number, Sampler>;
  /** Translations of the root and the nodes above it only. */
  translation: Map<number, Sampler>;
  duration: number;
}

/** Nodes targeted by rotation or translation channels in any animation. */
function animatedNodes(json: Json, nodeCount: number): Set<number> {
  const out = new Set<number>();
  for (const a of list(json.animations, 'animations')) {
    for (const ch of list(obj(a, 'an animation').channels, 'animation channels')) {
      const target = obj(obj(ch, 'an animation channel').target, 'a channel target');
      if (target.node !== undefined && (target.path === 'rotation' || target.path === 'translation')) {
        out.add(ref(target.node, nodeCount, 'an animation channel'));
      }
    }
  }
  return out;
}

/**
 * Reads the channels of one animation that move the skeleton. Rotations count on every node of a
 * chain, translations only on the root and above; the rest are ignored (and noted when they move).
 */
function readAnimation(reader: AccessorReader, raw: Json, index: number, nodes: SceneNode[], plan: SkeletonPlan, notes: string[]): AnimationChannels {
  const rotationNodes = new Set(plan.chains.flat());
  const translationNodes = new Set(plan.chains[0]);
  const samplers = list(raw.samplers, 'animation samplers');
  const name = typeof raw.name === 'string' && raw.name.length > 0 ? raw.name : `animation_${index}`;
  const out: AnimationChannels = { name, rotation: new Map(), translation: new Map(), duration: 0 };
  const movedTranslations: string[] = [];
  let scaled = 0;
  for (const chRaw of list(raw.channels, 'animation channels')) {
    const ch = obj(chRaw, 'an animation channel');
    const target = obj(ch.target, 'a channel target');
    if (target.node === undefined) continue;
    const node = ref(target.node, nodes.length, 'an animation channel');
    if (!rotationNodes.has(node)) continue;
    const samplerRaw = obj(samplers[ref(ch.sampler, samplers.length, 'an animation channel')], 'an animation sampler');
    if (target.path === 'rotation') {
      out.rotation.set(node, readSampler(reader, samplerRaw, 4));
    } else if (target.path === 'translation') {
      const s = readSampler(reader, samplerRaw, 3);
      if (translationNodes.has(node)) out.translation.set(node, s);
      else if (maxDeviation(s, nodes[node].t) > 1e-3 * Math.hypot(...nodes[node].t) + 1e-6) movedTranslations.push(nodes[node].name ?? `node ${node}`);
    } else if (target.path === 'scale') {
      if (maxDeviation(readSampler(reader, samplerRaw, 3), nodes[node].s) > 1e-4 * Math.hypot(...nodes[node].s)) scaled++;
    }
  }
  for (const s of [...out.rotation.values(), ...out.translation.values()]) out.duration = Math.max(out.duration, s.times[s.times.length - 1]);
  if (movedTranslations.length > 0) {
    const shown = movedTranslations.slice(0, 5).join(', ') + (movedTranslations.length > 5 ? ', …' : '');
    notes.push(`${name}: ignored animated translations of ${movedTranslations.length} non-root joints (${shown}); the skeleton keeps its rest offsets`);
  }
  if (scaled > 0) notes.push(`${name}: ignored animated scale on ${scaled} nodes`);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Sampling a clip.

/** Number of frames covering `duration` seconds at `fps`, both ends included. */
function frameCount(duration: number, fps: number): number {
  return Math.floor(duration * fps + FRAME_EPS) + 1;
}

/**
 * Samples one animation into a clip in the protocol convention: Q_j(t) = W_j(t)·Wrest_j⁻¹ is the
 * joint's world rotation measured from a world-aligned rest and q_j = Q_parent⁻¹·Q_j its local one
 * (= Wrest[parent]·r_j·Wrest[j]⁻¹ for a joint directly under its parent); keys kept in one hemisphere.
 * The per-frame loop allocates nothing: samplers write into the pose's packed local arrays and every
 * product lands in the clip's own arrays.
 */
function sampleClip(pose: PoseEvaluator, plan: SkeletonPlan, restInv: Float64Array, anim: AnimationChannels, fps: number, numFrames: number): Clip {
  const J = plan.nodes.length;
  const rotations = new Float64Array(numFrames * J * 4);
  const rootPositions = new Float64Array(numFrames * 3);
  const world = new Float64Array(J * 4);
  const worldFromRest = new Float64Array(J * 4);
  const { r: localR, t: localT } = pose.restLocals();
  const slotOf = pose.slotsByNode(plan);
  const rotationChannels = [...anim.rotation].map(([n, s]) => ({ at: (slotOf.get(n) as number) * 4, s }));
  const translationChannels = [...anim.translation].map(([n, s]) => ({ at: (slotOf.get(n) as number) * 3, s }));
  for (let f = 0; f < numFrames; f++) {
    const t = f / fps;
    for (const ch of rotationChannels) sampleAt(ch.s, t, true, localR, ch.at);
    for (const ch of translationChannels) sampleAt(ch.s, t, false, localT, ch.at);
    pose.evaluate(localR, localT, world, rootPositions, f * 3);
    for (let j = 0; j < J; j++) {
      const o = j * 4;
      qmulAt(worldFromRest, o, world, o, restInv, o);
      const p = plan.parents[j];
      const at = (f * J + j) * 4;
      if (p < 0) qnormalizeAt(rotations, at, worldFromRest, 0);
      else {
        qmulInvAt(rotations, at, worldFromRest, p * 4, worldFromRest, o);
        qnormalizeAt(rotations, at, rotations, at);
      }
      if (f > 0) {
        const prev = at - J * 4;
        const dot = rotations[at] * rotations[prev] + rotations[at + 1] * rotations[prev + 1] + rotations[at + 2] * rotations[prev + 2] + rotations[at + 3] * rotations[prev + 3];
        if (dot < 0) {
          rotations[at] = -rotations[at]; rotations[at + 1] = -rotations[at + 1]; rotations[at + 2] = -rotations[at + 2]; rotations[at + 3] = -rotations[at + 3];
        }
      }
    }
  }
  for (let i = 0; i < rotations.length; i++) if (!Number.isFinite(rotations[i])) fail('its animation evaluates to non-finite rotations');
  for (let i = 0; i < rootPositions.length; i++) if (!Number.isFinite(rootPositions[i])) fail('its animation evaluates to non-finite positions');
  return { fps, numFrames, jointCount: J, rotations, rootPositions };
}

// ---------------------------------------------------------------------------------------------------
// The whole document.

function decodeDocument(container: Container, opts: Required<DecodeOptions>): DecodedAnimationFile {
  const { json } = container;
  const notes: string[] = [];
  const nodes = readNodes(json);
  if (nodes.length === 0) fail('it has no nodes');
  const plan = planSkeleton(nodes, candidateJoints(json, nodes, animatedNodes(json, nodes.length), notes), notes);
  const J = plan.nodes.length;

  const pose = new PoseEvaluator(nodes, plan);
  const restWorld = new Float64Array(J * 4);
  const rest = pose.restLocals();
  pose.evaluate(rest.r, rest.t, restWorld, new Float64Array(3), 0);
  const restInv = new Float64Array(J * 4);
  for (let j = 0; j < J; j++) restInv.set(qinv(restWorld.subarray(j * 4, j * 4 + 4)), j * 4);
  const restPos = restWorldPositions(nodes, plan);
  const offsets = new Float64Array(J * 3);
  for (let j = 0; j < J; j++) {
    const p = plan.parents[j];
    for (let i = 0; i < 3; i++) offsets[j * 3 + i] = restPos[j * 3 + i] - (p < 0 ? 0 : restPos[p * 3 + i]);
  }
  for (let i = 0; i < offsets.length; i++) if (!Number.isFinite(offsets[i])) fail('its rest pose is not finite');
  const restRotations = new Float64Array(J * 4);
  for (let j = 0; j < J; j++) restRotations[j * 4 + 3] = 1;
  const skeleton: Skeleton = { names: jointNames(nodes, plan, notes), parents: plan.parents, offsets, restRotations };
  warnIfScaled(nodes, plan, notes);

  const reader = new AccessorReader(json, container.bin, opts.maxBytes);
  const clips: DecodedAnimationFile['clips'] = [];
  let samples = 0;
  list(json.animations, 'animations').forEach((raw, i) => {
    const anim = readAnimation(reader, obj(raw, 'an animation'), i, nodes, plan, notes);
    if (anim.rotation.size === 0 && anim.translation.size === 0) {
      notes.push(`${anim.name}: skipped (no channel moves the skeleton)`);
      return;
    }
    if (!(anim.duration * opts.fps < opts.maxFrames)) fail('an animation is longer than the gateway accepts');
    const numFrames = frameCount(anim.duration, opts.fps);
    samples += numFrames * J;
    if (samples > MAX_TOTAL_SAMPLES) fail('its animations are larger than the gateway accepts');
    clips.push({ name: anim.name, clip: sampleClip(pose, plan, restInv, anim, opts.fps, numFrames) });
  });
  return { skeleton, clips, notes };
}
