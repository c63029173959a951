/** Prompts → library actions, through the gateway: what is chosen, how it is reported, what is refused, and that nothing is paid for a refusal. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLibrary, parseLibrary } from '../../../src/adapters/meshy/library.js';
import { analysePrompt, chooseActions } from '../../../src/adapters/meshy/select.js';
import { generate, request, startRig, understood, type Rig } from './harness.js';
import { readFileSync } from 'node:fs';
import { findLibraryFile } from '../../../src/adapters/meshy/library.js';

/** Prompt → the action a person would expect (id and name, so a reader sees the intent). */
const TABLE: Array<[prompt: string, id: number, name: string]> = [
  ['walk', -2, 'Walking'],
  ['a person walks forward', -2, 'Walking'],
  ['a man happily walks across the room', -2, 'Walking'],
  ['a woman walks', 1, 'Walking_Woman'],
  ['walk in place', 613, 'Casual_Walk_inplace'],
  ['run', -1, 'Running'],
  ['jog', -1, 'Running'],
  ['sprint', 16, 'RunFast'],
  ['run on the spot', 658, 'run_fast_2_inplace'],
  ['wave hello', 28, 'Big_Wave_Hello'],
  ['greet someone', 28, 'Big_Wave_Hello'],
  ['wave', 290, 'Wave_One_Hand'],
  ['sword attack', 219, 'Right_Hand_Sword_Slash'],
  ['sit down', 57, 'Stand_to_Sit_Transition_M'],
  ['stand up', 344, 'Stand_Up1'],
  ['dance', 66, 'Boom_Dance'],
  ['hip hop dance', 591, 'Hip_Hop_Dance'],
  ['jump', 86, 'Basic_Jump'],
  ['kick', 103, 'Simple_Kick'],
  ['a roundhouse kick', 207, 'Roundhouse_Kick'],
  ['punch', 214, 'Punch_Forward_with_Both_Fists'],
  ['cast a spell', 125, 'Charged_Spell_Cast'],
  ['die', 8, 'Dead'],
  ['fall down', 366, 'falling_down'],
  ['do a backflip', 452, 'Backflip'],
  ['push-ups', 329, 'push_up'],
  ['jumping jacks', 326, 'jumping_jacks'],
  ['swim', 569, 'Swim_Forward'],
  ['climb a ladder', 438, 'Ladder_Climb_Loop'],
  ['climb the stairs', 441, 'Climb_Stairs'],
  ['talk on the phone', 312, 'Phone_Conversation'],
  ['cheer', 59, 'Victory_Cheer'],
  ['shrug', 317, 'Shrug'],
  ['gets hit', 178, 'Hit_Reaction'],
  ['zombie walk', 112, 'Monster_Walk'],
  ['injured walk', 111, 'Injured_Walk'],
  ['texting while walking', 122, 'Texting_Walk'],
  ['walk backwards', 544, 'Walk_Backward'],
  ['shoot a bow', 224, 'Archery_Shot'],
  ['stand still', 0, 'Idle'],
  ['a drunk walk', 123, 'Unsteady_Walk'],
  ['open the door', 285, 'open_door'],
  ['sleep', 267, 'Sleep_Normally'],
  ['catwalk', 55, 'Stage_Walk'],
  ['sneak', 559, 'Sneaky_Walk'],
];

let rig: Rig;
beforeAll(async () => {
  rig = await startRig({ sim: { workers: 16, queueCap: 16, timing: { pendingMs: 5, runMs: 40, stallMs: 10 } }, meshy: { maxConcurrentTasks: 16 } });
});
afterAll(async () => {
  await rig.close();
});

describe('the prompt table, end to end', () => {
  it(`maps ${TABLE.length} prompts to the expected actions and reports choice and score`, async () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(30);
    const answers = await Promise.all(TABLE.map(([prompt]) => generate(rig.url, request([{ prompt, frames: 45 }]))));
    const got = answers.map((a, i) => {
      expect(a.status, `${TABLE[i][0]}: ${JSON.stringify(a.error)}`).toBe(200);
      const u = understood(a.gltf)[0][0];
      expect(u.score).toBeGreaterThan(0.5);
      expect(u.score).toBeLessThanOrEqual(1);
      expect(u.via).toBe('prompt');
      return [TABLE[i][0], u.action_id, u.name];
    });
    expect(got).toEqual(TABLE);
    // The bundled walk and run come with the rig: no animation task is paid for them.
    const paid = rig.sim.created.filter((c) => c.kind === 'animations').map((c) => c.body.action_id);
    expect(paid).not.toContain(-2);
    expect(paid).not.toContain(-1);
  });

  it('prefers in-place variants under a root path', async () => {
    const body = request([{ prompt: 'walk casually', frames: 60 }], {
      constraints: [{ type: 'root_path', frames: [0, 59], positions_xz: [[0, 0], [0, 2]] }],
    });
    const a = await generate(rig.url, body);
    expect(a.status, JSON.stringify(a.error)).toBe(200);
    expect(understood(a.gltf)[0][0]).toMatchObject({ action_id: 613, name: 'Casual_Walk_inplace', inplace: true });
  });
});

