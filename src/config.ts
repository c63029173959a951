/**
 * Reads and validates the configuration once at start-up into one typed object: the gateway's own
 * settings, then each registered provider's, each from its own slice of the environment.
 */
import type { Env, ProviderDefinition } from './spec/adapter.js';
import { ConfigError } from './spec/errors.js';
import { envInt, envNumber, envSlice, envString } from './adapters/kit/env.js';
import { loadExternalProvider } from './adapters/external.js';
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { PROVIDERS, providerDefinitions } from './adapters/registry.js';
import { parseRoutes, type RouteDefinition } from './adapters/routes.js';
import type { BreakerOptions } from './adapters/breakers.js';
import type { TracingConfig } from './tracing.js';

/** A provider this deployment serves, with the configuration it read. */
interface ConfiguredProvider {
  definition: ProviderDefinition<unknown>;
  config: unknown;
}

export interface Config {
  host: string;
  port: number;
  /** SQLite database path, or ':memory:'. */
  dbPath: string;
  /** DB_SYNC: `normal` (commits survive process crashes, no fsync on the event loop) or `full` (also power loss). */
  dbSync: 'normal' | 'full';
  /** STORE: `sqlite` (default: one process, the file at DB_PATH) or `redis` (shared by every instance, at REDIS_URL). */
  store: 'sqlite' | 'redis';
  /** REDIS_URL (STORE=redis). */
  redisUrl: string;
  /** REDIS_PREFIX: every key the gateway writes in Redis starts with it (several gateways may share one Redis). */
  redisPrefix: string;
  /**
   * JOB_LOCK_MS (STORE=redis): how long a worker's claim on a job lasts without renewal (renewed every half
   * of it while the worker lives); a job whose worker died is resumed elsewhere about this long after.
   */
  jobLockMs: number;
  /**
   * WORKER_CONCURRENCY (STORE=redis): jobs of one provider this instance runs at once; undefined = the
   * provider's cap, 0 = none (an instance that only accepts and answers).
   */
  workerConcurrency: number | undefined;
  logLevel: string;
  /** How long POST /generate waits for a result before answering 202. */
  syncWaitMs: number;
  /** How long finished jobs are kept (≥ 300 s). */
  jobRetentionS: number;
  /** How long idempotency keys are kept (≥ 60 s). */
  idempotencyTtlS: number;
  /** Requests costing more than this (num_samples × seconds) are not stored for replay. */
  idempotencyMaxCost: number;
  /**
   * Jobs of one provider in flight at once, for providers that declare no cap of their own (SayMotion and
   * Meshy do). A job waiting on a provider holds no CPU: local work is bounded by the worker threads.
   */
  maxConcurrentJobs: number;
  /** Worker threads for motion work (0 = inline on the event loop, for debugging only). */
  workerThreads: number;
  /** Jobs waiting behind them; beyond it, 503. */
  maxQueuedJobs: number;
  /** Deadline of one job. */
  jobTimeoutS: number;
  maxRequestBytes: number;
  maxJsonDepth: number;
  /** Gateway API keys; empty = no authentication. */
  apiKeys: string[];
  /** RATE_LIMIT_RPM: requests per minute per API key to /generate and /capabilities (0 = unlimited). */
  rateLimitRpm: number;
  /** RATE_LIMIT_CONCURRENT_JOBS: unfinished (queued or running) jobs per API key (0 = unlimited). */
  rateLimitConcurrentJobs: number;
  shutdownGraceMs: number;
  maxBatchSize: number;
  /** MAX_FPS: the highest timing.fps accepted (docs/limits.md). */
  maxFps: number;
  /**
   * MAX_REFERENCE_FRAMES: the most frames a motion_reference clip may have (MMCP limits.max_reference_frames,
   * advertised by the models that take motion_reference segments; docs/limits.md).
   */
  maxReferenceFrames: number;
  /** MAX_OUTPUT_BYTES: the largest estimated answer (GLB bytes) of one request. */
  maxOutputBytes: number;
  /** MAX_BATCH_OUTPUT_BYTES: the largest estimated total of a batch's answers (GLB bytes). */
  maxBatchOutputBytes: number;
  /** MAX_WORK: the most joint-frames (num_samples × frames × (skeleton + model joints)) of one request. */
  maxWork: number;
  /** How long seeded answers are cached for reproducibility. */
  resultCacheTtlS: number;
  /** Module specifiers of adapters that live outside this repository (ADAPTERS). */
  externalAdapters: string[];
  /**
   * PROVIDER_ASSET_ORIGINS: origins every provider's result URLs may point at whatever their scheme and
   * address (see docs/provider-security.md); handed to each provider's `create`.
   */
  assetOrigins: string[];
  /** Every configured secret value (gateway API keys, each provider's `secrets()`): redacted from all logs. */
  secrets: string[];
  /** The providers served, in registry order (the procedural model is always first). */
  providers: ConfiguredProvider[];
  /**
   * MODEL_ROUTES (JSON) or ROUTES_FILE (JSON or YAML): model ids that name ordered target lists
   * (src/adapters/routes.ts); their targets are checked against the served models when the registry is built.
   */
  routes: RouteDefinition[];
  /**
   * Circuit breakers per provider (src/jobs/breakers.ts): BREAKER_FAILURES in a row, or BREAKER_ERROR_PERCENT
   * of at least BREAKER_VOLUME calls within BREAKER_WINDOW_MS, open one for BREAKER_RESET_MS.
   */
  breakers: BreakerOptions;
  /** OpenTelemetry trace export (src/tracing.ts); null (the default) when no OTLP endpoint is configured. */
  tracing: TracingConfig | null;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads one provider's configuration from its slice of the environment (undefined: not configured). */
function configureProvider(definition: ProviderDefinition<unknown>, env: Env): ConfiguredProvider | undefined {
  const config = definition.readConfig(envSlice(env, definition.envPrefix));
  return config === undefined ? undefined : { definition, config };
}

/** PROVIDER_ASSET_ORIGINS: comma-separated http(s) origins (scheme, host and port; no path). */
function readAssetOrigins(env: Env): string[] {
  return (envString(env, 'PROVIDER_ASSET_ORIGINS') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((raw) => {
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        throw new ConfigError(`PROVIDER_ASSET_ORIGINS: "${raw}" is not an absolute URL (write origins such as https://assets.example.com)`);
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(`PROVIDER_ASSET_ORIGINS: "${raw}" is not an http(s) origin`);
      if (u.pathname !== '/' || u.search || u.hash || u.username || u.password) throw new ConfigError(`PROVIDER_ASSET_ORIGINS: "${raw}" must be an origin only (scheme, host, port)`);
      return u.origin;
    });
}

/** The secret values of a deployment: the gateway's API keys and what each configured provider declares secret. */
function secretsOf(apiKeys: readonly string[], providers: readonly ConfiguredProvider[], redisUrl = ''): string[] {
  return [...new Set([...apiKeys, redisPasswordOf(redisUrl), ...providers.flatMap((p) => p.definition.secrets?.(p.config) ?? [])].filter(Boolean))];
}

/** The password in REDIS_URL (redis://user:password@host), a secret like the others. */
function redisPasswordOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    return '';
  }
}

