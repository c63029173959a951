/** Unknown prompts through the HTTP server: reported in x_understood and X-Prompt-Unrecognized, varied by prompt, refused under strict. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalSkeleton, postGenerate, startGateway, type Running } from '../../helpers/gateway.js';

let g: Running;
let skeleton: any;
const req = (segments: { prompt: string; frames?: number }[], extensions?: Record<string, unknown>) => ({
  protocol_version: '1.2',
  model: 'procedural',
  skeleton,
  segments: segments.map((s) => ({ type: 'text', prompt: s.prompt, duration_frames: s.frames ?? 30 })),
  options: { seed: 11 },
  ...(extensions ? { extensions } : {}),
});

beforeAll(async () => {
  g = await startGateway();
  skeleton = await canonicalSkeleton(g.url);
});
afterAll(() => g.close());

const motionOf = async (res: Response) => (await res.json()).extensions.MMCP_motion;

describe('unknown prompts over HTTP', () => {
  it('answers 200 with a neutral idle, the report in x_understood and the X-Prompt-Unrecognized header', async () => {
    const res = await postGenerate(g.url, req([{ prompt: 'walk forward' }, { prompt: 'recite the wlak poem' }]));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-prompt-unrecognized')).toMatch(/^1;nearest="[a-z_]+(,[a-z_]+)*"$/);
    expect(res.headers.get('x-prompt-unrecognized')).toContain('walk');
    const u = (await motionOf(res)).samples[0].x_understood;
    expect(u[0]).toMatchObject({ segment: 0, motion: 'walk', recognized: true });
    expect(u[1]).toMatchObject({ segment: 1, motion: 'idle', recognized: false, ignored: ['recite', 'the', 'wlak', 'poem'] });
    expect(u[1].nearest).toContain('walk');
    expect(u[1].note).toMatch(/not recognized.*neutral standing idle.*hash/);
    expect(u[1].prompt_hash).toMatch(/^[0-9a-f]{8}$/);
  });

  it('sends no X-Prompt-Unrecognized header when every prompt is recognized', async () => {
    const res = await postGenerate(g.url, req([{ prompt: 'a zombie shambles forward' }, { prompt: 'climb stairs' }, { prompt: 'backflip' }]));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-prompt-unrecognized')).toBeNull();
    const u = (await motionOf(res)).samples[0].x_understood;
    expect(u.map((e: any) => e.motion)).toEqual(['zombie_walk', 'climb_stairs', 'backflip']);
    expect(u.every((e: any) => e.recognized === true)).toBe(true);
  });

  it('gives two different unknown prompts different clips (same seed), saying each was varied by its prompt', async () => {
    const a = await postGenerate(g.url, req([{ prompt: 'contemplate the universe', frames: 60 }]));
    const b = await postGenerate(g.url, req([{ prompt: 'ponder a sandwich', frames: 60 }]));
    const ja = await a.json();
    const jb = await b.json();
    expect(ja.buffers[0].uri).not.toBe(jb.buffers[0].uri);
    const ua = ja.extensions.MMCP_motion.samples[0].x_understood[0];
    const ub = jb.extensions.MMCP_motion.samples[0].x_understood[0];
    expect(ua.prompt_hash).not.toBe(ub.prompt_hash);
    expect(ua.note).toContain(ua.prompt_hash);
  });

  it('extensions.procedural.strict: true refuses an unrecognized prompt with 400 invalid_request listing the nearest motions', async () => {
    const res = await postGenerate(g.url, req([{ prompt: 'wave' }, { prompt: 'jumpng jcks' }], { procedural: { strict: true } }));
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.details).toMatchObject({ segment: 1, prompt: 'jumpng jcks' });
    expect(body.error.details.nearest[0]).toBe('jumping_jacks');
    expect(body.error.details.nearest).toContain('jump');
    expect(body.error.details.alternatives[0]).toMatchObject({ motion: 'jumping_jacks' });
    expect(body.error.details.alternatives[0].description).toMatch(/jumping jacks/);
  });

  it('strict passes recognized prompts through, and refuses an unknown extensions.procedural option', async () => {
    const ok = await postGenerate(g.url, req([{ prompt: 'crawl on all fours' }], { procedural: { strict: true } }));
    expect(ok.status).toBe(200);
    const bad = await postGenerate(g.url, req([{ prompt: 'walk' }], { procedural: { stricter: true } }));
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.details.option).toBe('extensions.procedural.stricter');
  });
});
