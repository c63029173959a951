/**
 * Answers what Node's HTTP layer refuses before any route sees a request (bad bytes, headers too large,
 * headers or body too slow, no Host) in our error envelope, with an X-Request-ID and Connection: close,
 * instead of Node's bare status line. A connection the client already reset is just destroyed.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, maxHeaderSize, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../spec/adapter.js';
import { GatewayError } from '../spec/errors.js';
import { sendError } from './http.js';
import { requestIdFor } from './middleware.js';

/** Errors that mean the peer is gone: nothing can be answered. */
const PEER_GONE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT']);

/** The catalogue error for one parser failure (`code` is Node's: HPE_*, ERR_HTTP_REQUEST_TIMEOUT). */
function parserError(code: string | undefined, server: Server): GatewayError {
  if (code === 'HPE_HEADER_OVERFLOW') return new GatewayError('MG-REQ-018', undefined, { details: { max_header_bytes: maxHeaderSize } });
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new GatewayError('MG-REQ-019', undefined, { details: { headers_timeout_ms: server.headersTimeout, request_timeout_ms: server.requestTimeout } });
  }
  return new GatewayError('MG-REQ-017', undefined, { details: { parser_error: code && /^[A-Z_]{1,64}$/.test(code) ? code : 'unknown' } });
}

/** The envelope as raw HTTP/1.1 bytes, for a socket that has no ServerResponse to write through. */
function rawAnswer(err: GatewayError, requestId: string): string {
  const body = JSON.stringify(err.toEnvelope());
  const head = [
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    `X-Request-ID: ${requestId}`,
    'Connection: close',
  ];
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}

/** Installs the 'clientError' handler on a gateway's server. */
export function answerClientErrors(server: Server, log: Logger): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (PEER_GONE.has(err.code ?? '') || !socket.writable) {
      socket.destroy();
      return;
    }
    const error = parserError(err.code, server);
    // A request whose route is still at work owns the socket: answer through its response if nothing is sent yet.
    const current = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    const given = current?.getHeader('X-Request-ID');
    const requestId = typeof given === 'string' ? given : randomUUID();
    log.info({ request_id: requestId, status: error.status, error_code: error.id, parser_error: err.code }, 'refused by the HTTP parser');
    if (current) {
      if (current.headersSent) {
        socket.destroy();
        return;
      }
      current.setHeader('X-Request-ID', requestId);
      current.once('finish', () => socket.destroy());
      sendError(current, error, { Connection: 'close' });
      return;
    }
    socket.end(rawAnswer(error, requestId), () => socket.destroy());
  });
}

/**
 * HTTP/1.1 requires a Host header (RFC 9112 §3.2). Node's own check answers a bare 400, so the server is
 * created with `requireHostHeader: false` and this wrapper refuses in the envelope instead.
 */
export function requireHost(app: RequestListener): RequestListener {
  return (req, res) => {
    if (req.httpVersionMajor === 1 && req.httpVersionMinor === 1 && req.headers.host === undefined) {
      res.setHeader('X-Request-ID', requestIdFor(req));
      sendError(res, new GatewayError('MG-REQ-017', 'The request has no Host header.', { details: { header: 'Host' } }), { Connection: 'close' });
      return;
    }
    app(req, res);
  };
}
