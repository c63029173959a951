/**
 * A skeleton's rest pose as the humanoid mapper reads it: world positions, which joints are body (not IK,
 * props or hair), how tall it stands, and walks over the body tree.
 */
import type { Skeleton } from '../spec/motion.js';
import { parseJointName, type ParsedJointName } from './joint-names.js';
import { childrenOf, restPositions } from './skeleton.js';

/** A skeleton's rest pose read as a body. */
export interface RestBody {
  /** The skeleton read. */
  s: Skeleton;
  /** World rest positions (J×3). */
  pos: Float64Array;
  /** Children of each joint, body or not. */
  kids: number[][];
  /** What each joint's name says. */
  names: ParsedJointName[];
  /** Auxiliary joints and everything below them: not part of the body. */
  off: boolean[];
  /** Lowest and highest body joint at rest, and the distance between them (at least 1e-6). */
  floor: number;
  top: number;
  height: number;
}

/** Rest position coordinates of joint `j`. */
export const x = (r: RestBody, j: number): number => r.pos[j * 3];
export const y = (r: RestBody, j: number): number => r.pos[j * 3 + 1];
export const z = (r: RestBody, j: number): number => r.pos[j * 3 + 2];
/** Rest distance between joints `a` and `b`. */
export const dist = (r: RestBody, a: number, b: number): number =>
  Math.hypot(r.pos[a * 3] - r.pos[b * 3], r.pos[a * 3 + 1] - r.pos[b * 3 + 1], r.pos[a * 3 + 2] - r.pos[b * 3 + 2]);

/** Body joints of the subtree under `j` (itself included). */
export function subtree(r: RestBody, j: number): number[] {
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
export const bodyKids = (r: RestBody, j: number): number[] => r.kids[j].filter((c) => !r.off[c]);

/** From `start`, follows at each joint the child with the highest `score` until a leaf. */
export function mainPath(r: RestBody, start: number, score: (c: number) => number): number[] {
  const path = [start];
  for (let j = start; ; ) {
    const kids = bodyKids(r, j);
    if (kids.length === 0) return path;
    j = kids.reduce((a, b) => (score(b) > score(a) ? b : a));
    path.push(j);
  }
}

/** Reads a skeleton's rest pose as a body: auxiliary joints (IK, props, hair…) and their subtrees are left out. */
export function restBody(s: Skeleton): RestBody {
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
