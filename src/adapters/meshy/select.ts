/**
 * Prompt → library action: Meshy animates only the clips of its library, so each text segment's prompt
 * is matched against action names, categories and a synonym table, deterministically, and a prompt that
 * matches nothing well is refused with close alternatives rather than answered with an arbitrary clip.
 */
import { GatewayError } from '../../spec/errors.js';
import type { ActionLibrary, MeshyAction } from './library.js';

/** Below this score a prompt is refused (MG-PRO-014). */
const MATCH_THRESHOLD = 0.55;

interface RankedAction {
  action_id: number;
  name: string;
  /** 0..1, rounded to 3 decimals. */
  score: number;
  inplace: boolean;
  /** Prompt terms the action matched (stems). */
  matched: string[];
}

interface PromptAnalysis {
  /** The prompt's terms after phrase rewriting, stop words and stemming. */
  terms: string[];
  /** The prompt asks for motion in place ("in place", "on the spot", …). */
  inPlace: boolean;
  ranked: RankedAction[];
}

// ---------------------------------------------------------------------------------------------------
// Words.

/** Light English stemmer: enough to make "waving"/"waves"/"wave" and "running"/"runs"/"run" agree. */
function stem(word: string): string {
  const w = word.toLowerCase();
  const irregular = IRREGULAR[w];
  if (irregular) return irregular;
  const undouble = (s: string) => (/([bdgmnpt])\1$/.test(s) ? s.slice(0, -1) : s);
  let s = w;
  if (s.length > 5 && s.endsWith('ing')) s = undouble(s.slice(0, -3));
  else if (s.length > 4 && s.endsWith('ed')) s = undouble(s.slice(0, -2));
  else if (s.length > 4 && s.endsWith('ily')) s = s.slice(0, -3) + 'y';
  else if (s.length > 4 && s.endsWith('ly')) s = s.slice(0, -2);
  else if (s.length > 4 && s.endsWith('ies')) s = s.slice(0, -3) + 'y';
  else if (s.length > 4 && /(s|x|ch|sh)es$/.test(s)) s = s.slice(0, -2);
  else if (s.length > 3 && s.endsWith('s') && !s.endsWith('ss')) s = s.slice(0, -1);
  if (s.length > 3 && s.endsWith('e')) s = s.slice(0, -1);
  return s;
}

const IRREGULAR: Record<string, string> = {
  ran: 'run', sat: 'sit', fell: 'fall', fallen: 'fall', threw: 'throw', thrown: 'throw', swam: 'swim',
  spun: 'spin', lay: 'lie', lying: 'lie', lies: 'lie', dying: 'die', died: 'die', dies: 'die', got: 'get',
  getting: 'get', hit: 'hit', hits: 'hit', hitting: 'hit', took: 'tak', leapt: 'leap', jumping: 'jump',
  stood: 'stand', fought: 'fight', caught: 'catch', men: 'man', women: 'woman', feet: 'foot', stairs: 'stair',
  punches: 'punch', boxing: 'box', situps: 'situp', dancing: 'danc', dance: 'danc', dances: 'danc',
};

/** Words that carry no motion (dropped from prompts and names alike). */
const STOP = new Set(
  ('a an the is are be being been am was were and then to of on in at with while from for by into onto as ' +
    'his her their its he she they it him them this that these those person someone somebody character ' +
    'guy human people figure player do does doing did very really just some who which slightly bit lot ' +
    'start starts begin begins continue continues keep keeps again time times').split(' '),
);
const MALE = new Set(['man', 'male', 'boy', 'gentleman', 'm']);
const FEMALE = new Set(['woman', 'female', 'girl', 'lady', 'f']);
/** Name words that do not make an action more specific (they never count against precision). */
const GENERIC = new Set(['basic', 'regular', 'simpl', 'normal', 'standard', 'casual', 'loop', 'forward', 'gestur', 'transition', 'left', 'right', 'hand', 'one', 'both']);
/** Prompt words that matter less than the verbs and nouns around them. */
const WEAK = new Set(['up', 'down', 'over', 'around', 'forward', 'both', 'one', 'two', 'hand', 'arm', 'quick', 'slow', 'fast']);

