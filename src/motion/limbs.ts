/**
 * Finds the joints of one arm or leg along its chain: the roles its names propose when the rest pose
 * agrees, else the ones rest geometry alone gives (for rigs whose names say nothing).
 */
import type { LimbRole, Side } from './humanoid.js';
import { limbRoleHints, rolesFromNames } from './joint-names.js';
import { bodyKids, dist, subtree, x, y, z, type RestBody } from './rest-body.js';

export const ARM_ROLES = ['shoulder', 'upperArm', 'forearm', 'hand'] as const satisfies readonly LimbRole[];
export const LEG_ROLES = ['upperLeg', 'lowerLeg', 'foot', 'toe'] as const satisfies readonly LimbRole[];
/** Roles a rig may lack: clavicles and toes. */
const OPTIONAL_ROLES: ReadonlySet<LimbRole> = new Set(['shoulder', 'toe']);

/** The roles found on one limb so far. */
export type Limb = Partial<Record<LimbRole, number>>;

function complete(limb: Limb, roles: readonly LimbRole[]): boolean {
  return roles.every((role) => OPTIONAL_ROLES.has(role) || limb[role] !== undefined);
}

/** Legs go down: hip above knee above ankle, the ankle near the floor, the toe ahead of the ankle. */
export function legIsPlausible(r: RestBody, leg: Limb, hips: number): boolean {
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
export function armIsPlausible(r: RestBody, arm: Limb, side: Side, midX: number, span: number): boolean {
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
export function legFromGeometry(r: RestBody, path: readonly number[], hips: number): Limb | 'ambiguous' {
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
function liesAlongBone(r: RestBody, leaf: number, a: number, b: number): boolean {
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
export function armFromGeometry(r: RestBody, path: readonly number[]): Limb | 'ambiguous' {
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
    // No finger fan: the wrist is where the segment lengths say (upper arm ≈ forearm, then shorter bones).
    const byLength = armByLengths(r, body);
    if (byLength !== null) return byLength;
    // The wrist is the last joint, or the one before a short leaf past it (SMPL's hand point).
    hand = body.length - 1;
    if (hand >= 4 && dist(r, body[hand - 1], body[hand]) < 0.6 * dist(r, body[hand - 2], body[hand - 1])) hand--;
  }
  if (hand < 2) return {};
  const before = body.slice(0, hand);
  if (before.length === 2) return { upperArm: before[0], forearm: before[1], hand: body[hand] };
  if (before.length === 3) return { shoulder: before[0], upperArm: before[1], forearm: before[2], hand: body[hand] };
  return 'ambiguous';
}

/** Upper arm and forearm lengths within this ratio of each other count as a pair. */
const ARM_PAIR_RATIO = 1.6;
/** Bones past the wrist (hand, fingers) are shorter than this fraction of the shorter arm bone. */
const HAND_SHORTER = 0.75;

/**
 * An arm along a chain with no finger fan (a straight T-pose line from clavicle to finger tip), from
 * segment lengths: the upper arm and the forearm are the two consecutive long bones of about equal
 * length (each at least half the longest bone of the chain), every bone past the wrist is shorter, and
 * at most one joint (the clavicle) comes before the shoulder. Null when the chain is too short to tell
 * (two bones or fewer); 'ambiguous' when no such pair or more than one fits.
 */
function armByLengths(r: RestBody, body: readonly number[]): Limb | 'ambiguous' | null {
  const n = body.length;
  if (n < 4) return null;
  const seg = (i: number): number => dist(r, body[i], body[i + 1]);
  let longest = 0;
  for (let i = 0; i + 1 < n; i++) longest = Math.max(longest, seg(i));
  const fits: number[] = [];
  for (let u = 0; u + 2 < n && u <= 1; u++) {
    const a = seg(u), b = seg(u + 1);
    if (a < 0.5 * longest || b < 0.5 * longest || a / b > ARM_PAIR_RATIO || b / a > ARM_PAIR_RATIO) continue;
    let shorter = true;
    for (let i = u + 2; i + 1 < n; i++) if (seg(i) > HAND_SHORTER * Math.min(a, b)) shorter = false;
    if (shorter) fits.push(u);
  }
  if (fits.length !== 1) return 'ambiguous';
  const u = fits[0];
  const limb: Limb = { upperArm: body[u], forearm: body[u + 1], hand: body[u + 2] };
  if (u === 1) limb.shoulder = body[0];
  return limb;
}

/** A limb's roles, or none with what kept them from being found (role paths like `left.hand`). */
export interface LimbFound {
  limb: Limb;
  missing: string[];
  ambiguous: string[];
  /** Why the roles could not be decided, for the error message. */
  notes?: string[];
}

/**
 * Maps one arm or leg along `path` (null when no chain was found): the roles its names propose when the
 * rest pose finds them plausible, else the ones rest geometry alone finds; never a guess between them.
 */
export function mapLimb(
  r: RestBody,
  side: Side,
  kind: 'arm' | 'leg',
  path: readonly number[] | null,
  plausible: (l: Limb) => boolean,
  geometric: (p: readonly number[]) => Limb | 'ambiguous',
): LimbFound {
  const roles: readonly LimbRole[] = kind === 'arm' ? ARM_ROLES : LEG_ROLES;
  const required = roles.filter((role) => !OPTIONAL_ROLES.has(role));
  const missing: string[] = [];
  const ambiguous: string[] = [];
  if (!path) {
    missing.push(...required.map((role) => `${side}.${role}`));
    return { limb: {}, missing, ambiguous };
  }
  const named = rolesFromNames(path, roles, (j) => limbRoleHints(r.names[j], side));
  if (complete(named, roles) && plausible(named)) return { limb: named, missing, ambiguous };
  const geo = geometric(path);
  if (geo !== 'ambiguous' && complete(geo, roles) && plausible(geo)) return { limb: geo, missing, ambiguous };
  const anyNamed = required.some((role) => named[role] !== undefined);
  if (geo === 'ambiguous' || (anyNamed && complete(named, roles))) {
    ambiguous.push(...required.map((role) => `${side}.${role}`));
    if (geo === 'ambiguous') {
      const why = kind === 'arm'
        ? `the ${side} arm's joints cannot be told apart: no finger fan marks the wrist and no single pair of consecutive bones of about equal length (upper arm and forearm) is followed only by shorter ones`
        : `the ${side} leg has no joint a thigh's length above the knee`;
      return { limb: {}, missing, ambiguous, notes: [why] };
    }
  } else {
    const partial = anyNamed ? named : geo;
    missing.push(...required.filter((role) => partial[role] === undefined).map((role) => `${side}.${role}`));
    if (required.every((role) => partial[role] !== undefined)) ambiguous.push(...required.map((role) => `${side}.${role}`));
  }
  return { limb: {}, missing, ambiguous };
}

/** Where an arm leaves the spine path (`attach`), its first joint, and how far it reaches to its side. */
export interface ArmBranch {
  attach: number;
  start: number;
  extent: number;
}

/** Branches off the spine path that reach far to one side: the arms. A branch reaching both sides is searched below. */
export function armBranches(r: RestBody, spinePath: readonly number[], midX: number): Partial<Record<Side, ArmBranch>> {
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
