/**
 * Everyday actions and gestures on planted feet (push, pull, pick up, carry, drink, climb a ladder, look
 * at a watch, check a phone, talk, salute, thumbs up, facepalm, yawn) and fighting moves (dodge, block,
 * uppercut, hook, roundhouse kick, lunge, jumping jacks). Hands that touch something (a box, a rope, a
 * rung) are placed in the world and followed with IK while the body moves.
 */
import { qx, qy, qz, type Vec3 } from '../../../motion/quat.js';
import { DEG, bump, clamp, envelope, lerp, minJerk, smooth, track, track3, type Keys, type Keys3 } from '../curves.js';
import { flatFoot, footAt, WALK_SWING, type FootPose, type Plant, type SwingStyle } from '../feet.js';
import { gait, type GaitSpec } from '../gait.js';
import type { Generated, MotionInput } from '../generator.js';
import { HANGING, type ArmPose, type BodyPose } from '../pose.js';
import { between, jitter, pick } from '../random.js';
import { REST } from '../rig.js';
import { applyPosture, styleOf } from '../style.js';
import { handTarget, onToes } from './frame.js';
import { actingSide } from './gestures.js';
import { durationOf, standing } from './standing.js';

const G = 9.81;
const sideName = (s: 0 | 1) => (s === 0 ? 'left' : 'right');
const sx = (side: 0 | 1, w = REST.footWidth) => (side === 0 ? w : -w);

function withArm(body: BodyPose, side: 0 | 1, arm: ArmPose): void {
  body.arms = side === 0 ? [arm, body.arms[1]] : [body.arms[0], arm];
}

/** Raise-hold-lower weight over the whole clip. */
function hold(t: number, D: number, rise = 0.45, fall = 0.5): number {
  const f = Math.min(fall, D * 0.25);
  const r = Math.min(rise, D * 0.3);
  return D < 1.2 ? envelope(t, 0, r, D + 1, f) : envelope(t, 0.05, r, D, f);
}

/** A staggered stance: one foot stepped forward (or back) early in the clip and held. */
function staggered(side: 0 | 1, dz: number, at: number, dur = 0.45): Plant[] {
  return [
    { land: -Infinity, lift: at, x: sx(side), z: 0, yaw: 0, roll: 0 },
    { land: at + dur, lift: Infinity, x: sx(side, 0.1), z: dz, yaw: 0, roll: 0 },
  ];
}
const STEP: SwingStyle = { clearance: 0.05, apex: 0.5, rollAngle: 0, toeUp: 5 * DEG };

/** Pushing something heavy ahead: a step into a staggered stance, hands on it, leaning in and driving forward in shoves. */
export function push(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const D = durationOf(input);
  const front = actingSide(mods, rng, 0.5);
  const period = jitter(rng, 1.3, 0.1) / s.speed;
  const t0 = 0.6;
  const surface = between(rng, 1.1, 1.3);
  const plants = staggered(front, 0.3, 0.15);
  return standing(input, {
    pose(t, body) {
      const w = hold(t, D, 0.6, 0.6);
      const u = t > t0 ? (t - t0) / period : 0;
      const drive = (0.5 - 0.5 * Math.cos(2 * Math.PI * u)) * w * s.energy;
      body.root = [0, REST.hipsHeight - 0.05 * w, 0.06 * w + 0.08 * drive];
      body.pelvis = [10 * DEG * w + 6 * DEG * drive, 0, 0];
      body.spine = [12 * DEG * w + 4 * DEG * drive, 0, 0];
      body.head = [-16 * DEG * w, 0, 0];
      const z = 0.62;
      body.arms = [0, 1].map((side) => ({ ...HANGING, reach: { hand: handTarget(body, side as 0 | 1, [sx(side as 0 | 1, 0.2), surface, z]), pole: [1, -1, -0.4], w } })) as unknown as [ArmPose, ArmPose];
    },
    feet: (t) => (front === 0 ? [footAt(plants, t, STEP), flatFoot(-REST.footWidth, 0, 0)] : [flatFoot(REST.footWidth, 0, 0), footAt(plants, t, STEP)]),
    life: () => 0.3,
    info: { front_foot: sideName(front), shove_s: Math.round(period * 100) / 100 },
  }, s);
}

/** Pulling a rope hand over hand: leaning back in a staggered stance, each hand reaching forward and drawing back in turn. */
export function pull(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const D = durationOf(input);
  const front = actingSide(mods, rng, 0.5);
  const period = jitter(rng, 1.1, 0.1) / s.speed;
  const t0 = 0.6;
  const plants = staggered(front, 0.28, 0.15);
  return standing(input, {
    pose(t, body) {
      const w = hold(t, D, 0.6, 0.6);
      const u = t > t0 ? (t - t0) / period : 0;
      const heave = (0.5 - 0.5 * Math.cos(2 * Math.PI * u)) * w;
      body.root = [0, REST.hipsHeight - 0.07 * w - 0.02 * heave, 0.04 * w - 0.08 * heave];
      body.pelvis = [4 * DEG * w - 8 * DEG * heave, 0, 0];
      body.spine = [-4 * DEG * w - 6 * DEG * heave, 0, 0];
      body.head = [6 * DEG * w, 0, 0];
      // Hands on a rope along z at x ≈ 0: one forward while the other draws back.
      body.arms = [0, 1].map((side) => {
        const ph = Math.sin(2 * Math.PI * u + (side === 0 ? 0 : Math.PI));
        const hz = 0.35 + 0.14 * ph * w;
        return { ...HANGING, reach: { hand: [0.06 + 0.02 * side, 0.02, hz], pole: [1, -1, -0.3], w }, wrist: qx(0.3) };
      }) as unknown as [ArmPose, ArmPose];
    },
    feet: (t) => (front === 0 ? [footAt(plants, t, STEP), flatFoot(-REST.footWidth, 0, 0)] : [flatFoot(REST.footWidth, 0, 0), footAt(plants, t, STEP)]),
    life: () => 0.3,
    info: { front_foot: sideName(front), pull_s: Math.round(period * 100) / 100 },
  }, s);
}

