/** The configuration tests start from: in-memory store, quiet logs, ephemeral port, the procedural model only. */
import { loadConfig, type Config } from '../../src/config.js';

export function testConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({ DB_PATH: ':memory:', LOG_LEVEL: 'silent', PORT: '0', HOST: '127.0.0.1' }), ...overrides };
}
