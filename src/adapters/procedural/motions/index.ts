/** The motion catalogue: every motion the procedural model can make, by id, with its generator and a one-line description. */
import type { MotionGenerator } from '../generator.js';
import type { MotionId } from '../prompt.js';
import { dance } from './dance.js';
import { bow, cheer, clap, lookAround, nod, point, punch, shakeHead, shrug, stretch, throwBall, wave } from './gestures.js';
import { jump } from './jump.js';
import { kick } from './kick.js';
import { jog, march, run, sidestep, sneak, turn, walk, walkBackward } from './locomotion.js';
import { crouch, sitDown, squat, standUp } from './lowering.js';
import { idle } from './standing.js';

export interface MotionEntry {
  generate: MotionGenerator;
  description: string;
  /** Whether the root travels over the ground. */
  travels: boolean;
}

export const MOTIONS: Record<MotionId, MotionEntry> = {
  idle: { generate: idle, travels: false, description: 'standing with breathing, a slow weight shift and a drifting gaze' },
  walk: { generate: walk, travels: true, description: 'walking forward along +Z (curving to a side, or in a circle, when asked)' },
  jog: { generate: jog, travels: true, description: 'jogging with a short flight phase' },
  run: { generate: run, travels: true, description: 'running with a flight phase, forward lean and bent-elbow arm swing' },
  walk_backward: { generate: walkBackward, travels: true, description: 'walking backward along −Z' },
  sidestep_left: { generate: sidestep('left'), travels: true, description: 'side steps toward the character\'s left (+X)' },
  sidestep_right: { generate: sidestep('right'), travels: true, description: 'side steps toward the character\'s right (−X)' },
  march: { generate: march, travels: true, description: 'marching with high knees and straight arm swing (in place when asked)' },
  sneak: { generate: sneak, travels: true, description: 'a crouched, slow, careful walk' },
  turn_left: { generate: turn(Math.PI / 2), travels: false, description: 'stepping turn of 90° to the left (facing +X at the end)' },
  turn_right: { generate: turn(-Math.PI / 2), travels: false, description: 'stepping turn of 90° to the right (facing −X at the end)' },
  turn_around: { generate: turn('by-side'), travels: false, description: 'stepping turn of 180° (360° for a spin), to the left unless asked otherwise' },
  jump: { generate: jump, travels: false, description: 'crouch, push-off, ballistic flight, knee-absorbed landing (forward for a leap)' },
  wave: { generate: wave, travels: false, description: 'raising one hand and waving it side to side' },
  sit_down: { generate: sitDown, travels: false, description: 'sitting down onto a chair-height seat behind the character' },
  stand_up: { generate: standUp, travels: false, description: 'standing up from a chair-height seat' },
  crouch: { generate: crouch, travels: false, description: 'crouching low and staying there' },
  squat: { generate: squat, travels: false, description: 'repeated squats with arms forward' },
  kick: { generate: kick, travels: false, description: 'a front kick, balanced on the other foot' },
  punch: { generate: punch, travels: false, description: 'guard up and a rhythm of jabs and crosses' },
  bow: { generate: bow, travels: false, description: 'a bow from the hips' },
  dance: { generate: dance, travels: false, description: 'a step-touch dance on a 100–128 bpm beat with grooving arms' },
  clap: { generate: clap, travels: false, description: 'clapping in front of the chest (or overhead)' },
  cheer: { generate: cheer, travels: false, description: 'arms up in celebration, pumping, with a bounce' },
  nod: { generate: nod, travels: false, description: 'nodding yes' },
  shake_head: { generate: shakeHead, travels: false, description: 'shaking the head no' },
  look_around: { generate: lookAround, travels: false, description: 'looking to one side, then the other, then ahead' },
  stretch: { generate: stretch, travels: false, description: 'reaching both arms overhead and leaning to each side' },
  throw: { generate: throwBall, travels: false, description: 'an overhand throw with wind-up and follow-through' },
  shrug: { generate: shrug, travels: false, description: 'a shrug with open hands' },
  point: { generate: point, travels: false, description: 'pointing ahead (or to the named side)' },
};