/** Picking something up from the floor ahead: knees and hips bend, both hands reach it, grip, and stand holding it at the waist. */
export function pickUp(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const D = durationOf(input);
  const t0 = Math.min(0.3, D * 0.1);
  const span = jitter(rng, 2.4, 0.1) / s.speed;
  const T = Math.min(span, Math.max(0.8, D - t0 - 0.1));
  const at = (x: number) => t0 + x * T;
  const objZ = between(rng, 0.3, 0.4);
  const down: Keys = [[at(0), 0], [at(0.38), 1], [at(0.52), 1], [at(0.9), 0]];
  return standing(input, {
    pose(t, body) {
      const p = track(down, t);
      body.root = [0, lerp(REST.hipsHeight, 0.6, p), -0.16 * p];
      body.pelvis = [40 * DEG * p, 0, 0];
      body.spine = [28 * DEG * p, 0, 0];
      body.head = [-10 * DEG * p, 0, 0];
      const held = t > at(0.45);
      const w = clamp(smooth((t - at(0.1)) / (0.28 * T)), 0, 1);
      // The object: on the floor until gripped, then carried up with the hands to the waist.
      const lift = held ? smooth((t - at(0.52)) / (0.38 * T)) : 0;
      const obj: Vec3 = [0, lerp(0.1, 0.95, lift), lerp(objZ, 0.3, lift)];
      body.arms = [0, 1].map((side) => ({ ...HANGING, reach: { hand: handTarget(body, side as 0 | 1, [sx(side as 0 | 1, 0.12), obj[1], obj[2]]), pole: [1, -0.6, -0.6], w } })) as unknown as [ArmPose, ArmPose];
    },
    kneePoles: () => [[0.15, 0, 1], [-0.15, 0, 1]],
    floor: 0,
    life: () => 0.3,
    info: { object_z_m: Math.round(objZ * 100) / 100 },
  }, s);
}

/** Walking while carrying a box in both arms: shorter, slower steps, no arm swing, leaning back a little against the load. */
export function carry(input: MotionInput): Generated {
  const { frames, fps, rng, mods } = input;
  const s = styleOf(mods);
  const load = between(rng, 0, 1);
  const k = Math.sqrt(s.speed) * jitter(rng, 1, 0.08);
  const spec: GaitSpec = {
    cadence: 1.65 * k, step: mods.inPlace ? 0 : 0.55 * k, stance: 0.63, direction: 0, width: 0.1, lead: 0.38, roll: 0.4,
    swing: { ...WALK_SWING, clearance: 0.05 }, height: 0.92, bob: 0.014, flight: false, sway: 0.03, pelvisYaw: 3 * DEG,
    pelvisRoll: 3 * DEG, lean: -3 * DEG * load, arms: { swing: 0, flex: 0, elbow: 0, elbowSwing: 0, out: 8 * DEG },
    spineCounter: 0.1, headPitch: 4 * DEG, leadSide: rng() < 0.5 ? 0 : 1, ramp: 0.6,
    upper(t, body, amp) {
      const w = smooth(t / 0.5);
      body.arms = [0, 1].map(() => ({ ...HANGING, reach: { hand: [0.2, -0.12, 0.3], pole: [1, -0.6, -0.4], w } })) as unknown as [ArmPose, ArmPose];
      applyPosture(body, s, amp);
    },
  };
  const g = gait(spec, frames, fps);
  g.info = { ...g.info, load: Math.round(load * 100) / 100 };
  return g;
}

/** Drinking from a cup: the hand brings it to the mouth, the head tips back for a few sips, the cup comes down. */
export function drink(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const side = actingSide(mods, rng, 0.7);
  const D = durationOf(input);
  const t0 = 0.2;
  const up = 0.7 / s.speed;
  // The cup comes down over 0.8 s, and only whole sips are taken before it does: a sip cut short snapped
  // the head and wrist back in a frame.
  const lower = 0.8 / s.speed;
  const room = Math.max(0.3, D - lower - 0.1 - t0 - up);
  const fit = Math.floor(room / (0.9 / s.speed));
  const sips = clamp(Math.min(mods.count ?? Math.round(between(rng, 1, 3)), Math.max(1, fit)), 1, 6);
  const sip = fit >= 1 ? 0.9 / s.speed : room;
  const end = t0 + up + sips * sip;
  return standing(input, {
    pose(t, body) {
      const w = smooth((t - t0) / up) * (1 - smooth((t - end) / lower));
      const k = Math.floor((t - t0 - up) / sip);
      const u = t - t0 - up - k * sip;
      const tip = k >= 0 && k < sips && t < end ? bump(u / sip, 0.4) : 0;
      const low: Vec3 = [0.2, -0.35, 0.12];
      const mouth: Vec3 = [0.05, 0.36 + 0.02 * tip, 0.15];
      withArm(body, side, { ...HANGING, reach: { hand: [lerp(low[0], mouth[0], w), lerp(low[1], mouth[1], w), lerp(low[2], mouth[2], w)], pole: [1, -1, -0.3], w: smooth((t - t0) / 0.3) * (1 - smooth((t - end - 0.5 * lower) / (0.5 * lower))) }, wrist: qz((side === 0 ? 1 : -1) * 0.6 * tip) });
      body.neck = [-8 * DEG * tip, 0, 0];
      body.head = [-18 * DEG * tip - 4 * DEG * w, 0, 0];
    },
    info: { hand: sideName(side), sips },
  }, s);
}

