/** Configuration is read once, validated, and a bad value stops start-up with a message naming the variable. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/spec/errors.js';
import { loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 8080, syncWaitMs: 20_000, jobRetentionS: 86_400, idempotencyTtlS: 86_400, apiKeys: [], maxRequestBytes: 1_048_576 });
    expect(c).toMatchObject({ rateLimitRpm: 0, rateLimitConcurrentJobs: 0 });
    expect(loadConfig({ RATE_LIMIT_RPM: '120', RATE_LIMIT_CONCURRENT_JOBS: '4' })).toMatchObject({ rateLimitRpm: 120, rateLimitConcurrentJobs: 4 });
    expect(c.providers.map((p) => p.definition.provider)).toEqual(['procedural']);
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ JOB_RETENTION_S: '60' }, /JOB_RETENTION_S.*300/],
    [{ IDEMPOTENCY_TTL_S: '10' }, /IDEMPOTENCY_TTL_S.*60/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ RATE_LIMIT_RPM: '-1' }, /RATE_LIMIT_RPM.*between 0/],
    [{ RATE_LIMIT_RPM: '1.5' }, /RATE_LIMIT_RPM must be an integer/],
    [{ RATE_LIMIT_CONCURRENT_JOBS: 'four' }, /RATE_LIMIT_CONCURRENT_JOBS must be an integer/],
    [{ GATEWAY_API_KEYS: 'short' }, /GATEWAY_API_KEYS/],
    [{ SAYMOTION_BASE_URL: 'https://example.test' }, /SAYMOTION_CLIENT_ID/],
    [{ SAYMOTION_BASE_URL: 'not a url', SAYMOTION_CLIENT_ID: 'a', SAYMOTION_CLIENT_SECRET: 'b', SAYMOTION_CHARACTER_ID: 'c' }, /SAYMOTION_BASE_URL/],
    [{ MESHY_API_KEY: 'msy_x' }, /MESHY_RIG_TASK_ID or MESHY_CHARACTER_URL/],
  ])('refuses %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('stops the process with exit code 2 and names the variable, without a stack trace', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: { ...process.env, PORT: 'eighty' } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(2);
    expect(stderr).toContain('PORT must be an integer');
    expect(stderr).not.toMatch(/at .*\.ts:\d+/);
  });
});
