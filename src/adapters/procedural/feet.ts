/**
 * Foot placement: a foot is a list of plants (where and when it stands still); between plants it swings
 * along a smooth arc. Planted feet are fixed in the world by construction, which is what keeps the
 * generated motion free of foot skate.
 */
import { footModel } from '../../motion/foot.js';
import { mapHumanoid } from '../../motion/humanoid.js';
import { hypot2, qmul, qrotate, qx, qy, type Quat, type Vec3 } from '../../motion/quat.js';
import { bump, clamp, hermite, lerp, lerpAngle, minJerk, smin, smooth } from './curves.js';
import { PROCEDURAL_SKELETON, REST } from './rig.js';

/** One stance of one foot. */
export interface Plant {
  /** Seconds when the foot lands (−Infinity for the starting stance). */
  land: number;
  /** Seconds when it lifts (+Infinity for the final stance). */
  lift: number;
  /** Ankle ground position and the foot's heading (radians about +Y, 0 faces +Z) while planted. */
  x: number;
  z: number;
  yaw: number;
  /**
   * Seconds before lift-off during which the foot rolls off: the heel peels up pivoting about the ball,
   * then the toes peel up pivoting about the toe tip (0: lifts flat).
   */
  roll: number;
  /**
   * Seconds after landing during which the foot rocks down flat: about the heel when it lands heel first
   * (the swing's toeUp > 0), about the ball when it lands toe first (toeUp < 0). Default 0: lands flat.
   */
  strike?: number;
}

/** How a foot travels between plants. */
export interface SwingStyle {
  /** Extra ankle height at the top of the arc (metres). */
  clearance: number;
  /** Where in the swing (0..1) the arc is highest: early for a run's heel kick. */
  apex: number;
  /** Foot pitch (radians, toe down) reached at the end of a roll. */
  rollAngle: number;
  /** Toe-up pitch (radians) at landing: > 0 lands on the heel, < 0 on the ball (toe first). */
  toeUp: number;
  /** Fraction of the roll angle spent pivoting about the toe tip at the end of the roll (default 0.3). */
  toeOff?: number;
  /**
   * Fraction of the swing, at its end, in which the foot only comes down onto its plant (no more travel);
   * default 0 when landing on the heel, 0.08 toe first, 0.18 flat.
   */
  drop?: number;
  /**
   * Fraction of the swing, at its start, in which a foot that lifts flat only rises (no travel, no turn),
   * so no sole point slides or twists on the floor while it is still down; default 0.06.
   */
  rise?: number;
  /** 1: the roll is fastest at toe-off (a walk's push-off); 0 (default): it eases off a little before lift-off. */
  lateRoll?: number;
  /**
   * Toe-up pitch (radians) reached at lift-off when the foot leaves toe first: over the plant's roll time
   * the toes peel up pivoting about the heel, fastest at lift-off (a heel strike played backward, as in a
   * backward walk). Used only when rollAngle is 0; default 0.
   */
  liftToeUp?: number;
}

export const WALK_SWING: SwingStyle = { clearance: 0.07, apex: 0.35, rollAngle: 60 * (Math.PI / 180), toeUp: 8 * (Math.PI / 180), lateRoll: 1 };

/** The state of one foot at one instant. */
export interface FootPose {
  /** Ankle (Foot joint) world position. */
  ankle: Vec3;
  /** World rotation of the Foot joint. */
  rot: Quat;
  /** Local rotation of the ToeBase joint. */
  toeLocal: Quat;
  /** Whether the ankle is planted (heel down) and whether the toe is planted. */
  heel: boolean;
  toe: boolean;
  /**
   * Straighten the leg toward the ankle target by this weight (0..1): the target is moved along the
   * hip→ankle line to nearly full reach (a kick's extension). Default 0: the ankle goes where it says.
   */
  extend?: number;
}

