/**
 * Prompt understanding for the procedural model: maps an English prompt to one of its motions plus
 * modifiers (pace, side, direction, mood, size, count) by matching word stems against a synonym table.
 * Case, punctuation, inflection and word order do not matter. A prompt it cannot place is reported as not
 * recognized, with the words it ignored and the nearest known motions (the generator then makes a neutral idle).
 */

export const MOTION_IDS = [
  'idle', 'walk', 'jog', 'run', 'walk_backward', 'sidestep_left', 'sidestep_right', 'march', 'sneak',
  'turn_left', 'turn_right', 'turn_around', 'jump', 'wave', 'sit_down', 'stand_up', 'crouch', 'squat',
  'kick', 'punch', 'bow', 'dance', 'clap', 'cheer', 'nod', 'shake_head', 'look_around', 'stretch',
  'throw', 'shrug', 'point',
  'climb_stairs', 'climb_ladder', 'backflip', 'cartwheel', 'crawl', 'push', 'pull', 'pick_up', 'carry', 'stumble',
  'fall_down', 'get_up', 'limp', 'zombie_walk', 'skip', 'hop', 'lunge', 'jumping_jacks', 'push_ups', 'sit_ups', 'kneel',
  'lie_down', 'dodge', 'block', 'uppercut', 'hook_punch', 'roundhouse_kick', 'salute', 'thumbs_up', 'facepalm', 'yawn',
  'look_at_watch', 'check_phone', 'talk', 'drink',
] as const;
export type MotionId = (typeof MOTION_IDS)[number];

export interface Modifiers {
  pace?: 'slow' | 'fast';
  /** Left or right: the hand or foot that acts, or the direction of a turn or sidestep. */
  side?: 'left' | 'right';
  backward?: boolean;
  forward?: boolean;
  sideways?: boolean;
  around?: boolean;
  /** A full 360° turn. */
  spin?: boolean;
  inPlace?: boolean;
  circle?: boolean;
  mood?: 'happy' | 'sad' | 'angry' | 'tired' | 'proud' | 'scared';
  size?: 'small' | 'big';
  both?: boolean;
  /** How many times (jumps, kicks, punches, bows, nods, squats). */
  count?: number;
  /**
   * A manner of moving that changes any motion: a zombie's forward arms, lurch and dragging steps; a limp
   * favouring one leg; a sneak's crouch.
   */
  manner?: 'zombie' | 'limp' | 'sneak';
}

export interface PromptUnderstanding {
  motion: MotionId;
  /** False when no motion word was found (the motion is then an idle). */
  recognized: boolean;
  /** The prompt words that decided the motion and modifiers (lower case, at most 8). */
  matched: string[];
  modifiers: Modifiers;
  /** 0..1: 0 when nothing was recognized. */
  confidence: number;
  /** The prompt words that neither named the motion nor a modifier (lower case, at most 12). */
  ignored: string[];
  /** For an unrecognized prompt: the known motions closest to its words (by spelling), best first. */
  nearest?: MotionId[];
}

/** A head is a motion, or a word family resolved by the modifiers ("turn" + "left" → turn_left). */
type Head = MotionId | 'move' | 'turn' | 'sidestep';

interface Entry {
  head: Head;
  /** Phrase strength: 1.5 specific phrase, 1 the motion's own word, 0.8 synonym, 0.5 a weak hint. */
  weight: number;
  words: string[];
  implies?: Modifiers;
}