/** Climbing a vertical ladder just ahead: hands and feet on rungs 30 cm apart, opposite hand and foot moving together. */
export function climbLadder(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const rung = 0.3;
  const T = jitter(rng, 1.5, 0.1) / s.speed;
  const ladderZ = 0.36;
  const t0 = 0.4;
  const climb = (t: number) => {
    // Eases into the climbing rate over half a cycle.
    const x = t - t0;
    const R = 0.5 * T;
    const d = x <= 0 ? 0 : x >= R ? R / 2 + (x - R) : R * ((x / R) ** 3 - (x / R) ** 4 / 2);
    return (d * 2 * rung) / T;
  };
  // Limb i (0 left hand, 1 right hand, 2 left foot, 3 right foot) holds its rung until its turn, then moves
  // two rungs up; the right foot (still on the floor) and the left hand go first.
  const offset = [0.5, 0, 0, 0.5] as const;
  /**
   * Height of limb i (its rung, rising two rungs in the last 45 % of its cycle) and how far through a
   * move it is (0..1 bump). A hand travels 60 cm per move: over 45 % of a 1.5 s cycle (0.68 s) the
   * shoulder peaks near 450°/s; over 30 % it snapped up at 700°/s. Under 50 %, the two diagonal pairs
   * never move at once.
   */
  const MOVE = 0.45;
  const limb = (i: number, t: number, base: number): { y: number; moving: number } => {
    if (t < t0) return { y: base, moving: 0 };
    const u = (t - t0) / T + offset[i];
    const n = Math.floor(u);
    const w = u - n;
    const m = w > 1 - MOVE ? (w - (1 - MOVE)) / MOVE : 0;
    return { y: base + (n + minJerk(m)) * 2 * rung, moving: bump(m) };
  };
  const start = (t: number) => smooth((t - 0.05) / (t0 - 0.05));
  return standing(input, {
    pose(t, body) {
      const y = climb(t);
      const st = start(t);
      body.root = [0, REST.hipsHeight + y - 0.06 * st, 0.08 * st];
      body.free = t > t0;
      body.pelvis = [4 * DEG * st, 0, 0];
      body.spine = [-2 * DEG * st, 0, 0];
      body.head = [-18 * DEG * st, 0, 0];
      body.arms = [0, 1].map((side) => {
        const h = limb(side, t, side === 0 ? 1.15 : 1.15 + rung);
        return { ...HANGING, reach: { hand: handTarget(body, side as 0 | 1, [sx(side as 0 | 1, 0.2), h.y, ladderZ - 0.04 - 0.05 * h.moving]), pole: [1, -1, -0.6], w: st } };
      }) as unknown as [ArmPose, ArmPose];
    },
    feet(t) {
      const st = start(t);
      return [0, 1].map((side) => {
        // The left foot steps onto the first rung during the start; the right leaves the floor on its first move.
        const l = limb(2 + side, t, side === 0 ? rung : 0);
        const y = side === 0 ? rung * st + (l.y - rung) : l.y;
        const onLadder = side === 0 ? st : clamp(y / rung, 0, 1);
        const ankleY = REST.ankleHeight + y;
        const down = y < 0.002 && l.moving === 0;
        // A stepping foot rises clear of its rung before it moves in or out.
        return { ankle: [sx(side as 0 | 1, 0.12), ankleY, lerp(0, ladderZ - 0.12, smooth(onLadder)) - 0.05 * l.moving * smooth((y - (side === 0 ? rung : 0)) / 0.06)], rot: qy(0), toeLocal: [0, 0, 0, 1], heel: down, toe: down } satisfies FootPose;
      }) as unknown as readonly [FootPose, FootPose];
    },
    life: () => 0.1,
    info: { rung_m: rung, climb_rate_m_s: Math.round((2 * rung / T) * 100) / 100 },
  }, s);
}

/** Checking the time: the wrist comes up in front of the chest, the head looks down at it, and back. */
export function lookAtWatch(input: MotionInput): Generated {
  const { mods } = input;
  const s = styleOf(mods);
  const D = durationOf(input);
  const side = mods.side === 'right' ? 1 : 0;
  const looks = D > 4 ? 2 : 1;
  const span = Math.max(D, 0.5) / looks;
  return standing(input, {
    pose(t, body) {
      const u = (t % span) / span;
      const w = envelope(u, 0.08, 0.18, 0.85, 0.2);
      withArm(body, side, { ...HANGING, reach: { hand: [0.02, 0.02, 0.3], pole: [1, -1, -0.2], w }, wrist: qx(-0.3 * w) });
      const other = (1 - side) as 0 | 1;
      // The other hand pulls the sleeve back, then drops.
      const tap = envelope(u, 0.12, 0.15, 0.4, 0.15);
      withArm(body, other, { ...HANGING, reach: { hand: [-0.12, 0.0, 0.3], pole: [1, -1, -0.2], w: tap * 0.8 } });
      body.neck = [12 * DEG * w, 0, 0];
      body.head = [18 * DEG * w, (side === 0 ? 1 : -1) * 6 * DEG * w, 0];
    },
    info: { wrist: sideName(side as 0 | 1), looks },
  }, s);
}

