/**
 * The skeleton of a decoded file: node rest transforms and hierarchy, the joint tree chosen from its skins
 * or animated nodes (armature nodes above it folded into the root), and poses of the node tree on it.
 */
import { fail, finite, list, obj, ref, type Json } from './decode-input.js';
import { qmulAt, qnormalize, qnormalizeAt, type Quat, type Vec3 } from './quat.js';

const MAX_NODES = 200_000;
const MAX_JOINTS = 4096;

// ---------------------------------------------------------------------------------------------------
// Nodes: rest transforms and hierarchy.

export interface SceneNode {
  name: string | null;
  children: number[];
  parent: number;
  t: Vec3;
  r: Quat;
  s: Vec3;
  /** Carries a mesh or camera (never a bone when there is no skin). */
  hasContent: boolean;
}

/** Parses every node's rest TRS (matrices decomposed) and checks that the hierarchy is a forest. */
export function readNodes(json: Json): SceneNode[] {
  const raw = list(json.nodes, 'nodes');
  if (raw.length > MAX_NODES) fail('it has too many nodes');
  const nodes: SceneNode[] = raw.map((x, i) => {
    const n = obj(x, 'a node');
    const trs = n.matrix !== undefined
      ? trsFromMatrix(finite(n.matrix, 16, 'a node matrix', []))
      : {
          t: finite(n.translation, 3, 'a node translation', [0, 0, 0]) as Vec3,
          r: qnormalize(finite(n.rotation, 4, 'a node rotation', [0, 0, 0, 1])),
          s: finite(n.scale, 3, 'a node scale', [1, 1, 1]) as Vec3,
        };
    return {
      name: typeof n.name === 'string' && n.name.length > 0 ? n.name : null,
      children: list(n.children, 'node children').map((c) => ref(c, raw.length, `node ${i}`)),
      parent: -1,
      ...trs,
      hasContent: n.mesh !== undefined || n.camera !== undefined,
    };
  });
  nodes.forEach((n, i) => {
    for (const c of n.children) {
      if (nodes[c].parent !== -1 || c === i) fail('its node hierarchy is not a tree');
      nodes[c].parent = i;
    }
  });
  // With one parent each, a cycle is exactly a node no root reaches.
  let reached = 0;
  const stack = nodes.flatMap((n, i) => (n.parent < 0 ? [i] : []));
  while (stack.length > 0) {
    reached++;
    for (const c of nodes[stack.pop() as number].children) stack.push(c);
  }
  if (reached !== nodes.length) fail('its node hierarchy has a cycle');
  return nodes;
}

/** Translation, rotation and scale of a column-major affine matrix (a mirror goes into scale x). */
function trsFromMatrix(m: readonly number[]): { t: Vec3; r: Quat; s: Vec3 } {
  const cols = [0, 4, 8].map((o) => [m[o], m[o + 1], m[o + 2]]);
  const s = cols.map((c) => Math.hypot(c[0], c[1], c[2])) as Vec3;
  const det =
    cols[0][0] * (cols[1][1] * cols[2][2] - cols[1][2] * cols[2][1]) -
    cols[1][0] * (cols[0][1] * cols[2][2] - cols[0][2] * cols[2][1]) +
    cols[2][0] * (cols[0][1] * cols[1][2] - cols[0][2] * cols[1][1]);
  if (det < 0) s[0] = -s[0];
  if (s.some((v) => Math.abs(v) < 1e-12)) return { t: [m[12], m[13], m[14]], r: [0, 0, 0, 1], s };
  const c = cols.map((col, i) => col.map((v) => v / s[i]));
  // Rotation matrix R[row][col] = c[col][row].
  const [m00, m10, m20] = c[0];
  const [m01, m11, m21] = c[1];
  const [m02, m12, m22] = c[2];
  const trace = m00 + m11 + m22;
  let q: Quat;
  if (trace > 0) {
    const k = 0.5 / Math.sqrt(trace + 1);
    q = [(m21 - m12) * k, (m02 - m20) * k, (m10 - m01) * k, 0.25 / k];
  } else if (m00 > m11 && m00 > m22) {
    const k = 2 * Math.sqrt(1 + m00 - m11 - m22);
    q = [0.25 * k, (m01 + m10) / k, (m02 + m20) / k, (m21 - m12) / k];
  } else if (m11 > m22) {
    const k = 2 * Math.sqrt(1 + m11 - m00 - m22);
    q = [(m01 + m10) / k, 0.25 * k, (m12 + m21) / k, (m02 - m20) / k];
  } else {
    const k = 2 * Math.sqrt(1 + m22 - m00 - m11);
    q = [(m02 + m20) / k, (m12 + m21) / k, 0.25 * k, (m10 - m01) / k];
  }
  return { t: [m[12], m[13], m[14]], r: qnormalize(q), s };
}

