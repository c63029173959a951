/**
 * JSON glTF written as a stream from a stored GLB: the same text as `glbToJson` (src/motion/gltf.ts),
 * produced piece by piece — the small JSON around the data URI as strings, the binary chunk read and
 * base64-encoded in pieces — so no answer is ever one giant string or buffer. Only the GLB's JSON chunk
 * (kilobytes to a few MB) is held whole.
 */
import { readGlbLayout } from '../jobs/glb-layout.js';
import { readPieces, type StoredResult } from '../jobs/stored-result.js';
import { jsonAroundDataUri } from '../motion/gltf.js';

/** A multiple of 3, so the base64 of consecutive pieces concatenates to the base64 of the whole. */
const BASE64_PIECE_BYTES = 3 * 64 * 1024;

/** A JSON glTF answer ready to be written: its exact length, and its text in pieces. */
export interface JsonGltf {
  byteLength: number;
  pieces(): AsyncGenerator<Buffer | string>;
}

/** The base64 of a byte stream, in pieces; bytes short of a multiple of 3 wait for the next piece. */
async function* base64Pieces(bytes: AsyncIterable<Buffer>): AsyncGenerator<string> {
  let carry: Buffer = Buffer.alloc(0);
  for await (const piece of bytes) {
    const joined = carry.length ? Buffer.concat([carry, piece]) : piece;
    const whole = joined.length - (joined.length % 3);
    if (whole) yield joined.toString('base64', 0, whole);
    carry = joined.subarray(whole);
  }
  if (carry.length) yield carry.toString('base64');
}

/** Prepares the JSON glTF of a stored GLB: buffer 0 becomes a base64 data URI of the binary chunk. */
export async function jsonGltfOf(result: StoredResult): Promise<JsonGltf> {
  const { json, binStart, binLength } = await readGlbLayout(result);
  const around = jsonAroundDataUri(json);
  if (!around) {
    const whole = Buffer.from(JSON.stringify(json), 'utf8');
    return { byteLength: whole.byteLength, pieces: async function* () { yield whole; } };
  }
  const { head, tail } = around;
  const dataLength = Math.min(json.buffers![0].byteLength, binLength);
  return {
    byteLength: head.byteLength + 4 * Math.ceil(dataLength / 3) + tail.byteLength,
    async *pieces() {
      yield head;
      yield* base64Pieces(readPieces(result, binStart, binStart + dataLength, BASE64_PIECE_BYTES));
      yield tail;
    },
  };
}

/** The GLB itself, in pieces read from the store. */
export function glbPieces(result: StoredResult): AsyncGenerator<Buffer> {
  return readPieces(result, 0, result.byteLength, BASE64_PIECE_BYTES);
}