/** Name words of actions that travel over the ground. */
const TRAVEL = new Set(['walk', 'run', 'strut', 'sprint', 'jog', 'crawl', 'charg', 'stagger', 'skip']);

/** Misspellings and run-together words of the library's names. */
const NAME_FIXES: Record<string, string> = {
  soell: 'spell', danc: 'dance', rool: 'roll', rght: 'right', gentlemans: 'gentleman', sneaky: 'sneak',
  behit: 'hit', runfast: 'run fast', situps: 'situp', pushup: 'push up', backflip: 'backflip', lsa2: '',
};

/** Category and sub-category names as words. */
const CATEGORY_WORDS: Record<string, string> = {
  DailyActions: 'daily', WalkAndRun: 'walk run', Fighting: 'fight combat', Dancing: 'dance', BodyMovements: 'body',
  Idle: 'idle', Walking: 'walk', Running: 'run', LookingAround: 'look around', AttackingwithWeapon: 'attack weapon',
  GettingHit: 'hit reaction', Dying: 'die dead', Transitioning: 'transition', Acting: 'act', Interacting: 'interact',
  Climbing: 'climb', FallingFreely: 'fall', HangingfromLedge: 'hang ledge', Jumping: 'jump', PerformingStunt: 'stunt',
  VaultingOverObstacle: 'vault obstacle', Drinking: 'drink', PickingUpItem: 'pick up item', Pushing: 'push',
  Sleeping: 'sleep', WorkingOut: 'workout exercise', Blocking: 'block', CastingSpell: 'cast spell', Punching: 'punch',
  CrouchWalking: 'crouch walk', Swimming: 'swim', TurningAround: 'turn around',
};

/**
 * Prompt word → phrases that mean the same motion here, comma-separated (written plainly; stemmed at
 * load). A phrase counts in proportion to how many of its words the action's name has.
 */
const SYNONYMS: Record<string, string> = {
  sprint: 'run fast, dash', dash: 'run fast, sprint', jog: 'run', stroll: 'casual walk', amble: 'walk',
  wander: 'walk', march: 'walk', greet: 'wave hello', greeting: 'wave hello', hi: 'wave hello',
  hey: 'wave hello', bye: 'wave', goodbye: 'wave', farewell: 'wave',
  attack: 'slash, strike, combo, swing, chop, thrust', strike: 'attack, slash, punch', slash: 'sword attack',
  sword: 'blade, weapon', blade: 'sword', weapon: 'sword, axe, gun, rifle', punch: 'jab, hook, uppercut, fist',
  box: 'punch', fight: 'combat, punch, box', sit: 'seat, chair', seat: 'sit', seated: 'sit', chair: 'sit',
  sleep: 'doze', nap: 'sleep, doze', doze: 'sleep', dance: 'groove', boogie: 'dance, groove', groove: 'dance',
  die: 'dead, death, dying', death: 'die, dead', dead: 'die', hurt: 'injured, limp', injured: 'limp, hurt',
  wounded: 'injured, limp', limp: 'injured', leap: 'jump', hop: 'jump', celebrate: 'cheer, victory',
  celebration: 'cheer, victory', win: 'victory, cheer', victory: 'cheer', cheer: 'victory', mad: 'angry',
  furious: 'angry', talk: 'chat, conversation, discuss', speak: 'talk, chat', chat: 'talk', conversation: 'talk, chat',
  telephone: 'phone', search: 'look, scan', grab: 'pick, collect', toss: 'throw', shoot: 'shot, gun, fire',
  fire: 'shoot', gun: 'rifle, shoot', pistol: 'gun', rifle: 'gun', archery: 'bow, arrow', arrow: 'bow, archery',
  sneak: 'cautious crouch', stealth: 'sneak, cautious crouch', tiptoe: 'sneak', exercise: 'workout', workout: 'exercise',
  train: 'exercise, workout', twirl: 'spin', stumble: 'stagger', stagger: 'stumble', drunk: 'stagger, stumble, unsteady',
  zombie: 'mummy, monster', monster: 'zombie, orc', mummy: 'zombie', confident: 'proud strut', catwalk: 'strut, stage walk',
  somersault: 'flip, backflip', evade: 'dodge', defend: 'block, parry', parry: 'block', magic: 'spell, mage, cast',
  wizard: 'mage, spell', cast: 'spell', breathe: 'breath', applaud: 'clap', applause: 'clap', sip: 'drink',
  nod: 'agree', kneel: 'knee', tired: 'catch breath', exhausted: 'catch breath', pushup: 'push up',
  yell: 'shout', scream: 'shout', shout: 'scream',
};

