/**
 * Stepping motions planned foot by foot rather than by one gait rhythm: a limp (uneven stance times),
 * a zombie's shamble, climbing stairs (plants that rise), a skip (step-hop on each foot), hopping on one
 * foot, and a stumble (a caught toe, a lurch, quick recovery steps).
 */
import { allocClip } from '../../../motion/clip.js';
import { solveTwoBone } from '../../../motion/ik.js';
import { KNEE } from '../../../motion/limits.js';
import type { Vec3 } from '../../../motion/quat.js';
import { qx } from '../../../motion/quat.js';
import { DEG, bump, clamp, lerp, minJerk, smooth } from '../curves.js';
import { footAt, WALK_SWING, type FootPose, type Plant, type SwingStyle } from '../feet.js';
import { gait, type GaitSpec } from '../gait.js';
import type { Generated, MotionInput } from '../generator.js';
import { finishClip, renderFrame, standingBody, type ArmPose, type BodyPose } from '../pose.js';
import { between, jitter } from '../random.js';
import { JOINT_COUNT, LEG, PROCEDURAL_SKELETON, REST } from '../rig.js';
import { applyPosture, styleOf, type Style } from '../style.js';
import { actingSide } from './gestures.js';
import { durationOf, standing } from './standing.js';

const G = 9.81;

/** ∫₀ᵗ smooth(τ/R) dτ: distance covered at unit speed by a body that eases into it over R seconds. */
function eased(t: number, R: number): number {
  if (t <= 0) return 0;
  if (t >= R) return R / 2 + (t - R);
  const u = t / R;
  return R * (u * u * u - (u * u * u * u) / 2);
}

/** The plant in effect at time t and the next one (plants in time order). */
function plantAt(plants: readonly Plant[], t: number): number {
  let k = 0;
  while (k + 1 < plants.length && plants[k + 1].land <= t) k++;
  return k;
}

interface PlannedSteps {
  plants: readonly [Plant[], Plant[]];
  swing: readonly [SwingStyle, SwingStyle];
  /** Height of each plant's tread (metres), same indexing as `plants`; default floor level. */
  heights?: readonly [number[], number[]];
  /** Shapes the body at time t, given where the feet are. */
  body(t: number, body: BodyPose, feet: readonly [FootPose, FootPose]): void;
  info: Record<string, number | string | boolean>;
  /** A world direction for both knees, re-solving the legs after the frame is written (a trunk pitched far forward). */
  kneePole?: Vec3;
}

/** A foot with its tread height added: the swing rises early to clear the nosing of the next step. */
function raised(plants: readonly Plant[], heights: readonly number[] | undefined, t: number, swing: SwingStyle): FootPose {
  const foot = footAt(plants, t, swing);
  if (!heights) return foot;
  const k = plantAt(plants, t);
  const p = plants[k];
  let h = heights[k];
  if (t > p.lift && k + 1 < plants.length) {
    const s = clamp((t - p.lift) / (plants[k + 1].land - p.lift), 0, 1);
    h = lerp(heights[k], heights[k + 1], minJerk(clamp(s / 0.95, 0, 1)));
  }
  return { ...foot, ankle: [foot.ankle[0], foot.ankle[1] + h, foot.ankle[2]] };
}

function onPlants(input: MotionInput, plan: PlannedSteps, style: Style): Generated {
  const { frames, fps } = input;
  const clip = allocClip(JOINT_COUNT, frames, fps);
  const contacts = new Uint8Array(frames * 4);
  for (let f = 0; f < frames; f++) {
    const t = f / fps;
    const feet = [
      raised(plan.plants[0], plan.heights?.[0], t, plan.swing[0]),
      raised(plan.plants[1], plan.heights?.[1], t, plan.swing[1]),
    ] as const;
    const body = standingBody();
    plan.body(t, body, feet);
    applyPosture(body, style, smooth(t / 0.6));
    renderFrame(clip, f, body, feet, contacts);
    if (plan.kneePole) {
      for (let side = 0; side < 2; side++) {
        solveTwoBone(PROCEDURAL_SKELETON, clip.rotations, f * JOINT_COUNT, clip.rootPositions.subarray(f * 3, f * 3 + 3), LEG[side], feet[side].ankle, { poleHint: plan.kneePole, endWorldRotation: feet[side].rot, hinge: KNEE });
      }
    }
  }
  finishClip(clip);
  return { clip, contacts, info: plan.info, plants: plan.plants };
}