// ---------------------------------------------------------------------------------------------------
// Affine transforms (3×3 linear part row-major, then translation), for positions under scale.

type Affine = number[];
const AFFINE_IDENTITY: Affine = [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0];

/** The matrix T·R·S of a node. */
function affineFromTrs(t: ArrayLike<number>, r: ArrayLike<number>, s: ArrayLike<number>): Affine {
  const [x, y, z, w] = [r[0], r[1], r[2], r[3]];
  return [
    (1 - 2 * (y * y + z * z)) * s[0], 2 * (x * y - z * w) * s[1], 2 * (x * z + y * w) * s[2],
    2 * (x * y + z * w) * s[0], (1 - 2 * (x * x + z * z)) * s[1], 2 * (y * z - x * w) * s[2],
    2 * (x * z - y * w) * s[0], 2 * (y * z + x * w) * s[1], (1 - 2 * (x * x + y * y)) * s[2],
    t[0], t[1], t[2],
  ];
}

/** a·b (apply b, then a). */
function affineMul(a: Affine, b: Affine): Affine {
  const out = new Array<number>(12);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) out[r * 3 + c] = a[r * 3] * b[c] + a[r * 3 + 1] * b[3 + c] + a[r * 3 + 2] * b[6 + c];
    out[9 + r] = a[r * 3] * b[9] + a[r * 3 + 1] * b[10] + a[r * 3 + 2] * b[11] + a[9 + r];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Choosing the skeleton.

export interface SkeletonPlan {
  /** Node index of each joint, parents first. */
  nodes: number[];
  parents: Int32Array;
  /**
   * Per joint, the nodes whose local transforms lead from its parent joint to it (the joint's own node
   * last); for the root, from the top of the node tree, so armature nodes fold into the root.
   */
  chains: number[][];
}

/** The candidate joint nodes: the largest skin's joints, else the subtree of the animated nodes. */
export function candidateJoints(json: Json, nodes: SceneNode[], animated: Set<number>, notes: string[]): Set<number> {
  const skins = list(json.skins, 'skins').map((s) => list(obj(s, 'a skin').joints, 'skin joints').map((j) => ref(j, nodes.length, 'a skin joint')));
  if (skins.length > 0) {
    const best = skins.reduce((a, b) => (b.length > a.length ? b : a));
    if (skins.length > 1) notes.push(`chose the skin with ${best.length} joints out of ${skins.length} skins`);
    if (best.length > 0) return new Set(best);
  }
  if (animated.size === 0) fail('it has neither a skin nor animated nodes');
  // Without a skin: everything under the lowest common ancestor of the animated nodes, minus meshes.
  const paths = [...animated].map((n) => ancestry(nodes, n));
  let depth = 0;
  while (paths.every((p) => depth < p.length && p[depth] === paths[0][depth])) depth++;
  const top = depth > 0 ? [paths[0][depth - 1]] : paths.map((p) => p[0]);
  const out = new Set<number>();
  const stack = [...top];
  while (stack.length > 0) {
    const n = stack.pop() as number;
    if (!nodes[n].hasContent || animated.has(n)) out.add(n);
    for (const c of nodes[n].children) stack.push(c);
  }
  notes.push('the file has no skin: the skeleton is the tree of its animated nodes');
  return out;
}

/** Node indices from the top of the tree down to `n`, inclusive. */
function ancestry(nodes: SceneNode[], n: number): number[] {
  const out: number[] = [];
  for (let i = n; i >= 0; i = nodes[i].parent) out.push(i);
  return out.reverse();
}

/** The nearest ancestor of `n` in `set`, or -1. */
function jointParent(nodes: SceneNode[], set: Set<number>, n: number): number {
  for (let p = nodes[n].parent; p >= 0; p = nodes[p].parent) if (set.has(p)) return p;
  return -1;
}

/**
 * Orders the candidates into one skeleton: the largest connected tree; then, while its top joint has
 * a single child joint above a branching one, the top is dropped (an armature or scene node listed in
 * the skin). Dropping loses no motion: the dropped nodes' transforms fold into the new root.
 */
