/** Readers for environment variables: each validates one value and names the variable when it is wrong. */
import { ConfigError } from '../../spec/errors.js';
import type { Env } from '../../spec/adapter.js';

export function envString(env: Env, name: string, def?: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? def : raw.trim();
}

export function envInt(env: Env, name: string, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return def;
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
  const v = Number(raw);
  if (v < min || v > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${v}`);
  return v;
}

export function envNumber(env: Env, name: string, def: number, min: number, max: number, unit = ''): number {
  const raw = envString(env, name);
  if (raw === undefined) return def;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) throw new ConfigError(`${name} must be a number between ${min} and ${max}${unit}, got "${raw}"`);
  return v;
}

export function envBool(env: Env, name: string, def: boolean): boolean {
  const raw = envString(env, name);
  if (raw === undefined) return def;
  const v = raw.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/** An absolute http(s) URL, without trailing slashes. */
export function envUrl(env: Env, name: string, def?: string): string | undefined {
  const v = envString(env, name, def);
  if (v === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ConfigError(`${name} must be an absolute http(s) URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(`${name} must be an http(s) URL`);
  return v.replace(/\/+$/, '');
}

/** The variables of `env` whose names start with `prefix`: what a provider is handed. */
export function envSlice(env: Env, prefix: string): Env {
  return Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith(prefix)));
}
