/**
 * The configuration tests start from: in-memory store, quiet logs, ephemeral port, the procedural model only,
 * circuit breakers that do not open unless a test sets `breakers`.
 * STORE=redis in the environment runs the same tests on Redis (REDIS_URL, default redis://127.0.0.1:6379):
 * each in-memory gateway gets its own random key prefix (startGateway deletes it on close); a gateway on a
 * database file gets a prefix derived from the path, so a restart on the same path finds the same records.
 */
import { createHash, randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config.js';

export function testConfig(overrides: Partial<Config> = {}): Config {
  const env = {
    DB_PATH: ':memory:',
    LOG_LEVEL: 'silent',
    PORT: '0',
    HOST: '127.0.0.1',
    STORE: process.env.STORE ?? '',
    REDIS_URL: process.env.REDIS_URL ?? '',
    // Circuit breakers open only in the tests that configure them: many tests fail a provider on purpose, call after call.
    BREAKER_FAILURES: '1000',
    BREAKER_VOLUME: '100000',
  };
  const config = { ...loadConfig(env), ...overrides };
  if (config.store === 'redis' && overrides.redisPrefix === undefined) {
    const id = config.dbPath === ':memory:' ? randomBytes(6).toString('hex') : createHash('sha256').update(config.dbPath).digest('hex').slice(0, 12);
    config.redisPrefix = `mgtest:${id}:`;
  }
  return config;
}
