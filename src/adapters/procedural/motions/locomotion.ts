/** The stepping motions: walks, runs, backward walks, sidesteps, marches, sneaks and turns on the spot, as gait parameters. */
import { DEG, clamp, smooth } from '../curves.js';
import { WALK_SWING } from '../feet.js';
import { gait, type GaitSpec } from '../gait.js';
import type { Generated, MotionInput } from '../generator.js';
import { between, jitter, type Rng } from '../random.js';
import { applyPosture, styleOf, type Style } from '../style.js';

/** ∫₀ᵗ smooth(τ/R) dτ: the heading of a turn rate that eases in over R seconds, per unit of rate. */
function easedIntegral(t: number, R: number): number {
  if (t <= 0) return 0;
  if (t >= R) return R / 2 + (t - R);
  const u = t / R;
  return R * (u * u * u - (u * u * u * u) / 2);
}

/** Cadence and step scaled together so their product (the speed) scales by `speed`. */
function paced(cadence: number, step: number, speed: number): { cadence: number; step: number } {
  const k = Math.sqrt(speed);
  return { cadence: cadence * k, step: step * k };
}

/** Per-sample variation common to every gait. */
function varied(rng: Rng, s: Style, base: GaitSpec): GaitSpec {
  const speed = jitter(rng, 1, 0.1);
  const { cadence, step } = paced(base.cadence, base.step, speed * s.speed);
  const armGain = between(rng, 0.65, 1.35) * s.energy;
  return {
    ...base,
    cadence,
    step: base.step === 0 ? 0 : step,
    bob: base.bob * between(rng, 0.7, 1.3) * Math.sqrt(s.energy),
    sway: base.sway * between(rng, 0.6, 1.4),
    pelvisYaw: base.pelvisYaw * between(rng, 0.7, 1.3),
    lean: base.lean + between(rng, -2, 2) * DEG + s.lean,
    width: base.width + between(rng, -0.01, 0.012),
    headPitch: base.headPitch + between(rng, -4, 4) * DEG,
    arms: {
      ...base.arms,
      swing: base.arms.swing * armGain,
      elbow: base.arms.elbow + between(rng, -6, 10) * DEG,
      out: base.arms.out + between(rng, -2, 5) * DEG,
    },
    leadSide: rng() < 0.5 ? 0 : 1,
    upper: (t, body, amp) => {
      base.upper?.(t, body, amp);
      applyPosture(body, s, amp);
    },
  };
}

/** Heading over time for a walk that curves to one side, or goes round in a circle. */
function curveHeading(m: MotionInput['mods'], speed: number, ramp: number): GaitSpec['heading'] {
  const sign = m.side === 'right' ? -1 : 1;
  if (m.circle) {
    const rate = (sign * speed) / 1.8; // a circle of 1.8 m radius
    return (t) => rate * easedIntegral(t, ramp);
  }
  if (m.side && !m.inPlace) return (t) => sign * (Math.PI / 2) * smooth((t - 0.4) / 2.4);
  return undefined;
}

function info(g: Generated, extra: Record<string, number | string | boolean> = {}): Generated {
  g.info = { ...g.info, ...extra };
  return g;
}

const WALK: GaitSpec = {
  cadence: 1.85, step: 0.68, stance: 0.6, direction: 0, width: 0.085, lead: 0.36, roll: 0.5,
  swing: WALK_SWING, height: 0.915, bob: 0.018, flight: false, sway: 0.022, pelvisYaw: 5 * DEG, pelvisRoll: 3 * DEG,
  lean: 3 * DEG, arms: { swing: 20 * DEG, flex: 3 * DEG, elbow: 14 * DEG, elbowSwing: 14 * DEG, out: 7 * DEG },
  spineCounter: 0.8, headPitch: 3 * DEG, leadSide: 0, ramp: 0.6,
};

export function walk({ frames, fps, rng, mods }: MotionInput): Generated {
  const s = styleOf(mods);
  const spec = varied(rng, s, { ...WALK, stance: mods.pace === 'slow' ? 0.64 : 0.6, step: mods.inPlace ? 0 : WALK.step });
  spec.heading = curveHeading(mods, spec.step * spec.cadence, spec.ramp);
  return info(gait(spec, frames, fps), { curve: mods.circle ? 'circle' : mods.side ?? 'straight' });
}

