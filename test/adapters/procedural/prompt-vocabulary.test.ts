/** The larger vocabulary: every motion reachable from prompts and synonyms, the required motions, manners, honest unknown prompts. */
import { describe, expect, it } from 'vitest';
import { generateMotion, generateSegment } from '../../../src/adapters/procedural/generate.js';
import { MOTIONS } from '../../../src/adapters/procedural/motions/index.js';
import { MOTION_IDS, understand, type MotionId } from '../../../src/adapters/procedural/prompt.js';
import type { PlannedSegment } from '../../../src/spec/plan.js';

/** At least one prompt per motion (a Record, so a motion without prompts does not compile), phrasings and synonyms. */
const PROMPTS: Record<MotionId, string[]> = {
  idle: ['idle', 'stand still'],
  walk: ['walk forward', 'strolling along'],
  jog: ['jog', 'run slowly'],
  run: ['run', 'sprint'],
  walk_backward: ['walk backwards', 'back away'],
  sidestep_left: ['strafe left'],
  sidestep_right: ['sidestep to the right'],
  march: ['march like a soldier'],
  sneak: ['tiptoe', 'walk sneakily'],
  turn_left: ['turn left'],
  turn_right: ['turn right'],
  turn_around: ['turn around'],
  jump: ['jump', 'hop'],
  wave: ['wave hello'],
  sit_down: ['sit down'],
  stand_up: ['stand up', 'gets up from the chair'],
  crouch: ['crouch'],
  squat: ['do squats'],
  kick: ['kick the ball'],
  punch: ['throw a punch', 'jab'],
  bow: ['take a bow'],
  dance: ['dance'],
  clap: ['applaud'],
  cheer: ['celebrate a goal'],
  nod: ['nod yes'],
  shake_head: ['shake head no'],
  look_around: ['look around'],
  stretch: ['stretch', 'warm up'],
  throw: ['throw a ball', 'toss'],
  shrug: ['shrug'],
  point: ['point forward'],
  climb_stairs: ['climb stairs', 'walks up the stairs', 'goes upstairs'],
  climb_ladder: ['climb a ladder', 'climbs up'],
  backflip: ['backflip', 'do a back flip', 'somersault'],
  cartwheel: ['cartwheel', 'does a cartwheel to the right'],
  crawl: ['crawl', 'on all fours', 'crawling on hands and knees'],
  push: ['push', 'shove the box', 'pushes a heavy cart'],
  pull: ['pull', 'pulls a rope', 'tug'],
  pick_up: ['pick up', 'picks up a box', 'lift something from the ground'],
  carry: ['carry a box', 'carrying'],
  stumble: ['stumble', 'trips and almost falls', 'stagger'],
  fall_down: ['fall down', 'collapse', 'faints'],
  get_up: ['get up', 'gets up off the floor', 'get back up'],
  limp: ['limp', 'walk with a limp', 'hobbles along', 'limping walk'],
  zombie_walk: ['zombie walk', 'shamble like a zombie', 'a zombie shambles forward', 'walks like a zombie'],
  skip: ['skip', 'skipping along'],
  hop: ['hop on one foot', 'hops on the left foot'],
  lunge: ['lunge', 'do lunges'],
  jumping_jacks: ['jumping jacks', 'star jumps'],
  push_ups: ['push ups', 'do 10 pushups', 'press ups'],
  sit_ups: ['sit ups', 'crunches'],
  kneel: ['kneel', 'get down on one knee', 'take a knee'],
  lie_down: ['lie down', 'lay down on the floor', 'lying down'],
  dodge: ['dodge', 'dodge a punch', 'evade'],
  block: ['block', 'guard up', 'parry'],
  uppercut: ['uppercut', 'throw an uppercut'],
  hook_punch: ['left hook', 'hook punch'],
  roundhouse_kick: ['roundhouse kick', 'spin kick'],
  salute: ['salute', 'give a military salute'],
  thumbs_up: ['thumbs up', 'gives a thumbs up'],
  facepalm: ['facepalm', 'covers his face'],
  yawn: ['yawn', 'yawning'],
  look_at_watch: ['look at watch', 'checks the time'],
  check_phone: ['check phone', 'looks at her phone', 'texting'],
  talk: ['talk', 'explain something with gestures', 'chatting'],
  drink: ['drink', 'sip coffee', 'drinks water'],
};

const REQUIRED: MotionId[] = ['climb_stairs', 'backflip', 'crawl', 'cartwheel', 'push', 'pull', 'pick_up', 'throw', 'stumble', 'fall_down', 'get_up'];

