/**
 * Adapters that live outside this repository: `ADAPTERS=some-npm-package,./path/to/adapter.js` names
 * modules that each export a ProviderDefinition (as `default` or as `provider`), built against the
 * public contract `motion-gateway/adapter`. A module that cannot be loaded, or exports something else,
 * stops start-up with a message naming the module.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ADAPTER_CONTRACT_VERSION, type ProviderDefinition } from '../spec/adapter.js';
import { ConfigError } from '../spec/errors.js';

const PROVIDER_NAME = /^[a-z][a-z0-9_-]{0,31}$/;
const ENV_PREFIX = /^[A-Z][A-Z0-9_]*_$/;

/** Whether a specifier names a file (relative, absolute or file: URL) rather than an installed package. */
const isPath = (spec: string) => spec.startsWith('.') || isAbsolute(spec) || spec.startsWith('file:');

/** Checks that a module's export is a provider definition of a contract this gateway speaks. */
function asDefinition(spec: string, value: unknown): ProviderDefinition<unknown> {
  const fail = (why: string): never => {
    throw new ConfigError(`ADAPTERS: "${spec}" ${why}`);
  };
  if (!value || typeof value !== 'object') fail('exports no provider definition (export it as default or as `provider`)');
  const d = value as Partial<ProviderDefinition<unknown>>;
  if (typeof d.provider !== 'string' || !PROVIDER_NAME.test(d.provider)) fail('has no valid `provider` name (lower case letters, digits, - and _)');
  if (typeof d.envPrefix !== 'string' || !ENV_PREFIX.test(d.envPrefix)) fail('has no valid `envPrefix` (upper case, ending in _, e.g. "ACME_")');
  if (typeof d.readConfig !== 'function' || typeof d.create !== 'function') fail('must define readConfig(env) and create(config)');
  const major = (d.contract ?? ADAPTER_CONTRACT_VERSION).split('.')[0];
  if (major !== ADAPTER_CONTRACT_VERSION.split('.')[0]) {
    fail(`was built for adapter contract ${d.contract}; this gateway speaks ${ADAPTER_CONTRACT_VERSION}`);
  }
  return d as ProviderDefinition<unknown>;
}

/** Imports one external adapter module; paths are resolved against `baseDir` (the working directory). */
export async function loadExternalProvider(spec: string, baseDir: string): Promise<ProviderDefinition<unknown>> {
  const target = isPath(spec) ? (spec.startsWith('file:') ? spec : pathToFileURL(resolve(baseDir, spec)).href) : spec;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(target)) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`ADAPTERS: "${spec}" could not be loaded: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  return asDefinition(spec, mod.default ?? mod.provider);
}
