/**
 * Admission: what a request must pass before a job exists. The MMCP validation order (protocol), then
 * the checks only a running gateway can make: that the request skeleton can receive the model's motion
 * and that the model's provider is ready. Nothing here calls a provider.
 */
import type { Adapter } from '../spec/adapter.js';
import { GatewayError } from '../spec/errors.js';
import type { GenerateRequest, ModelCapabilities } from '../spec/wire.js';
import { checkRetargetable } from '../motion/pipeline.js';
import { totalFramesOf, validateGenerateRequest } from '../protocol/validate.js';
import type { AdapterRegistry } from '../adapters/registry.js';

/** A request that passed admission, with the adapter that will serve it. */
export interface Admission {
  request: GenerateRequest;
  model: ModelCapabilities;
  adapter: Adapter;
  /** Sample-seconds of output: what the idempotency decline rule weighs. */
  cost: number;
}

export function prepareAdmission(body: unknown, registry: AdapterRegistry): Admission {
  const { request, model } = validateGenerateRequest(body, registry);
  if (model.supports_retargeting) checkRetargetable(model, request.skeleton.joints);
  const adapter = registry.adapterFor(model.id)!;
  const ready = adapter.readiness();
  if (!ready.ready) {
    throw new GatewayError('MG-SRV-003', `Model "${model.id}" is not available right now.`, {
      retryAfterS: 30,
      details: { model: model.id, provider: adapter.provider, reason: ready.reason ?? 'not ready' },
    });
  }
  const seconds = totalFramesOf(request) / (request.timing?.fps ?? model.fps);
  return { request, model, adapter, cost: (request.options?.num_samples ?? 1) * seconds };
}
