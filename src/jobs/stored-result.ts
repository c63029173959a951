/**
 * A finished job's GLB as stored, opened for reading piece by piece: a small one from its SQLite row,
 * a large one from its file. Readers never need the whole result in memory at once.
 */
import type { FileHandle } from 'node:fs/promises';

/** Where a result is stored: the bytes themselves (a row) or a file of the result directory. */
export type ResultRef = { kind: 'inline'; glb: Buffer } | { kind: 'file'; name: string; byteLength: number };

export interface StoredResult {
  readonly byteLength: number;
  /** Up to `length` bytes at `position` (fewer only at the end). */
  read(position: number, length: number): Promise<Buffer>;
  /** Releases the file; safe to call more than once. */
  close(): Promise<void>;
}

export function inlineResult(glb: Buffer): StoredResult {
  return {
    byteLength: glb.byteLength,
    read: async (position, length) => glb.subarray(position, Math.min(glb.byteLength, position + length)),
    close: async () => {},
  };
}

/** A result read from an open file handle (the file may be unlinked meanwhile: the handle keeps it). */
export function fileResult(handle: FileHandle, byteLength: number): StoredResult {
  let closed: Promise<void> | undefined;
  return {
    byteLength,
    async read(position, length) {
      const size = Math.max(0, Math.min(length, byteLength - position));
      const out = Buffer.allocUnsafe(size);
      let filled = 0;
      while (filled < size) {
        const { bytesRead } = await handle.read(out, filled, size - filled, position + filled);
        if (bytesRead === 0) throw new Error(`stored result ended at ${position + filled} of ${byteLength} bytes`);
        filled += bytesRead;
      }
      return out;
    },
    close: () => (closed ??= handle.close()),
  };
}

/** The bytes [start, end) of a result in pieces of `pieceBytes` (the last may be shorter). */
export async function* readPieces(result: StoredResult, start: number, end: number, pieceBytes: number): AsyncGenerator<Buffer> {
  for (let at = start; at < end; at += pieceBytes) yield await result.read(at, Math.min(pieceBytes, end - at));
}
