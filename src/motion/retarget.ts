/**
 * Moves a clip from one humanoid skeleton onto another: each mapped bone points where the source bone
 * points (rest-pose differences compensated), the root travels scaled by hip height, and the feet are
 * re-planted with two-bone IK wherever the source's feet are in contact.
 */
import { allocClip } from './clip.js';
import type { Clip } from '../spec/motion.js';
import { contactRuns, footContacts } from './contacts.js';
import type { HumanoidMap, HumanoidSide } from './humanoid.js';
import { solveTwoBone } from './ik.js';
import {
  IDENTITY, qfromTo, qget, qinv, qmul, qnormalize, qrotate, qset, qslerp, smoothstep, vadd, vget, vlen, vscale,
  vset, vsub, type Quat, type Vec3,
} from './quat.js';
import { childrenOf, forwardKinematics, restFloor, restPositions } from './skeleton.js';
import type { Skeleton } from '../spec/motion.js';

export interface RetargetOptions {
  /** Re-plant the feet where the source's feet are planted, and keep them above the floor (default true). */
  plantFeet?: boolean;
  /** Frames over which a planted foot blends in before and out after its contact (default 4). */
  blendFrames?: number;
  /** A source foot may be planted while at most this far above its rest height (m, default 0.03). */
  contactHeight?: number;
  /** … and while moving horizontally slower than this (m/s, default 0.3). */
  contactSpeed?: number;
}

export interface RetargetResult {
  /** The motion on the target skeleton, in the protocol's convention (rotations from a world-aligned rest). */
  clip: Clip;
  /** Source joint name → target joint name, for every role both skeletons have. */
  canonicalToRequest: Record<string, string>;
}

