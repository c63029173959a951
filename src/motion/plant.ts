/**
 * Re-plants the feet of a retargeted clip: wherever the source's feet are in contact, the target's feet
 * are pinned in the world with two-bone IK (blended in and out), and every frame they stay above the floor.
 */
import type { Clip, Skeleton } from '../spec/motion.js';
import { contactRuns, footContacts, type ContactRun } from './contacts.js';
import type { HumanoidMap, HumanoidSide } from './humanoid.js';
import { solveTwoBone, type TwoBoneChain } from './ik.js';
import {
  qfromTo, qget, qinv, qmul, qnormalize, qrotate, qset, smoothstep, vadd, vget, vlen, vscale, vsub, type Quat, type Vec3,
} from './quat.js';
import { ancestorsOf, childrenOf, clipForwardKinematics, forwardKinematics, restPositions } from './skeleton.js';

export interface PlantOptions {
  /** Frames over which a planted foot blends in before and out after its contact (default 4). */
  blendFrames?: number;
  /** A source foot may be planted while at most this far above its rest height (m, default 0.03). */
  contactHeight?: number;
  /** … and while moving horizontally slower than this (m/s, default 0.3). */
  contactSpeed?: number;
}

/**
 * Where the planted point of a foot sits along ankle → toe while both the source's ankle and toe are
 * planted (0: the ankle, 1: the toe). When the heel peels up the foot pivots about this point, so the
 * ankle and the toe each drift by only a share of the roll; once the ankle lifts the toe alone is pinned.
 */
const BOTH_PIVOT = 0.65;

const SIDES = ['left', 'right'] as const;

/**
 * Locks each target foot of `out` (the transfer of `clip` from `source` onto `target`) wherever the
 * source's foot is planted, in place. A contact of the source's ankle, toe or both is one episode; within
 * it one point of the target foot is pinned in the world: the ankle while only the ankle is down, the toe
 * while only the toe is down, a point between them while both are (see BOTH_PIVOT). When the planted
 * point changes, the new one is pinned where it is at that moment, so the foot never jumps. An episode
 * starts at the mean transferred position of its first planted point; over a few frames before and after
 * it, the correction needed at its edge fades in and out. Every frame, the foot is raised so that its
 * joints stay at or above their rest heights; where the leg cannot reach, the foot pitches about the
 * ankle to put the toe where it should be (never below its rest height). Legs are solved with two-bone
 * IK, the feet keeping their transferred world rotations; only the upper legs, knees and feet change.
 * `sourcePositions`, when given, are the world positions of `clip` (clipWorldPositions), saving a pass.
 */
export function plantFeet(
  source: Skeleton,
  sm: HumanoidMap,
  clip: Clip,
  target: Skeleton,
  tm: HumanoidMap,
  out: Clip,
  opts: PlantOptions = {},
  sourcePositions?: Float64Array,
): void {
  const contacts = sourceFootContacts(source, sm, clip, tm, opts, sourcePositions);
  const blend = Math.max(0, opts.blendFrames ?? 4);
  const kids = childrenOf(target);
  // The legs read only the hips and the feet (with everything below them): pose just those and their ancestors.
  const posed = poseFrames(target, out, ancestorsOf(target, [tm.hips, ...SIDES.flatMap((side) => subtreeOf(kids, tm[side].foot))]));
  const legs = SIDES.map((side, i) => plannedLeg(target, tm[side], tm.hips, contacts[i], posed, kids, blend));
  const rest = restPositions(target);
  for (let f = 0; f < out.numFrames; f++) for (const leg of legs) plantLegAt(leg, f, out, posed, rest);
}

/** Contact flags of one source foot: its ankle's, and its toe's when both rigs have a toe. */
interface FootContacts {
  ankle: boolean[];
  toe: boolean[] | null;
}