const armSwing = (swing: number, elbow: number): ArmPose => ({ flex: 3 * DEG + swing, out: 7 * DEG, elbow: elbow + 10 * DEG * Math.max(0, swing) / Math.max(Math.abs(swing), 0.2) });

/**
 * A limp: the sore leg's stance is short and stiff (little knee bend, no push-off, a low swing that
 * circles out), the good leg's long; the hips dip and the trunk leans over the sore side while it
 * carries the weight. The sore side is the one the prompt names, else drawn.
 */
export function limp(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf({ ...mods, manner: undefined });
  const sore = actingSide(mods, rng, 0.6);
  const good = (1 - sore) as 0 | 1;
  const cadence = jitter(rng, 1.45, 0.08) * Math.sqrt(s.speed);
  const T = 2 / cadence;
  const step = mods.inPlace ? 0 : jitter(rng, 0.46, 0.08) * Math.sqrt(s.speed);
  const v = step * cadence;
  const sg = 0.63;
  const sb = 0.5;
  const phase = 0.56;
  const t0 = 0.25;
  const R = 0.8;
  const z = (t: number) => v * eased(t - t0 + 0.1, R);
  const width = 0.1;
  const plants: [Plant[], Plant[]] = [[], []];
  const x = (side: 0 | 1) => (side === 0 ? 1 : -1) * REST.footWidth;
  const xw = (side: 0 | 1) => (side === 0 ? 1 : -1) * width;
  // The good foot steps first; each foot lands where the body will be partway through its stance.
  const goodLift0 = t0;
  const goodLand0 = t0 + (1 - sg) * T;
  const soreLift0 = goodLand0 + (phase - 1 + sb) * T;
  plants[good].push({ land: -Infinity, lift: goodLift0, x: x(good), z: 0, yaw: 0, roll: 0 });
  plants[sore].push({ land: -Infinity, lift: soreLift0, x: x(sore), z: 0, yaw: 0, roll: 0 });
  const D = durationOf(input);
  for (let k = 0; ; k++) {
    const gl = goodLand0 + k * T;
    const bl = gl + phase * T;
    plants[good].push({ land: gl, lift: gl + sg * T, x: xw(good), z: z(gl + 0.25 * sg * T) + 0.04, yaw: 0, roll: 0.3 * sg * T });
    plants[sore].push({ land: bl, lift: bl + sb * T, x: xw(sore) * 1.15, z: z(bl + 0.3 * sb * T) + 0.04, yaw: sore === 0 ? 0.12 : -0.12, roll: 0 });
    if (gl > D + T) break;
  }
  const soreSwing: SwingStyle = { clearance: 0.025, apex: 0.5, rollAngle: 0, toeUp: 2 * DEG };
  // A shorter push-off than a walk's (the good leg hurries through a short swing): less knee flexion to undo before landing.
  const goodSwing: SwingStyle = { ...WALK_SWING, clearance: 0.055, rollAngle: 45 * DEG };
  const sign = sore === 0 ? 1 : -1;
  const soreMid = soreLift0 + (1 - sb) * T + 0.45 * sb * T;
  return onPlants(input, {
    plants,
    swing: sore === 0 ? [soreSwing, goodSwing] : [goodSwing, soreSwing],
    body(t, body) {
      const amp = smooth((t - t0 + 0.1) / R);
      // 1 at the middle of the sore foot's stance, 0 half a cycle away.
      const onSore = 0.5 + 0.5 * Math.cos((2 * Math.PI * (t - soreMid)) / T);
      const load = onSore * onSore * amp;
      // The hips sink onto the sore leg over its whole stance, from its landing to the good foot's landing
      // (onSore, not the peaked load): rising between the two landings would only be pulled back down by
      // the next foot's reach, flexing the stance knee twice.
      body.root = [sign * 0.035 * (2 * load - 1) * amp, REST.hipsHeight - 0.02 * amp - 0.035 * onSore * amp, z(t)];
      // The good leg reaches far at the end of its swing: lower the hips softly so its knee slows into the
      // landing instead of snapping straight at the reach limit.
      body.reachSoftness = 0.04;
      body.pelvis = [2 * DEG * amp, -sign * 4 * DEG * (2 * load - 1) * amp, -sign * 4 * DEG * load];
      body.spine = [(5 + 6 * load) * DEG * amp, 0, sign * 9 * DEG * load];
      body.neck = [0, 0, -sign * 4 * DEG * load];
      body.head = [-4 * DEG * amp, 0, -sign * 3 * DEG * load];
      const sw = 10 * DEG * amp * Math.sin((2 * Math.PI * (t - soreMid)) / T);
      body.arms = [armSwing(sw * sign, 14 * DEG), armSwing(-sw * sign, 14 * DEG)];
      // The arm on the sore side braces out for balance.
      const brace = body.arms[sore];
      body.arms = sore === 0 ? [{ ...brace, out: brace.out + 8 * DEG * load }, body.arms[1]] : [body.arms[0], { ...brace, out: brace.out + 8 * DEG * load }];
    },
    info: { sore_leg: sore === 0 ? 'left' : 'right', cadence, step, speed: v, stance_sore: sb, stance_good: sg },
  }, s);
}

