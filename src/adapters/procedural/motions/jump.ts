/**
 * Jumps: crouch, push off with the feet planted (heels peel up over the toes), a ballistic flight of the
 * hips (y = v·t − g·t²/2) with the legs tucking, then a landing the knees absorb, feet planted again.
 */
import { qx, type Vec3 } from '../../../motion/quat.js';
import { DEG, clamp, hermite, lerp, minJerk, smooth, bump, track, type Keys } from '../curves.js';
import { footAt, type FootPose, type Plant, type SwingStyle } from '../feet.js';
import type { Generated, MotionInput } from '../generator.js';
import { between } from '../random.js';
import { REST } from '../rig.js';
import { styleOf } from '../style.js';
import { durationOf, standing } from './standing.js';

const G = 9.81;
const PUSH_ROLL: SwingStyle = { clearance: 0, apex: 0.5, rollAngle: 45 * DEG, toeUp: 0 };
/** Hips height at take-off (legs extended, heels up) and at touch-down (legs nearly straight, feet flat). */
const TAKEOFF_Y = 0.985;
const LANDING_Y = 0.925;

/** The timeline of one jump, in absolute seconds. */
interface Leap {
  /** Crouch starts, lowest point, take-off, touch-down, recovered. */
  a: number;
  b: number;
  c: number;
  d: number;
  e: number;
  v0: number;
  depth: number;
  absorb: number;
  /** Ground distance covered and where it starts. */
  dist: number;
  z0: number;
  tuck: number;
}

function planLeaps(duration: number, count: number, height: number, dist: number, depth: number, tuck: number, pace: number): Leap[] {
  const v0 = Math.sqrt(2 * G * height);
  const tf = (v0 + Math.sqrt(v0 * v0 + 2 * G * (TAKEOFF_Y - LANDING_Y))) / G;
  const slot = duration / count;
  // Squeeze everything but the flight (physics decides that) into short segments.
  const k = clamp((slot - tf - 0.05) / 1.34, 0.45, 1) / pace;
  const leaps: Leap[] = [];
  for (let i = 0; i < count; i++) {
    const a = i * slot + 0.1 * k;
    const b = a + 0.4 * k;
    const c = b + 0.17 * k;
    const d = c + tf;
    leaps.push({ a, b, c, d, e: d + 0.62 * k, v0, depth, absorb: depth * 0.75, dist, z0: i * dist, tuck });
  }
  return leaps;
}

/** Hips position during one leap (t within [a, e]); outside, standing where the leap starts or ends. */
function hipsAt(L: Leap, t: number): Vec3 {
  const top = REST.hipsHeight;
  const low = top - L.depth;
  const vz = L.dist / (L.d - L.c);
  if (t <= L.a) return [0, top, L.z0];
  if (t <= L.b) {
    const u = (t - L.a) / (L.b - L.a);
    return [0, hermite(top, 0, low, 0, u), L.z0 + hermite(0, 0, -0.05, 0, u)];
  }
  if (t <= L.c) {
    const u = (t - L.b) / (L.c - L.b);
    const h = L.c - L.b;
    return [0, hermite(low, 0, TAKEOFF_Y, L.v0 * h, u), L.z0 + hermite(-0.05, 0, 0.02, vz * h, u)];
  }
  if (t <= L.d) {
    const tau = t - L.c;
    return [0, TAKEOFF_Y + L.v0 * tau - (G * tau * tau) / 2, L.z0 + 0.02 + vz * tau];
  }
  const zLand = L.z0 + 0.02 + L.dist;
  const vLand = L.v0 - G * (L.d - L.c);
  const mid = L.d + (L.e - L.d) * 0.35;
  if (t <= mid) {
    const u = (t - L.d) / (mid - L.d);
    const h = mid - L.d;
    return [0, hermite(LANDING_Y, vLand * h, top - L.absorb, 0, u), hermite(zLand, vz * h * 0.5, L.z0 + L.dist - 0.05, 0, u)];
  }
  const u = Math.min(1, (t - mid) / (L.e - mid));
  return [0, hermite(top - L.absorb, 0, top, 0, u), hermite(L.z0 + L.dist - 0.05, 0, L.z0 + L.dist, 0, u)];
}

