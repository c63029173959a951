/**
 * Motions on and off the floor: kneeling, lying down, falling, getting up, crawling, push-ups, sit-ups,
 * and the acrobatics (a backflip, a cartwheel). The body is kept on or above the floor by measuring
 * every sole point and joint each frame (StandingSpec.floor); knees lying down are bent toward an
 * explicit pole, since "forward" no longer says which way they hinge.
 */
import { hypot2, qmul, qx, type Vec3 } from '../../../motion/quat.js';
import { DEG, bump, clamp, lerp, minJerk, smooth, track, type Keys } from '../curves.js';
import { flatFoot, footAt, type FootPose, type Plant, type SwingStyle } from '../feet.js';
import type { Generated, MotionInput } from '../generator.js';
import { HANGING, type ArmPose, type BodyPose } from '../pose.js';
import { between, jitter } from '../random.js';
import { REST } from '../rig.js';
import { styleOf } from '../style.js';
import { actingSide } from './gestures.js';
import { chestOf, handTarget, onToes, pelvisDir, pelvisPoint, pelvisRotation } from './frame.js';

/** Height of the wrist joint over a palm flat on the floor (metres). */
const WRIST_ON_FLOOR = 0.055;
/**
 * Where push-ups and the crawl put the wrist: 2.5 cm over WRIST_ON_FLOOR. The retargeter reproduces bone
 * directions and scales the hips' travel by hip height, so on a rig whose shoulders sit lower over its
 * hips (trunk pitched near level) and whose arms are longer for its hip height, the wrist lands lower:
 * about 0.1 hip heights lower on the child and VRM rigs, 2.3 cm and 3.5 cm under the floor with the palm
 * target flat on our rig. The margin (with the elbows kept bent, see pushUps and crawl) keeps every
 * fixture rig's wrist within 1 cm of the floor; on our own rig the palm rests 2.5 cm over it instead.
 */
const HANDS_DOWN_WRIST = WRIST_ON_FLOOR + 0.025;
import { durationOf, standing } from './standing.js';

const G = 9.81;
const KNEES_UP = (): readonly [Vec3, Vec3] => [[0.1, 0.9, 0.45], [-0.1, 0.9, 0.45]];
const LEG = REST.legLength;
const air = (ankle: Vec3, rot: FootPose['rot']): FootPose => ({ ankle, rot, toeLocal: [0, 0, 0, 1], heel: false, toe: false });

/** A foot carried by the pelvis frame (legs in the air or lying): ankle at `local`, sole turned with the leg. */
function carried(body: BodyPose, side: 0 | 1, local: Vec3, pitch = 0): FootPose {
  const x = side === 0 ? local[0] : -local[0];
  return air(pelvisPoint(body, [x, local[1], local[2]]), qmul(pelvisRotation(body), qx(pitch)));
}