/** Looking at a phone held in both hands at chest height, head down, thumb scrolling, a glance up now and then. */
export function checkPhone(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const D = durationOf(input);
  const glance = between(rng, 1.8, Math.max(2, D - 0.8));
  const twoHands = rng() < 0.5;
  const side = actingSide(mods, rng, 0.7);
  return standing(input, {
    pose(t, body) {
      const w = hold(t, D, 0.6, 0.6);
      const g = bump(clamp((t - glance) / 0.9, 0, 1), 0.4);
      const scroll = 0.012 * Math.sin(2 * Math.PI * 1.6 * t) * w;
      const phone: Vec3 = [0.04, -0.08 + scroll, 0.3];
      withArm(body, side, { ...HANGING, reach: { hand: phone, pole: [1, -1, 0], w }, wrist: qx(-0.5 * w) });
      if (twoHands) withArm(body, (1 - side) as 0 | 1, { ...HANGING, reach: { hand: [0.04, -0.08, 0.3], pole: [1, -1, 0], w } });
      body.neck = [(14 - 12 * g) * DEG * w, 0, 0];
      body.head = [(24 - 22 * g) * DEG * w, 0, 0];
      body.spine = [4 * DEG * w, 0, 0];
    },
    info: { hand: sideName(side), two_hands: twoHands },
  }, s);
}

/** Talking with the hands: beat gestures on stressed words, open palms, small head nods and turns. */
export function talk(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const D = durationOf(input);
  // A phrase of gestures: each a time, a hand (or both) and a place in front of the body.
  const beats: [number, number, Vec3][] = [];
  for (let t = 0.4; t < D - 0.5; t += between(rng, 0.45, 0.9) / s.speed) {
    beats.push([t, Math.floor(rng() * 3), [between(rng, 0.14, 0.3), between(rng, -0.22, 0.02), between(rng, 0.24, 0.36)]]);
  }
  const rest: Vec3 = [0.18, -0.32, 0.16];
  const handAt = (side: 0 | 1, t: number): Vec3 => {
    let h = rest;
    for (const [bt, who, place] of beats) {
      if (who !== 2 && who !== side) continue;
      const w = envelope(t, bt - 0.25, 0.25, bt + 0.35, 0.3) * s.energy;
      h = [lerp(h[0], place[0], clamp(w, 0, 1)), lerp(h[1], place[1], clamp(w, 0, 1)), lerp(h[2], place[2], clamp(w, 0, 1))];
    }
    return h;
  };
  return standing(input, {
    pose(t, body) {
      const w = hold(t, D, 0.4, 0.5);
      for (const side of [0, 1] as const) withArm(body, side, { ...HANGING, reach: { hand: handAt(side, t), pole: [1, -1, -0.4], w }, wrist: qz((side === 0 ? 1 : -1) * 0.5 * w) });
      body.head = [3 * DEG * Math.sin(2 * Math.PI * 1.3 * t) * w, 6 * DEG * Math.sin(2 * Math.PI * 0.3 * t) * w, 0];
    },
    info: { gestures: beats.length },
  }, s);
}

/** A military salute: the right hand snaps up to the brow, held, and cut down. */
export function salute(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const side = mods.side === 'left' ? 0 : 1;
  const D = durationOf(input);
  const t0 = 0.3;
  // The hand rises briskly to the brow (0.4 s) and comes down more deliberately (0.45 s): over 0.3 s
  // either way the shoulder swung near 700°/s. The hold is what the clip leaves between them.
  const up = 0.4 / s.speed;
  const down = 0.45 / s.speed;
  const holdS = Math.max(0.3, Math.min(between(rng, 1.0, 2.0), D - t0 - up - down - 0.05));
  return standing(input, {
    pose(t, body) {
      const w = smooth((t - t0) / up) * (1 - smooth((t - t0 - up - holdS) / down));
      withArm(body, side, { ...HANGING, reach: { hand: [0.1, 0.4, 0.14], pole: [1, 0.2, -0.2], w }, wrist: qz(0.3 * w) });
      body.spine = [-3 * DEG * smooth(t / 0.3), 0, 0];
      body.head = [-4 * DEG * smooth(t / 0.3), 0, 0];
    },
    life: () => 0.3,
    info: { hand: sideName(side), hold_s: Math.round(holdS * 100) / 100, seconds: Math.round(D * 100) / 100 },
  }, s);
}

