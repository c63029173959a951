/** Maps any humanoid skeleton onto body roles (hips, spine, limbs, head): joint names propose, rest-pose structure decides. */
import { GatewayError } from '../spec/errors.js';
import type { Skeleton } from '../spec/motion.js';
import { centerRoleHint, rolesFromNames } from './joint-names.js';
import {
  ARM_ROLES, LEG_ROLES, armBranches, armFromGeometry, armIsPlausible, legFromGeometry, legIsPlausible, mapLimb, type ArmBranch,
  type Limb, type LimbFound,
} from './limbs.js';
import { bodyKids, dist, mainPath, restBody, subtree, x, y, z, type RestBody } from './rest-body.js';

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

/** Problems found while mapping: roles not found, and roles whose evidence conflicts. */
class Findings {
  readonly missing: string[] = [];
  readonly ambiguous: string[] = [];
  readonly notes: string[] = [];

  /** Records what kept a limb's roles from being found, and returns its roles. */
  limb(found: LimbFound): Limb {
    this.missing.push(...found.missing);
    this.ambiguous.push(...found.ambiguous);
    this.notes.push(...(found.notes ?? []));
    return found.limb;
  }
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
function findHips(r: RestBody, f: Findings): HipsFound | null {
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
    const named = found.filter((h) => centerRoleHint(r.names[h.hips]) === 'hips');
    if (named.length === 1) return named[0];
    f.ambiguous.push('hips');
    return null;
  }
  if (found.length === 1) return found[0];
  // No leg pair below any joint: take a joint named as hips (else the root) to report what else is missing.
  const named = r.s.names.findIndex((_, j) => !r.off[j] && r.names[j].side === null && centerRoleHint(r.names[j]) === 'hips');
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
 * Maps a skeleton's joints to humanoid roles. Names are read in every common convention (prefixes,
 * side markers, role synonyms) and checked against the rest pose; a rig whose names say nothing maps
 * from topology and rest positions alone. Throws GatewayError MG-PRO-004 naming the roles it could not
 * find (`details.missing_roles`) or could not decide (`details.ambiguous`), never guessing silently.
 */
export function mapHumanoid(s: Skeleton): HumanoidMap {
  const key = skeletonKey(s);
  let map = MAPPED.get(key);
  if (!map) {
    map = mapFresh(s);
    if (MAPPED.size >= MAPPED_MAX) MAPPED.delete(MAPPED.keys().next().value!);
    MAPPED.set(key, map);
  }
  return copyMap(map);
}

/**
 * Maps already worked out, by skeleton content (every request rebuilds its skeleton from the wire, and
 * the procedural model's own rig comes back on every job); oldest dropped first. Failures are not kept.
 */
const MAPPED = new Map<string, HumanoidMap>();
const MAPPED_MAX = 64;

/** Everything a map depends on: names, parents, rest offsets and rotations (exact bits). */
function skeletonKey(s: Skeleton): string {
  return `${s.names.join('\u0000')}\u0001${s.parents.join(',')}\u0001${s.offsets.join(',')}\u0001${s.restRotations.join(',')}`;
}

/** A copy the caller may change without touching the cached map. */
function copyMap(m: HumanoidMap): HumanoidMap {
  return { ...m, spine: [...m.spine], left: { ...m.left }, right: { ...m.right } };
}

function mapFresh(s: Skeleton): HumanoidMap {
  const r = restBody(s);
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
      const role = n.side === null ? centerRoleHint(n) : undefined;
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
    legs[side] = f.limb(mapLimb(r, side, 'leg', legPath, (l) => legIsPlausible(r, l, hips), (p) => legFromGeometry(r, p, hips)));
    const branch = branches[side];
    const armPath = branch ? mainPath(r, branch.start, (c) => Math.max(...subtree(r, c).map((k) => dist(r, k, branch.start)))) : null;
    arms[side] = f.limb(mapLimb(r, side, 'arm', armPath, (l) => armIsPlausible(r, l, side, midX, span), (p) => armFromGeometry(r, p)));
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
