/**
 * Admission: what a request must pass before a job exists. The MMCP validation order (protocol, with the
 * gateway's fps bound and output and work budgets at its end), then the checks only a running gateway
 * can make: that the request skeleton can receive the model's motion and that the model's provider is
 * ready. Nothing here calls a provider. A batch is first weighed as a whole (checkBatchAdmission).
 */
import type { Adapter } from '../spec/adapter.js';
import { GatewayError } from '../spec/errors.js';
import type { BatchRequest, GenerateRequest, ModelCapabilities } from '../spec/wire.js';
import { checkRetargetable } from '../motion/pipeline.js';
import { checkReferenceRig } from '../motion/reference.js';
import { checkBatchBudget } from '../protocol/budgets.js';
import { estimateCost, type RequestCost } from '../protocol/cost.js';
import { schemaValidRequest, validateGenerateRequest } from '../protocol/validate.js';
import type { AdapterRegistry } from '../adapters/registry.js';

/** A request that passed admission, with the adapter that will serve it. */
export interface Admission {
  request: GenerateRequest;
  model: ModelCapabilities;
  adapter: Adapter;
  /** The estimated answer size and work; the idempotency decline rule weighs its `sampleSeconds`. */
  cost: RequestCost;
  /** Fields of a newer-minor request that were ignored (validate.ts ValidatedRequest.ignoredFields). */
  ignoredFields: string[];
}

export function prepareAdmission(body: unknown, registry: AdapterRegistry): Admission {
  const { request, model, cost, ignoredFields } = validateGenerateRequest(body, registry);
  if (model.supports_retargeting) checkRetargetable(model, request.skeleton.joints);
  // A reference bringing a rig of its own must map as a humanoid, refused before any job exists.
  for (const seg of request.segments ?? []) if (seg.type === 'motion_reference' && seg.skeleton) checkReferenceRig({ skeleton: seg.skeleton.joints });
  const adapter = registry.adapterFor(model.id)!;
  const ready = adapter.readiness();
  if (!ready.ready) {
    throw new GatewayError('MG-SRV-003', `Model "${model.id}" is not available right now.`, {
      retryAfterS: 30,
      details: { model: model.id, provider: adapter.provider, reason: ready.reason ?? 'not ready' },
    });
  }
  return { request, model, adapter, cost, ignoredFields };
}

/**
 * The batch-wide output budget, before any item is admitted: the sum of what every item asks for (an
 * item that is not even schema-valid, or names no model of this gateway, asks for nothing; the other
 * checks of each item come after, one by one).
 */
export function checkBatchAdmission(batch: BatchRequest, registry: AdapterRegistry, maxBatchOutputBytes: number): void {
  const costs = batch.requests.map((item) => {
    const merged = { protocol_version: batch.protocol_version, ...(item as object) };
    const request = schemaValidRequest(merged);
    if (!request) return undefined;
    const model = registry.model(request.model);
    return model ? estimateCost(request, model) : undefined;
  });
  checkBatchBudget(costs, maxBatchOutputBytes);
}
