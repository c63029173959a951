/**
 * The mmcp provider's configuration: MMCP_UPSTREAMS, a JSON list of other MMCP servers, each read and
 * validated at start-up into one upstream (its own provider), with its API key from the variable it names.
 */
import type { Env } from '../../spec/adapter.js';
import { ConfigError } from '../../spec/errors.js';
import { envString } from '../kit/env.js';

/** The prefix of every variable the mmcp provider reads, MMCP_UPSTREAMS and the API keys it names included. */
export const MMCP_ENV_PREFIX = 'MMCP_';

export interface UpstreamConfig {
  /** Provider name and model-id prefix (`<id>/<upstream model id>`), lower case. */
  id: string;
  /** The upstream's base URL, without trailing slashes (`/capabilities`, `/generate` are below it). */
  baseUrl: string;
  /** The variable holding the API key (starts with MMCP_), when the upstream wants one. */
  apiKeyEnv?: string;
  /** The API key, sent as `Authorization: Bearer …` to this upstream's origin only. */
  apiKey?: string;
  /** Jobs of ours in flight at this upstream at once (`max_in_flight`); absent: MAX_CONCURRENT_JOBS. */
  maxInFlight?: number;
}

const ID = /^[a-z][a-z0-9_-]{0,31}$/;
// The key must live under our prefix: the provider is handed only those variables, and an entry can then
// never point at another provider's secret (SAYMOTION_CLIENT_SECRET) and send it to an upstream.
const KEY_ENV = /^MMCP_[A-Z0-9_]{1,64}$/;
const FIELDS = new Set(['id', 'base_url', 'api_key_env', 'max_in_flight']);

/** Provider names an upstream id may not take: the mmcp provider's own, and ones with special meaning. */
const RESERVED = ['mmcp', 'routing'];

/**
 * The upstreams MMCP_UPSTREAMS lists (empty when it is unset). `taken` are the provider names already in
 * use (the in-tree providers): an id equal to one of them, or to another entry's, is refused.
 */
export function readUpstreams(env: Env, taken: readonly string[] = []): UpstreamConfig[] {
  const raw = envString(env, 'MMCP_UPSTREAMS');
  if (raw === undefined) return [];
  const fail = (why: string): never => {
    throw new ConfigError(`MMCP_UPSTREAMS: ${why}`);
  };
  let list: unknown;
  try {
    list = JSON.parse(raw);
  } catch {
    fail('is not JSON (write a list such as [{"id": "kimodo", "base_url": "https://…", "api_key_env": "MMCP_KIMODO_API_KEY"}])');
  }
  if (!Array.isArray(list)) return fail('must be a JSON list of upstreams');
  const seen = new Set<string>();
  return list.map((entry: unknown, i): UpstreamConfig => {
    const at = `entry ${i}`;
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return fail(`${at} is not an object`);
    const e = entry as Record<string, unknown>;
    const name = typeof e.id === 'string' ? `${at} ("${e.id.slice(0, 40)}")` : at;
    const extra = Object.keys(e).find((k) => !FIELDS.has(k));
    if (extra !== undefined) fail(`${name} has an unknown field "${extra.slice(0, 40)}" (known: id, base_url, api_key_env, max_in_flight)`);
    if (typeof e.id !== 'string' || !ID.test(e.id)) fail(`${at}: id must be 1-32 lower-case letters, digits, - or _, starting with a letter`);
    const id = e.id as string;
    if (taken.includes(id) || RESERVED.includes(id)) fail(`${name}: the provider name "${id}" is already taken`);
    if (seen.has(id)) fail(`${name}: the id "${id}" is listed twice`);
    seen.add(id);
    const baseUrl = baseUrlOf(e.base_url, name, fail);
    if (e.max_in_flight !== undefined && !(Number.isInteger(e.max_in_flight) && (e.max_in_flight as number) >= 1 && (e.max_in_flight as number) <= 10_000)) {
      fail(`${name}: max_in_flight must be a whole number from 1 to 10000 (jobs in flight at this upstream at once)`);
    }
    const cap = e.max_in_flight === undefined ? {} : { maxInFlight: e.max_in_flight as number };
    if (e.api_key_env === undefined) return { id, baseUrl, ...cap };
    if (typeof e.api_key_env !== 'string' || !KEY_ENV.test(e.api_key_env)) {
      fail(`${name}: api_key_env must name a variable starting with MMCP_ (e.g. "MMCP_${id.toUpperCase().replace(/-/g, '_')}_API_KEY"); the mmcp provider reads no other variables`);
    }
    const apiKeyEnv = e.api_key_env as string;
    const apiKey = envString(env, apiKeyEnv);
    if (apiKey === undefined) fail(`${name}: api_key_env names ${apiKeyEnv}, which is not set`);
    if (!/^[\x21-\x7e]+$/.test(apiKey!)) fail(`${name}: ${apiKeyEnv} must be printable ASCII without spaces`);
    return { id, baseUrl, apiKeyEnv, apiKey, ...cap };
  });
}

function baseUrlOf(value: unknown, name: string, fail: (why: string) => never): string {
  if (typeof value !== 'string') return fail(`${name}: base_url is required (an absolute http(s) URL)`);
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return fail(`${name}: base_url is not an absolute URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') fail(`${name}: base_url must be an http(s) URL`);
  if (u.username || u.password) fail(`${name}: base_url must not carry credentials (use api_key_env)`);
  if (u.search || u.hash) fail(`${name}: base_url must not have a query or a fragment`);
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}
