/**
 * Floor-level roots and IK bones, as game engines read them (docs/rigs.md).
 *
 * A floor-level root (Unreal's `root` above `pelvis`, or any root joint standing on the floor with the
 * hips as its child) is the character's ground position: after this step it stays on the floor under
 * the pelvis, carrying the travel (the pelvis's horizontal path, smoothed so the bob and sway are not in
 * it) and the heading (the body's yaw, smoothed). The pelvis keeps its world pose exactly: it carries
 * the bob, the sway and the rest of the rotation through an animated local translation
 * (`Clip.jointTranslations`, written to the glTF as a translation channel on the pelvis node).
 *
 * IK bones follow their effectors: each frame `ik_foot_l/r` take the world transform of the foot,
 * `ik_hand_gun` and `ik_hand_r` the right hand's, `ik_hand_l` the left hand's (Unreal's chain:
 * ik_hand_root → ik_hand_gun → ik_hand_l/r); the IK roots and `interaction` stay on the root;
 * `center_of_mass` sits at the body's centre of mass (segment-mass estimate), turned with the heading.
 */
import type { Clip, Skeleton } from '../spec/motion.js';
import type { HumanoidMap } from './humanoid.js';
import { nameWords } from './joint-names.js';
import { clipForwardKinematics, restPositions } from './skeleton.js';
import { qmulAt, qmulInvAt, qrotateAt } from './quat.js';

/** What a follower joint follows each frame. */
export type FollowerKind =
  | { kind: 'effector'; effector: number }
  | { kind: 'centerOfMass' }
  | { kind: 'root' };

export interface Follower {
  joint: number;
  follows: FollowerKind;
}

/** How a rig's root and helper bones are animated. */
export interface RootMotionRig {
  /** The floor-level root and the hips below it, or null when the root is the hips (or above them, off the floor). */
  floorRoot: { root: number; hips: number; floorY: number } | null;
  /** IK, interaction and centre-of-mass bones, ascending. */
  followers: Follower[];
}

/** Smoothing of the root's travel and heading: Gaussian sigma (s) of a local-linear fit. */
const ROOT_SMOOTHING_SECONDS = 0.2;

/** Segment masses (fractions of body mass, after Dempster) placed on mapped joints for the centre of mass. */
function massPoints(map: HumanoidMap): Array<[a: number, b: number, mass: number]> {
  const out: Array<[number, number, number]> = [
    [map.hips, map.chest, 0.5],
    [map.head, map.head, 0.081],
  ];
  for (const s of [map.left, map.right]) {
    out.push([s.upperArm, s.forearm, 0.028], [s.forearm, s.hand, 0.016], [s.hand, s.hand, 0.006]);
    out.push([s.upperLeg, s.lowerLeg, 0.1], [s.lowerLeg, s.foot, 0.0465], [s.foot, s.toe ?? s.foot, 0.0145]);
  }
  return out;
}

/**
 * Reads a rig's floor-level root and helper bones from structure and names. The root counts as floor
 * level when it is not the hips, the hips are its child, and at rest it stands no higher above the
 * lowest body joint than a tenth of the hips' height (so a `j00` at the feet counts without a name).
 * Helper bones are recognised by name: `ik` with `foot` or `hand` and a side (or `gun`: the right
 * hand), `ik…root` and `interaction` (stay on the root), `center_of_mass` / `com`.
 */
export function rootMotionRig(s: Skeleton, map: HumanoidMap): RootMotionRig {
  const J = s.names.length;
  const rest = restPositions(s);
  const hips = map.hips;
  let floorRoot: RootMotionRig['floorRoot'] = null;
  if (hips !== 0 && s.parents[hips] === 0) {
    let lowest = Infinity;
    for (let j = 1; j < J; j++) lowest = Math.min(lowest, rest[j * 3 + 1]);
    const rootY = rest[1];
    const hipsY = rest[hips * 3 + 1];
    if (hipsY > rootY && rootY - lowest <= 0.1 * (hipsY - Math.min(lowest, rootY))) floorRoot = { root: 0, hips, floorY: rootY };
  }
  const followers: Follower[] = [];
  for (let j = 1; j < J; j++) {
    const f = followerOf(s.names[j], map);
    if (f) followers.push({ joint: j, follows: f });
  }
  return { floorRoot, followers };
}

