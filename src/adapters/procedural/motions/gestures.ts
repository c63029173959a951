/** Upper-body motions on planted feet: wave, clap, cheer, punch, bow, nod, head shake, look around, stretch, throw, shrug, point. */
import { qx, qz, type Vec3 } from '../../../motion/quat.js';
import { DEG, clamp, envelope, hermite, lerp, smooth, track, track3, type Keys, type Keys3 } from '../curves.js';
import type { Generated, MotionInput } from '../generator.js';
import { HANGING, type ArmPose, type BodyPose } from '../pose.js';
import type { Modifiers } from '../prompt.js';
import { between, pick, type Rng } from '../random.js';
import { styleOf } from '../style.js';
import { durationOf, standing } from './standing.js';

/** The acting side: the prompt's, else drawn (right-handed more often, as people are). */
export function actingSide(mods: Modifiers, rng: Rng, pRight = 0.7): 0 | 1 {
  const r = rng();
  if (mods.side) return mods.side === 'left' ? 0 : 1;
  return r < pRight ? 1 : 0;
}

const sideName = (s: 0 | 1) => (s === 0 ? 'left' : 'right');

function withArm(body: BodyPose, side: 0 | 1, arm: ArmPose): void {
  body.arms = side === 0 ? [arm, body.arms[1]] : [body.arms[0], arm];
}

/** Yaw that brings the given side's shoulder forward (chest frame sign flips with the side). */
const forwardYaw = (side: 0 | 1, a: number) => (side === 0 ? -a : a);

/** Raise-hold-lower weight for a gesture lasting the whole clip. */
function holdWeight(t: number, duration: number, rise = 0.45, fall = 0.5): number {
  const f = Math.min(fall, duration * 0.25);
  const r = Math.min(rise, duration * 0.3);
  return duration < 1.2 ? envelope(t, 0, r, duration + 1, f) : envelope(t, 0.05, r, duration, f);
}

export function wave(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const side = actingSide(mods, rng);
  const style = mods.size === 'big' ? 'big' : mods.size === 'small' ? 'small' : pick(rng, ['hand', 'hand', 'big', 'small'] as const);
  const freq = between(rng, 2.2, 3) * Math.sqrt(s.speed);
  const amp = (style === 'big' ? 0.16 : style === 'small' ? 0.05 : 0.09) * clamp(s.energy, 0.6, 1.4);
  const base: Vec3 = style === 'big' ? [0.42, 0.62, 0.1] : style === 'small' ? [0.3, 0.2, 0.22] : [0.36, 0.4, 0.12];
  const D = durationOf(input);
  return standing(input, {
    pose(t, body) {
      const w = holdWeight(t, D);
      const osc = Math.sin(2 * Math.PI * freq * t);
      withArm(body, side, {
        ...HANGING,
        wrist: qz(0.3 * osc * w),
        reach: { hand: [base[0] + amp * osc, base[1] + 0.015 * Math.cos(4 * Math.PI * freq * t), base[2]], pole: [1, -1, -0.3], w },
      });
      body.spine = [0, 0, (side === 0 ? -3 : 3) * DEG * w];
      body.head = [-4 * DEG * w, forwardYaw(side, -6 * DEG) * w, (side === 0 ? 4 : -4) * DEG * w];
    },
    info: { hand: sideName(side), style },
  }, s);
}

export function clap(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const overhead = mods.size === 'big' || rng() < 0.25;
  const rate = between(rng, 1.8, 2.6) * s.speed;
  const open = between(rng, 0.22, 0.36) * clamp(s.energy, 0.6, 1.3);
  const D = durationOf(input);
  return standing(input, {
    pose(t, body) {
      const w = holdWeight(t, D, 0.4, 0.4);
      // |sin| turns around sharply at zero: the hands meet with a smack rather than easing in.
      const gap = 0.08 + open * Math.abs(Math.sin(Math.PI * rate * t)) * smooth(t / 0.5) + (1 - w) * 0.2;
      const hand: Vec3 = overhead ? [gap / 2, 0.62, 0.12] : [gap / 2, 0.02, 0.32];
      const arm: ArmPose = { ...HANGING, reach: { hand, pole: [1, -0.6, -0.4], w } };
      body.arms = [arm, arm];
      body.head = [-3 * DEG * w, 0, 0];
    },
    info: { claps_per_second: Math.round(rate * 100) / 100, overhead },
  }, s);
}