/** A zombie's shamble: slow dragging steps with no push-off, arms held out forward, a lurching, lolling trunk. */
export function zombieWalk(input: MotionInput): Generated {
  const { frames, fps, rng, mods } = input;
  const s = styleOf({ ...mods, manner: 'zombie' });
  const k = Math.sqrt(s.speed / 0.7) * jitter(rng, 1, 0.1);
  const lurch = between(rng, 6, 11) * DEG;
  const lurchPeriod = between(rng, 2.4, 3.4);
  const tilt = between(rng, -1, 1) < 0 ? -1 : 1;
  const spec: GaitSpec = {
    cadence: 1.25 * k, step: mods.inPlace ? 0 : 0.36 * k, stance: 0.7, direction: 0, width: 0.12, lead: 0.45, roll: 0.15,
    swing: { clearance: 0.018, apex: 0.6, rollAngle: 12 * DEG, toeUp: 0, drop: 0 }, height: 0.915, bob: 0.005, flight: false,
    sway: 0.05, pelvisYaw: 3 * DEG, pelvisRoll: 7 * DEG, lean: 12 * DEG,
    arms: { swing: 3 * DEG, flex: 0, elbow: 12 * DEG, elbowSwing: 0, out: 6 * DEG }, spineCounter: 0.2, headPitch: 8 * DEG,
    leadSide: rng() < 0.5 ? 0 : 1, ramp: 0.9,
    upper(t, body, amp) {
      const l = lurch * amp * Math.sin((2 * Math.PI * t) / lurchPeriod);
      body.spine = [body.spine[0] + 0.4 * Math.abs(l), body.spine[1] + 0.5 * l, body.spine[2] + l];
      body.head = [body.head[0], body.head[1] - 0.4 * l, body.head[2] + tilt * 8 * DEG * amp - 0.5 * l];
      applyPosture(body, s, amp);
    },
  };
  const g = gait(spec, frames, fps);
  g.info = { ...g.info, lurch_degrees: Math.round(lurch / DEG) };
  return g;
}

/**
 * Climbing a flight of stairs step over step (risers 15–18 cm, treads 27–30 cm): each foot lands flat on
 * the tread two steps above its last, the hips rise over the leading foot, the trunk leans into the climb.
 */
