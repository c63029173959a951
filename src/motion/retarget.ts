/**
 * Moves a clip from one humanoid skeleton onto another: each mapped bone points where the source bone
 * points (rest-pose differences compensated) and the root travels scaled by hip height; the feet are then
 * re-planted where the source's feet are in contact (./plant.ts).
 */
import { allocClip } from './clip.js';
import type { Clip, Skeleton } from '../spec/motion.js';
import type { HumanoidMap, HumanoidSide } from './humanoid.js';
import { plantFeet, type PlantOptions } from './plant.js';
import {
  IDENTITY, qfromTo, qget, qinv, qmul, qmulAt, qnormalize, qrotate, qrotateAt, qset, qslerp, vadd, vget, vlen, vsub,
  type Quat, type Vec3,
} from './quat.js';
import { clipForwardKinematics, restFloor, restPositions } from './skeleton.js';

export interface RetargetOptions extends PlantOptions {
  /** Re-plant the feet where the source's feet are planted, and keep them above the floor (default true). */
  plantFeet?: boolean;
}

export interface RetargetResult {
  /** The motion on the target skeleton, in the protocol's convention (rotations from a world-aligned rest). */
  clip: Clip;
  /** Source joint name → target joint name, for every role both skeletons have. */
  canonicalToRequest: Record<string, string>;
}

/** `world_t[target] = world_s[source] · c`: a target bone points where its source bone points. */
interface BoneTransfer {
  target: number;
  source: number;
  c: Quat;
}

/** A target spine joint whose rotation (relative to the hips) is sampled from the source chain between samples `a` and `b`. */
interface SpineSample {
  target: number;
  a: number;
  b: number;
  t: number;
}

/** Everything the per-frame transfer needs, worked out once from the two rest poses and maps. */
interface TransferPlan {
  transfers: BoneTransfer[];
  /** Target joints whose world rotation the transfer sets (all others follow their parent). */
  mapped: Uint8Array;
  spine: SpineSample[] | null;
  /** Source chain hips, spine… (the samples of `spine`). */
  sourceChain: number[];
  sourceNeck: number;
  targetHips: number;
  /** Target joints from the first spine joint up to the neck, in order, mapped or not. */
  targetPath: number[];
  /** Rest vectors from the first spine joint to the neck (source, target). */
  sourceSpan: Vec3;
  targetSpan: Vec3;
  pairs: Array<[source: number, target: number]>;
}

