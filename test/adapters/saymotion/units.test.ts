/** Focused tests of the adapter's pure parts: cookie parsing, request mapping, status reading, checkpoints, the poller's cadence, rig alignment. */
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../../src/adapters/saymotion/checkpoint.js';
import { codeInBody, codesIn, rowFor } from '../../../src/adapters/saymotion/errors.js';
import { chunkFrames, durationValue, findSubmitted, glbUrl, promptParam, readStatus, sameRequest } from '../../../src/adapters/saymotion/mapping.js';
import { alignToCanonical } from '../../../src/adapters/saymotion/motion.js';
import { StatusPoller } from '../../../src/adapters/saymotion/poller.js';
import { DEEPMOTION_SKELETON } from '../../../src/adapters/saymotion/rig.js';
import { DEFAULT_SESSION_MS, parseSessionCookie } from '../../../src/adapters/saymotion/session.js';
import type { StatusEntry } from '../../../src/adapters/saymotion/client.js';
import { restClip } from '../../../src/motion/clip.js';
import { manualClock } from '../../helpers/clock.js';
import { DM_RIG } from '../../fakes/saymotion/motion.js';

describe('session cookie', () => {
  const now = Date.parse('2030-01-01T00:00:00Z');
  it('reads dmsess among other cookies, Expires and Max-Age (Max-Age wins)', () => {
    const c = parseSessionCookie(['other=1; Path=/', `dmsess=abc; Domain=api.example; Path=/; Expires=${new Date(now + 3_600_000).toUTCString()}; HttpOnly`], now)!;
    expect(c.value).toBe('abc');
    expect(c.expiresAt).toBe(now + 3_600_000);
    expect(c.renewAt).toBe(now + 3_600_000 - 60_000);
    const m = parseSessionCookie(`dmsess=xyz; Max-Age=10; Expires=${new Date(now + 3_600_000).toUTCString()}`, now)!;
    expect(m.expiresAt).toBe(now + 10_000);
    expect(m.renewAt).toBe(now + 9_000); // a 10 s session renews a second before expiry
    // A one-second session renews with a quarter of its life in hand: a tenth (100 ms) is one slow round trip.
    expect(parseSessionCookie('dmsess=s; Max-Age=1', now)!.renewAt).toBe(now + 750);
    expect(parseSessionCookie('dmsess=s; Max-Age=100', now)!.renewAt).toBe(now + 90_000);
  });
  it('assumes a lifetime when none is given, and ignores cookies that are not the session', () => {
    expect(parseSessionCookie('dmsess=v', now)!.expiresAt).toBe(now + DEFAULT_SESSION_MS);
    expect(parseSessionCookie(['dmsessx=1', 'dmsess=; Path=/'], now)).toBeUndefined();
    expect(parseSessionCookie(undefined, now)).toBeUndefined();
  });
});

describe('request mapping', () => {
  it('quotes the prompt and escapes what would break the quoting', () => {
    expect(promptParam('a man waves')).toBe('prompt="a man waves"');
    expect(promptParam('say "hi"\\now\nthen go')).toBe('prompt="say \\"hi\\"\\\\now then go"');
  });
  it('chunks long segments evenly within the useful duration, and never asks for less than 1 s', () => {
    expect(chunkFrames({ frames: 300, seconds: 10 })).toEqual([300]);
    expect(chunkFrames({ frames: 301, seconds: 10.03 })).toEqual([151, 150]);
    expect(chunkFrames({ frames: 750, seconds: 25 })).toEqual([250, 250, 250]);
    expect(durationValue(15, 30)).toBe('1');
    expect(durationValue(250, 30)).toBe('8.33');
  });
  it('recognises a submitted job in the list whatever form the list echoes its params in', () => {
    const ours = ['prompt="a \\"big\\" jump"', 'model=m1', 'requestedAnimationDuration=2', 'numVariant=2'];
    expect(sameRequest(ours, ours)).toBe(true);
    expect(sameRequest(ours, { prompt: 'a "big" jump', model: 'm1', numVariant: 2, requestedAnimationDuration: 2.0 })).toBe(true);
    expect(sameRequest(ours, JSON.stringify(ours))).toBe(true);
    expect(sameRequest(ours, { prompt: 'a "big" jump', model: 'm1', numVariant: 3 })).toBe(false);
    expect(sameRequest(ours, { model: 'm1' })).toBe(false);
    const list = [
      { rid: 'old', parameters: ours, ctime: 1_000 },
      { rid: 'mine', parameters: ours, ctime: 500_000 },
      { rid: 'claimed', parameters: ours, ctime: 400_000 },
      { rid: 'render', processor: 'render', parameters: ours, ctime: 450_000 },
    ];
    expect(findSubmitted(list, ours, 420_000, (r) => r === 'claimed', 60_000)).toBe('mine');
  });
});