/** A thumbs up: the fist comes forward at chest height, elbow bent, with a nod. */
export function thumbsUp(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const side = actingSide(mods, rng, 0.75);
  const D = durationOf(input);
  const both = mods.both === true;
  return standing(input, {
    pose(t, body) {
      const w = hold(t, D, 0.35, 0.5);
      const arm: ArmPose = { ...HANGING, reach: { hand: [0.2, 0.02 + 0.02 * Math.sin(6 * t) * w, 0.38], pole: [1, -1, -0.3], w }, wrist: qx(-0.2 * w) };
      withArm(body, side, arm);
      if (both) withArm(body, (1 - side) as 0 | 1, arm);
      const nod = bump(clamp((t - 0.5) / 0.6, 0, 1));
      body.head = [10 * DEG * nod, 0, (side === 0 ? -1 : 1) * 4 * DEG * w];
    },
    info: { hand: sideName(side), both },
  }, s);
}

/** A facepalm: the hand comes up to the forehead as the head drops into it, a slow shake, and out. */
export function facepalm(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const side = actingSide(mods, rng, 0.7);
  const D = durationOf(input);
  const holdS = between(rng, 1.0, 1.8);
  const t0 = 0.3;
  return standing(input, {
    pose(t, body) {
      const w = smooth((t - t0) / (0.45 / s.speed)) * (1 - smooth((t - t0 - 0.45 - holdS) / 0.5));
      withArm(body, side, { ...HANGING, reach: { hand: [0.03, 0.33, 0.17], pole: [1, -1, -0.2], w }, wrist: qx(-0.6 * w) });
      const shake = 5 * DEG * Math.sin(2 * Math.PI * 1.4 * (t - t0)) * smooth((t - t0 - 0.5) / 0.3) * w;
      body.neck = [14 * DEG * w, shake * 0.5, 0];
      body.head = [12 * DEG * w, shake, 0];
      body.spine = [8 * DEG * w, 0, 0];
    },
    info: { hand: sideName(side), seconds: Math.round(D * 100) / 100 },
  }, s);
}

/** A yawn: shoulders rise and the arms half-stretch out and up, head tipping back, then a sag. */
export function yawn(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const D = durationOf(input);
  const t0 = 0.3;
  const span = Math.min(jitter(rng, 2.6, 0.1) / s.speed, Math.max(1, D - t0));
  const coverMouth = rng() < 0.5;
  const side = actingSide(mods, rng, 0.7);
  return standing(input, {
    pose(t, body) {
      const u = clamp((t - t0) / span, 0, 1);
      const y = bump(u, 0.45);
      const arm: ArmPose = { flex: 40 * DEG * y, out: 35 * DEG * y + 6 * DEG, elbow: (12 + 70 * y) * DEG, shrug: 10 * DEG * y };
      body.arms = [arm, arm];
      if (coverMouth) withArm(body, side, { ...HANGING, shrug: 6 * DEG * y, reach: { hand: [0.04, 0.3, 0.16], pole: [1, -1, -0.2], w: bump(u, 0.5) } });
      body.spine = [-8 * DEG * y, 0, 0];
      body.neck = [-8 * DEG * y, 0, 0];
      body.head = [-14 * DEG * y, 0, 0];
      body.root = [0, REST.hipsHeight + 0.005 * y, 0];
    },
    info: { covers_mouth: coverMouth },
  }, s);
}

/** Dodging a blow: a quick duck and sway to one side (knees bending, trunk leaning), then back to guard. */
export function dodge(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const D = durationOf(input);
  const dir = mods.side === 'right' ? -1 : mods.side === 'left' ? 1 : rng() < 0.5 ? 1 : -1;
  const count = clamp(mods.count ?? Math.max(1, Math.floor((D - 0.4) / 1.4)), 1, 10);
  const span = Math.min(1.2 / s.speed, (D - 0.4) / count);
  const duck = pick(rng, ['slip', 'duck', 'lean_back'] as const);
  return standing(input, {
    pose(t, body) {
      const g = hold(t, D, 0.3, 0.4);
      const k = Math.floor((t - 0.4) / span);
      const u = (t - 0.4 - k * span) / span;
      const side = k % 2 === 0 ? dir : -dir;
      const e = k >= 0 && k < count ? bump(u, 0.25) : 0;
      const down = duck === 'duck' ? 0.16 : duck === 'slip' ? 0.08 : 0.04;
      body.root = [side * 0.1 * e, REST.hipsHeight - 0.04 * g - down * e, duck === 'lean_back' ? -0.06 * e : 0.02 * e];
      body.pelvis = [(duck === 'lean_back' ? -4 : 12) * DEG * e, 0, side * 4 * DEG * e];
      body.spine = [(duck === 'lean_back' ? -16 : 14) * DEG * e, 0, side * 14 * DEG * e];
      body.head = [(duck === 'lean_back' ? 10 : -12) * DEG * e, 0, -side * 4 * DEG * e];
      const guard: ArmPose = { ...HANGING, reach: { hand: [0.1, 0.24, 0.22], pole: [0.6, -1, -0.3], w: g } };
      body.arms = [guard, guard];
    },
    life: () => 0.3,
    info: { style: duck, dodges: count, first: dir > 0 ? 'left' : 'right' },
  }, s);
}

