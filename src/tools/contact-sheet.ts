/**
 * Contact sheets of an answer as SVG: side, front and top views of a few evenly spaced frames of one
 * sample, drawn as stick figures (bones as lines, joints as dots, left side blue, right side red), the
 * floor line with world ticks every 25 cm (so travel shows while the figure stays centred), the sole
 * points (heel, ball, toe tip) green while planted, grey in the air, red under the floor, and the hips'
 * trail with a heading arrow in the top view; IK and other helper bones thin and dashed.
 * scripts/contact-sheet.ts renders it to PNG.
 *
 * Views (right-handed, +Y up, the character facing +Z at rest):
 * - side: seen from +X (the character's left) looking along −X: screen right is −Z, so facing +Z is facing left;
 * - front: seen from +Z looking along −Z: screen right is +X (the character's left);
 * - top: seen from above looking along −Y, +Z (forward) up the screen: screen right is −X.
 */
import type { Clip, Skeleton } from '../spec/motion.js';
import type { HumanoidMap } from '../motion/humanoid.js';
import { posedWithContacts } from '../motion/quality.js';
import { restPositions } from '../motion/skeleton.js';

export interface ContactSheetOptions {
  /** Frames drawn, evenly spaced from the first to the last (default 6). */
  frames?: number;
  /** Title line (e.g. the file name and the prompt). */
  title?: string;
  /** Cell size in pixels (default 240 × 300). */
  cellWidth?: number;
  cellHeight?: number;
}

type View = 'side' | 'front' | 'top';
const VIEWS: readonly View[] = ['side', 'front', 'top'];
const VIEW_LABEL: Record<View, string> = {
  side: 'side, from +X (facing ← is facing +Z)',
  front: 'front, from +Z (character\'s left →)',
  top: 'top, from above (+Z ↑, character\'s left ←)',
};
const COLORS = { left: '#1f5fbf', right: '#c0392b', centre: '#333333', planted: '#18a047', air: '#9a9a9a', under: '#e01010', floor: '#777777', trail: '#b07a00', helper: '#b0b0b0' };

/** Frames drawn: `n` evenly spaced over the clip, first and last included. */
export function sheetFrames(numFrames: number, n: number): number[] {
  const k = Math.max(1, Math.min(n, numFrames));
  if (k === 1) return [0];
  return Array.from({ length: k }, (_, i) => Math.round((i * (numFrames - 1)) / (k - 1)));
}

const fmt = (v: number): string => (Math.round(v * 10) / 10).toString();
const esc = (t: string): string => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Screen (u right, v up) of a world point in a view, relative to the centre (cx, cz). */
function project(view: View, x: number, y: number, z: number, cx: number, cz: number, floor: number): [number, number] {
  if (view === 'side') return [-(z - cz), y - floor];
  if (view === 'front') return [x - cx, y - floor];
  return [-(x - cx), z - cz];
}

/**
 * The contact sheet of `clip` on `s` as an SVG document. `map` (the humanoid map, when the rig has one)
 * gives the hips to centre on and the sole points; without it the root is the centre and no sole
 * points are drawn.
 */
