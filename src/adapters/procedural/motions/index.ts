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
import {
  block, carry, checkPhone, climbLadder, dodge, drink, facepalm, hookPunch, jumpingJacks, lookAtWatch, lunge, pickUp, pull, push,
  roundhouseKick, salute, talk, thumbsUp, uppercut, yawn,
} from './actions.js';
import { backflip, cartwheel, crawl, fallDown, getUp, kneel, lieDown, pushUps, sitUps } from './ground.js';
export { POSES } from './poses.js';
import { climbStairs, hop, limp, skip, stumble, zombieWalk } from './steps.js';

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
  climb_stairs: { generate: climbStairs, travels: true, description: 'climbing a flight of stairs step over step (risers 15–18 cm), hips rising over the leading foot' },
  climb_ladder: { generate: climbLadder, travels: false, description: 'climbing a vertical ladder, opposite hand and foot moving rung to rung' },
  backflip: { generate: backflip, travels: false, description: 'a standing backflip: arm swing, drive up, tucked 360° backward rotation, knee-absorbed landing' },
  cartwheel: { generate: cartwheel, travels: true, description: 'a cartwheel to the left (or right): arms overhead, a full sideways turn over the hands, legs straddled' },
  crawl: { generate: crawl, travels: true, description: 'crawling forward on hands and knees, diagonal limbs together' },
  push: { generate: push, travels: false, description: 'pushing something heavy ahead from a staggered stance, in shoves' },
  pull: { generate: pull, travels: false, description: 'pulling a rope hand over hand, leaning back' },
  pick_up: { generate: pickUp, travels: false, description: 'bending down to pick something up from the floor with both hands and standing with it' },
  carry: { generate: carry, travels: true, description: 'walking with a box held in both arms, no arm swing' },
  stumble: { generate: stumble, travels: true, description: 'a few steps, a caught toe, a forward lurch with arms flung out, recovery steps' },
  fall_down: { generate: fallDown, travels: false, description: 'collapsing to the floor and onto the back, arms flailing, a small bounce' },
  get_up: { generate: getUp, travels: false, description: 'getting up from lying on the back: sit up, feet in, rise through a squat' },
  limp: { generate: limp, travels: true, description: 'a limp: short stiff stance on the sore leg, long on the good one, trunk leaning over the sore side' },
  zombie_walk: { generate: zombieWalk, travels: true, description: 'a zombie shamble: slow dragging steps, arms out forward, lurching trunk, lolling head' },
  skip: { generate: skip, travels: true, description: 'skipping: a step-hop on each foot with high arm swing' },
  hop: { generate: hop, travels: false, description: 'hopping on one foot (the named one), the other leg held bent behind, arms out' },
  lunge: { generate: lunge, travels: false, description: 'forward lunges, alternating legs, the back heel rising as the hips sink' },
  jumping_jacks: { generate: jumpingJacks, travels: false, description: 'jumping jacks: hops between feet together, arms down and feet apart, arms overhead' },
  push_ups: { generate: pushUps, travels: false, description: 'push-ups in a straight plank on the toes' },
  sit_ups: { generate: sitUps, travels: false, description: 'sit-ups lying on the back with knees bent and feet flat' },
  kneel: { generate: kneel, travels: false, description: 'going down on one knee (the other foot stepped ahead), held' },
  lie_down: { generate: lieDown, travels: false, description: 'lowering to sit on the floor and lying back flat' },
  dodge: { generate: dodge, travels: false, description: 'dodging blows from a guard: slips, ducks or lean-backs to alternating sides' },
  block: { generate: block, travels: false, description: 'forearms up in front of the face, flinching at each impact' },
  uppercut: { generate: uppercut, travels: false, description: 'uppercuts from a guard: dip, rising strike with the hips turning in, recoil' },
  hook_punch: { generate: hookPunch, travels: false, description: 'hook punches from a guard: wind-up, horizontal arc with a big trunk turn, recoil' },
  roundhouse_kick: { generate: roundhouseKick, travels: false, description: 'a roundhouse kick: chamber, pivot on the support foot, the shin whipping round at hip height' },
  salute: { generate: salute, travels: false, description: 'a military salute with the right (or named) hand, held, then cut down' },
  thumbs_up: { generate: thumbsUp, travels: false, description: 'a thumbs up at chest height with a nod' },
  facepalm: { generate: facepalm, travels: false, description: 'a facepalm: hand to the forehead, head dropping into it, a slow shake' },
  yawn: { generate: yawn, travels: false, description: 'a yawn with rising shoulders and half-stretched arms, head tipping back' },
  look_at_watch: { generate: lookAtWatch, travels: false, description: 'raising the wrist to check a watch, the head looking down at it' },
  check_phone: { generate: checkPhone, travels: false, description: 'looking at a phone held at chest height, scrolling, glancing up' },
  talk: { generate: talk, travels: false, description: 'talking with the hands: beat gestures, open palms, small head movements' },
  drink: { generate: drink, travels: false, description: 'drinking from a cup: hand to mouth, head tipping back for sips' },
};
