/** Best-effort constraint post-processing any model can use: root paths, the ground, pose keyframes and effector targets, with measured residuals. */
import type { Constraint, EffectorTargetConstraint, PoseKeyframeConstraint, RootPathConstraint } from '../spec/wire.js';
import { clipWorldPositions } from './clip.js';
import type { Clip } from '../spec/motion.js';
import { bodyForward, cloneClip, feetContacts, pinFeet } from './cleanup.js';
import { applyGroundHeight, groundResiduals, type GroundProfiles, type GroundResidual } from './ground-plant.js';
import type { HumanoidMap } from './humanoid.js';
import { solveTwoBone, type TwoBoneChain } from './ik.js';
import { ELBOW, KNEE } from './limits.js';
import {
  qangle, qfromTo, qget, qinv, qmul, qnormalize, qset, qslerp, qy, qyaw, smoothstep, vget, vlerp, vscale, vsub, type Quat, type Vec3,
} from './quat.js';
import { forwardKinematics } from './skeleton.js';
import type { Skeleton } from '../spec/motion.js';

export interface ConstraintResidual {
  constraint: number;
  type: string;
  max_position_error_m: number;
  mean_position_error_m: number;
  max_rotation_error_deg?: number;
  /** ground_height: the lowest sole point's height over the ground under it, any frame (m; negative: under it). */
  lowest_sole_point_m?: number;
  /** ground_height: planted sole-point samples (point × frame) its position errors are measured on. */
  planted_samples?: number;
}

/** Frames over which a keyframe or effector target is blended in and out. */
const WINDOW = 6;
const DEG = 180 / Math.PI;

const wrap = (a: number): number => Math.atan2(Math.sin(a), Math.cos(a));

/** Cubic Hermite through keys (frame, value) with Catmull-Rom tangents and flat ends; held outside the keys. */
function hermiteTrack(keys: readonly number[], values: readonly number[], f: number): number {
  const n = keys.length;
  if (n === 1 || f <= keys[0]) return values[0];
  if (f >= keys[n - 1]) return values[n - 1];
  let i = 0;
  while (i < n - 2 && f > keys[i + 1]) i++;
  const tangent = (k: number): number =>
    k === 0 || k === n - 1 ? 0 : (values[k + 1] - values[k - 1]) / (keys[k + 1] - keys[k - 1]);
  const h = keys[i + 1] - keys[i];
  const u = (f - keys[i]) / h;
  const u2 = u * u, u3 = u2 * u;
  return (2 * u3 - 3 * u2 + 1) * values[i] + (u3 - 2 * u2 + u) * h * tangent(i)
    + (-2 * u3 + 3 * u2) * values[i + 1] + (u3 - u2) * h * tangent(i + 1);
}

/** World rotation (about +Y, qyaw convention) of the hips per frame. */
function facing(skeleton: Skeleton, map: HumanoidMap, clip: Clip): number[] {
  const J = clip.jointCount;
  const pos = new Float64Array(J * 3);
  const world = new Float64Array(J * 4);
  const out: number[] = [];
  for (let f = 0; f < clip.numFrames; f++) {
    forwardKinematics(skeleton, clip.rotations, clip.rootPositions.subarray(f * 3, f * 3 + 3), pos, world, f * J);
    out.push(qyaw(qget(world, map.hips)));
  }
  return out;
}

/** Smoothed horizontal velocity (m/s) per frame of a path [frame][x, z]. */
function velocities(xz: readonly (readonly [number, number])[], fps: number, half = 3): Array<[number, number]> {
  const F = xz.length;
  return xz.map((_, f) => {
    const a = Math.max(0, f - half);
    const b = Math.min(F - 1, f + half);
    if (b === a) return [0, 0];
    return [((xz[b][0] - xz[a][0]) / (b - a)) * fps, ((xz[b][1] - xz[a][1]) / (b - a)) * fps];
  });
}

/** Unwraps a sequence of angles so consecutive values differ by less than π. */
function unwrap(a: number[]): number[] {
  const out = a.slice();
  for (let i = 1; i < out.length; i++) out[i] = out[i - 1] + wrap(out[i] - out[i - 1]);
  return out;
}

