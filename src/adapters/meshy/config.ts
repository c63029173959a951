/** The Meshy provider's configuration: its MESHY_* variables, read and validated at start-up. */
import { ConfigError } from '../../spec/errors.js';
import type { Env } from '../../spec/adapter.js';
import { envBool, envInt, envNumber, envString, envUrl } from '../kit/env.js';

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

/** Configured when MESHY_API_KEY (or MESHY_BASE_URL) is set; a rig or a character to rig is then required. */
export function readMeshyConfig(env: Env): MeshyConfig | undefined {
  const baseUrl = envUrl(env, 'MESHY_BASE_URL', envString(env, 'MESHY_API_KEY') ? 'https://api.meshy.ai' : undefined);
  if (!baseUrl) return undefined;
  const apiKey = envString(env, 'MESHY_API_KEY');
  if (!apiKey) throw new ConfigError('MESHY_BASE_URL is set: MESHY_API_KEY is required too');
  const rigTaskId = envString(env, 'MESHY_RIG_TASK_ID');
  const characterUrl = envString(env, 'MESHY_CHARACTER_URL');
  if (!rigTaskId && !characterUrl) throw new ConfigError('Meshy needs MESHY_RIG_TASK_ID or MESHY_CHARACTER_URL (a humanoid .glb to rig)');
  if (characterUrl && !/^(https?:\/\/|data:|file:\/\/)/i.test(characterUrl)) {
    throw new ConfigError('MESHY_CHARACTER_URL must be an http(s) URL, a data: URI or a file:// path of a .glb');
  }
  return {
    baseUrl,
    apiKey,
    rigTaskId,
    characterUrl,
    characterHeightM: envNumber(env, 'MESHY_CHARACTER_HEIGHT_M', 1.7, 0.1, 10, ' (a height in metres)'),
    maxConcurrentTasks: envInt(env, 'MESHY_MAX_CONCURRENT_TASKS', 10, 1, 1_000),
    jobTimeoutS: envInt(env, 'MESHY_JOB_TIMEOUT_S', 900, 1),
    downloadMaxBytes: envInt(env, 'MESHY_DOWNLOAD_MAX_BYTES', 64 * 1_048_576, 1_024),
    pollIntervalMs: envInt(env, 'MESHY_POLL_INTERVAL_MS', 2_000, 10, 60_000),
    streams: envBool(env, 'MESHY_SSE', true),
  };
}