/** The sole points of the canonical foot (shared foot model), relative to the ankle with the foot flat. */
const SOLE = (() => {
  const m = footModel(PROCEDURAL_SKELETON, mapHumanoid(PROCEDURAL_SKELETON)).sides[0];
  const [heel, ball, toe] = m;
  return {
    heel: [...heel.offset] as Vec3,
    ball: [...ball.offset] as Vec3,
    /** Toe tip relative to the toe joint. */
    tip: [...toe.offset] as Vec3,
  };
})();
const TOE: Vec3 = [...REST.toeOffset];
const IDENTITY: Quat = [0, 0, 0, 1];

/** A foot standing flat at (x, z) with heading `yaw`. */
export function flatFoot(x: number, z: number, yaw: number): FootPose {
  return { ankle: [x, REST.ankleHeight, z], rot: qy(yaw), toeLocal: IDENTITY, heel: true, toe: true };
}

/**
 * The ankle height that keeps every sole point (heel, ball, toe tip) at or above the floor with the foot
 * pitched by `pitch` (toe down) and the toes bent by `toeBend` relative to the foot (toe joint about +X).
 */
export function ankleClearance(pitch: number, toeBend = 0): number {
  const c = Math.cos(pitch), s = Math.sin(pitch);
  const c2 = Math.cos(pitch + toeBend), s2 = Math.sin(pitch + toeBend);
  const tipY = TOE[1] * c - TOE[2] * s + SOLE.tip[1] * c2 - SOLE.tip[2] * s2;
  // (No closure for the two sole points' heights: this runs twice a frame per foot.)
  return -Math.min(SOLE.heel[1] * c - SOLE.heel[2] * s, SOLE.ball[1] * c - SOLE.ball[2] * s, tipY);
}

