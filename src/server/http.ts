/** HTTP plumbing shared by the routes: reading bodies under a size cap, and rendering the error envelope. */
import type { ServerResponse } from 'node:http';
import type { Request, Response } from 'express';
import { GatewayError, asGatewayError } from '../spec/errors.js';
import type { ErrorEnvelope } from '../spec/wire.js';

/**
 * Reads the raw body. Refuses it with 413 from Content-Length before reading, or while counting the bytes
 * of a body sent without one (chunked), so no oversize body is ever held in memory.
 */
export function readBody(req: Request, maxBytes: number): Promise<Buffer> {
  const encoded = refuseContentEncoding(req.headers['content-encoding']);
  if (encoded) return Promise.reject(encoded);
  // request_bytes: the declared Content-Length, or (a body sent without one) the bytes received when the
  // limit was crossed, a lower bound of its size. The rest of the body is never read.
  const tooLarge = (requestBytes: number) =>
    new GatewayError('MG-REQ-004', `The request body is larger than ${maxBytes} bytes.`, { details: { max_request_bytes: maxBytes, request_bytes: requestBytes } });
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) return Promise.reject(tooLarge(Number(declared)));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > maxBytes) {
        failed = true;
        chunks.length = 0;
        req.pause();
        reject(tooLarge(size));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks, size));
    });
    req.on('error', (err) => {
      if (!failed) {
        failed = true;
        reject(new GatewayError('MG-REQ-002', 'The request body could not be read.', { cause: err }));
      }
    });
  });
}

/** The only content coding bodies may have: none (RFC 9110 §8.4.1 "identity"). */
export const ACCEPTED_CONTENT_ENCODINGS = ['identity'];

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]{1,32}$/;

/**
 * 415 for a body sent with a content coding other than identity. Decoding is not offered: a compressed
 * body read as if plain would be garbage, and a decompressor is one more size cap to get right.
 */
function refuseContentEncoding(header: string | undefined): GatewayError | undefined {
  const codings = (header ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter(Boolean);
  const refused = codings.filter((c) => !ACCEPTED_CONTENT_ENCODINGS.includes(c));
  if (!refused.length) return undefined;
  // Named back only as HTTP tokens, and only a few: details never echo arbitrary input.
  const named = refused.slice(0, 4).map((c) => (TOKEN.test(c) ? c : '(not a token)'));
  return new GatewayError('MG-REQ-016', `The request body is encoded as ${named.map((c) => `"${c}"`).join(', ')}; only identity (no Content-Encoding) is accepted.`, {
    details: { header: 'Content-Encoding', content_encoding: named, accepted_encodings: ACCEPTED_CONTENT_ENCODINGS },
  });
}

/** Whether the Content-Type is JSON in UTF-8. */
export function isJsonContentType(header: string | undefined): boolean {
  if (!header) return false;
  const [media, ...params] = header.split(';').map((s) => s.trim().toLowerCase());
  if (media !== 'application/json') return false;
  const charset = params.find((p) => p.startsWith('charset='))?.slice(8).replace(/"/g, '');
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}

/** Sends a GatewayError (or any thrown value, as an internal error) as the envelope. */
export function sendError(res: ServerResponse, err: unknown, extraHeaders: Record<string, string> = {}): void {
  const g = asGatewayError(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body: ErrorEnvelope = g.toEnvelope();
  res.statusCode = g.status;
  if (g.retryAfterS !== undefined && (g.status === 429 || g.status === 503 || g.retryable)) res.setHeader('Retry-After', String(Math.ceil(g.retryAfterS)));
  for (const [k, v] of Object.entries(extraHeaders)) res.setHeader(k, v);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(JSON.stringify(body));
}

/** The 405 handler of a route: lists the allowed methods. */
export function methodNotAllowed(allowed: string[]) {
  return (req: Request, res: Response): void => {
    sendError(res, new GatewayError('MG-REQ-008', `${req.method} is not allowed here; use ${allowed.join(' or ')}.`, { details: { allowed } }), {
      Allow: allowed.join(', '),
    });
  };
}