export function contactSheetSvg(s: Skeleton, map: HumanoidMap | null, clip: Clip, opts: ContactSheetOptions = {}): string {
  const J = s.names.length, F = clip.numFrames;
  const frames = sheetFrames(F, opts.frames ?? 6);
  const W = opts.cellWidth ?? 240, H = opts.cellHeight ?? 300;
  const left = 26, top = 34, labelH = 18;
  const { positions, soles, contacts, floor: soleFloor } = posedWithContacts(s, map, clip);
  const rest = restPositions(s);
  let lo = Infinity, hi = -Infinity;
  for (let j = 0; j < J; j++) { lo = Math.min(lo, rest[j * 3 + 1]); hi = Math.max(hi, rest[j * 3 + 1]); }
  const floor = soleFloor ?? lo;
  const height = Math.max(hi - floor, 0.1);
  // Metres to pixels: the rest height fills 62% of a cell, leaving room for jumps, reaches and travel.
  const ppm = (0.62 * (H - labelH)) / height;
  const centreJoint = map ? map.hips : 0;
  const side = (j: number): 'left' | 'right' | 'centre' => (rest[j * 3] > 0.02 * height ? 'left' : rest[j * 3] < -0.02 * height ? 'right' : 'centre');
  // Helper bones (IK targets, joints hung off a floor-level root beside the hips) are drawn thin and dashed.
  const helper = s.names.map((n, j) => /^ik_/i.test(n) || (map !== null && map.hips !== 0 && s.parents[j] === 0 && j !== map.hips));
  const order = (view: View): number[] => {
    const js = Array.from({ length: J }, (_, j) => j);
    // Seen from +X the left side is nearer: draw the right side first.
    if (view === 'side') return js.sort((a, b) => ['right', 'centre', 'left'].indexOf(side(a)) - ['right', 'centre', 'left'].indexOf(side(b)));
    return js;
  };
  const out: string[] = [];
  const width = left + frames.length * W + 10, total = top + VIEWS.length * H + 10;
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${total}" viewBox="0 0 ${width} ${total}" font-family="DejaVu Sans, Arial, sans-serif">`);
  out.push(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="4" markerHeight="4" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="${COLORS.trail}"/></marker></defs>`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(`<text x="${left}" y="20" font-size="15" fill="#000">${esc(opts.title ?? 'contact sheet')} · ${F} frames at ${fmt(clip.fps)} fps · ground ticks every 25 cm · sole points: <tspan fill="${COLORS.planted}">planted</tspan>, <tspan fill="${COLORS.air}">in the air</tspan>, <tspan fill="${COLORS.under}">under the floor</tspan></text>`);
  VIEWS.forEach((view, r) => {
    const y0 = top + r * H;
    out.push(`<text transform="translate(${left - 8},${y0 + H / 2}) rotate(-90)" text-anchor="middle" font-size="12" fill="#000">${esc(VIEW_LABEL[view])}</text>`);
    frames.forEach((f, c) => {
      const x0 = left + c * W;
      const cx = positions[(f * J + centreJoint) * 3], cz = positions[(f * J + centreJoint) * 3 + 2];
      // Cell origin: side / front put the floor low in the cell, top puts the hips in the middle.
      const ox = x0 + W / 2, oy = view === 'top' ? y0 + labelH + (H - labelH) / 2 : y0 + H - 0.14 * (H - labelH);
      const px = (u: number, v: number): [number, number] => [ox + u * ppm, oy - v * ppm];
      const P = (j: number): [number, number] => {
        const b = (f * J + j) * 3;
        return px(...project(view, positions[b], positions[b + 1], positions[b + 2], cx, cz, floor));
      };
      out.push(`<g><rect x="${x0 + 2}" y="${y0 + 2}" width="${W - 4}" height="${H - 4}" fill="#fafafa" stroke="#dddddd"/>`);
      out.push(`<clipPath id="c${r}_${c}"><rect x="${x0 + 2}" y="${y0 + 2}" width="${W - 4}" height="${H - 4}"/></clipPath><g clip-path="url(#c${r}_${c})">`);
      if (view !== 'top') {
        const [, fy] = px(0, 0);
        out.push(`<line x1="${x0 + 2}" y1="${fmt(fy)}" x2="${x0 + W - 2}" y2="${fmt(fy)}" stroke="${COLORS.floor}" stroke-width="1.5"/>`);
        // World ticks along the floor every 25 cm: z seen from the side (screen u = −(z − cz)), x from the front (u = x − cx).
        const c0 = view === 'side' ? cz : cx, half = W / 2 / ppm;
        for (let t = Math.ceil((c0 - half) / 0.25) * 0.25; t <= c0 + half; t += 0.25) {
          const [tx] = px(view === 'side' ? -(t - cz) : t - cx, 0);
          out.push(`<line x1="${fmt(tx)}" y1="${fmt(fy)}" x2="${fmt(tx)}" y2="${fmt(fy + 6)}" stroke="${COLORS.floor}"/>`);
        }
      } else {
        // The hips' trail over the whole clip, relative to this frame, and the heading (hips forward).
        const pts: string[] = [];
        for (let g = 0; g < F; g++) {
          const b = (g * J + centreJoint) * 3;
          const [u, v] = project('top', positions[b], 0, positions[b + 2], cx, cz, floor);
          const [sx, sy] = px(u, v);
          pts.push(`${fmt(sx)},${fmt(sy)}`);
        }
        out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${COLORS.trail}" stroke-width="1.5" stroke-dasharray="4 3"/>`);
      }
      for (const j of order(view)) {
        const p = s.parents[j];
        if (p < 0) continue;
        const [ax, ay] = P(p), [bx, by] = P(j);
        const style = helper[j] ? `stroke="${COLORS.helper}" stroke-width="1" stroke-dasharray="3 3"` : `stroke="${COLORS[side(j)]}" stroke-width="2.2" stroke-linecap="round"`;
        out.push(`<line x1="${fmt(ax)}" y1="${fmt(ay)}" x2="${fmt(bx)}" y2="${fmt(by)}" ${style}/>`);
      }
      for (let j = 0; j < J; j++) {
        const [jx, jy] = P(j);
        out.push(`<circle cx="${fmt(jx)}" cy="${fmt(jy)}" r="2" fill="${COLORS[side(j)]}"/>`);
      }
      if (soles && contacts) {
        let lowest = -1;
        for (let k = 0; k < 6; k++) if (lowest < 0 || soles[(f * 6 + k) * 3 + 1] < soles[(f * 6 + lowest) * 3 + 1]) lowest = k;
        for (let k = 0; k < 6; k++) {
          const b = (f * 6 + k) * 3;
          const h = soles[b + 1] - floor;
          const colour = h < -0.005 ? COLORS.under : contacts[f * 6 + k] ? COLORS.planted : COLORS.air;
          const [sx, sy] = px(...project(view, soles[b], soles[b + 1], soles[b + 2], cx, cz, floor));
          out.push(`<circle cx="${fmt(sx)}" cy="${fmt(sy)}" r="3.2" fill="${colour}" stroke="#ffffff" stroke-width="0.8"/>`);
          if (h < -0.005 && k === lowest) out.push(`<text x="${fmt(sx + 4)}" y="${fmt(sy + 12)}" font-size="10" fill="${COLORS.under}">${fmt(h * 100)} cm</text>`);
        }
      }
      if (view === 'top' && map) {
        // Heading: forward is the hip line (right to left) turned a quarter turn, (−lat.z, lat.x).
        const l = (f * J + map.left.upperLeg) * 3, rr = (f * J + map.right.upperLeg) * 3;
        const lx = positions[l] - positions[rr], lz = positions[l + 2] - positions[rr + 2];
        const n = Math.hypot(lx, lz) || 1;
        const [hx, hy] = px(0, 0), [ex, ey] = px(...project('top', cx - (lz / n) * 0.35, 0, cz + (lx / n) * 0.35, cx, cz, floor));
        out.push(`<line x1="${fmt(hx)}" y1="${fmt(hy)}" x2="${fmt(ex)}" y2="${fmt(ey)}" stroke="${COLORS.trail}" stroke-width="3" marker-end="url(#arrow)"/>`);
      }
      out.push('</g>');
      const t = f / clip.fps;
      const label = view === 'top' ? `frame ${f} · hips at x ${cx.toFixed(2)}, z ${cz.toFixed(2)} m` : `frame ${f} · ${t.toFixed(2)} s`;
      out.push(`<text x="${x0 + 8}" y="${y0 + 15}" font-size="12" fill="#000">${esc(label)}</text></g>`);
    });
  });
  out.push('</svg>');
  return out.join('\n');
}
