/**
 * What the HTTP parser refuses, and bodies sent with a Content-Encoding, are answered in our error
 * envelope: JSON with an X-Request-ID, Connection: close where the connection cannot go on, over raw sockets.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../src/server/app.js';
import { validators } from '../../src/protocol/schemas.js';
import { testConfig } from '../helpers/config.js';
import { canonicalSkeleton, rawRequest, type RawResponse } from '../helpers/gateway.js';
import { RawConnection, requestBytes, type RawHttpResponse } from '../helpers/raw-http.js';
import { sharedWorkers } from '../helpers/workers.js';

const HEADERS_TIMEOUT_MS = 300;

let gw: Gateway;
let url: string;
let skeleton: any;

beforeAll(async () => {
  gw = createGateway(testConfig(), { workers: sharedWorkers() });
  // Short parser timeouts so a stalled client is refused within the test; read by Node at listen().
  gw.server.headersTimeout = HEADERS_TIMEOUT_MS;
  (gw.server as typeof gw.server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = 50;
  url = await gw.listen(0, '127.0.0.1');
  skeleton = await canonicalSkeleton(url);
});
afterAll(() => gw.close());

/** Asserts a refusal in the envelope with the given status and error_code, and that the server closes the connection. */
async function expectRefused(conn: RawConnection, status: number, errorCode: string): Promise<RawHttpResponse> {
  const res = await conn.response();
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(res.headers['x-request-id']).toMatch(/^[A-Za-z0-9._:@-]{1,128}$/);
  expect(res.headers.connection).toBe('close');
  const envelope = res.json();
  expect(validators.errorEnvelope(envelope)).toBe(true);
  expect(envelope.detail.error_code).toBe(errorCode);
  await conn.ended;
  return res;
}

async function send(bytes: string | Buffer): Promise<RawConnection> {
  const conn = await RawConnection.open(url);
  await conn.write(bytes);
  return conn;
}

describe('refusals of the HTTP parser', () => {
  it('answers a header name with a space in it with 400 MG-REQ-017 naming the parser error', async () => {
    const res = await expectRefused(await send('GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n'), 400, 'MG-REQ-017');
    expect(res.json().error).toMatchObject({ code: 'invalid_request', details: { parser_error: 'HPE_INVALID_HEADER_TOKEN' } });
  });

  it('answers binary garbage instead of a request line with 400 MG-REQ-017', async () => {
    await expectRefused(await send(Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a, 0x0d, 0x0a])), 400, 'MG-REQ-017');
  });

  it('answers two different Content-Length headers with 400 MG-REQ-017', async () => {
    await expectRefused(await send('POST /generate HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}'), 400, 'MG-REQ-017');
  });

  it('answers an HTTP/1.1 request without Host with 400 MG-REQ-017 naming the header (Node alone answers a bare 400)', async () => {
    const res = await expectRefused(await send('GET /capabilities HTTP/1.1\r\nAccept: application/json\r\n\r\n'), 400, 'MG-REQ-017');
    expect(res.json().error.details).toEqual({ header: 'Host' });
  });

  it('serves an HTTP/1.0 request without Host', async () => {
    const conn = await send('GET /healthz HTTP/1.0\r\n\r\n');
    expect((await conn.response()).status).toBe(200);
    conn.destroy();
  });

  it('answers headers over the size limit with 431 MG-REQ-018 and the limit in details', async () => {
    const res = await expectRefused(await send(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`), 431, 'MG-REQ-018');
    expect(res.json().error.details.max_header_bytes).toBe(16_384);
  });

  it('answers headers that stop arriving with 408 MG-REQ-019 after the headers timeout', async () => {
    const res = await expectRefused(await send('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: '), 408, 'MG-REQ-019');
    expect(res.json().error).toMatchObject({ code: 'timeout', details: { headers_timeout_ms: HEADERS_TIMEOUT_MS } });
  });

  it('answers garbage on a kept-alive connection after a good answer (where Node would answer nothing)', async () => {
    const conn = await send(requestBytes('GET', '/healthz'));
    expect((await conn.response()).status).toBe(200);
    await conn.write('NOT HTTP AT ALL\r\n\r\n');
    await expectRefused(conn, 400, 'MG-REQ-017');
  });

  it('answers a broken chunked body through the request it belongs to, keeping its X-Request-ID', async () => {
    const conn = await send(requestBytes('POST', '/generate', { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'x-request-id': 'broken-chunks' }));
    await conn.write('ZZZ\r\n{}\r\n');
    const res = await expectRefused(conn, 400, 'MG-REQ-017');
    expect(res.headers['x-request-id']).toBe('broken-chunks');
    expect(res.json().error.details.parser_error).toBe('HPE_INVALID_CHUNK_SIZE');
  });

  it('keeps serving after a client resets its connection mid-headers', async () => {
    const conn = await send('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Half');
    conn.socket.resetAndDestroy();
    await conn.ended;
    const next = await send(requestBytes('GET', '/healthz'));
    expect((await next.response()).status).toBe(200);
    next.destroy();
  });
});

describe('Content-Encoding on a request body', () => {
  const body = () => JSON.stringify({ protocol_version: '1.2', model: 'procedural', skeleton, segments: [{ type: 'text', prompt: 'walk', duration_frames: 20 }] });
  const post = (headers: Record<string, string>, payload: Buffer | string = body()) =>
    rawRequest(url, { path: '/generate', headers: { 'content-type': 'application/json', ...headers }, body: payload });

  function expect415(res: RawResponse, named: string[]): void {
    expect(res.status).toBe(415);
    expect(res.headers['x-request-id']).toBeTruthy();
    expect(res.headers['accept-encoding']).toBe('identity');
    const envelope = res.json();
    expect(validators.errorEnvelope(envelope)).toBe(true);
    expect(envelope.detail.error_code).toBe('MG-REQ-016');
    expect(envelope.error).toMatchObject({ code: 'unsupported_media_type', details: { content_encoding: named, accepted_encodings: ['identity'] } });
    for (const n of named) expect(envelope.error.message).toContain(`"${n}"`);
  }

  it('refuses gzip on a plain body with 415, naming gzip and the accepted encodings', async () => {
    expect415(await post({ 'content-encoding': 'gzip' }), ['gzip']);
  });

  it('refuses a really gzipped body with 415, not as malformed JSON', async () => {
    expect415(await post({ 'content-encoding': 'gzip' }, gzipSync(body())), ['gzip']);
  });

  it('refuses a list of codings naming each one that is not identity', async () => {
    expect415(await post({ 'content-encoding': 'identity, br, X-Custom' }), ['br', 'x-custom']);
  });

  it('accepts identity in any case, and no Content-Encoding at all', async () => {
    const variants: Array<Record<string, string>> = [{ 'content-encoding': 'identity' }, { 'content-encoding': 'IDENTITY' }, {}];
    for (const headers of variants) {
      const res = await post(headers);
      expect(res.status).toBe(200);
    }
  });
});
