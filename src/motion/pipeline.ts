/**
 * The motion pipeline after an adapter finishes: per sample, fit each segment clip to its frames, compose
 * the segments on one timeline, clean foot skate on the model's own rig, bring the motion onto the request
 * skeleton (cleaned again there when only its proportions differ), close loops, apply constraints (the
 * ground's among them), put a floor-level root under the pelvis and IK bones on their effectors, fit the
 * trajectory, detect foot contacts, and encode the answer as GLB. Each step is a small function of its own module; this file only orders them.
 */
import type { GenerationPlan, PlannedReference, PlannedSegment } from '../spec/plan.js';
import type { Motion, SampleMotion } from '../spec/motion.js';
import { SERVED_VERSION } from '../spec/version.js';
import { GatewayError } from '../spec/errors.js';
import type { Clip } from '../spec/motion.js';
import { clipWorldPositions } from './clip.js';
import { composeSegments } from './compose.js';
import { footContacts } from './contacts.js';
import { encodeGlb, worldRestRotations, type EncodeSample } from './gltf.js';
import { applyRootMotion, needsRootMotion, rootMotionRig, type RootMotionRig } from './root-motion.js';
import { resampleClip } from './resample.js';
import { cleanupFootSkate } from './cleanup.js';
import { applyConstraints } from './constraints.js';
import { contactJoints, mapHumanoid, type HumanoidMap } from './humanoid.js';
import { makeLoop } from './loop.js';
import { fitTrajectory } from './trajectory.js';
import { groundHeightAtProfiles, heightsOverGround } from './ground.js';
import { referenceClip } from './reference.js';
import { refitProportions, retarget } from './retarget.js';
import { skeletonFromWire } from './skeleton.js';
import type { Skeleton } from '../spec/motion.js';

/**
 * A motion_reference segment's clip on the model's skeleton, at the plan's fps with the segment's frames.
 * Without a rig of its own the reference's joint names are the request skeleton's, so that is its rig.
 * The model's placeholder for the segment (adapters generate nothing for it) is replaced by this.
 */
function splicedReference(plan: GenerationPlan, skeleton: Skeleton, seg: PlannedSegment, ref: PlannedReference): Clip {
  return referenceClip({ ...ref, skeleton: ref.skeleton ?? plan.request.skeleton.joints }, skeleton, plan.fps, seg.frames);
}

/** Segment clips at the plan's fps with exactly each segment's frames, composed on one timeline. */
function composeSample(plan: GenerationPlan, skeleton: Skeleton, sample: SampleMotion, references: Map<number, Clip>): Clip {
  const fitted = plan.segments.map((seg, i) => {
    if (!seg.reference) return resampleClip(sample.segments[i], plan.fps, seg.frames);
    let clip = references.get(i);
    if (!clip) references.set(i, (clip = splicedReference(plan, skeleton, seg, seg.reference)));
    // Each sample composes its own copy: composition may write into the clips it is given.
    return { ...clip, rotations: clip.rotations.slice(), rootPositions: clip.rootPositions.slice() };
  });
  return composeSegments(skeleton, fitted, plan.segments.map((s) => s.type), plan.transitionFrames).clip;
}

/** Frames where provider chunks were stitched, on the global timeline. */
function globalChunkBoundaries(plan: GenerationPlan, sample: SampleMotion): number[] {
  const out: number[] = [];
  plan.segments.forEach((seg, i) => {
    for (const f of sample.chunkBoundaries?.[i] ?? []) if (f > 0 && f < seg.frames) out.push(seg.startFrame + f);
  });
  return out;
}

function sameSkeleton(a: Skeleton, b: Skeleton): boolean {
  return a.names.length === b.names.length && a.names.every((n, i) => n === b.names[i] && a.parents[i] === b.parents[i]);
}

/** Rest offsets this close (m, per axis) are one character: the clip plays on either as it is. */
const SAME_OFFSET = 1e-4;

function sameProportions(a: Skeleton, b: Skeleton): boolean {
  for (let i = 0; i < a.offsets.length; i++) if (Math.abs(a.offsets[i] - b.offsets[i]) > SAME_OFFSET) return false;
  return true;
}

/**
 * How the model's skeleton maps onto the request's: identical, the same joints in other proportions, or
 * through the humanoid retargeter. `apply` also cleans foot skate when asked: on the model's rig, and for
 * a refit onto other proportions on the request's rig as well.
 */