/** Per side (left first): when the source's ankle and toe are planted. */
function sourceFootContacts(
  source: Skeleton,
  sm: HumanoidMap,
  clip: Clip,
  tm: HumanoidMap,
  opts: PlantOptions,
  worldPositions: Float64Array | undefined,
): FootContacts[] {
  const probes: number[] = [];
  const probeOf = SIDES.map((side) => {
    const ankle = probes.push(sm[side].foot) - 1;
    const toe = sm[side].toe !== undefined && tm[side].toe !== undefined ? probes.push(sm[side].toe!) - 1 : -1;
    return { ankle, toe };
  });
  const flags = footContacts(source, clip, probes, {
    heightTolerance: opts.contactHeight,
    speedThreshold: opts.contactSpeed,
    // Pin only while the source foot is really still: a sticky contact would freeze the first frames of a lift-off.
    hysteresis: 1,
    worldPositions,
  });
  return probeOf.map(({ ankle, toe }) => ({ ankle: flags[ankle], toe: toe >= 0 ? flags[toe] : null }));
}

/**
 * World positions (F×J×3) and rotations (F×J×4) of every frame before any IK: each leg's IK moves only
 * its own chain, so the other foot, the hips and the foot's own world rotation stay valid all along.
 */
interface PosedFrames {
  numFrames: number;
  jointCount: number;
  positions: Float64Array;
  rotations: Float64Array;
}

/** The pose of every frame, for the joints of `path` (ancestorsOf) only; other slots stay zero. */
function poseFrames(s: Skeleton, clip: Clip, path: Int32Array): PosedFrames {
  const J = s.names.length;
  const F = clip.numFrames;
  const positions = new Float64Array(F * J * 3);
  const rotations = new Float64Array(F * J * 4);
  clipForwardKinematics(s, clip, positions, rotations, path);
  return { numFrames: F, jointCount: J, positions, rotations };
}

/**
 * The leg's own chain (root … hips … upper leg, knee, foot) as a small skeleton, so that IK runs forward
 * kinematics over a handful of joints instead of the whole rig.
 */
interface LegChain {
  skeleton: Skeleton;
  /** Target joint of each chain joint. */
  joints: number[];
  foot: number;
  chain: TwoBoneChain;
  /** Scratch local rotations of the chain for one frame. */
  local: Float64Array;
  /** Scratch world positions and rotations of the chain for one frame. */
  chainPos: Float64Array;
  chainRot: Float64Array;
}

function legChain(target: Skeleton, side: HumanoidSide): LegChain {
  const joints: number[] = [];
  for (let j = side.foot; j >= 0; j = target.parents[j]) joints.unshift(j);
  const skeleton: Skeleton = {
    names: joints.map((j) => target.names[j]),
    parents: Int32Array.from(joints, (_, k) => k - 1),
    offsets: Float64Array.from(joints.flatMap((j) => Array.from(target.offsets.subarray(j * 3, j * 3 + 3)))),
    restRotations: Float64Array.from(joints.flatMap((j) => Array.from(target.restRotations.subarray(j * 4, j * 4 + 4)))),
  };
  const at = (j: number): number => joints.indexOf(j);
  return {
    skeleton,
    joints,
    foot: side.foot,
    chain: { upper: at(side.upperLeg), mid: at(side.lowerLeg), end: at(side.foot) },
    local: new Float64Array(joints.length * 4),
    chainPos: new Float64Array(joints.length * 3),
    chainRot: new Float64Array(joints.length * 4),
  };
}

/** One leg, ready to plant: its chain, where its ankle should go per frame, and what must stay above the floor. */
interface PlannedLeg extends LegChain {
  /** Per frame: how strongly `goal` applies (0: the transferred pose stands). */
  weight: Float64Array;
  /** Per frame with a weight: the ankle goal at full strength. */
  goal: Vec3[];
  /** The foot and every joint below it (toes, end joints). */
  sole: number[];
  /** The target's toe when the source's toe contacts are used, else -1. */
  toe: number;
  /** The toe's offset in the foot's frame (zero without a toe: the pivot is then always the ankle). */
  toeOffset: Vec3;
  /** The target's hips, whose forward axis the knee bends toward. */
  hips: number;
}