/** Reads the configuration; throws ConfigError with a message naming the bad variable. */
function dbSyncOf(v: string): 'normal' | 'full' {
  if (v === 'normal' || v === 'full') return v;
  throw new ConfigError(`DB_SYNC must be "normal" or "full", got "${v.slice(0, 20)}"`);
}

function storeOf(v: string): 'sqlite' | 'redis' {
  if (v === 'sqlite' || v === 'redis') return v;
  throw new ConfigError(`STORE must be "sqlite" or "redis", got "${v.slice(0, 20)}"`);
}

function redisUrlOf(v: string): string {
  if (!/^rediss?:\/\/[^\s]+$/.test(v)) throw new ConfigError('REDIS_URL must be a redis:// or rediss:// URL');
  return v;
}

/** WORKER_CONCURRENCY: unset = each provider's cap; 0 (no jobs run here) only makes sense when other instances share the work. */
function workerConcurrencyOf(env: Env): number | undefined {
  if (envString(env, 'WORKER_CONCURRENCY') === undefined) return undefined;
  const n = envInt(env, 'WORKER_CONCURRENCY', 0, 0, 10_000);
  if (n === 0 && (envString(env, 'STORE') ?? 'sqlite') !== 'redis') throw new ConfigError('WORKER_CONCURRENCY=0 (run no jobs here) needs STORE=redis: with SQLite this process is the only one that runs jobs');
  return n;
}