/** Down on one knee (the other foot planted ahead), held, and, in a long clip, back up. */
export function kneel(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const knee = actingSide(mods, rng, 0.6);
  const front = (1 - knee) as 0 | 1;
  const D = durationOf(input);
  const span = jitter(rng, 1.2, 0.1) / s.speed;
  const t0 = 0.2;
  const rise = D > 4.5 ? D - span - 0.3 : Infinity;
  const stepZ = between(rng, 0.3, 0.38);
  const sx = (side: 0 | 1) => (side === 0 ? 1 : -1) * REST.footWidth;
  // The front foot steps ahead first (and back when rising).
  const frontPlants: Plant[] = [
    { land: -Infinity, lift: t0, x: sx(front), z: 0, yaw: 0, roll: 0 },
    { land: t0 + 0.4 * span, lift: rise === Infinity ? Infinity : rise + 0.55 * span, x: sx(front), z: stepZ, yaw: 0, roll: 0 },
    { land: rise + 0.95 * span, lift: Infinity, x: sx(front), z: 0, yaw: 0, roll: 0 },
  ];
  const swing: SwingStyle = { clearance: 0.05, apex: 0.5, rollAngle: 0, toeUp: 4 * DEG };
  const depth = (t: number) => smooth((t - t0 - 0.3 * span) / (0.7 * span)) * (1 - smooth((t - rise) / (0.6 * span)));
  return standing(input, {
    pose(t, body) {
      const p = depth(t);
      body.root = [0, lerp(REST.hipsHeight, 0.5, p), lerp(0, 0.02, p) + 0.04 * smooth((t - t0) / (0.4 * span))];
      body.pelvis = [lerp(0, -6 * DEG, p) + 8 * DEG * bump(p), 0, 0];
      body.spine = [10 * DEG * bump(p) + 4 * DEG * p, 0, 0];
      body.head = [-6 * DEG * p, 0, 0];
      // The hand on the front side rests on the raised knee.
      const arms: [ArmPose, ArmPose] = [HANGING, HANGING];
      arms[front] = { flex: 40 * DEG * p, out: 8 * DEG, elbow: (12 + 50 * p) * DEG };
      arms[knee] = { flex: 8 * DEG * p, out: 8 * DEG, elbow: (12 + 10 * p) * DEG };
      body.arms = arms;
    },
    feet(t) {
      const p = depth(t);
      const f = footAt(frontPlants, t, swing);
      // The kneeling leg: the ankle goes back and up onto the curled toes as the knee reaches the floor.
      // The kneeling foot steps back first (in the air), then rolls onto its toes as the knee goes down.
      const back = smooth(p / 0.45);
      const pitch = 62 * DEG * smooth((p - 0.35) / 0.65);
      const r = onToes(sx(knee), -0.3 * back, pitch);
      const k: FootPose = p < 1e-4 ? flatFoot(sx(knee), 0, 0) : { ...r, ankle: [r.ankle[0], r.ankle[1] + 0.06 * bump(clamp(p / 0.45, 0, 1)), r.ankle[2]], heel: false, toe: p > 0.45 };
      return front === 0 ? [f, k] : [k, f];
    },
    floor: 0,
    life: (t) => 1 - 0.6 * depth(t),
    info: { knee: knee === 0 ? 'left' : 'right', rises: rise !== Infinity },
  }, s);
}

/**
 * The way down to lying on the back: squatting with the hips going back (hands reaching behind), sitting
 * on the floor, then rolling back to lie flat with the legs sliding out straight. `p` runs 0 → 1.
 */
function lowerToFloor(p: number, body: BodyPose, arms: 'support' | 'fling', sit: number): void {
  const down = smooth(p / 0.5);
  const back = smooth((p - 0.42) / 0.58);
  body.root = [0, lerp(REST.hipsHeight, 0.12, down), lerp(0, -0.3, down) - 0.05 * back];
  body.pelvis = [lerp(20 * DEG * bump(p / 0.5, 0.6) + sit * down, -88 * DEG, back), 0, 0];
  body.spine = [lerp(14 * DEG * bump(p / 0.5, 0.6) + 12 * DEG * down, 0, back), 0, 0];
  body.neck = [lerp(0, -10 * DEG, back), 0, 0];
  body.head = [lerp(-10 * DEG * down, 4 * DEG, back), 0, 0];
  const arm: ArmPose = arms === 'support'
    ? { flex: lerp(30 * DEG * down, 12 * DEG, back) - 35 * DEG * bump(p, 0.45), out: lerp(8, 22, back) * DEG, elbow: (15 + 10 * bump(p, 0.45)) * DEG }
    : { flex: (20 + 90 * bump(p, 0.3)) * DEG, out: (8 + 50 * bump(p, 0.4) + 20 * back) * DEG, elbow: (12 + 30 * bump(p, 0.4)) * DEG };
  body.arms = [arm, arm];
}

