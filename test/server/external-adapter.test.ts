/**
 * Adapters from outside the tree: a plain-JavaScript provider named by ADAPTERS is loaded from its path,
 * handed only its own variables, listed in /capabilities and served end to end like any in-tree model.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, loadExternalProviders } from '../../src/config.js';
import { ConfigError } from '../../src/spec/errors.js';
import { createGateway, type Gateway } from '../../src/server/app.js';
import { validateGltf } from '../helpers/gltf-validate.js';
import { postGenerate } from '../helpers/gateway.js';

const FIXTURE = './test/fixtures/external-adapter/index.js';
const base = { DB_PATH: ':memory:', LOG_LEVEL: 'silent', PORT: '0', HOST: '127.0.0.1' };

describe('an adapter loaded with ADAPTERS', () => {
  let gw: Gateway;
  let url: string;

  beforeAll(async () => {
    const env = { ...base, ADAPTERS: FIXTURE, METRONOME_ENABLED: 'true', METRONOME_BPM: '90', SAYMOTION_CLIENT_SECRET: 'not-for-metronome' };
    gw = createGateway(await loadExternalProviders(loadConfig(env), env));
    url = await gw.listen(0, '127.0.0.1');
  });
  afterAll(() => gw.close());

  it('is listed in /capabilities beside the in-tree models, with the configured gateway-wide limits', async () => {
    const caps = await (await fetch(`${url}/capabilities`)).json();
    const model = caps.models.find((m: { id: string }) => m.id === 'metronome');
    expect(caps.models.map((m: { id: string }) => m.id)).toEqual(['procedural', 'metronome']);
    expect(model).toMatchObject({ provider: 'metronome', supports_retargeting: true, limits: { max_duration_seconds: 10, max_request_bytes: 1_048_576 } });
    const ready = await (await fetch(`${url}/readyz`)).json();
    expect(ready.adapters.metronome).toEqual({ ready: true });
  });

  it('serves a generation on its own skeleton and on another rig, through the whole pipeline', async () => {
    const caps = await (await fetch(`${url}/capabilities`)).json();
    const own = caps.models.find((m: { id: string }) => m.id === 'metronome').canonical_skeleton;
    const procedural = caps.models.find((m: { id: string }) => m.id === 'procedural').canonical_skeleton;
    for (const skeleton of [own, procedural]) {
      const res = await postGenerate(url, { protocol_version: '1.2', model: 'metronome', skeleton, segments: [{ type: 'text', prompt: 'keep time', duration_frames: 45 }] }, { accept: 'model/gltf-binary' });
      expect(res.status).toBe(200);
      const glb = new Uint8Array(await res.arrayBuffer());
      const report = await validateGltf(glb, 'glb');
      expect(report.errors).toEqual([]);
    }
  });

  it('answers its own refusals in the envelope', async () => {
    const caps = await (await fetch(`${url}/capabilities`)).json();
    const skeleton = caps.models.find((m: { id: string }) => m.id === 'metronome').canonical_skeleton;
    const res = await postGenerate(url, { protocol_version: '1.2', model: 'metronome', skeleton, segments: [{ type: 'text', prompt: 'silence', duration_frames: 10 }] });
    expect(res.status).toBe(400);
    expect((await res.json()).detail.error_code).toBe('MG-PRO-014');
  });
});

describe('ADAPTERS refusals stop start-up naming the module', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-adapters-'));
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const load = (spec: string, extra: Record<string, string> = {}) => {
    const env = { ...base, ADAPTERS: spec, ...extra };
    return loadExternalProviders(loadConfig(env), env);
  };

  it.each([
    ['a path that does not exist', () => './no/such/adapter.js', /could not be loaded/],
    ['a module without a definition', () => write('empty.mjs', 'export const x = 1;\n'), /exports no provider definition/],
    ['a bad provider name', () => write('name.mjs', 'export default { provider: "Bad Name", envPrefix: "X_", readConfig() {}, create() {} };\n'), /valid `provider` name/],
    ['another contract major', () => write('major.mjs', 'export default { provider: "future", contract: "2.0", envPrefix: "FUTURE_", readConfig() {}, create() {} };\n'), /contract 2\.0/],
    ['a name already taken', () => write('taken.mjs', 'export default { provider: "meshy", envPrefix: "MESHY2_", readConfig() {}, create() {} };\n'), /already taken/],
  ])('%s', async (_what, spec, message) => {
    const s = spec();
    await expect(load(s)).rejects.toThrow(ConfigError);
    await expect(load(s)).rejects.toThrow(message);
    await expect(load(s)).rejects.toThrow(s);
  });

  it('leaves an adapter that is not configured out of the providers', async () => {
    const config = await load(FIXTURE);
    expect(config.providers.map((p) => p.definition.provider)).toEqual(['procedural']);
  });

  it('passes the adapter\'s own ConfigError through', async () => {
    await expect(load(FIXTURE, { METRONOME_ENABLED: 'true', METRONOME_BPM: 'fast' })).rejects.toThrow(/METRONOME_BPM must be an integer/);
  });
});
