/**
 * Secret redaction on its own: the adapters' Secrets (text, structured values, GatewayErrors, log
 * fields, live values learnt later) and src/log.ts's last line of defence, which replaces configured
 * secrets in every written line whatever field carries them.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Secrets } from '../../../src/adapters/kit/redact.js';
import { loadConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/log.js';
import { GatewayError } from '../../../src/spec/errors.js';

const KEY = 'sk-live-9d8c7b6a5f4e';
const QUOTED = 'pa"ss\\word-77';

function capture(): { lines: string[]; destination: Writable } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, destination };
}

describe('Secrets', () => {
  it('replaces every configured value in text, plain, percent-encoded or JSON-escaped', () => {
    const s = new Secrets([KEY, QUOTED, undefined]);
    expect(s.text(`key=${KEY}; again ${KEY}`)).toBe('key=[redacted]; again [redacted]');
    expect(s.text(`url?k=${encodeURIComponent(QUOTED)}`)).toBe('url?k=[redacted]');
    expect(s.text(JSON.stringify({ p: QUOTED }))).toBe('{"p":"[redacted]"}');
    expect(s.text('nothing secret here')).toBe('nothing secret here');
  });

  it('ignores values too short to be secrets rather than blanking ordinary words', () => {
    expect(new Secrets(['ab']).text('a tab')).toBe('a tab');
  });

  it('redacts values learnt later (session cookies) from then on', () => {
    const s = new Secrets([KEY]);
    expect(s.text('cookie 0123456789abcdef')).toBe('cookie 0123456789abcdef');
    s.addLive('0123456789abcdef');
    expect(s.text('cookie 0123456789abcdef')).toBe('cookie [redacted]');
  });

  it('rebuilds a GatewayError with message, action and nested details redacted, keeping its identity', () => {
    const s = new Secrets([KEY]);
    const err = new GatewayError('MG-PRV-400', `refused ${KEY}`, { details: { provider: 'x', provider_message: `bad ${KEY}`, nested: [{ m: KEY }] } });
    const out = s.error(err) as GatewayError;
    expect(out).toBeInstanceOf(GatewayError);
    expect(out.id).toBe('MG-PRV-400');
    expect(out.message).toBe('refused [redacted]');
    expect(out.details).toEqual({ provider: 'x', provider_message: 'bad [redacted]', nested: [{ m: '[redacted]' }] });
    const clean = new GatewayError('MG-PRV-500');
    expect(s.error(clean)).toBe(clean);
  });

  it('wraps a logger so fields and messages are redacted before they are passed on', () => {
    const seen: Array<[object, string | undefined]> = [];
    const log = new Secrets([KEY]).logger({
      debug: () => undefined,
      info: () => undefined,
      warn: (o, m) => void seen.push([o, m]),
      error: () => undefined,
    });
    log.warn({ err: new Error(`boom ${KEY}`), deep: { list: [KEY] } }, `message ${KEY}`);
    expect(seen).toEqual([[{ err: 'Error: boom [redacted]', deep: { list: ['[redacted]'] } }, 'message [redacted]']]);
  });
});

describe('the process logger', () => {
  it('replaces configured secrets in every line, in any field or message', () => {
    const { lines, destination } = capture();
    const log = createLogger('info', { secrets: [KEY, QUOTED], destination });
    log.info({ provider_message: `echo ${KEY}`, nested: { q: QUOTED }, err: new Error(`failed with ${KEY}`) }, `told ${KEY}`);
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(KEY);
    expect(lines[0]).not.toContain(JSON.stringify(QUOTED).slice(1, -1));
    const line = JSON.parse(lines[0]);
    expect(line.msg).toBe('told [redacted]');
    expect(line.provider_message).toBe('echo [redacted]');
    expect(line.nested.q).toBe('[redacted]');
  });

  it('is fed by the configuration: provider secrets and gateway API keys', () => {
    const config = loadConfig({
      DB_PATH: ':memory:',
      MESHY_API_KEY: 'msy_configured_key_123',
      MESHY_CHARACTER_URL: 'https://example.com/hero.glb',
      SAYMOTION_BASE_URL: 'https://api.saymotion.example',
      SAYMOTION_CLIENT_ID: 'client-1',
      SAYMOTION_CLIENT_SECRET: 'saymotion-secret-xyz',
      SAYMOTION_CHARACTER_ID: 'dm_stock',
      GATEWAY_API_KEYS: 'gateway-key-0123456789',
    });
    expect(config.secrets).toEqual(expect.arrayContaining(['msy_configured_key_123', 'saymotion-secret-xyz', 'gateway-key-0123456789']));
    const { lines, destination } = capture();
    createLogger('info', { secrets: config.secrets, destination }).info({ a: 'saymotion-secret-xyz', b: 'msy_configured_key_123' }, 'gateway-key-0123456789');
    expect(lines[0]).not.toMatch(/saymotion-secret-xyz|msy_configured_key_123|gateway-key-0123456789/);
  });
});

describe('PROVIDER_ASSET_ORIGINS', () => {
  it('reads comma-separated origins, normalized', () => {
    const config = loadConfig({ DB_PATH: ':memory:', PROVIDER_ASSET_ORIGINS: 'https://cdn.example.com, http://127.0.0.1:9000/' });
    expect(config.assetOrigins).toEqual(['https://cdn.example.com', 'http://127.0.0.1:9000']);
    expect(loadConfig({ DB_PATH: ':memory:' }).assetOrigins).toEqual([]);
  });

  it.each(['cdn.example.com', 'ftp://files.example.com', 'https://cdn.example.com/assets'])('refuses %s, naming the variable', (value) => {
    expect(() => loadConfig({ DB_PATH: ':memory:', PROVIDER_ASSET_ORIGINS: value })).toThrow(/PROVIDER_ASSET_ORIGINS/);
  });
});