function plannedLeg(
  target: Skeleton,
  side: HumanoidSide,
  hips: number,
  contacts: FootContacts,
  posed: PosedFrames,
  kids: number[][],
  blend: number,
): PlannedLeg {
  const toeOffset: Vec3 = contacts.toe ? vget(target.offsets, side.toe!) : [0, 0, 0];
  const J = posed.jointCount;
  const foot: FootTrack = {
    ankle: (f) => vget(posed.positions, f * J + side.foot),
    lever: (f, s) => vscale(qrotate(qget(posed.rotations, f * J + side.foot), toeOffset), s),
    pivot: (f) => pivotAt(contacts, f),
  };
  const { weight, goal } = ankleGoals(contacts, foot, posed.numFrames, blend);
  return {
    ...legChain(target, side),
    weight,
    goal,
    sole: subtreeOf(kids, side.foot),
    toe: contacts.toe ? side.toe! : -1,
    toeOffset,
    hips,
  };
}

/** The transferred motion of one foot, as the pinning reads it. */
interface FootTrack {
  /** The ankle's transferred world position at frame f. */
  ankle(f: number): Vec3;
  /** Ankle → the point at fraction s along ankle → toe, at frame f. */
  lever(f: number, s: number): Vec3;
  /** The planted point at frame f (0: the ankle, 1: the toe, BOTH_PIVOT: both), or null in the air. */
  pivot(f: number): number | null;
}

function pivotAt(contacts: FootContacts, f: number): number | null {
  const a = contacts.ankle[f];
  const t = contacts.toe ? contacts.toe[f] : false;
  return a && t ? BOTH_PIVOT : t ? 1 : a ? 0 : null;
}

/** Per frame: the ankle goal at full strength and how strongly it applies, episode after episode. */
function ankleGoals(contacts: FootContacts, foot: FootTrack, F: number, blend: number): { weight: Float64Array; goal: Vec3[] } {
  const weight = new Float64Array(F);
  const goal: Vec3[] = new Array<Vec3>(F);
  const inside = new Uint8Array(F);
  const union = contacts.ankle.map((a, f) => a || (contacts.toe ? contacts.toe[f] : false));
  for (const run of contactRuns(union)) {
    pinEpisode(run, foot, goal, weight, inside);
    blendEdges(run, foot, goal, weight, inside, blend);
  }
  return { weight, goal };
}

/** Pins the planted point through one episode: first at its mean position, then each new one where it stands. */
function pinEpisode(run: ContactRun, foot: FootTrack, goal: Vec3[], weight: Float64Array, inside: Uint8Array): void {
  let s = foot.pivot(run.start)!;
  let pin = firstPin(run, foot, s);
  for (let f = run.start; f <= run.end; f++) {
    const sf = foot.pivot(f)!;
    if (sf !== s) {
      // The new planted point stays where it was on the previous frame.
      pin = vadd(goal[f - 1], foot.lever(f - 1, sf));
      s = sf;
    }
    goal[f] = vsub(pin, foot.lever(f, s));
    weight[f] = 1;
    inside[f] = 1;
  }
}

/** The first planted point of an episode rests at its mean transferred position over its first stretch. */
function firstPin(run: ContactRun, foot: FootTrack, s: number): Vec3 {
  let stretchEnd = run.start;
  while (stretchEnd < run.end && foot.pivot(stretchEnd + 1) === s) stretchEnd++;
  let pin: Vec3 = [0, 0, 0];
  for (let f = run.start; f <= stretchEnd; f++) pin = vadd(pin, vadd(foot.ankle(f), foot.lever(f, s)));
  return vscale(pin, 1 / (stretchEnd - run.start + 1));
}

/**
 * Around an episode the correction needed at its edge fades out over `blend` frames, so a swinging foot
 * keeps its own path; frames of an episode already pinned, and stronger blends, are left alone.
 */