export function cheer(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const variant = mods.both ? 'both' : pick(rng, ['both', 'both', 'fist_pump', 'alternate'] as const);
  const side = actingSide(mods, rng);
  const rate = between(rng, 1.5, 2.2) * s.speed;
  const bounce = between(rng, 0.015, 0.04) * s.energy;
  const D = durationOf(input);
  return standing(input, {
    pose(t, body) {
      const w = holdWeight(t, D, 0.35, 0.5);
      const beat = 0.5 + 0.5 * Math.sin(2 * Math.PI * rate * t - Math.PI / 2);
      const up = (pump: number): ArmPose => ({
        ...HANGING,
        reach: { hand: [0.36 + 0.04 * pump, 0.72 - 0.16 * pump, 0.1], pole: [1, -0.2, -0.3], w },
        wrist: qx(-0.3 * pump),
      });
      if (variant === 'both') body.arms = [up(beat), up(beat)];
      else if (variant === 'alternate') body.arms = [up(beat), up(1 - beat)];
      else {
        // A fist pump: the hand punches down to the shoulder and back up.
        withArm(body, side, { ...HANGING, reach: { hand: [0.28, 0.45 - 0.3 * beat, 0.18], pole: [1, -1, -0.2], w } });
      }
      body.root = [body.root[0], body.root[1] - bounce * beat * w, body.root[2]];
      body.spine = [-6 * DEG * w, 0, 0];
      body.head = [-12 * DEG * w, 0, 0];
    },
    info: { variant },
  }, s);
}

export function punch(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const lead = actingSide(mods, rng, 0.3);
  const period = between(rng, 0.55, 0.8) / s.speed;
  const alternate = !mods.side && rng() < 0.75;
  // Short of full reach: the elbow keeps a few degrees at impact, so its extension has no snap.
  const reachLen = between(rng, 0.47, 0.53);
  const height = between(rng, 0.12, 0.22);
  const D = durationOf(input);
  const start = 0.45;
  const count = Math.max(1, Math.min(mods.count ?? Math.floor((D - start - 0.5) / period), 40));
  // The guard goes up, then punches land on a steady rhythm.
  return standing(input, {
    pose(t, body) {
      const guardW = holdWeight(t, D, 0.35, 0.45);
      const extension: [number, number] = [0, 0];
      // Every stroke: cock back, drive out, snap back past the guard and settle; strokes of the two hands
      // overlap, so one hand is leaving as the other returns.
      for (let k = Math.max(0, Math.floor((t - start) / period) - 1); k < count && start + k * period <= t; k++) {
        const side = alternate ? ((lead + k) % 2) as 0 | 1 : lead;
        extension[side] += strokeProfile(t - start - k * period, period);
      }
      // The guard never parks: the hands circle a little and the body weaves with the rhythm.
      const weave = Math.sin((2 * Math.PI * (t - start)) / (2 * period)) * guardW;
      const arm = (side: 0 | 1): ArmPose => {
        const e = extension[side];
        const ph = 2 * Math.PI * 1.4 * t + side * Math.PI;
        const guard: Vec3 = [0.12 + 0.012 * Math.cos(ph), 0.2 + 0.014 * Math.sin(ph), 0.24 + 0.01 * Math.sin(ph)];
        const hit: Vec3 = [-0.02, height, reachLen];
        return { ...HANGING, reach: { hand: [lerp(guard[0], hit[0], e), lerp(guard[1], hit[1], e), lerp(guard[2], hit[2], e)], pole: [0.6, -1, -0.3], w: guardW }, wrist: qx(0.2) };
      };
      body.arms = [arm(0), arm(1)];
      const twist = (extension[1] - extension[0]) * 18 * DEG + 3 * DEG * weave;
      body.pelvis = [4 * DEG * guardW, twist * 0.4, 2 * DEG * weave];
      body.spine = [6 * DEG * guardW, twist * 0.6, -2.5 * DEG * weave];
      body.head = [-6 * DEG * guardW, -twist * 0.8, 0];
      body.root = [body.root[0], body.root[1] - 0.035 * guardW, body.root[2] - 0.02 * guardW];
    },
    life: () => 0.4,
    info: { lead: sideName(lead), punches: count, alternate },
  }, s);
}