/** Phrases rewritten before tokenising (longest first, on the lower-cased prompt). */
const PHRASES: Array<[RegExp, string]> = [
  [/\b(push[\s-]?ups?)\b/g, ' push up '],
  [/\b(sit[\s-]?ups?)\b/g, ' situp '],
  [/\b(star jumps?|jumping[\s-]jacks?)\b/g, ' jumping jacks '],
  [/\b(hip[\s-]?hop)\b/g, ' hip hop '],
  [/\b(sits? down|sitting down|sat down|takes? a seat|taking a seat)\b/g, ' sit standtosit '],
  [/\b(stands? still|standing still|stands? idle|standing idle|stands? around|standing around)\b/g, ' idle '],
  [/\b(shoots? (an? |the )?(bow|arrows?)|shooting (an? |the )?(bow|arrows?)|archery)\b/g, ' archery shot '],
  [/\b(stands? up|standing up|gets? up|getting up)\b/g, ' stand up '],
  [/\b(says? (hi|hello)|waves? hello|waving hello)\b/g, ' wave hello '],
  [/\b(gets? hit|getting hit|being hit|is hit|takes? a hit)\b/g, ' hit reaction '],
  [/\b(thumbs? up)\b/g, ' thumb up '],
  [/\b(skipping rope|jumps? rope|jumping rope)\b/g, ' jump rope '],
  [/\b(back[\s-]?flips?)\b/g, ' backflip '],
];

/** Phrases asking for motion in place. */
const IN_PLACE = /\b(in[\s-]?place|on the spot|on (a|the) treadmill|stationary|without moving|not moving)\b/g;

/** Splits a library name like `ForwardLeft_Run_Fight_inplace` into words. */
function nameWords(name: string): string[] {
  const words = name
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/([A-Za-z])(\d)/g, '$1 $2')
    .split(/[_\s]+/)
    .map((w) => w.toLowerCase())
    .flatMap((w) => (w in NAME_FIXES ? NAME_FIXES[w].split(' ') : [w]))
    .filter(Boolean);
  return words;
}

/** `Stand_to_Sit` and `Sit_to_Stand` share their words; a compound word (`standtosit`) keeps them apart. */
function compoundWords(words: string[]): string[] {
  const out: string[] = [];
  for (let i = 1; i + 1 < words.length; i++) if (words[i] === 'to') out.push(`${words[i - 1]}to${words[i + 1]}`);
  return out;
}

/** Prompt text → lower-case words, phrases rewritten, in-place requests taken out. */
function promptWords(prompt: string): { words: string[]; inPlace: boolean } {
  let text = ` ${prompt.normalize('NFKC').toLowerCase().replace(/[’']/g, '')} `;
  let inPlace = false;
  text = text.replace(IN_PLACE, () => {
    inPlace = true;
    return ' ';
  });
  for (const [re, to] of PHRASES) text = text.replace(re, to);
  return { words: text.split(/[^\p{L}\p{N}]+/u).filter(Boolean), inPlace };
}

// ---------------------------------------------------------------------------------------------------
// The index.