/** `world_t[target] = world_s[source] · c`: a target bone points where its source bone points. */
interface Transfer {
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

interface Plan {
  transfers: Transfer[];
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

function buildPlan(source: Skeleton, sm: HumanoidMap, target: Skeleton, tm: HumanoidMap): Plan {
  const rs = restPositions(source);
  const rt = restPositions(target);
  /** Shortest rotation taking the target's rest bone a→b onto the source's. */
  const compensation = (sa: number, sb: number, ta: number, tb: number): Quat => {
    const ds = vsub(vget(rs, sb), vget(rs, sa));
    const dt = vsub(vget(rt, tb), vget(rt, ta));
    return vlen(ds) < 1e-6 || vlen(dt) < 1e-6 ? [0, 0, 0, 1] : qfromTo(dt, ds);
  };
  const transfers: Transfer[] = [];
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

/**
 * Retargets `clip` (on `source`) onto `target`. Per mapped role the target bone takes the source
 * bone's world rotation times the rest-pose compensation C (the shortest rotation taking the target's
 * rest bone onto the source's), so T-pose and A-pose rigs trade motion freely and twist carries over;
 * spines of different lengths share the source chain's rotation by arc length, then the chain's end is
 * corrected to point where the source's does. The root travels as the source's hips do, scaled by the
 * ratio of hip heights, at the target's own rest height. Target joints the source lacks keep their rest
 * relation to their parent; source joints the target lacks are dropped. Finally the feet are locked
 * wherever the source's feet are planted and kept above the floor (two-bone IK, blended in and out).
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
  const plan = buildPlan(source, sourceMap, target, targetMap);
  const out = transfer(source, sourceMap, clip, target, targetMap, plan);
  if (opts.plantFeet ?? true) plantFeet(source, sourceMap, clip, target, targetMap, out, opts);
  keepHemisphere(out);
  const canonicalToRequest: Record<string, string> = {};
  for (const [s, t] of plan.pairs) canonicalToRequest[source.names[s]] = target.names[t];
  return { clip: out, canonicalToRequest };
}

function transfer(source: Skeleton, sm: HumanoidMap, clip: Clip, target: Skeleton, tm: HumanoidMap, plan: Plan): Clip {
  const Js = source.names.length;
  const Jt = target.names.length;
  const F = clip.numFrames;
  const out = allocClip(Jt, F, clip.fps);
  const ps = new Float64Array(Js * 3);
  const ws = new Float64Array(Js * 4);
  const wt = new Float64Array(Jt * 4);
  const rs = restPositions(source);
  const rt = restPositions(target);
  const ratio = (rt[tm.hips * 3 + 1] - restFloor(target)) / Math.max(1e-6, rs[sm.hips * 3 + 1] - restFloor(source));
  const restHipsS = vget(rs, sm.hips);
  const restHipsT = vget(rt, tm.hips);
  // Joints from the target's root down to its hips: the root is placed so that the hips land where they should.
  const rootToHips: number[] = [];
  for (let j = tm.hips; j > 0 && target.parents[j] >= 0; j = target.parents[j]) rootToHips.push(j);

  for (let f = 0; f < F; f++) {
    forwardKinematics(source, clip.rotations, clip.rootPositions.subarray(f * 3, f * 3 + 3), ps, ws, f * Js);
    for (const tr of plan.transfers) qset(wt, tr.target, qmul(qget(ws, tr.source), tr.c));
    if (plan.spine) spreadSpine(plan, ws, ps, wt, target);
    for (let j = 0; j < Jt; j++) {
      if (plan.mapped[j]) continue;
      const p = target.parents[j];
      if (p < 0) qset(wt, j, IDENTITY);
      else wt.copyWithin(j * 4, p * 4, p * 4 + 4);
    }
    for (let j = 0; j < Jt; j++) localInto(out.rotations, (f * Jt + j) * 4, wt, target.parents[j], j);
    const hips = vadd(restHipsT, vscale(vsub(vget(ps, sm.hips), restHipsS), ratio));
    let root = hips;
    for (const j of rootToHips) root = vsub(root, qrotate(qget(wt, target.parents[j]), vget(target.offsets, j)));
    vset(out.rootPositions, f, root);
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
  const n = Math.hypot(x, y, z, w) || 1;
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
function spreadSpine(plan: Plan, ws: Float64Array, ps: Float64Array, wt: Float64Array, target: Skeleton): void {
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

/**
 * Where the planted point of a foot sits along ankle → toe while both the source's ankle and toe are
 * planted (0: the ankle, 1: the toe). When the heel peels up the foot pivots about this point, so the
 * ankle and the toe each drift by only a share of the roll; once the ankle lifts the toe alone is pinned.
 */
const BOTH_PIVOT = 0.65;

/**
 * Locks each target foot wherever the source's foot is planted. A contact of the source's ankle, toe or
 * both is one episode; within it one point of the target foot is pinned in the world: the ankle while
 * only the ankle is down, the toe while only the toe is down, a point between them while both are (see
 * BOTH_PIVOT). When the planted point changes, the new one is pinned where it is at that moment, so the
 * foot never jumps. An episode starts at the mean transferred position of its first planted point;
 * over a few frames before and after it, the correction needed at its edge fades in and out. Every
 * frame, the foot is raised so that its joints stay at or above their rest heights; where the leg cannot
 * reach, the foot pitches about the ankle to put the toe where it should be (never below its rest
 * height). Legs are solved with two-bone IK, the feet keeping their transferred world rotations.
 */
function plantFeet(
  source: Skeleton,
  sm: HumanoidMap,
  clip: Clip,
  target: Skeleton,
  tm: HumanoidMap,
  out: Clip,
  opts: RetargetOptions,
): void {
  const F = out.numFrames;
  const Jt = target.names.length;
  const B = Math.max(0, opts.blendFrames ?? 4);
  const sides = ['left', 'right'] as const;
  // Per side: the source ankle's and (when both rigs have one) the source toe's contact joints.
  const probes: number[] = [];
  const probeOf = sides.map((side) => {
    const ankle = probes.push(sm[side].foot) - 1;
    const toe = sm[side].toe !== undefined && tm[side].toe !== undefined ? probes.push(sm[side].toe!) - 1 : -1;
    return { ankle, toe };
  });
  const flags = footContacts(source, clip, probes, {
    heightTolerance: opts.contactHeight,
    speedThreshold: opts.contactSpeed,
    // Pin only while the source foot is really still: a sticky contact would freeze the first frames of a lift-off.
    hysteresis: 1,
  });
  const rt = restPositions(target);
  const kids = childrenOf(target);
  // World positions and rotations before any IK: each leg's IK moves only its own chain, so the other
  // foot, the hips and the foot's own world rotation stay valid all along.
  const before = new Float64Array(F * Jt * 3);
  const beforeRot = new Float64Array(F * Jt * 4);
  const pos = new Float64Array(Jt * 3);
  const rot = new Float64Array(Jt * 4);
  for (let f = 0; f < F; f++) {
    forwardKinematics(target, out.rotations, out.rootPositions.subarray(f * 3, f * 3 + 3), pos, rot, f * Jt);
    before.set(pos, f * Jt * 3);
    beforeRot.set(rot, f * Jt * 4);
  }
  const at = (f: number, j: number): Vec3 => vget(before, f * Jt + j);

  const legs = sides.map((side, i) => {
    const T = tm[side];
    const ankleFlags = flags[probeOf[i].ankle];
    const toeFlags = probeOf[i].toe >= 0 ? flags[probeOf[i].toe] : null;
    /** The toe's offset in the foot's frame (zero without a toe: the pivot is then always the ankle). */
    const toeOffset: Vec3 = toeFlags ? vget(target.offsets, T.toe!) : [0, 0, 0];
    const footRot = (f: number): Quat => qget(beforeRot, f * Jt + T.foot);
    /** Ankle → pivot at frame f for pivot fraction s. */
    const lever = (f: number, s: number): Vec3 => vscale(qrotate(footRot(f), toeOffset), s);
    const pivotOf = (f: number): number | null => {
      const a = ankleFlags[f];
      const t = toeFlags ? toeFlags[f] : false;
      return a && t ? BOTH_PIVOT : t ? 1 : a ? 0 : null;
    };
    // Per frame: the ankle goal at full strength and how strongly it applies.
    const weight = new Float64Array(F);
    const goal: Vec3[] = new Array<Vec3>(F);
    const inside = new Uint8Array(F);
    const union = ankleFlags.map((a, f) => a || (toeFlags ? toeFlags[f] : false));
    for (const run of contactRuns(union)) {
      let s = pivotOf(run.start)!;
      // The first planted point rests at its mean transferred position over its first stretch.
      let stretchEnd = run.start;
      while (stretchEnd < run.end && pivotOf(stretchEnd + 1) === s) stretchEnd++;
      let pin: Vec3 = [0, 0, 0];
      for (let f = run.start; f <= stretchEnd; f++) pin = vadd(pin, vadd(at(f, T.foot), lever(f, s)));
      pin = vscale(pin, 1 / (stretchEnd - run.start + 1));
      for (let f = run.start; f <= run.end; f++) {
        const sf = pivotOf(f)!;
        if (sf !== s) {
          // The new planted point stays where it was on the previous frame.
          pin = vadd(goal[f - 1], lever(f - 1, sf));
          s = sf;
        }
        goal[f] = vsub(pin, lever(f, s));
        weight[f] = 1;
        inside[f] = 1;
      }
      for (const [edge, dir] of [[run.start, -1], [run.end, 1]] as const) {
        const shift = vsub(goal[edge], at(edge, T.foot));
        for (let k = 1; k <= B; k++) {
          const f = edge + dir * k;
          if (f < 0 || f >= F || inside[f]) continue;
          // Around the episode the correction needed at its edge fades out, so a swinging foot keeps its own path.
          const w = smoothstep(1 - k / (B + 1));
          if (w > weight[f]) {
            weight[f] = w;
            goal[f] = vadd(at(f, T.foot), shift);
          }
        }
      }
    }
    // The foot and everything below it (toes, end joints) must stay at or above their rest heights.
    const sole: number[] = [];
    for (const stack = [T.foot]; stack.length; ) {
      const j = stack.pop()!;
      sole.push(j);
      stack.push(...kids[j]);
    }
    return { ...legChain(target, T), weight, goal, sole, toe: toeFlags ? T.toe! : -1, toeOffset };
  });

  const chainPos = new Float64Array(Jt * 3);
  const chainRot = new Float64Array(Jt * 4);
  for (let f = 0; f < F; f++) {
    const root = out.rootPositions.subarray(f * 3, f * 3 + 3);
    for (const leg of legs) {
      const cur = at(f, leg.foot);
      const w = leg.weight[f];
      const goal: Vec3 = w > 0 ? vadd(vscale(cur, 1 - w), vscale(leg.goal[f], w)) : [...cur];
      let lift = 0;
      for (const j of leg.sole) lift = Math.max(lift, rt[j * 3 + 1] - (before[(f * Jt + j) * 3 + 1] + goal[1] - cur[1]));
      goal[1] += lift;
      if (vlen(vsub(goal, cur)) < 5e-4) continue;
      const { skeleton, joints, chain, local } = leg;
      let endRot = qget(beforeRot, f * Jt + leg.foot);
      joints.forEach((j, k) => local.set(out.rotations.subarray((f * Jt + j) * 4, (f * Jt + j) * 4 + 4), k * 4));
      if (leg.toe >= 0) {
        // Out of reach (a straight leg pushing off): keep the toe where it should be and pitch the foot
        // less, moving the ankle to the reachable point nearest its goal at the foot's length from the toe.
        forwardKinematics(skeleton, local, root, chainPos, chainRot);
        const hip = vget(chainPos, chain.upper);
        const reach = (vlen(vsub(vget(chainPos, chain.mid), hip)) + vlen(vsub(vget(chainPos, chain.end), vget(chainPos, chain.mid)))) * 0.9999;
        if (vlen(vsub(goal, hip)) > reach) {
          const toeNow = qrotate(endRot, leg.toeOffset);
          const len = vlen(toeNow);
          const toe = vadd(goal, toeNow);
          toe[1] = Math.max(toe[1], rt[leg.toe * 3 + 1]);
          const ankle = reachableAnkle(hip, reach, toe, len, goal);
          if (ankle) {
            endRot = qnormalize(qmul(qfromTo(toeNow, vsub(toe, ankle)), endRot));
            goal[0] = ankle[0];
            goal[1] = ankle[1];
            goal[2] = ankle[2];
          }
        }
      }
      const miss = solveTwoBone(skeleton, local, 0, root, chain, goal, {
        poleHint: qrotate(qget(beforeRot, f * Jt + tm.hips), [0, 0, 1]),
        endWorldRotation: endRot,
      });
      if (miss > 1e-3 && leg.toe >= 0) {
        // Still out of reach: pitch the foot about the ankle it did reach so the toe lands as near its
        // goal as the foot's length allows, never below the toe's rest height.
        forwardKinematics(skeleton, local, root, chainPos, chainRot);
        const ankle = vget(chainPos, chain.end);
        const toeNow = qrotate(endRot, leg.toeOffset);
        const len = vlen(toeNow);
        const want = vsub(vadd(goal, toeNow), ankle);
        const wl = vlen(want);
        if (len > 1e-6 && wl > 1e-6) {
          let dir = vscale(want, 1 / wl);
          const floorY = rt[leg.toe * 3 + 1];
          if (ankle[1] + len * dir[1] < floorY) {
            const y = Math.min(1, (floorY - ankle[1]) / len);
            const h = Math.hypot(dir[0], dir[2]);
            const k = h > 1e-9 ? Math.sqrt(Math.max(0, 1 - y * y)) / h : 0;
            dir = [dir[0] * k, y, dir[2] * k];
          }
          const footWorld = qmul(qfromTo(toeNow, vscale(dir, len)), endRot);
          qset(local, chain.end, qnormalize(qmul(qinv(qget(chainRot, chain.mid)), footWorld)));
        }
      }
      for (const k of [chain.upper, chain.mid, chain.end]) out.rotations.set(local.subarray(k * 4, k * 4 + 4), (f * Jt + joints[k]) * 4);
    }
  }
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
 * The leg's own chain (root … hips … upper leg, knee, foot) as a small skeleton, so that IK runs forward
 * kinematics over a handful of joints instead of the whole rig.
 */
function legChain(target: Skeleton, side: HumanoidSide) {
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
    /** Scratch local rotations of the chain for one frame. */
    local: new Float64Array(joints.length * 4),
  };
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