/**
 * Extension of one punch `u` seconds into it (0 guard, 1 full reach): a short cock back (anticipation),
 * a fast drive out, a snap back slightly past the guard (follow-through) and a settle, each piece
 * joining the next at matching velocity. Shorter periods compress the whole stroke.
 */
function strokeProfile(u: number, period: number): number {
  const k = Math.min(1, period / 0.6);
  const a = 0.09 * k, b = a + 0.17 * k, c = b + 0.2 * k, d = c + 0.16 * k;
  if (u <= 0 || u >= d) return 0;
  if (u < a) return hermite(0, 0, -0.1, 0, u / a);
  if (u < b) return hermite(-0.1, 0, 1, 0, (u - a) / (b - a));
  if (u < c) return hermite(1, 0, -0.06, 0, (u - b) / (c - b));
  return hermite(-0.06, 0, 0, 0, (u - c) / (d - c));
}

export function bow(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const depth = (mods.size === 'big' ? 65 : mods.size === 'small' ? 18 : between(rng, 25, 50)) * DEG;
  const handsFront = rng() < 0.35;
  const D = durationOf(input);
  const cycle = between(rng, 2.2, 2.8) / s.speed;
  const count = Math.max(1, mods.count ?? 1);
  const span = Math.min(cycle, (D - 0.2) / count);
  return standing(input, {
    pose(t, body) {
      const k = Math.min(count - 1, Math.floor((t - 0.2) / span));
      const u = (t - 0.2 - Math.max(0, k) * span) / span;
      // Down (35 %), hold (25 %), up (40 %).
      const b = t < 0.2 ? 0 : smooth(u / 0.35) * (1 - smooth((u - 0.6) / 0.4));
      const a = depth * b;
      body.pelvis = [0.45 * a, 0, 0];
      body.spine = [0.4 * a, 0, 0];
      body.neck = [0.1 * a, 0, 0];
      body.head = [0.05 * a, 0, 0];
      // Hips go back to keep the weight over the feet.
      body.root = [0, body.root[1] - 0.02 * b, -0.09 * b * (depth / (45 * DEG))];
      const arm: ArmPose = handsFront
        ? { ...HANGING, reach: { hand: [0.04, -0.42, 0.16], pole: [1, 0, -0.5], w: smooth(t / 0.4) } }
        : { flex: 0.75 * a, out: 4 * DEG, elbow: 8 * DEG };
      body.arms = [arm, arm];
    },
    life: (t) => 1 - 0.8 * envelope(t, 0.1, 0.4, D, 0.5),
    info: { depth_degrees: Math.round(depth / DEG), bows: count },
  }, s);
}

export function nod(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const amp = between(rng, 10, 18) * DEG * s.energy;
  const rate = between(rng, 1.8, 2.6) * s.speed;
  const count = mods.count ?? Math.round(between(rng, 2, 4));
  const start = 0.2;
  return standing(input, {
    pose(t, body) {
      const u = (t - start) * rate;
      const n = u > 0 && u < count ? 0.5 - 0.5 * Math.cos(2 * Math.PI * u) : 0;
      body.neck = [0.35 * amp * n, 0, 0];
      body.head = [0.65 * amp * n, 0, 0];
    },
    info: { nods: count },
  }, s);
}