export function climbStairs(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const riser = between(rng, 0.15, 0.18);
  const tread = between(rng, 0.27, 0.3);
  const period = jitter(rng, 0.62, 0.08) / s.speed;
  const stance = 1.24 * period;
  const lead = rng() < 0.5 ? 0 : 1;
  const D = durationOf(input);
  const t0 = 0.3;
  const plants: [Plant[], Plant[]] = [[{ land: -Infinity, lift: 0, x: REST.footWidth, z: 0, yaw: 0, roll: 0 }], [{ land: -Infinity, lift: 0, x: -REST.footWidth, z: 0, yaw: 0, roll: 0 }]];
  const heights: [number[], number[]] = [[0], [0]];
  // Step n (1, 2, …) puts foot (lead + n − 1) mod 2 on stair n at time t0 + n·period.
  const n = Math.max(1, Math.floor((D - t0) / period) + 2);
  for (let i = 1; i <= n; i++) {
    const side = ((lead + i - 1) % 2) as 0 | 1;
    const land = t0 + i * period;
    const list = plants[side];
    const prev = list[list.length - 1];
    // The foot lifts (rolling over its toe) after its swing time; the first step leaves the floor at t0.
    prev.lift = i <= 2 ? t0 + (i - 1) * period + 0.05 : land - (2 * period - stance);
    prev.roll = i <= 2 ? 0 : 0.18 * stance;
    list.push({ land, lift: Infinity, x: side === 0 ? REST.footWidth : -REST.footWidth, z: i * tread + 0.02, yaw: 0, roll: 0 });
    heights[side].push(i * riser);
  }
  const swing: SwingStyle = { clearance: 0.07, apex: 0.55, rollAngle: 25 * DEG, toeUp: 4 * DEG };
  return onPlants(input, {
    plants,
    heights,
    swing: [swing, swing],
    body(t, body, feet) {
      const a = feet[0].ankle;
      const b = feet[1].ankle;
      // The hips rise one riser per step at a steady rate, easing in over the first step (not with the
      // swinging ankle, whose quick rise over the nosing would jerk the hips up onto a straight knee); at
      // each landing they are 0.7 riser below the new tread's level, and the reach limit (softened)
      // lowers them where a leg would be too short.
      const rise = riser * eased(t - (t0 + 1.1 * period - period / 2), period) / period;
      const amp = smooth((t - t0 + 0.2) / 0.6);
      body.root = [0, REST.hipsHeight - 0.03 * amp + rise, 0.5 * (a[2] + b[2]) + 0.05 * amp];
      body.reachSoftness = 0.04;
      const climb = 8 * DEG * amp;
      body.pelvis = [climb, 0, 0];
      body.spine = [climb * 0.8, 0, 0];
      body.head = [-climb * 0.6 + 6 * DEG * amp, 0, 0];
      const phase = Math.sin((Math.PI * (t - t0)) / period);
      body.arms = [armSwing(12 * DEG * phase * amp, 16 * DEG), armSwing(-12 * DEG * phase * amp, 16 * DEG)];
    },
    info: { riser_m: Math.round(riser * 100) / 100, tread_m: Math.round(tread * 100) / 100, steps: n },
  }, s);
}

/**
 * Skipping: step-hop on one foot, step-hop on the other. Each foot lands, hops once (a short flight with
 * the other knee driven up), lands again and swings forward; the arms swing high in opposition.
 */