const JOG: GaitSpec = {
  ...WALK, cadence: 2.5, step: 0.82, stance: 0.44, width: 0.07, lead: 0.33, roll: 0.45,
  swing: { clearance: 0.14, apex: 0.4, rollAngle: 40 * DEG, toeUp: 8 * DEG }, height: 0.91, bob: 0.02, flight: true,
  sway: 0.012, pelvisYaw: 6 * DEG, lean: 6 * DEG, arms: { swing: 30 * DEG, flex: 10 * DEG, elbow: 75 * DEG, elbowSwing: 8 * DEG, out: 10 * DEG },
  spineCounter: 0.9, headPitch: 0, ramp: 0.7,
};

export function jog({ frames, fps, rng, mods }: MotionInput): Generated {
  const spec = varied(rng, styleOf(mods), { ...JOG, step: mods.inPlace ? 0 : JOG.step });
  spec.heading = curveHeading(mods, spec.step * spec.cadence, spec.ramp);
  return gait(spec, frames, fps);
}

const RUN: GaitSpec = {
  ...JOG, cadence: 2.85, step: 1.1, stance: 0.36, width: 0.06, lead: 0.3, roll: 0.55,
  swing: { clearance: 0.24, apex: 0.35, rollAngle: 45 * DEG, toeUp: 10 * DEG }, height: 0.87, bob: 0.025,
  sway: 0.008, pelvisYaw: 8 * DEG, lean: 9 * DEG, arms: { swing: 40 * DEG, flex: 12 * DEG, elbow: 85 * DEG, elbowSwing: 10 * DEG, out: 10 * DEG },
  ramp: 0.8,
};

export function run({ frames, fps, rng, mods }: MotionInput): Generated {
  const spec = varied(rng, styleOf(mods), { ...RUN, step: mods.inPlace ? 0 : RUN.step });
  spec.heading = curveHeading(mods, spec.step * spec.cadence, spec.ramp);
  return gait(spec, frames, fps);
}

const BACKWARD: GaitSpec = {
  ...WALK, cadence: 1.7, step: 0.42, stance: 0.62, direction: Math.PI, lead: 0.5, roll: 0.15,
  // A forward walk played backward: lands toe first and rocks down onto the heel (a drop before touch-down
  // would jerk the knee), and leaves toe first, the toes peeling up about the heel, so the leg in front is
  // released gradually instead of holding the hips at full reach until lift-off (a one-frame knee drop).
  swing: { clearance: 0.05, apex: 0.5, rollAngle: 0, toeUp: -8 * DEG, drop: 0, liftToeUp: 12 * DEG }, height: 0.92,
  // Hips nearly level, with little pelvis roll: at this slow speed a walk's bob and hip drop lift the hip
  // faster than the foot moves away from under it, and the stance knee would dip and hump mid-stance
  // instead of one loading flexion then a steady extension.
  bob: 0.002, sway: 0.018, pelvisYaw: 3 * DEG, pelvisRoll: 1 * DEG, lean: -1 * DEG,
  arms: { swing: 12 * DEG, flex: 4 * DEG, elbow: 18 * DEG, elbowSwing: 8 * DEG, out: 9 * DEG },
  headPitch: 4 * DEG,
};

export function walkBackward({ frames, fps, rng, mods }: MotionInput): Generated {
  return gait(varied(rng, styleOf(mods), BACKWARD), frames, fps);
}

const SIDESTEP: GaitSpec = {
  ...WALK, cadence: 2, step: 0.24, stance: 0.6, width: 0.17, lead: 0.5, roll: 0.2,
  swing: { clearance: 0.045, apex: 0.5, rollAngle: 15 * DEG, toeUp: 0 }, height: 0.92, bob: 0.012, sway: 0,
  pelvisYaw: 0, pelvisRoll: 2 * DEG, lean: 2 * DEG, arms: { swing: 5 * DEG, flex: 4 * DEG, elbow: 20 * DEG, elbowSwing: 5 * DEG, out: 14 * DEG },
  spineCounter: 0, ramp: 0.5,
};

export function sidestep(side: 'left' | 'right') {
  return ({ frames, fps, rng, mods }: MotionInput): Generated => {
    const spec = varied(rng, styleOf(mods), { ...SIDESTEP, direction: side === 'left' ? Math.PI / 2 : -Math.PI / 2 });
    // The foot on the side of travel leads; the other closes in.
    spec.leadSide = side === 'left' ? 0 : 1;
    return info(gait(spec, frames, fps), { direction: side });
  };
}