function planTransfer(source: Skeleton, sm: HumanoidMap, target: Skeleton, tm: HumanoidMap): TransferPlan {
  const rs = restPositions(source);
  const rt = restPositions(target);
  /** Shortest rotation taking the target's rest bone a→b onto the source's. */
  const compensation = (sa: number, sb: number, ta: number, tb: number): Quat => {
    const ds = vsub(vget(rs, sb), vget(rs, sa));
    const dt = vsub(vget(rt, tb), vget(rt, ta));
    return vlen(ds) < 1e-6 || vlen(dt) < 1e-6 ? [0, 0, 0, 1] : qfromTo(dt, ds);
  };
  const transfers: BoneTransfer[] = [];
  const pairs: Array<[number, number]> = [];
  const add = (s: number, t: number, c: Quat): void => {
    transfers.push({ source: s, target: t, c });
    pairs.push([s, t]);
  };

  add(sm.hips, tm.hips, [0, 0, 0, 1]);
  const m = sm.spine.length;
  const n = tm.spine.length;
  let spine: SpineSample[] | null = null;
  if (m === n) {
    for (let k = 0; k < m; k++) {
      const sAim = k < m - 1 ? sm.spine[k + 1] : sm.neck;
      const tAim = k < n - 1 ? tm.spine[k + 1] : tm.neck;
      add(sm.spine[k], tm.spine[k], compensation(sm.spine[k], sAim, tm.spine[k], tAim));
    }
  } else {
    transfers.push({ source: sm.chest, target: tm.chest, c: compensation(sm.chest, sm.neck, tm.chest, tm.neck) });
    spine = spineSamples(rs, [sm.hips, ...sm.spine, sm.neck], rt, [tm.hips, ...tm.spine, tm.neck]);
    // Name pairs along chains of different lengths: each joint of the shorter chain to the nearest of the longer.
    const [short, long, flip] = m <= n ? [sm.spine, tm.spine, false] : [tm.spine, sm.spine, true];
    short.forEach((j, i) => {
      const k = short.length === 1 ? long.length - 1 : Math.round((i * (long.length - 1)) / (short.length - 1));
      pairs.push(flip ? [long[k], j] : [j, long[k]]);
    });
  }
  add(sm.neck, tm.neck, compensation(sm.neck, sm.head, tm.neck, tm.head));
  add(sm.head, tm.head, [0, 0, 0, 1]);

  for (const side of ['left', 'right'] as const) {
    const S = sm[side];
    const T = tm[side];
    const both = (role: keyof HumanoidSide): boolean => S[role] !== undefined && T[role] !== undefined;
    if (both('shoulder')) add(S.shoulder!, T.shoulder!, compensation(S.shoulder!, S.upperArm, T.shoulder!, T.upperArm));
    add(S.upperArm, T.upperArm, compensation(S.upperArm, S.forearm, T.upperArm, T.forearm));
    const forearm = compensation(S.forearm, S.hand, T.forearm, T.hand);
    add(S.forearm, T.forearm, forearm);
    // The hand keeps the target's rest angle to its forearm: it takes the forearm's compensation.
    add(S.hand, T.hand, forearm);
    add(S.upperLeg, T.upperLeg, compensation(S.upperLeg, S.lowerLeg, T.upperLeg, T.lowerLeg));
    add(S.lowerLeg, T.lowerLeg, compensation(S.lowerLeg, S.foot, T.lowerLeg, T.foot));
    add(S.foot, T.foot, both('toe') ? compensation(S.foot, S.toe!, T.foot, T.toe!) : [0, 0, 0, 1]);
    if (both('toe')) add(S.toe!, T.toe!, [0, 0, 0, 1]);
  }

  const mapped = new Uint8Array(target.names.length);
  for (const t of transfers) mapped[t.target] = 1;
  for (const s of spine ?? []) mapped[s.target] = 1;

  const targetPath: number[] = [];
  for (let j = tm.neck; j >= 0 && j !== tm.hips; j = target.parents[j]) targetPath.push(j);
  targetPath.reverse();
  return {
    transfers,
    mapped,
    spine,
    sourceChain: [sm.hips, ...sm.spine],
    sourceNeck: sm.neck,
    targetHips: tm.hips,
    targetPath,
    sourceSpan: vsub(vget(rs, sm.neck), vget(rs, sm.spine[0])),
    targetSpan: vsub(vget(rt, tm.neck), vget(rt, tm.spine[0])),
    pairs,
  };
}

/**
 * Spreads a spine over chains of different lengths by arc length: each bone of a chain (hips, spine…,
 * up to the neck) covers a stretch of [0, 1]; a target bone takes the source rotation at the middle
 * of its stretch, interpolated between the middles of the source bones.
 */
function spineSamples(rs: Float64Array, sChain: number[], rt: Float64Array, tChain: number[]): SpineSample[] {
  const mids = (rest: Float64Array, chain: number[]): number[] => {
    const u = [0];
    for (let i = 1; i < chain.length; i++) u.push(u[i - 1] + vlen(vsub(vget(rest, chain[i]), vget(rest, chain[i - 1]))));
    const total = u[u.length - 1] || 1;
    return chain.slice(0, -1).map((_, i) => (u[i] + u[i + 1]) / (2 * total));
  };
  const sm = mids(rs, sChain);
  const tmid = mids(rt, tChain);
  const out: SpineSample[] = [];
  // Target chain index 0 is the hips; the last sampled bone is the chest, which is transferred directly.
  for (let k = 1; k < tChain.length - 2; k++) {
    const v = tmid[k];
    let a = sm.length - 1;
    let b = a;
    let t = 0;
    if (v <= sm[0]) a = b = 0;
    else {
      for (let i = 0; i < sm.length - 1; i++) {
        if (v < sm[i + 1]) {
          a = i;
          b = i + 1;
          t = (v - sm[i]) / (sm[i + 1] - sm[i]);
          break;
        }
      }
    }
    out.push({ target: tChain[k], a, b, t });
  }
  return out;
}

