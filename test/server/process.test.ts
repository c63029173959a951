/** The real process: starts from the environment, serves, and stops cleanly on SIGTERM with its store closed. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore as Store } from '../../src/jobs/sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'gw-process-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the gateway process', () => {
  it('serves a generation, then shuts down gracefully on SIGTERM', async () => {
    const db = join(dir, 'gw.db');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DB_PATH: db, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d) => {
        buf += d;
        const m = /"url":"(http:\/\/[^"]+)"/.exec(buf);
        if (m) resolve(m[1]);
      });
      child.on('exit', (c) => reject(new Error(`exited ${c}`)));
    });
    const caps = await (await fetch(`${url}/capabilities`)).json();
    const skeleton = caps.models[0].canonical_skeleton;
    const res = await fetch(`${url}/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'respond-async' },
      body: JSON.stringify({ protocol_version: '1.2', model: 'procedural', skeleton, segments: [{ type: 'text', prompt: 'jump', duration_frames: 30 }] }),
    });
    expect(res.status).toBe(202);
    const { job_id } = await res.json();
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // The job was recorded durably and the database was closed cleanly (no leftover WAL to replay).
    const store = new Store(db);
    expect((await store.getJob(job_id))?.state).toMatch(/succeeded|running|queued/);
    store.close();
  });
});