export function shakeHead(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const amp = between(rng, 18, 30) * DEG * s.energy;
  const rate = between(rng, 2, 2.8) * s.speed;
  const count = mods.count ?? Math.round(between(rng, 2, 4));
  const start = 0.2;
  return standing(input, {
    pose(t, body) {
      const u = (t - start) * rate;
      const n = u > 0 && u < count ? Math.sin(2 * Math.PI * u) * Math.sin((Math.PI * u) / count) : 0;
      body.neck = [0, 0.3 * amp * n, 0];
      body.head = [3 * DEG, 0.7 * amp * n, 0];
    },
    info: { shakes: count },
  }, s);
}

export function lookAround(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const D = durationOf(input);
  const first = mods.side === 'right' ? -1 : mods.side === 'left' ? 1 : rng() < 0.5 ? 1 : -1;
  const reach = between(rng, 55, 80) * DEG * clamp(s.energy, 0.7, 1.2);
  const tilt = between(rng, -8, 8) * DEG;
  const scale = clamp(D / 4.2, 0.45, 1.6);
  const keys: Keys = [[0.25, 0], [1.0, first], [1.8, first], [2.8, -first], [3.6, -first], [4.2, 0]].map(([t, v]) => [t * scale, v] as const);
  return standing(input, {
    pose(t, body) {
      const y = track(keys, t) * reach;
      const up = Math.abs(track(keys, t)) * tilt;
      body.spine = [0, 0.3 * y, 0];
      body.neck = [0.3 * up, 0.25 * y, 0];
      body.head = [0.7 * up, 0.45 * y, 0];
      body.pelvis = [0, 0.06 * y, 0];
    },
    info: { first: first > 0 ? 'left' : 'right' },
  }, s);
}

export function stretch(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const D = durationOf(input);
  const lean = between(rng, 12, 22) * DEG * s.energy;
  const scale = clamp(D / 5, 0.4, 2);
  const T = (x: number) => x * scale;
  const firstSide = rng() < 0.5 ? 1 : -1;
  // The arms come down from overhead (about 170° at the shoulder) over at least 0.6 s: squeezed into a
  // short clip's 0.4 s they swung at 640°/s; a person lowering stretched arms takes half a second or more.
  const down = Math.max(T(0.7), 0.6);
  const up: Keys = [[T(0.2), 0], [T(1.0), 1], [Math.max(T(1.0) + 0.1, T(4.9) - down), 1], [T(4.9), 0]];
  const side: Keys = [[T(1.6), 0], [T(2.3), firstSide], [T(2.7), firstSide], [T(3.4), -firstSide], [T(3.8), -firstSide], [T(4.3), 0]];
  return standing(input, {
    pose(t, body) {
      const w = track(up, t);
      const r = track(side, t) * lean;
      const arm: ArmPose = { ...HANGING, reach: { hand: [0.1, 0.86 + 0.04 * w, 0.04], pole: [1, 0.2, -0.4], w }, wrist: qx(-0.5 * w) };
      body.arms = [arm, arm];
      body.spine = [-6 * DEG * w, 0, r];
      body.neck = [-4 * DEG * w, 0, 0.2 * r];
      body.head = [-8 * DEG * w, 0, 0];
      body.root = [-0.25 * r * 0.15, body.root[1], body.root[2]];
    },
    life: () => 0.3,
    info: { lean_degrees: Math.round(lean / DEG) },
  }, s);
}