/** World positions (F×J×3) and rotations (F×J×4) of every joint of every frame of `clip`. */
function worldPose(s: Skeleton, clip: Clip): { positions: Float64Array; rotations: Float64Array } {
  const positions = new Float64Array(clip.numFrames * clip.jointCount * 3);
  const rotations = new Float64Array(clip.numFrames * clip.jointCount * 4);
  clipForwardKinematics(s, clip, positions, rotations);
  return { positions, rotations };
}

/**
 * Retargets `clip` (on `source`) onto `target`. Per mapped role the target bone takes the source
 * bone's world rotation times the rest-pose compensation C (the shortest rotation taking the target's
 * rest bone onto the source's), so T-pose and A-pose rigs trade motion freely and twist carries over;
 * spines of different lengths share the source chain's rotation by arc length, then the chain's end is
 * corrected to point where the source's does. The root travels as the source's hips do, scaled by the
 * ratio of hip heights, at the target's own rest height. Target joints the source lacks keep their rest
 * relation to their parent; source joints the target lacks are dropped. Finally the feet are re-planted
 * on the foot model (./plant.ts): each sole point (heel, ball, toe tip) the source has down is held still
 * on the target's floor, the foot rolling between them, no sole point under the floor, the legs solved
 * by two-bone IK with hinged knees and a soft reach (blended in and out around each contact).
 * The target's rest directions come from its offsets; its output rotations use the protocol's
 * convention whatever its `restRotations`.
 */
export function retarget(
  source: Skeleton,
  sourceMap: HumanoidMap,
  clip: Clip,
  target: Skeleton,
  targetMap: HumanoidMap,
  opts: RetargetOptions = {},
): RetargetResult {
  if (clip.jointCount !== source.names.length) {
    throw new Error(`retarget: the clip has ${clip.jointCount} joints, the source skeleton ${source.names.length}`);
  }
  const plan = planTransfer(source, sourceMap, target, targetMap);
  // One forward-kinematics pass over the source clip serves the transfer and the contacts the feet are planted from.
  const sourcePose = worldPose(source, clip);
  const out = transferClip(source, sourceMap, clip, target, targetMap, plan, sourcePose);
  if (opts.plantFeet ?? true) plantFeet(source, sourceMap, clip, target, targetMap, out, opts, sourcePose);
  keepHemisphere(out);
  const canonicalToRequest: Record<string, string> = {};
  for (const [s, t] of plan.pairs) canonicalToRequest[source.names[s]] = target.names[t];
  return { clip: out, canonicalToRequest };
}

/**
 * Moves `clip` between two rigs with the same joints (names, parents) but other proportions, such as a
 * provider's character and the model's advertised canonical rig. Every joint keeps its local rotation,
 * so joints the humanoid map leaves out (fingers) still move. The root travels as the source's hips do,
 * scaled by the ratio of hip heights, at the target's own rest height. The feet are then re-planted on
 * the target's floor where the source's are down, as retarget() does. Without this the source's hip
 * height on longer target legs would put the soles under the floor.
 */
