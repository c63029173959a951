/** What every motion generator of the procedural model receives and returns. */
import type { Clip } from '../../spec/motion.js';
import type { Plant } from './feet.js';
import type { Modifiers } from './prompt.js';
import type { Rng } from './random.js';

export interface MotionInput {
  frames: number;
  fps: number;
  /** This sample's variation stream. */
  rng: Rng;
  mods: Modifiers;
}

export interface Generated {
  clip: Clip;
  /** Per frame, the planted flags of LeftFoot, LeftToeBase, RightFoot, RightToeBase (index f·4 + k). */
  contacts: Uint8Array;
  /** The parameters this sample drew (speed, step, hand…), reported in `understood`. */
  info: Record<string, number | string | boolean>;
  /** The foot plans of stepping motions (for tests and contact reporting). */
  plants?: readonly [Plant[], Plant[]];
}

export type MotionGenerator = (input: MotionInput) => Generated;