/** The feet on the way down: flat where they stand, then sliding out (heels on the floor) as the legs straighten. */
function feetToFloor(p: number): readonly [FootPose, FootPose] {
  const out = smooth((p - 0.5) / 0.5);
  return [0, 1].map((side) => {
    const x = (side === 0 ? 1 : -1) * (REST.footWidth + 0.04 * minJerk(out));
    if (out <= 0) return flatFoot(x, 0, 0);
    // The legs straighten with the feet just off the floor (sliding heels would skate), then rest on the heels.
    const pitch = -60 * DEG * smooth((out - 0.25) / 0.75);
    // The lift leads the slide at both ends (a sine against a minimum-jerk ease), so the heel never drags.
    return { ankle: [x, REST.ankleHeight + 0.02 * out + 0.05 * Math.sin(Math.PI * out), lerp(0, 0.4, minJerk(out))], rot: qx(pitch), toeLocal: [0, 0, 0, 1], heel: false, toe: false } satisfies FootPose;
  }) as unknown as readonly [FootPose, FootPose];
}

function toFloor(input: MotionInput, variant: 'lie_down' | 'fall_down' | 'get_up'): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const D = durationOf(input);
  const span = (variant === 'fall_down' ? jitter(rng, 1.0, 0.1) : jitter(rng, 2.4, 0.1)) / s.speed;
  const t0 = variant === 'get_up' ? Math.min(0.6, D * 0.15) : 0.2;
  const sit = between(rng, 0, 10) * DEG;
  const T = Math.min(span, Math.max(0.6, D - t0 - 0.2));
  const progress = (t: number) => {
    const u = clamp((t - t0) / T, 0, 1);
    // A fall accelerates into the floor and bounces once; a controlled lowering eases all the way.
    const p = variant === 'fall_down' ? Math.min(1, u * u * (2 - u)) : minJerk(u);
    return variant === 'get_up' ? 1 - p : p;
  };
  return standing(input, {
    pose(t, body) {
      const p = progress(t);
      lowerToFloor(p, body, variant === 'fall_down' ? 'fling' : 'support', sit);
      if (variant === 'fall_down') {
        const impact = t - t0 - T;
        if (impact > 0) body.root = [body.root[0], body.root[1] + 0.025 * Math.exp(-impact * 6) * Math.abs(Math.sin(impact * 14)), body.root[2]];
        body.head = [body.head[0] + 14 * DEG * bump(clamp((t - t0 - 0.8 * T) / (0.5 * T), 0, 1), 0.3), body.head[1], body.head[2]];
      }
    },
    feet: (t) => feetToFloor(progress(t)),
    kneePoles: KNEES_UP,
    floor: 0.005,
    life: (t) => 1 - 0.8 * progress(t),
    info: { seconds: Math.round(T * 100) / 100 },
  }, s);
}

export const lieDown = (input: MotionInput): Generated => toFloor(input, 'lie_down');
export const fallDown = (input: MotionInput): Generated => toFloor(input, 'fall_down');
export const getUp = (input: MotionInput): Generated => toFloor(input, 'get_up');

/** Sit-ups: lying on the back, knees bent and feet flat, the trunk curls up to the knees and back down. */
export function sitUps(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const D = durationOf(input);
  const cycle = jitter(rng, 1.9, 0.12) / s.speed;
  const count = clamp(mods.count ?? Math.floor((D - 0.3) / cycle), 1, 30);
  const top = between(rng, 55, 70) * DEG;
  const handsBehindHead = rng() < 0.5;
  return standing(input, {
    pose(t, body) {
      const u = (t - 0.3) / cycle;
      const c = u > 0 && u < count ? 0.5 - 0.5 * Math.cos(2 * Math.PI * u) : 0;
      body.root = [0, 0.11, 0];
      body.pelvis = [-88 * DEG + 0.45 * top * c, 0, 0];
      body.spine = [0.55 * top * c, 0, 0];
      body.neck = [8 * DEG + 10 * DEG * c, 0, 0];
      body.head = [4 * DEG * c, 0, 0];
      const arm: ArmPose = handsBehindHead
        ? { ...HANGING, reach: { hand: [0.1, 0.44, -0.06], pole: [1, 0.3, 0.2], w: 1 } }
        : { ...HANGING, reach: { hand: [-0.08, 0.1, 0.16], pole: [1, -0.5, 0.3], w: 1 } };
      body.arms = [arm, arm];
    },
    feet: () => [flatFoot(REST.footWidth + 0.02, 0.5, 0), flatFoot(-REST.footWidth - 0.02, 0.5, 0)],
    kneePoles: KNEES_UP,
    floor: 0.005,
    life: () => 0.2,
    info: { sit_ups: count, hands: handsBehindHead ? 'behind_head' : 'crossed' },
  }, s);
}