interface IndexedAction {
  action: MeshyAction;
  /** Stems of the name's motion words. */
  name: Set<string>;
  /** Of those, the ones precision counts. */
  specific: string[];
  category: Set<string>;
  gender: 'male' | 'female' | null;
  inplace: boolean;
  /** Trailing variant number (`Idle_03` → 3), 0 for none. */
  variant: number;
  /** Name without `_inplace`: an action and its in-place twin share it. */
  base: string;
  /** Travels over the ground (walks, runs, crawls…): wrong when motion in place is asked for. */
  travels: boolean;
}

interface ActionIndex {
  entries: IndexedAction[];
  /** Every stem that appears in a name, a category or the synonym table. */
  vocabulary: Set<string>;
  /** Prompt stem → synonym phrases (lists of stems). */
  synonyms: Map<string, string[][]>;
  baseNames: Set<string>;
}

const indexes = new WeakMap<ActionLibrary, ActionIndex>();

/** Builds (once per library) the stems of every action and of the synonym table. */
function indexLibrary(lib: ActionLibrary): ActionIndex {
  const existing = indexes.get(lib);
  if (existing) return existing;
  const entries = lib.actions.map((action): IndexedAction => {
    const words = nameWords(action.name);
    let inplace = false;
    let variant = 0;
    let gender: IndexedAction['gender'] = null;
    const stems: string[] = [];
    words.forEach((w, i) => {
      if (w === 'inplace') inplace = true;
      else if (/^\d+$/.test(w)) variant = i === words.length - 1 || words[i + 1] === 'inplace' ? Number(w) : variant;
      else if (MALE.has(w) && (w !== 'm' || i > 0)) gender = 'male';
      else if (FEMALE.has(w) && (w !== 'f' || i > 0)) gender = 'female';
      else if (!STOP.has(w)) stems.push(stem(w));
    });
    stems.push(...compoundWords(words));
    const category = new Set(
      [CATEGORY_WORDS[action.category] ?? action.category, CATEGORY_WORDS[action.subcategory] ?? action.subcategory]
        .join(' ')
        .split(/\s+/)
        .map(stem),
    );
    const name = new Set(stems);
    return {
      action,
      name,
      specific: [...name].filter((s) => !GENERIC.has(s)),
      category,
      gender,
      inplace,
      variant,
      base: action.name.replace(/_inplace$/i, '').toLowerCase(),
      travels: ['Walking', 'Running', 'CrouchWalking', 'Swimming'].includes(action.subcategory) || [...name].some((s) => TRAVEL.has(s)),
    };
  });
  const synonyms = new Map<string, string[][]>();
  for (const [word, alts] of Object.entries(SYNONYMS)) {
    const key = stem(word);
    const phrases = alts.split(',').map((p) => p.trim().split(/\s+/).map(stem));
    synonyms.set(key, [...(synonyms.get(key) ?? []), ...phrases]);
  }
  const vocabulary = new Set<string>();
  for (const e of entries) for (const s of [...e.name, ...e.category]) vocabulary.add(s);
  for (const [k, v] of synonyms) {
    vocabulary.add(k);
    for (const s of v.flat()) vocabulary.add(s);
  }
  for (const w of ['male', 'female']) vocabulary.add(w);
  const baseNames = new Set(entries.filter((e) => !e.inplace).map((e) => e.base));
  const index: ActionIndex = { entries, vocabulary, synonyms, baseNames };
  indexes.set(lib, index);
  return index;
}

function editDistanceAtMostOne(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  let j = 0;
  let edits = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      i++;
      j++;
      continue;
    }
    if (++edits > 1) return false;
    if (a.length > b.length) i++;
    else if (b.length > a.length) j++;
    else {
      i++;
      j++;
    }
  }
  return edits + (a.length - i) + (b.length - j) <= 1;
}

// ---------------------------------------------------------------------------------------------------
// Scoring.

interface Term {
  stem: string;
  weight: number;
  phrases: string[][];
}

