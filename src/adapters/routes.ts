/**
 * Model routes (MODEL_ROUTES / ROUTES_FILE): operator-defined model ids that name an ordered list of
 * targets, each a model of this gateway, optionally with pinned provider knobs. A route is advertised as
 * a model whose capabilities are what every target honours (routeCapabilities); which errors hand a job
 * to the next target is FALLBACK_ERRORS. See README.md, Routes.
 */
import { ConfigError } from '../spec/errors.js';
import { PROVIDER_FAULTS } from './breakers.js';
import type { ConstraintType, ModelCapabilities, SegmentType } from '../spec/wire.js';

export interface RouteTarget {
  model: string;
  /** Provider knobs pinned by the operator: merged over request.extensions[provider] (the pinned ones win). */
  extensions?: Record<string, unknown>;
  /**
   * Share of the route's jobs this target gets first (weighted choice). A route with a weight on any target
   * draws its order per job, targets without one weighing 1; the others still follow as fallbacks.
   */
  weight?: number;
}

export interface RouteDefinition {
  id: string;
  targets: RouteTarget[];
}

/**
 * GatewayError ids that hand a job to the next target when a target's admission (readiness, breaker,
 * queue, `start`, which makes no billable call) fails with them: the target is down or its circuit
 * breaker open, refusing the gateway's
 * account (credentials, credits, its configured character, its file host), rate-limiting, failing or too
 * slow. Nothing was paid at that target. Every other error (the caller's: MG-REQ-*, MG-PRO-*, MG-PRV-400,
 * -422, -451; the gateway shutting down; our own bugs, MG-SRV-001) answers at once.
 */
export const FALLBACK_ERRORS: ReadonlySet<string> = new Set(['MG-SRV-003', 'MG-SRV-004', 'MG-JOB-003', ...PROVIDER_FAULTS]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads the routes document ({"route": [target, ...]}, a target being a model id or {model, extensions})
 * and checks its shape; `source` names it in errors (MODEL_ROUTES or ROUTES_FILE). Model ids are checked
 * against the served models later (checkRoutes), once the adapters exist.
 */
export function parseRoutes(doc: unknown, source: string): RouteDefinition[] {
  if (!isObject(doc)) throw new ConfigError(`${source}: must be an object of route names to target lists, e.g. {"text2motion": ["saymotion", "procedural"]}`);
  return Object.entries(doc).map(([id, list]) => {
    if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(id)) throw new ConfigError(`${source}: route "${id.slice(0, 40)}" is not a valid model id (letters, digits, . _ : -)`);
    if (!Array.isArray(list) || list.length === 0) throw new ConfigError(`${source}: route "${id}" needs a non-empty list of targets`);
    const targets = list.map((t, i): RouteTarget => {
      if (typeof t === 'string' && t) return { model: t };
      if (isObject(t) && typeof t.model === 'string' && t.model) {
        const extra = Object.keys(t).filter((k) => k !== 'model' && k !== 'extensions' && k !== 'weight');
        if (extra.length) throw new ConfigError(`${source}: route "${id}" target ${i} ("${t.model}") has unknown fields: ${extra.join(', ')}`);
        if (t.extensions !== undefined && !isObject(t.extensions)) throw new ConfigError(`${source}: route "${id}" target "${t.model}": extensions must be an object`);
        if (t.weight !== undefined && !(typeof t.weight === 'number' && Number.isFinite(t.weight) && t.weight > 0)) {
          throw new ConfigError(`${source}: route "${id}" target "${t.model}": weight must be a positive number`);
        }
        return {
          model: t.model,
          ...(t.extensions ? { extensions: t.extensions as Record<string, unknown> } : {}),
          ...(t.weight !== undefined ? { weight: t.weight as number } : {}),
        };
      }
      throw new ConfigError(`${source}: route "${id}" target ${i} must be a model id or {"model": id, "extensions": {...}, "weight": n}`);
    });
    const seen = new Set<string>();
    for (const t of targets) {
      if (seen.has(t.model)) throw new ConfigError(`${source}: route "${id}" lists target "${t.model}" twice`);
      seen.add(t.model);
    }
    return { id, targets };
  });
}