/** Blocking: forearms come up in front of the face, a flinch on each impact, guard held. */
export function block(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const D = durationOf(input);
  const hits: number[] = [];
  for (let t = between(rng, 0.6, 0.9); t < D - 0.5; t += between(rng, 0.7, 1.3) / s.speed) hits.push(t);
  return standing(input, {
    pose(t, body) {
      const g = hold(t, D, 0.25, 0.45);
      let flinch = 0;
      for (const h of hits) flinch = Math.max(flinch, t > h ? Math.exp(-(t - h) * 9) * Math.min(1, (t - h) / 0.04) : 0);
      const arm: ArmPose = { ...HANGING, reach: { hand: [0.05, 0.36 - 0.03 * flinch, 0.2 - 0.04 * flinch], pole: [0.5, -1, 0.1], w: g }, wrist: qx(0.3 * g) };
      body.arms = [arm, arm];
      body.root = [0, REST.hipsHeight - 0.04 * g - 0.02 * flinch, -0.03 * flinch];
      body.spine = [10 * DEG * g - 6 * DEG * flinch, 0, 0];
      body.head = [6 * DEG * g + 6 * DEG * flinch, 0, 0];
    },
    life: () => 0.3,
    info: { impacts: hits.length },
  }, s);
}

interface Strike {
  /** Chest-frame hand path of the striking arm: guard → wind-up → hit → back to guard (times 0..1 of a strike). */
  path: Keys3;
  pole: Vec3;
  /** Trunk yaw toward the striking side, knee dip and rise. */
  twist: number;
  dip: number;
}

const UPPERCUT: Strike = {
  path: [[0, [0.12, 0.2, 0.22]], [0.3, [0.12, -0.08, 0.2]], [0.5, [0.0, 0.34, 0.34]], [0.62, [0.0, 0.36, 0.33]], [1, [0.12, 0.2, 0.22]]],
  pole: [0.2, -1, -0.1], twist: 22 * DEG, dip: 0.07,
};
const HOOK: Strike = {
  path: [[0, [0.12, 0.2, 0.22]], [0.3, [0.28, 0.18, 0.16]], [0.5, [-0.04, 0.2, 0.38]], [0.62, [-0.06, 0.2, 0.36]], [1, [0.12, 0.2, 0.22]]],
  pole: [1, 0.3, -0.3], twist: 38 * DEG, dip: 0.03,
};

/** Strikes from a guard: wind-up (anticipation), a fast strike with the trunk and hips turning into it, recoil to guard. */
function strike(input: MotionInput, sk: Strike, name: string): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const D = durationOf(input);
  const period = jitter(rng, 1.1, 0.08) / s.speed;
  const first = actingSide(mods, rng, 0.7);
  const alternate = !mods.side && rng() < 0.5;
  const t0 = 0.45;
  const count = clamp(mods.count ?? Math.max(1, Math.floor((D - t0 - 0.3) / period)), 1, 20);
  return standing(input, {
    pose(t, body) {
      const g = hold(t, D, 0.35, 0.45);
      const k = Math.floor((t - t0) / period);
      const u = (t - t0 - k * period) / period;
      const active = k >= 0 && k < count;
      const side = (alternate ? (first + k) % 2 : first) as 0 | 1;
      const guard: Vec3 = [0.12, 0.2, 0.22];
      for (const sd of [0, 1] as const) {
        const hand = active && sd === side ? track3(sk.path, u) : guard;
        const b = active && sd === side ? bump(u, 0.5) : 0;
        const pole: Vec3 = [lerp(0.6, sk.pole[0], b), lerp(-1, sk.pole[1], b), lerp(-0.3, sk.pole[2], b)];
        withArm(body, sd, { ...HANGING, reach: { hand, pole, w: g }, wrist: qx(0.2) });
      }
      const drive = active ? bump(u, 0.5) * (u < 0.3 ? -0.4 : 1) : 0;
      const wind = active ? bump(clamp(u / 0.5, 0, 1), 0.6) : 0;
      const yaw = (side === 0 ? -1 : 1) * sk.twist * (active ? track([[0, 0], [0.3, -0.35], [0.52, 1], [0.7, 0.8], [1, 0]], u) : 0);
      body.pelvis = [4 * DEG * g, yaw * 0.4, 0];
      body.spine = [6 * DEG * g + 4 * DEG * drive, yaw * 0.6, 0];
      body.head = [-6 * DEG * g, -yaw * 0.7, 0];
      body.root = [0, REST.hipsHeight - 0.04 * g - sk.dip * wind + sk.dip * 0.4 * Math.max(0, drive), 0];
    },
    life: () => 0.4,
    info: { strike: name, first: sideName(first), strikes: count, alternate },
  }, s);
}

export const uppercut = (input: MotionInput): Generated => strike(input, UPPERCUT, 'uppercut');
export const hookPunch = (input: MotionInput): Generated => strike(input, HOOK, 'hook');

/**
 * A roundhouse kick: chamber (knee up and turned in), the support heel pivots, the shin whips round at
 * hip height and snaps back, the foot sets down where it started; the trunk leans away for balance.
 */
