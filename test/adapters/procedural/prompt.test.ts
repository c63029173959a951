import { describe, expect, it } from 'vitest';
import { MOTION_IDS, stem, understand, words, type MotionId } from '../../../src/adapters/procedural/prompt.js';

const TABLE: [string, MotionId][] = [
  ['A person walks forward.', 'walk'],
  ['strolling through the park', 'walk'],
  ['The man AMBLES along', 'walk'],
  ['a tired person trudges home', 'walk'],
  ['someone is walking', 'walk'],
  ['jog', 'jog'],
  ['a person is jogging in place', 'jog'],
  ['run slowly', 'jog'],
  ['RUN!!!', 'run'],
  ['she sprints to the finish', 'run'],
  ['dash', 'run'],
  ['walk backwards', 'walk_backward'],
  ['backwards, walking', 'walk_backward'],
  ['takes a few steps back', 'walk_backward'],
  ['backpedal', 'walk_backward'],
  ['strafe left', 'sidestep_left'],
  ['sidestep to the right', 'sidestep_right'],
  ['shuffle sideways to the right', 'sidestep_right'],
  ['steps to the left', 'sidestep_left'],
  ['marching like a soldier', 'march'],
  ['tiptoe', 'sneak'],
  ['sneaks up on someone', 'sneak'],
  ['turn left', 'turn_left'],
  ['Turns to the right.', 'turn_right'],
  ['to the left, turn', 'turn_left'],
  ['turn around', 'turn_around'],
  ['the person turns around and looks back', 'turn_around'],
  ['spin', 'turn_around'],
  ['jump', 'jump'],
  ['hop', 'jump'],
  ['leap forward', 'jump'],
  ['jumps three times', 'jump'],
  ['wave hello', 'wave'],
  ['greets a friend', 'wave'],
  ['say hi', 'wave'],
  ['waves goodbye with the left hand', 'wave'],
  ['sit down', 'sit_down'],
  ['take a seat', 'sit_down'],
  ['sitting on a chair', 'sit_down'],
  ['stand up', 'stand_up'],
  ['gets up from the chair', 'stand_up'],
  ['crouch', 'crouch'],
  ['ducks', 'crouch'],
  ['do squats', 'squat'],
  ['kick', 'kick'],
  ['kicks with the left leg', 'kick'],
  ['punch', 'punch'],
  ['boxing', 'punch'],
  ['throw a punch', 'punch'],
  ['bow', 'bow'],
  ['takes a bow', 'bow'],
  ['dance', 'dance'],
  ['boogie', 'dance'],
  ['dancing happily', 'dance'],
  ['groove to the music', 'dance'],
  ['clap', 'clap'],
  ['applaud', 'clap'],
  ['cheer', 'cheer'],
  ['celebrates a goal', 'cheer'],
  ['raise both arms', 'cheer'],
  ['nods yes', 'nod'],
  ['shakes his head no', 'shake_head'],
  ['look around', 'look_around'],
  ['stretch', 'stretch'],
  ['warm up', 'stretch'],
  ['throws a ball', 'throw'],
  ['toss', 'throw'],
  ['shrug', 'shrug'],
  ['points to the left', 'point'],
  ['idle', 'idle'],
  ['stand still', 'idle'],
  ['wait', 'idle'],
];

describe('understand(): prompts to motions', () => {
  it(`maps ${TABLE.length} prompts (synonyms, inflections, case, punctuation, word order) to their motions`, () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(30);
    for (const [prompt, motion] of TABLE) {
      const u = understand(prompt);
      expect({ prompt, motion: u.motion, recognized: u.recognized }).toEqual({ prompt, motion, recognized: true });
      expect(u.confidence).toBeGreaterThan(0);
      expect(u.confidence).toBeLessThanOrEqual(1);
      expect(u.matched.length).toBeGreaterThan(0);
    }
  });

  it('reads modifiers: pace, side, direction, mood, size, count', () => {
    expect(understand('walk slowly').modifiers.pace).toBe('slow');
    expect(understand('run quickly').modifiers.pace).toBe('fast');
    expect(understand('sprint').modifiers.pace).toBe('fast');
    expect(understand('wave with the right hand').modifiers.side).toBe('right');
    expect(understand('kick with the left foot').modifiers.side).toBe('left');
    expect(understand('leap').modifiers.forward).toBe(true);
    expect(understand('march in place').modifiers.inPlace).toBe(true);
    expect(understand('walk happily').modifiers.mood).toBe('happy');
    expect(understand('a sad walk').modifiers.mood).toBe('sad');
    expect(understand('angrily stomps').modifiers.mood).toBe('angry');
    expect(understand('a big jump').modifiers.size).toBe('big');
    expect(understand('a slight bow').modifiers.size).toBe('small');
    expect(understand('jump twice').modifiers.count).toBe(2);
    expect(understand('punch 4 times').modifiers.count).toBe(4);
    expect(understand('walk in a circle').modifiers.circle).toBe(true);
  });

  it('an unknown prompt becomes an idle, says so, lists the words it ignored and the three nearest motions', () => {
    for (const prompt of ['xyzzy plugh', 'the quick brown fox', '', '   ', '¡Hola, qué tal!', '12345']) {
      const u = understand(prompt);
      expect(u).toMatchObject({ motion: 'idle', recognized: false, confidence: 0 });
      // Every word is either a modifier it understood ("quick") or reported as ignored.
      expect([...u.matched, ...u.ignored].sort()).toEqual(words(prompt).sort());
      expect(u.nearest).toHaveLength(3);
      for (const m of u.nearest ?? []) expect(MOTION_IDS).toContain(m);
    }
  });

  it('reports only the matched keywords, never the whole prompt', () => {
    const prompt = 'After a long and exhausting day at the office, the tired man slowly walks home through the rain';
    const u = understand(prompt);
    expect(u.motion).toBe('walk');
    expect(u.matched.length).toBeLessThanOrEqual(8);
    expect(u.matched).toContain('walks');
    expect(u.matched.join(' ').length).toBeLessThan(prompt.length / 2);
    // The ignored words are reported, but at most 12 of them: a long prompt is never echoed whole.
    expect(u.ignored.length).toBeLessThanOrEqual(12);
    expect(u.ignored).toContain('office');
    expect(u.ignored).not.toContain('walks');
    expect(JSON.stringify(u)).not.toContain('rain');
  });

  it('is not fooled by words that contain motion words', () => {
    expect(understand('this is his history').recognized).toBe(false);
    expect(understand('a swinging pendulum').recognized).toBe(false);
  });

  it('stems inflections to one form', () => {
    for (const group of [['walk', 'walks', 'walking', 'walked'], ['run', 'runs', 'running', 'ran'], ['dance', 'dances', 'dancing', 'danced'], ['sit', 'sits', 'sitting', 'sat'], ['clap', 'claps', 'clapping', 'clapped'], ['stroll', 'strolling'], ['punch', 'punches']]) {
      expect(new Set(group.map(stem)).size).toBe(1);
    }
    expect(words("Don't-stop, WALKING!")).toEqual(['don', 't', 'stop', 'walking']);
    expect(words('Café')).toEqual(['cafe']);
  });
});
