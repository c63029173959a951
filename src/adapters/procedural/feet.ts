/**
 * Foot placement: a foot is a list of plants (where and when it stands still); between plants it swings
 * along a smooth arc. Planted feet are fixed in the world by construction, which is what keeps the
 * generated motion free of foot skate.
 */
import { qmul, qrotate, qx, qy, type Quat, type Vec3 } from '../../motion/quat.js';
import { bump, clamp, lerp, lerpAngle, minJerk, smooth } from './curves.js';
import { REST } from './rig.js';

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
  /** Seconds before lift-off during which the heel peels up and the foot rolls over the planted toe (0: lifts flat). */
  roll: number;
}

/** How a foot travels between plants. */
export interface SwingStyle {
  /** Extra ankle height at the top of the arc (metres). */
  clearance: number;
  /** Where in the swing (0..1) the arc is highest: early for a run's heel kick. */
  apex: number;
  /** Foot pitch (radians, toe down) reached at the end of a roll. */
  rollAngle: number;
  /** Toe-up pitch (radians) before landing. */
  toeUp: number;
}

export const WALK_SWING: SwingStyle = { clearance: 0.06, apex: 0.45, rollAngle: 50 * (Math.PI / 180), toeUp: 8 * (Math.PI / 180) };

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
}

const TOE: Vec3 = [...REST.toeOffset];
const HEEL: Vec3 = [0, -REST.ankleHeight, -0.05];
const IDENTITY: Quat = [0, 0, 0, 1];

/** A foot standing flat at (x, z) with heading `yaw`. */
export function flatFoot(x: number, z: number, yaw: number): FootPose {
  return { ankle: [x, REST.ankleHeight, z], rot: qy(yaw), toeLocal: IDENTITY, heel: true, toe: true };
}

/** The ankle height that keeps both the toe and the heel above the floor at foot pitch `pitch`. */
export function ankleClearance(pitch: number): number {
  const c = Math.cos(pitch);
  const s = Math.sin(pitch);
  return Math.max(-TOE[1] * c + TOE[2] * s, -HEEL[1] * c + HEEL[2] * s);
}

/** Where the toe of a flat plant is. */
function toeOf(p: Plant): Vec3 {
  const d = qrotate(qy(p.yaw), TOE);
  return [p.x + d[0], REST.ankleHeight + d[1], p.z + d[2]];
}

/** Ankle position and pitch of a plant rolled over its toe by `pitch`. */
function rolledAnkle(p: Plant, pitch: number): Vec3 {
  const toe = toeOf(p);
  const d = qrotate(qmul(qy(p.yaw), qx(pitch)), TOE);
  return [toe[0] - d[0], toe[1] - d[1], toe[2] - d[2]];
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

/** The foot at time t (seconds). */
export function footAt(plants: readonly Plant[], t: number, style: SwingStyle): FootPose {
  const k = plantIndex(plants, t);
  const p = plants[k];
  const next = plants[k + 1];
  if (t <= p.lift || !next) {
    const rollStart = p.lift - p.roll;
    if (p.roll > 0 && t > rollStart) {
      const u = clamp((t - rollStart) / p.roll, 0, 1);
      const pitch = style.rollAngle * u * Math.sqrt(u);
      return { ankle: rolledAnkle(p, pitch), rot: qmul(qy(p.yaw), qx(pitch)), toeLocal: qx(-pitch), heel: false, toe: true };
    }
    return flatFoot(p.x, p.z, p.yaw);
  }
  return swingFoot(p, next, (t - p.lift) / (next.land - p.lift), style);
}

/** The foot a fraction s of the way through its swing from plant `from` to plant `to`. */
function swingFoot(from: Plant, to: Plant, s: number, style: SwingStyle): FootPose {
  const pitch0 = from.roll > 0 ? style.rollAngle : 0;
  const a0 = pitch0 > 0 ? rolledAnkle(from, pitch0) : [from.x, REST.ankleHeight, from.z];
  const h = minJerk(s);
  const pitch = pitch0 * (1 - smooth(s / 0.55)) - style.toeUp * bump(s, 0.75);
  const y = lerp(a0[1], REST.ankleHeight, h) + style.clearance * bump(s, style.apex);
  const yaw = lerpAngle(from.yaw, to.yaw, h);
  return {
    ankle: [lerp(a0[0], to.x, h), Math.max(y, ankleClearance(pitch)), lerp(a0[2], to.z, h)],
    rot: qmul(qy(yaw), qx(pitch)),
    toeLocal: qx(-pitch0 * (1 - smooth(s / 0.4))),
    heel: false,
    toe: false,
  };
}