export function roundhouseKick(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const kickSide = actingSide(mods, rng, 0.7);
  const support = (1 - kickSide) as 0 | 1;
  const D = durationOf(input);
  const sgn = kickSide === 0 ? 1 : -1;
  const height = (mods.size === 'big' ? 1.25 : mods.size === 'small' ? 0.7 : between(rng, 0.85, 1.1));
  const span = jitter(rng, 1.3, 0.08) / s.speed;
  const count = clamp(mods.count ?? Math.max(1, Math.floor((D - 0.4) / (span + 0.5))), 1, 10);
  const slot = (D - 0.3) / count;
  const at = (t: number) => {
    const k = Math.min(count - 1, Math.max(0, Math.floor((t - 0.3) / slot)));
    return clamp((t - 0.3 - k * slot) / span, 0, 1);
  };
  const foot: Keys3 = [
    [0, [sgn * REST.footWidth, REST.ankleHeight, 0]],
    [0.3, [sgn * 0.14, 0.45, 0.22]],
    [0.5, [sgn * 0.02, height, 0.62]],
    [0.58, [-sgn * 0.1, height - 0.02, 0.58]],
    [0.78, [sgn * 0.14, 0.45, 0.2]],
    [1, [sgn * REST.footWidth, REST.ankleHeight, 0]],
  ];
  return standing(input, {
    pose(t, body) {
      const u = at(t);
      const e = bump(u, 0.5);
      const chamber = bump(u, 0.35);
      body.root = [-sgn * 0.08 * smooth(u / 0.2) * (1 - smooth((u - 0.8) / 0.2)), REST.hipsHeight - 0.03 * chamber, 0];
      body.pelvis = [-6 * DEG * e, -sgn * 30 * DEG * e, -sgn * 18 * DEG * e];
      body.spine = [-10 * DEG * e, sgn * 12 * DEG * e, sgn * 14 * DEG * e];
      body.head = [6 * DEG * e, sgn * 24 * DEG * e, -sgn * 8 * DEG * e];
      // Guard up for the whole clip (raised over the first 0.4 s, lowered over the last 0.5 s).
      const guard: ArmPose = { ...HANGING, reach: { hand: [0.14, 0.18, 0.2], pole: [0.6, -1, -0.3], w: hold(t, D, 0.4, 0.5) } };
      body.arms = [guard, { ...guard, reach: guard.reach && { ...guard.reach, hand: [0.22, 0.05, 0.1] } }];
      if (kickSide === 0) body.arms = [body.arms[1], body.arms[0]];
    },
    feet(t) {
      const u = at(t);
      const p = track3(foot, u);
      const up = u > 0.02 && u < 0.98;
      const kick: FootPose = up
        ? { ankle: p, rot: qmul3(sgn * -20 * DEG * bump(u, 0.5), 50 * DEG * bump(u, 0.5)), toeLocal: qx(-20 * DEG * bump(u, 0.5)), heel: false, toe: false }
        : flatFoot(sgn * REST.footWidth, 0, 0);
      // The support foot stays planted (a pivot would drag heel or toes over the floor); the hips and trunk turn.
      const st = flatFoot(-sgn * REST.footWidth, 0, 0);
      return support === 0 ? [st, kick] : [kick, st];
    },
    // The kicking knee bends up and out (the hip rolls over in a roundhouse), never along the line to the foot.
    kneePoles: () => (kickSide === 0 ? [[0.3, 1, 0.35], null] : [null, [-0.3, 1, 0.35]]),
    life: () => 0.3,
    info: { leg: sideName(kickSide), kicks: count, height_m: Math.round(height * 100) / 100 },
  }, s);
}

/** Foot rotation turned in (yaw) and pitched toe down. */
function qmul3(yaw: number, pitch: number) {
  const a = qy(yaw);
  const b = qx(pitch);
  return [
    a[3] * b[0] + a[0] * b[3] + a[1] * b[2] - a[2] * b[1],
    a[3] * b[1] - a[0] * b[2] + a[1] * b[3] + a[2] * b[0],
    a[3] * b[2] + a[0] * b[1] - a[1] * b[0] + a[2] * b[3],
    a[3] * b[3] - a[0] * b[0] - a[1] * b[1] - a[2] * b[2],
  ] as [number, number, number, number];
}

