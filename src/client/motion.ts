/** Reads the MMCP_motion extension from an answer, GLB bytes or JSON glTF, without decoding the animation (browser-safe). */
import type { MmcpMotion } from '../spec/wire.js';

const GLB_MAGIC = 0x46546c67; // "glTF"
const CHUNK_JSON = 0x4e4f534a; // "JSON"

/** The glTF JSON of an answer: a GLB's JSON chunk, or a JSON glTF given as bytes, text or a parsed object. */
export function gltfJsonOf(answer: Uint8Array | ArrayBuffer | string | object): Record<string, unknown> {
  if (typeof answer === 'string') return JSON.parse(answer) as Record<string, unknown>;
  if (!(answer instanceof Uint8Array) && !(answer instanceof ArrayBuffer)) return answer as Record<string, unknown>;
  const bytes = answer instanceof Uint8Array ? answer : new Uint8Array(answer);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength >= 20 && view.getUint32(0, true) === GLB_MAGIC) {
    if (view.getUint32(4, true) !== 2) throw new TypeError('readMotion: not a glTF 2.0 GLB');
    const jsonLength = view.getUint32(12, true);
    if (view.getUint32(16, true) !== CHUNK_JSON || 20 + jsonLength > bytes.byteLength) throw new TypeError('readMotion: the GLB has no JSON chunk');
    return JSON.parse(new TextDecoder().decode(bytes.subarray(20, 20 + jsonLength))) as Record<string, unknown>;
  }
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}

/** The `extensions.MMCP_motion` of an answer (fps, samples with foot contacts, x_understood, x_served_by…), or null without one. */
export function readMotion(answer: Uint8Array | ArrayBuffer | string | object): MmcpMotion | null {
  const ext = gltfJsonOf(answer).extensions as Record<string, unknown> | undefined;
  const motion = ext?.MMCP_motion;
  return motion && typeof motion === 'object' ? (motion as MmcpMotion) : null;
}
