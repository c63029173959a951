/**
 * The deployment files, checked without a Docker engine (none runs here): docker-compose.yml is valid
 * YAML with the topology the README describes — Redis durable (append-only file, noeviction, as BullMQ
 * requires), two gateway replicas and a worker on STORE=redis, nginx in front with its config — every
 * variable it sets is one the gateway reads, and every command it runs is a file the build produces.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '..', '..');
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { command?: string[]; environment?: Record<string, string>; deploy?: { replicas?: number }; volumes?: string[]; build?: string; image?: string }>;
};
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');

/** Every `'NAME'` environment variable the gateway's sources read (config and adapters). */
function variablesRead(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const p = join(dir, entry);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) for (const m of readFileSync(p, 'utf8').matchAll(/'([A-Z][A-Z0-9_]{2,})'/g)) names.add(m[1]);
    }
  };
  walk(join(root, 'src'));
  return names;
}

/** The source file a built `dist/…js` path comes from (tsconfig.build.json compiles the tree into dist/). */
const sourceOf = (built: string) => join(root, built.replace(/^dist\//, '').replace(/\.js$/, '.ts'));

describe('docker-compose.yml', () => {
  const { redis, gateway, worker, nginx } = compose.services;

  it('runs Redis durably: append-only file, and noeviction so no job or key is ever evicted', () => {
    const cmd = redis.command!.join(' ');
    expect(cmd).toMatch(/--appendonly yes/);
    expect(cmd).toMatch(/--maxmemory-policy noeviction/);
    expect(redis.volumes!.some((v) => v.endsWith(':/data'))).toBe(true);
  });

  it('runs two gateway replicas and a worker, all on the Redis store', () => {
    expect(gateway.deploy!.replicas).toBeGreaterThanOrEqual(2);
    for (const s of [gateway, worker]) {
      expect(s.environment!.STORE).toBe('redis');
      expect(s.environment!.REDIS_URL).toBe('redis://redis:6379');
    }
    expect(worker.image).toBe(gateway.image);
  });

  it('sets only variables the gateway reads', () => {
    const known = variablesRead();
    for (const s of [gateway, worker]) for (const name of Object.keys(s.environment!)) expect(known, name).toContain(name);
  });

  it('runs files the build produces: the gateway (Dockerfile CMD) and the worker', () => {
    const cmd = /CMD \["node", "([^"]+)"\]/.exec(dockerfile)![1];
    expect(existsSync(sourceOf(cmd)), cmd).toBe(true);
    const workerEntry = worker.command!.find((a) => a.startsWith('dist/'))!;
    expect(existsSync(sourceOf(workerEntry)), workerEntry).toBe(true);
  });

  it('puts nginx in front, with a config that proxies to the gateway port', () => {
    const mount = nginx.volumes!.find((v) => v.includes('nginx.conf'))!;
    const conf = readFileSync(join(root, mount.split(':')[0]), 'utf8');
    expect(conf).toContain(`server gateway:${gateway.environment!.PORT};`);
    expect(conf).toMatch(/proxy_buffering off;/); // streamed answers and events pass through as they are written
  });
});
