/** The SayMotion provider's configuration: its SAYMOTION_* variables, read and validated at start-up. */
import { ConfigError } from '../../spec/errors.js';
import type { Env } from '../../spec/adapter.js';
import { envInt, envString, envUrl } from '../kit/env.js';

export interface SayMotionConfig {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  characterId: string;
  maxVariants: number;
  pollIntervalMs: number;
  jobTimeoutS: number;
  downloadMaxBytes: number;
  /**
   * Jobs in flight at DeepMotion at once (SAYMOTION_MAX_IN_FLIGHT, default 32). A job waiting on
   * DeepMotion costs the gateway one poll per tick for all of them, no CPU; the account's own limits
   * are not published, so this is the operator's to set.
   */
  maxInFlight?: number;
}

/** Configured when SAYMOTION_BASE_URL is set; the credentials and character then become required. */
export function readSayMotionConfig(env: Env): SayMotionConfig | undefined {
  const baseUrl = envUrl(env, 'SAYMOTION_BASE_URL');
  if (!baseUrl) return undefined;
  const clientId = envString(env, 'SAYMOTION_CLIENT_ID');
  const clientSecret = envString(env, 'SAYMOTION_CLIENT_SECRET');
  const characterId = envString(env, 'SAYMOTION_CHARACTER_ID');
  if (!clientId || !clientSecret || !characterId) {
    throw new ConfigError('SAYMOTION_BASE_URL is set: SAYMOTION_CLIENT_ID, SAYMOTION_CLIENT_SECRET and SAYMOTION_CHARACTER_ID are required too');
  }
  return {
    baseUrl,
    clientId,
    clientSecret,
    characterId,
    maxVariants: envInt(env, 'SAYMOTION_MAX_VARIANTS', 8, 1, 8),
    pollIntervalMs: envInt(env, 'SAYMOTION_POLL_INTERVAL_MS', 2_000, 10, 60_000),
    jobTimeoutS: envInt(env, 'SAYMOTION_JOB_TIMEOUT_S', 900, 1),
    downloadMaxBytes: envInt(env, 'SAYMOTION_DOWNLOAD_MAX_BYTES', 64 * 1_048_576, 1_024),
    maxInFlight: envInt(env, 'SAYMOTION_MAX_IN_FLIGHT', 32, 1, 10_000),
  };
}
