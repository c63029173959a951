/** Maps any humanoid skeleton onto body roles (hips, spine, limbs, head): joint names propose, rest-pose structure decides. */
import { GatewayError } from '../spec/errors.js';
import { childrenOf, restPositions } from './skeleton.js';
import type { Skeleton } from '../spec/motion.js';

/** The joints of one side of the body, as indices into the skeleton. */
export interface HumanoidSide {
  /** Clavicle, when the rig has one. */
  shoulder?: number;
  upperArm: number;
  forearm: number;
  /** Wrist. */
  hand: number;
  upperLeg: number;
  lowerLeg: number;
  /** Ankle. */
  foot: number;
  /** Ball of the foot, when the rig has one. */
  toe?: number;
}

/** Body roles of a skeleton's joints (indices into `Skeleton.names`). */
export interface HumanoidMap {
  hips: number;
  /** The spine chain from the joint just above the hips up to and including the chest. */
  spine: readonly number[];
  /** The spine joint the arms branch from (the last of `spine`). */
  chest: number;
  neck: number;
  head: number;
  left: HumanoidSide;
  right: HumanoidSide;
}

export type Side = 'left' | 'right';
export type LimbRole = keyof HumanoidSide;
const ARM_ROLES = ['shoulder', 'upperArm', 'forearm', 'hand'] as const satisfies readonly LimbRole[];
const LEG_ROLES = ['upperLeg', 'lowerLeg', 'foot', 'toe'] as const satisfies readonly LimbRole[];
const OPTIONAL_ROLES: ReadonlySet<LimbRole> = new Set(['shoulder', 'toe']);

/** Every mapped role with its joint, spine joints as `spine.0`, `spine.1`…, limbs as `left.upperArm`…. */
export function humanoidRoles(map: HumanoidMap): Array<[role: string, joint: number]> {
  const out: Array<[string, number]> = [['hips', map.hips]];
  map.spine.forEach((j, i) => out.push([`spine.${i}`, j]));
  out.push(['chest', map.chest], ['neck', map.neck], ['head', map.head]);
  for (const side of ['left', 'right'] as const) {
    for (const role of [...ARM_ROLES, ...LEG_ROLES]) {
      const j = map[side][role];
      if (j !== undefined) out.push([`${side}.${role}`, j]);
    }
  }
  return out;
}

