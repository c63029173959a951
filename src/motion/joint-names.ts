/**
 * Reads what a joint name says in any of the common rig conventions (namespaces, prefixes, side markers,
 * role synonyms) and turns it into role hints; the rest pose decides (./humanoid.ts).
 */
import type { LimbRole, Side } from './humanoid.js';

/** What a joint name says, once prefixes, side markers and convention noise are stripped. */
export interface ParsedJointName {
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
function splitWords(name: string): readonly string[] {
  return Object.freeze(
    name
      .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
      .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
      .replace(/([A-Za-z])([0-9])/g, '$1 $2')
      .replace(/([0-9])([A-Za-z])/g, '$1 $2')
      .split(/[^A-Za-z0-9]+/)
      .filter((w) => w.length > 0)
      .map((w) => w.toLowerCase()),
  );
}

/**
 * The words of each name seen, kept: every request reads its rig's names again (mapping, root motion), and
 * the regular expressions cost more than the rest of a small request's mapping. Bounded: cleared when full.
 */
const WORDS = new Map<string, readonly string[]>();
const WORDS_MAX = 8192;

function words(name: string): readonly string[] {
  let w = WORDS.get(name);
  if (!w) {
    if (WORDS.size >= WORDS_MAX) WORDS.clear();
    w = splitWords(name);
    WORDS.set(name, w);
  }
  return w;
}

/** The lower-case words of a joint name after its namespace (`ik_foot_l` → ik, foot, l). */
export function nameWords(raw: string): readonly string[] {
  return words(raw.slice(raw.lastIndexOf(':') + 1));
}

/** Reads side, role words and joint kind from a name in any of the common rig conventions. */
export function parseJointName(raw: string): ParsedJointName {
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

/** Roles of the body's centre line that names may state. */
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

/**
 * The limb roles a name proposes for a joint on `side`, each with its preference (higher wins a tie):
 * none for minor and auxiliary joints, nor for a joint whose name says the other side.
 */
export function limbRoleHints(name: ParsedJointName, side: Side): ReadonlyArray<readonly [LimbRole, number]> {
  if (name.minor || name.auxiliary || (name.side !== null && name.side !== side)) return [];
  return Object.hasOwn(LIMB_WORDS, name.core) ? LIMB_WORDS[name.core] : [];
}

/** The centre-line role a name's words state, whatever side it names. */
export function centerRoleHint(name: ParsedJointName): CenterRole | undefined {
  return Object.hasOwn(CENTER_WORDS, name.core) ? CENTER_WORDS[name.core] : undefined;
}

/**
 * Assigns ordered roles along a path from names: the longest order-preserving match, ties to preferred
 * words and then to earlier joints (SMPL: `L_Wrist` is the hand, `L_Hand` below it is not).
 */
export function rolesFromNames<R extends string>(
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
