/**
 * Forward compatibility across a job's whole life: the fields a newer-minor request had that this server
 * ignored are listed on every answer of its job — the first 202, a poll, an Idempotency-Key replay, the
 * final glTF — and still after a restart rebuilt the job's plan from the store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createGatedAdapter } from '../helpers/gated-adapter.js';
import { canonicalSkeleton, postGenerate, startGateway } from '../helpers/gateway.js';

const tmp = mkdtempSync(join(tmpdir(), 'gw-ignored-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const HEADER = 'x-mmcp-ignored-fields';
const LISTED = 'segments[0].speed, mood';

describe('ignored fields of a newer-minor request', () => {
  it('are listed on the 202, its polls and replays, and on the result after a restart', async () => {
    const db = join(tmp, 'gateway.db');
    const shared = { calls: { start: 0, advance: 0, cancel: 0 }, gate: { open: false } };
    const first = await startGateway({ dbPath: db }, { adapters: [createGatedAdapter({ shared })] });
    const skeleton = await canonicalSkeleton(first.url, 'gated');
    const body = {
      protocol_version: '1.9',
      model: 'gated',
      skeleton,
      segments: [{ type: 'text', prompt: 'walk forward', duration_frames: 30, speed: 2 }],
      mood: 'happy',
      options: { seed: 5 },
    };
    const headers = { prefer: 'respond-async', 'idempotency-key': 'ignored-fields-1', accept: 'model/gltf-binary' };
    const accepted = await postGenerate(first.url, body, headers);
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get(HEADER)).toBe(LISTED);
    const location = accepted.headers.get('location')!;
    await accepted.arrayBuffer();

    const poll = await fetch(first.url + location, { headers: { accept: 'model/gltf-binary' } });
    expect(poll.status).toBe(202);
    expect(poll.headers.get(HEADER)).toBe(LISTED);
    await poll.arrayBuffer();
    const status = await fetch(`${first.url}${location}/status`);
    expect(status.status).toBe(200);
    await status.arrayBuffer();

    const replay = await postGenerate(first.url, body, headers);
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.headers.get(HEADER)).toBe(LISTED);
    await replay.arrayBuffer();
    await first.close();

    // The job resumes in a new process: its plan is rebuilt from the stored row, ignored fields included.
    shared.gate.open = true;
    const second = await startGateway({ dbPath: db }, { adapters: [createGatedAdapter({ shared })] });
    try {
      let done = await fetch(second.url + location, { headers: { accept: 'model/gltf+json' } });
      while (done.status === 202) {
        await done.arrayBuffer();
        await second.gw.runner.waitFor(location.split('/').pop()!, 2_000);
        done = await fetch(second.url + location, { headers: { accept: 'model/gltf+json' } });
      }
      expect(done.status).toBe(200);
      expect(done.headers.get(HEADER)).toBe(LISTED);
      expect((await done.json()).extensions.MMCP_motion.x_ignored_fields).toEqual(['segments[0].speed', 'mood']);

      const finalReplay = await postGenerate(second.url, body, headers);
      expect(finalReplay.status).toBe(202); // the first answer was a 202: a replay answers it again
      expect(finalReplay.headers.get(HEADER)).toBe(LISTED);
      await finalReplay.arrayBuffer();
      expect(shared.calls.start).toBe(1);
    } finally {
      await second.close();
    }
  });

  it('are absent from every answer of a request that had none', async () => {
    const g = await startGateway();
    try {
      const skeleton = await canonicalSkeleton(g.url);
      const res = await postGenerate(g.url, { protocol_version: '1.9', model: 'procedural', skeleton, segments: [{ type: 'text', prompt: 'wave', duration_frames: 15 }] }, { prefer: 'respond-async' });
      expect(res.status).toBe(202);
      expect(res.headers.get(HEADER)).toBeNull();
      const location = res.headers.get('location')!;
      await res.arrayBuffer();
      await g.gw.runner.waitFor(location.split('/').pop()!, 5_000);
      const done = await fetch(g.url + location);
      expect(done.status).toBe(200);
      expect(done.headers.get(HEADER)).toBeNull();
      await done.arrayBuffer();
    } finally {
      await g.close();
    }
  });
});