interface SkeletonTransfer {
  target: Skeleton;
  targetMap: HumanoidMap | null;
  apply(clip: Clip, cleanup: boolean): { clip: Clip; canonicalToRequest: Record<string, string> | null };
}

function transferFor(source: Skeleton, target: Skeleton): SkeletonTransfer {
  if (sameSkeleton(source, target)) {
    let map: HumanoidMap | undefined;
    const sourceMap = () => (map ??= mapHumanoid(source));
    if (sameProportions(source, target)) {
      return { target, targetMap: null, apply: (clip, cleanup) => ({ clip: cleanup ? cleanupFootSkate(source, sourceMap(), clip) : clip, canonicalToRequest: null }) };
    }
    // The provider's character is not the advertised rig (other bone lengths): played as it is, its hip
    // height on the target's legs would put the feet off the floor. With cleanup, the refit's feet are
    // cleaned again on the target, planted where its own soles are down (as the constraints and the
    // contacts read them later) rather than re-planted on the source's contacts.
    let targetMap: HumanoidMap | undefined;
    const tm = () => (targetMap ??= mapHumanoid(target));
    return {
      target,
      targetMap: null,
      apply: (clip, cleanup) => {
        if (!cleanup) return { clip: refitProportions(source, sourceMap(), clip, target, tm()), canonicalToRequest: null };
        const refit = refitProportions(source, sourceMap(), cleanupFootSkate(source, sourceMap(), clip), target, tm(), { plantFeet: false });
        return { clip: cleanupFootSkate(target, tm(), refit), canonicalToRequest: null };
      },
    };
  }
  let sourceMap: HumanoidMap;
  try {
    sourceMap = mapHumanoid(source);
  } catch (err) {
    // The provider's own rig not mapping is our failure, not the caller's.
    throw new GatewayError('MG-PRV-502', 'The provider\'s rig could not be mapped to a humanoid.', { cause: err });
  }
  const targetMap = mapHumanoid(target);
  return {
    target,
    targetMap,
    apply: (clip, cleanup) => retarget(source, sourceMap, cleanup ? cleanupFootSkate(source, sourceMap, clip) : clip, target, targetMap),
  };
}

/** Contact joints of the answer: the model's predicted ones carried to the request's names, else the mapped feet. */
function contactIndices(plan: GenerationPlan, t: SkeletonTransfer, canonicalToRequest: Record<string, string> | null): number[] {
  const names = plan.model.predicted_contact_joints.map((n) => (canonicalToRequest ? canonicalToRequest[n] : n)).filter(Boolean) as string[];
  const found = names.map((n) => t.target.names.indexOf(n)).filter((i) => i >= 0);
  if (found.length || !t.targetMap) return found;
  return contactJoints(t.targetMap);
}

/**
 * The request-skeleton steps every model shares: loop closure, constraints (with their residuals), and
 * the trajectory fit. Foot-skate cleanup happened before, on the model's own rig, so the retargeter
 * re-plants the feet from clean contacts and nothing here undoes a target placed on a foot.
 */
function finish(
  plan: GenerationPlan,
  target: Skeleton,
  map: () => HumanoidMap,
  clip: Clip,
  positionsOf: (clip: Clip) => Float64Array,
): { clip: Clip; extras: Record<string, unknown> } {
  const extras: Record<string, unknown> = {};
  let out = clip;
  if (plan.loop) out = makeLoop(target, out);
  if (plan.constraints.length) {
    const applied = applyConstraints(target, map(), out, plan.constraints, plan.groundProfiles);
    out = applied.clip;
    extras.x_constraint_residuals = applied.residuals;
  }
  // Floor-level root and IK bones last, on the final body pose: the root under the pelvis on the floor,
  // the IK bones on the feet and hands the constraints and loop left (docs/rigs.md).
  const rig = rootMotionRig(target, map());
  if (needsRootMotion(rig)) {
    const ground = plan.groundProfiles;
    const groundAt = ground ? (x: number, z: number) => groundHeightAtProfiles(ground, x, z) : undefined;
    out = applyRootMotion(target, map(), out, rig, worldRestRotations(target), { loop: plan.loop, groundAt });
    extras.x_root_motion = rootMotionNote(target, rig);
  }
  if (plan.model.supports_trajectory) extras.trajectory = fitTrajectory(target, map(), out, plan.loop, positionsOf(out));
  return { clip: out, extras };
}