export function planSkeleton(nodes: SceneNode[], candidates: Set<number>, notes: string[]): SkeletonPlan {
  if (candidates.size > MAX_JOINTS) fail('its skeleton has too many joints');
  const kids = new Map<number, number[]>();
  const roots: number[] = [];
  for (const n of candidates) {
    const p = jointParent(nodes, candidates, n);
    if (p < 0) roots.push(n);
    else kids.set(p, [...(kids.get(p) ?? []), n]);
  }
  const size = (n: number): number => 1 + (kids.get(n) ?? []).reduce((a, c) => a + size(c), 0);
  const sizes = roots.map(size);
  let root = roots[sizes.indexOf(Math.max(...sizes))];
  if (roots.length > 1) notes.push(`kept the largest of ${roots.length} joint trees; dropped ${candidates.size - Math.max(...sizes)} joints`);
  const branches = (n: number): boolean => {
    const k = kids.get(n) ?? [];
    return k.length > 1 || (k.length === 1 && branches(k[0]));
  };
  const dropped: string[] = [];
  while ((kids.get(root) ?? []).length === 1 && branches(root)) {
    dropped.push(nodes[root].name ?? `node ${root}`);
    root = (kids.get(root) as number[])[0];
  }
  if (dropped.length > 0) notes.push(`treated ${dropped.join(', ')} as armature above the root joint (folded into the root)`);
  // Parents-first order following the file's child order.
  const order: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const n = stack.pop() as number;
    if (candidates.has(n)) order.push(n);
    for (let i = nodes[n].children.length - 1; i >= 0; i--) stack.push(nodes[n].children[i]);
  }
  const slot = new Map(order.map((n, i) => [n, i]));
  const parents = new Int32Array(order.length);
  const chains = order.map((n, j) => {
    if (j === 0) {
      parents[0] = -1;
      return ancestry(nodes, n);
    }
    const p = jointParent(nodes, candidates, n);
    parents[j] = slot.get(p) as number;
    const chain: number[] = [];
    for (let i = n; i !== p; i = nodes[i].parent) chain.push(i);
    return chain.reverse();
  });
  return { nodes: order, parents, chains };
}

/** Unique joint names: the node's name, or `joint_<node>`; repeats get `#2`, `#3`… */
export function jointNames(nodes: SceneNode[], plan: SkeletonPlan, notes: string[]): string[] {
  const seen = new Map<string, number>();
  let renamed = 0;
  const names = plan.nodes.map((n) => {
    const base = nodes[n].name ?? `joint_${n}`;
    const k = (seen.get(base) ?? 0) + 1;
    seen.set(base, k);
    if (k > 1) renamed++;
    return k > 1 ? `${base}#${k}` : base;
  });
  if (renamed > 0) notes.push(`renamed ${renamed} joints with duplicate names`);
  return names;
}

// ---------------------------------------------------------------------------------------------------
// Poses of the node tree on the skeleton.

/**
 * Poses of the node tree on the skeleton without allocating: every chain node has a slot (joint 0's
 * chain first, then joint 1's…), and a pose is the nodes' local rotations (slots×4) and translations
 * (slots×3, only the root chain's are read) in packed arrays. The arithmetic is that of composing the
 * nodes' T·R·S affines and rotation products one by one, in chain order.
 */
export class PoseEvaluator {
  /** Joint j's chain is slots chainStart[j] … chainStart[j + 1] − 1. */
  private readonly chainStart: Int32Array;
  private readonly parents: Int32Array;
  private readonly scales: Float64Array;
  private readonly restR: Float64Array;
  private readonly restT: Float64Array;
  private readonly m = new Float64Array(12);
  private readonly b = new Float64Array(12);
  private readonly tmp = new Float64Array(12);
  private readonly w = new Float64Array(4);

  constructor(nodes: SceneNode[], plan: SkeletonPlan) {
    const J = plan.nodes.length;
    this.parents = plan.parents;
    this.chainStart = new Int32Array(J + 1);
    for (let j = 0; j < J; j++) this.chainStart[j + 1] = this.chainStart[j] + plan.chains[j].length;
    const slots = this.chainStart[J];
    this.scales = new Float64Array(slots * 3);
    this.restR = new Float64Array(slots * 4);
    this.restT = new Float64Array(slots * 3);
    plan.chains.forEach((chain, j) => chain.forEach((n, i) => {
      const slot = this.chainStart[j] + i;
      this.scales.set(nodes[n].s, slot * 3);
      this.restR.set(nodes[n].r, slot * 4);
      this.restT.set(nodes[n].t, slot * 3);
    }));
  }

  /** Slot of every chain node, by node index. */
  slotsByNode(plan: SkeletonPlan): Map<number, number> {
    const out = new Map<number, number>();
    plan.chains.forEach((chain, j) => chain.forEach((n, i) => out.set(n, this.chainStart[j] + i)));
    return out;
  }

  /** Fresh copies of the nodes' rest rotations (slots×4) and translations (slots×3). */
  restLocals(): { r: Float64Array; t: Float64Array } {
    return { r: this.restR.slice(), t: this.restT.slice() };
  }

