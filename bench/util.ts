/**
 * Benchmark plumbing: child-process servers on loopback (a JSON url line, or a gateway on a port picked
 * here), autocannon runs, memory of a child (/proc), Prometheus scrapes, and the results table.
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { Agent, request } from 'undici';

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
  /** Resident set size of the child now, in MiB (Linux VmRSS). */
  rssMiB(): number;
  /** Makes the peak start again from the resident size now (Linux clear_refs 5), so a later peakRssMiB() covers only what follows. */
  resetPeakRss(): void;
  stop(): Promise<void>;
}

function procStatusMiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function spawnTs(entry: string, env: Record<string, string>, nodeArgs: string[] = []): ChildProcess {
  return spawn(process.execPath, [...nodeArgs, '--import', 'tsx', entry], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

function serverOf(child: ChildProcess, url: string): ChildServer {
  const pid = child.pid!;
  return {
    url,
    pid,
    child,
    peakRssMiB: () => procStatusMiB(pid, 'VmHWM'),
    rssMiB: () => procStatusMiB(pid, 'VmRSS'),
    resetPeakRss: () => writeFileSync(`/proc/${pid}/clear_refs`, '5'),
    stop: () =>
      new Promise<void>((r) => {
        if (child.exitCode !== null || child.signalCode !== null) return r();
        child.once('exit', () => r());
        child.kill('SIGTERM');
      }),
  };
}

/** Starts a TypeScript entry point under tsx in its own process and waits for the JSON line with its url. */
export function startChild(entry: string, env: Record<string, string> = {}): Promise<ChildServer> {
  const child = spawnTs(entry, env);
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
            resolve(serverOf(child, msg.url));
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

/** An ephemeral loopback port, free a moment ago (the gateway at LOG_LEVEL warn prints no url line to read it from). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** pino's numeric levels: error and fatal lines of a gateway child are passed on to the bench's stderr. */
const PINO_ERROR = 50;

/**
 * Starts the gateway (src/main.ts) in a child process on loopback at LOG_LEVEL warn, with an in-memory
 * store unless `env` says otherwise, and waits until /healthz answers. BENCH_GATEWAY_NODE_ARGS adds node
 * flags to every gateway child, for diagnosis (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
export async function startGateway(env: Record<string, string> = {}): Promise<ChildServer> {
  const port = await freePort();
  const nodeArgs = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawnTs('src/main.ts', { HOST: '127.0.0.1', DB_PATH: ':memory:', SHUTDOWN_GRACE_MS: '1000', ...env, PORT: String(port) }, nodeArgs);
  let rest = '';
  child.stdout!.on('data', (d: Buffer) => {
    const lines = (rest + d.toString()).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      try {
        if ((JSON.parse(line) as { level?: number }).level! >= PINO_ERROR) process.stderr.write(`[gateway ${child.pid}] ${line}\n`);
      } catch {
        /* not a log line */
      }
    }
  });
  const url = `http://127.0.0.1:${port}`;
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`the gateway exited with ${exited} before listening`);
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error('the gateway did not start within 30 s');
    }
    try {
      if ((await fetch(`${url}/healthz`)).ok) return serverOf(child, url);
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  requests: number;
  /** Answers by HTTP status. */
  statuses: Record<string, number>;
}

/** An autocannon run (10 connections for 5 s unless told; `amount` alone bounds it by requests instead). */
export async function load(opts: autocannon.Options): Promise<LoadResult> {
  const r = await autocannon({ connections: 10, ...(opts.amount === undefined ? { duration: 5 } : {}), ...opts });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors,
    non2xx: r.non2xx,
    requests: r.requests.total,
    statuses: Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, v.count ?? 0])),
  };
}

export interface ProbeResult {
  p50: number;
  p99: number;
  max: number;
  requests: number;
  /** Answers by HTTP status ('error' for a request that got none). */
  statuses: Record<string, number>;
}

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN);

/**
 * Open-loop latency probe: one request every 1/rate s whatever the answers do (each on its own
 * keep-alive connection when earlier ones are still out), timed from sending to the last body byte;
 * exact percentiles of every answer whatever its status. (autocannon's rate mode sends each second's
 * requests back to back and fills in coordinated-omission samples at a 1 ms interval, which is not what
 * a latency target of a paced caller means.)
 */
export async function probe(opts: { url: string; rate: number; durationS: number; method?: 'GET' | 'POST'; body?: string; headers?: Record<string, string> }): Promise<ProbeResult> {
  const agent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const pending: Promise<void>[] = [];
  const one = async () => {
    const t0 = performance.now();
    let status = 'error';
    try {
      const r = await request(opts.url, { method: opts.method ?? 'GET', body: opts.body, headers: opts.headers, dispatcher: agent });
      for await (const _chunk of r.body) {
        /* read to the end */
      }
      status = String(r.statusCode);
    } catch {
      /* counted as 'error' */
    }
    latencies.push(performance.now() - t0);
    statuses[status] = (statuses[status] ?? 0) + 1;
  };
  const count = Math.round(opts.rate * opts.durationS);
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / opts.rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(one());
  }
  await Promise.all(pending);
  await agent.close();
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? NaN, requests: latencies.length, statuses };
}

/** The samples of one metric family of a Prometheus text exposition, by their label text ('' when none). */
function promSamples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[1] === name) out.set(m[2] ?? '', Number(m[3]));
  }
  return out;
}

/** One sample of a metric (the first, or the one whose labels contain `labels`). */
export function promValue(text: string, name: string, labels = ''): number {
  for (const [l, v] of promSamples(text, name)) if (l.includes(labels)) return v;
  return NaN;
}

export const scrapeMetrics = async (url: string): Promise<string> => (await fetch(`${url}/metrics`)).text();

export const ms = (seconds: number): string => `${(seconds * 1000).toFixed(1)} ms`;
/** A latency in milliseconds, to a tenth. */
export const msOf = (millis: number): string => `${millis.toFixed(1)} ms`;
export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Runs `fn` with console.log silenced (the SayMotion SDK prints a line per downloaded job). */
export async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = () => {};
  try {
    return await fn();
  } finally {
    console.log = log;
  }
}

export function markdownTable(rows: Row[]): string {
  const lines = ['| suite | metric | value | note |', '|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.suite} | ${r.metric} | ${r.value} | ${r.note ?? ''} |`);
  return lines.join('\n');
}
