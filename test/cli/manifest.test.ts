/** The CLI's pure parts, in-process: manifest validation, request building, idempotency keys and the exit-code table. */
import { describe, expect, it } from 'vitest';
import { MotionGatewayError, type Capabilities } from '../../src/client/index.js';
import { idempotencyKeyOf } from '../../src/cli/batch.js';
import { CliError, EXIT, exitCodeOf, Interrupted } from '../../src/cli/exit-codes.js';
import { parseManifest } from '../../src/cli/manifest.js';
import { buildRequest } from '../../src/cli/request.js';

const usageMessage = (value: unknown): string => {
  try {
    parseManifest(value, 'm.json');
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    expect(exitCodeOf(err)).toBe(EXIT.usage);
    return (err as Error).message;
  }
  throw new Error('the manifest was accepted');
};

describe('batch manifests', () => {
  it('accepts prompt and request clips, taking "seconds" out of the defaults', () => {
    const m = parseManifest({ defaults: { model: 'procedural', seconds: 2 }, clips: [{ name: 'walk', prompt: 'walk' }, { name: 'x.1_b-c', request: { segments: [] } }] }, 'm.json');
    expect(m.defaults).toEqual({ model: 'procedural' });
    expect(m.defaultSeconds).toBe(2);
    expect(m.clips).toEqual([{ name: 'walk', prompt: 'walk' }, { name: 'x.1_b-c', request: { segments: [] } }]);
  });

  it('names the clip and the problem', () => {
    expect(usageMessage({ clips: [] })).toContain('"clips" must be a non-empty array');
    expect(usageMessage({ clips: [{ name: '../evil', prompt: 'walk' }] })).toContain('clips[0].name "../evil" is not a safe file name');
    expect(usageMessage({ clips: [{ name: '.hidden', prompt: 'walk' }] })).toContain('not a safe file name');
    expect(usageMessage({ clips: [{ name: 'Walk', prompt: 'a' }, { name: 'walk', prompt: 'b' }] })).toContain('clips[1].name "walk" is used twice');
    expect(usageMessage({ clips: [{ name: 'walk' }] })).toContain('clips[0] ("walk"): give a non-empty "prompt" or a "request"');
    expect(usageMessage({ clips: [{ name: 'walk', prompt: 'walk', seconds: -1 }] })).toContain('"seconds" must be a positive number');
    expect(usageMessage({ clips: [{ name: 'walk', prompt: 'walk', promt: 'x' }] })).toContain('unexpected field "promt"');
    expect(usageMessage({ clip: [] })).toContain('unknown field "clip"');
  });
});

const caps = {
  models: [{ id: 'procedural', fps: 30, canonical_skeleton: { joints: [{ name: 'root', parent: null, rest_translation: [0, 1, 0] }] } }],
} as unknown as Capabilities;

describe('requests from flags', () => {
  it('fills model, skeleton and frames from /capabilities; flags override a base request', async () => {
    const req = await buildRequest({ base: {}, baseDir: '.', prompts: ['walk', 'wave'], seconds: 2, seed: 5 }, async () => caps);
    expect(req).toEqual({
      protocol_version: '1.3',
      model: 'procedural',
      skeleton: caps.models[0].canonical_skeleton,
      segments: [
        { type: 'text', prompt: 'walk', duration_frames: 60 },
        { type: 'text', prompt: 'wave', duration_frames: 60 },
      ],
      options: { seed: 5 },
    });
    const base = { protocol_version: '1.2', model: 'procedural', skeleton: { joints: [] }, segments: [{ type: 'text', prompt: 'run', duration_frames: 10 }], options: { seed: 1, loop: true } };
    const over = await buildRequest({ base, baseDir: '.', seconds: 1, fps: 60, samples: 3 }, () => Promise.reject(new Error('not needed')));
    expect(over).toMatchObject({ protocol_version: '1.2', timing: { fps: 60 }, segments: [{ duration_frames: 60 }], options: { seed: 1, loop: true, num_samples: 3 } });
  });

  it('pairs --seconds with --prompt in order when given once per prompt, and refuses a count that matches neither', async () => {
    const req = await buildRequest({ base: {}, baseDir: '.', prompts: ['walk forward', 'wave'], seconds: [4, 2] }, async () => caps);
    expect(req.segments!.map((s) => (s as { duration_frames: number }).duration_frames)).toEqual([120, 60]);
    await expect(buildRequest({ base: {}, baseDir: '.', prompts: ['a', 'b', 'c'], seconds: [4, 2] }, async () => caps)).rejects.toThrow(/--seconds is given 2 times for 3 prompts/);
  });

  it('refuses an unknown model and an empty request as usage errors', async () => {
    await expect(buildRequest({ base: {}, baseDir: '.', prompts: ['walk'], model: 'nope' }, async () => caps)).rejects.toThrow(/unknown model "nope"; this gateway serves: procedural/);
    await expect(buildRequest({ base: {}, baseDir: '.' }, async () => caps)).rejects.toThrow(/nothing to generate/);
  });
});

describe('idempotency keys and exit codes', () => {
  it('keys a request by its content, not by the order of its fields', () => {
    const a = { protocol_version: '1.3', model: 'm', skeleton: { joints: [] }, options: { seed: 1, num_samples: 2 } } as never;
    const b = { options: { num_samples: 2, seed: 1 }, skeleton: { joints: [] }, model: 'm', protocol_version: '1.3' } as never;
    expect(idempotencyKeyOf(a)).toBe(idempotencyKeyOf(b));
    expect(idempotencyKeyOf(a)).not.toBe(idempotencyKeyOf({ ...(a as object), model: 'n' } as never));
    expect(idempotencyKeyOf(a).length).toBeLessThanOrEqual(255);
  });

  it('maps gateway answers to the table', () => {
    const code = (status: number, c = 'x') => exitCodeOf(new MotionGatewayError({ status, code: c, message: 'm' }));
    expect([400, 422, 409].map((s) => code(s))).toEqual([2, 2, 2]);
    expect([401, 403].map((s) => code(s))).toEqual([3, 3]);
    expect([404, 410].map((s) => code(s))).toEqual([4, 4]);
    expect(code(402)).toBe(5);
    expect([429, 503, 504, 0].map((s) => code(s))).toEqual([6, 6, 6, 6]);
    expect(code(500, 'internal_error')).toBe(1);
    expect(code(502, 'timeout')).toBe(6);
    expect(code(200, 'invalid_answer')).toBe(1);
    expect(exitCodeOf(new Interrupted())).toBe(130);
    expect(exitCodeOf(new TypeError('bad glb'))).toBe(1);
  });
});