function applyRootPath(skeleton: Skeleton, map: HumanoidMap, clip: Clip, c: RootPathConstraint): Clip {
  const out = cloneClip(clip);
  const F = clip.numFrames;
  const keys = c.frames.map((f) => Math.min(F - 1, Math.max(0, Math.round(f))));
  const dx = keys.map((k, i) => c.positions_xz[i][0] - clip.rootPositions[k * 3]);
  const dz = keys.map((k, i) => c.positions_xz[i][1] - clip.rootPositions[k * 3 + 2]);
  const origXZ: Array<[number, number]> = [];
  const newXZ: Array<[number, number]> = [];
  for (let f = 0; f < F; f++) {
    const ox = clip.rootPositions[f * 3], oz = clip.rootPositions[f * 3 + 2];
    const nx = ox + hermiteTrack(keys, dx, f), nz = oz + hermiteTrack(keys, dz, f);
    out.rootPositions[f * 3] = nx;
    out.rootPositions[f * 3 + 2] = nz;
    origXZ.push([ox, oz]);
    newXZ.push([nx, nz]);
  }
  const face = facing(skeleton, map, clip);
  let delta: number[];
  if (c.heading_radians && c.heading_radians.length === keys.length) {
    // MMCP heading is the opposite sign of qyaw.
    const d = unwrap(keys.map((k, i) => wrap(-c.heading_radians![i] - face[k])));
    delta = Array.from({ length: F }, (_, f) => hermiteTrack(keys, d, f));
  } else {
    // Turn the body toward the direction of travel where the new path moves.
    const MOVING = 0.3;
    const ov = velocities(origXZ, clip.fps);
    const nv = velocities(newXZ, clip.fps);
    const raw: Array<number | null> = nv.map((v, f) => {
      if (Math.hypot(v[0], v[1]) < MOVING) return null;
      const newDir = Math.atan2(v[0], v[1]);
      const o = ov[f];
      const oldDir = Math.hypot(o[0], o[1]) >= MOVING ? Math.atan2(o[0], o[1]) : face[f];
      return wrap(newDir - oldDir);
    });
    const first = raw.findIndex((v) => v !== null);
    const filled: number[] = new Array<number>(F).fill(0);
    if (first >= 0) {
      let last = raw[first]!;
      for (let f = 0; f < F; f++) {
        if (raw[f] !== null) last = raw[f]!;
        filled[f] = f < first ? raw[first]! : last;
      }
    }
    const u = unwrap(filled);
    const H = 6;
    delta = u.map((_, f) => {
      let s = 0, n = 0;
      for (let g = Math.max(0, f - H); g <= Math.min(F - 1, f + H); g++) { s += u[g]; n++; }
      return s / n;
    });
  }
  const J = clip.jointCount;
  for (let f = 0; f < F; f++) {
    if (Math.abs(delta[f]) < 1e-9) continue;
    qset(out.rotations, f * J, qnormalize(qmul(qy(delta[f]), qget(out.rotations, f * J))));
  }
  return out;
}

/** Weight and index of the key governing frame f: bridged between close keys, ramped near isolated ones. */
function keyWeight(keys: readonly number[], f: number): { w: number; a: number; b: number; t: number } | null {
  const n = keys.length;
  for (let i = 0; i < n - 1; i++) {
    if (f >= keys[i] && f <= keys[i + 1] && keys[i + 1] - keys[i] <= 2 * WINDOW) {
      const t = keys[i + 1] === keys[i] ? 0 : (f - keys[i]) / (keys[i + 1] - keys[i]);
      return { w: 1, a: i, b: i + 1, t };
    }
  }
  let best = -1;
  for (let i = 0; i < n; i++) if (best < 0 || Math.abs(keys[i] - f) < Math.abs(keys[best] - f)) best = i;
  if (best < 0) return null;
  const w = smoothstep(1 - Math.abs(f - keys[best]) / (WINDOW + 1));
  return w > 0 ? { w, a: best, b: best, t: 0 } : null;
}

function applyPoseKeyframe(skeleton: Skeleton, clip: Clip, c: PoseKeyframeConstraint): Clip {
  const out = cloneClip(clip);
  const J = clip.jointCount;
  const F = clip.numFrames;
  const k = Math.min(F - 1, Math.max(0, Math.round(c.frame)));
  const targets = new Map<number, Quat>();
  for (const [name, q] of Object.entries(c.joint_rotations)) {
    const j = skeleton.names.indexOf(name);
    if (j >= 0) targets.set(j, qnormalize(q));
  }
  const rest = c.fill_mode === 'rest';
  for (let f = Math.max(0, k - WINDOW); f <= Math.min(F - 1, k + WINDOW); f++) {
    const w = smoothstep(1 - Math.abs(f - k) / (WINDOW + 1));
    for (let j = 0; j < J; j++) {
      const target = targets.get(j) ?? (rest ? ([0, 0, 0, 1] as Quat) : null);
      if (!target) continue;
      qset(out.rotations, f * J + j, qslerp(qget(out.rotations, f * J + j), target, w));
    }
    if (c.root_position) {
      const cur = vget(out.rootPositions, f);
      out.rootPositions.set(vlerp(cur, c.root_position, w), f * 3);
    }
  }
  return out;
}

