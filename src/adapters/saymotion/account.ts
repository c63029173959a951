/**
 * The SayMotion account as the adapter serves it: the model entry its variant limit allows, the check
 * that reads that limit, and whether the provider refuses the gateway's credentials (readiness).
 */
import type { Logger, Readiness } from '../../spec/adapter.js';
import type { Clock } from '../../spec/clock.js';
import type { GatewayError } from '../../spec/errors.js';
import type { ModelCapabilities } from '../../spec/wire.js';
import { ProviderCallError } from '../kit/errors.js';
import { defineModel } from '../kit/model.js';
import type { SayMotionClient } from './client.js';
import { PROVIDER, toGatewayError } from './errors.js';
import { NATIVE_CLIP_SECONDS } from './mapping.js';
import { CONTACT_JOINTS, deepMotionSkeletonWire } from './rig.js';
import { LOGIN_ENDPOINT } from './session.js';

/** The model this provider serves. */
const MODEL_ID = 'saymotion';
/** How long a refused login keeps the model unready before the account is tried again. */
const REFUSED_RECHECK_MS = 60_000;

/** The `saymotion` entry of GET /capabilities (what differs from defineModel's defaults). */
function sayMotionModel(maxVariants: number, fps: number): ModelCapabilities {
  return defineModel({
    id: MODEL_ID,
    provider: PROVIDER,
    description: 'DeepMotion SayMotion text-to-motion (cloud): full-body motion with fingers on a DeepMotion character, retargeted onto any humanoid skeleton.',
    fps,
    canonical_skeleton: deepMotionSkeletonWire(),
    predicted_contact_joints: [...CONTACT_JOINTS],
    native_clip_seconds: NATIVE_CLIP_SECONDS,
    chunking: 'stitched',
    limits: { max_duration_seconds: 60, max_num_samples: maxVariants },
  });
}

export class SayMotionAccount {
  /** Variants one job may ask for: the configured maximum, capped by the subscription's once read. */
  maxVariants: number;
  model: ModelCapabilities;
  /** Where the account's news goes (the gateway's logger, once init or a job hands it over). */
  log?: Logger;
  private refusedAt?: number;
  private checking?: Promise<void>;

  constructor(
    private readonly client: SayMotionClient,
    private readonly clock: Clock,
    private readonly configuredMaxVariants: number,
    private readonly fps: number,
  ) {
    this.maxVariants = configuredMaxVariants;
    this.model = sayMotionModel(configuredMaxVariants, fps);
  }

  /** Logs in and reads the account's variant limit; a failure is logged, never thrown. */
  check(): Promise<void> {
    this.checking ??= (async () => {
      try {
        const balance = await this.client.creditBalance({ retries: 1 });
        this.refusedAt = undefined;
        if (balance.maxVariantsGeneration !== undefined) {
          this.maxVariants = Math.max(1, Math.min(this.configuredMaxVariants, balance.maxVariantsGeneration));
          this.model = sayMotionModel(this.maxVariants, this.fps);
        }
        this.log?.info({ provider: PROVIDER, credits: balance.credits, max_variants: this.maxVariants }, 'SayMotion account ready');
      } catch (err) {
        const g = this.errorOf(err);
        this.log?.warn({ provider: PROVIDER, error_code: g.id, provider_status: g.details?.provider_status }, 'SayMotion account check failed');
      } finally {
        this.checking = undefined;
      }
    })();
    return this.checking;
  }

  /** Ready unless the login was refused; a while after a refusal, the account is checked again. */
  readiness(): Readiness {
    if (this.refusedAt === undefined) return { ready: true };
    if (this.clock.now() - this.refusedAt > REFUSED_RECHECK_MS && !this.checking) void this.check();
    return { ready: false, reason: 'SayMotion refused the gateway credentials (see the logs)' };
  }

  /** Maps a failure to the catalogue, and notes when it was the login itself that was refused. */
  errorOf(err: unknown, rid?: string): GatewayError {
    const g = toGatewayError(err, rid);
    if (err instanceof ProviderCallError && err.endpoint === LOGIN_ENDPOINT && (err.status === 401 || err.status === 403)) {
      if (this.refusedAt === undefined) this.log?.error({ provider: PROVIDER, error_code: g.id }, 'SayMotion refused the gateway credentials');
      this.refusedAt = this.clock.now();
    }
    return g;
  }
}