describe('refusals, explicit actions and samples', () => {
  it('refuses a prompt that matches nothing with 400 and close alternatives, before any task', async () => {
    const before = rig.sim.created.length;
    for (const prompt of ['qwerty asdf', 'jumpng']) {
      const a = await generate(rig.url, request([{ prompt: 'wave', frames: 30 }, { prompt, frames: 30 }]));
      expect(a.status).toBe(400);
      expect(a.error!.error.code).toBe('invalid_request');
      expect(a.error!.detail.error_code).toBe('MG-PRO-014');
      expect(a.error!.error.details.segment).toBe(1);
      const alts = a.error!.error.details.alternatives;
      expect(alts).toHaveLength(5);
      for (const alt of alts) expect(typeof alt.action_id === 'number' && typeof alt.name === 'string').toBe(true);
      if (prompt === 'jumpng') expect(alts.some((x: any) => /jump/i.test(x.name))).toBe(true);
      expect(a.jobId).toBeUndefined();
    }
    expect(rig.sim.created.length).toBe(before);
  });

  it('takes an explicit action from extensions.meshy, per request or per segment', async () => {
    const one = await generate(rig.url, request([{ prompt: 'anything at all', frames: 40 }], { extensions: { meshy: { action_id: 92 } } }));
    expect(one.status, JSON.stringify(one.error)).toBe(200);
    expect(understood(one.gltf)[0][0]).toMatchObject({ action_id: 92, name: 'Double_Combo_Attack', via: 'extension', score: 1 });
    const per = await generate(rig.url, request([{ prompt: 'wave hello', frames: 30 }, { prompt: 'ignored', frames: 30 }], { extensions: { meshy: { action_id: [null, 4] } } }));
    expect(per.status, JSON.stringify(per.error)).toBe(200);
    expect(understood(per.gltf)[0].map((u: any) => [u.action_id, u.via])).toEqual([[28, 'prompt'], [4, 'extension']]);
    const task = rig.sim.created.filter((c) => c.kind === 'animations').map((c) => c.body.action_id);
    expect(task).toContain(92);
    expect(task).toContain(4);
  });

  it('refuses unknown actions and unknown Meshy options with 400', async () => {
    const bad = await generate(rig.url, request([{ prompt: 'walk', frames: 30 }], { extensions: { meshy: { action_id: 9999 } } }));
    expect(bad.status).toBe(400);
    expect(bad.error!.detail.error_code).toBe('MG-PRO-015');
    expect(bad.error!.error.details.field).toBe('extensions.meshy.action_id');
    const typo = await generate(rig.url, request([{ prompt: 'walk', frames: 30 }], { extensions: { meshy: { actionId: 4 } } }));
    expect(typo.status).toBe(400);
    expect(typo.error!.error.details.field).toBe('extensions.meshy.actionId');
  });

  it('gives the best distinct matches to several samples, and reuses them when there are too few', async () => {
    const a = await generate(rig.url, request([{ prompt: 'dance', frames: 40 }], { options: { num_samples: 3 } }));
    expect(a.status, JSON.stringify(a.error)).toBe(200);
    const ids = understood(a.gltf).map((s) => s[0].action_id);
    expect(new Set(ids).size).toBe(3);
    expect(ids[0]).toBe(66);
    const scores = understood(a.gltf).map((s) => s[0].score);
    expect([...scores].sort((x, y) => y - x)).toEqual(scores);
    expect(a.gltf.animations).toHaveLength(3);

    const few = await generate(rig.url, request([{ prompt: 'shrug', frames: 30 }], { options: { num_samples: 3 } }));
    expect(few.status, JSON.stringify(few.error)).toBe(200);
    const u = understood(few.gltf).map((s) => s[0]);
    expect(u.map((x) => x.action_id)).toEqual([317, 317, 317]);
    expect(u.map((x) => x.repeated ?? false)).toEqual([false, true, true]);
  });
});

describe('selection (unit)', () => {
  const lib = loadLibrary();

  it('is deterministic, whatever the order of the library', () => {
    const shuffled = parseLibrary(
      readFileSync(findLibraryFile(), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l, i, all) => (i === 0 ? l : all[all.length - i]))
        .join('\n'),
    );
    for (const [prompt] of TABLE) {
      const a = analysePrompt(lib, prompt).ranked.slice(0, 5);
      expect(analysePrompt(lib, prompt).ranked.slice(0, 5)).toEqual(a);
      expect(analysePrompt(shuffled, prompt).ranked.slice(0, 5)).toEqual(a);
    }
  });

  it('never returns an in-place twin next to its original as another sample', () => {
    const picks = chooseActions(lib, 'casual walk', { inPlace: false, count: 4, segment: 0 });
    const bases = picks.map((p) => p.name.replace(/_inplace$/, ''));
    expect(new Set(bases).size).toBe(bases.length);
  });

  it('ships the whole library (680 actions, ids -2 … 696)', () => {
    expect(lib.actions).toHaveLength(680);
    expect(lib.byId.get(-2)?.name).toBe('Walking');
    expect(lib.byId.get(696)?.name).toBe('Walk_with_Walker_Support_inplace');
  });
});