function blendEdges(run: ContactRun, foot: FootTrack, goal: Vec3[], weight: Float64Array, inside: Uint8Array, blend: number): void {
  const F = weight.length;
  for (const [edge, dir] of [[run.start, -1], [run.end, 1]] as const) {
    const shift = vsub(goal[edge], foot.ankle(edge));
    for (let k = 1; k <= blend; k++) {
      const f = edge + dir * k;
      if (f < 0 || f >= F || inside[f]) continue;
      const w = smoothstep(1 - k / (blend + 1));
      if (w > weight[f]) {
        weight[f] = w;
        goal[f] = vadd(foot.ankle(f), shift);
      }
    }
  }
}

/** `j` and every joint below it. */
function subtreeOf(kids: number[][], j: number): number[] {
  const out: number[] = [];
  for (const stack = [j]; stack.length; ) {
    const k = stack.pop()!;
    out.push(k);
    stack.push(...kids[k]);
  }
  return out;
}

/** Solves one leg at frame f and writes its upper leg, knee and foot rotations into `out`. */
function plantLegAt(leg: PlannedLeg, f: number, out: Clip, posed: PosedFrames, rest: Float64Array): void {
  let goal = ankleGoalAt(leg, f, posed, rest);
  if (!goal) return;
  const J = posed.jointCount;
  const root = out.rootPositions.subarray(f * 3, f * 3 + 3);
  const { skeleton, joints, chain, local } = leg;
  let endRot = qget(posed.rotations, f * J + leg.foot);
  const r = out.rotations;
  for (let k = 0; k < joints.length; k++) {
    const o = (f * J + joints[k]) * 4;
    local[k * 4] = r[o]; local[k * 4 + 1] = r[o + 1]; local[k * 4 + 2] = r[o + 2]; local[k * 4 + 3] = r[o + 3];
  }
  if (leg.toe >= 0) {
    const reached = toeFirstAnkle(leg, root, goal, endRot, rest);
    if (reached) ({ ankle: goal, foot: endRot } = reached);
  }
  const miss = solveTwoBone(skeleton, local, 0, root, chain, goal, {
    poleHint: qrotate(qget(posed.rotations, f * J + leg.hips), [0, 0, 1]),
    endWorldRotation: endRot,
  });
  if (miss > 1e-3 && leg.toe >= 0) pitchToeToward(leg, root, goal, endRot, rest);
  for (const k of [chain.upper, chain.mid, chain.end]) {
    const o = (f * J + joints[k]) * 4;
    r[o] = local[k * 4]; r[o + 1] = local[k * 4 + 1]; r[o + 2] = local[k * 4 + 2]; r[o + 3] = local[k * 4 + 3];
  }
}

/**
 * Where the ankle should be at frame f: its goal blended by the frame's weight, then raised so that the
 * foot and everything below it stay at or above their rest heights; null when that is where it is.
 */
function ankleGoalAt(leg: PlannedLeg, f: number, posed: PosedFrames, rest: Float64Array): Vec3 | null {
  const J = posed.jointCount;
  const P = posed.positions;
  const c = (f * J + leg.foot) * 3;
  const cx = P[c], cy = P[c + 1], cz = P[c + 2];
  const w = leg.weight[f];
  let gx = cx, gy = cy, gz = cz;
  if (w > 0) {
    const g = leg.goal[f];
    gx = cx * (1 - w) + g[0] * w; gy = cy * (1 - w) + g[1] * w; gz = cz * (1 - w) + g[2] * w;
  }
  let lift = 0;
  for (const j of leg.sole) lift = Math.max(lift, rest[j * 3 + 1] - (P[(f * J + j) * 3 + 1] + gy - cy));
  gy += lift;
  return Math.hypot(gx - cx, gy - cy, gz - cz) < 5e-4 ? null : [gx, gy, gz];
}