/** What the answer's `x_root_motion` says about the floor-level root and the helper bones. */
function rootMotionNote(target: Skeleton, rig: RootMotionRig): Record<string, unknown> {
  const note: Record<string, unknown> = {};
  if (rig.floorRoot) {
    note.root = target.names[rig.floorRoot.root];
    note.translated = [target.names[rig.floorRoot.hips]];
  }
  if (rig.followers.length) {
    note.followers = Object.fromEntries(rig.followers.map(({ joint, follows }) => [
      target.names[joint],
      follows.kind === 'effector' ? target.names[follows.effector] : follows.kind === 'centerOfMass' ? 'center_of_mass' : 'root',
    ]));
  }
  return note;
}

/** Renders a finished motion into the GLB answer for the plan's request. */
export function renderMotion(plan: GenerationPlan, motion: Motion): Uint8Array {
  const { target, samples, mapping } = renderSamples(plan, motion);
  return encodeGlb({
    skeleton: target,
    fps: plan.fps,
    samples,
    motion: {
      version: SERVED_VERSION,
      // The model the request named (a route's id when it named a route; x_served_by names the target).
      model: plan.servedBy ? plan.request.model : plan.model.id,
      canonicalToRequest: mapping,
      extras: {
        // A newer-minor request's fields this version does not know, ignored as the spec's forward rule says.
        ...(plan.ignoredFields?.length ? { x_ignored_fields: plan.ignoredFields } : {}),
        ...(plan.servedBy ? { x_served_by: plan.servedBy } : {}),
      },
    },
  });
}

/** The finished samples of a motion on the plan's request skeleton, before encoding (renderMotion's work). */
export function renderSamples(plan: GenerationPlan, motion: Motion): { target: Skeleton; samples: EncodeSample[]; mapping: Record<string, string> | null } {
  const target = skeletonFromWire(plan.request.skeleton.joints);
  const transfer = transferFor(motion.skeleton, target);
  let targetMap = transfer.targetMap;
  const map = () => (targetMap ??= mapHumanoid(target));
  let mapping: Record<string, string> | null = null;
  /** Spliced references, the same for every sample. */
  const references = new Map<number, Clip>();
  const samples: EncodeSample[] = motion.samples.map((sample, i) => {
    const composed = composeSample(plan, motion.skeleton, sample, references);
    const retargeted = transfer.apply(composed, plan.postProcessing);
    mapping = retargeted.canonicalToRequest;
    // The finished clip's world positions, computed once for the trajectory and the contacts.
    let positions: { clip: Clip; world: Float64Array } | null = null;
    const positionsOf = (c: Clip): Float64Array => {
      if (positions?.clip !== c) positions = { clip: c, world: clipWorldPositions(target, c) };
      return positions.world;
    };
    const { clip, extras } = finish(plan, target, map, retargeted.clip, positionsOf);
    const indices = contactIndices(plan, transfer, retargeted.canonicalToRequest);
    // On uneven ground a foot is down where it is near the ground under it, not near the flat floor.
    const ground = plan.groundProfiles;
    const flags = indices.length
      ? footContacts(target, clip, indices, { worldPositions: ground ? heightsOverGround(positionsOf(clip), ground) : positionsOf(clip) })
      : null;
    return {
      name: `sample_${i}`,
      clip,
      chunkBoundaries: globalChunkBoundaries(plan, sample),
      footContacts: flags ? Object.fromEntries(indices.map((j, k) => [target.names[j], flags[k]])) : null,
      extras: { ...(sample.understood ? { x_understood: sample.understood } : {}), ...extras },
    };
  });
  return { target, samples, mapping };
}

/**
 * Checks, before any work starts, that a request skeleton can receive this model's motion: identical to
 * the canonical skeleton, or a mappable humanoid (400 invalid_skeleton naming what is missing).
 */
export function checkRetargetable(model: GenerationPlan['model'], joints: GenerationPlan['request']['skeleton']['joints']): void {
  const target = skeletonFromWire(joints);
  const canonical = skeletonFromWire(model.canonical_skeleton.joints);
  if (!sameSkeleton(canonical, target)) mapHumanoid(target);
}