/** [head, weight, comma-separated phrases, implied modifiers]. */
const VOCABULARY: readonly [Head, number, string, Modifiers?][] = [
  ['idle', 1, 'idle, stand, stand still, stand there, standing still, wait, rest, relax, breathe, stay, do nothing, nothing, pause, still, neutral, calm, chill, hang out, remain'],
  ['walk', 1, 'walk, walk forward, go forward, move forward, step forward, stroll, amble, wander, saunter, stride, promenade, hike, mosey, meander, waddle, tread, shuffle, go for a walk, take a walk'],
  ['walk', 0.9, 'trudge, plod, drag', { mood: 'tired', pace: 'slow' }],
  ['walk', 0.9, 'stomp, storm', { mood: 'angry' }],
  ['walk', 0.9, 'strut, swagger, parade', { mood: 'proud' }],
  ['jog', 1, 'jog, trot, light run, easy run, run slowly, run slow'],
  ['run', 1, 'run, race, rush, charge, bolt, flee, scamper, gallop, run forward, run away'],
  ['run', 1, 'sprint, dash, run fast, run as fast as', { pace: 'fast' }],
  ['walk_backward', 1.5, 'backpedal, back up, walk backward, walk backwards, walk back, move back, move backward, step back, step backward, go back, retreat, reverse, back away, moonwalk'],
  ['sidestep', 1.2, 'sidestep, side step, strafe, step aside, step sideways, move sideways, walk sideways, shuffle sideways, side shuffle, crab walk, slide sideways'],
  ['march', 1, 'march, goose step, high knees, soldier walk, lift knees'],
  ['sneak', 1, 'sneak, tiptoe, tip toe, creep, prowl, stalk, sneakily, stealthily, stealth, quietly walk, walk quietly, on tiptoes'],
  ['turn', 1, 'turn, rotate, pivot, face, change direction'],
  ['turn', 1.3, 'turn around, turn back, about face, turn to face, do an about face'],
  ['turn', 1.2, 'spin, twirl, whirl, full turn, 360', { spin: true, around: true }],
  ['jump', 1, 'jump, hop, bounce, spring, jump up, jump in place, vault'],
  ['jump', 1.2, 'leap, long jump, jump forward, bound, jump ahead', { forward: true }],
  ['jump', 1.2, 'high jump, jump high', { size: 'big' }],
  ['wave', 1, 'wave, wave hello, wave goodbye, wave hand, greet, greeting, say hello, say hi, say goodbye, say bye, hail, beckon, raise hand, raise a hand'],
  ['wave', 0.5, 'hello, hi, hey, bye, goodbye, farewell, howdy'],
  ['sit_down', 1.5, 'sit down, sit, take a seat, have a seat, be seated, sit on a chair, sit on the chair, sit in a chair, seat, sit back'],
  ['stand_up', 1.6, 'stand up, rise, rise up, stand from, stand back up'],
  ['stand_up', 1.8, 'get up from the chair, get up from a chair, get up from the seat, get up from the bench, get out of the chair, stand up from the chair, stand up from a chair'],
  ['crouch', 1, 'crouch, duck, cower, hunker, get down, get low, hide, take cover, bend down, crouch down'],
  ['squat', 1, 'squat, do squats, knee bend, deep knee bend, squat down, squat exercise'],
  ['kick', 1, 'kick, front kick, karate kick, kick the ball, kick a ball, soccer kick, punt'],
  ['punch', 1, 'punch, jab, box, boxing, shadow box, shadowbox, throw a punch, throw punches, strike, hit, fist fight, fight, spar'],
  ['bow', 1, 'bow, take a bow, bow down, curtsy, curtsey, bend over, bend forward, bow politely'],
  ['dance', 1, 'dance, boogie, groove, disco, bust a move, salsa, hip hop, party, shake it, jive, rave, shimmy, two step, step touch'],
  ['clap', 1, 'clap, applaud, applause, clap hands, give a round of applause, clapping'],
  ['cheer', 1, 'cheer, celebrate, arms up, raise arms, raise both arms, raise hands, raise both hands, hands up, hands in the air, victory, hooray, hurray, hurrah, yay, triumph, rejoice, fist pump, pump fist, win'],
  ['nod', 1, 'nod, nod yes, say yes, agree, nod head, nod along'],
  ['nod', 0.5, 'yes, yeah, okay'],
  ['shake_head', 1.5, 'shake head, head shake, say no, disagree, shake no, refuse'],
  ['look_around', 1.2, 'look around, look about, turn head, look over shoulder, look behind, look left and right, glance around, scan the area'],
  ['look_around', 0.7, 'look, glance, scan, search, survey, peer, scout, gaze'],
  ['stretch', 1, 'stretch, warm up, reach up, reach for the sky, limber up, stretch arms'],
  ['throw', 1, 'throw, toss, pitch, hurl, fling, lob, throw a ball, throw the ball'],
  ['shrug', 1, 'shrug, dont know, don t know, do not know, who knows, whatever, shrug shoulders'],
  ['point', 1, 'point, point at, point forward, indicate, point to, aim'],
  ['climb_stairs', 1.5, 'climb stairs, climb the stairs, climb up the stairs, walk up stairs, walk up the stairs, go up the stairs, go up stairs, go upstairs, walk upstairs, run upstairs, climb steps, walk up the steps, climb a staircase, ascend the stairs, take the stairs'],
  ['climb_stairs', 1.2, 'stairs, staircase, stair, stairway, upstairs, steps up, step up'],
  ['climb_ladder', 1.5, 'climb a ladder, climb the ladder, climb up a ladder, ladder, climb a wall, scale a wall, climb a rope, rope climb, climb up'],
  ['climb_ladder', 1, 'climb, clamber, scale, ascend'],
  ['backflip', 1.5, 'backflip, back flip, backward flip, flip backward, flip backwards, back somersault, backward somersault, back tuck, salto'],
  ['backflip', 1.2, 'flip, somersault, do a flip'],
  ['cartwheel', 1.5, 'cartwheel, cart wheel, do a cartwheel, handspring, round off, roundoff'],
  ['crawl', 1.4, 'crawl, crawl on hands and knees, on all fours, on hands and knees, baby crawl, crawling, crawl forward, bear crawl'],
  ['push', 1, 'push, shove, push a box, push the box, push a cart, push the door, push open, push against, press against, push a wall, thrust'],
  ['pull', 1, 'pull, tug, pull a rope, pull the rope, haul, yank, tow, heave, tug of war, pull the door, pull open, drag a rope'],
  ['pick_up', 1.5, 'pick up, pick something up, pick it up, pick up a box, pick up from the floor, grab from the floor, lift a box, lift from the ground, lift something, reach down and grab, pick, gather, collect'],
  ['pick_up', 1, 'lift, grab, fetch'],
  ['carry', 1.2, 'carry, carry a box, carry something, hold a box, carrying, lug, haul a box, transport, bring, deliver'],
  ['stumble', 1.3, 'stumble, trip, stagger, lose balance, lose his balance, lose her balance, lose footing, trip over, totter, wobble, reel, almost fall, nearly fall, slip'],
  ['fall_down', 1.4, 'fall down, fall, collapse, faint, fall over, fall to the ground, drop to the ground, keel over, pass out, topple, topple over, get knocked down, knocked down, die, play dead, drop dead, fall backward'],
  ['get_up', 1.7, 'get up, get up from the floor, get up from the ground, get up off the floor, get up off the ground, get back up, stand up from the floor, stand up from the ground, rise from the ground, rise from the floor, pick oneself up, pick himself up, pick herself up, get off the floor, get to feet, get on feet, recover'],
  ['limp', 1.3, 'limp, hobble, walk with a limp, injured walk, walk injured, hurt leg, lame walk, favour a leg, favor a leg, drag a leg, drag leg'],
  ['zombie_walk', 1.4, 'zombie walk, walk like a zombie, shamble, shamble like a zombie, undead walk, lurch, lurch forward, mummy walk, walking dead'],
  ['zombie_walk', 0.8, 'zombie, undead, mummy, ghoul'],
  ['skip', 1.1, 'skip, skip along, skipping, frolic, prance, skip happily, hopscotch'],
  ['hop', 1.6, 'hop on one foot, hop on one leg, hop on left foot, hop on right foot, hop on left leg, hop on right leg, one legged hop, single leg hop, one foot hop, hop on a foot'],
  ['hop', 1.1, 'one foot, one leg, single leg, one legged'],
  ['lunge', 1.2, 'lunge, lunges, forward lunge, do lunges, lunge forward, walking lunge, fencing lunge, split squat'],
  ['jumping_jacks', 1.7, 'jumping jack, jumping jacks, star jump, star jumps, do jumping jacks, jump jacks, side straddle hop'],
  ['push_ups', 1.7, 'push up, push ups, pushup, pushups, press up, press ups, do push ups, do pushups'],
  ['sit_ups', 1.7, 'sit up, sit ups, situp, situps, crunch, crunches, do sit ups, do crunches, ab workout, abs'],
  ['kneel', 1.2, 'kneel, kneel down, get on one knee, on one knee, take a knee, genuflect, propose, go down on one knee, kneeling'],
  ['lie_down', 1.5, 'lie down, lay down, lie on the floor, lie on the ground, lie flat, lie on the back, lie down on the floor, go to sleep, lie, recline'],
  ['lie_down', 1, 'sleep, nap, rest on the floor'],
  ['dodge', 1.3, 'dodge, evade, bob and weave, slip a punch, duck a punch, dodge a punch, avoid a punch, lean back, matrix dodge, dodge to the side, weave'],
  ['block', 1.2, 'block, guard, parry, defend, shield, protect, block a punch, defensive stance, cover up, put up guard, guard up'],
  ['uppercut', 1.4, 'uppercut, upper cut, throw an uppercut'],
  ['hook_punch', 1.4, 'hook punch, left hook, right hook, haymaker, hook, swing a punch, throw a hook'],
  ['roundhouse_kick', 1.4, 'roundhouse, roundhouse kick, spin kick, spinning kick, side kick, turning kick, high kick, martial arts kick, taekwondo kick'],
  ['salute', 1.2, 'salute, military salute, give a salute, salute the flag, saluting, army salute'],
  ['thumbs_up', 1.5, 'thumbs up, thumb up, give a thumbs up, give thumbs up, approve, good job, well done, okay sign'],
  ['facepalm', 1.3, 'facepalm, face palm, palm to face, hand on face, hand over face, cover face, cover his face, cover her face, head in hands, disappointed, embarrassed, cringe, oh no'],
  ['yawn', 1.2, 'yawn, yawning, big yawn, sleepy yawn, tired yawn'],
  ['look_at_watch', 1.6, 'look at watch, look at his watch, look at her watch, check the time, check watch, check his watch, look at the time, glance at watch, wristwatch, what time is it, tap watch'],
  ['look_at_watch', 0.9, 'watch, impatient, impatiently, time'],
  ['check_phone', 1.4, 'check phone, check his phone, check her phone, look at phone, look at his phone, scroll phone, read a message, read a text, text message, cell phone, mobile phone, smartphone, phone'],
  ['check_phone', 1, 'text, texting, scroll, swipe'],
  ['talk', 1, 'talk, speak, chat, converse, explain, discuss, argue, gesture, gesticulate, tell a story, present, lecture, conversation, talk with hands, give a speech, speech, say something, tell'],
  ['drink', 1.2, 'drink, sip, drink water, drink from a cup, drink from a bottle, have a drink, take a sip, sip coffee, drink coffee, drink tea, drink a beer, toast, chug'],
  ['move', 0.5, 'move, go, step, come, head, proceed, travel'],
];

