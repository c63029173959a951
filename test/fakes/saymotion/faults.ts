/** Per-test misbehaviour of the simulator: the routes it answers, the faults it can play on them, and the plan of which call gets which. */

export type Route =
  | 'auth'
  | 'creditBalance'
  | 'process'
  | 'status'
  | 'download'
  | 'cancel'
  | 'list'
  | 'listModels'
  /** A result file (GLB, FBX zip, BVH) of a non-intermediate group, from storage or the API host. */
  | 'file'
  /** A file of an `inter…` url group (nobody should need it). */
  | 'interFile'
  | 'unknown';

export type Fault =
  /**
   * An HTTP error answer instead of the real one (no side effect). `echoCredentials`: its message quotes
   * the client secret and the session cookie value the call carried (a provider that echoes them).
   */
  | { status: number; body?: unknown; retryAfter?: string; echoCredentials?: boolean }
  /** 200 with JSON cut in the middle (after the real work is done). */
  | { kind: 'malformed' }
  /** The real answer, sent late (ms on the simulator's clock). */
  | { kind: 'delay'; ms: number }
  /** The real work is done, no answer ever comes. */
  | { kind: 'hang' }
  /** The real work is done, then the connection is reset. */
  | { kind: 'drop' }
  /** Every session expires just before this call. */
  | { kind: 'expireSession' }
  /** status: `{"count": 0, "status": []}`. */
  | { kind: 'count0' }
  /** files: the first half of the bytes only. */
  | { kind: 'truncate' };

interface FaultRule {
  route: Route;
  fault: Fault;
  /** How many matching calls it hits (Infinity for all). */
  times: number;
  /** Matching calls to let through first. */
  after: number;
}

/** Which call gets which fault: rules in the order they were added, each for its number of calls. */
export class FaultPlan {
  private readonly rules: FaultRule[] = [];

  add(route: Route, fault: Fault, opts: { times?: number; after?: number } = {}): void {
    this.rules.push({ route, fault, times: opts.times ?? 1, after: opts.after ?? 0 });
  }

  clear(): void {
    this.rules.length = 0;
  }

  /** The fault this call of `route` gets, if any (counting it against its rule). */
  take(route: Route): Fault | undefined {
    for (const rule of this.rules) {
      if (rule.route !== route || rule.times <= 0) continue;
      if (rule.after > 0) {
        rule.after--;
        continue;
      }
      rule.times--;
      return rule.fault;
    }
    return undefined;
  }
}

/** The route of a call to the API or the storage host. */
export function routeOf(method: string, path: string, host: 'api' | 'storage'): Route {
  if (host === 'storage') return /\/inter_/.test(path) ? 'interFile' : 'file';
  if (path === '/account/v1/auth') return 'auth';
  if (path === '/account/v1/creditBalance') return 'creditBalance';
  if (method === 'POST' && path.startsWith('/job/v1/process/')) return 'process';
  if (path.startsWith('/job/v1/status/')) return 'status';
  if (path.startsWith('/job/v1/download/')) return 'download';
  if (path.startsWith('/job/v1/cancel/')) return 'cancel';
  if (path === '/job/v1/list' || path.startsWith('/job/v1/list/')) return 'list';
  if (path === '/character/v1/listModels') return 'listModels';
  if (path.startsWith('/job/v1/files/')) return /\/inter_/.test(path) ? 'interFile' : 'file';
  return 'unknown';
}