function followerOf(name: string, map: HumanoidMap): FollowerKind | null {
  const w = nameWords(name);
  const has = (...xs: string[]) => xs.some((x) => w.includes(x));
  const side = has('l', 'left') ? map.left : has('r', 'right') ? map.right : null;
  if (has('ik')) {
    if (has('pole', 'target', 'ctrl', 'control', 'knee', 'elbow')) return null;
    if (has('root')) return { kind: 'root' };
    if (has('foot', 'ankle') && side) return { kind: 'effector', effector: side.foot };
    if (has('hand', 'wrist')) {
      if (has('gun')) return { kind: 'effector', effector: map.right.hand };
      if (side) return { kind: 'effector', effector: side.hand };
    }
    return null;
  }
  if (w.length === 1 && w[0] === 'interaction') return { kind: 'root' };
  if ((has('center', 'centre') && has('mass')) || (w.length === 1 && w[0] === 'com')) return { kind: 'centerOfMass' };
  return null;
}

/** True when the step changes something on this rig. */
export function needsRootMotion(rig: RootMotionRig): boolean {
  return rig.floorRoot !== null || rig.followers.length > 0;
}

/**
 * Local-linear smoothing with a Gaussian kernel (sigma in frames), in place over `n` values of stride
 * `stride` starting at `at`: a straight line passes unchanged, also at the ends of the clip.
 */
function smoothLocalLinear(v: Float64Array, n: number, stride: number, at: number, sigma: number, tmp: Float64Array): void {
  const R = Math.ceil(3 * sigma);
  for (let t = 0; t < n; t++) {
    let s0 = 0, s1 = 0, s2 = 0, t0 = 0, t1 = 0;
    for (let k = Math.max(0, t - R); k <= Math.min(n - 1, t + R); k++) {
      const d = k - t;
      const w = Math.exp((-0.5 * d * d) / (sigma * sigma));
      const y = v[k * stride + at];
      s0 += w; s1 += w * d; s2 += w * d * d; t0 += w * y; t1 += w * d * y;
    }
    const den = s0 * s2 - s1 * s1;
    tmp[t] = Math.abs(den) > 1e-12 ? (s2 * t0 - s1 * t1) / den : t0 / s0;
  }
  for (let t = 0; t < n; t++) v[t * stride + at] = tmp[t];
}

/**
 * Smoothing of a cycle (a clip made to loop, whose last frame repeats the first one cycle on): the
 * straight line from the first to the last value is kept, and what is left over it, periodic over the
 * first n − 1 frames, is averaged with a wrapped Gaussian. The change from first to last value stays
 * exact, so the smoothed path continues seamlessly into the next cycle.
 */
function smoothCycle(v: Float64Array, n: number, stride: number, at: number, sigma: number, tmp: Float64Array): void {
  const N = n - 1;
  if (N < 2) return;
  const v0 = v[at], d = v[N * stride + at] - v0;
  const res = (k: number): number => v[k * stride + at] - v0 - (d * k) / N;
  const R = Math.ceil(3 * sigma);
  for (let t = 0; t < N; t++) {
    let s0 = 0, t0 = 0;
    for (let o = -R; o <= R; o++) {
      const w = Math.exp((-0.5 * o * o) / (sigma * sigma));
      s0 += w;
      t0 += w * res((((t + o) % N) + N) % N);
    }
    tmp[t] = t0 / s0;
  }
  for (let t = 0; t < n; t++) v[t * stride + at] = v0 + (d * t) / N + tmp[t % N];
}

/**
 * The body's heading per frame (radians about +Y, 0 facing +Z, unwrapped): the yaw of the forward
 * direction square to the hips' and shoulders' left-right line.
 */