/** The phrases of the motion vocabulary, by head (a motion id, or "turn" / "sidestep" / "move", resolved by the modifiers); for docs. */
export function vocabularyPhrases(): Array<{ head: string; phrases: string[] }> {
  return VOCABULARY.map(([head, , list]) => ({ head, phrases: list.split(',').map((p) => p.trim()).filter(Boolean) }));
}

/** [modifiers, phrases]. */
const MODIFIER_WORDS: readonly [Modifiers, string][] = [
  [{ pace: 'slow' }, 'slow, slowly, leisurely, leisure, gently, casually, lazily, sluggishly, calmly, unhurried, carefully, gradually'],
  [{ pace: 'fast' }, 'fast, quickly, quick, rapidly, rapid, hurriedly, hurry, briskly, brisk, speedily, swiftly, swift, in a hurry, energetically'],
  [{ side: 'left' }, 'left, leftward, leftwards, counterclockwise, anticlockwise, left hand, left leg, left foot, left arm'],
  [{ side: 'right' }, 'right, rightward, rightwards, clockwise, right hand, right leg, right foot, right arm'],
  [{ backward: true }, 'backward, backwards, back, reverse, rearward, in reverse'],
  [{ forward: true }, 'forward, forwards, ahead, straight, onward, in front'],
  [{ sideways: true }, 'sideways, sidewards, side, laterally, to the side, sidestep, strafe'],
  [{ around: true }, 'around, 180, about, turn back'],
  [{ spin: true, around: true }, '360, full circle, all the way around'],
  [{ inPlace: true }, 'in place, on the spot, on spot, stationary, in position, on the same spot'],
  [{ circle: true }, 'circle, circles, in a circle, round'],
  [{ mood: 'happy' }, 'happy, happily, joyful, joyfully, cheerful, cheerfully, excited, excitedly, gleeful, gleefully, merrily, bouncy, playful, playfully, enthusiastic, enthusiastically'],
  [{ mood: 'sad' }, 'sad, sadly, depressed, dejected, gloomy, sorrowful, upset, unhappy, miserable, mournful, defeated'],
  [{ mood: 'angry' }, 'angry, angrily, furious, furiously, mad, aggressive, aggressively, annoyed, rage, frustrated'],
  [{ mood: 'tired' }, 'tired, exhausted, weary, wearily, sleepy, fatigued, lazy, drunk, drunkenly, sluggish'],
  [{ mood: 'proud' }, 'proud, proudly, confident, confidently, boldly, bold, heroic, heroically, powerful, powerfully, determined'],
  [{ mood: 'scared' }, 'scared, afraid, nervous, nervously, frightened, fearful, anxious, anxiously, cautious, cautiously, timid, timidly'],
  [{ size: 'big' }, 'big, large, huge, high, wide, giant, vigorously, vigorous, dramatically, dramatic, deep, deeply, hard, strongly, wildly'],
  [{ size: 'small' }, 'small, little, slight, slightly, tiny, subtle, subtly, short, a bit, shallow, lightly, softly'],
  [{ both: true }, 'both, both hands, two hands, both arms'],
  [{ manner: 'zombie' }, 'zombie, zombies, zombielike, like a zombie, undead, shambling, shamble, lurching, lurch, mummy, ghoul, braindead'],
  [{ manner: 'limp' }, 'limp, limping, limpingly, with a limp, injured, hurt, wounded, lame, hobbling, hobble, sprained'],
  [{ manner: 'sneak' }, 'sneaking, sneakily, stealthily, stealthy, quietly, silently, crouched, crouching, furtively, on tiptoes, tiptoeing'],
];