/**
 * Scores every action for a prompt and sorts them (score descending, then action id ascending, so the
 * order is total and deterministic). A term's match is 1 in the action's name, up to 0.9 through a
 * synonym phrase, 0.7 for a one-letter typo, 0.45 in its category; score = 0.65 × weighted coverage of
 * the prompt's terms + 0.35 × precision (share of the name's specific words the prompt asked for),
 * nudged by gender words, variant numbers and the in-place preference.
 */
export function analysePrompt(lib: ActionLibrary, prompt: string, opts: { inPlace?: boolean } = {}): PromptAnalysis {
  const index = indexLibrary(lib);
  const { words, inPlace: saysInPlace } = promptWords(prompt);
  const inPlace = saysInPlace || opts.inPlace === true;
  let gender: 'male' | 'female' | null = null;
  const terms: Term[] = [];
  const seen = new Set<string>();
  for (const w of words) {
    if (STOP.has(w) || /^\d+$/.test(w)) continue;
    if (MALE.has(w) && w.length > 1) {
      gender = 'male';
      continue;
    }
    if (FEMALE.has(w) && w.length > 1) {
      gender = 'female';
      continue;
    }
    const s = stem(w);
    if (seen.has(s)) continue;
    seen.add(s);
    // Words the library never uses cannot tell actions apart: they count, but little.
    const weight = !index.vocabulary.has(s) ? 0.2 : GENERIC.has(s) ? 0.25 : WEAK.has(s) ? 0.5 : 1;
    terms.push({ stem: s, weight, phrases: index.synonyms.get(s) ?? [] });
  }
  const total = terms.reduce((n, t) => n + t.weight, 0);
  const scored: Array<RankedAction & { raw: number }> = [];
  for (const e of index.entries) {
    let covered = 0;
    const matched: string[] = [];
    const hitStems = new Set<string>();
    for (const t of terms) {
      let m = 0;
      if (e.name.has(t.stem)) {
        m = 1;
        hitStems.add(t.stem);
      }
      for (const phrase of t.phrases) {
        const hits = phrase.filter((w) => e.name.has(w));
        for (const h of hits) hitStems.add(h);
        m = Math.max(m, (0.9 * hits.length) / phrase.length);
      }
      if (m === 0 && t.stem.length >= 5) {
        for (const n of e.name) {
          if (n.length >= 5 && editDistanceAtMostOne(t.stem, n)) {
            m = 0.7;
            hitStems.add(n);
          }
        }
      }
      if (m === 0 && (e.category.has(t.stem) || t.phrases.some((p) => p.length === 1 && e.category.has(p[0])))) m = 0.45;
      if (m > 0) matched.push(t.stem);
      covered += t.weight * m;
    }
    if (covered === 0 || total === 0) continue;
    const coverage = covered / total;
    // Weak name words (fast, slow, up…) count half: "run" fits `RunFast` better than `BackLeft_Run`.
    let want = 0;
    let got = 0;
    for (const s of e.specific) {
      const w = WEAK.has(s) ? 0.5 : 1;
      want += w;
      if (hitStems.has(s)) got += w;
    }
    const precision = want > 0 ? got / want : 1;
    let raw = 0.65 * coverage + 0.35 * precision - 0.002 * e.variant;
    if (gender && e.gender) raw += gender === e.gender ? 0.02 : -0.02;
    if (e.inplace) raw += inPlace ? 0.05 : -0.3;
    else if (inPlace && e.travels) raw -= hasInplaceTwin(index, e.base) ? 0.1 : 0.2;
    scored.push({ action_id: e.action.action_id, name: e.action.name, score: round3(Math.max(0, Math.min(1, raw))), raw, inplace: e.inplace, matched });
  }
  // Sort on the unclamped score: the in-place bonus must still order actions that both reach 1.
  scored.sort((a, b) => b.raw - a.raw || a.action_id - b.action_id);
  const ranked: RankedAction[] = scored.map(({ raw: _raw, ...r }) => r);
  return { terms: terms.map((t) => t.stem), inPlace, ranked };
}

