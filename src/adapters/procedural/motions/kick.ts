/** A front kick: weight onto the support foot, knee up, snap the foot out, back to the chamber, foot down where it was. */
import { qx, type Vec3 } from '../../../motion/quat.js';
import { DEG, clamp, track, track3, type Keys, type Keys3 } from '../curves.js';
import { ankleClearance, flatFoot, type FootPose } from '../feet.js';
import type { Generated, MotionInput } from '../generator.js';
import { between } from '../random.js';
import { REST } from '../rig.js';
import { styleOf } from '../style.js';
import { actingSide } from './gestures.js';
import { durationOf, standing } from './standing.js';

/** One kick's key times (seconds from its start, before pacing). */
const K = { shift: 0.35, lift: 0.42, chamber: 0.68, extend: 0.86, rechamber: 1.08, down: 1.38, settle: 1.75 };

export function kick(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const side = actingSide(mods, rng, 0.7);
  const support = (1 - side) as 0 | 1;
  const D = Math.max(durationOf(input), 0.6);
  const height = (mods.size === 'big' ? 0.95 : mods.size === 'small' ? 0.35 : between(rng, 0.55, 0.85)) * clamp(s.energy, 0.8, 1.15);
  // Far enough forward that the leg nearly straightens at the top of the kick.
  const reach = Math.sqrt(Math.max(0.1, 0.77 ** 2 - (0.87 - height) ** 2)) * between(rng, 0.94, 1);
  const count = clamp(mods.count ?? Math.max(1, Math.floor(D / 2.4)), 1, Math.max(1, Math.floor(D / 1.2)));
  const slot = D / count;
  const pace = clamp(slot / (K.settle + 0.2), 0.45, 1) / Math.sqrt(s.speed);
  const sign = side === 0 ? 1 : -1;
  const kx = sign * REST.footWidth;
  const supX = -kx;

  const ankle: [number, Vec3][] = [];
  const pitch: [number, number][] = [];
  const shift: [number, number][] = [];
  const lean: [number, number][] = [];
  const guard: [number, number][] = [];
  const straight: [number, number][] = [];
  for (let i = 0; i < count; i++) {
    const t0 = i * slot + 0.1;
    const T = (x: number) => t0 + x * pace;
    ankle.push(
      [T(K.lift), [kx, REST.ankleHeight, 0]], [T(K.chamber), [kx * 0.8, 0.42, 0.2]], [T(K.extend), [kx * 0.6, height, reach]],
      [T(K.rechamber), [kx * 0.8, 0.42, 0.16]], [T(K.down), [kx, REST.ankleHeight, 0]],
    );
    pitch.push([T(K.lift), 0], [T(K.chamber), 35 * DEG], [T(K.extend), -10 * DEG], [T(K.rechamber), 30 * DEG], [T(K.down), 0]);
    shift.push([T(0), 0], [T(K.shift), 0.85], [T(K.down), 0.85], [T(K.settle), 0]);
    lean.push([T(K.lift), 0], [T(K.chamber), -4 * DEG], [T(K.extend), -14 * DEG], [T(K.rechamber), -4 * DEG], [T(K.down), 0]);
    guard.push([T(0), 0], [T(K.shift), 1], [T(K.down), 1], [T(K.settle + 0.2), 0]);
    // The leg snaps out to nearly straight at the top of the kick and folds back to the chamber.
    straight.push([T(K.chamber), 0], [T(K.extend), 1], [T(K.rechamber), 0]);
  }
  const ankleKeys: Keys3 = ankle;
  const pitchKeys: Keys = pitch;
  const shiftKeys: Keys = shift;
  const leanKeys: Keys = lean;
  const guardKeys: Keys = guard;
  const straightKeys: Keys = straight;
  const supportFoot = flatFoot(supX, 0, 0);

  const feet = (t: number): readonly [FootPose, FootPose] => {
    const a = track3(ankleKeys, t);
    const p = track(pitchKeys, t);
    const grounded = a[1] <= REST.ankleHeight + 1e-9 && Math.abs(p) < 1e-9;
    const kicking: FootPose = grounded
      ? flatFoot(kx, 0, 0)
      : {
        ankle: [a[0], Math.max(a[1], ankleClearance(p, -0.3 * Math.max(0, p))), a[2]], rot: qx(p), toeLocal: qx(-0.3 * Math.max(0, p)),
        heel: false, toe: false, extend: track(straightKeys, t),
      };
    return side === 0 ? [kicking, supportFoot] : [supportFoot, kicking];
  };

  return standing(input, {
    pose(t, body) {
      const w = track(shiftKeys, t);
      const l = track(leanKeys, t);
      const g = track(guardKeys, t);
      const ext = clamp(-l / (14 * DEG), 0, 1);
      body.root = [supX * w, body.root[1] - 0.03 * w, -0.02 * ext];
      body.pelvis = [l * 0.6, (side === 0 ? -1 : 1) * 10 * DEG * ext, (support === 0 ? 1 : -1) * 3 * DEG * w];
      body.spine = [l * 0.4, -(side === 0 ? -1 : 1) * 14 * DEG * ext, (support === 0 ? -1 : 1) * 4 * DEG * w];
      body.head = [-l * 0.5, 0, 0];
      // Arms up for balance; the kicking side's arm swings back as the leg goes out.
      const kickArm = { flex: (30 - 50 * ext) * DEG * g, out: 25 * DEG * g + 6 * DEG, elbow: (12 + 60 * g) * DEG };
      const otherArm = { flex: (30 + 20 * ext) * DEG * g, out: 25 * DEG * g + 6 * DEG, elbow: (12 + 60 * g) * DEG };
      body.arms = side === 0 ? [kickArm, otherArm] : [otherArm, kickArm];
    },
    feet,
    life: () => 0.3,
    info: { leg: side === 0 ? 'left' : 'right', kicks: count, height_m: Math.round(height * 100) / 100 },
  }, s);
}
