/**
 * The adapter contract: the one small, job-shaped interface every motion provider implements. An adapter
 * offers models, turns a plan into provider work described by a serializable checkpoint, advances that
 * work one step at a time, cancels it, and finally returns motion as clips on a known skeleton. It never
 * encodes glTF, never touches HTTP routing, and holds no hidden per-job state: all a job needs to resume
 * after a restart lives in its checkpoint.
 */
import type { Compute, ComputeTask } from './compute.js';
import type { Motion } from './motion.js';
import type { GenerationPlan } from './plan.js';
import type { ModelCapabilities } from './wire.js';

/**
 * The contract's version: an adapter built against another major is refused when it is loaded.
 * 1.1 added `JobContext.compute`, the `compute` step and `Adapter.maxInFlight` (all optional to use).
 */
export const ADAPTER_CONTRACT_VERSION = '1.1';

/**
 * What an adapter keeps between steps. It must survive `JSON.parse(JSON.stringify(c))` unchanged: it is
 * stored durably after every step and read back by whichever process resumes the job.
 */
export type Checkpoint = object;

/** A durable key-value space for an adapter (e.g. Meshy's rig task id), shared by all its jobs. */
export interface AdapterStore {
  /** The gateway's store answers with promises (it may be Redis, shared by every instance): await each call. */
  get(key: string): Promise<string | undefined> | string | undefined;
  /**
   * `ttlMs`: the entry is forgotten after this long (wall clock), so per-item records (e.g. one per provider
   * job) need no clean-up of their own. Each entry is written on its own: concurrent writers of different
   * keys never undo each other (instances of a cluster share the store).
   */
  set(key: string, value: string, opts?: { ttlMs?: number }): Promise<void> | void;
  delete(key: string): Promise<void> | void;
}

/** The structured logger adapters write to (pino's shape: an object of fields, then a message). */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What the job runner hands an adapter on every call. */
export interface JobContext<C extends Checkpoint = Checkpoint> {
  jobId: string;
  /** Aborted when the job is cancelled or the process is shutting down: stop at the next checkpoint. */
  signal: AbortSignal;
  /** Epoch ms after which the job fails with a timeout. */
  deadline: number;
  /** Persists a checkpoint at once (before the next billable call, so a restart never pays twice). */
  saveCheckpoint(checkpoint: C): Promise<void> | void;
  store: AdapterStore;
  log: Logger;
  /** The gateway's worker threads: decode provider files and do any other CPU work here, never inline. */
  compute: Compute;
  /**
   * Another target of the job's route can take the job if this one fails before anything is paid: fail
   * then (with the provider's error) rather than wait out a provider's Retry-After or a full queue.
   */
  canFallBack?: boolean;
}

/** The outcome of one step of work. */
export type Step<C extends Checkpoint = Checkpoint> =
  | {
      kind: 'pending';
      checkpoint: C;
      /** 0..1 when known. */
      progress?: number;
      /** Jobs ahead of this one at the provider, when known. */
      queuePosition?: number;
      /** Suggested wait before the next advance(). */
      waitMs: number;
    }
  | { kind: 'done'; motion: Motion }
  /**
   * Done, and the motion is what `task` returns (a Motion): the gateway runs it on a worker thread
   * together with the rest of the pipeline, in one hop (how a model that computes its motion locally
   * finishes).
   */
  | { kind: 'compute'; task: ComputeTask };

export interface Readiness {
  ready: boolean;
  reason?: string;
}

/** Environment variables as handed to a provider: only its own slice (names starting with its prefix). */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * A provider as the gateway registers it: how it reads its configuration and how its adapter is made.
 * In-tree providers and adapters loaded with ADAPTERS=… have this same shape.
 */
export interface ProviderDefinition<Config = unknown> {
  /** Provider name (lower case): `request.extensions` key, `details.provider`, metrics label. */
  readonly provider: string;
  /** The contract version the provider was written against (ADAPTER_CONTRACT_VERSION). */
  readonly contract?: string;
  /** Prefix of its environment variables (e.g. `MESHY_`); it is handed only those. */
  readonly envPrefix: string;
  /**
   * Reads and validates its variables. Returns undefined when the provider is not configured (it is
   * then not served); throws ConfigError naming the variable when a value is wrong.
   */
  readConfig(env: Env): Config | undefined;
  /** The adapter for a configuration readConfig returned, with the gateway-wide settings every provider gets. */
  create(config: Config, gateway?: ProviderSettings): Adapter;
  /**
   * The secret values of a configuration (API keys, client secrets): redacted from every log line of the
   * process. The adapter itself redacts them (and any it learns later, e.g. session cookies) from its
   * errors and logs.
   */
  secrets?(config: Config): string[];
}

/** Gateway-wide settings handed to every provider's `create` (see docs/provider-security.md). */
export interface ProviderSettings {
  /**
   * PROVIDER_ASSET_ORIGINS: origins a provider's result URLs may point at whatever their scheme and
   * address (besides the provider's own API origin; anything else must be https on a public address).
   */
  assetOrigins: readonly string[];
}

export interface Adapter<C extends Checkpoint = Checkpoint> {
  /** Provider name: the key of request.extensions it reads, and `details.provider` in its errors. */
  readonly provider: string;
  /** The models this adapter offers now. */
  models(): ModelCapabilities[];
  /** Called once at start-up (e.g. to log in or read account limits); must not throw. */
  init?(ctx: { store: AdapterStore; log: Logger }): Promise<void>;
  /**
   * How many of its jobs may be in flight at once (waiting on the provider or computing). Jobs beyond it
   * wait in the gateway's queue. Absent: the gateway's MAX_CONCURRENT_JOBS. Read each time a job starts.
   */
  maxInFlight?(): number;
  /** Whether the adapter can take work, and if not, why. */
  readiness(): Readiness;
  /**
   * Checks the plan against what the provider can do and returns the first checkpoint. Makes no billable
   * call. Throws GatewayError for requests the provider cannot serve (answered before any job exists).
   */
  start(plan: GenerationPlan): Promise<C>;
  /**
   * Whether the provider may have charged for this job's work so far, read from its checkpoint: a provider
   * job exists, or might (a submission whose answer was lost). A route hands a failed job to its next
   * target only when this says no, or when the error says the provider did not charge
   * (`details.provider_charged === false`). Absent: only a failure of the job's very first step, before it
   * saved any checkpoint, counts as unpaid.
   */
  mayHaveCharged?(checkpoint: C): boolean;
  /** Advances the work by one step from `checkpoint`. Throws GatewayError when the job has failed. */
  advance(plan: GenerationPlan, checkpoint: C, ctx: JobContext<C>): Promise<Step<C>>;
  /** Cancels the provider's work for this checkpoint, where the provider allows it. */
  cancel(plan: GenerationPlan, checkpoint: C, ctx: JobContext<C>): Promise<void>;
  /** Releases connections and timers. */
  close?(): Promise<void>;
}
