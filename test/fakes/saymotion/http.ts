/** The HTTP pieces the simulator's parts share: an answer, JSON answers, request bodies and cookies. */
import type { IncomingMessage } from 'node:http';

/** What the simulator sends back for one call. */
export interface Answer {
  status: number;
  headers?: Record<string, string | string[]>;
  body: string | Uint8Array;
}

export const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

export const json = (status: number, body: unknown, headers: Record<string, string | string[]> = {}): Answer => ({ status, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) });

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}