const NUMBER_WORDS: Record<string, number> = {
  once: 1, twice: 2, thrice: 3, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  several: 3, few: 3, couple: 2,
};

const IRREGULAR: Record<string, string> = {
  ran: 'run', sat: 'sit', stood: 'stand', leapt: 'leap', threw: 'throw', thrown: 'throw', went: 'go', gone: 'go',
  got: 'get', took: 'take', taken: 'take', bent: 'bend', knelt: 'kneel', fell: 'fall', spun: 'spin', swung: 'swing',
  rose: 'rise', risen: 'rise', crept: 'creep', strode: 'stride', shook: 'shake', shaken: 'shake', hid: 'hide',
  hidden: 'hide', came: 'come', did: 'do', done: 'do', sprang: 'spring', sprung: 'spring', bounded: 'bound',
  lying: 'lie', lain: 'lie', lies: 'lie', laid: 'lay', drank: 'drink', drunk: 'drunk', brought: 'bring', caught: 'catch',
  tripped: 'trip', dying: 'die', died: 'die', dies: 'die', held: 'hold', spoke: 'speak', spoken: 'speak', told: 'tell',
  pushups: 'pushup', situps: 'situp', clambered: 'clamber',
};

const UNDOUBLE = /([bdgmnptz])\1$/;