/** Push-ups: a straight plank on the toes, hands under the shoulders, elbows bending to bring the chest down. */
/** Ankle height in a plank (the hips line of pushUps is set from it). */
const PLANK_ANKLE = REST.ankleHeight + 0.06;
/**
 * The foot of a plank, toes tucked under: pitched toes-down about the ankle until the ball (the toe joint,
 * at sole level in the rest pose) touches the floor, the sole facing back. With the toe joint at
 * (0, −h, f) from the ankle, pitching by θ puts it h·cosθ + f·sinθ below the ankle; of the two pitches that
 * make this the ankle height, the steeper one (about 82°, toes pointing down) is the plank's.
 */
const PLANK_PITCH = (() => {
  const h = -REST.toeOffset[1], f = REST.toeOffset[2];
  return Math.atan2(f, h) + Math.acos(Math.min(1, PLANK_ANKLE / hypot2(h, f)));
})();
const PLANK_FOOT = qx(PLANK_PITCH);
/** The toes bent back level under the ball (dorsiflexed at the ball), their pads and tips on the floor. */
const PLANK_TOES = qx(-PLANK_PITCH);

export function pushUps(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const D = durationOf(input);
  const cycle = jitter(rng, 1.6, 0.12) / s.speed;
  const count = clamp(mods.count ?? Math.floor((D - 0.3) / cycle), 1, 40);
  const depth = (mods.size === 'small' ? 0.5 : between(rng, 0.75, 1)) * 1;
  const ankleZ = -0.85;
  // The top a little short of the arms' full reach (16°, not 19°): the elbows keep a bend, so the arms' length,
  // which differs from rig to rig, carries the wrist less far down (HANDS_DOWN_WRIST).
  const topAngle = 16 * DEG;
  const lowAngle = lerp(19, 6, depth) * DEG;
  // Hips to ankle with the knees a touch short of locked (IK approaches full reach softly).
  const L = 0.995 * LEG + 0.047;
  const hipsAt = (a: number): Vec3 => [0, REST.ankleHeight + 0.06 + L * Math.sin(a), ankleZ + L * Math.cos(a)];
  // The hands: on the floor under the shoulders of the top position.
  const top = { root: hipsAt(topAngle), heading: 0, pelvis: [90 * DEG - topAngle, 0, 0], spine: [0, 0, 0], neck: [0, 0, 0], head: [0, 0, 0], arms: [HANGING, HANGING] } as unknown as BodyPose;
  const shoulderZ = chestOf(top).pos[2] + 0.14 * Math.sin(90 * DEG - topAngle);
  // A wrist joint sits about 5 cm above a palm flat on the floor (the heel of the hand and the wrist's
  // own thickness), plus the margin for other rigs' proportions (HANDS_DOWN_WRIST).
  const hands: Vec3[] = [[0.22, HANDS_DOWN_WRIST, shoulderZ], [-0.22, HANDS_DOWN_WRIST, shoulderZ]];
  return standing(input, {
    pose(t, body) {
      const u = (t - 0.3) / cycle;
      const c = u > 0 && u < count ? 0.5 - 0.5 * Math.cos(2 * Math.PI * u) : 0;
      const a = lerp(topAngle, lowAngle, c);
      body.root = hipsAt(a);
      body.free = true;
      body.pelvis = [90 * DEG - a, 0, 0];
      body.head = [-40 * DEG, 0, 0];
      body.arms = [0, 1].map((side) => ({ ...HANGING, reach: { hand: handTarget(body, side as 0 | 1, hands[side]), pole: [1, 0, -0.6], w: 1 } })) as unknown as [ArmPose, ArmPose];
    },
    feet(t) {
      const u = (t - 0.3) / cycle;
      const c = u > 0 && u < count ? 0.5 - 0.5 * Math.cos(2 * Math.PI * u) : 0;
      // On the balls of the feet, which stay put: the ankles hinge as the body lowers.
      const foot = (side: 0 | 1): FootPose => ({ ankle: [(side === 0 ? 1 : -1) * 0.1, PLANK_ANKLE, ankleZ], rot: PLANK_FOOT, toeLocal: PLANK_TOES, heel: false, toe: c >= 0 });
      return [foot(0), foot(1)];
    },
    floor: 0,
    life: () => 0.15,
    info: { push_ups: count },
  }, s);
}