describe('reading answers', () => {
  it('reads every FAILURE code format, and credit text', () => {
    expect(codesIn('101')).toEqual([101]);
    expect(codesIn(['101'])).toEqual([101]);
    expect(codesIn("['101', '599']")).toEqual([101, 599]);
    expect(codesIn('Not enough credit to run this job')).toEqual([101]);
    expect(codesIn('Something else broke')).toEqual([]);
    expect(codeInBody({ code: 400, message: 'Bad Request' }, 400)).toBeUndefined();
    expect(codeInBody({ message: 'Not enough credit', code: 101 }, 403)).toBe(101);
    expect(codeInBody({ error: { code: '502' } }, 400)).toBe(502);
  });
  it('reads status entries: queue, progress clamped below 1, RETRY as running, FAILURE codes', () => {
    expect(readStatus({ rid: 'r', status: 'PROGRESS', details: { step: 0, total: 100 }, positionInQueue: 4 })).toEqual({ kind: 'running', progress: 0, positionInQueue: 4, retrying: false });
    expect(readStatus({ rid: 'r', status: 'PROGRESS', details: { step: 130, total: 100 } })).toMatchObject({ progress: 0.99 });
    expect(readStatus({ rid: 'r', status: 'RETRY', details: { exc_message: 'x' } })).toMatchObject({ kind: 'running', retrying: true });
    expect(readStatus({ rid: 'r', status: 'FAILURE', details: { exc_message: ['605'], exc_type: 'E' } })).toMatchObject({ kind: 'failed', code: 605 });
    expect(readStatus({ rid: 'r', status: 'SUCCESS', details: { In: 'a', out: 'b' } })).toEqual({ kind: 'succeeded' });
  });
  it('picks the GLB of the first non-intermediate url group', () => {
    const link = {
      rid: 'r',
      urls: [
        { name: 'inter_x', files: [{ glb: 'https://s/inter.glb' }] },
        { name: 'INTERMEDIATE', files: [{ glb: 'https://s/i2.glb' }] },
        { name: 'result', files: [{ fbx: 'https://s/r.fbx' }, { glb: 'https://s/r.glb' }] },
      ],
    };
    expect(glbUrl(link)).toBe('https://s/r.glb');
    expect(glbUrl({ rid: 'r' })).toBeUndefined();
  });
  it('maps unknown codes by their HTTP status, then by what failed', () => {
    expect(rowFor({ code: 777, status: 503 }).id).toBe('MG-PRV-503');
    expect(rowFor({ code: 777 }).id).toBe('MG-PRV-500');
    expect(rowFor({ failure: 'file_unavailable', status: 403 }).id).toBe('MG-PRV-410');
  });
});

describe('checkpoints', () => {
  const cp = {
    v: 1,
    numVariant: 2,
    units: [
      { segment: 0, chunk: 0, frames: 60, params: ['prompt="a man walks"', 'numVariant=2'], state: 'running', rid: 'r1', submittedAt: 1_700_000_000_000, progress: 0.5 },
      { segment: 0, chunk: 1, frames: 60, params: ['prompt="a man walks"', 'numVariant=2'], state: 'pending' },
    ],
  };
  const viaJson = (v: unknown) => JSON.parse(JSON.stringify(v));

  it('reads back what JSON made of a checkpoint, as a copy of its own', () => {
    const stored = viaJson(cp);
    const read = readCheckpoint(stored);
    expect(read).toEqual(stored);
    read.units[1].state = 'submitting';
    expect(stored.units[1].state).toBe('pending');
  });

  it('refuses what is not a SayMotion checkpoint with MG-SRV-001', () => {
    const unit = cp.units[0];
    for (const bad of [{}, null, { ...cp, v: 2 }, { ...cp, numVariant: '2' }, { ...cp, units: {} }, { ...cp, units: [{ ...unit, state: 'done' }] }, { ...cp, units: [{ ...unit, rid: undefined }] }, { ...cp, units: [{ ...unit, params: [1] }] }, { ...cp, units: [{ ...unit, progress: 'half' }] }]) {
      expect(() => readCheckpoint(viaJson(bad)), JSON.stringify(bad)).toThrow(expect.objectContaining({ id: 'MG-SRV-001' }));
    }
  });
});

