/**
 * The public adapter contract, exported by the package as `motion-gateway/adapter`: everything an
 * adapter written outside this repository needs (the contract types, defineModel, the shared HTTP
 * plumbing, the error catalogue and the skeleton helpers). Versioned by ADAPTER_CONTRACT_VERSION:
 * a change that breaks adapters bumps its major, and the gateway refuses adapters of another major.
 */
export {
  ADAPTER_CONTRACT_VERSION,
  type Adapter,
  type AdapterStore,
  type Checkpoint,
  type Env,
  type JobContext,
  type Logger,
  type ProviderDefinition,
  type ProviderSettings,
  type Readiness,
  type Step,
} from '../spec/adapter.js';
export { systemClock, type Clock } from '../spec/clock.js';
export { CATALOGUE, ConfigError, GatewayError, type ErrorId } from '../spec/errors.js';
export type { Clip, Motion, SampleMotion, Skeleton, Understanding } from '../spec/motion.js';
export type { GenerationPlan, PlannedSegment } from '../spec/plan.js';
export type { GenerateRequest, Joint, Limits, ModelCapabilities } from '../spec/wire.js';
export { allocClip, restClip } from '../motion/clip.js';
export { skeletonFromWire, skeletonToWire } from '../motion/skeleton.js';
export { envBool, envInt, envNumber, envString, envUrl } from './kit/env.js';
export { ProviderCallError, sanitizeProviderText } from './kit/errors.js';
export { AssetEgress, type EgressOptions } from './kit/egress.js';
export { Secrets } from './kit/redact.js';
export { callJson, download, retryAfterMs, sameOrigin, withRetries, type DownloadOptions, type JsonAnswer, type JsonCall, type RetryOptions } from './kit/http.js';
export { defineModel, type ModelDefinition, type ModelLimits } from './kit/model.js';