/** Ankle height on hands and knees, the shin about level. */
const CRAWL_ANKLE = 0.085;
/**
 * The foot on hands and knees, pitched back past the shin line (about 136°, 46° of plantarflexion) until the
 * tip of the toes rests 1 cm over the floor: with the tip at (0, −h, f) from the ankle, pitching by θ puts it
 * h·cosθ + f·sinθ below the ankle. Pitched less (150°) the toes hung 6 cm in the air.
 */
const CRAWL_PITCH = (() => {
  // The tip sits 0.45 of the toe joint's reach ahead of it (TOES_AHEAD_OF_BALL in src/motion/foot.ts).
  const h = -REST.toeOffset[1], f = 1.45 * REST.toeOffset[2];
  const r = hypot2(h, f);
  return Math.atan2(f, h) + Math.acos(Math.min(1, (CRAWL_ANKLE - 0.01) / r));
})();
/** Extra pitch at the top of a knee's swing (the 5 cm lift): the foot swings up with the shin, toes clear of the floor. */
const CRAWL_SWING_PITCH = 20 * DEG;

/**
 * Crawling on hands and knees: the trunk level, diagonal limbs moving together (left hand with right
 * knee), each hand and knee set down ahead and held while the body passes over it.
 */
export function crawl(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const T = jitter(rng, 1.3, 0.1) / Math.sqrt(s.speed);
  const stride = (mods.inPlace ? 0 : jitter(rng, 0.26, 0.1)) * Math.sqrt(s.speed);
  const v = stride / T;
  const t0 = 0.3;
  const hipY = 0.49;
  // The trunk a little short of level: the shoulders low enough that the arms keep a slight bend
  // on the floor. Locked straight, the 5 cm lift of a hand would snap the elbow from 0° to 25° in a frame,
  // as a two-bone chain's flexion changes fastest near full reach; 85° (not 82°) also keeps the shoulders
  // low on rigs whose shoulders sit lower over their hips than ours (HANDS_DOWN_WRIST).
  const trunk = 85 * DEG;
  // Limb i of the four (0 left hand, 1 right hand, 2 left knee, 3 right knee) plants at z(i, k).
  const phaseOf = [0, 0.5, 0.5, 0] as const;
  const z0 = (t: number) => v * Math.max(0, t - t0);
  /** Forward offset from its neutral place (−stride/2 … +stride/2) and lift of limb i at time t. */
  const limb = (i: number, t: number): { dz: number; lift: number } => {
    if (stride === 0 || t < t0) return { dz: 0, lift: 0 };
    const u = (((t - t0) / T + phaseOf[i]) % 1 + 1) % 1;
    // Stance 70 % of the cycle, swing 30 % (forward, lifted). In stance the limb goes back relative to the
    // body exactly as fast as the body advances (v), so it stays put on the floor: 0.7·stride over the
    // stance, which the swing brings forward again (the limb travels the full stride over the floor).
    const reach = 0.7 * stride;
    if (u < 0.7) return { dz: reach * (0.5 - u / 0.7), lift: 0 };
    const w = (u - 0.7) / 0.3;
    return { dz: reach * (-0.5 + minJerk(w)), lift: 0.05 * bump(w) };
  };
  // Each limb holds its first stance place from frame 0 (both diagonals are in stance at t0): easing the
  // offsets in from zero would slide the planted hands and knees over the floor.
  return standing(input, {
    pose(t, body) {
      const z = z0(t);
      const settle = smooth(t / 0.3);
      body.root = [0, hipY, z];
      body.free = true;
      body.pelvis = [trunk, 0, 0];
      body.spine = [4 * DEG, 0, 0];
      body.neck = [-35 * DEG, 0, 0];
      body.head = [-30 * DEG * settle, 0, 0];
      const shoulderZ = z + 0.46;
      body.arms = [0, 1].map((side) => {
        const l = limb(side, Math.max(t, t0));
        const hand: Vec3 = [(side === 0 ? 1 : -1) * 0.19, HANDS_DOWN_WRIST + l.lift, shoulderZ + 0.02 + l.dz];
        return { ...HANGING, reach: { hand: handTarget(body, side as 0 | 1, hand), pole: [0.3, 0, -1], w: 1 } };
      }) as unknown as [ArmPose, ArmPose];
    },
    feet(t) {
      const z = z0(t);
      return [0, 1].map((side) => {
        const l = limb(2 + side, Math.max(t, t0));
        // The shin lies along the floor behind the knee, the foot pointed back and down onto its toe tips.
        const kz = z + l.dz;
        return { ankle: [(side === 0 ? 1 : -1) * 0.11, CRAWL_ANKLE + l.lift, kz - 0.4], rot: qx(CRAWL_PITCH + CRAWL_SWING_PITCH * Math.sqrt(l.lift / 0.05)), toeLocal: [0, 0, 0, 1], heel: false, toe: false } satisfies FootPose;
      }) as unknown as readonly [FootPose, FootPose];
    },
    kneePoles: () => [[0.1, -1, 0.3], [-0.1, -1, 0.3]],
    floor: 0,
    life: () => 0.1,
    info: { stride, cycle_s: T, speed: v },
  }, s);
}