export function throwBall(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const side = actingSide(mods, rng, 0.8);
  const power = between(rng, 0.8, 1.2) * s.energy;
  const pace = 1 / s.speed;
  const D = durationOf(input);
  const t0 = Math.min(0.3, D * 0.1);
  const T = (x: number) => t0 + x * pace;
  const hand: Keys3 = [
    [T(0), [0.2, -0.5, 0.02]], [T(0.55), [0.32, 0.32, -0.36]], [T(0.86), [0.14, 0.36, 0.42]],
    [T(1.16), [-0.12, -0.25, 0.35]], [T(1.75), [0.2, -0.5, 0.02]],
  ];
  const w: Keys = [[T(0), 0], [T(0.35), 1], [T(1.2), 1], [T(1.75), 0]];
  const yaw: Keys = [[T(0), 0], [T(0.55), -32 * DEG * power], [T(0.86), 12 * DEG], [T(1.16), 30 * DEG * power], [T(1.75), 0]];
  const lean: Keys = [[T(0), 0], [T(0.55), -6 * DEG], [T(0.86), 10 * DEG], [T(1.16), 24 * DEG * power], [T(1.75), 0]];
  const shift: Keys = [[T(0), 0], [T(0.55), -0.05], [T(1.05), 0.06], [T(1.7), 0]];
  return standing(input, {
    pose(t, body) {
      const y = forwardYaw(side, track(yaw, t));
      const l = track(lean, t);
      withArm(body, side, { ...HANGING, reach: { hand: track3(hand, t), pole: [1, -0.8, 0], w: track(w, t) }, wrist: qx(-0.4 * track(w, t)) });
      // The free arm points at the target during the wind-up, then tucks in.
      const aim = envelope(t, T(0.1), 0.4 * pace, T(1.0), 0.35 * pace);
      withArm(body, (1 - side) as 0 | 1, { ...HANGING, reach: { hand: [0.22, 0.12, 0.45], pole: [1, -1, -0.2], w: aim * 0.9 } });
      body.pelvis = [l * 0.4, y * 0.4, 0];
      body.spine = [l * 0.6, y * 0.6, 0];
      body.head = [-l * 0.6, -y * 0.8, 0];
      body.root = [body.root[0], body.root[1] - 0.03 * Math.abs(track(shift, t)) / 0.06, body.root[2] + track(shift, t)];
    },
    life: (t) => (t > T(1.8) ? 1 : 0.3),
    info: { hand: sideName(side) },
  }, s);
}

export function shrug(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const D = durationOf(input);
  const height = between(rng, 12, 20) * DEG * s.energy;
  const tilt = between(rng, -8, 8) * DEG;
  const start = 0.2;
  const span = clamp(D - 0.3, 0.8, 1.8) / s.speed;
  return standing(input, {
    pose(t, body) {
      const u = (t - start) / span;
      const w = u <= 0 ? 0 : smooth(u / 0.3) * (1 - smooth((u - 0.7) / 0.3));
      const arm: ArmPose = { ...HANGING, shrug: height * w, reach: { hand: [0.36, -0.26, 0.24], pole: [0.2, -1, -0.4], w }, wrist: qz(0.4 * w) };
      body.arms = [arm, arm];
      body.head = [2 * DEG * w, 0, tilt * w];
      body.neck = [-3 * DEG * w, 0, 0];
    },
    info: {},
  }, s);
}

export function point(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const D = durationOf(input);
  const side = actingSide(mods, rng, 0.75);
  // "point left" points to the character's left with the left arm; otherwise straight ahead.
  const toSide = mods.side !== undefined;
  const target: Vec3 = toSide ? [0.58, between(rng, 0.08, 0.2), 0.12] : [0.1, between(rng, 0.08, 0.22), 0.56];
  return standing(input, {
    pose(t, body) {
      const w = holdWeight(t, D, 0.5, 0.5);
      withArm(body, side, { ...HANGING, reach: { hand: target, pole: [1, -1, -0.5], w } });
      const look = toSide ? forwardYaw(side, -50 * DEG) : forwardYaw(side, 8 * DEG);
      body.head = [-2 * DEG * w, look * 0.6 * w, 0];
      body.neck = [0, look * 0.3 * w, 0];
      body.spine = [0, (toSide ? look * 0.2 : forwardYaw(side, 10 * DEG)) * w, 0];
    },
    info: { hand: sideName(side), direction: toSide ? sideName(side) : 'forward' },
  }, s);
}