/** Checks routes against the served model ids: every target exists, no route id is a model's. */
export function checkRoutes(routes: readonly RouteDefinition[], modelIds: readonly string[]): void {
  const models = new Set(modelIds);
  for (const r of routes) {
    if (models.has(r.id)) throw new ConfigError(`MODEL_ROUTES: route "${r.id}" has the id of a served model; name it otherwise`);
    for (const t of r.targets) {
      if (!models.has(t.model)) {
        const routeNote = routes.some((o) => o.id === t.model) ? ' (a route cannot target another route)' : '';
        throw new ConfigError(`MODEL_ROUTES: route "${r.id}" targets "${t.model}", which is not a model of this gateway${routeNote} (served: ${[...models].join(', ')})`);
      }
    }
  }
}

/**
 * The order a job tries a route's targets in: the listed order, or, when any target has a weight, a
 * weighted draw without replacement (`random` in [0, 1)): the first target is chosen with probability
 * weight / total, the next among those left, and so on.
 */
export function targetOrder(route: RouteDefinition, random: () => number): RouteTarget[] {
  if (!route.targets.some((t) => t.weight !== undefined)) return route.targets;
  const left = [...route.targets];
  const out: RouteTarget[] = [];
  while (left.length) {
    let x = random() * left.reduce((sum, t) => sum + (t.weight ?? 1), 0);
    let i = 0;
    for (; i < left.length - 1; i++) {
      x -= left[i].weight ?? 1;
      if (x < 0) break;
    }
    out.push(...left.splice(i, 1));
  }
  return out;
}

const intersect = <T>(lists: T[][]): T[] => lists.reduce((acc, l) => acc.filter((x) => l.includes(x)));

/**
 * A route's entry of GET /capabilities: what every target honours. Booleans of features a request asks
 * for are true only when every target has them, except supports_async (true when any target is: every
 * job can be polled); lists are intersections; limits are the smallest; fps and chunking are the first
 * target's. The canonical skeleton (and its contact joints) is `skeletonOf`'s, the embedded procedural
 * model's: every model retargets onto any humanoid, so that rig is one every target can answer on.
 */
export function routeCapabilities(route: RouteDefinition, targets: readonly ModelCapabilities[], skeletonOf: ModelCapabilities): ModelCapabilities {
  const all = (k: keyof ModelCapabilities) => targets.every((t) => t[k] === true);
  const minOf = (k: keyof ModelCapabilities['limits']): number | undefined => {
    const vals = targets.map((t) => t.limits[k]).filter((v): v is number => typeof v === 'number');
    return vals.length ? Math.min(...vals) : undefined;
  };
  const limits = { ...targets[0].limits };
  for (const k of Object.keys(limits) as (keyof ModelCapabilities['limits'])[]) {
    const v = minOf(k);
    if (v !== undefined) (limits as Record<string, number>)[k] = v;
  }
  const segments = intersect(targets.map((t) => t.supported_segments)) as SegmentType[];
  return {
    id: route.id,
    description: `Route over ${route.targets.map((t) => t.model).join(' → ')} (first ready target serves; see x_served_by).`,
    provider: 'route',
    fps: targets[0].fps,
    supports_retargeting: all('supports_retargeting'),
    supports_async: targets.some((t) => t.supports_async),
    supports_segment_seed: all('supports_segment_seed'),
    supports_loop: all('supports_loop'),
    supports_trajectory: all('supports_trajectory'),
    supports_batch: all('supports_batch'),
    supports_motion_reference_mixed: segments.includes('motion_reference') && all('supports_motion_reference_mixed'),
    supported_constraints: intersect(targets.map((t) => t.supported_constraints)) as ConstraintType[],
    supported_segments: segments,
    supported_guidance_types: intersect(targets.map((t) => t.supported_guidance_types)),
    predicted_contact_joints: [...skeletonOf.predicted_contact_joints],
    native_clip_seconds: Math.min(...targets.map((t) => t.native_clip_seconds)),
    chunking: targets.some((t) => t.chunking === 'stitched') ? 'stitched' : 'none',
    recommended_max_duration_seconds: Math.min(...targets.map((t) => t.recommended_max_duration_seconds)),
    canonical_skeleton: skeletonOf.canonical_skeleton,
    limits,
  };
}