/** A light English stemmer: the same stem for walk, walks, walking, walked (applied to prompt and vocabulary alike). */
export function stem(word: string): string {
  let w = IRREGULAR[word] ?? word;
  if (w.length > 4 && w.endsWith('ing')) w = w.slice(0, -3).replace(UNDOUBLE, '$1');
  else if (w.length > 4 && w.endsWith('ed')) w = w.slice(0, -2).replace(UNDOUBLE, '$1');
  else if (w.length > 4 && /(ches|shes|xes|sses|zes|oes)$/.test(w)) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('s') && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.length > 3 && w.endsWith('e')) w = w.slice(0, -1);
  return w;
}

/** Lower-case words of a prompt: accents folded, apostrophes and hyphens split, anything else dropped. */
export function words(prompt: string): string[] {
  return prompt
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim()
    .split(' ')
    .filter((w) => w.length > 0);
}

interface Phrase<T> {
  stems: string[];
  value: T;
  text: string;
}

function phrases<T>(list: string, value: T): Phrase<T>[] {
  return list.split(',').map((p) => p.trim()).filter(Boolean).map((text) => ({ text, stems: words(text).map(stem), value }));
}

/** Longest phrases first, so "stand up" claims its words before "stand" can. */
const byLength = <T>(a: Phrase<T>, b: Phrase<T>) => b.stems.length - a.stems.length;

const MOTION_PHRASES: Phrase<Entry>[] = VOCABULARY.flatMap(([head, weight, list, implies]) =>
  phrases(list, { head, weight, words: [], implies }),
).sort(byLength);

const MODIFIER_PHRASES: Phrase<Modifiers>[] = MODIFIER_WORDS.flatMap(([mods, list]) => phrases(list, mods)).sort(byLength);

/**
 * Finds `stems` in `tokens` in order, allowing one filler word between consecutive stems ("shake his
 * head"), using no token in `taken`. Returns the positions or null.
 */
function find(tokens: readonly string[], stems: readonly string[], taken: readonly boolean[]): number[] | null {
  for (let start = 0; start < tokens.length; start++) {
    if (taken[start] || tokens[start] !== stems[0]) continue;
    const at = [start];
    let ok = true;
    for (let i = 1; i < stems.length && ok; i++) {
      const prev = at[i - 1];
      const next = [prev + 1, prev + 2].find((p) => p < tokens.length && !taken[p] && tokens[p] === stems[i]);
      if (next === undefined) ok = false;
      else at.push(next);
    }
    if (ok) return at;
  }
  return null;
}

interface Hit {
  entry: Entry;
  position: number;
  words: string[];
}

/** Repetition count: "twice", "three times", "3 times", "jump 4 times". */
function countOf(ws: readonly string[]): number | undefined {
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i];
    if (w === 'once' || w === 'twice' || w === 'thrice') return NUMBER_WORDS[w];
    if (ws[i + 1] === 'times' || ws[i + 1] === 'time') {
      const n = /^\d+$/.test(w) ? Number(w) : NUMBER_WORDS[w];
      if (n !== undefined && n >= 1) return Math.min(n, 12);
    }
  }
  return undefined;
}