/**
 * A standing backflip: arms swing down and the knees bend, the body drives up with the arms thrown
 * overhead, tucks and turns a full 360° backward in a ballistic flight, opens and lands on both feet
 * (a little behind the start), knees absorbing.
 */
export function backflip(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const D = Math.max(durationOf(input), 1.6);
  const rise = between(rng, 0.55, 0.7) * clamp(s.energy, 0.85, 1.15);
  const v0 = Math.sqrt(2 * G * rise);
  const flight = (2 * v0) / G;
  const back = between(rng, 0.2, 0.45);
  const a = Math.min(0.4, D * 0.12);
  const c = a + 0.55;
  const d = c + flight;
  const e = d + 0.6;
  const tuckMax = between(rng, 0.7, 1);
  const spin = (t: number) => {
    const u = clamp((t - c) / flight, 0, 1);
    return -2 * Math.PI * (0.25 * u + 0.75 * minJerk(u));
  };
  const tuck = (t: number) => bump(clamp((t - c) / flight, 0, 1), 0.45) * tuckMax;
  const hips = (t: number): Vec3 => {
    if (t <= a) return [0, REST.hipsHeight, 0];
    if (t <= c) {
      const u = (t - a) / (c - a);
      const dip = 0.22 * Math.sin(Math.PI * Math.min(1, u / 0.8)) * (u < 0.8 ? 1 : 0);
      return [0, lerp(REST.hipsHeight, 0.99, smooth((u - 0.6) / 0.4)) - dip, -0.03 * smooth(u)];
    }
    if (t <= d) {
      const tau = t - c;
      return [0, 0.99 + v0 * tau - (G * tau * tau) / 2 - 0.05 * tau / flight, -0.03 - back * (tau / flight)];
    }
    const u = clamp((t - d) / (e - d), 0, 1);
    return [0, REST.hipsHeight - 0.2 * Math.sin(Math.PI * u) * (1 - u * 0.3) - 0.03 * (1 - u), -0.03 - back];
  };
  const landX = (side: 0 | 1) => (side === 0 ? 1 : -1) * REST.footWidth;
  const armKeys: Keys = [[a, 0], [a + 0.28, -45 * DEG], [c + 0.06, 160 * DEG], [c + 0.25 * flight, 150 * DEG], [c + 0.5 * flight, 70 * DEG], [d, 80 * DEG], [e, 3 * DEG]];
  return standing(input, {
    pose(t, body) {
      body.root = hips(t);
      body.free = t > c && t < d;
      const k = tuck(t);
      const prep = t > a && t < c ? 18 * DEG * bump((t - a) / (c - a), 0.6) : 0;
      const land = t > d ? 15 * DEG * bump((t - d) / (e - d), 0.35) : 0;
      body.pelvis = [spin(t) + 35 * DEG * k + prep + land, 0, 0];
      body.spine = [25 * DEG * k + prep * 0.5 - 10 * DEG * bump(clamp((t - c) / flight, 0, 1), 0.15), 0, 0];
      body.head = [-20 * DEG * bump(clamp((t - c) / flight, 0, 1), 0.3) + 10 * DEG * k, 0, 0];
      const flex = track(armKeys, t);
      const arm: ArmPose = { flex, out: 12 * DEG, elbow: (12 + 50 * k) * DEG };
      body.arms = [arm, arm];
    },
    feet(t) {
      if (t <= c || t >= d) {
        const z = t >= d ? -0.03 - back : 0;
        const push = t > a + 0.4 && t <= c ? smooth((t - a - 0.4) / (c - a - 0.4)) : 0;
        // Pushing off, the heels peel up about the planted balls of the feet.
        return [0, 1].map((side) => (push <= 0 ? flatFoot(landX(side as 0 | 1), z, 0) : onToes(landX(side as 0 | 1), z, 40 * DEG * push))) as unknown as readonly [FootPose, FootPose];
      }
      const body = { root: hips(t), heading: 0, pelvis: [spin(t) + 35 * DEG * tuck(t), 0, 0] as const, spine: [0, 0, 0] as const, neck: [0, 0, 0] as const, head: [0, 0, 0] as const, arms: [HANGING, HANGING] as const, free: true };
      const k = tuck(t);
      // Toes pointed from the push-off, easing into the tuck.
      const s = clamp((t - c) / flight, 0, 1);
      const pitch = 40 * DEG * (1 - smooth(s / 0.3)) + 30 * DEG * k;
      return [0, 1].map((side) => carried(body as unknown as BodyPose, side as 0 | 1, [REST.footWidth, lerp(-(LEG + 0.03), -0.42, k), lerp(0, 0.12, k)], pitch)) as unknown as readonly [FootPose, FootPose];
    },
    kneePoles: (t) => {
      if (t <= c || t >= d) return [null, null];
      const body = { root: hips(t), heading: 0, pelvis: [spin(t) + 35 * DEG * tuck(t), 0, 0] } as unknown as BodyPose;
      const p = pelvisDir(body, [0, 0.3, 1]);
      return [p, p];
    },
    floor: 0,
    life: () => 0.1,
    info: { rise_m: Math.round(rise * 100) / 100, flight_s: Math.round(flight * 100) / 100, lands_behind_m: Math.round(back * 100) / 100 },
  }, s);
}