export function skip(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const P = jitter(rng, 0.68, 0.06) / Math.sqrt(s.speed);
  const stride = (mods.inPlace ? 0 : jitter(rng, 0.62, 0.08)) * Math.sqrt(s.speed);
  const hop = between(rng, 0.07, 0.11) * clamp(s.energy, 0.7, 1.3);
  const v0 = Math.sqrt(2 * G * hop);
  const flight = (2 * v0) / G;
  const t0 = 0.3;
  const D = durationOf(input);
  const first = rng() < 0.5 ? 0 : 1;
  // Half-cycle i (length P) belongs to foot (first + i) mod 2: it lands at t0 + iP, hops off at
  // t0 + iP + h1, lands again h1 + flight later, and swings forward at the next half-cycle.
  const h1 = 0.16 * P / 0.68;
  const plants: [Plant[], Plant[]] = [[{ land: -Infinity, lift: Infinity, x: REST.footWidth, z: 0, yaw: 0, roll: 0 }], [{ land: -Infinity, lift: Infinity, x: -REST.footWidth, z: 0, yaw: 0, roll: 0 }]];
  const flights: [number, number][] = [];
  const n = Math.max(1, Math.ceil((D - t0) / P) + 2);
  plants[first][0].lift = t0 - 0.28;
  plants[1 - first][0].lift = t0 + h1;
  const zOf = (t: number) => stride * eased(t - t0 + 0.3, 0.6) / (2 * P);
  for (let i = 0; i < n; i++) {
    const side = ((first + i) % 2) as 0 | 1;
    const land = t0 + i * P;
    const list = plants[side];
    const x = side === 0 ? 0.09 : -0.09;
    const zl = zOf(land + 0.2);
    list.push({ land, lift: land + h1, x, z: zl, yaw: 0, roll: 0.08 });
    list.push({ land: land + h1 + flight, lift: land + P + h1, x, z: zl + 0.1 * stride, yaw: 0, roll: 0.1 });
    flights.push([land + h1, land + h1 + flight]);
    if (land > D + P) break;
  }
  const swing: SwingStyle = { clearance: 0.16, apex: 0.45, rollAngle: 35 * DEG, toeUp: 6 * DEG };
  const hopSwing: SwingStyle = { clearance: hop * 0.9, apex: 0.5, rollAngle: 35 * DEG, toeUp: 0 };
  const styleFor = (plants: readonly Plant[], t: number): SwingStyle => {
    const k = plantAt(plants, t);
    // A lift shorter than the flight is the hop itself.
    return k + 1 < plants.length && plants[k + 1].land - plants[k].lift <= flight + 1e-9 ? hopSwing : swing;
  };
  const { frames, fps } = input;
  const clip = allocClip(JOINT_COUNT, frames, fps);
  const contacts = new Uint8Array(frames * 4);
  for (let f = 0; f < frames; f++) {
    const t = f / fps;
    const feet = [footAt(plants[0], t, styleFor(plants[0], t)), footAt(plants[1], t, styleFor(plants[1], t))] as const;
    const body = standingBody();
    const amp = smooth((t - t0 + 0.3) / 0.5);
    const fl = flights.find(([a, b]) => t >= a && t <= b);
    let y = REST.hipsHeight - 0.03 * amp;
    if (fl) {
      const tau = t - fl[0];
      y += v0 * tau - (G * tau * tau) / 2;
      body.free = true;
    }
    const i = Math.floor((t - t0) / P);
    const drive = (i >= 0 ? 1 : 0) * bump(((t - t0) / P) - i, 0.45);
    body.root = [0, y - 0.02 * drive * amp, zOf(t) + 0.04 * amp];
    const side = (((first + Math.max(0, i)) % 2) + 2) % 2;
    const sw = 35 * DEG * amp * (side === 0 ? 1 : -1) * Math.sin((Math.PI * (t - t0)) / P) * s.energy;
    body.pelvis = [4 * DEG * amp, 0, 0];
    body.spine = [2 * DEG * amp, 0, 0];
    body.head = [-6 * DEG * amp, 0, 0];
    body.arms = [armSwing(sw, 30 * DEG), armSwing(-sw, 30 * DEG)];
    applyPosture(body, s, amp);
    renderFrame(clip, f, body, feet, contacts);
  }
  finishClip(clip);
  return { clip, contacts, info: { period: P, stride, hop_m: Math.round(hop * 100) / 100 }, plants };
}

/**
 * Hopping on one foot: the other leg held bent behind, the standing foot landing on its ball and rolling
 * flat, the knee absorbing, pushing off over the toe; arms out for balance. In place, or forward when asked.
 */