interface EffectorChain {
  chain: TwoBoneChain | null;
  /** For a mid joint (elbow, knee): the upper joint aimed at the target. */
  aim: { upper: number; mid: number } | null;
  arm: boolean;
}

function effectorChain(map: HumanoidMap, joint: number): EffectorChain | null {
  for (const s of [map.left, map.right]) {
    if (joint === s.hand) return { chain: { upper: s.upperArm, mid: s.forearm, end: s.hand }, aim: null, arm: true };
    if (joint === s.foot) return { chain: { upper: s.upperLeg, mid: s.lowerLeg, end: s.foot }, aim: null, arm: false };
    if (joint === s.forearm) return { chain: null, aim: { upper: s.upperArm, mid: s.forearm }, arm: true };
    if (joint === s.lowerLeg) return { chain: null, aim: { upper: s.upperLeg, mid: s.lowerLeg }, arm: false };
  }
  return null;
}

function applyEffector(skeleton: Skeleton, map: HumanoidMap, clip: Clip, c: EffectorTargetConstraint): Clip {
  const joint = skeleton.names.indexOf(c.joint);
  const ec = joint >= 0 ? effectorChain(map, joint) : null;
  if (!ec) return clip;
  const out = cloneClip(clip);
  const J = clip.jointCount;
  const F = clip.numFrames;
  const keys = c.frames.map((f) => Math.min(F - 1, Math.max(0, Math.round(f))));
  const pos = new Float64Array(J * 3);
  const world = new Float64Array(J * 4);
  const lo = Math.max(0, keys[0] - WINDOW);
  const hi = Math.min(F - 1, keys[keys.length - 1] + WINDOW);
  for (let f = lo; f <= hi; f++) {
    const kw = keyWeight(keys, f);
    if (!kw) continue;
    const target = vlerp(c.positions[kw.a], c.positions[kw.b], kw.t);
    const root = out.rootPositions.subarray(f * 3, f * 3 + 3);
    const solved = out.rotations.slice(f * J * 4, (f + 1) * J * 4);
    const touched: number[] = [];
    if (ec.chain) {
      if (c.rotations?.[kw.a]) {
        const ra = qnormalize(c.rotations[kw.a]);
        qset(solved, ec.chain.end, kw.a === kw.b ? ra : qslerp(ra, qnormalize(c.rotations[kw.b]), kw.t));
        touched.push(ec.chain.end);
      }
      const fwd = bodyForward(skeleton, map, out, f);
      // A hinged knee or elbow (rotation about its one axis, within its flexion range), bending in the
      // plane of the body's forward: knees forward, elbows back.
      solveTwoBone(skeleton, solved, 0, root, ec.chain, target, { poleHint: ec.arm ? vscale(fwd, -1) : fwd, hinge: ec.arm ? ELBOW : KNEE });
      touched.push(ec.chain.upper, ec.chain.mid);
    } else if (ec.aim) {
      forwardKinematics(skeleton, solved, root, pos, world, 0);
      const pu = vget(pos, ec.aim.upper);
      const wu = qget(world, ec.aim.upper);
      const parent = skeleton.parents[ec.aim.upper];
      const wp: Quat = parent >= 0 ? qget(world, parent) : [0, 0, 0, 1];
      const wNew = qmul(qfromTo(vsub(vget(pos, ec.aim.mid), pu), vsub(target as Vec3, pu)), wu);
      qset(solved, ec.aim.upper, qmul(qinv(wp), wNew));
      touched.push(ec.aim.upper);
    }
    for (const j of touched) qset(out.rotations, f * J + j, qslerp(qget(out.rotations, f * J + j), qget(solved, j), kw.w));
  }
  return out;
}

const round = (x: number): number => (Number.isFinite(x) ? Math.round(x * 1e5) / 1e5 : x);

/** A ground_height constraint's residual: its planted sole points' distance from the ground (ground-plant.ts groundResiduals). */
function groundResidual(g: GroundResidual, index: number): ConstraintResidual {
  return {
    constraint: index,
    type: 'ground_height',
    max_position_error_m: round(g.max),
    mean_position_error_m: round(g.mean),
    lowest_sole_point_m: round(g.lowest),
    planted_samples: g.planted,
  };
}