describe('the batched poller', () => {
  /** A poller on a manual clock: a tick happens when the test moves time to it, and only then. */
  function fakePoller(answer: (rid: string) => StatusEntry | undefined, maxRidsPerCall = 50) {
    const calls: string[][] = [];
    const clock = manualClock();
    const poller = new StatusPoller(
      async (rids) => {
        calls.push(rids);
        return rids.map(answer).filter((e): e is StatusEntry => !!e);
      },
      { intervalMs: 100, maxIntervalMs: 800, maxRidsPerCall, staleMs: 60_000, clock },
    );
    /** Moves time on by `ms` and waits for the ticks that became due. */
    const advance = async (ms: number) => {
      await clock.advance(ms);
      await poller.settled();
    };
    return { poller, calls, advance };
  }

  it('asks once per tick for every watched rid, and slows down deep in the queue', async () => {
    const { poller, calls, advance } = fakePoller((rid) => ({ rid, status: 'PROGRESS', details: { step: 0, total: 1 }, positionInQueue: 10 }));
    for (const r of ['a', 'b', 'c']) poller.watch(r);
    await advance(99);
    expect(calls).toEqual([]); // the first look is one interval away
    await advance(1);
    expect(calls).toEqual([['a', 'b', 'c']]);
    expect(poller.view('b').entry?.positionInQueue).toBe(10);
    // Time stands still after the tick, so the next one is due in the interval the cadence chose: 10th in
    // the queue is 7 places beyond the 3 polled at the plain cadence, so 1 + 7/2 = 4.5 intervals.
    expect(poller.msUntilNextAnswer()).toBeGreaterThanOrEqual(450);
    await advance(449);
    expect(calls).toHaveLength(1);
    await advance(1);
    expect(calls).toHaveLength(2);
    poller.close();
  });

  it('keeps the plain cadence for a job a few places from the front of the queue', async () => {
    const { poller, calls, advance } = fakePoller((rid) => ({ rid, status: 'PROGRESS', details: { step: 0, total: 1 }, positionInQueue: 3 }));
    poller.watch('a');
    await advance(100);
    expect(calls).toHaveLength(1);
    expect(poller.msUntilNextAnswer()).toBeLessThan(200);
    await advance(100);
    expect(calls).toHaveLength(2);
    poller.close();
  });

  it('splits rids over calls only beyond the per-call limit (1 = naive)', async () => {
    const { poller, calls, advance } = fakePoller((rid) => ({ rid, status: 'PROGRESS', details: { step: 1, total: 10 } }), 1);
    for (const r of ['a', 'b', 'c']) poller.watch(r);
    await advance(100);
    expect(calls.sort()).toEqual([['a'], ['b'], ['c']]);
    expect(poller.ticks).toBe(1);
    expect(poller.calls).toBe(3);
    poller.close();
  });

  it('counts missing rids and failed ticks per rid', async () => {
    const { poller, advance } = fakePoller((rid) => (rid === 'a' ? { rid, status: 'SUCCESS' } : undefined));
    poller.watch('a');
    poller.watch('b');
    await advance(100);
    expect(poller.view('a')).toMatchObject({ missingTicks: 0, entry: { status: 'SUCCESS' } });
    expect(poller.view('b')).toMatchObject({ missingTicks: 1 });
    expect(poller.view('b').entry).toBeUndefined();
    poller.close();
  });
});

describe('rig alignment', () => {
  it('puts a decoded DeepMotion rig in the canonical joint order, keeping its own offsets', () => {
    const s = DM_RIG;
    // The decoder's order (depth first) with an end bone added under the head.
    const order = [...s.names.keys()].reverse().sort((a, b) => depth(a) - depth(b));
    function depth(j: number): number {
      let d = 0;
      for (let p = s.parents[j]; p >= 0; p = s.parents[p]) d++;
      return d;
    }
    const names = [...order.map((j) => s.names[j]), 'head_JNT_end'];
    const parents = Int32Array.from([...order.map((j) => (s.parents[j] < 0 ? -1 : order.indexOf(s.parents[j]))), order.indexOf(s.names.indexOf('head_JNT'))]);
    const offsets = new Float64Array(names.length * 3);
    order.forEach((j, i) => offsets.set(s.offsets.subarray(j * 3, j * 3 + 3), i * 3));
    const skeleton = { names, parents, offsets, restRotations: new Float64Array(names.length * 4).map((_, i) => (i % 4 === 3 ? 1 : 0)) };
    const clip = restClip(skeleton, 2, 30);
    clip.rotations[(names.indexOf('l_arm_JNT') + names.length) * 4] = 0.5; // a marker on frame 1
    const aligned = alignToCanonical({ skeleton, clip }, DEEPMOTION_SKELETON);
    expect(aligned.skeleton.names).toEqual(DEEPMOTION_SKELETON.names);
    const arm = DEEPMOTION_SKELETON.names.indexOf('l_arm_JNT');
    expect(aligned.clip.rotations[(DEEPMOTION_SKELETON.names.length + arm) * 4]).toBe(0.5);
    expect([...aligned.skeleton.offsets.subarray(arm * 3, arm * 3 + 3)]).toEqual([...s.offsets.subarray(s.names.indexOf('l_arm_JNT') * 3, s.names.indexOf('l_arm_JNT') * 3 + 3)]);
  });
});
