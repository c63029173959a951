/**
 * Response headers drawn from what a model understood of the prompts (`x_understood` in MMCP_motion's
 * samples): `X-Prompt-Unrecognized` lists the segments whose prompt named no motion the model knows,
 * each with the nearest known motions, so a client sees it without opening the glTF. Only the first
 * sample is read: every sample of a request reads the same prompts.
 */
import type { GLTF } from '@gltf-transform/core';

export const PROMPT_UNRECOGNIZED_HEADER = 'X-Prompt-Unrecognized';

/** A motion id as a header token: lower-case letters, digits and underscores only. */
const token = (v: unknown): string | undefined => (typeof v === 'string' && /^[a-z0-9_]{1,40}$/.test(v) ? v : undefined);

/**
 * The header value for a glTF answer, or undefined when every prompt was recognized. Format (an RFC 8941
 * list): one item per unrecognized segment, its index with a `nearest` parameter, e.g.
 * `0;nearest="climb_stairs,crawl,walk", 2;nearest="wave,walk,idle"`.
 */
export function promptUnrecognizedHeader(json: GLTF.IGLTF): string | undefined {
  const ext = (json.extensions as Record<string, unknown> | undefined)?.MMCP_motion as { samples?: { x_understood?: unknown }[] } | undefined;
  const entries = ext?.samples?.[0]?.x_understood;
  if (!Array.isArray(entries)) return undefined;
  const items: string[] = [];
  for (const e of entries as Record<string, unknown>[]) {
    if (!e || e.recognized !== false || typeof e.segment !== 'number' || !Number.isInteger(e.segment)) continue;
    const nearest = Array.isArray(e.nearest) ? e.nearest.map(token).filter((t): t is string => t !== undefined).slice(0, 5) : [];
    items.push(`${e.segment};nearest="${nearest.join(',')}"`);
    if (items.length >= 64) break;
  }
  return items.length ? items.join(', ') : undefined;
}
