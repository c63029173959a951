/** Motions that lower the hips over planted feet: sit down, stand up, crouch, squat. */
import { DEG, bump, clamp, lerp, smooth } from '../curves.js';
import { flatFoot, type FootPose } from '../feet.js';
import type { Generated, MotionInput } from '../generator.js';
import type { BodyPose } from '../pose.js';
import { between } from '../random.js';
import { REST } from '../rig.js';
import { styleOf } from '../style.js';
import { durationOf, standing } from './standing.js';

/** Where the hips rest on an (invisible) chair, relative to the ankles. */
interface Seat {
  height: number;
  back: number;
  lean: number;
}

/**
 * The body a fraction p (0 standing … 1 seated) of the way down into a chair: the hips go back first,
 * then down, while the trunk leans forward to keep the weight over the feet and straightens once seated.
 */
function seatPose(p: number, body: BodyPose, seat: Seat, z0: number): void {
  const back = seat.back * smooth(p / 0.75);
  const down = smooth((p - 0.12) / 0.88);
  const lean = seat.lean * smooth(p) + 32 * DEG * bump(p, 0.5);
  body.root = [0, lerp(REST.hipsHeight, seat.height, down), z0 - back];
  body.pelvis = [0.55 * lean, 0, 0];
  body.spine = [0.45 * lean, 0, 0];
  body.head = [-0.6 * lean, 0, 0];
  // Arms reach forward for balance on the way down, then rest on the thighs.
  const flex = 38 * DEG * bump(p, 0.45) + 42 * DEG * smooth((p - 0.55) / 0.45);
  const elbow = 10 * DEG + 35 * DEG * smooth((p - 0.4) / 0.6);
  body.arms = [{ flex, out: 8 * DEG, elbow }, { flex, out: 8 * DEG, elbow }];
}

function drawSeat(input: MotionInput): Seat {
  const { rng } = input;
  return { height: between(rng, 0.5, 0.56), back: between(rng, 0.33, 0.38), lean: between(rng, 4, 12) * DEG };
}

export function sitDown(input: MotionInput): Generated {
  const s = styleOf(input.mods);
  const seat = drawSeat(input);
  const D = durationOf(input);
  const t0 = Math.min(0.25, D * 0.1);
  const span = clamp(between(input.rng, 1.3, 1.8) / s.speed, 0.5, Math.max(0.5, D - t0));
  return standing(input, {
    pose(t, body) {
      seatPose(smooth((t - t0) / span), body, seat, 0);
    },
    life: (t) => lerp(1, 0.25, clamp((t - t0) / span, 0, 1)),
    info: { seat_height: Math.round(seat.height * 100) / 100 },
  }, s);
}

export function standUp(input: MotionInput): Generated {
  const s = styleOf(input.mods);
  const seat = drawSeat(input);
  const D = durationOf(input);
  const t0 = Math.min(0.3, D * 0.1);
  const span = clamp(between(input.rng, 1.2, 1.6) / s.speed, 0.5, Math.max(0.5, D - t0));
  // Seated at the origin, so the feet are ahead by the seat's depth.
  const feet: readonly [FootPose, FootPose] = [flatFoot(REST.footWidth, seat.back, 0), flatFoot(-REST.footWidth, seat.back, 0)];
  return standing(input, {
    pose(t, body) {
      seatPose(1 - smooth((t - t0) / span), body, seat, seat.back);
    },
    feet: () => feet,
    life: (t) => lerp(0.25, 1, clamp((t - t0) / span, 0, 1)),
    info: { seat_height: Math.round(seat.height * 100) / 100 },
  }, s);
}

export function crouch(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const low = mods.size === 'small' ? between(rng, 0.72, 0.78) : mods.size === 'big' ? between(rng, 0.5, 0.55) : between(rng, 0.55, 0.68);
  const depth = (REST.hipsHeight - low) / 0.4;
  const span = between(rng, 0.6, 0.9) / s.speed;
  const lookUp = between(rng, 0.6, 1);
  const armsOnKnees = rng() < 0.5;
  return standing(input, {
    pose(t, body) {
      const p = smooth((t - 0.1) / span);
      body.root = [0, lerp(REST.hipsHeight, low, p), -0.13 * depth * p];
      body.pelvis = [28 * DEG * depth * p, 0, 0];
      body.spine = [10 * DEG * p, 0, 0];
      body.neck = [-10 * DEG * p * lookUp, 0, 0];
      body.head = [-22 * DEG * depth * p * lookUp, 0, 0];
      const arm = armsOnKnees
        ? { flex: 30 * DEG * p, out: 12 * DEG, elbow: (12 + 40 * p) * DEG }
        : { flex: 55 * DEG * p, out: 14 * DEG, elbow: (12 + 60 * p) * DEG };
      body.arms = [arm, arm];
    },
    life: () => 0.35,
    info: { hips_height: Math.round(low * 100) / 100 },
  }, s);
}

export function squat(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const D = durationOf(input);
  const cycle = between(rng, 1.7, 2.4) / s.speed;
  const low = mods.size === 'small' ? 0.72 : between(rng, 0.52, 0.6);
  const depth = (REST.hipsHeight - low) / 0.4;
  const count = Math.max(1, Math.min(mods.count ?? Math.floor((D - 0.2) / cycle), 30));
  const span = Math.min(cycle, Math.max(0.6, (D - 0.2) / count));
  return standing(input, {
    pose(t, body) {
      const u = (t - 0.2) / span;
      const p = u > 0 && u < count ? 0.5 - 0.5 * Math.cos(2 * Math.PI * u) : 0;
      body.root = [0, lerp(REST.hipsHeight, low, p), -0.17 * depth * p];
      body.pelvis = [34 * DEG * depth * p, 0, 0];
      body.spine = [4 * DEG * p, 0, 0];
      body.head = [-30 * DEG * depth * p, 0, 0];
      // Arms come up level (in the world, not the leaning chest) for balance at the bottom.
      const arm = { flex: (85 * DEG - 34 * DEG * depth - 4 * DEG) * p, out: 8 * DEG, elbow: 10 * DEG };
      body.arms = [arm, arm];
    },
    life: () => 0.3,
    info: { squats: count },
  }, s);
}