/** MODEL_ROUTES or ROUTES_FILE (not both); [] when neither is set. */
function readRoutes(env: Env): RouteDefinition[] {
  const inline = envString(env, 'MODEL_ROUTES');
  const file = envString(env, 'ROUTES_FILE');
  if (inline !== undefined && file !== undefined) throw new ConfigError('MODEL_ROUTES and ROUTES_FILE are both set: give the routes in one of them');
  if (inline !== undefined) {
    let doc: unknown;
    try {
      doc = JSON.parse(inline);
    } catch (err) {
      throw new ConfigError(`MODEL_ROUTES is not valid JSON: ${(err as Error).message}`);
    }
    return parseRoutes(doc, 'MODEL_ROUTES');
  }
  if (file === undefined) return [];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`ROUTES_FILE: cannot read "${file}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let doc: unknown;
  try {
    // YAML 1.2 is a superset of JSON: one parser reads both.
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`ROUTES_FILE "${file}" is not valid JSON or YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return parseRoutes(doc, `ROUTES_FILE ${file}`);
}

export function loadConfig(env: Env = process.env): Config {
  const tracing = readTracing(env);
  const logLevel = envString(env, 'LOG_LEVEL', 'info')!;
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  const apiKeys = (envString(env, 'GATEWAY_API_KEYS') ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  for (const k of apiKeys) {
    if (k.length < 16 || !/^[\x21-\x7e]+$/.test(k)) throw new ConfigError('GATEWAY_API_KEYS: every key must be at least 16 printable ASCII characters');
  }
  const providers = providerDefinitions(env).map((p) => configureProvider(p, env)).filter((p): p is ConfiguredProvider => p !== undefined);
  return {
    host: envString(env, 'HOST', '0.0.0.0')!,
    port: envInt(env, 'PORT', 8080, 0, 65535),
    dbPath: envString(env, 'DB_PATH', './data/gateway.db')!,
    dbSync: dbSyncOf(envString(env, 'DB_SYNC', 'normal')!),
    store: storeOf(envString(env, 'STORE', 'sqlite')!),
    redisUrl: redisUrlOf(envString(env, 'REDIS_URL', 'redis://127.0.0.1:6379')!),
    redisPrefix: envString(env, 'REDIS_PREFIX', 'mg:')!,
    jobLockMs: envInt(env, 'JOB_LOCK_MS', 30_000, 1_000, 600_000),
    workerConcurrency: workerConcurrencyOf(env),
    logLevel,
    syncWaitMs: envInt(env, 'SYNC_WAIT_MS', 20_000, 0, 600_000),
    jobRetentionS: envInt(env, 'JOB_RETENTION_S', 86_400, 300),
    idempotencyTtlS: envInt(env, 'IDEMPOTENCY_TTL_S', 86_400, 60),
    idempotencyMaxCost: envInt(env, 'IDEMPOTENCY_MAX_COST', 240, 0),
    maxConcurrentJobs: envInt(env, 'MAX_CONCURRENT_JOBS', 8, 1, 10_000),
    // Every core but the event loop's, at least one.
    workerThreads: envInt(env, 'WORKER_THREADS', Math.max(1, availableParallelism() - 1), 0, 256),
    maxQueuedJobs: envInt(env, 'MAX_QUEUED_JOBS', 256, 0, 1_000_000),
    jobTimeoutS: envInt(env, 'JOB_TIMEOUT_S', 1_800, 1),
    maxRequestBytes: envInt(env, 'MAX_REQUEST_BYTES', 1_048_576, 1_024, 64 * 1_048_576),
    maxJsonDepth: envInt(env, 'MAX_JSON_DEPTH', 32, 8, 1_000),
    apiKeys,
    rateLimitRpm: envInt(env, 'RATE_LIMIT_RPM', 0, 0, 1_000_000),
    rateLimitConcurrentJobs: envInt(env, 'RATE_LIMIT_CONCURRENT_JOBS', 0, 0, 1_000_000),
    shutdownGraceMs: envInt(env, 'SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    maxBatchSize: envInt(env, 'MAX_BATCH_SIZE', 16, 1, 256),
    maxFps: envNumber(env, 'MAX_FPS', 120, 1, 1_000),
    maxReferenceFrames: envInt(env, 'MAX_REFERENCE_FRAMES', 1_800, 2, 100_000),
    maxOutputBytes: envInt(env, 'MAX_OUTPUT_BYTES', 64 * 1_048_576, 1_048_576, 4_096 * 1_048_576),
    maxBatchOutputBytes: envInt(env, 'MAX_BATCH_OUTPUT_BYTES', 256 * 1_048_576, 1_048_576, 16_384 * 1_048_576),
    maxWork: envInt(env, 'MAX_WORK', 8_000_000, 1_000, 1_000_000_000_000),
    resultCacheTtlS: envInt(env, 'RESULT_CACHE_TTL_S', 86_400, 0),
    externalAdapters: (envString(env, 'ADAPTERS') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    assetOrigins: readAssetOrigins(env),
    secrets: [...secretsOf(apiKeys, providers, envString(env, 'REDIS_URL') ?? ''), ...Object.values(tracing?.headers ?? {})],
    providers,
    tracing,
    routes: readRoutes(env),
    breakers: {
      failures: envInt(env, 'BREAKER_FAILURES', 5, 1, 1_000),
      errorPercent: envInt(env, 'BREAKER_ERROR_PERCENT', 50, 1, 100),
      volume: envInt(env, 'BREAKER_VOLUME', 10, 1, 100_000),
      windowMs: envInt(env, 'BREAKER_WINDOW_MS', 60_000, 1_000, 3_600_000),
      resetMs: envInt(env, 'BREAKER_RESET_MS', 30_000, 100, 3_600_000),
    },
  };
}

/**
 * Loads the adapters ADAPTERS names and adds the configured ones to `config.providers`. A provider name
 * that is already taken, or a module that is not an adapter, stops start-up (ConfigError).
 */
export async function loadExternalProviders(config: Config, env: Env = process.env, baseDir = process.cwd()): Promise<Config> {
  const providers = [...config.providers];
  const taken = new Set([...PROVIDERS, ...config.providers.map((p) => p.definition)].map((p) => p.provider));
  for (const spec of config.externalAdapters) {
    const definition = await loadExternalProvider(spec, baseDir);
    if (taken.has(definition.provider)) throw new ConfigError(`ADAPTERS: "${spec}" uses the provider name "${definition.provider}", which is already taken`);
    taken.add(definition.provider);
    const configured = configureProvider(definition, env);
    if (configured) providers.push(configured);
  }
  return { ...config, providers, secrets: secretsOf(config.apiKeys, providers, config.redisUrl) };
}

/**
 * OpenTelemetry's standard variables: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (the full URL), else
 * OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces`; OTEL_EXPORTER_OTLP_(TRACES_)HEADERS as `k=v,k2=v2`
 * (URL-encoded values); OTEL_SERVICE_NAME; OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none turn it off.
 */
function readTracing(env: Env): TracingConfig | null {
  if (envString(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true' || envString(env, 'OTEL_TRACES_EXPORTER')?.toLowerCase() === 'none') return null;
  const tracesUrl = envString(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const base = envString(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const name = tracesUrl ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
  const url = tracesUrl ?? (base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined);
  if (!url) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL, e.g. http://127.0.0.1:4318`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(`${name} must be an http(s) URL, e.g. http://127.0.0.1:4318`);
  const headers: Record<string, string> = {};
  for (const v of ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS']) {
    for (const pair of (envString(env, v) ?? '').split(',')) {
      if (!pair.trim()) continue;
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new ConfigError(`${v} must be a list of key=value pairs separated by commas`);
      try {
        headers[decodeURIComponent(pair.slice(0, eq).trim())] = decodeURIComponent(pair.slice(eq + 1).trim());
      } catch {
        throw new ConfigError(`${v} holds a value that is not URL-encoded correctly`);
      }
    }
  }
  return { url, headers, serviceName: envString(env, 'OTEL_SERVICE_NAME') ?? 'motion-gateway' };
}
