/** Contact sheets: an answer made by the gateway's pipeline renders to a PNG that decodes, with the figure drawn in every view. */
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createProceduralAdapter, generatePlan } from '../../src/adapters/procedural/index.js';
import { PROCEDURAL_SKELETON } from '../../src/adapters/procedural/rig.js';
import { mapHumanoid } from '../../src/motion/humanoid.js';
import { renderMotion } from '../../src/motion/pipeline.js';
import { skeletonToWire } from '../../src/motion/skeleton.js';
import { buildPlan } from '../../src/protocol/plan.js';
import type { GenerateRequest } from '../../src/spec/wire.js';
import { contactSheetSvg, sheetFrames } from '../../src/tools/contact-sheet.js';
import { readAnswer } from '../../src/tools/read-answer.js';
import { answerContactSheet } from '../../scripts/contact-sheet.js';

const model = createProceduralAdapter().models()[0];

function answer(prompt: string, frames: number): Uint8Array {
  const request = {
    protocol_version: '1.2',
    model: model.id,
    skeleton: skeletonToWire(PROCEDURAL_SKELETON),
    segments: [{ type: 'text', prompt, duration_frames: frames }],
    timing: { fps: 30 },
    options: { num_samples: 1 },
  } as GenerateRequest;
  const plan = buildPlan(request, model, 'procedural', 7);
  return renderMotion(plan, { skeleton: PROCEDURAL_SKELETON, samples: generatePlan(plan) });
}

/** Decodes an 8-bit RGBA or RGB, non-interlaced PNG (what resvg writes) into its pixels. */
function decodePng(png: Uint8Array): { width: number; height: number; rgba: Uint8Array } {
  const sig = [137, 80, 78, 71, 13, 10, 26, 10];
  sig.forEach((b, i) => expect(png[i]).toBe(b));
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let width = 0, height = 0, channels = 4;
  const idat: Uint8Array[] = [];
  for (let at = 8; at < png.length;) {
    const len = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      width = view.getUint32(at + 8); height = view.getUint32(at + 12);
      expect(data[8]).toBe(8); // bit depth
      expect(data[12]).toBe(0); // no interlace
      channels = data[9] === 6 ? 4 : data[9] === 2 ? 3 : 0;
      expect(channels).toBeGreaterThan(0);
    } else if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const rgba = new Uint8Array(width * height * 4);
  const prev = new Uint8Array(stride), cur = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? cur[i - channels] : 0, b = prev[i], c = i >= channels ? prev[i - channels] : 0;
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      cur[i] = (line[i] + pred) & 255;
    }
    for (let x = 0; x < width; x++) {
      for (let k = 0; k < 3; k++) rgba[(y * width + x) * 4 + k] = cur[x * channels + k];
      rgba[(y * width + x) * 4 + 3] = channels === 4 ? cur[x * channels + 3] : 255;
    }
    prev.set(cur);
  }
  return { width, height, rgba };
}

/** Pixels of a region that are clearly not the white / near-white background. */
function inked(img: { width: number; rgba: Uint8Array }, x0: number, y0: number, x1: number, y1: number): number {
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * img.width + x) * 4;
      if (img.rgba[i] + img.rgba[i + 1] + img.rgba[i + 2] < 600) n++;
    }
  }
  return n;
}

describe('contact sheets', () => {
  it('picks evenly spaced frames, first and last included', () => {
    expect(sheetFrames(90, 6)).toEqual([0, 18, 36, 53, 71, 89]);
    expect(sheetFrames(3, 6)).toEqual([0, 1, 2]);
    expect(sheetFrames(10, 1)).toEqual([0]);
  });

  it('renders a walk answer as a PNG with a figure in every view of every frame', async () => {
    const glb = answer('walk forward', 60);
    const png = await answerContactSheet(glb, { frames: 4, title: 'walk', cellWidth: 200, cellHeight: 250 });
    const img = decodePng(png);
    // 26 px of row labels + 4 cells of 200 + 10; 34 px of title + 3 rows of 250 + 10.
    expect(img.width).toBe(26 + 4 * 200 + 10);
    expect(img.height).toBe(34 + 3 * 250 + 10);
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 4; c++) {
        // The middle of each cell (away from its label) holds the figure's lines.
        const x0 = 26 + c * 200 + 40, y0 = 34 + r * 250 + 40;
        expect(inked(img, x0, y0, x0 + 120, y0 + 190), `view ${r}, frame ${c}`).toBeGreaterThan(150);
      }
    }
  });

  it('draws the figure upright on the floor line in the side and front views', async () => {
    const glb = answer('wave hello', 30);
    const read = await readAnswer(glb);
    const svg = contactSheetSvg(read.skeleton, mapHumanoid(read.skeleton), read.samples[0].clip, { frames: 1, cellWidth: 200, cellHeight: 250 });
    // Joint dots of the first cell (side view): every one above the floor line, the head's far above it.
    const floorY = Number(/<line x1="[\d.]+" y1="([\d.]+)" x2="[\d.]+" y2="\1" stroke="#777777" stroke-width="1.5"/.exec(svg)?.[1]);
    const dots = [...svg.matchAll(/<circle cx="([\d.-]+)" cy="([\d.-]+)" r="2"/g)].slice(0, read.skeleton.names.length).map((m) => Number(m[2]));
    expect(Number.isFinite(floorY)).toBe(true);
    expect(Math.max(...dots)).toBeLessThanOrEqual(floorY + 1);
    expect(floorY - Math.min(...dots)).toBeGreaterThan(100);
    // Six sole points per frame and view, planted (green) while standing.
    expect((svg.match(/fill="#18a047"/g) ?? []).length).toBeGreaterThanOrEqual(6);
  });
});