const twinCache = new WeakMap<ActionIndex, Set<string>>();
function hasInplaceTwin(index: ActionIndex, base: string): boolean {
  let set = twinCache.get(index);
  if (!set) {
    set = new Set(index.entries.filter((e) => e.inplace).map((e) => e.base));
    twinCache.set(index, set);
  }
  return set.has(base);
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Close alternatives for a refused prompt: the best-scoring actions, else the names that look most alike. */
function alternativesFor(lib: ActionLibrary, prompt: string, ranked: RankedAction[]): Array<{ action_id: number; name: string; score: number }> {
  const top = ranked.filter((r) => !r.inplace).slice(0, 5).map(({ action_id, name, score }) => ({ action_id, name, score }));
  if (top.length >= 5) return top;
  const grams = (s: string) => {
    const t = s.toLowerCase().replace(/[^a-z]/g, '');
    const out = new Set<string>();
    for (let i = 0; i + 3 <= t.length; i++) out.add(t.slice(i, i + 3));
    return out;
  };
  const p = grams(prompt);
  const have = new Set(top.map((t) => t.action_id));
  const similar = lib.actions
    .filter((a) => !/_inplace$/i.test(a.name) && !have.has(a.action_id))
    .map((a) => {
      const g = grams(a.name);
      let common = 0;
      for (const x of g) if (p.has(x)) common++;
      return { action_id: a.action_id, name: a.name, score: 0, sim: common / (g.size + p.size - common || 1) };
    })
    .sort((a, b) => b.sim - a.sim || a.action_id - b.action_id)
    .slice(0, 5 - top.length)
    .map(({ action_id, name, score }) => ({ action_id, name, score }));
  return [...top, ...similar];
}

export interface ChosenAction {
  action_id: number;
  name: string;
  score: number;
  inplace: boolean;
  /** How the action was chosen. */
  via: 'prompt' | 'extension' | 'unconditioned' | 'motion_reference';
  /** True when there were fewer good matches than samples and this one is reused. */
  repeated?: boolean;
}

/**
 * The `count` best distinct actions for a prompt (an action and its in-place twin are one action). When
 * fewer than `count` clear the threshold, the good ones are reused in rank order (marked `repeated`).
 * Throws MG-PRO-014 (400) with `details.alternatives` when none does.
 */
export function chooseActions(lib: ActionLibrary, prompt: string, opts: { inPlace: boolean; count: number; segment: number }): ChosenAction[] {
  const analysis = analysePrompt(lib, prompt, { inPlace: opts.inPlace });
  const good: RankedAction[] = [];
  const bases = new Set<string>();
  for (const r of analysis.ranked) {
    if (r.score < MATCH_THRESHOLD || good.length >= opts.count) break;
    const base = r.name.replace(/_inplace$/i, '').toLowerCase();
    if (bases.has(base)) continue;
    bases.add(base);
    good.push(r);
  }
  if (good.length === 0) {
    throw new GatewayError('MG-PRO-014', `The prompt of segment ${opts.segment} does not match any motion of the Meshy animation library well enough.`, {
      details: {
        provider: 'meshy',
        segment: opts.segment,
        best_score: analysis.ranked[0]?.score ?? 0,
        threshold: MATCH_THRESHOLD,
        alternatives: alternativesFor(lib, prompt, analysis.ranked),
        hint: 'Rephrase with a library motion (e.g. "walk", "wave hello", "sword attack"), or pass extensions.meshy.action_id.',
      },
    });
  }
  return Array.from({ length: opts.count }, (_, i) => {
    const r = good[i % good.length];
    return { action_id: r.action_id, name: r.name, score: r.score, inplace: r.inplace, via: 'prompt' as const, ...(i >= good.length ? { repeated: true } : {}) };
  });
}

/** The in-place twin of an action, when the library has one (for explicit actions under a root path). */
export function inplaceTwin(lib: ActionLibrary, action: MeshyAction): MeshyAction | undefined {
  if (/_inplace$/i.test(action.name)) return action;
  const want = `${action.name}_inplace`.toLowerCase();
  return lib.actions.find((a) => a.name.toLowerCase() === want);
}
