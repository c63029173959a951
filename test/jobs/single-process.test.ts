/**
 * STORE=sqlite is one process per database file, and says so: real gateway processes on one DB_PATH.
 * The second is refused at start-up with a message pointing to STORE=redis; after the first dies by
 * kill -9 (no clean close) the lock is gone with it and a new process starts on the same file.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'gw-single-'));
const children: ChildProcessWithoutNullStreams[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcessWithoutNullStreams;
  /** Resolves with the URL once listening, or with the exit code and output when the process exits first. */
  outcome: Promise<{ url: string } | { code: number | null; output: string }>;
}

function startProcess(db: string): Started {
  const env = { ...process.env, PORT: '0', HOST: '127.0.0.1', DB_PATH: db, LOG_LEVEL: 'info', STORE: 'sqlite' };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  const outcome = new Promise<{ url: string } | { code: number | null; output: string }>((resolve) => {
    child.stdout.on('data', (d) => {
      output += d;
      const m = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (m) resolve({ url: m[1] });
    });
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) => resolve({ code, output }));
  });
  return { child, outcome };
}

const exitOf = (c: ChildProcessWithoutNullStreams) => new Promise<number | null>((r) => (c.exitCode !== null || c.signalCode !== null ? r(c.exitCode) : c.on('exit', (code) => r(code))));

describe('SQLite mode: one process per database file', () => {
  it('refuses a second process on the same DB_PATH, pointing to STORE=redis, and lets a successor start after kill -9', async () => {
    const db = join(dir, 'gw.db');
    const first = startProcess(db);
    const up = await first.outcome;
    expect(up, JSON.stringify(up)).toHaveProperty('url');
    expect((await fetch(`${(up as { url: string }).url}/readyz`)).status).toBe(200);

    const second = startProcess(db);
    const refused = await second.outcome;
    expect(refused).not.toHaveProperty('url');
    const { code, output } = refused as { code: number | null; output: string };
    expect(code).toBe(1);
    expect(output).toContain(`The database ${db} is in use by another gateway process`);
    expect(output).toContain('STORE=redis');
    // The first process is unaffected.
    expect((await fetch(`${(up as { url: string }).url}/readyz`)).status).toBe(200);

    first.child.kill('SIGKILL');
    await exitOf(first.child);
    const successor = startProcess(db);
    const next = await successor.outcome;
    expect(next, JSON.stringify(next)).toHaveProperty('url');
    // Serving (its signal handlers are installed once it has answered), then a clean stop.
    expect((await fetch(`${(next as { url: string }).url}/readyz`)).status).toBe(200);
    successor.child.kill('SIGTERM');
    expect(await exitOf(successor.child)).toBe(0);
  }, 30_000);
});