/** Index of the plant in effect at time t: the last one that has landed (plants are in time order). */
function plantIndex(plants: readonly Plant[], t: number): number {
  let lo = 0;
  let hi = plants.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (plants[mid].land <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Where the plant's flat foot puts a point given relative to the ankle. */
function planted(p: Plant, v: Vec3): Vec3 {
  const d = qrotate(qy(p.yaw), v);
  return [p.x + d[0], REST.ankleHeight + d[1], p.z + d[2]];
}

/** Foot pitch and toe bend of a stance at time t, and which point it pivots about. */
interface StanceState {
  pitch: number;
  toeBend: number;
  pivot: 'flat' | 'heel' | 'ball' | 'tip';
}

function stanceState(p: Plant, t: number, style: SwingStyle): StanceState {
  const strike = p.strike ?? 0;
  if (strike > 0 && t < p.land + strike && style.toeUp !== 0) {
    // Rocks down onto the sole: fastest at contact, settling flat.
    const u = clamp((t - p.land) / strike, 0, 1);
    const pitch = -style.toeUp * (1 - u) * (1 - u);
    return style.toeUp > 0 ? { pitch, toeBend: 0, pivot: 'heel' } : { pitch, toeBend: -pitch, pivot: 'ball' };
  }
  const rollStart = p.lift - p.roll;
  if (p.roll > 0 && t > rollStart && style.rollAngle <= 0 && (style.liftToeUp ?? 0) > 0) {
    const u = clamp((t - rollStart) / p.roll, 0, 1);
    return { pitch: -(style.liftToeUp ?? 0) * u * u, toeBend: 0, pivot: 'heel' };
  }
  if (p.roll > 0 && t > rollStart && style.rollAngle > 0) {
    const u = clamp((t - rollStart) / p.roll, 0, 1);
    // Slow heel-off, then the roll speeds up (fastest at toe-off with `lateRoll` 1, else easing off a little).
    const pitch = style.rollAngle * u * u * (1 + (1 - u) * (1 - (style.lateRoll ?? 0)));
    const ballEnd = style.rollAngle * (1 - (style.toeOff ?? 0.3));
    if (pitch <= ballEnd) return { pitch, toeBend: -pitch, pivot: 'ball' };
    return { pitch, toeBend: -ballEnd, pivot: 'tip' };
  }
  return { pitch: 0, toeBend: 0, pivot: 'flat' };
}

/** The planted foot at time t of stance `p`: the pivot point stays where the flat foot put it. */
function stanceFoot(p: Plant, t: number, style: SwingStyle): FootPose {
  const st = stanceState(p, t, style);
  if (st.pivot === 'flat') return flatFoot(p.x, p.z, p.yaw);
  const yawQ = qy(p.yaw);
  const rot = qmul(yawQ, qx(st.pitch));
  let ankle: Vec3;
  if (st.pivot === 'heel') {
    const at = planted(p, SOLE.heel);
    const d = qrotate(rot, SOLE.heel);
    ankle = [at[0] - d[0], at[1] - d[1], at[2] - d[2]];
  } else if (st.pivot === 'ball') {
    const at = planted(p, SOLE.ball);
    const d = qrotate(rot, SOLE.ball);
    ankle = [at[0] - d[0], at[1] - d[1], at[2] - d[2]];
  } else {
    // The toe tip stays: the toe segment pitches about it, the foot hangs off the toe joint.
    const tip = planted(p, [TOE[0] + SOLE.tip[0], TOE[1] + SOLE.tip[1], TOE[2] + SOLE.tip[2]]);
    const toeRot = qmul(yawQ, qx(st.pitch + st.toeBend));
    const dt = qrotate(toeRot, SOLE.tip);
    const da = qrotate(rot, TOE);
    ankle = [tip[0] - dt[0] - da[0], tip[1] - dt[1] - da[1], tip[2] - dt[2] - da[2]];
  }
  return { ankle, rot, toeLocal: qx(st.toeBend), heel: st.pivot === 'heel', toe: st.pivot !== 'heel' };
}

/** The foot at time t (seconds). */
export function footAt(plants: readonly Plant[], t: number, style: SwingStyle): FootPose {
  const k = plantIndex(plants, t);
  const p = plants[k];
  const next = plants[k + 1];
  if (t <= p.lift || !next) return stanceFoot(p, t, style);
  return swingFoot(p, next, t, style);
}

/** Time step of the finite differences that read the stance's velocities at lift-off and touch-down (s). */
const DT = 1e-3;
/** How high the lowest sole point is kept once the swinging ankle is LIFT_RAMP away from either plant (m), and how softly. */
const LIFT_MARGIN = 0.015;
const LIFT_RAMP = 0.02;
const LIFT_SOFTNESS = 0.02;
/** Fractions of the swing spent rising before travelling (a flat lift-off) and coming down after (by landing). */
const FLAT_LIFT = 0.06;
const FLAT_LAND = 0.18;
const HEEL_LAND = 0;
const TOE_LAND = 0.08;
/** A smooth maximum never below max(a, b). */
const smax = (a: number, b: number, k: number): number => -smin(-a, -b, k);

/** The stances at a swing's two ends and a step inside them (the finite differences' samples). */
interface SwingEnds {
  to: Plant;
  style: SwingStyle;
  /** The two plants' fields these were computed from (a generator may still edit its plants). */
  key: number[];
  a0: FootPose; a0b: FootPose; a1: FootPose; a1b: FootPose;
  st0: StanceState; st0b: StanceState; st1: StanceState; st1b: StanceState;
}

/** Per lift-off plant, its swing's ends: the same for every frame of the swing, so computed once. */
const swingCache = new WeakMap<Plant, SwingEnds>();

const plantKey = (a: Plant, b: Plant): number[] => [a.land, a.lift, a.x, a.z, a.yaw, a.roll, a.strike ?? 0, b.land, b.lift, b.x, b.z, b.yaw, b.roll, b.strike ?? 0];

/** Whether the plants still hold the fields `key` was taken from (compared without building a new key). */
function sameKey(key: number[], a: Plant, b: Plant): boolean {
  return Object.is(key[0], a.land) && Object.is(key[1], a.lift) && Object.is(key[2], a.x) && Object.is(key[3], a.z)
    && Object.is(key[4], a.yaw) && Object.is(key[5], a.roll) && Object.is(key[6], a.strike ?? 0)
    && Object.is(key[7], b.land) && Object.is(key[8], b.lift) && Object.is(key[9], b.x) && Object.is(key[10], b.z)
    && Object.is(key[11], b.yaw) && Object.is(key[12], b.roll) && Object.is(key[13], b.strike ?? 0);
}

function swingEnds(from: Plant, to: Plant, style: SwingStyle): SwingEnds {
  const hit = swingCache.get(from);
  if (hit && hit.to === to && hit.style === style && sameKey(hit.key, from, to)) return hit;
  const ends: SwingEnds = {
    to,
    style,
    key: plantKey(from, to),
    a0: stanceFoot(from, from.lift, style),
    a0b: stanceFoot(from, from.lift - DT, style),
    a1: stanceFoot(to, to.land, style),
    a1b: stanceFoot(to, to.land + DT, style),
    st0: stanceState(from, from.lift, style),
    st0b: stanceState(from, from.lift - DT, style),
    st1: stanceState(to, to.land, style),
    st1b: stanceState(to, to.land + DT, style),
  };
  swingCache.set(from, ends);
  return ends;
}

/** One coordinate of the swinging ankle: the Hermite curve between the two stances' positions and velocities. */
function swingAxis(a0: FootPose, a0b: FootPose, a1: FootPose, a1b: FootPose, i: 0 | 1 | 2, k0: number, k1: number, s: number): number {
  return hermite(a0.ankle[i], (a0.ankle[i] - a0b.ankle[i]) * k0, a1.ankle[i], (a1b.ankle[i] - a1.ankle[i]) * k1, s);
}

/**
 * The foot between plants `from` and `to` at time t: the ankle leaves with the velocity the roll-off gave
 * it and arrives with the velocity the landing rock needs (cubic Hermite, plus the clearance arc), the
 * pitch likewise, so lift-off and touch-down carry their motion instead of stopping dead. The ankle is
 * kept high enough for every sole point to clear the floor.
 */
function swingFoot(from: Plant, to: Plant, t: number, style: SwingStyle): FootPose {
  const T = Math.max(to.land - from.lift, 1e-3);
  const s0 = clamp((t - from.lift) / T, 0, 1);
  // A foot that lifts flat rises before it travels, and one that lands flat travels before it comes
  // down, so no sole point slides over the floor (a foot that rolls off or rocks down carries its motion).
  const w0 = from.roll > 0 && (style.rollAngle > 0 || (style.liftToeUp ?? 0) > 0) ? 0 : (style.rise ?? FLAT_LIFT);
  const w1 = style.drop ?? ((to.strike ?? 0) > 0 && style.toeUp !== 0 ? (style.toeUp > 0 ? HEEL_LAND : TOE_LAND) : FLAT_LAND);
  const s = clamp((s0 - w0) / (1 - w0 - w1), 0, 1);
  const { a0, a0b, a1, a1b, st0, st0b, st1, st1b } = swingEnds(from, to, style);
  // Velocities per unit of s (finite differences of the stance just before lift-off and after touch-down).
  const k0 = T / DT, k1 = T / DT;
  const pitch = hermite(st0.pitch, (st0.pitch - st0b.pitch) * k0, st1.pitch, (st1b.pitch - st1.pitch) * k1, s);
  const toeBend = lerp(st0.toeBend, st1.toeBend, smooth(s / 0.5));
  const yaw = lerpAngle(from.yaw, to.yaw, minJerk(s));
  const y = swingAxis(a0, a0b, a1, a1b, 1, k0, k1, s) + style.clearance * bump(s0, style.apex);
  const x = swingAxis(a0, a0b, a1, a1b, 0, k0, k1, s), z = swingAxis(a0, a0b, a1, a1b, 2, k0, k1, s);
  // A sole point near the floor may not travel along it: the lowest point clears the floor by up to
  // LIFT_MARGIN as soon as the ankle has moved away from where it lifted off or before where it lands.
  const away = Math.min(hypot2(x - a0.ankle[0], z - a0.ankle[2]), hypot2(x - a1.ankle[0], z - a1.ankle[2]));
  const margin = LIFT_MARGIN * smooth(away / LIFT_RAMP);
  return {
    ankle: [x, smax(y, ankleClearance(pitch, toeBend) + margin, LIFT_SOFTNESS), z],
    rot: qmul(qy(yaw), qx(pitch)),
    toeLocal: qx(toeBend),
    heel: false,
    toe: false,
  };
}