const MARCH: GaitSpec = {
  // A longer swing than a walk's for the high knee (lifting and lowering it in 0.44 of the cycle turned the hip past 330°/s).
  ...WALK, cadence: 1.7, step: 0.6, stance: 0.52, width: 0.09, lead: 0.42, roll: 0.3,
  swing: { clearance: 0.13, apex: 0.5, rollAngle: 35 * DEG, toeUp: -6 * DEG }, height: 0.9, bob: 0.012, sway: 0.01,
  pelvisYaw: 2 * DEG, pelvisRoll: 2 * DEG, lean: 0, arms: { swing: 38 * DEG, flex: 4 * DEG, elbow: 6 * DEG, elbowSwing: 4 * DEG, out: 5 * DEG },
  spineCounter: 0.2, headPitch: -3 * DEG,
};

export function march({ frames, fps, rng, mods }: MotionInput): Generated {
  const spec = varied(rng, styleOf(mods), { ...MARCH, step: mods.inPlace ? 0 : MARCH.step });
  spec.swing = { ...spec.swing, clearance: spec.swing.clearance * (mods.size === 'big' ? 1.3 : between(rng, 0.8, 1.2)) };
  return info(gait(spec, frames, fps), { in_place: spec.step === 0 });
}

const SNEAK: GaitSpec = {
  ...WALK, cadence: 1.3, step: 0.45, stance: 0.68, width: 0.1, lead: 0.4, roll: 0.25,
  swing: { clearance: 0.08, apex: 0.5, rollAngle: 20 * DEG, toeUp: -4 * DEG }, height: 0.8, bob: 0.01, sway: 0.025,
  pelvisYaw: 4 * DEG, pelvisRoll: 2 * DEG, lean: 22 * DEG, arms: { swing: 8 * DEG, flex: 35 * DEG, elbow: 70 * DEG, elbowSwing: 5 * DEG, out: 12 * DEG },
  spineCounter: 0.6, headPitch: -12 * DEG, ramp: 0.8,
};

export function sneak({ frames, fps, rng, mods }: MotionInput): Generated {
  return gait(varied(rng, styleOf(mods), SNEAK), frames, fps);
}

/** A turn on the spot by `angle` (radians, + toward the character's left, +X): small steps while the body rotates. */
export function turn(angle: number | 'by-side') {
  return ({ frames, fps, rng, mods }: MotionInput): Generated => {
    const a = angle === 'by-side' ? (mods.spin ? 2 * Math.PI : Math.PI) * (mods.side === 'right' ? -1 : 1) : angle;
    const duration = Math.max(0.2, (frames - 1) / fps);
    const turnTime = 0.55 + 1.05 * (Math.abs(a) / (Math.PI / 2)) ** 0.9;
    const pace = styleOf(mods).speed * jitter(rng, 1, 0.1);
    // A swing foot turns by the body's turn over a whole stride within its swing, and its thigh with it:
    // past 90° (0 at a quarter turn, 1 from a half turn on) the turn takes more of the segment (less
    // time reserved for standing after it) and the feet swing longer (a shorter stance), which kept a
    // 180° turn's thigh at 11.8°/frame down to ~9 (the hip bound of a gait is 10°/frame).
    const wide = clamp(Math.abs(a) / (Math.PI / 2) - 1, 0, 1);
    const reserve = 1.1 - 0.5 * wide;
    // Fit the turn into short segments by stepping faster (down to half the time).
    const fit = clamp(duration / (turnTime / pace + reserve), 0.5, 1);
    const D = (turnTime / pace) * fit;
    const cadence = (2 * pace) / fit;
    const spec = varied(rng, styleOf(mods), {
      ...WALK, cadence, step: 0, stance: 0.62 - 0.07 * wide, lead: 0.5, roll: 0, width: 0.09,
      // The foot lifts clear of the floor before it turns (rise) and higher than a walk's shuffle, so no sole
      // point twists on the floor while it is still down (a turning foot's heel and toe sweep around the ankle).
      swing: { clearance: 0.055, apex: 0.5, rollAngle: 0, toeUp: 0, rise: 0.1 }, height: 0.94, bob: 0.008, sway: 0.012,
      pelvisYaw: 2 * DEG, pelvisRoll: 2 * DEG, lean: 2 * DEG, arms: { swing: 6 * DEG, flex: 3 * DEG, elbow: 16 * DEG, elbowSwing: 6 * DEG, out: 8 * DEG },
      spineCounter: 0.3, ramp: 0, heading: (t) => a * smooth(t / D), settleAt: D, leadSide: a >= 0 ? 0 : 1,
    });
    spec.cadence = cadence;
    spec.step = 0;
    // The foot on the side of the turn opens first.
    spec.leadSide = a >= 0 ? 0 : 1;
    return info(gait(spec, frames, fps), { turn_degrees: Math.round((a * 180) / Math.PI) });
  };
}