/**
 * A cartwheel toward the character's left (+X; right when asked): arms overhead, the body turns a full
 * circle about its facing axis over the hands, legs straddled wide, landing feet apart then closing.
 */
export function cartwheel(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const dir = mods.side === 'right' ? -1 : 1;
  const D = Math.max(durationOf(input), 1.4);
  const a = Math.min(0.5, D * 0.15);
  const span = jitter(rng, 1.25, 0.08) / Math.sqrt(s.speed);
  const b = a + span;
  const travel = between(rng, 1.3, 1.6);
  const spread = between(rng, 0.75, 1);
  const phase = (t: number) => minJerk(clamp((t - a) / span, 0, 1));
  const reach = (t: number) => smooth((t - a + 0.35) / 0.35) * (1 - smooth((t - b) / 0.45));
  const legsApart = (t: number) => bump(clamp((t - a + 0.15) / (span + 0.35), 0, 1), 0.5) * spread;
  const pose = (t: number, body: BodyPose) => {
    const p = phase(t);
    const phi = 2 * Math.PI * p;
    // Upside down the hips ride 17 cm higher: the hands meet the floor on our rig 5 cm sooner than they
    // would at 12, the margin a rig with lower shoulders or longer arms needs (as HANDS_DOWN_WRIST).
    body.root = [dir * travel * p, REST.hipsHeight + 0.17 * Math.sin(phi / 2) ** 2, 0];
    body.free = t > a && t < b;
    body.pelvis = [0, 0, dir * phi];
    const up = reach(t);
    const arm: ArmPose = { flex: 8 * DEG * up, out: lerp(6, 172, up) * DEG, elbow: (10 - 6 * up) * DEG };
    body.arms = [arm, arm];
    body.head = [-8 * DEG * up, 0, 0];
    if (t > b) {
      // Landed: the knees give a little and come back, and the chest heaves with the quick breaths of the
      // effort, easing off, while the standing life (weight shift, gaze) fades in instead of a frozen stand.
      const u = t - b;
      body.root = [body.root[0], body.root[1] - 0.03 * bump(clamp(u / 0.8, 0, 1), 0.35), body.root[2]];
      const heave = Math.sin((2 * Math.PI * u) / 1.6) * smooth(u / 0.4) * (1 - 0.5 * smooth((u - 0.5) / 2));
      body.spine = [body.spine[0] + 2 * DEG * smooth(u / 0.3) * (1 - smooth((u - 0.3) / 0.9)) - 1.5 * DEG * heave, body.spine[1], body.spine[2]];
      body.arms = [{ ...arm, shrug: 2 * DEG * heave }, { ...arm, shrug: 2 * DEG * heave }];
    }
  };
  return standing(input, {
    pose,
    feet(t) {
      if (t <= a || t >= b) {
        const x = t >= b ? dir * travel : 0;
        // Landing with the feet apart, where they stay.
        const w = t >= b ? REST.footWidth + 0.25 * legsApart(b) : REST.footWidth;
        return [flatFoot(x + w, 0, 0), flatFoot(x - w, 0, 0)];
      }
      const body = { root: [0, 0, 0], heading: 0, pelvis: [0, 0, 0], spine: [0, 0, 0], neck: [0, 0, 0], head: [0, 0, 0], arms: [HANGING, HANGING] } as unknown as BodyPose;
      pose(t, body);
      const k = legsApart(t);
      const ang = 28 * DEG * k;
      return [0, 1].map((side) => {
        return carried(body, side as 0 | 1, [REST.footWidth + Math.sin(ang) * LEG, -Math.cos(ang) * LEG, 0], 10 * DEG * k);
      }) as unknown as readonly [FootPose, FootPose];
    },
    kneePoles: (t) => {
      if (t <= a || t >= b) return [null, null];
      const body = { root: [0, 0, 0], heading: 0, pelvis: [0, 0, 0], spine: [0, 0, 0], neck: [0, 0, 0], head: [0, 0, 0], arms: [HANGING, HANGING] } as unknown as BodyPose;
      pose(t, body);
      const p = pelvisDir(body, [0, 0, 1]);
      return [p, p];
    },
    floor: 0,
    life: (t) => 0.1 + 0.9 * smooth((t - b - 0.3) / 0.9),
    info: { direction: dir > 0 ? 'left' : 'right', travel_m: Math.round(travel * 100) / 100 },
  }, s);
}