export function hop(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const side = actingSide(mods, rng, 0.55);
  const other = (1 - side) as 0 | 1;
  const P = jitter(rng, 0.62, 0.06) / Math.sqrt(s.speed);
  const height = between(rng, 0.06, 0.1) * clamp(s.energy, 0.7, 1.3);
  const v0 = Math.sqrt(2 * G * height);
  const flight = (2 * v0) / G;
  const ground = Math.max(0.2, P - flight);
  const adv = mods.forward ? between(rng, 0.15, 0.25) : 0;
  const D = durationOf(input);
  const t0 = 0.5;
  const count = clamp(mods.count ?? Math.floor((D - t0 - 0.5) / P), 1, 40);
  const x = side === 0 ? REST.footWidth * 0.6 : -REST.footWidth * 0.6;
  const stand: Plant[] = [{ land: -Infinity, lift: t0 + ground, x, z: 0, yaw: 0, roll: 0.1 }];
  for (let k = 1; k <= count; k++) {
    const land = t0 + ground + (k - 1) * P + flight;
    stand.push({ land, lift: k < count ? land + ground : Infinity, x, z: k * adv, yaw: 0, roll: k < count ? 0.1 : 0 });
  }
  const end = t0 + count * P + flight;
  const swing: SwingStyle = { clearance: height * 0.7, apex: 0.5, rollAngle: 30 * DEG, toeUp: 0 };
  return standing(input, {
    pose(t, body) {
      const lift = smooth((t - 0.05) / 0.4) * (1 - smooth((t - end - 0.1) / 0.45));
      const k = Math.floor((t - t0 - ground) / P);
      const u = t - t0 - ground - k * P;
      const z = adv * clamp(k + (u > 0 && u < flight ? u / flight : u >= flight ? 1 : 0), 0, count);
      let y = REST.hipsHeight - 0.02;
      if (k >= 0 && k < count && u < flight) {
        y = REST.hipsHeight - 0.01 + v0 * u - (G * u * u) / 2;
        body.free = true;
      } else if (t > t0 && t < end) {
        // On the ground: the knee takes the landing and drives the next push-off.
        const g = u >= flight ? (u - flight) / ground : (t - t0) / ground;
        y = REST.hipsHeight - 0.01 - 0.06 * Math.sin(Math.PI * clamp(g, 0, 1));
      }
      body.root = [(side === 0 ? 1 : -1) * 0.06 * lift, y, z];
      body.pelvis = [5 * DEG * lift, 0, (side === 0 ? -1 : 1) * 3 * DEG * lift];
      body.spine = [3 * DEG * lift, 0, (side === 0 ? 1 : -1) * 4 * DEG * lift];
      const armOut: ArmPose = { flex: 20 * DEG * lift, out: (6 + 34 * lift) * DEG, elbow: (12 + 25 * lift) * DEG };
      body.arms = [armOut, armOut];
    },
    feet(t) {
      const lift = smooth((t - 0.05) / 0.4) * (1 - smooth((t - end - 0.1) / 0.45));
      const k = Math.floor((t - t0 - ground) / P);
      const z = adv * clamp(k + 1, 0, count);
      const base = footAt(stand, t, swing);
      // The free foot: lifted behind with the knee bent, toe pointed.
      const fx = other === 0 ? REST.footWidth : -REST.footWidth;
      const airborne = base.ankle[1] - REST.ankleHeight;
      const free: FootPose = {
        ankle: [fx, REST.ankleHeight + 0.3 * lift + airborne, z * lift - 0.22 * lift],
        rot: qx(35 * DEG * lift),
        toeLocal: [0, 0, 0, 1],
        heel: lift < 0.02,
        toe: lift < 0.02,
      };
      return side === 0 ? [base, free] : [free, base];
    },
    life: () => 0.3,
    info: { foot: side === 0 ? 'left' : 'right', hops: count, height_m: Math.round(height * 100) / 100 },
  }, s);
}

/**
 * A stumble: a few steps, the toe catches, the trunk pitches forward with the arms flung out, two quick
 * short recovery steps catch the fall, then the body straightens and stands.
 */
/**
 * Stumble roll-off: seconds, and the swing's roll angle. At a walk's 60° in 0.12 s, fastest at toe-off, the
 * foot pitched ~1000°/s as it left, and on rigs whose toe is shaped unlike the model's the retargeted toe
 * tip flicked back 1.5 cm in one frame while still within 1.5 cm of the floor (1.1 cm planted drift). A
 * shuffling stumble step rolls less and more slowly, easing off before the toe leaves: the tip now rises
 * with under 0.3 cm of backward travel.
 */