describe('vocabulary', () => {
  it('has at least 60 motions, each with its own generator and description, including the 11 the issue names', () => {
    expect(MOTION_IDS.length).toBeGreaterThanOrEqual(60);
    expect(new Set(MOTION_IDS).size).toBe(MOTION_IDS.length);
    for (const id of REQUIRED) expect(MOTION_IDS).toContain(id);
    for (const id of MOTION_IDS) expect(MOTIONS[id].description.length).toBeGreaterThan(10);
    // No motion is another's generator under a new name.
    const gens = new Set(MOTION_IDS.map((id) => MOTIONS[id].generate));
    expect(gens.size).toBe(MOTION_IDS.length);
  });

  for (const id of MOTION_IDS) {
    it(`${id}: reached from ${PROMPTS[id].length} prompt(s) and synonyms`, () => {
      for (const p of PROMPTS[id]) {
        const u = understand(p);
        expect({ prompt: p, motion: u.motion, recognized: u.recognized }).toEqual({ prompt: p, motion: id, recognized: true });
      }
    });
  }

  it('"a zombie shambles forward", "climb stairs" and "backflip" are recognized as different motions with different clips', () => {
    const ps = ['a zombie shambles forward', 'climb stairs', 'backflip'];
    const us = ps.map(understand);
    expect(us.map((u) => u.motion)).toEqual(['zombie_walk', 'climb_stairs', 'backflip']);
    const clips = us.map((u) => generateMotion(u.motion, 90, 30, 5, 0, u.modifiers).clip.rotations);
    for (let i = 0; i < 3; i++) for (let j = i + 1; j < 3; j++) expect(maxAbsDiff(clips[i], clips[j])).toBeGreaterThan(0.2);
  });
});

describe('manner and mood modifiers', () => {
  it('reads zombie, limping, sneaking, tired, slowly, angry and happy with synonyms', () => {
    expect(understand('walk like a zombie').modifiers.manner).toBe('zombie');
    expect(understand('a zombified undead dance').modifiers.manner).toBe('zombie');
    expect(understand('wave while limping').modifiers.manner).toBe('limp');
    expect(understand('an injured man waves').modifiers.manner).toBe('limp');
    expect(understand('look around stealthily').modifiers.manner).toBe('sneak');
    expect(understand('walk exhausted').modifiers.mood).toBe('tired');
    expect(understand('wearily waves').modifiers.mood).toBe('tired');
    expect(understand('walk slowly').modifiers.pace).toBe('slow');
    expect(understand('furiously punch').modifiers.mood).toBe('angry');
    expect(understand('joyfully jump').modifiers.mood).toBe('happy');
    // A manner word turns a plain walk into its own gait.
    expect(understand('zombie walk').motion).toBe('zombie_walk');
    expect(understand('walk limping').motion).toBe('limp');
    expect(understand('walk quietly').motion).toBe('sneak');
  });

  it('a zombie walk is not a walk: arms held forward, slower, shorter steps', () => {
    const walk = generateMotion('walk', 150, 30, 9, 0);
    const zombie = generateMotion('zombie_walk', 150, 30, 9, 0, understand('zombie walk').modifiers);
    expect(meanArmRaise(zombie.clip)).toBeGreaterThan(meanArmRaise(walk.clip) + 35);
    expect(travel(zombie.clip)).toBeLessThan(0.6 * travel(walk.clip));
  });

  it('zombie applies to other motions too: a zombie nod holds both arms out forward', () => {
    const plain = generateMotion('nod', 120, 30, 4, 0);
    const zombie = generateMotion('nod', 120, 30, 4, 0, { manner: 'zombie' });
    expect(meanArmRaise(zombie.clip)).toBeGreaterThan(meanArmRaise(plain.clip) + 50);
  });

  it('a limp is asymmetric: the sore foot is down for much less of the cycle than the good foot', () => {
    for (const side of ['left', 'right'] as const) {
      const g = generateMotion('limp', 240, 30, 3, 0, { manner: 'limp', side });
      const down = [0, 2].map((k) => stanceFraction(g.contacts, k, 30, 240));
      const [sore, good] = side === 'left' ? [down[0], down[1]] : [down[1], down[0]];
      expect(good).toBeGreaterThan(sore * 1.2);
      expect(g.info.sore_leg).toBe(side);
    }
  });

  it('tired is slower than the plain walk and slumps the spine forward', () => {
    const walk = generateMotion('walk', 150, 30, 21, 0);
    const tired = generateMotion('walk', 150, 30, 21, 0, { mood: 'tired' });
    expect(travel(tired.clip)).toBeLessThan(0.85 * travel(walk.clip));
    expect(meanPitch(tired.clip, 2)).toBeGreaterThan(meanPitch(walk.clip, 2) + 0.01);
  });
});

