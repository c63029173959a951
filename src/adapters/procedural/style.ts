/**
 * How the prompt's pace, mood, size and manner words change any motion: speed, energy (amplitudes),
 * posture, and a manner's own shape (a zombie's forward arms and lolling head, a limp's weight on the
 * good leg, a sneak's crouch).
 */
import { DEG } from './curves.js';
import type { BodyPose } from './pose.js';
import type { Modifiers } from './prompt.js';

export interface Style {
  /** Multiplies speed (gaits) or tempo (gestures). */
  speed: number;
  /** Multiplies amplitudes: arm swing, bounce, gesture size. */
  energy: number;
  /** −1 slumped … +1 chest up. */
  posture: number;
  /** Forward lean added by the mood (radians). */
  lean: number;
  /** The prompt's manner, applied by applyPosture to any motion. */
  manner?: Modifiers['manner'];
}

const MOODS: Record<NonNullable<Modifiers['mood']>, Style> = {
  happy: { speed: 1.05, energy: 1.35, posture: 0.5, lean: 0 },
  sad: { speed: 0.8, energy: 0.55, posture: -1, lean: 3 * DEG },
  angry: { speed: 1.1, energy: 1.3, posture: 0, lean: 6 * DEG },
  tired: { speed: 0.75, energy: 0.5, posture: -0.8, lean: 4 * DEG },
  proud: { speed: 1, energy: 1.15, posture: 1, lean: -2 * DEG },
  scared: { speed: 0.9, energy: 0.7, posture: -0.5, lean: 5 * DEG },
};

export function styleOf(m: Modifiers): Style {
  const s: Style = m.mood ? { ...MOODS[m.mood] } : { speed: 1, energy: 1, posture: 0, lean: 0 };
  if (m.pace === 'slow') s.speed *= 0.72;
  if (m.pace === 'fast') s.speed *= 1.3;
  if (m.size === 'big') s.energy *= 1.3;
  if (m.size === 'small') s.energy *= 0.65;
  if (m.manner === 'zombie') {
    s.speed *= 0.7;
    s.energy *= 0.6;
    s.lean += 6 * DEG;
  }
  if (m.manner === 'limp') s.speed *= 0.8;
  if (m.manner === 'sneak') {
    s.speed *= 0.75;
    s.energy *= 0.7;
  }
  if (m.manner) s.manner = m.manner;
  return s;
}

const ZOMBIE_FLEX = 78 * DEG;

/** Applies the style's posture to a body (scaled by `amount`, e.g. a motion's fade-in). */
export function applyPosture(body: BodyPose, style: Style, amount = 1): void {
  const p = style.posture * amount;
  const lean = style.lean * amount;
  body.spine = [body.spine[0] - p * 5 * DEG + lean, body.spine[1], body.spine[2]];
  body.neck = [body.neck[0] - p * 3 * DEG, body.neck[1], body.neck[2]];
  body.head = [body.head[0] - p * 7 * DEG - lean * 0.5, body.head[1], body.head[2]];
  if (p < 0) {
    // A slump rounds the shoulders forward.
    body.arms = [
      { ...body.arms[0], protract: (body.arms[0].protract ?? 0) - p * 6 * DEG },
      { ...body.arms[1], protract: (body.arms[1].protract ?? 0) - p * 6 * DEG },
    ];
  }
  if (style.manner === 'zombie') {
    // Arms reach forward (where a gesture is not already placing the hand), the head lolls to one side.
    const forward = (a: BodyPose['arms'][0]) => {
      const k = amount * (1 - (a.reach?.w ?? 0));
      return { ...a, flex: a.flex + (ZOMBIE_FLEX - a.flex) * k, out: a.out + (4 * DEG - a.out) * k, elbow: a.elbow + (14 * DEG - a.elbow) * k, protract: (a.protract ?? 0) + 8 * DEG * k };
    };
    body.arms = [forward(body.arms[0]), forward(body.arms[1])];
    body.neck = [body.neck[0] + 10 * DEG * amount, body.neck[1], body.neck[2] + 6 * DEG * amount];
    body.head = [body.head[0] - 4 * DEG * amount, body.head[1], body.head[2] + 12 * DEG * amount];
  } else if (style.manner === 'sneak') {
    body.root = [body.root[0], body.root[1] - 0.09 * amount, body.root[2] - 0.03 * amount];
    body.pelvis = [body.pelvis[0] + 12 * DEG * amount, body.pelvis[1], body.pelvis[2]];
    body.spine = [body.spine[0] + 8 * DEG * amount, body.spine[1], body.spine[2]];
    body.head = [body.head[0] - 14 * DEG * amount, body.head[1], body.head[2]];
  } else if (style.manner === 'limp') {
    // Standing on the good (left) leg: hips over it, the pelvis dropping on the sore side.
    body.root = [body.root[0] + 0.035 * amount, body.root[1] - 0.01 * amount, body.root[2]];
    body.pelvis = [body.pelvis[0], body.pelvis[1], body.pelvis[2] - 3 * DEG * amount];
    body.spine = [body.spine[0], body.spine[1], body.spine[2] + 4 * DEG * amount];
  }
}
