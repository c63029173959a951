/**
 * Prompt understanding for the procedural model: maps an English prompt to one of its motions plus
 * modifiers (pace, side, direction, mood, size, count) by matching word stems against a synonym table.
 * Case, punctuation, inflection and word order do not matter; a prompt it cannot place becomes an idle.
 */

export const MOTION_IDS = [
  'idle', 'walk', 'jog', 'run', 'walk_backward', 'sidestep_left', 'sidestep_right', 'march', 'sneak',
  'turn_left', 'turn_right', 'turn_around', 'jump', 'wave', 'sit_down', 'stand_up', 'crouch', 'squat',
  'kick', 'punch', 'bow', 'dance', 'clap', 'cheer', 'nod', 'shake_head', 'look_around', 'stretch',
  'throw', 'shrug', 'point',
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
  ['walk', 1, 'walk, walk forward, go forward, move forward, step forward, stroll, amble, wander, saunter, stride, promenade, hike, mosey, meander, waddle, tread, shuffle, limp, go for a walk, take a walk'],
  ['walk', 0.9, 'trudge, plod, drag', { mood: 'tired', pace: 'slow' }],
  ['walk', 0.9, 'stomp, storm', { mood: 'angry' }],
  ['walk', 0.9, 'strut, swagger, parade', { mood: 'proud' }],
  ['walk', 0.9, 'skip', { mood: 'happy' }],
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
  ['stand_up', 1.6, 'stand up, get up, rise, rise up, stand from, get to feet, get on feet, stand back up'],
  ['crouch', 1, 'crouch, duck, cower, hunker, get down, get low, hide, take cover, bend down, crouch down'],
  ['crouch', 0.6, 'kneel, kneel down'],
  ['squat', 1, 'squat, do squats, knee bend, deep knee bend, squat down, squat exercise'],
  ['kick', 1, 'kick, front kick, karate kick, kick the ball, kick a ball, soccer kick, punt, roundhouse'],
  ['punch', 1, 'punch, jab, box, boxing, shadow box, shadowbox, throw a punch, throw punches, uppercut, strike, hit, fist fight, fight, spar'],
  ['bow', 1, 'bow, take a bow, bow down, curtsy, curtsey, bend over, bend forward, bow politely'],
  ['dance', 1, 'dance, boogie, groove, disco, bust a move, salsa, hip hop, party, shake it, jive, rave, shimmy, two step, step touch'],
  ['clap', 1, 'clap, applaud, applause, clap hands, give a round of applause, clapping'],
  ['cheer', 1, 'cheer, celebrate, arms up, raise arms, raise both arms, raise hands, raise both hands, hands up, hands in the air, victory, hooray, hurray, hurrah, yay, triumph, rejoice, fist pump, pump fist, win'],
  ['nod', 1, 'nod, nod yes, say yes, agree, nod head, nod along'],
  ['nod', 0.5, 'yes, yeah, okay'],
  ['shake_head', 1.5, 'shake head, head shake, say no, disagree, shake no, refuse'],
  ['look_around', 1.2, 'look around, look about, turn head, look over shoulder, look behind, look left and right, glance around, scan the area'],
  ['look_around', 0.7, 'look, glance, scan, search, survey, peer, scout, gaze, watch'],
  ['stretch', 1, 'stretch, warm up, reach up, reach for the sky, limber up, yawn, stretch arms'],
  ['throw', 1, 'throw, toss, pitch, hurl, fling, lob, throw a ball, throw the ball'],
  ['shrug', 1, 'shrug, dont know, don t know, do not know, who knows, whatever, shrug shoulders'],
  ['point', 1, 'point, point at, point forward, indicate, point to, aim'],
  ['move', 0.5, 'move, go, step, come, head, proceed, travel'],
];

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
      if (m.sideways) return side('left') === 'left' ? 'sidestep_left' : 'sidestep_right';
      if (head === 'move' && m.side && !m.circle) return m.side === 'left' ? 'sidestep_left' : 'sidestep_right';
      return 'walk';
    case 'run':
      if (m.backward && !m.forward) return 'walk_backward';
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
    return { motion: 'idle', recognized: false, matched: [], modifiers: {}, confidence: 0 };
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
  return { motion, recognized: true, matched, modifiers: mods, confidence };
}
