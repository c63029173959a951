/** Benchmark plumbing: child-process servers on loopback, autocannon runs, peak RSS, and the results table. */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Row {
  suite: string;
  metric: string;
  value: string;
  note?: string;
}

export interface ChildServer {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Peak resident set size of the child so far, in MiB (Linux VmHWM). */
  peakRssMiB(): number;
  stop(): Promise<void>;
}

/** Starts a TypeScript entry point under tsx in its own process and waits for the JSON line with its url. */
export function startChild(entry: string, env: Record<string, string> = {}): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${entry} did not start`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      for (const line of buf.split('\n')) {
        try {
          const msg = JSON.parse(line) as { url?: string };
          if (msg.url) {
            clearTimeout(timer);
            child.stdout!.removeAllListeners('data');
            child.stdout!.resume();
            resolve({
              url: msg.url,
              pid: child.pid!,
              child,
              peakRssMiB() {
                const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
                return m ? Number(m[1]) / 1024 : NaN;
              },
              stop: () =>
                new Promise<void>((r) => {
                  child.once('exit', () => r());
                  child.kill('SIGTERM');
                }),
            });
            return;
          }
        } catch {
          /* not a JSON line yet */
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`${entry} exited with ${code}`)));
  });
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  requests: number;
}

export async function load(opts: autocannon.Options): Promise<LoadResult> {
  const r = await autocannon({ connections: 10, duration: 5, ...opts });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors,
    non2xx: r.non2xx,
    requests: r.requests.total,
  };
}

export function markdownTable(rows: Row[]): string {
  const lines = ['| suite | metric | value | note |', '|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.suite} | ${r.metric} | ${r.value} | ${r.note ?? ''} |`);
  return lines.join('\n');
}