  /**
   * World rotations of every joint into `outWorld` (pure rotations, scales left out) and the root's
   * world position into `outRoot` at `rootAt`, for the pose of local rotations `r` and translations `t`.
   */
  evaluate(r: Float64Array, t: Float64Array, outWorld: Float64Array, outRoot: Float64Array, rootAt: number): void {
    const { m, b, tmp, w, chainStart, scales } = this;
    m.set(AFFINE_IDENTITY);
    w[0] = 0; w[1] = 0; w[2] = 0; w[3] = 1;
    for (let slot = chainStart[0]; slot < chainStart[1]; slot++) {
      affineFromTrsAt(b, t, slot * 3, r, slot * 4, scales, slot * 3);
      affineMulAt(tmp, m, b);
      m.set(tmp);
      qmulAt(w, 0, w, 0, r, slot * 4);
    }
    qnormalizeAt(outWorld, 0, w, 0);
    const J = this.parents.length;
    for (let j = 1; j < J; j++) {
      const p = this.parents[j] * 4;
      const o = j * 4;
      outWorld[o] = outWorld[p]; outWorld[o + 1] = outWorld[p + 1]; outWorld[o + 2] = outWorld[p + 2]; outWorld[o + 3] = outWorld[p + 3];
      for (let slot = chainStart[j]; slot < chainStart[j + 1]; slot++) qmulAt(outWorld, o, outWorld, o, r, slot * 4);
      qnormalizeAt(outWorld, o, outWorld, o);
    }
    outRoot[rootAt] = m[9];
    outRoot[rootAt + 1] = m[10];
    outRoot[rootAt + 2] = m[11];
  }
}

/** affineFromTrs written into `out`. */
function affineFromTrsAt(out: Float64Array, t: Float64Array, to: number, r: Float64Array, ro: number, s: Float64Array, so: number): void {
  const x = r[ro], y = r[ro + 1], z = r[ro + 2], w = r[ro + 3];
  const s0 = s[so], s1 = s[so + 1], s2 = s[so + 2];
  out[0] = (1 - 2 * (y * y + z * z)) * s0; out[1] = 2 * (x * y - z * w) * s1; out[2] = 2 * (x * z + y * w) * s2;
  out[3] = 2 * (x * y + z * w) * s0; out[4] = (1 - 2 * (x * x + z * z)) * s1; out[5] = 2 * (y * z - x * w) * s2;
  out[6] = 2 * (x * z - y * w) * s0; out[7] = 2 * (y * z + x * w) * s1; out[8] = (1 - 2 * (x * x + y * y)) * s2;
  out[9] = t[to]; out[10] = t[to + 1]; out[11] = t[to + 2];
}

/** affineMul written into `out` (which must alias neither input). */
function affineMulAt(out: Float64Array, a: Float64Array, b: Float64Array): void {
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) out[r * 3 + c] = a[r * 3] * b[c] + a[r * 3 + 1] * b[3 + c] + a[r * 3 + 2] * b[6 + c];
    out[9 + r] = a[r * 3] * b[9] + a[r * 3 + 1] * b[10] + a[r * 3 + 2] * b[11] + a[9 + r];
  }
}

/** World rest positions of every joint, scales and armature axes included (J×3). */
export function restWorldPositions(nodes: SceneNode[], plan: SkeletonPlan): Float64Array {
  const J = plan.nodes.length;
  const world: Affine[] = [];
  const out = new Float64Array(J * 3);
  for (let j = 0; j < J; j++) {
    let m = j === 0 ? AFFINE_IDENTITY : world[plan.parents[j]];
    for (const n of plan.chains[j]) m = affineMul(m, affineFromTrs(nodes[n].t, nodes[n].r, nodes[n].s));
    world.push(m);
    out.set([m[9], m[10], m[11]], j * 3);
  }
  return out;
}

/** Notes scales the decoder cannot represent exactly (non-uniform or mirroring). */
export function warnIfScaled(nodes: SceneNode[], plan: SkeletonPlan, notes: string[]): void {
  const chainNodes = plan.chains.flat();
  const nonUniform = chainNodes.filter((n) => {
    const s = nodes[n].s;
    return Math.abs(s[0] - s[1]) > 1e-6 * Math.abs(s[0]) || Math.abs(s[0] - s[2]) > 1e-6 * Math.abs(s[0]) || Math.min(...s) < 0;
  });
  if (nonUniform.length > 0) {
    notes.push(`${nonUniform.length} nodes carry non-uniform or mirroring scale: rest offsets and root positions include it, rotations stay pure (poses away from rest are approximate)`);
  }
}