/** The joints that touch the ground in a gait: each foot, then its toe when the rig has one (left first). */
export function contactJoints(map: HumanoidMap): number[] {
  const out: number[] = [];
  for (const side of [map.left, map.right]) {
    out.push(side.foot);
    if (side.toe !== undefined) out.push(side.toe);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Names

/** What a joint name says, once prefixes, side markers and convention noise are stripped. */
export interface JointName {
  /** Side from the name, if it says one. */
  side: Side | null;
  /** The remaining words, lower case, digits dropped: `LeftUpLeg` → `upleg`, `DEF-upper_arm.L` → `upperarm`. */
  core: string;
  /** IK, control, secondary-motion, face and attachment joints: they and their subtrees are not body. */
  auxiliary: boolean;
  /** Twist, roll and in-between segment joints: they lie along a limb bone and are never a role. */
  segment: boolean;
  /** End bones (`HeadTop_End`, `_nub`, `_tip`): leaves that only mark where a bone ends. */
  end: boolean;
  /** Finger joints. */
  finger: boolean;
  /** Any of segment, end or finger: body, but never a core role. */
  minor: boolean;
}

const AUXILIARY = new Set([
  'ik', 'ctrl', 'ctl', 'control', 'target', 'pole', 'mch', 'helper', 'sec', 'adj', 'hair', 'eye', 'eyes', 'jaw',
  'tongue', 'teeth', 'breast', 'bust', 'weapon', 'prop', 'socket', 'attach', 'corrective', 'gun', 'cloth',
]);
const SEGMENT = new Set(['twist', 'roll', 'share', 'bend']);
const END = new Set(['end', 'nub', 'tip']);
const FINGER = new Set(['thumb', 'index', 'middle', 'ring', 'pinky', 'pinkie', 'little', 'finger', 'fingers', 'palm', 'metacarpal', 'carpal']);
/** Convention noise: `DEF-` (Rigify), `J_Bip_` (VRM), `_JNT` (DeepMotion), `Bip01` (3ds Max), `mixamorig`. */
const NOISE = new Set(['def', 'org', 'j', 'bip', 'jnt', 'jt', 'bn', 'bone', 'mixamorig', 'drv', 'bind', 'skin']);

/** Splits a joint name into lower-case words (camelCase, separators and digit runs all split). */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([A-Za-z])([0-9])/g, '$1 $2')
    .replace(/([0-9])([A-Za-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w.length > 0)
    .map((w) => w.toLowerCase());
}

/** Reads side, role words and joint kind from a name in any of the common rig conventions. */
export function parseJointName(raw: string): JointName {
  const bare = raw.slice(raw.lastIndexOf(':') + 1); // namespaces: `mixamorig:`, `Character1:`
  const ws = words(bare);
  let side: Side | null = null;
  let sideAt = -1;
  ws.forEach((w, i) => {
    const s = w === 'l' || w === 'left' ? 'left' : w === 'r' || w === 'right' ? 'right' : null;
    if (s && side === null) {
      side = s;
      sideAt = i;
    }
  });
  const core: string[] = [];
  let auxiliary = false;
  let segment = false;
  let end = false;
  let finger = false;
  ws.forEach((w, i) => {
    if (i === sideAt || NOISE.has(w) || w === 'c') return;
    if (/^[0-9]+$/.test(w)) {
      // Rigify numbers the in-between segments of a limb after the side: `DEF-upper_arm.L.001`.
      if (sideAt > 0 && i > sideAt) segment = true;
      return;
    }
    auxiliary ||= AUXILIARY.has(w);
    segment ||= SEGMENT.has(w);
    end ||= END.has(w);
    finger ||= FINGER.has(w);
    core.push(w);
  });
  return { side, core: core.join(''), auxiliary, segment, end, finger, minor: segment || end || finger };
}

type CenterRole = 'hips' | 'neck' | 'head';

/** Role words per limb role with a preference (higher wins a tie); `shoulder` is a clavicle in most rigs but SMPL's upper arm. */
const LIMB_WORDS: Record<string, ReadonlyArray<readonly [LimbRole, number]>> = {
  thigh: [['upperLeg', 2]], upleg: [['upperLeg', 2]], upperleg: [['upperLeg', 2]], legupper: [['upperLeg', 2]],
  hip: [['upperLeg', 1]],
  calf: [['lowerLeg', 2]], shin: [['lowerLeg', 2]], leg: [['lowerLeg', 2]], knee: [['lowerLeg', 2]],
  lowerleg: [['lowerLeg', 2]], leglower: [['lowerLeg', 2]],
  ankle: [['foot', 3]], foot: [['foot', 2], ['toe', 1]],
  toe: [['toe', 2]], toes: [['toe', 2]], toebase: [['toe', 2]], ball: [['toe', 2]],
  clavicle: [['shoulder', 2]], collar: [['shoulder', 2]], collarbone: [['shoulder', 2]],
  shoulder: [['shoulder', 1], ['upperArm', 1]],
  upperarm: [['upperArm', 2]], arm: [['upperArm', 2]], uparm: [['upperArm', 2]], armupper: [['upperArm', 2]],
  forearm: [['forearm', 2]], lowerarm: [['forearm', 2]], elbow: [['forearm', 2]], armlower: [['forearm', 2]],
  wrist: [['hand', 3]], hand: [['hand', 2]],
};
const CENTER_WORDS: Record<string, CenterRole> = { hips: 'hips', hip: 'hips', pelvis: 'hips', neck: 'neck', head: 'head' };

// ---------------------------------------------------------------------------------------------------
// Structure

interface Rig {
  s: Skeleton;
  pos: Float64Array;
  kids: number[][];
  names: JointName[];
  /** Auxiliary joints and everything below them: not part of the body. */
  off: boolean[];
  floor: number;
  top: number;
  height: number;
}

const x = (r: Rig, j: number): number => r.pos[j * 3];
const y = (r: Rig, j: number): number => r.pos[j * 3 + 1];
const z = (r: Rig, j: number): number => r.pos[j * 3 + 2];
const dist = (r: Rig, a: number, b: number): number =>
  Math.hypot(r.pos[a * 3] - r.pos[b * 3], r.pos[a * 3 + 1] - r.pos[b * 3 + 1], r.pos[a * 3 + 2] - r.pos[b * 3 + 2]);

/** Body joints of the subtree under `j` (itself included). */
function subtree(r: Rig, j: number): number[] {
  const out: number[] = [];
  const stack = [j];
  while (stack.length) {
    const k = stack.pop()!;
    if (r.off[k]) continue;
    out.push(k);
    stack.push(...r.kids[k]);
  }
  return out;
}

/** Body children of `j`. */
const bodyKids = (r: Rig, j: number): number[] => r.kids[j].filter((c) => !r.off[c]);

/** From `start`, follows at each joint the child with the highest `score` until a leaf. */
function mainPath(r: Rig, start: number, score: (c: number) => number): number[] {
  const path = [start];
  for (let j = start; ; ) {
    const kids = bodyKids(r, j);
    if (kids.length === 0) return path;
    j = kids.reduce((a, b) => (score(b) > score(a) ? b : a));
    path.push(j);
  }
}

/** Problems found while mapping: roles not found, and roles whose evidence conflicts. */
class Findings {
  readonly missing: string[] = [];
  readonly ambiguous: string[] = [];
  readonly notes: string[] = [];
}

function makeRig(s: Skeleton): Rig {
  const pos = restPositions(s);
  const names = s.names.map(parseJointName);
  const off = names.map((n) => n.auxiliary);
  for (let j = 0; j < s.names.length; j++) if (s.parents[j] >= 0 && off[s.parents[j]]) off[j] = true;
  let floor = Infinity;
  let top = -Infinity;
  for (let j = 0; j < s.names.length; j++) {
    if (off[j]) continue; // hair, props and IK targets do not make the body taller
    floor = Math.min(floor, pos[j * 3 + 1]);
    top = Math.max(top, pos[j * 3 + 1]);
  }
  if (!Number.isFinite(floor)) floor = top = 0;
  return { s, pos, kids: childrenOf(s), names, off, floor, top, height: Math.max(top - floor, 1e-6) };
}

interface HipsFound {
  hips: number;
  legs: Partial<Record<Side, number>>;
  up: number;
}

/**
 * The hips: the joint with three chains below it, a leg reaching the floor on each side (+X is left for a
 * character facing +Z) and one chain rising to the top of the head. Names only break ties.
 */
function findHips(r: Rig, f: Findings): HipsFound | null {
  const H = r.height;
  const found: HipsFound[] = [];
  for (let j = 0; j < r.s.names.length; j++) {
    if (r.off[j]) continue;
    const legs: Array<{ c: number; lat: number; low: number }> = [];
    const ups: number[] = [];
    for (const c of bodyKids(r, j)) {
      const sub = subtree(r, c);
      let lo = Infinity, hi = -Infinity, sx = 0;
      for (const k of sub) {
        lo = Math.min(lo, y(r, k));
        hi = Math.max(hi, y(r, k));
        sx += x(r, k);
      }
      const lat = sx / sub.length - x(r, j);
      const reachesFloor = lo < r.floor + 0.2 * H;
      const reachesTop = hi > r.top - 0.02 * H;
      if (reachesFloor && !reachesTop && Math.abs(lat) > 0.02 * H) legs.push({ c, lat, low: lo });
      else if (reachesTop && !reachesFloor) ups.push(c);
    }
    const left = legs.filter((l) => l.lat > 0).sort((a, b) => a.low - b.low);
    const right = legs.filter((l) => l.lat < 0).sort((a, b) => a.low - b.low);
    if (left.length && right.length && ups.length === 1) found.push({ hips: j, legs: { left: left[0].c, right: right[0].c }, up: ups[0] });
  }
  if (found.length > 1) {
    const named = found.filter((h) => CENTER_WORDS[r.names[h.hips].core] === 'hips');
    if (named.length === 1) return named[0];
    f.ambiguous.push('hips');
    return null;
  }
  if (found.length === 1) return found[0];
  // No leg pair below any joint: take a joint named as hips (else the root) to report what else is missing.
  const named = r.s.names.findIndex((_, j) => !r.off[j] && r.names[j].side === null && CENTER_WORDS[r.names[j].core] === 'hips');
  const base = named >= 0 ? named : 0;
  if (named < 0) f.missing.push('hips');
  const up = bodyKids(r, base).find((c) => subtree(r, c).some((k) => y(r, k) > r.top - 0.02 * r.height));
  const legs: Partial<Record<Side, number>> = {};
  for (const c of bodyKids(r, base)) {
    if (c === up) continue;
    const sub = subtree(r, c);
    if (sub.some((k) => y(r, k) < r.floor + 0.2 * r.height)) {
      const lat = sub.reduce((a, k) => a + x(r, k), 0) / sub.length - x(r, base);
      if (Math.abs(lat) > 0.02 * r.height) legs[lat > 0 ? 'left' : 'right'] = c;
    }
  }
  return { hips: base, legs, up: up ?? -1 };
}

/**
 * Assigns ordered roles along a path from names: the longest order-preserving match, ties to preferred
 * words and then to earlier joints (SMPL: `L_Wrist` is the hand, `L_Hand` below it is not).
 */
function rolesFromNames<R extends string>(
  path: readonly number[],
  roles: readonly R[],
  candidates: (j: number) => ReadonlyArray<readonly [R, number]>,
): Partial<Record<R, number>> {
  const P = path.length;
  const K = roles.length;
  // best[i][k]: best score using path[i..] and roles[k..]
  const best: number[][] = Array.from({ length: P + 1 }, () => new Array<number>(K + 1).fill(0));
  const take: boolean[][] = Array.from({ length: P + 1 }, () => new Array<boolean>(K + 1).fill(false));
  const score = (i: number, k: number): number => {
    const c = candidates(path[i]).find(([role]) => role === roles[k]);
    return c ? 100 + c[1] - i * 0.01 : -Infinity;
  };
  for (let i = P - 1; i >= 0; i--) {
    for (let k = K; k >= 0; k--) {
      let b = best[i + 1][k];
      let t = false;
      if (k < K) {
        const skipRole = best[i][k + 1];
        if (skipRole > b) b = skipRole;
        const s = score(i, k) + best[i + 1][k + 1];
        if (s > b) {
          b = s;
          t = true;
        }
      }
      best[i][k] = b;
      take[i][k] = t;
    }
  }
  const out: Partial<Record<R, number>> = {};
  for (let i = 0, k = 0; i < P && k < K; ) {
    if (take[i][k]) {
      out[roles[k]] = path[i];
      i++;
      k++;
    } else if (best[i][k] === best[i + 1][k]) i++;
    else k++;
  }
  return out;
}

const limbCandidates = (r: Rig, side: Side) => (j: number): ReadonlyArray<readonly [LimbRole, number]> => {
  const n = r.names[j];
  if (n.minor || n.auxiliary || (n.side !== null && n.side !== side)) return [];
  return LIMB_WORDS[n.core] ?? [];
};

type Limb = Partial<Record<LimbRole, number>>;

function complete(limb: Limb, roles: readonly LimbRole[]): boolean {
  return roles.every((role) => OPTIONAL_ROLES.has(role) || limb[role] !== undefined);
}

/** Legs go down: hip above knee above ankle, the ankle near the floor, the toe ahead of the ankle. */
function legIsPlausible(r: Rig, leg: Limb, hips: number): boolean {
  const { upperLeg: u, lowerLeg: k, foot: a, toe: t } = leg;
  if (u === undefined || k === undefined || a === undefined) return false;
  const span = y(r, hips) - r.floor;
  return (
    y(r, u) - y(r, k) > 0.15 * span &&
    y(r, k) - y(r, a) > 0.15 * span &&
    y(r, a) - r.floor < 0.25 * span &&
    (t === undefined || y(r, t) <= y(r, a) + 0.02 * span)
  );
}

/** Arms reach out: shoulder, elbow and wrist apart, the wrist no closer to the body than the shoulder. */
function armIsPlausible(r: Rig, arm: Limb, side: Side, midX: number, span: number): boolean {
  const { shoulder: c, upperArm: u, forearm: e, hand: h } = arm;
  if (u === undefined || e === undefined || h === undefined) return false;
  const lat = (j: number) => (side === 'left' ? 1 : -1) * (x(r, j) - midX);
  const lu = dist(r, u, e);
  const lf = dist(r, e, h);
  return (
    lu > 0.1 * span && lf > 0.1 * span && lu / lf < 2.5 && lf / lu < 2.5 &&
    lat(h) > lat(u) && (c === undefined || lat(c) < lat(u) + 0.02 * span)
  );
}

/** A leg from rest geometry alone: the ankle starts the first near-horizontal bone low down, the knee sits halfway. */
function legFromGeometry(r: Rig, path: readonly number[], hips: number): Limb | 'ambiguous' {
  const span = y(r, hips) - r.floor;
  const body = path.filter((j) => !r.names[j].segment);
  let ankle = -1;
  for (let i = 2; i < body.length; i++) {
    const j = body[i];
    if (y(r, j) - r.floor > 0.25 * span) continue;
    const next = body[i + 1];
    if (next === undefined || Math.hypot(x(r, next) - x(r, j), z(r, next) - z(r, j)) > Math.abs(y(r, next) - y(r, j))) {
      ankle = i;
      break;
    }
  }
  if (ankle < 0) return {};
  const foot = body[ankle];
  const toe = body[ankle + 1] !== undefined && !r.names[body[ankle + 1]].end ? body[ankle + 1] : undefined;
  const above = body.slice(0, ankle);
  const y0 = y(r, above[0]);
  let knee = -1;
  let bestGap = Infinity;
  above.forEach((j, i) => {
    const frac = (y0 - y(r, j)) / Math.max(1e-6, y0 - y(r, foot));
    if (i > 0 && Math.abs(frac - 0.5) < bestGap) {
      bestGap = Math.abs(frac - 0.5);
      knee = i;
    }
  });
  if (knee < 0) return {};
  // The thigh starts at the last joint above the knee that is a thigh's length away (CMU's LHipJoint and
  // Rigify's mid-thigh segments are not).
  const shin = dist(r, above[knee], foot);
  let upper = -1;
  for (let i = knee - 1; i >= 0; i--) {
    if (dist(r, above[i], above[knee]) > 0.6 * shin) {
      upper = i;
      break;
    }
  }
  if (upper < 0) return 'ambiguous';
  return { upperLeg: above[upper], lowerLeg: above[knee], foot, toe };
}

/** True when `leaf` has no children and lies along the bone from `a` to `b` (a twist or roll joint). */
function liesAlongBone(r: Rig, leaf: number, a: number, b: number): boolean {
  if (bodyKids(r, leaf).length) return false;
  const d = [x(r, b) - x(r, a), y(r, b) - y(r, a), z(r, b) - z(r, a)];
  const v = [x(r, leaf) - x(r, a), y(r, leaf) - y(r, a), z(r, leaf) - z(r, a)];
  const len2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
  if (len2 < 1e-12) return false;
  const t = (v[0] * d[0] + v[1] * d[1] + v[2] * d[2]) / len2;
  const off = Math.hypot(v[0] - t * d[0], v[1] - t * d[1], v[2] - t * d[2]);
  return t > 0 && t < 1 && off < 0.1 * Math.sqrt(len2);
}

/**
 * An arm from rest geometry alone: the hand is where the fingers branch (leaves along a bone are twist
 * joints, not fingers); the joints before it are told apart by count.
 */
function armFromGeometry(r: Rig, path: readonly number[]): Limb | 'ambiguous' {
  let body = path.filter((j) => !r.names[j].segment);
  while (body.length && r.names[body[body.length - 1]].end) body = body.slice(0, -1);
  let hand = -1;
  for (let i = 2; i < body.length - 1; i++) {
    const next = body[i + 1];
    const branches = bodyKids(r, body[i]).filter((c) => c === next || !liesAlongBone(r, c, body[i], next));
    if (branches.length >= 2) {
      hand = i;
      break;
    }
  }
  if (hand < 0) {
    // No fingers: the wrist is the last joint, or the one before a short leaf past it (SMPL's hand point).
    hand = body.length - 1;
    if (hand >= 4 && dist(r, body[hand - 1], body[hand]) < 0.6 * dist(r, body[hand - 2], body[hand - 1])) hand--;
  }
  if (hand < 2) return {};
  const before = body.slice(0, hand);
  if (before.length === 2) return { upperArm: before[0], forearm: before[1], hand: body[hand] };
  if (before.length === 3) return { shoulder: before[0], upperArm: before[1], forearm: before[2], hand: body[hand] };
  return 'ambiguous';
}

function mapLimb(
  r: Rig,
  f: Findings,
  side: Side,
  kind: 'arm' | 'leg',
  path: readonly number[] | null,
  plausible: (l: Limb) => boolean,
  geometric: (p: readonly number[]) => Limb | 'ambiguous',
): Limb {
  const roles: readonly LimbRole[] = kind === 'arm' ? ARM_ROLES : LEG_ROLES;
  const required = roles.filter((role) => !OPTIONAL_ROLES.has(role));
  if (!path) {
    f.missing.push(...required.map((role) => `${side}.${role}`));
    return {};
  }
  const named = rolesFromNames(path, roles, limbCandidates(r, side));
  if (complete(named, roles) && plausible(named)) return named;
  const geo = geometric(path);
  if (geo !== 'ambiguous' && complete(geo, roles) && plausible(geo)) return geo;
  const anyNamed = required.some((role) => named[role] !== undefined);
  if (geo === 'ambiguous' || (anyNamed && complete(named, roles))) {
    f.ambiguous.push(...required.map((role) => `${side}.${role}`));
  } else {
    const partial = anyNamed ? named : geo;
    f.missing.push(...required.filter((role) => partial[role] === undefined).map((role) => `${side}.${role}`));
    if (required.every((role) => partial[role] !== undefined)) f.ambiguous.push(...required.map((role) => `${side}.${role}`));
  }
  return {};
}

interface ArmBranch {
  attach: number;
  start: number;
  extent: number;
}

/** Branches off the spine path that reach far to one side: the arms. A branch reaching both sides is searched below. */
function armBranches(r: Rig, spinePath: readonly number[], midX: number): Partial<Record<Side, ArmBranch>> {
  const onPath = new Set(spinePath);
  const out: Partial<Record<Side, ArmBranch>> = {};
  const consider = (attach: number, start: number, depth: number): void => {
    const sub = subtree(r, start);
    if (sub.length < 3) return;
    let maxL = 0, maxR = 0;
    for (const k of sub) {
      maxL = Math.max(maxL, x(r, k) - midX);
      maxR = Math.max(maxR, midX - x(r, k));
    }
    const reach = 0.15 * r.height;
    if (maxL > reach && maxR > reach) {
      if (depth < 3) for (const c of bodyKids(r, start)) consider(attach, c, depth + 1);
      return;
    }
    const side: Side | null = maxL > reach ? 'left' : maxR > reach ? 'right' : null;
    if (!side) return;
    const extent = side === 'left' ? maxL : maxR;
    const cur = out[side];
    if (!cur || extent > cur.extent) out[side] = { attach, start, extent };
  };
  for (const q of spinePath) for (const c of bodyKids(r, q)) if (!onPath.has(c)) consider(q, c, 0);
  return out;
}

/**
 * Maps a skeleton's joints to humanoid roles. Names are read in every common convention (prefixes,
 * side markers, role synonyms) and checked against the rest pose; a rig whose names say nothing maps
 * from topology and rest positions alone. Throws GatewayError MG-PRO-004 naming the roles it could not
 * find (`details.missing_roles`) or could not decide (`details.ambiguous`), never guessing silently.
 */
export function mapHumanoid(s: Skeleton): HumanoidMap {
  const r = makeRig(s);
  const f = new Findings();
  const found = findHips(r, f);
  const hips = found?.hips ?? -1;
  const span = hips >= 0 ? y(r, hips) - r.floor : r.height / 2;

  // Spine path: from the hips up to the top-most body joint of the chain that rises to the head.
  let spinePath: number[] = [];
  if (found && found.up >= 0) {
    const up = subtree(r, found.up).filter((k) => !r.names[k].minor);
    if (up.length) {
      let topJoint = up[0];
      for (const k of up) if (y(r, k) > y(r, topJoint)) topJoint = k;
      for (let k = topJoint; k >= 0 && k !== hips; k = s.parents[k]) spinePath.push(k);
      spinePath = spinePath.reverse();
    }
  }
  const midX = hips >= 0 ? x(r, hips) : 0;
  const branches = armBranches(r, spinePath, midX);
  const attachAt = (b: ArmBranch | undefined): number => (b ? spinePath.indexOf(b.attach) : -1);
  const chestAt = Math.max(attachAt(branches.left), attachAt(branches.right));
  const spine = chestAt >= 0 ? spinePath.slice(0, chestAt + 1).filter((j) => !r.names[j].minor) : [];
  if (!spine.length) f.missing.push('spine', 'chest');
  const chest = spine.length ? spine[spine.length - 1] : -1;

  // Neck and head: the rest of the spine path, above the chest.
  let neck = -1;
  let head = -1;
  if (chestAt >= 0) {
    const above = spinePath.slice(chestAt + 1).filter((j) => !r.names[j].minor);
    const named = rolesFromNames(above, ['neck', 'head'] as const, (j) => {
      const n = r.names[j];
      const role = n.side === null ? CENTER_WORDS[n.core] : undefined;
      return role === 'neck' || role === 'head' ? [[role, 1]] : [];
    });
    if (named.neck !== undefined && named.head !== undefined && y(r, named.head) > y(r, named.neck)) {
      neck = named.neck;
      head = named.head;
    } else if (above.length >= 2) {
      // A long last bone over three joints leads to a head-top end (Mixamo's HeadTop_End) or to hair, not the head.
      const n = above.length;
      const topEnd = n >= 3 && dist(r, above[n - 2], above[n - 1]) > 0.08 * r.height;
      neck = above[0];
      head = above[topEnd ? n - 2 : n - 1];
    } else {
      if (above.length === 0) f.missing.push('neck', 'head');
      else f.missing.push('neck');
    }
  } else if (spinePath.length === 0) {
    f.missing.push('neck', 'head');
  } else {
    f.notes.push('no arms branch off the spine, so the chest, neck and head cannot be told apart');
    f.missing.push('neck', 'head');
  }

  const legs: Partial<Record<Side, Limb>> = {};
  const arms: Partial<Record<Side, Limb>> = {};
  for (const side of ['left', 'right'] as const) {
    const legStart = found?.legs[side];
    const legPath = legStart === undefined ? null : mainPath(r, legStart, (c) => -Math.min(...subtree(r, c).map((k) => y(r, k))));
    legs[side] = mapLimb(r, f, side, 'leg', legPath, (l) => legIsPlausible(r, l, hips), (p) => legFromGeometry(r, p, hips));
    const branch = branches[side];
    const armPath = branch ? mainPath(r, branch.start, (c) => Math.max(...subtree(r, c).map((k) => dist(r, k, branch.start)))) : null;
    arms[side] = mapLimb(r, f, side, 'arm', armPath, (l) => armIsPlausible(r, l, side, midX, span), (p) => armFromGeometry(r, p));
  }

  // Names and rest positions must agree on sides; otherwise the character does not face +Z.
  for (const side of ['left', 'right'] as const) {
    for (const j of [...Object.values(legs[side] ?? {}), ...Object.values(arms[side] ?? {})]) {
      const said = r.names[j].side;
      if (said !== null && said !== side) {
        if (!f.ambiguous.includes('sides')) f.ambiguous.push('sides');
        f.notes.push('joint names and rest positions disagree on left and right: the character must face +Z with its left side at +X');
        break;
      }
    }
  }
  const toes = (['left', 'right'] as const).map((side) => legs[side]).filter((l) => l?.toe !== undefined && l.foot !== undefined);
  if (toes.length && toes.every((l) => z(r, l!.toe!) - z(r, l!.foot!) < -0.01 * span)) {
    f.ambiguous.push('facing');
    f.notes.push('the toes point to -Z: the character must face +Z');
  }

  if (f.missing.length || f.ambiguous.length) {
    const what = [...f.missing, ...f.ambiguous.filter((a) => !f.missing.includes(a))];
    throw new GatewayError('MG-PRO-004', `The skeleton could not be mapped to a humanoid: ${what.join(', ')} ${f.ambiguous.length && !f.missing.length ? 'could not be decided' : 'not found'}${f.notes.length ? ` (${f.notes[0]})` : ''}.`, {
      details: { missing_roles: f.missing, ...(f.ambiguous.length ? { ambiguous: f.ambiguous } : {}) },
    });
  }
  const sideOf = (side: Side): HumanoidSide => {
    const l = { ...legs[side], ...arms[side] } as HumanoidSide;
    if (l.shoulder === undefined) delete l.shoulder;
    if (l.toe === undefined) delete l.toe;
    return l;
  };
  return { hips, spine, chest, neck, head, left: sideOf('left'), right: sideOf('right') };
}
