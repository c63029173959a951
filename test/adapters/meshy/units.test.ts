/** The Meshy adapter's small pure parts: the SSE reader, clip fitting, the task slots. */
import { describe, expect, it } from 'vitest';
import { closeLoop, fitClip, isCyclic } from '../../../src/adapters/meshy/fit.js';
import { loadLibrary } from '../../../src/adapters/meshy/library.js';
import { TaskSlots } from '../../../src/adapters/meshy/slots.js';
import { readSse } from '../../../src/adapters/meshy/stream.js';
import { allocClip } from '../../../src/motion/clip.js';
import type { Clip } from '../../../src/spec/motion.js';
import { qangle, qget, qnormalize, qx } from '../../../src/motion/quat.js';

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield new TextEncoder().encode(p);
}

async function events(...parts: string[]) {
  const out = [];
  for await (const e of readSse(chunks(...parts))) out.push(e);
  return out;
}

describe('readSse', () => {
  it('reads events split anywhere, with CRLF, comments and multi-line data', async () => {
    const got = await events('event: mess', 'age\r\ndata: {"a":', '1}\r\n\r\n: keep-alive\n\ndata: x\ndata: y\n\nevent: error\ndata: {"status_code": 404}\n\n');
    expect(got).toEqual([
      { event: 'message', data: '{"a":1}', id: undefined },
      { event: 'message', data: 'x\ny', id: undefined },
      { event: 'error', data: '{"status_code": 404}', id: undefined },
    ]);
  });

  it('drops an event the stream cut before its blank line', async () => {
    expect(await events('data: {"status":"IN_PROGRESS"}\n\ndata: {"status":"SUCC')).toHaveLength(1);
  });
});

/** A one-joint clip whose rotation angle about X is the frame number × 0.01 and whose root walks +Z by 0.05 per frame. */
function ramp(frames: number, fps = 30): Clip {
  const c = allocClip(1, frames, fps);
  for (let f = 0; f < frames; f++) {
    c.rotations.set(qnormalize(qx(f * 0.01)), f * 4);
    c.rootPositions.set([0, 1, f * 0.05], f * 3);
  }
  return c;
}

const angle = (c: Clip, f: number) => qangle(qget(c.rotations, f), [0, 0, 0, 1]);

describe('fitClip', () => {
  it('loops a cyclic clip, carrying the root forward cycle after cycle', () => {
    const { clip, fit } = fitClip(ramp(31), 91, true);
    expect(fit.mode).toBe('loop');
    expect(clip.numFrames).toBe(91);
    expect(angle(clip, 30)).toBeCloseTo(0, 6); // frame 30 starts the second cycle
    expect(angle(clip, 45)).toBeCloseTo(0.15, 6);
    expect(clip.rootPositions[90 * 3 + 2]).toBeCloseTo(90 * 0.05, 6); // no jump back at the seams
    for (let f = 1; f < 91; f++) expect(clip.rootPositions[f * 3 + 2]).toBeGreaterThan(clip.rootPositions[(f - 1) * 3 + 2]);
  });

  it('trims a cyclic clip longer than the segment', () => {
    const { clip, fit } = fitClip(ramp(61), 20, true);
    expect(fit).toMatchObject({ mode: 'trim', rate: 1 });
    expect(angle(clip, 19)).toBeCloseTo(0.19, 6);
  });

  it('time-scales a one-shot within 25 %, then holds or trims', () => {
    const faster = fitClip(ramp(61), 51, false);
    expect(faster.fit).toMatchObject({ mode: 'time_scale', rate: 1.2 });
    expect(angle(faster.clip, 50)).toBeCloseTo(0.6, 6); // the whole move, played faster
    const held = fitClip(ramp(31), 121, false);
    expect(held.fit).toMatchObject({ mode: 'hold', rate: 0.8 });
    expect(angle(held.clip, 120)).toBeCloseTo(0.3, 6);
    expect(angle(held.clip, 100)).toBeCloseTo(0.3, 6);
    const cut = fitClip(ramp(121), 31, false);
    expect(cut.fit).toMatchObject({ mode: 'trim', rate: 1.25 });
    expect(angle(cut.clip, 30)).toBeCloseTo(0.375, 6);
  });

  it('closes a loop so that the last frame is the first pose', () => {
    const looped = closeLoop(fitClip(ramp(31), 31, true).clip);
    expect(qangle(qget(looped.rotations, 30), qget(looped.rotations, 0))).toBeLessThan(1e-6);
  });

  it('tells cycles from one-shots', () => {
    const lib = loadLibrary();
    const cyclic = (id: number) => isCyclic(lib.byId.get(id)!);
    expect([-2, -1, 0, 30, 66, 569].map(cyclic)).toEqual([true, true, true, true, true, true]);
    expect([28, 57, 86, 92, 116, 452].map(cyclic)).toEqual([false, false, false, false, false, false]);
  });
});

describe('TaskSlots', () => {
  const t0 = 1_700_000_000_000;

  it('hands slots out in arrival order and never more than the cap', () => {
    const s = new TaskSlots(2);
    expect(s.tryAcquire('a', t0)).toBe(true);
    expect(s.tryAcquire('b', t0)).toBe(true);
    expect(s.tryAcquire('c', t0)).toBe(false);
    expect(s.tryAcquire('d', t0)).toBe(false);
    expect(s.position('d')).toBe(1);
    s.release('a');
    expect(s.tryAcquire('d', t0)).toBe(false); // c came first
    expect(s.tryAcquire('c', t0)).toBe(true);
    expect(s.tryAcquire('d', t0)).toBe(false);
    s.claim('e'); // a resumed task exists at Meshy: counted, even over the cap
    expect(s.inUse()).toBe(3);
    s.forget('c');
    s.release('b');
    s.release('e');
    expect(s.tryAcquire('d', t0)).toBe(true);
    expect(s.peak).toBe(3);
  });

  it('gives the place of a waiter not heard from for two minutes to the next one', () => {
    const s = new TaskSlots(1);
    expect(s.tryAcquire('a', t0)).toBe(true);
    expect(s.tryAcquire('b', t0)).toBe(false);
    expect(s.tryAcquire('c', t0 + 60_000)).toBe(false);
    expect(s.position('c')).toBe(1);
    s.release('a');
    // b asked last at t0 (its job died): at t0 + 2 min + 1 ms it has lost its place to c.
    expect(s.tryAcquire('c', t0 + 120_001)).toBe(true);
    expect(s.position('b')).toBeUndefined();
  });
});
