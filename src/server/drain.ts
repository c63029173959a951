/**
 * The HTTP side of a graceful stop. While draining: the listener is closed (no new connections), idle
 * kept-alive connections are closed at once, a request arriving on a kept-alive connection is refused with
 * 503 MG-SRV-002 + Retry-After + Connection: close, and every request already in flight may finish (its
 * answer says Connection: close; its socket is closed once its last answer is written). At the deadline,
 * requests not yet answered get that 503 and every connection left is closed.
 */
import type { RequestListener, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../spec/adapter.js';
import type { Clock } from '../spec/clock.js';
import { GatewayError } from '../spec/errors.js';
import { sendError } from './http.js';
import { requestIdFor } from './middleware.js';

/** How long the 503s given at the deadline may take to reach the kernel before their sockets are closed. */
const DEADLINE_FLUSH_MS = 1_000;

export class HttpDrain {
  /** Answers not yet written to the end, per connection (several when a client pipelines). */
  private readonly inFlight = new Map<Socket, Set<ServerResponse>>();
  private readonly idleWaiters: Array<() => void> = [];
  private draining = false;

  constructor(
    private readonly server: Server,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Wraps the app: tracks every request per socket, and refuses the ones that arrive while draining. */
  listener(app: RequestListener): RequestListener {
    return (req, res) => {
      this.track(req.socket, res);
      if (!this.draining) return app(req, res);
      res.setHeader('X-Request-ID', requestIdFor(req));
      this.refuse(res);
    };
  }

  /** Requests being answered now, over all connections. */
  get inFlightCount(): number {
    let n = 0;
    for (const set of this.inFlight.values()) n += set.size;
    return n;
  }

  /**
   * Starts draining: closes the listener and the idle connections, marks in-flight answers Connection: close.
   * Resolves when the server has closed, i.e. when the last connection is gone.
   */
  begin(): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => (this.server.listening ? this.server.close(() => resolve()) : resolve()));
    for (const set of this.inFlight.values()) for (const res of set) if (!res.headersSent) res.setHeader('Connection', 'close');
    this.server.closeIdleConnections();
    this.log.info({ in_flight: this.inFlightCount }, 'draining HTTP connections');
    return closed;
  }

  /** Resolves when every in-flight request has been answered, or after `ms`. */
  async settle(ms: number): Promise<void> {
    if (this.inFlightCount === 0) return;
    const stop = new AbortController();
    await Promise.race([new Promise<void>((resolve) => this.idleWaiters.push(resolve)), this.clock.sleep(ms, stop.signal)]);
    stop.abort();
  }

  /** The deadline: a 503 for every request not yet answered, answers being written are cut, all connections closed. */
  async closeRemaining(): Promise<void> {
    const refused: Array<Promise<void>> = [];
    let cut = 0;
    for (const [socket, set] of this.inFlight) {
      for (const res of set) {
        if (res.headersSent) {
          cut++;
          socket.destroy();
          continue;
        }
        refused.push(new Promise((resolve) => res.once('close', () => resolve())));
        if (!res.hasHeader('X-Request-ID')) res.setHeader('X-Request-ID', requestIdFor(res.req));
        this.refuse(res);
      }
    }
    if (refused.length || cut) this.log.warn({ refused: refused.length, cut }, 'shutdown grace over: refusing unanswered requests, cutting unfinished answers');
    if (refused.length) {
      const stop = new AbortController();
      await Promise.race([Promise.all(refused), this.clock.sleep(DEADLINE_FLUSH_MS, stop.signal)]);
      stop.abort();
    }
    this.server.closeAllConnections();
  }

  private refuse(res: ServerResponse): void {
    sendError(res, new GatewayError('MG-SRV-002'), { Connection: 'close' });
  }

  private track(socket: Socket, res: ServerResponse): void {
    let set = this.inFlight.get(socket);
    if (!set) this.inFlight.set(socket, (set = new Set()));
    set.add(res);
    res.once('close', () => {
      set.delete(res);
      if (set.size) return;
      this.inFlight.delete(socket);
      // A kept-alive connection whose last answer was written during the drain is closed, not kept.
      if (this.draining) socket.end();
      if (this.inFlightCount === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    });
  }
}