/** Resolves a word family with its modifiers into a motion. */
function resolve(head: Head, m: Modifiers): MotionId {
  const side = (fallback: 'left' | 'right') => m.side ?? fallback;
  switch (head) {
    case 'turn':
      if (m.around || m.spin || (!m.side && m.backward)) return 'turn_around';
      return m.side === 'right' ? 'turn_right' : m.side === 'left' ? 'turn_left' : 'turn_around';
    case 'sidestep':
      return side('left') === 'left' ? 'sidestep_left' : 'sidestep_right';
    case 'move':
    case 'walk':
      if (m.backward && !m.forward) return 'walk_backward';
      if (m.manner === 'zombie') return 'zombie_walk';
      if (m.manner === 'limp') return 'limp';
      if (m.manner === 'sneak' && !m.sideways) return 'sneak';
      if (m.sideways) return side('left') === 'left' ? 'sidestep_left' : 'sidestep_right';
      if (head === 'move' && m.side && !m.circle) return m.side === 'left' ? 'sidestep_left' : 'sidestep_right';
      return 'walk';
    case 'run':
      if (m.backward && !m.forward) return 'walk_backward';
      if (m.manner === 'limp') return 'limp';
      return m.pace === 'slow' ? 'jog' : 'run';
    case 'jog':
      return m.backward && !m.forward ? 'walk_backward' : 'jog';
    default:
      return head;
  }
}

/** What the prompt asks for. */
export function understand(prompt: string): PromptUnderstanding {
  const ws = words(prompt).slice(0, 400);
  const tokens = ws.map(stem);
  const taken = tokens.map(() => false);

  const hits: Hit[] = [];
  for (const p of MOTION_PHRASES) {
    const at = find(tokens, p.stems, taken);
    if (!at) continue;
    for (const i of at) taken[i] = true;
    hits.push({ entry: p.value, position: at[0], words: at.map((i) => ws[i]) });
  }

  // Modifiers may reuse words a motion phrase claimed ("turn back" is both a turn and a direction).
  const modTaken = tokens.map(() => false);
  const modifiers: Modifiers = {};
  const modWords: string[] = [];
  for (const p of MODIFIER_PHRASES) {
    const at = find(tokens, p.stems, modTaken);
    if (!at) continue;
    for (const i of at) modTaken[i] = true;
    const fresh = Object.entries(p.value).filter(([k]) => !(k in modifiers));
    if (fresh.length === 0) continue;
    Object.assign(modifiers, Object.fromEntries(fresh));
    modWords.push(...at.map((i) => ws[i]));
  }
  const count = countOf(ws);
  if (count !== undefined) modifiers.count = count;

  if (hits.length === 0) {
    const ignored = ws.filter((_, i) => !modTaken[i]).slice(0, 12);
    // The modifiers are still reported (they shape the neutral motion), but not the motion.
    return { motion: 'idle', recognized: false, matched: modWords.slice(0, 8), modifiers, confidence: 0, ignored, nearest: nearestMotions(tokens) };
  }

  // The strongest phrase wins; among equals, the one mentioned first.
  hits.sort((a, b) => b.entry.weight - a.entry.weight || a.position - b.position);
  const best = hits[0];
  const mods: Modifiers = { ...best.entry.implies, ...modifiers };
  const motion = resolve(best.entry.head, mods);
  const rivals = new Set(hits.map((h) => resolve(h.entry.head, mods)).filter((m) => m !== motion)).size;
  const base = best.entry.weight >= 1.5 ? 0.95 : best.entry.weight >= 1 ? 0.85 : best.entry.weight >= 0.8 ? 0.75 : 0.5;
  const confidence = Math.round(base * Math.pow(0.85, rivals) * 100) / 100;
  const matched = [...best.words, ...modWords.filter((w) => !best.words.includes(w))].slice(0, 8);
  const ignored = ws.filter((_, i) => !taken[i] && !modTaken[i] && !(count !== undefined && isCountWord(ws, i))).slice(0, 12);
  return { motion, recognized: true, matched, modifiers: mods, confidence, ignored };
}

/** Whether word i of the prompt is part of a repetition count ("twice", "3 times"). */
function isCountWord(ws: readonly string[], i: number): boolean {
  const w = ws[i];
  if (w === 'once' || w === 'twice' || w === 'thrice' || w === 'times' || w === 'time') return true;
  return ws[i + 1] === 'times' || ws[i + 1] === 'time';
}

/** Edit distance of two short strings, a swap of neighbours counting as one edit ("wlak" is 1 from "walk"). */
function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let before = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  let cur = new Array<number>(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2] + 1);
      cur[j] = d;
    }
    [before, prev, cur] = [prev, cur, before];
  }
  return prev[b.length];
}

/** Words too common to say anything about the motion. */
const STOPWORDS = new Set(['the', 'and', 'for', 'with', 'from', 'into', 'onto', 'that', 'this', 'then', 'their', 'his', 'her', 'its', 'they', 'she', 'him', 'who', 'while', 'very', 'some', 'person', 'man', 'woman', 'someone', 'character', 'guy', 'girl', 'boy']);