function residual(skeleton: Skeleton, map: HumanoidMap, clip: Clip, c: Constraint, index: number, world: Float64Array): ConstraintResidual {
  const J = clip.jointCount;
  const F = clip.numFrames;
  const at = (f: number): number => Math.min(F - 1, Math.max(0, Math.round(f)));
  const errs: number[] = [];
  let rotMax: number | undefined;
  if (c.type === 'root_path') {
    const face = c.heading_radians ? facing(skeleton, map, clip) : null;
    c.frames.forEach((f, i) => {
      const k = at(f);
      errs.push(Math.hypot(clip.rootPositions[k * 3] - c.positions_xz[i][0], clip.rootPositions[k * 3 + 2] - c.positions_xz[i][1]));
      const h = c.heading_radians?.[i];
      if (face && h !== undefined) rotMax = Math.max(rotMax ?? 0, Math.abs(wrap(-h - face[k])) * DEG);
    });
  } else if (c.type === 'effector_target') {
    const j = skeleton.names.indexOf(c.joint);
    c.frames.forEach((f, i) => {
      const k = at(f);
      if (j < 0) return void errs.push(Infinity);
      errs.push(Math.hypot(...vsub(vget(world, k * J + j), c.positions[i])));
      const r = c.rotations?.[i];
      if (r) rotMax = Math.max(rotMax ?? 0, qangle(qget(clip.rotations, k * J + j), r) * DEG);
    });
  } else if (c.type === 'pose_keyframe') {
    const k = at(c.frame);
    rotMax = 0;
    for (const [name, q] of Object.entries(c.joint_rotations)) {
      const j = skeleton.names.indexOf(name);
      if (j >= 0) rotMax = Math.max(rotMax, qangle(qget(clip.rotations, k * J + j), q) * DEG);
    }
    errs.push(c.root_position ? Math.hypot(...vsub(vget(clip.rootPositions, k), c.root_position)) : 0);
  }
  const res: ConstraintResidual = {
    constraint: index,
    type: c.type,
    max_position_error_m: round(errs.length ? Math.max(...errs) : 0),
    mean_position_error_m: round(errs.length ? errs.reduce((a, b) => a + b, 0) / errs.length : 0),
  };
  if (rotMax !== undefined) res.max_rotation_error_deg = Math.round(rotMax * 1000) / 1000;
  return res;
}

/**
 * Applies constraints to a clip (frames on the clip's timeline, positions in world): root paths first
 * (then the feet are re-pinned in their original contact runs), then the ground (the ground_height
 * constraints' profiles, `ground`, default: their points as given; after the root paths because where
 * the feet stand decides the ground under them, before keyframes and effector targets because their
 * positions are the client's world, ground included), pose keyframes, then effector targets.
 * Residuals are measured by forward kinematics on the result.
 */
export function applyConstraints(
  skeleton: Skeleton,
  map: HumanoidMap,
  clip: Clip,
  constraints: readonly Constraint[],
  ground?: GroundProfiles,
): { clip: Clip; residuals: ConstraintResidual[] } {
  let out = cloneClip(clip);
  const roots = constraints.filter((c): c is RootPathConstraint => c.type === 'root_path');
  if (roots.length && clip.numFrames > 1) {
    const contacts = feetContacts(skeleton, map, clip);
    for (const c of roots) out = applyRootPath(skeleton, map, out, c);
    out = pinFeet(skeleton, map, out, contacts);
  }
  const profiles = ground ?? constraints.flatMap((c) => (c.type === 'ground_height' ? [c.points.flat()] : []));
  let planted: ReturnType<typeof applyGroundHeight>['contacts'] | null = null;
  if (profiles.length) {
    const g = applyGroundHeight(skeleton, map, out, profiles);
    out = g.clip;
    planted = g.contacts;
  }
  for (const c of constraints) if (c.type === 'pose_keyframe') out = applyPoseKeyframe(skeleton, out, c);
  for (const c of constraints) if (c.type === 'effector_target') out = applyEffector(skeleton, map, out, c);
  const world = clipWorldPositions(skeleton, out);
  const grounds = planted ? groundResiduals(skeleton, map, out, profiles, planted) : [];
  let g = 0;
  return {
    clip: out,
    residuals: constraints.map((c, i) => (c.type === 'ground_height' ? groundResidual(grounds[g++] ?? { max: 0, mean: 0, lowest: 0, planted: 0 }, i) : residual(skeleton, map, out, c, i, world))),
  };
}
