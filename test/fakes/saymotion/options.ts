/** The simulator's options: the variants the docs leave open, chosen per test, and their defaults. */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../../src/spec/clock.js';
import type { RigStyle } from './files.js';
import type { CodeFormat, JobScript } from './jobs.js';

export interface SimulatorOptions {
  clientId?: string;
  clientSecret?: string;
  /** The stock character id text2motion's `model=` must name. */
  characterId?: string;
  credits?: number;
  maxVariantsGeneration?: number;
  /** Session lifetime (default 3600 s). */
  sessionTtlS?: number;
  /** What the cookie says about its lifetime (default `expires`). */
  cookieExpiry?: 'expires' | 'max-age' | 'both' | 'none';
  /** What a call with an expired or missing session gets (default 401; 403 is the other likely answer). */
  sessionRejectStatus?: 401 | 403;
  /** The login answer's body (undocumented, so it varies; default text). */
  authBody?: 'text' | 'json' | 'empty';
  /** Default script of every job (default queued 0 ms, running 150 ms). */
  job?: JobScript;
  /** Where code 101 shows when credits run out (default an HTTP 402 on /process). */
  noCredit?: { at: 'process' | 'status' | 'download'; httpStatus?: number; format?: CodeFormat };
  /** Pre-signed files on a separate storage host (default) or on the API host (no cookie needed on either). */
  fileHost?: 'storage' | 'api';
  /**
   * The origin written into file URLs instead of the host serving them (download links pointing
   * elsewhere: another loopback port, a private address, a named host).
   */
  fileUrlOrigin?: string;
  /** Lifetime of pre-signed file URLs (default 600 s). */
  signedUrlTtlS?: number;
  /** Frame rate of the GLB files (default 30). */
  fileFps?: number;
  rigStyle?: RigStyle;
  /** A 1-frame T-pose take before the motion in every GLB (default true). */
  tposeTake?: boolean;
  /** How /job/v1/list echoes a job's parameters (default the params array as sent). */
  listParameters?: 'array' | 'object';
  /** Characters as a bare array (the doc) or `{list: [...]}` (the official example; default). */
  listModelsShape?: 'array' | 'list';
  /** What a cancelled job shows in status (unknown in the docs; default FAILURE). */
  cancelledShows?: 'FAILURE' | 'REVOKED' | 'missing';
  /**
   * Time for everything time-driven (job scripts, session and URL expiry, delays, call times): give the
   * gateway the same clock, so both sides agree on what a second is. Default the system clock.
   */
  clock?: Clock;
}

/** The options with every default applied (the clock stays apart: it is the simulator's own). */
export type ResolvedOptions = Required<Omit<SimulatorOptions, 'noCredit' | 'job' | 'clock'>> & { noCredit: NonNullable<SimulatorOptions['noCredit']>; job: JobScript };

/** Random letters and digits (credentials, rids). */
export function randomId(n: number): string {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(n)].map((b) => abc[b % 62]).join('');
}

export function resolveOptions(opts: SimulatorOptions): ResolvedOptions {
  return {
    clientId: opts.clientId ?? `client_${randomId(10)}`,
    clientSecret: opts.clientSecret ?? `secret_${randomId(24)}`,
    characterId: opts.characterId ?? 'dm_stock_male_01',
    credits: opts.credits ?? 10_000,
    maxVariantsGeneration: opts.maxVariantsGeneration ?? 4,
    sessionTtlS: opts.sessionTtlS ?? 3600,
    cookieExpiry: opts.cookieExpiry ?? 'expires',
    sessionRejectStatus: opts.sessionRejectStatus ?? 401,
    authBody: opts.authBody ?? 'text',
    job: opts.job ?? { queueMs: 0, runMs: 150 },
    noCredit: opts.noCredit ?? { at: 'process', httpStatus: 402 },
    fileHost: opts.fileHost ?? 'storage',
    fileUrlOrigin: opts.fileUrlOrigin ?? '',
    signedUrlTtlS: opts.signedUrlTtlS ?? 600,
    fileFps: opts.fileFps ?? 30,
    rigStyle: opts.rigStyle ?? 'cm+zup',
    tposeTake: opts.tposeTake ?? true,
    listParameters: opts.listParameters ?? 'array',
    listModelsShape: opts.listModelsShape ?? 'list',
    cancelledShows: opts.cancelledShows ?? 'FAILURE',
  };
}
