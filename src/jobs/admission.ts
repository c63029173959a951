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
import { targetOrder, type RouteDefinition, type RouteTarget } from '../adapters/routes.js';
import type { ServedAttempt } from '../spec/plan.js';

/** One model that may serve an admitted request: the model itself, or a route's target (in order). */
export interface Candidate {
  target: RouteTarget;
  model: ModelCapabilities;
  adapter: Adapter;
}

/** A request that passed admission, with the adapter that will serve it. */
export interface Admission {
  request: GenerateRequest;
  /** The model the request names: a provider's model, or a route (its capabilities). */
  model: ModelCapabilities;
  /** The first candidate's adapter. */
  adapter: Adapter;
  /** Who may serve it, in order: the model itself, or the ready targets of its route. */
  candidates: Candidate[];
  /** The route the request names, when it names one. */
  route?: RouteDefinition;
  /** Targets of the route already passed over (not ready), with why. */
  attempts: ServedAttempt[];
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
  const route = registry.route(model.id);
  const routing = request.extensions?.routing;
  if (!route) {
    if (routing !== undefined) throw new GatewayError('MG-PRO-007', `extensions.routing applies to routes only; "${model.id}" is a model.`, { details: { option: 'extensions.routing', model: model.id } });
    const adapter = registry.adapterFor(model.id)!;
    const refused = registry.unavailable(adapter, model.id);
    if (refused) throw refused;
    return { request, model, adapter, candidates: [{ target: { model: model.id }, model, adapter }], attempts: [], cost, ignoredFields };
  }
  const { candidates, attempts, reasons, retryAfterS } = routeCandidates(registry, route, request, new Set());
  if (!candidates.length) {
    throw new GatewayError('MG-SRV-003', `No target of route "${route.id}" is available right now.`, {
      retryAfterS,
      details: { model: route.id, targets: reasons, attempts },
    });
  }
  return { request, model, adapter: candidates[0].adapter, candidates, route, attempts, cost, ignoredFields };
}

/**
 * The targets of `route` a request may still use, in its order (extensions.routing applied), leaving out
 * those already `tried`: the ready ones as candidates, the others as attempts (with why, in `reasons`).
 */
export function routeCandidates(
  registry: AdapterRegistry,
  route: RouteDefinition,
  request: GenerateRequest,
  tried: ReadonlySet<string>,
): { candidates: Candidate[]; attempts: ServedAttempt[]; reasons: Record<string, string>; retryAfterS: number } {
  const attempts: ServedAttempt[] = [];
  let retryAfterS = 30; // the soonest a passed-over target may take work again
  const candidates: Candidate[] = [];
  const reasons: Record<string, string> = {};
  for (const target of routeOrder(route, request.extensions?.routing, registry.random)) {
    if (tried.has(target.model)) continue;
    const adapter = registry.adapterFor(target.model);
    const targetModel = registry.providerModel(target.model);
    const refused = adapter && targetModel ? registry.unavailable(adapter, target.model) : new GatewayError('MG-SRV-003', undefined, { details: { reason: 'no longer configured' } });
    if (refused || !adapter || !targetModel) {
      const why = refused ?? new GatewayError('MG-SRV-003');
      attempts.push({ model: target.model, error_code: why.code, error_id: why.id });
      reasons[target.model] = why.id === 'MG-SRV-004' ? 'circuit breaker open' : String(why.details?.reason ?? 'not ready');
      retryAfterS = Math.min(retryAfterS, why.retryAfterS ?? 30);
      continue;
    }
    candidates.push({ target, model: targetModel, adapter });
  }
  return { candidates, attempts, reasons, retryAfterS };
}

/**
 * Whether a target of `route` other than those `tried` could take the request now (configured, ready,
 * its breaker closed; `extensions.routing.only` applied). Draws nothing: the order does not matter here.
 */
export function otherTargetAvailable(registry: AdapterRegistry, route: RouteDefinition, request: GenerateRequest, tried: ReadonlySet<string>): boolean {
  const only = (request.extensions?.routing as { only?: unknown } | undefined)?.only;
  const allowed = Array.isArray(only) ? new Set(only) : undefined;
  return route.targets.some((t) => {
    if (tried.has(t.model) || (allowed && !allowed.has(t.model))) return false;
    const adapter = registry.adapterFor(t.model);
    return adapter !== undefined && registry.providerModel(t.model) !== undefined && !registry.unavailable(adapter, t.model);
  });
}

/**
 * The targets a request to `route` may use, in order: the route's, with `extensions.routing`'s
 * `{"prefer": id}` moved first or `{"only": [ids]}` keeping those (in the route's order). Naming a target
 * the route does not hold is refused (400 invalid_options, MG-PRO-007, listing the route's targets).
 */
function routeOrder(route: RouteDefinition, routing: unknown, random: () => number): RouteTarget[] {
  const ordered = targetOrder(route, random);
  if (routing === undefined) return ordered;
  const held = route.targets.map((t) => t.model);
  const refuse = (message: string): never => {
    throw new GatewayError('MG-PRO-007', message, { details: { option: 'extensions.routing', route: route.id, targets: held } });
  };
  if (typeof routing !== 'object' || routing === null || Array.isArray(routing)) return refuse('extensions.routing must be {"prefer": target} or {"only": [targets]}.');
  const r = routing as Record<string, unknown>;
  const keys = Object.keys(r);
  if (keys.length !== 1 || (keys[0] !== 'prefer' && keys[0] !== 'only')) return refuse('extensions.routing takes exactly one of "prefer" or "only".');
  const check = (id: unknown): string => {
    if (typeof id !== 'string' || !held.includes(id)) refuse(`Route "${route.id}" has no target ${JSON.stringify(id)}; its targets are ${held.join(', ')}.`);
    return id as string;
  };
  if (keys[0] === 'prefer') {
    const first = check(r.prefer);
    return [...ordered.filter((t) => t.model === first), ...ordered.filter((t) => t.model !== first)];
  }
  if (!Array.isArray(r.only) || r.only.length === 0) return refuse('extensions.routing.only must be a non-empty list of targets.');
  const only = new Set(r.only.map(check));
  return ordered.filter((t) => only.has(t.model));
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
