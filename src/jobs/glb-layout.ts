/** The layout of a stored GLB (header, JSON chunk, where the binary chunk lies), read without loading the whole file. */
import type { GLTF } from '@gltf-transform/core';
import type { StoredResult } from './stored-result.js';

const GLB_MAGIC = 0x46546c67; // "glTF"
const CHUNK_JSON = 0x4e4f534a; // "JSON"
const CHUNK_BIN = 0x004e4942; // "BIN\0"

/** Reads the GLB header and JSON chunk, checked as parseGlb checks them; locates the binary chunk. */
export async function readGlbLayout(result: StoredResult): Promise<{ json: GLTF.IGLTF; binStart: number; binLength: number }> {
  const header = await result.read(0, 20);
  if (header.byteLength < 20) throw new Error('glb-layout: too short for a GLB');
  if (header.readUInt32LE(0) !== GLB_MAGIC || header.readUInt32LE(4) !== 2) throw new Error('glb-layout: not a glTF 2.0 GLB');
  const length = Math.min(header.readUInt32LE(8), result.byteLength);
  const jsonLength = header.readUInt32LE(12);
  if (header.readUInt32LE(16) !== CHUNK_JSON || 20 + jsonLength > length) throw new Error('glb-layout: bad JSON chunk');
  const json = JSON.parse(new TextDecoder().decode(await result.read(20, jsonLength))) as GLTF.IGLTF;
  const binHeaderAt = 20 + jsonLength;
  if (binHeaderAt + 8 > length) return { json, binStart: binHeaderAt, binLength: 0 };
  const binHeader = await result.read(binHeaderAt, 8);
  if (binHeader.readUInt32LE(4) !== CHUNK_BIN) return { json, binStart: binHeaderAt, binLength: 0 };
  const binLength = binHeader.readUInt32LE(0);
  if (binHeaderAt + 8 + binLength > length) throw new Error('glb-layout: bad BIN chunk');
  return { json, binStart: binHeaderAt + 8, binLength };
}

/** The GLB's JSON chunk alone (parsed), e.g. to read MMCP_motion fields for response headers. */
export async function glbJson(result: StoredResult): Promise<GLTF.IGLTF> {
  return (await readGlbLayout(result)).json;
}