/** Similarity 0..1 of two word stems: 1 − edit distance / longer length, with a bonus for a shared prefix of 4+. */
function similarity(a: string, b: string): number {
  const n = Math.max(a.length, b.length);
  if (n === 0) return 0;
  let s = 1 - editDistance(a, b) / n;
  if (a.length >= 4 && b.length >= 4 && a.slice(0, 4) === b.slice(0, 4)) s = Math.max(s, 0.6);
  return s;
}

/** Every single-word stem of the vocabulary with the motion it stands for (a word family resolved plainly). */
const VOCABULARY_STEMS: readonly { stem: string; motion: MotionId }[] = (() => {
  const out: { stem: string; motion: MotionId }[] = [];
  const seen = new Set<string>();
  for (const p of MOTION_PHRASES) {
    const motion = resolve(p.value.head, p.value.implies ?? {});
    for (const st of p.stems) {
      const key = `${st}:${motion}`;
      if (st.length < 3 || seen.has(key)) continue;
      seen.add(key);
      out.push({ stem: st, motion });
    }
  }
  return out;
})();

/**
 * The known motions closest to a prompt nothing matched: each motion scores the best similarity of any
 * of its vocabulary words to any prompt word (typos such as "wlak" or "jumpng" score high); the three
 * best are returned, with the plain idle, walk and wave filling in when nothing is close.
 */
function nearestMotions(tokens: readonly string[], n = 3): MotionId[] {
  const score = new Map<MotionId, number>();
  for (const t of tokens.slice(0, 40)) {
    if (t.length < 3 || STOPWORDS.has(t)) continue;
    for (const v of VOCABULARY_STEMS) {
      const s = similarity(t, v.stem);
      if (s > (score.get(v.motion) ?? 0)) score.set(v.motion, s);
    }
  }
  const ranked = [...score.entries()].filter(([, s]) => s >= 0.34).sort((a, b) => b[1] - a[1] || MOTION_IDS.indexOf(a[0]) - MOTION_IDS.indexOf(b[0])).map(([m]) => m);
  for (const fill of ['idle', 'walk', 'wave'] as const) if (!ranked.includes(fill)) ranked.push(fill);
  return ranked.slice(0, n);
}

/* ------------------------------------------------------------------------------------------------ */
/* Poses: the vocabulary of `pose` segments (one frame from a prompt), apart from the motion vocabulary. */

export const POSE_IDS = [
  't_pose', 'a_pose', 'standing', 'sitting', 'kneeling', 'crouching', 'arms_raised', 'pointing', 'hands_on_hips',
  'arms_crossed', 'waving', 'saluting', 'lying_down', 'hands_behind_back', 'hands_clasped',
] as const;
export type PoseId = (typeof POSE_IDS)[number];

/** [pose, weight, comma-separated phrases]: 1.5 a specific phrase, 1 the pose's own words, 0.8 a synonym. */
const POSE_VOCABULARY: readonly [PoseId, number, string][] = [
  ['t_pose', 1.5, 't pose, t-pose, tpose, t stance, bind pose, arms out to the side, arms outstretched, arms spread, arms horizontal, arms straight out'],
  ['a_pose', 1.5, 'a pose, a-pose, apose, a stance, arms at 45 degrees, arms angled down'],
  ['standing', 1, 'stand, standing, stood, upright, neutral, rest pose, at rest, idle, relaxed, attention'],
  ['sitting', 1, 'sit, sitting, seated, sat, sitting on a chair, on a chair, sit down, chair'],
  ['kneeling', 1, 'kneel, kneeling, knelt, on one knee, on a knee, on his knee, on her knee, genuflect, propose'],
  ['crouching', 1, 'crouch, crouching, crouched, squat, squatting, squatted, hunker, duck, low stance'],
  ['arms_raised', 1.5, 'arms raised, arms up, raised arms, hands up, hands raised, arms overhead, hands in the air, arms in the air, hands above head, arms above head, victory, surrender, hooray, cheer, celebrate'],
  ['pointing', 1, 'point, pointing, pointed, points ahead, point forward, indicate, aim finger'],
  ['hands_on_hips', 1.5, 'hands on hips, hands on his hips, hands on her hips, hand on hip, akimbo, arms akimbo, superhero, power pose'],
  ['arms_crossed', 1.5, 'arms crossed, crossed arms, arms folded, folded arms, fold arms, cross arms, crossing arms, cross his arms, cross her arms'],
  ['waving', 1, 'wave, waving, waved, hello, greet, greeting, hi, bye, goodbye'],
  ['saluting', 1, 'salute, saluting, saluted, military salute'],
  ['lying_down', 1.5, 'lying down, lie down, lying, lie, laying, lay down, lying on the back, flat on the back, on his back, on her back, on the floor, supine, recline, reclining'],
  ['hands_behind_back', 1.5, 'hands behind back, hands behind his back, hands behind her back, arms behind back, at ease, parade rest'],
  ['hands_clasped', 1.5, 'hands clasped, clasped hands, hands together in front, hands folded, folded hands'],
];

