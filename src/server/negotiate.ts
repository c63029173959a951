/** Content negotiation for motion answers: GLB or JSON glTF, by the Accept header's media ranges and q-values. */

export type MotionMediaType = 'model/gltf-binary' | 'model/gltf+json' | 'application/json';

interface Range {
  type: string;
  subtype: string;
  q: number;
  order: number;
}

function parseAccept(header: string): Range[] {
  return header
    .split(',')
    .map((part, order) => {
      const [media, ...params] = part.trim().split(';');
      const [type, subtype] = media.trim().toLowerCase().split('/');
      let q = 1;
      for (const p of params) {
        const [k, v] = p.trim().split('=');
        if (k?.trim().toLowerCase() === 'q') {
          const n = Number(v);
          q = Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 1;
        }
      }
      return { type: type ?? '', subtype: subtype ?? '', q, order };
    })
    .filter((r) => r.type && r.subtype);
}

function quality(ranges: Range[], media: string): { q: number; specificity: number; order: number } {
  const [type, subtype] = media.split('/');
  let best = { q: -1, specificity: -1, order: Infinity };
  for (const r of ranges) {
    const specificity = r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === '*' ? 1 : r.type === '*' && r.subtype === '*' ? 0 : -1;
    if (specificity > best.specificity) best = { q: r.q, specificity, order: r.order };
  }
  return best;
}

/**
 * The media type to answer a motion in, or null when the client accepts none of them (406).
 * No Accept header, or a wildcard, means JSON glTF; ties go to the type listed first by the client.
 */
export function negotiateMotion(accept: string | undefined, candidates: readonly MotionMediaType[] = ['model/gltf+json', 'model/gltf-binary', 'application/json']): MotionMediaType | null {
  if (!accept || !accept.trim()) return candidates[0];
  const ranges = parseAccept(accept);
  if (!ranges.length) return candidates[0];
  let choice: MotionMediaType | null = null;
  let best = { q: 0, specificity: -1, order: Infinity };
  for (const media of candidates) {
    const m = quality(ranges, media);
    if (m.q <= 0) continue;
    const better = m.q > best.q || (m.q === best.q && (m.specificity > best.specificity || (m.specificity === best.specificity && m.order < best.order)));
    if (better) {
      best = m;
      choice = media;
    }
  }
  return choice;
}

/** Whether a JSON answer (batch results, status views) is acceptable. */
export function acceptsJson(accept: string | undefined): boolean {
  return negotiateMotion(accept, ['application/json', 'model/gltf+json']) !== null;
}
