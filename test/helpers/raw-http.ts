/**
 * HTTP/1.1 over a bare TCP socket, for tests that need what a client library hides: bytes sent in parts,
 * pipelined requests, reading paused and resumed, raw garbage, and how the server ends the connection.
 * Responses are read in order (Content-Length or chunked bodies).
 */
import { connect, type Socket } from 'node:net';

export interface RawHttpResponse {
  status: number;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  json(): any;
}

/** Why a response could not be read: the connection ended before it was complete. */
export class IncompleteResponse extends Error {
  constructor(
    readonly status: number | undefined,
    readonly bodyBytes: number,
    readonly expectedBytes: number | undefined,
  ) {
    super(`the connection ended after ${bodyBytes} of ${expectedBytes ?? '?'} body bytes (status ${status ?? 'none'})`);
  }
}

interface Head {
  status: number;
  headers: Record<string, string>;
  length: number;
  chunked: boolean;
  /** Neither Content-Length nor chunked: the body runs to the end of the connection. */
  untilClose: boolean;
}

/** A whole chunked body at the start of `buf` (trailers ignored), or undefined while it is incomplete. */
function decodeChunked(buf: Buffer): { body: Buffer; used: number } | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const size = parseInt(buf.subarray(at, eol).toString('latin1').split(';')[0], 16);
    if (Number.isNaN(size)) throw new Error('bad chunk size in an answer');
    at = eol + 2;
    if (size === 0) {
      const end = buf.indexOf('\r\n\r\n', at - 2);
      return end < 0 ? undefined : { body: Buffer.concat(parts), used: end + 4 };
    }
    if (buf.length < at + size + 2) return undefined;
    parts.push(buf.subarray(at, at + size));
    at += size + 2;
  }
}

function parseHead(text: string): Head {
  const [statusLine, ...lines] = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!m) throw new Error(`not an HTTP status line: ${JSON.stringify(statusLine.slice(0, 80))}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const status = Number(m[1]);
  const chunked = /chunked/i.test(headers['transfer-encoding'] ?? '');
  const bodiless = (status >= 100 && status < 200) || status === 204 || status === 304;
  const untilClose = !chunked && headers['content-length'] === undefined && !bodiless;
  return { status, headers, length: Number(headers['content-length'] ?? 0), chunked, untilClose };
}

export class RawConnection {
  /** Resolves when the server has ended or closed the connection. */
  readonly ended: Promise<void>;
  /** Bytes not yet parsed, before a head is complete. */
  private buffered: Buffer = Buffer.alloc(0);
  private head: Head | undefined;
  /** Body chunks of the response being read (a list, so a large body is not copied once per chunk). */
  private bodyChunks: Buffer[] = [];
  private bodyBytes = 0;
  private readonly parsed: RawHttpResponse[] = [];
  private readonly waiting: Array<{ resolve: (r: RawHttpResponse) => void; reject: (e: Error) => void }> = [];
  private done = false;
  private readonly listeners: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      try {
        this.take(chunk);
      } catch (err) {
        for (const w of this.waiting.splice(0)) w.reject(err as Error);
        socket.destroy();
      }
      for (const l of this.listeners.splice(0)) l();
    });
    this.ended = new Promise((resolve) => {
      const finish = () => {
        if (this.done) return;
        this.done = true;
        if (this.head?.untilClose) this.complete();
        for (const w of this.waiting.splice(0)) w.reject(new IncompleteResponse(this.head?.status, this.head ? this.bodyBytes : 0, this.head?.length));
        resolve();
      };
      socket.on('end', finish);
      socket.on('close', finish);
    });
    socket.on('error', () => {}); // a reset is seen as the end of the connection
  }

  /** Opens a connection to the gateway at `url`. */
  static open(url: string): Promise<RawConnection> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: u.hostname, port: Number(u.port) });
      socket.once('connect', () => {
        socket.removeListener('error', reject);
        resolve(new RawConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Writes bytes, resolving once they are handed to the kernel. */
  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (err) => (err ? reject(err) : resolve())));
  }

  /** The next complete response on this connection. */
  response(): Promise<RawHttpResponse> {
    const ready = this.parsed.shift();
    if (ready) return Promise.resolve(ready);
    if (this.done) return Promise.reject(new IncompleteResponse(this.head?.status, this.head ? this.bodyBytes : 0, this.head?.length));
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** Body bytes of the response being read now (0 between responses). */
  get partialBodyBytes(): number {
    return this.head ? this.bodyBytes : 0;
  }

  /** Resolves after the next chunk of data arrives. */
  nextData(): Promise<void> {
    return new Promise((resolve) => this.listeners.push(resolve));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private take(chunk: Buffer): void {
    let rest = chunk;
    while (rest.length) {
      if (!this.head) {
        this.buffered = this.buffered.length ? Buffer.concat([this.buffered, rest]) : rest;
        const end = this.buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        this.head = parseHead(this.buffered.subarray(0, end).toString('latin1'));
        rest = this.buffered.subarray(end + 4);
        this.buffered = Buffer.alloc(0);
        if (this.head.length === 0 && !this.head.chunked && !this.head.untilClose) this.complete();
        continue;
      }
      if (this.head.untilClose) {
        this.bodyChunks.push(rest);
        this.bodyBytes += rest.length;
        return;
      }
      if (this.head.chunked) {
        this.buffered = this.buffered.length ? Buffer.concat([this.buffered, rest]) : rest;
        const decoded = decodeChunked(this.buffered);
        if (!decoded) return;
        this.bodyChunks = [decoded.body];
        this.bodyBytes = decoded.body.length;
        rest = this.buffered.subarray(decoded.used);
        this.buffered = Buffer.alloc(0);
        this.complete();
        continue;
      }
      const want = this.head.length - this.bodyBytes;
      const piece = rest.subarray(0, want);
      this.bodyChunks.push(piece);
      this.bodyBytes += piece.length;
      rest = rest.subarray(piece.length);
      if (this.bodyBytes === this.head.length) this.complete();
    }
  }

  private complete(): void {
    const { status, headers } = this.head!;
    const body = Buffer.concat(this.bodyChunks, this.bodyBytes);
    this.head = undefined;
    this.bodyChunks = [];
    this.bodyBytes = 0;
    if (status >= 100 && status < 200 && status !== 101) return; // interim (100 Continue): the answer follows
    const response: RawHttpResponse = { status, headers, body, json: () => JSON.parse(body.toString('utf8')) };
    const w = this.waiting.shift();
    if (w) w.resolve(response);
    else this.parsed.push(response);
  }
}

/** The bytes of a request: request line, headers (Host added) and an optional body with its Content-Length. */
export function requestBytes(method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Buffer {
  const all: Record<string, string> = { host: 'gateway.test', ...headers };
  if (body !== undefined && all['content-length'] === undefined) all['content-length'] = String(Buffer.byteLength(body));
  const head = `${method} ${path} HTTP/1.1\r\n${Object.entries(all)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body === undefined ? Buffer.alloc(0) : Buffer.from(body)]);
}
