/**
 * The provider registry: the providers this gateway knows (adding one is one line here and its own
 * folder), and the AdapterRegistry of a running gateway: which adapter serves which model, with the
 * deployment's gateway-wide limits applied to every model it advertises.
 */
import type { Adapter, Env, ProviderDefinition, Readiness } from '../spec/adapter.js';
import type { ModelCapabilities } from '../spec/wire.js';
import type { ModelCatalog } from '../protocol/validate.js';
import { withGatewayLimits, type GatewayLimits } from './kit/model.js';
import { checkRoutes, routeCapabilities, type RouteDefinition } from './routes.js';
import { ProviderBreakers, type BreakerOptions } from './breakers.js';
import { GatewayError } from '../spec/errors.js';
import { meshyProvider } from './meshy/index.js';
import { mmcpProviders } from './mmcp/index.js';
import { proceduralProvider } from './procedural/index.js';
import { sayMotionProvider } from './saymotion/index.js';

/** Every in-tree provider, in the order their models are listed. */
export const PROVIDERS: readonly ProviderDefinition<unknown>[] = [proceduralProvider, sayMotionProvider, meshyProvider] as ProviderDefinition<unknown>[];

/**
 * The providers a deployment may configure: the in-tree ones, then one per upstream MMCP server that
 * MMCP_UPSTREAMS lists (src/adapters/mmcp; their names may not reuse an in-tree one's).
 */
export function providerDefinitions(env: Env): ProviderDefinition<unknown>[] {
  return [...PROVIDERS, ...(mmcpProviders(env, PROVIDERS.map((p) => p.provider)) as ProviderDefinition<unknown>[])];
}

/** Breakers of a registry built without options (tests): as the configuration's defaults. */
const DEFAULT_BREAKERS: BreakerOptions = { failures: 5, errorPercent: 50, volume: 10, windowMs: 60_000, resetMs: 30_000 };

export class AdapterRegistry implements ModelCatalog {
  private readonly routeById: Map<string, RouteDefinition>;
  /** One circuit breaker per provider: what admission consults before handing a provider new work. */
  readonly breakers: ProviderBreakers;
  /** The draw of weighted routes (routes.ts targetOrder); tests replace it with a seeded one. */
  random: () => number = Math.random;

  /** `routes` are checked against the adapters' models here: a bad one stops start-up (ConfigError). */
  constructor(
    readonly adapters: readonly Adapter[],
    private readonly limits: GatewayLimits,
    readonly routes: readonly RouteDefinition[] = [],
    breakers: ProviderBreakers | BreakerOptions = DEFAULT_BREAKERS,
  ) {
    checkRoutes(routes, this.providerModelIds());
    this.routeById = new Map(routes.map((r) => [r.id, r]));
    this.breakers = breakers instanceof ProviderBreakers ? breakers : new ProviderBreakers(breakers);
  }

  /**
   * Why `adapter` cannot take new work now (MG-SRV-003 not ready, MG-SRV-004 breaker open), or undefined.
   * `model` names the model asked for in the error.
   */
  unavailable(adapter: Adapter, model: string): GatewayError | undefined {
    const ready = adapter.readiness();
    if (!ready.ready) {
      return new GatewayError('MG-SRV-003', `Model "${model}" is not available right now.`, {
        retryAfterS: 30,
        details: { model, provider: adapter.provider, reason: ready.reason ?? 'not ready' },
      });
    }
    const open = this.breakers.refusal(adapter.provider);
    if (open) return new GatewayError('MG-SRV-004', undefined, { retryAfterS: open.retryAfterS, details: { model, ...(open.details ?? {}) } });
    return undefined;
  }

  /** A provider's model (not a route) with the gateway-wide limits. */
  providerModel(id: string): ModelCapabilities | undefined {
    for (const a of this.adapters) {
      const m = a.models().find((x) => x.id === id);
      if (m) return withGatewayLimits(m, this.limits);
    }
    return undefined;
  }

  /** The route of that id, if `id` names one. */
  route(id: string): RouteDefinition | undefined {
    return this.routeById.get(id);
  }

  model(id: string): ModelCapabilities | undefined {
    const route = this.routeById.get(id);
    return route ? this.routeModel(route) : this.providerModel(id);
  }

  modelIds(): string[] {
    return [...this.providerModelIds(), ...this.routes.map((r) => r.id)];
  }

  models(): ModelCapabilities[] {
    return [...this.adapters.flatMap((a) => a.models().map((m) => withGatewayLimits(m, this.limits))), ...this.routes.map((r) => this.routeModel(r))];
  }

  private providerModelIds(): string[] {
    return this.adapters.flatMap((a) => a.models().map((m) => m.id));
  }

  /**
   * A route as a model (routeCapabilities) on the embedded procedural model's skeleton; the first
   * target's when no procedural model is served. A target no longer offered (an upstream's model list
   * changed) is left out of the intersection.
   */
  private routeModel(route: RouteDefinition): ModelCapabilities {
    const targets = route.targets.map((t) => this.providerModel(t.model)).filter((m): m is ModelCapabilities => m !== undefined);
    const procedural = this.adapters.find((a) => a.provider === 'procedural')?.models()[0];
    const skeletonOf = procedural ? withGatewayLimits(procedural, this.limits) : targets[0];
    return routeCapabilities(route, targets.length ? targets : [skeletonOf], skeletonOf);
  }

  adapterFor(modelId: string): Adapter | undefined {
    return this.adapters.find((a) => a.models().some((m) => m.id === modelId));
  }

  readiness(): Record<string, Readiness> {
    return Object.fromEntries(this.adapters.map((a) => [a.provider, a.readiness()]));
  }

  async close(): Promise<void> {
    this.breakers.close();
    await Promise.all(this.adapters.map((a) => a.close?.()));
  }
}