const STUMBLE_ROLL_S = 0.16;
const STUMBLE_ROLL_ANGLE = 45 * DEG;
export function stumble(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const lead = rng() < 0.5 ? 0 : 1;
  const other = (1 - lead) as 0 | 1;
  const k = 1 / s.speed;
  const trip = between(rng, 0.9, 1.2) * k;
  const xs = (side: 0 | 1, w = 0.085) => (side === 0 ? w : -w);
  // Foot plans: lead steps, other steps (caught), lead rushes ahead, other catches, lead closes.
  const pl: [Plant[], Plant[]] = [[], []];
  const timeline: [0 | 1, number, number, number][] = [
    // [side, lift, land, z]
    [lead, 0.25, 0.25 + 0.38 * k, 0.35],
    [other, 0.25 + 0.42 * k, trip + 0.12, 0.72],
    [lead, trip + 0.05, trip + 0.4 * k, 1.15],
    [other, trip + 0.45 * k, trip + 0.78 * k, 1.45],
    [lead, trip + 0.95 * k, trip + 1.3 * k, 1.5],
  ];
  pl[0].push({ land: -Infinity, lift: Infinity, x: REST.footWidth, z: 0, yaw: 0, roll: 0 });
  pl[1].push({ land: -Infinity, lift: Infinity, x: -REST.footWidth, z: 0, yaw: 0, roll: 0 });
  for (const [side, lift, land, z] of timeline) {
    const list = pl[side];
    list[list.length - 1].lift = lift;
    list[list.length - 1].roll = Math.min(STUMBLE_ROLL_S, (lift - list[list.length - 1].land) * 0.3) || 0;
    list.push({ land, lift: Infinity, x: xs(side, side === lead ? 0.1 : 0.09), z, yaw: 0, roll: 0 });
  }
  // 8 cm of clearance: the hips drop with the lurch, and at 5 cm a long-toed rig's swinging toe tip grazed
  // the floor mid-stride, where the cleanup bent the toes up for a frame (50°/frame).
  const swing: SwingStyle = { ...WALK_SWING, clearance: 0.08, lateRoll: 0, rollAngle: STUMBLE_ROLL_ANGLE };
  const pitchKeys = (t: number) => {
    // Forward pitch of the trunk: builds from the trip, peaks as the first recovery foot lands, recovers.
    const up = smooth((t - trip) / (0.28 * k));
    const down = smooth((t - trip - 0.55 * k) / (0.9 * k));
    return (28 * DEG * up - 26 * DEG * down) * clamp(s.energy, 0.7, 1.3);
  };
  return onPlants(input, {
    plants: pl,
    swing: [swing, swing],
    body(t, body, feet) {
      const a = feet[0].ankle;
      const b = feet[1].ankle;
      const p = pitchKeys(t);
      const amp = smooth((t - 0.15) / 0.5);
      const zMid = 0.5 * (a[2] + b[2]);
      // The hips pitch ahead of the feet and drop with the lurch (never so far that a foot is out of reach).
      body.root = [0, REST.hipsHeight - 0.03 * amp - 0.14 * Math.sin(Math.max(0, p)), zMid + 0.06 * amp + 0.12 * Math.sin(Math.max(0, p))];
      body.pelvis = [0.4 * p + 3 * DEG * amp, 0, 0];
      body.spine = [0.6 * p, 0, 0];
      body.head = [-0.7 * p, 0, 0];
      const fling = smooth((t - trip) / (0.2 * k)) * (1 - smooth((t - trip - 0.7 * k) / (0.8 * k)));
      const arm: ArmPose = { flex: (8 + 60 * fling) * DEG * amp, out: (7 + 30 * fling) * DEG, elbow: (15 + 20 * fling) * DEG };
      body.arms = [arm, arm];
    },
    kneePole: [0, -0.1, 1],
    info: { trip_at_s: Math.round(trip * 100) / 100, lead: lead === 0 ? 'left' : 'right' },
  }, s);
}