describe('unknown prompts', () => {
  it('are reported as not recognized, with the words ignored and the nearest known motions', () => {
    const u = understand('wlak to the door');
    expect(u).toMatchObject({ motion: 'idle', recognized: false, confidence: 0, ignored: ['wlak', 'to', 'the', 'door'] });
    expect(u.nearest).toContain('walk');
    expect(understand('jumpng').nearest?.[0]).toBe('jump');
    expect(understand('bakflip').nearest?.[0]).toBe('backflip');
    expect(understand('xyzzy').nearest).toHaveLength(3);
  });

  it('recognized prompts report the words they ignored', () => {
    expect(understand('the robot waves hello happily').ignored).toEqual(['the', 'robot']);
  });

  const seg = (prompt: string): PlannedSegment => ({ index: 0, type: 'text', prompt, startFrame: 0, frames: 60, seconds: 2, seed: 42 });

  it('get a neutral idle that differs by prompt (same seed), and the note says the variation comes from the prompt', () => {
    const a = generateSegment(seg('contemplate the universe'), 30, 0);
    const b = generateSegment(seg('ponder a sandwich'), 30, 0);
    const a2 = generateSegment(seg('contemplate the universe'), 30, 0);
    expect(maxAbsDiff(a.generated.clip.rotations, b.generated.clip.rotations)).toBeGreaterThan(0.01);
    expect(a2.generated.clip.rotations).toEqual(a.generated.clip.rotations);
    expect(a.understood).toMatchObject({ motion: 'idle', recognized: false });
    expect(a.understood.prompt_hash).not.toBe(b.understood.prompt_hash);
    expect(String(a.understood.note)).toContain(String(a.understood.prompt_hash));
    expect(a.understood.nearest).toEqual(understand('contemplate the universe').nearest);
  });

  it('never get the old arms-crossed idle: the idle variants keep the hands a hand-width apart', () => {
    for (let seed = 0; seed < 40; seed++) {
      const g = generateMotion('idle', 60, 30, seed, 0);
      expect(['relaxed', 'hands_on_hips', 'hands_clasped_front', 'hands_behind_back']).toContain(g.info.variant);
    }
  });
});

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

import { clipWorldPositions } from '../../../src/motion/clip.js';
import { JOINT, PROCEDURAL_SKELETON } from '../../../src/adapters/procedural/rig.js';
import type { Clip } from '../../../src/spec/motion.js';

/** Mean over frames and both arms of the angle (degrees) between the upper arm and straight down. */
function meanArmRaise(c: Clip): number {
  const P = clipWorldPositions(PROCEDURAL_SKELETON, c);
  const J = c.jointCount;
  let sum = 0;
  for (let f = 0; f < c.numFrames; f++) {
    for (const [a, b] of [[JOINT.LeftArm, JOINT.LeftForeArm], [JOINT.RightArm, JOINT.RightForeArm]]) {
      const dx = P[(f * J + b) * 3] - P[(f * J + a) * 3];
      const dy = P[(f * J + b) * 3 + 1] - P[(f * J + a) * 3 + 1];
      const dz = P[(f * J + b) * 3 + 2] - P[(f * J + a) * 3 + 2];
      sum += (Math.acos(-dy / Math.hypot(dx, dy, dz)) * 180) / Math.PI;
    }
  }
  return sum / (2 * c.numFrames);
}

const travel = (c: Clip) => Math.hypot(c.rootPositions[(c.numFrames - 1) * 3], c.rootPositions[(c.numFrames - 1) * 3 + 2]);

/** Mean forward pitch (radians) of a joint's local rotation about x. */
function meanPitch(c: Clip, joint: number): number {
  let s = 0;
  for (let f = 0; f < c.numFrames; f++) {
    const o = (f * c.jointCount + joint) * 4;
    s += 2 * Math.atan2(c.rotations[o], c.rotations[o + 3]);
  }
  return s / c.numFrames;
}

/** Fraction of the frames after the first second during which the foot of heel flag k touches (heel or toe). */
function stanceFraction(contacts: Uint8Array, k: number, fps: number, frames: number): number {
  let n = 0;
  for (let f = fps; f < frames; f++) n += contacts[f * 4 + k] | contacts[f * 4 + k + 1];
  return n / (frames - fps);
}