export function refitProportions(
  source: Skeleton,
  sourceMap: HumanoidMap,
  clip: Clip,
  target: Skeleton,
  targetMap: HumanoidMap,
  opts: RetargetOptions = {},
): Clip {
  const J = target.names.length;
  if (clip.jointCount !== source.names.length || J !== source.names.length) {
    throw new Error(`refitProportions: the clip has ${clip.jointCount} joints, the skeletons ${source.names.length} and ${J}`);
  }
  const F = clip.numFrames;
  const sourcePose = worldPose(source, clip);
  const out: Clip = { ...clip, rotations: clip.rotations.slice(), rootPositions: new Float64Array(F * 3) };
  const rs = restPositions(source);
  const rt = restPositions(target);
  const hips = sourceMap.hips;
  const ratio = (rt[targetMap.hips * 3 + 1] - restFloor(target)) / Math.max(1e-6, rs[hips * 3 + 1] - restFloor(source));
  // Joints from the root down to the hips: the root is placed so that the hips land where they should.
  const rootToHips: number[] = [];
  for (let j = targetMap.hips; j > 0 && target.parents[j] >= 0; j = target.parents[j]) rootToHips.push(j);
  const d = new Float64Array(3);
  for (let f = 0; f < F; f++) {
    const h = (f * J + hips) * 3;
    const o = f * 3;
    for (let k = 0; k < 3; k++) out.rootPositions[o + k] = rt[targetMap.hips * 3 + k] + (sourcePose.positions[h + k] - rs[hips * 3 + k]) * ratio;
    // Same local rotations, so the same world rotations: the source's carry the target's offsets.
    for (const j of rootToHips) {
      qrotateAt(d, 0, sourcePose.rotations, (f * J + target.parents[j]) * 4, target.offsets, j * 3);
      for (let k = 0; k < 3; k++) out.rootPositions[o + k] -= d[k];
    }
  }
  if (opts.plantFeet ?? true) plantFeet(source, sourceMap, clip, target, targetMap, out, opts, sourcePose);
  keepHemisphere(out);
  return out;
}

/** The clip on the target skeleton, before the feet are re-planted: every frame's bone rotations and root position. */
function transferClip(
  source: Skeleton,
  sm: HumanoidMap,
  clip: Clip,
  target: Skeleton,
  tm: HumanoidMap,
  plan: TransferPlan,
  sourcePose: { positions: Float64Array; rotations: Float64Array },
): Clip {
  const Js = source.names.length;
  const Jt = target.names.length;
  const F = clip.numFrames;
  const out = allocClip(Jt, F, clip.fps);
  const { positions: psAll, rotations: wsAll } = sourcePose;
  const wt = new Float64Array(Jt * 4);
  const rs = restPositions(source);
  const rt = restPositions(target);
  const ratio = (rt[tm.hips * 3 + 1] - restFloor(target)) / Math.max(1e-6, rs[sm.hips * 3 + 1] - restFloor(source));
  const restHipsS = vget(rs, sm.hips);
  const restHipsT = vget(rt, tm.hips);
  // Joints from the target's root down to its hips: the root is placed so that the hips land where they should.
  const rootToHips: number[] = [];
  for (let j = tm.hips; j > 0 && target.parents[j] >= 0; j = target.parents[j]) rootToHips.push(j);
  const transfers = plan.transfers;
  const compensations = new Float64Array(transfers.length * 4);
  transfers.forEach((tr, i) => qset(compensations, i, tr.c));
  // One frame's source pose, for the spine spread (which reads whole frames).
  const ps = plan.spine ? new Float64Array(Js * 3) : null;
  const ws = plan.spine ? new Float64Array(Js * 4) : null;
  const d = new Float64Array(3);

  for (let f = 0; f < F; f++) {
    const wb = f * Js * 4;
    for (let i = 0; i < transfers.length; i++) qmulAt(wt, transfers[i].target * 4, wsAll, wb + transfers[i].source * 4, compensations, i * 4);
    if (ps && ws) {
      ps.set(psAll.subarray(f * Js * 3, (f + 1) * Js * 3));
      ws.set(wsAll.subarray(wb, wb + Js * 4));
      spreadSpine(plan, ws, ps, wt, target);
    }
    for (let j = 0; j < Jt; j++) {
      if (plan.mapped[j]) continue;
      const p = target.parents[j];
      if (p < 0) qset(wt, j, IDENTITY);
      else {
        wt[j * 4] = wt[p * 4]; wt[j * 4 + 1] = wt[p * 4 + 1]; wt[j * 4 + 2] = wt[p * 4 + 2]; wt[j * 4 + 3] = wt[p * 4 + 3];
      }
    }
    for (let j = 0; j < Jt; j++) localInto(out.rotations, (f * Jt + j) * 4, wt, target.parents[j], j);
    // The hips travel as the source's do, scaled; the root sits so that the hips land there.
    const h = (f * Js + sm.hips) * 3;
    const o = f * 3;
    const root = out.rootPositions;
    for (let k = 0; k < 3; k++) root[o + k] = restHipsT[k] + (psAll[h + k] - restHipsS[k]) * ratio;
    for (const j of rootToHips) {
      qrotateAt(d, 0, wt, target.parents[j] * 4, target.offsets, j * 3);
      for (let k = 0; k < 3; k++) root[o + k] = root[o + k] - d[k];
    }
  }
  return out;
}

