/** Reads and validates the configuration once at start-up, from environment variables, into one typed object. */

export interface SayMotionConfig {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  characterId: string;
  maxVariants: number;
  pollIntervalMs: number;
  jobTimeoutS: number;
  downloadMaxBytes: number;
}

export interface MeshyConfig {
  baseUrl: string;
  apiKey: string;
  rigTaskId?: string;
  characterUrl?: string;
  characterHeightM: number;
  maxConcurrentTasks: number;
  jobTimeoutS: number;
  downloadMaxBytes: number;
  /** Base wait between steps of a running Meshy task (default 2 s). */
  pollIntervalMs?: number;
  /** Follow task progress over SSE (default true); false polls only. */
  streams?: boolean;
}

export interface Config {
  host: string;
  port: number;
  /** SQLite database path, or ':memory:'. */
  dbPath: string;
  logLevel: string;
  /** How long POST /generate waits for a result before answering 202. */
  syncWaitMs: number;
  /** How long finished jobs are kept (≥ 300 s). */
  jobRetentionS: number;
  /** How long idempotency keys are kept (≥ 60 s). */
  idempotencyTtlS: number;
  /** Requests costing more than this (num_samples × seconds) are not stored for replay. */
  idempotencyMaxCost: number;
  /** Generations running at once. */
  maxConcurrentJobs: number;
  /** Jobs waiting behind them; beyond it, 503. */
  maxQueuedJobs: number;
  /** Deadline of one job. */
  jobTimeoutS: number;
  maxRequestBytes: number;
  maxJsonDepth: number;
  /** Gateway API keys; empty = no authentication. */
  apiKeys: string[];
  shutdownGraceMs: number;
  maxBatchSize: number;
  /** How long seeded answers are cached for reproducibility. */
  resultCacheTtlS: number;
  saymotion?: SayMotionConfig;
  meshy?: MeshyConfig;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return def;
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
  const v = Number(raw);
  if (v < min || v > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${v}`);
  return v;
}

function str(env: Env, name: string, def?: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? def : raw.trim();
}

function url(env: Env, name: string, def?: string): string | undefined {
  const v = str(env, name, def);
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

/** Reads the configuration; throws ConfigError with a message naming the bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const logLevel = str(env, 'LOG_LEVEL', 'info')!;
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent`);
  }
  const apiKeys = (str(env, 'GATEWAY_API_KEYS') ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  for (const k of apiKeys) {
    if (k.length < 16 || !/^[\x21-\x7e]+$/.test(k)) throw new ConfigError('GATEWAY_API_KEYS: every key must be at least 16 printable ASCII characters');
  }
  const config: Config = {
    host: str(env, 'HOST', '0.0.0.0')!,
    port: int(env, 'PORT', 8080, 0, 65535),
    dbPath: str(env, 'DB_PATH', './data/gateway.db')!,
    logLevel,
    syncWaitMs: int(env, 'SYNC_WAIT_MS', 20_000, 0, 600_000),
    jobRetentionS: int(env, 'JOB_RETENTION_S', 86_400, 300),
    idempotencyTtlS: int(env, 'IDEMPOTENCY_TTL_S', 86_400, 60),
    idempotencyMaxCost: int(env, 'IDEMPOTENCY_MAX_COST', 240, 0),
    maxConcurrentJobs: int(env, 'MAX_CONCURRENT_JOBS', 8, 1, 10_000),
    maxQueuedJobs: int(env, 'MAX_QUEUED_JOBS', 256, 0, 1_000_000),
    jobTimeoutS: int(env, 'JOB_TIMEOUT_S', 1_800, 1),
    maxRequestBytes: int(env, 'MAX_REQUEST_BYTES', 1_048_576, 1_024, 64 * 1_048_576),
    maxJsonDepth: int(env, 'MAX_JSON_DEPTH', 32, 8, 1_000),
    apiKeys,
    shutdownGraceMs: int(env, 'SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    maxBatchSize: int(env, 'MAX_BATCH_SIZE', 16, 1, 256),
    resultCacheTtlS: int(env, 'RESULT_CACHE_TTL_S', 86_400, 0),
  };
  const smUrl = url(env, 'SAYMOTION_BASE_URL');
  if (smUrl) {
    const clientId = str(env, 'SAYMOTION_CLIENT_ID');
    const clientSecret = str(env, 'SAYMOTION_CLIENT_SECRET');
    const characterId = str(env, 'SAYMOTION_CHARACTER_ID');
    if (!clientId || !clientSecret || !characterId) {
      throw new ConfigError('SAYMOTION_BASE_URL is set: SAYMOTION_CLIENT_ID, SAYMOTION_CLIENT_SECRET and SAYMOTION_CHARACTER_ID are required too');
    }
    config.saymotion = {
      baseUrl: smUrl,
      clientId,
      clientSecret,
      characterId,
      maxVariants: int(env, 'SAYMOTION_MAX_VARIANTS', 8, 1, 8),
      pollIntervalMs: int(env, 'SAYMOTION_POLL_INTERVAL_MS', 2_000, 10, 60_000),
      jobTimeoutS: int(env, 'SAYMOTION_JOB_TIMEOUT_S', 900, 1),
      downloadMaxBytes: int(env, 'SAYMOTION_DOWNLOAD_MAX_BYTES', 64 * 1_048_576, 1_024),
    };
  }
  const meshyUrl = url(env, 'MESHY_BASE_URL', str(env, 'MESHY_API_KEY') ? 'https://api.meshy.ai' : undefined);
  if (meshyUrl) {
    const apiKey = str(env, 'MESHY_API_KEY');
    if (!apiKey) throw new ConfigError('MESHY_BASE_URL is set: MESHY_API_KEY is required too');
    const rigTaskId = str(env, 'MESHY_RIG_TASK_ID');
    const characterUrl = str(env, 'MESHY_CHARACTER_URL');
    if (!rigTaskId && !characterUrl) throw new ConfigError('Meshy needs MESHY_RIG_TASK_ID or MESHY_CHARACTER_URL (a humanoid .glb to rig)');
    if (characterUrl && !/^(https?:\/\/|data:|file:\/\/)/i.test(characterUrl)) {
      throw new ConfigError('MESHY_CHARACTER_URL must be an http(s) URL, a data: URI or a file:// path of a .glb');
    }
    const sse = (str(env, 'MESHY_SSE', 'true') ?? 'true').toLowerCase();
    if (!['true', 'false', '1', '0'].includes(sse)) throw new ConfigError('MESHY_SSE must be true or false');
    const height = Number(str(env, 'MESHY_CHARACTER_HEIGHT_M', '1.7'));
    if (!(height > 0.1 && height < 10)) throw new ConfigError('MESHY_CHARACTER_HEIGHT_M must be a height in metres');
    config.meshy = {
      baseUrl: meshyUrl,
      apiKey,
      rigTaskId,
      characterUrl,
      characterHeightM: height,
      maxConcurrentTasks: int(env, 'MESHY_MAX_CONCURRENT_TASKS', 10, 1, 1_000),
      jobTimeoutS: int(env, 'MESHY_JOB_TIMEOUT_S', 900, 1),
      downloadMaxBytes: int(env, 'MESHY_DOWNLOAD_MAX_BYTES', 64 * 1_048_576, 1_024),
      pollIntervalMs: int(env, 'MESHY_POLL_INTERVAL_MS', 2_000, 10, 60_000),
      streams: sse === 'true' || sse === '1',
    };
  }
  return config;
}

/** The configuration tests start from: in-memory store, quiet logs, ephemeral port. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({ DB_PATH: ':memory:', LOG_LEVEL: 'silent', PORT: '0', HOST: '127.0.0.1' }), ...overrides };
}