export function bodyHeadings(map: HumanoidMap, world: Float64Array, J: number, F: number, out = new Float64Array(F)): Float64Array {
  const pairs: Array<[number, number]> = [[map.left.upperLeg, map.right.upperLeg], [map.left.upperArm, map.right.upperArm]];
  let prev = 0;
  for (let f = 0; f < F; f++) {
    let lx = 0, lz = 0;
    for (const [a, b] of pairs) {
      lx += world[(f * J + a) * 3] - world[(f * J + b) * 3];
      lz += world[(f * J + a) * 3 + 2] - world[(f * J + b) * 3 + 2];
    }
    // forward = lateral × up = (-lz, 0, lx); heading = atan2(forward.x, forward.z)
    let h = Math.atan2(-lz, lx);
    if (f > 0) h = prev + (((h - prev + Math.PI) % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI) - Math.PI;
    out[f] = prev = h;
  }
  return out;
}

/** World rotations are "from world-aligned rest" in the protocol's convention; a yaw about +Y into out[o]. */
function yawAt(out: Float64Array, o: number, h: number): void {
  out[o] = 0; out[o + 1] = Math.sin(h / 2); out[o + 2] = 0; out[o + 3] = Math.cos(h / 2);
}

/**
 * Returns `clip` with the floor-level root on the floor under the pelvis (travel and heading) and the
 * helper bones on their effectors; every body joint keeps its world pose. `clip` is not changed.
 * World rotations of followers match their effector's in glTF terms (`worldRest` are the joints' world
 * rest rotations, e.g. gltf.ts worldRestRotations): the bone's frame equals the effector bone's frame.
 * With `loop`, the smoothing wraps around the cycle so the last frame continues into the first. With
 * `groundAt` (a ground_height constraint's ground, height over the floor at (x, z)), the floor-level root
 * stands on the ground under it instead of the floor.
 */
export function applyRootMotion(s: Skeleton, map: HumanoidMap, clip: Clip, rig: RootMotionRig, worldRest?: Float64Array, opts: { loop?: boolean; groundAt?: (x: number, z: number) => number } = {}): Clip {
  if (!needsRootMotion(rig)) return clip;
  const J = s.names.length;
  const F = clip.numFrames;
  const C = clip.jointCount;
  const world = new Float64Array(F * C * 3);
  const wrot = new Float64Array(F * C * 4);
  clipForwardKinematics(s, clip, world, wrot);

  const out: Clip = {
    fps: clip.fps,
    numFrames: F,
    jointCount: C,
    rotations: clip.rotations.slice(),
    rootPositions: clip.rootPositions.slice(),
  };
  // Joints translated: those of the incoming clip, the pelvis, and followers with their own position.
  const moved = new Map<number, Float64Array>();
  const prior = clip.jointTranslations;
  prior?.joints.forEach((j, k) => {
    const a = new Float64Array(F * 3);
    for (let f = 0; f < F; f++) a.set(prior.offsets.subarray((f * prior.joints.length + k) * 3, (f * prior.joints.length + k) * 3 + 3), f * 3);
    moved.set(j, a);
  });

  const headings = bodyHeadings(map, world, C, F);
  const sigma = Math.max(1, ROOT_SMOOTHING_SECONDS * clip.fps);
  const tmp = new Float64Array(F);
  const smooth = opts.loop && F > 2 ? smoothCycle : smoothLocalLinear;
  const smoothHeading = headings.slice();
  smooth(smoothHeading, F, 1, 0, sigma, tmp);
  const q = new Float64Array(4);
  const inv = new Float64Array(4);
  const v = new Float64Array(3);

  if (rig.floorRoot) {
    const { root, hips, floorY } = rig.floorRoot;
    const travel = new Float64Array(F * 3);
    for (let f = 0; f < F; f++) {
      travel[f * 3] = world[(f * C + hips) * 3];
      travel[f * 3 + 2] = world[(f * C + hips) * 3 + 2];
    }
    smooth(travel, F, 3, 0, sigma, tmp);
    smooth(travel, F, 3, 2, sigma, tmp);
    const pelvis = moved.get(hips) ?? new Float64Array(F * 3);
    moved.set(hips, pelvis);
    for (let f = 0; f < F; f++) {
      const rb = f * 3;
      out.rootPositions[rb] = travel[rb];
      const rootY = floorY + (opts.groundAt ? opts.groundAt(travel[rb], travel[rb + 2]) : 0);
      out.rootPositions[rb + 1] = rootY;
      out.rootPositions[rb + 2] = travel[rb + 2];
      const ro = (f * C + root) * 4;
      yawAt(out.rotations, ro, smoothHeading[f]);
      // Pelvis: local rotation Y⁻¹·W, offset Y⁻¹·(P − N): its world pose unchanged.
      qmulInvAt(out.rotations, (f * C + hips) * 4, out.rotations, ro, wrot, (f * C + hips) * 4);
      v[0] = world[(f * C + hips) * 3] - out.rootPositions[rb];
      v[1] = world[(f * C + hips) * 3 + 1] - rootY;
      v[2] = world[(f * C + hips) * 3 + 2] - out.rootPositions[rb + 2];
      q[0] = -out.rotations[ro]; q[1] = -out.rotations[ro + 1]; q[2] = -out.rotations[ro + 2]; q[3] = out.rotations[ro + 3];
      qrotateAt(pelvis, rb, q, 0, v, 0);
      // Other children of the root keep their world rotation where they can (their position rides with the root).
      for (let c = 1; c < J; c++) {
        if (c === hips || s.parents[c] !== root) continue;
        qmulInvAt(out.rotations, (f * C + c) * 4, out.rotations, ro, wrot, (f * C + c) * 4);
      }
    }
  }

  if (rig.followers.length) {
    // World poses of the joints after the root change (followers' parents first, updated as they are set).
    setTranslations(out, moved);
    clipForwardKinematics(s, out, world, wrot);
    const mass = massPoints(map);
    const massSum = mass.reduce((a, m) => a + m[2], 0);
    for (const { joint: j, follows } of rig.followers) {
      const p = s.parents[j];
      const needsMove = follows.kind !== 'root';
      const tr = needsMove ? (moved.get(j) ?? new Float64Array(F * 3)) : null;
      if (tr) moved.set(j, tr);
      for (let f = 0; f < F; f++) {
        const po = (f * C + p) * 4, pp = (f * C + p) * 3;
        const jo = (f * C + j) * 4, jp = (f * C + j) * 3;
        // Target world rotation into wrot[j] and world position into world[j].
        if (follows.kind === 'effector') {
          const e = follows.effector;
          if (worldRest) {
            // W_j·Wrest_j = W_e·Wrest_e  ⇒  W_j = W_e·Wrest_e·Wrest_j⁻¹
            qmulAt(q, 0, wrot, (f * C + e) * 4, worldRest, e * 4);
            inv[0] = -worldRest[j * 4]; inv[1] = -worldRest[j * 4 + 1]; inv[2] = -worldRest[j * 4 + 2]; inv[3] = worldRest[j * 4 + 3];
            qmulAt(wrot, jo, q, 0, inv, 0);
          } else {
            wrot.copyWithin(jo, (f * C + e) * 4, (f * C + e) * 4 + 4);
          }
          world.copyWithin(jp, (f * C + e) * 3, (f * C + e) * 3 + 3);
        } else if (follows.kind === 'centerOfMass') {
          yawAt(wrot, jo, smoothHeading[f]);
          let cx = 0, cy = 0, cz = 0;
          for (const [a, b, m] of mass) {
            const ao = (f * C + a) * 3, bo = (f * C + b) * 3;
            cx += (m * (world[ao] + world[bo])) / 2;
            cy += (m * (world[ao + 1] + world[bo + 1])) / 2;
            cz += (m * (world[ao + 2] + world[bo + 2])) / 2;
          }
          world[jp] = cx / massSum; world[jp + 1] = cy / massSum; world[jp + 2] = cz / massSum;
        } else {
          // Stays on its parent as at rest.
          wrot.copyWithin(jo, po, po + 4);
          for (let k = 0; k < 3; k++) world[jp + k] = world[pp + k];
          qrotateAt(v, 0, wrot, po, s.offsets, j * 3);
          for (let k = 0; k < 3; k++) world[jp + k] += v[k];
        }
        // Local rotation W_p⁻¹·W_j, offset W_p⁻¹·(p_j − p_p).
        qmulInvAt(out.rotations, jo, wrot, po, wrot, jo);
        if (tr) {
          v[0] = world[jp] - world[pp]; v[1] = world[jp + 1] - world[pp + 1]; v[2] = world[jp + 2] - world[pp + 2];
          q[0] = -wrot[po]; q[1] = -wrot[po + 1]; q[2] = -wrot[po + 2]; q[3] = wrot[po + 3];
          qrotateAt(tr, f * 3, q, 0, v, 0);
        }
      }
    }
  }
  setTranslations(out, moved);
  return out;
}

function setTranslations(clip: Clip, moved: Map<number, Float64Array>): void {
  const joints = [...moved.keys()].sort((a, b) => a - b);
  if (!joints.length) return;
  const F = clip.numFrames;
  const K = joints.length;
  const offsets = new Float64Array(F * K * 3);
  joints.forEach((j, k) => {
    const a = moved.get(j)!;
    for (let f = 0; f < F; f++) offsets.set(a.subarray(f * 3, f * 3 + 3), (f * K + k) * 3);
  });
  clip.jointTranslations = { joints, offsets };
}