const POSE_PHRASES: Phrase<{ pose: PoseId; weight: number }>[] = POSE_VOCABULARY.flatMap(([pose, weight, list]) => phrases(list, { pose, weight })).sort(byLength);

const POSE_STEMS: readonly { stem: string; pose: PoseId }[] = (() => {
  const out: { stem: string; pose: PoseId }[] = [];
  const seen = new Set<string>();
  for (const p of POSE_PHRASES) {
    for (const st of p.stems) {
      const key = `${st}:${p.value.pose}`;
      if (st.length < 3 || seen.has(key) || STOPWORDS.has(st)) continue;
      seen.add(key);
      out.push({ stem: st, pose: p.value.pose });
    }
  }
  return out;
})();

/** Words of a pose prompt that say nothing about which pose ("a", "pose", "in", "person"…). */
const POSE_FILLER = new Set(['a', 'an', 'in', 'on', 'of', 'to', 'is', 'pose', 'posing', 'position', 'posture', 'stance', 'strike', 'strik', 'hold', 'holding']);

export interface PoseUnderstanding {
  pose: PoseId;
  /** False when no pose word was found (the pose is then a neutral standing). */
  recognized: boolean;
  /** The prompt words that decided the pose (lower case, at most 8). */
  matched: string[];
  /** 0..1: 0 when nothing was recognized. */
  confidence: number;
  /** The prompt words that named no pose (lower case, at most 12). */
  ignored: string[];
  /** For an unrecognized prompt: the known poses closest to its words (by spelling), best first. */
  nearest?: PoseId[];
}

/**
 * Reads a `pose` segment's prompt: the strongest pose phrase found wins (among equals the first
 * mentioned), as understand() does for motions. An unrecognized prompt answers the neutral standing pose
 * with the nearest poses by spelling, reported like an unrecognized motion prompt.
 */
export function understandPose(prompt: string): PoseUnderstanding {
  const ws = words(prompt).slice(0, 400);
  const tokens = ws.map(stem);
  const taken = tokens.map(() => false);
  const hits: { pose: PoseId; weight: number; position: number; words: string[] }[] = [];
  for (const p of POSE_PHRASES) {
    const at = find(tokens, p.stems, taken);
    if (!at) continue;
    for (const i of at) taken[i] = true;
    hits.push({ pose: p.value.pose, weight: p.value.weight, position: at[0], words: at.map((i) => ws[i]) });
  }
  const ignored = ws.filter((w, i) => !taken[i] && !POSE_FILLER.has(w) && !POSE_FILLER.has(tokens[i])).slice(0, 12);
  if (hits.length === 0) return { pose: 'standing', recognized: false, matched: [], confidence: 0, ignored, nearest: nearestPoses(tokens) };
  hits.sort((a, b) => b.weight - a.weight || a.position - b.position);
  const best = hits[0];
  const rivals = new Set(hits.map((h) => h.pose).filter((p) => p !== best.pose)).size;
  const base = best.weight >= 1.5 ? 0.95 : best.weight >= 1 ? 0.85 : 0.75;
  return { pose: best.pose, recognized: true, matched: best.words.slice(0, 8), confidence: Math.round(base * Math.pow(0.85, rivals) * 100) / 100, ignored };
}

/** The known poses closest by spelling to a prompt nothing matched (standing, t_pose, a_pose filling in). */
function nearestPoses(tokens: readonly string[], n = 3): PoseId[] {
  const score = new Map<PoseId, number>();
  for (const t of tokens.slice(0, 40)) {
    if (t.length < 3 || STOPWORDS.has(t) || POSE_FILLER.has(t)) continue;
    for (const v of POSE_STEMS) {
      const s = similarity(t, v.stem);
      if (s > (score.get(v.pose) ?? 0)) score.set(v.pose, s);
    }
  }
  const ranked = [...score.entries()].filter(([, s]) => s >= 0.34).sort((a, b) => b[1] - a[1] || POSE_IDS.indexOf(a[0]) - POSE_IDS.indexOf(b[0])).map(([p]) => p);
  for (const fill of ['standing', 't_pose', 'a_pose'] as const) if (!ranked.includes(fill)) ranked.push(fill);
  return ranked.slice(0, n);
}