/**
 * Writes the unit local rotation world[parent]⁻¹ · world[j] (world[j] for the root) at `out[o]`, in place:
 * this runs frames × joints times.
 */
function localInto(out: Float64Array, o: number, world: Float64Array, parent: number, j: number): void {
  const b = j * 4;
  const bx = world[b], by = world[b + 1], bz = world[b + 2], bw = world[b + 3];
  let x = bx, y = by, z = bz, w = bw;
  if (parent >= 0) {
    const a = parent * 4;
    const ax = -world[a], ay = -world[a + 1], az = -world[a + 2], aw = world[a + 3];
    x = aw * bx + ax * bw + ay * bz - az * by;
    y = aw * by - ax * bz + ay * bw + az * bx;
    z = aw * bz + ax * by - ay * bx + az * bw;
    w = aw * bw - ax * bx - ay * by - az * bz;
  }
  const n = Math.sqrt(x * x + y * y + z * z + w * w) || 1;
  out[o] = x / n;
  out[o + 1] = y / n;
  out[o + 2] = z / n;
  out[o + 3] = w / n;
}

/**
 * Sets the target spine (chest excluded: it was transferred) from the source chain's rotations relative
 * to the hips, then turns the chain about its first joint so that first-spine-joint → neck points as
 * the source's does (relative to the hips), keeping the chest's world rotation.
 */
function spreadSpine(plan: TransferPlan, ws: Float64Array, ps: Float64Array, wt: Float64Array, target: Skeleton): void {
  const sc = plan.sourceChain;
  const hipsS = qget(ws, sc[0]);
  const toHips = qinv(hipsS);
  const rel = sc.map((j) => qmul(toHips, qget(ws, j)));
  const hipsT = qget(wt, plan.targetHips);
  for (const s of plan.spine!) qset(wt, s.target, qmul(hipsT, qslerp(rel[s.a], rel[s.b], s.t)));

  // Where the source chain points now, relative to its hips, applied to the target's rest span.
  const spanNow = qrotate(toHips, vsub(vget(ps, plan.sourceNeck), vget(ps, sc[1])));
  const want = qrotate(hipsT, qrotate(qfromTo(plan.sourceSpan, spanNow), plan.targetSpan));
  const path = plan.targetPath;
  // World rotations along the path; joints there without a role follow their parent.
  const pathWorld: Quat[] = new Array<Quat>(path.length);
  const world = (j: number, i: number): Quat => (plan.mapped[j] ? qget(wt, j) : i > 0 ? pathWorld[i - 1] : hipsT);
  // Turning the lower joints also moves the chest, so two rounds bring the span close enough.
  for (let iter = 0; iter < 2; iter++) {
    let p: Vec3 = [0, 0, 0];
    for (let i = 0; i < path.length; i++) {
      if (i > 0) p = vadd(p, qrotate(pathWorld[i - 1], vget(target.offsets, path[i])));
      pathWorld[i] = world(path[i], i);
    }
    const fix = qfromTo(p, want);
    for (const s of plan.spine!) qset(wt, s.target, qnormalize(qmul(fix, qget(wt, s.target))));
  }
}

/** Keeps every joint's keys in one hemisphere (dot with the previous key ≥ 0), so LINEAR sampling never takes the long way. */
function keepHemisphere(clip: Clip): void {
  const J = clip.jointCount;
  const r = clip.rotations;
  for (let o = J * 4; o < clip.numFrames * J * 4; o += 4) {
    const p = o - J * 4;
    if (r[o] * r[p] + r[o + 1] * r[p + 1] + r[o + 2] * r[p + 2] + r[o + 3] * r[p + 3] < 0) {
      r[o] = -r[o];
      r[o + 1] = -r[o + 1];
      r[o + 2] = -r[o + 2];
      r[o + 3] = -r[o + 3];
    }
  }
}
