/** MMCP_UPSTREAMS: read through the configuration loader, one provider per upstream, every bad entry refused by name. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { readUpstreams } from '../../../src/adapters/mmcp/config.js';
import { ConfigError } from '../../../src/spec/errors.js';

const base = { DB_PATH: ':memory:', LOG_LEVEL: 'silent' };
const list = (...entries: unknown[]) => JSON.stringify(entries);

describe('MMCP_UPSTREAMS', () => {
  it('configures one provider per upstream, its key read from the variable it names and kept secret', () => {
    const config = loadConfig({
      ...base,
      MMCP_UPSTREAMS: list({ id: 'kimodo', base_url: 'https://kimodo.example.com/mmcp/', api_key_env: 'MMCP_KIMODO_API_KEY' }, { id: 'lab-2', base_url: 'http://10.0.0.5:8080', max_in_flight: 2 }),
      MMCP_KIMODO_API_KEY: 'kimodo-secret-key-123',
    });
    const names = config.providers.map((p) => p.definition.provider);
    expect(names).toEqual(['procedural', 'kimodo', 'lab-2']);
    const kimodo = config.providers.find((p) => p.definition.provider === 'kimodo')!;
    expect(kimodo.config).toEqual({ id: 'kimodo', baseUrl: 'https://kimodo.example.com/mmcp', apiKeyEnv: 'MMCP_KIMODO_API_KEY', apiKey: 'kimodo-secret-key-123' });
    expect(config.secrets).toContain('kimodo-secret-key-123');
    // Each is an adapter of its own, under its own provider name.
    const adapter = kimodo.definition.create(kimodo.config);
    expect(adapter.provider).toBe('kimodo');
    expect(adapter.readiness().ready).toBe(false);
    // No cap of its own unless configured: the gateway's MAX_CONCURRENT_JOBS holds.
    expect(adapter.maxInFlight).toBeUndefined();
    const lab = config.providers.find((p) => p.definition.provider === 'lab-2')!;
    expect(lab.config).toMatchObject({ maxInFlight: 2 });
    expect(lab.definition.create(lab.config).maxInFlight?.()).toBe(2);
  });

  it('configures nothing when unset or empty', () => {
    expect(readUpstreams({})).toEqual([]);
    expect(loadConfig({ ...base, MMCP_UPSTREAMS: '[]' }).providers.map((p) => p.definition.provider)).toEqual(['procedural']);
  });

  const refusals: Array<[string, Record<string, string>, RegExp]> = [
    ['not JSON', { MMCP_UPSTREAMS: '[{id:' }, /MMCP_UPSTREAMS: is not JSON/],
    ['not a list', { MMCP_UPSTREAMS: '{"id":"a"}' }, /must be a JSON list/],
    ['an entry that is no object', { MMCP_UPSTREAMS: '["a"]' }, /entry 0 is not an object/],
    ['a bad id', { MMCP_UPSTREAMS: list({ id: 'Kimodo', base_url: 'https://a.example' }) }, /entry 0: id must be/],
    ['an id of an in-tree provider', { MMCP_UPSTREAMS: list({ id: 'saymotion', base_url: 'https://a.example' }) }, /entry 0 \("saymotion"\): the provider name "saymotion" is already taken/],
    ['the same id twice', { MMCP_UPSTREAMS: list({ id: 'a', base_url: 'https://a.example' }, { id: 'a', base_url: 'https://b.example' }) }, /entry 1 \("a"\): the id "a" is listed twice/],
    ['an unknown field', { MMCP_UPSTREAMS: list({ id: 'a', base_url: 'https://a.example', models: [] }) }, /entry 0 \("a"\) has an unknown field "models"/],
    ['no base_url', { MMCP_UPSTREAMS: list({ id: 'a' }) }, /entry 0 \("a"\): base_url is required/],
    ['a max_in_flight that is not a whole number from 1', { MMCP_UPSTREAMS: list({ id: 'a', base_url: 'https://a.example', max_in_flight: 0 }) }, /entry 0 \("a"\): max_in_flight must be a whole number from 1 to 10000/],
    ['a base_url that is no URL', { MMCP_UPSTREAMS: list({ id: 'a', base_url: 'kimodo:8080/x' }) }, /base_url must be an http\(s\) URL|base_url is not an absolute URL/],
    ['credentials in base_url', { MMCP_UPSTREAMS: list({ id: 'a', base_url: 'https://u:p@a.example' }) }, /must not carry credentials/],
    ['a key variable outside MMCP_', { MMCP_UPSTREAMS: list({ id: 'a', base_url: 'https://a.example', api_key_env: 'SAYMOTION_CLIENT_SECRET' }), SAYMOTION_CLIENT_SECRET: 'x' }, /api_key_env must name a variable starting with MMCP_/],
    ['a key variable that is not set', { MMCP_UPSTREAMS: list({ id: 'a', base_url: 'https://a.example', api_key_env: 'MMCP_A_KEY' }) }, /api_key_env names MMCP_A_KEY, which is not set/],
  ];
  for (const [what, env, message] of refusals) {
    it(`refuses ${what}, naming the variable and the entry`, () => {
      expect(() => loadConfig({ ...base, ...env })).toThrow(ConfigError);
      expect(() => loadConfig({ ...base, ...env })).toThrow(message);
    });
  }
});