/**
 * Out of reach (a straight leg pushing off): keeps the toe where it should be and pitches the foot less,
 * moving the ankle to the reachable point nearest its goal at the foot's length from the toe. Returns that
 * ankle and the foot's world rotation, or null when the goal is within reach (or no such point exists).
 */
function toeFirstAnkle(leg: PlannedLeg, root: ArrayLike<number>, goal: Vec3, footRot: Quat, rest: Float64Array): { ankle: Vec3; foot: Quat } | null {
  const { chain, chainPos } = leg;
  forwardKinematics(leg.skeleton, leg.local, root, chainPos, leg.chainRot);
  const hip = vget(chainPos, chain.upper);
  const reach = (vlen(vsub(vget(chainPos, chain.mid), hip)) + vlen(vsub(vget(chainPos, chain.end), vget(chainPos, chain.mid)))) * 0.9999;
  if (!(vlen(vsub(goal, hip)) > reach)) return null;
  const toeNow = qrotate(footRot, leg.toeOffset);
  const len = vlen(toeNow);
  const toe = vadd(goal, toeNow);
  toe[1] = Math.max(toe[1], rest[leg.toe * 3 + 1]);
  const ankle = reachableAnkle(hip, reach, toe, len, goal);
  if (!ankle) return null;
  return { ankle, foot: qnormalize(qmul(qfromTo(toeNow, vsub(toe, ankle)), footRot)) };
}

/**
 * The point within `reach` of `hip` at distance `len` from `toe` nearest `want` (an ankle that a leg can
 * reach with its toe on `toe`), or null when there is none.
 */
function reachableAnkle(hip: Vec3, reach: number, toe: Vec3, len: number, want: Vec3): Vec3 | null {
  const ht = vsub(toe, hip);
  const d = vlen(ht);
  if (d < 1e-9 || d > reach + len || d < Math.abs(reach - len)) return null;
  const n = vscale(ht, 1 / d);
  const a = (reach * reach - len * len + d * d) / (2 * d);
  const r = Math.sqrt(Math.max(0, reach * reach - a * a));
  const c = vadd(hip, vscale(n, a));
  const off = vsub(want, c);
  let u = vsub(off, vscale(n, off[0] * n[0] + off[1] * n[1] + off[2] * n[2]));
  if (vlen(u) < 1e-9) u = vsub(vsub(want, hip), vscale(n, 0));
  const ul = vlen(u);
  if (ul < 1e-9) return null;
  return vadd(c, vscale(u, r / ul));
}

/**
 * Still out of reach after IK: pitches the foot about the ankle it did reach so the toe lands as near its
 * goal as the foot's length allows, never below the toe's rest height (writes the foot's local rotation).
 */
function pitchToeToward(leg: PlannedLeg, root: ArrayLike<number>, goal: Vec3, footRot: Quat, rest: Float64Array): void {
  const { chain, chainPos, chainRot, local } = leg;
  forwardKinematics(leg.skeleton, local, root, chainPos, chainRot);
  const ankle = vget(chainPos, chain.end);
  const toeNow = qrotate(footRot, leg.toeOffset);
  const len = vlen(toeNow);
  const want = vsub(vadd(goal, toeNow), ankle);
  const wl = vlen(want);
  if (!(len > 1e-6 && wl > 1e-6)) return;
  let dir = vscale(want, 1 / wl);
  const floorY = rest[leg.toe * 3 + 1];
  if (ankle[1] + len * dir[1] < floorY) {
    const y = Math.min(1, (floorY - ankle[1]) / len);
    const h = Math.hypot(dir[0], dir[2]);
    const k = h > 1e-9 ? Math.sqrt(Math.max(0, 1 - y * y)) / h : 0;
    dir = [dir[0] * k, y, dir[2] * k];
  }
  const footWorld = qmul(qfromTo(toeNow, vscale(dir, len)), footRot);
  qset(local, chain.end, qnormalize(qmul(qinv(qget(chainRot, chain.mid)), footWorld)));
}
