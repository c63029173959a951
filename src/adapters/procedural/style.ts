/** How the prompt's pace, mood and size words change any motion: speed, energy (amplitudes) and posture. */
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
  return s;
}

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
}
