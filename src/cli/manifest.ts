/**
 * A batch manifest: `{"defaults": {…request fields…}, "clips": [{"name", "prompt", "seconds"} | {"name", "request"}]}`,
 * validated up front with messages naming the clip, so a typo fails before anything is paid for.
 */
import { CliError } from './exit-codes.js';
import { isObj, readJsonFile, type Json } from './json.js';

export type Clip = { name: string; prompt: string; seconds?: number } | { name: string; request: Json };

export interface Manifest {
  defaults: Json;
  /** `defaults.seconds`, the length of prompt clips that give none (not a request field). */
  defaultSeconds?: number;
  clips: Clip[];
}

/** Safe on every file system: no separators, no leading dot, no reserved characters. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export async function readManifest(file: string): Promise<Manifest> {
  return parseManifest(await readJsonFile(file, `manifest ${file}`), file);
}

export function parseManifest(value: unknown, file: string): Manifest {
  const fail = (what: string): never => {
    throw new CliError(`manifest ${file}: ${what}`, undefined, 'See `motion-gateway batch --help` for the manifest format.');
  };
  if (!isObj(value)) fail('expected a JSON object with "clips"');
  const m = value as Json;
  for (const key of Object.keys(m)) if (key !== 'defaults' && key !== 'clips') fail(`unknown field "${key}" (expected "defaults" and "clips")`);
  if (m.defaults !== undefined && !isObj(m.defaults)) fail('"defaults" must be an object of request fields');
  const defaults: Json = { ...((m.defaults as Json | undefined) ?? {}) };
  let defaultSeconds: number | undefined;
  if (defaults.seconds !== undefined) {
    if (!isPositive(defaults.seconds)) fail('"defaults.seconds" must be a positive number');
    defaultSeconds = defaults.seconds as number;
    delete defaults.seconds;
  }
  if (!Array.isArray(m.clips) || m.clips.length === 0) fail('"clips" must be a non-empty array');
  const names = new Set<string>();
  const clips = (m.clips as unknown[]).map((c, i): Clip => {
    const at = `clips[${i}]`;
    if (!isObj(c)) return fail(`${at} must be an object`);
    if (typeof c.name !== 'string' || !SAFE_NAME.test(c.name)) fail(`${at}.name ${JSON.stringify(c.name)} is not a safe file name (letters, digits, ".", "_", "-"; starting with a letter or digit; at most 100)`);
    const name = c.name as string;
    // Case-insensitive file systems (macOS, Windows) would write two such clips to one file.
    if (names.has(name.toLowerCase())) fail(`${at}.name "${name}" is used twice (names must be unique, ignoring case)`);
    names.add(name.toLowerCase());
    const allowed = c.request !== undefined ? ['name', 'request'] : ['name', 'prompt', 'seconds'];
    for (const key of Object.keys(c)) if (!allowed.includes(key)) fail(`${at} ("${name}"): unexpected field "${key}" (a clip has either "prompt" and optionally "seconds", or "request")`);
    if (c.request !== undefined) {
      if (!isObj(c.request)) fail(`${at} ("${name}"): "request" must be an object (request fields)`);
      return { name, request: c.request as Json };
    }
    if (typeof c.prompt !== 'string' || c.prompt.trim() === '') fail(`${at} ("${name}"): give a non-empty "prompt" or a "request"`);
    if (c.seconds !== undefined && !isPositive(c.seconds)) fail(`${at} ("${name}"): "seconds" must be a positive number`);
    return { name, prompt: c.prompt as string, ...(c.seconds !== undefined ? { seconds: c.seconds as number } : {}) };
  });
  return { defaults, defaultSeconds, clips };
}

const isPositive = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x) && x > 0;