export function jump(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const D = Math.max(durationOf(input), 0.5);
  const height = (mods.size === 'big' ? 0.34 : mods.size === 'small' ? 0.14 : between(rng, 0.18, 0.3)) * clamp(s.energy, 0.7, 1.3);
  const dist = mods.forward ? between(rng, 0.6, 1.0) : 0;
  const depth = between(rng, 0.17, 0.25);
  const tuck = between(rng, 0.08, 0.2);
  const armStyle = rng() < 0.7 ? 'swing' : 'tucked';
  const count = clamp(mods.count ?? Math.max(1, Math.floor(D / 2.6)), 1, Math.max(1, Math.floor(D / 1.3)));
  const leaps = planLeaps(D, count, height, dist, depth, tuck, Math.sqrt(s.speed));

  // Each foot: planted until take-off (rolling over the toes), planted again from touch-down.
  const plants = [0, 1].map((side) => {
    const x = side === 0 ? REST.footWidth : -REST.footWidth;
    const list: Plant[] = [{ land: -Infinity, lift: leaps[0].c, x, z: 0, yaw: 0, roll: 0.15 * (leaps[0].c - leaps[0].b) / 0.17 }];
    leaps.forEach((L, i) => {
      const next = leaps[i + 1];
      list.push({ land: L.d, lift: next ? next.c : Infinity, x, z: L.z0 + L.dist, yaw: 0, roll: next ? 0.15 * (next.c - next.b) / 0.17 : 0 });
    });
    return list;
  });

  const lean: [number, number][] = [];
  const flex: [number, number][] = [];
  const elbow: [number, number][] = [];
  const swing = armStyle === 'swing' ? 1 : 0.4;
  for (const L of leaps) {
    const tf = L.d - L.c;
    lean.push([L.a, 0], [L.b, 28 * DEG], [L.c, 4 * DEG], [L.c + tf / 2, 0], [L.d, 8 * DEG], [L.d + 0.2, 22 * DEG], [L.e, 0]);
    // The arms swing back during the crouch and drive up through the take-off (not in one jerk at the bottom).
    flex.push([L.a, 0], [L.a + 0.6 * (L.b - L.a), -45 * DEG * swing], [L.c + 0.05, 125 * DEG * swing], [L.c + 0.5 * tf, 140 * DEG * swing], [L.d, 40 * DEG], [L.d + 0.2, 20 * DEG], [L.e, 3 * DEG]);
    elbow.push([L.a, 12 * DEG], [L.b, 20 * DEG], [L.c, 15 * DEG + (1 - swing) * 60 * DEG], [L.d, 30 * DEG], [L.e, 12 * DEG]);
  }
  const leanKeys: Keys = lean;
  const flexKeys: Keys = flex;
  const elbowKeys: Keys = elbow;

  const leapAt = (t: number) => leaps.find((L) => t <= L.e) ?? leaps[leaps.length - 1];
  const feetAt = (t: number): readonly [FootPose, FootPose] => {
    const L = leapAt(t);
    if (t <= L.c || t >= L.d) return [footAt(plants[0], t, PUSH_ROLL), footAt(plants[1], t, PUSH_ROLL)];
    // In the air: each ankle moves from its take-off offset under the hips to its landing offset, tucking up in between.
    const s = (t - L.c) / (L.d - L.c);
    const hips = hipsAt(L, t);
    const h0 = hipsAt(L, L.c);
    const h1 = hipsAt(L, L.d);
    const pitch = PUSH_ROLL.rollAngle * (1 - smooth(s / 0.85));
    return [0, 1].map((side) => {
      const off = footAt(plants[side], L.c, PUSH_ROLL).ankle;
      const x = side === 0 ? REST.footWidth : -REST.footWidth;
      const on: Vec3 = [x, REST.ankleHeight, L.z0 + L.dist];
      const w = minJerk(s);
      const up = L.tuck * bump(s, 0.45);
      return {
        ankle: [hips[0] + lerp(off[0] - h0[0], on[0] - h1[0], w), hips[1] + lerp(off[1] - h0[1], on[1] - h1[1], w) + up, hips[2] + lerp(off[2] - h0[2], on[2] - h1[2], w) + 0.35 * up],
        rot: qx(pitch),
        toeLocal: qx(-PUSH_ROLL.rollAngle * (1 - smooth(s / 0.3))),
        heel: false,
        toe: false,
      } satisfies FootPose;
    }) as unknown as readonly [FootPose, FootPose];
  };

  return standing(input, {
    pose(t, body) {
      const L = leapAt(t);
      body.root = t < leaps[0].a ? [0, REST.hipsHeight, 0] : hipsAt(L, t);
      body.free = t > L.c && t < L.d;
      const l = track(leanKeys, t);
      body.pelvis = [0.5 * l, 0, 0];
      body.spine = [0.5 * l, 0, 0];
      body.head = [-0.6 * l, 0, 0];
      const arm = { flex: track(flexKeys, t), out: (10 + 10 * (body.free ? 1 : 0)) * DEG, elbow: track(elbowKeys, t) };
      body.arms = [arm, arm];
    },
    feet: feetAt,
    // A constant touch of life: switching it on and off around each leap would jerk the hips.
    life: () => 0.3,
    info: { jumps: count, height_m: Math.round(height * 100) / 100, distance_m: Math.round(dist * 100) / 100 },
  }, s);
}