/** Lunges: a long step forward, the hips sinking until the back knee nears the floor (back heel up), pushing back to standing. */
export function lunge(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const D = durationOf(input);
  const cycle = jitter(rng, 2.2, 0.1) / s.speed;
  const count = clamp(mods.count ?? Math.max(1, Math.floor((D - 0.3) / cycle)), 1, 20);
  const span = Math.min(cycle, (D - 0.3) / count);
  const first = actingSide(mods, rng, 0.5);
  const alternate = !mods.side;
  const len = between(rng, 0.6, 0.75);
  const depth = mods.size === 'small' ? 0.18 : between(rng, 0.28, 0.34);
  const plants: [Plant[], Plant[]] = [[{ land: -Infinity, lift: Infinity, x: REST.footWidth, z: 0, yaw: 0, roll: 0 }], [{ land: -Infinity, lift: Infinity, x: -REST.footWidth, z: 0, yaw: 0, roll: 0 }]];
  for (let k = 0; k < count; k++) {
    const side = (alternate ? (first + k) % 2 : first) as 0 | 1;
    const t = 0.3 + k * span;
    const list = plants[side];
    list[list.length - 1].lift = t;
    // The front foot pushes off while the hips are still half down (its knee well bent): lifting it with
    // the hips risen, the leg was at full reach and its knee snapped straight.
    list.push({ land: t + 0.25 * span, lift: t + 0.62 * span, x: sx(side, 0.1), z: len, yaw: 0, roll: 0 });
    list.push({ land: t + 0.92 * span, lift: Infinity, x: sx(side), z: 0, yaw: 0, roll: 0 });
  }
  const swing: SwingStyle = { clearance: 0.06, apex: 0.5, rollAngle: 0, toeUp: 6 * DEG };
  const lowOf = (t: number) => {
    const k = Math.floor((t - 0.3) / span);
    const u = (t - 0.3 - k * span) / span;
    // Minimum-jerk ends: the back leg starts (and finishes) the sink straight, and its knee, near full
    // reach, turns as the square root of the distance change; an ease whose motion starts cubically keeps
    // that knee from snapping into its bend.
    return k >= 0 && k < count ? minJerk(clamp((u - 0.15) / 0.29, 0, 1)) * (1 - minJerk(clamp((u - 0.48) / 0.26, 0, 1))) : 0;
  };
  const stepOf = (t: number) => {
    const k = Math.floor((t - 0.3) / span);
    const u = (t - 0.3 - k * span) / span;
    // The hips travel with the stepping foot (there by its landing) and come back with it.
    return k >= 0 && k < count ? smooth((u - 0.02) / 0.23) * (1 - smooth((u - 0.62) / 0.3)) : 0;
  };
  return standing(input, {
    pose(t, body) {
      const p = lowOf(t);
      const st = stepOf(t);
      // The hips drop 10 cm with the step and sit halfway between the feet: at the front heel's landing
      // and lift both legs are then short of full reach (knees near 30°). A leg at full reach is where a
      // knee's angle changes fastest for a small move of the hips: stepping with the hips high, the front
      // knee snapped into its bend (and straight again before the lift) at 20°/frame and more.
      body.root = [0, REST.hipsHeight - depth * p - 0.1 * st, 0.5 * len * st];
      body.pelvis = [2 * DEG * p, 0, 0];
      body.spine = [-2 * DEG * p, 0, 0];
      const hands: ArmPose = { ...HANGING, reach: { hand: [0.2, -0.3, 0.0], pole: [1, 0.1, -0.5], w: smooth(t / 0.4) } };
      body.arms = [hands, hands];
    },
    feet(t) {
      const p = lowOf(t);
      const k = Math.floor((t - 0.3) / span);
      const front = (alternate ? (first + Math.max(0, k)) % 2 : first) as 0 | 1;
      const back = (1 - front) as 0 | 1;
      const f = footAt(plants[front], t, swing);
      const b0 = footAt(plants[back], t, swing);
      // The back foot rolls up onto its ball as the hips sink.
      const b: FootPose = p < 1e-4 ? b0 : onToes(b0.ankle[0], b0.ankle[2], 50 * DEG * p);
      return front === 0 ? [f, b] : [b, f];
    },
    life: () => 0.3,
    info: { lunges: count, first: sideName(first), length_m: Math.round(len * 100) / 100 },
  }, s);
}

/** Jumping jacks: small hops between feet together (arms down) and feet apart (arms overhead). */
export function jumpingJacks(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const D = durationOf(input);
  const half = jitter(rng, 0.5, 0.06) / s.speed;
  const hopH = between(rng, 0.04, 0.07);
  const v0 = Math.sqrt(2 * G * hopH);
  const flight = (2 * v0) / G;
  const ground = Math.max(0.12, half - flight);
  const t0 = 0.3;
  // An even number of hops: every jack that opens also closes.
  const count = 2 * clamp(mods.count ?? Math.floor((D - t0 - 0.3) / (2 * half)), 1, 40);
  const wide = between(rng, 0.24, 0.3);
  const plants: [Plant[], Plant[]] = [[], []];
  for (const side of [0, 1] as const) {
    plants[side].push({ land: -Infinity, lift: t0 + ground, x: sx(side), z: 0, yaw: 0, roll: 0.08 });
    for (let i = 1; i <= count; i++) {
      const land = t0 + ground + (i - 1) * half + flight;
      const apart = i % 2 === 1 && i < count;
      plants[side].push({ land, lift: i < count ? land + ground : Infinity, x: sx(side, apart ? wide : REST.footWidth), z: 0, yaw: sx(side, apart ? 0.25 : 0) * 0, roll: i < count ? 0.08 : 0 });
    }
  }
  const swing: SwingStyle = { clearance: 0.02, apex: 0.5, rollAngle: 20 * DEG, toeUp: 0 };
  return standing(input, {
    pose(t, body) {
      const i = Math.floor((t - t0 - ground) / half);
      const u = t - t0 - ground - i * half;
      let y = REST.hipsHeight - 0.02;
      if (i >= 0 && i < count && u < flight) {
        y = REST.hipsHeight - 0.005 + v0 * u - (G * u * u) / 2;
        body.free = true;
      } else if (t > t0 && i < count) {
        const g = u >= flight ? (u - flight) / ground : (t - t0) / ground;
        y = REST.hipsHeight - 0.005 - 0.04 * Math.sin(Math.PI * clamp(g, 0, 1));
      }
      body.root = [0, y, 0];
      // Arms follow the feet: up as they open, down as they close.
      const open = i < 0 ? 0 : i >= count ? 0 : i % 2 === 0 ? smooth(u / half) : 1 - smooth(u / half);
      const arm: ArmPose = { flex: 6 * DEG, out: lerp(8, 165, open) * DEG, elbow: (12 - 4 * open) * DEG };
      body.arms = [arm, arm];
    },
    feet: (t) => [footAt(plants[0], t, swing), footAt(plants[1], t, swing)],
    life: () => 0.2,
    info: { jacks: Math.floor(count / 2), hop_m: Math.round(hopH * 100) / 100 },
  }, s);
}

