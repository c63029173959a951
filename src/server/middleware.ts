/** Request-wide middleware: request ids, access logs and metrics, gateway authentication, the final error handler. */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { GatewayError } from '../spec/errors.js';
import type { GatewayContext } from './context.js';
import { ACCEPTED_CONTENT_ENCODINGS, sendError } from './http.js';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';

const SANE_REQUEST_ID = /^[A-Za-z0-9._:@\-]{1,128}$/;

/** A sane client X-Request-ID, or a new one (also for answers given outside express: the drain's 503). */
export function requestIdFor(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
}

/** Echoes a sane client X-Request-ID, or mints one; logs and measures the request when it ends. */
export function requestContext(gw: GatewayContext) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const id = requestIdFor(req);
    res.locals.requestId = id;
    res.setHeader('X-Request-ID', id);
    const started = process.hrtime.bigint();
    // The request's span continues the caller's trace (W3C traceparent); routes hand it to the jobs they create.
    const span = gw.tracing.tracer.startSpan(
      req.method,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': req.path, 'mmcp.request_id': id } },
      gw.tracing.extract(req.headers),
    );
    res.locals.span = span;
    let ended = false;
    const routeOf = () => (req.route?.path as string | undefined) ?? 'unmatched';
    const end = () => {
      if (ended) return;
      ended = true;
      const route = routeOf();
      span.updateName(`${req.method} ${route}`);
      span.setAttributes({ 'http.route': route, 'http.response.status_code': res.statusCode });
      for (const [header, attribute] of [['x-job-id', 'mmcp.job_id'], ['x-served-by', 'gateway.served_by']] as const) {
        const value = res.getHeader(header);
        if (typeof value === 'string') span.setAttribute(attribute, value);
      }
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${res.statusCode}` });
      if (!res.writableFinished) span.setAttribute('gateway.aborted', true);
      span.end();
    };
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeOf();
      gw.metrics.httpDuration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      gw.log.info({ request_id: id, method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1000) }, 'request');
      end();
    });
    res.on('close', end);
    next();
  };
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * When API keys are configured, requires `Authorization: Bearer <key>` (401 without, 403 for an unknown
 * key). The caller's scope (jobs, idempotency keys) is a hash of its key, never the key itself.
 */
export function authenticate(gw: GatewayContext) {
  const keys = gw.config.apiKeys.map(digest);
  return (req: Request, res: Response, next: NextFunction): void => {
    if (keys.length === 0) {
      res.locals.owner = 'anonymous';
      return next();
    }
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return sendError(res, new GatewayError('MG-AUT-001'), { 'WWW-Authenticate': 'Bearer' });
    const d = digest(m[1]);
    if (!keys.some((k) => timingSafeEqual(k, d))) return sendError(res, new GatewayError('MG-AUT-002'));
    res.locals.owner = `key:${d.toString('hex').slice(0, 32)}`;
    next();
  };
}

export function notFound() {
  return (req: Request, res: Response): void => {
    sendError(res, new GatewayError('MG-REQ-007', 'There is no such endpoint.', { details: { path: req.path.slice(0, 200) } }));
  };
}

/** The one place errors are rendered; anything not from the catalogue becomes an internal error, logged. */
export function errorHandler(gw: GatewayContext) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (!(err instanceof GatewayError)) {
      const status = (err as { status?: number; statusCode?: number })?.status ?? (err as { statusCode?: number })?.statusCode;
      if (err instanceof URIError || status === 400) return sendError(res, new GatewayError('MG-REQ-014'));
      if (status === 413) return sendError(res, new GatewayError('MG-REQ-004'));
      const store = gw.store.status();
      if (store.state !== 'ok') {
        // The store (Redis) is not answering: a temporary condition, not a bug of ours.
        gw.log.warn({ err: String(err), request_id: res.locals.requestId, store: store.state }, 'store unavailable');
        return sendError(res, new GatewayError('MG-SRV-003', `The ${store.kind} store is unavailable (${store.state}); retry shortly.`, { retryAfterS: 5, details: { store: store.state } }));
      }
      gw.log.error({ err, request_id: res.locals.requestId, path: req.path }, 'unhandled error');
    } else if (err.status === 413) {
      res.setHeader('Connection', 'close');
    } else if (err.id === 'MG-REQ-016') {
      // RFC 7694: say which codings are accepted; the unread (encoded) body is not worth reading to keep the connection.
      res.setHeader('Accept-Encoding', ACCEPTED_CONTENT_ENCODINGS.join(', '));
      res.setHeader('Connection', 'close');
    }
    sendError(res, err);
  };
}
