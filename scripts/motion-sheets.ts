/**
 * `npm run contact-sheets`: a contact sheet (side, front and top views of 4 frames) of a seeded 3 s
 * answer of every motion of the procedural vocabulary on the canonical skeleton, of the seam case
 * walk(60) → wave(60) → run(60) and of a walk on the Unreal (floor-level root) rig, into
 * docs/motions/<id>.png; and docs/motions.md: every motion with its description, prompts that reach it
 * (phrases of the prompt vocabulary that `understand` resolves to it), its quality row measured by
 * forward kinematics of the decoded answer (src/motion/quality.ts) and its sheet. Each answer is made
 * as the gateway makes it (generation, then `renderMotion` with post-processing on) and read back from
 * its GLB.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';
import { Resvg } from '@resvg/resvg-js';
import { createProceduralAdapter, generatePlan } from '../src/adapters/procedural/index.js';
import { generateMotion } from '../src/adapters/procedural/generate.js';
import { MOTIONS } from '../src/adapters/procedural/motions/index.js';
import { understand, vocabularyPhrases, type MotionId } from '../src/adapters/procedural/prompt.js';
import { PROCEDURAL_SKELETON } from '../src/adapters/procedural/rig.js';
import { mapHumanoid } from '../src/motion/humanoid.js';
import { renderMotion } from '../src/motion/pipeline.js';
import { measureClip, motionClassOf, qualityViolations, ROTATION_BOUNDS, JOINT_CLASSES, type ClipQuality } from '../src/motion/quality.js';
import { skeletonToWire } from '../src/motion/skeleton.js';
import { buildPlan } from '../src/protocol/plan.js';
import type { SampleMotion } from '../src/spec/motion.js';
import type { GenerateRequest } from '../src/spec/wire.js';
import { contactSheetSvg } from '../src/tools/contact-sheet.js';
import { readAnswer } from '../src/tools/read-answer.js';
import { ue5 } from '../test/fixtures/skeletons/ue5.js';

const FPS = 30, SEED = 1, FRAMES_DRAWN = 4;
/** 26 + 4 × 216 + 10 = 900 px wide, 34 + 3 × 264 + 10 = 836 px high. */
const CELL_WIDTH = 216, CELL_HEIGHT = 264;
const OUT_DIR = new URL('../docs/motions/', import.meta.url);
const DOC = new URL('../docs/motions.md', import.meta.url);
const model = createProceduralAdapter().models()[0];

interface Sheet {
  file: string;
  quality: ClipQuality;
  bytes: number;
}

/**
 * Renders SVG to an 8-bit indexed PNG: the 256 most frequent colours of the render form the palette and
 * every other (anti-aliasing) colour takes its nearest palette colour. Line drawings on white lose
 * nothing visible and the file is about a third of the RGBA one, so the docs stay small.
 */
function indexedPng(svg: string): Uint8Array {
  const image = new Resvg(svg, { background: '#ffffff', font: { loadSystemFonts: true } }).render();
  const { width, height } = image;
  const rgba = image.pixels;
  const count = new Map<number, number>();
  for (let i = 0; i < rgba.length; i += 4) {
    const c = (rgba[i] << 16) | (rgba[i + 1] << 8) | rgba[i + 2];
    count.set(c, (count.get(c) ?? 0) + 1);
  }
  const palette = [...count.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 256).map(([c]) => c);
  const index = new Map<number, number>(palette.map((c, i) => [c, i]));
  const nearest = (c: number): number => {
    let best = 0, bestD = Infinity;
    for (let i = 0; i < palette.length; i++) {
      const p = palette[i];
      const dr = ((p >> 16) & 255) - ((c >> 16) & 255), dg = ((p >> 8) & 255) - ((c >> 8) & 255), db = (p & 255) - (c & 255);
      const d = dr * dr + dg * dg + db * db;
      if (d < bestD) { bestD = d; best = i; }
    }
    index.set(c, best);
    return best;
  };
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width + 1)] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const c = (rgba[i] << 16) | (rgba[i + 1] << 8) | rgba[i + 2];
      raw[y * (width + 1) + 1 + x] = index.get(c) ?? nearest(c);
    }
  }
  const chunk = (type: string, data: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 3, 0, 0, 0], 8); // 8-bit, indexed colour, deflate, no filter, no interlace
  const plte = Buffer.alloc(palette.length * 3);
  palette.forEach((c, i) => plte.set([(c >> 16) & 255, (c >> 8) & 255, c & 255], i * 3));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('PLTE', plte), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Makes the answer (post-processing on), decodes its GLB, measures it and writes its contact sheet. */
async function sheet(file: string, title: string, segments: ReadonlyArray<{ prompt: string; frames: number }>, opts: { motion?: MotionId; skeleton?: unknown; frames?: number } = {}): Promise<Sheet> {
  const request = {
    protocol_version: '1.2',
    model: model.id,
    skeleton: opts.skeleton ?? skeletonToWire(PROCEDURAL_SKELETON),
    segments: segments.map((s) => ({ type: 'text', prompt: s.prompt, duration_frames: s.frames })),
    timing: { fps: FPS },
    options: { num_samples: 1, post_processing: true },
  } as GenerateRequest;
  const plan = buildPlan(request, model, 'procedural', SEED);
  let samples: SampleMotion[];
  if (opts.motion) {
    // The vocabulary's motion itself, whatever the prompt parser makes of its id.
    const seg = plan.segments[0];
    samples = [{ segments: [generateMotion(opts.motion, seg.frames, plan.fps, seg.seed, 0).clip], chunkBoundaries: [[]] }];
  } else {
    samples = generatePlan(plan);
  }
  const decoded = await readAnswer(renderMotion(plan, { skeleton: PROCEDURAL_SKELETON, samples }), FPS);
  const clip = decoded.samples[0].clip;
  const map = mapHumanoid(decoded.skeleton);
  const quality = measureClip(decoded.skeleton, map, clip, { seams: plan.segments.slice(1).map((s) => s.startFrame) });
  const svg = contactSheetSvg(decoded.skeleton, map, clip, { frames: opts.frames ?? FRAMES_DRAWN, title, cellWidth: opts.frames ? Math.round((4 * CELL_WIDTH) / opts.frames) : CELL_WIDTH, cellHeight: CELL_HEIGHT });
  const png = indexedPng(svg);
  writeFileSync(new URL(file, OUT_DIR), png);
  return { file, quality, bytes: png.byteLength };
}

/** Phrases of the vocabulary that `understand` resolves to each motion (at most `max` each). */
function promptsByMotion(max = 6): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (motion: string, phrase: string) => {
    const list = out.get(motion) ?? [];
    if (list.length < max && !list.includes(phrase)) list.push(phrase);
    out.set(motion, list);
  };
  for (const id of Object.keys(MOTIONS)) {
    const phrase = id.replace(/_/g, ' ');
    if (understand(phrase).motion === id) add(id, phrase);
  }
  for (const { phrases } of vocabularyPhrases()) {
    for (const p of phrases) {
      const u = understand(p);
      if (u.recognized) add(u.motion, p);
    }
  }
  return out;
}

const cm = (m: number): string => (Math.abs(m) < 0.0005 ? 0 : m * 100).toFixed(1);
const esc = (t: string): string => t.replace(/\|/g, '\\|');

/** The largest per-frame rotation of a clip relative to its class bound: "knee 12.1 (bound 20)". */
function worstRate(q: ClipQuality, motion: string): string {
  const bounds = ROTATION_BOUNDS[motionClassOf(motion)];
  let best = '', ratio = -1;
  for (const c of JOINT_CLASSES) {
    const b = bounds[c];
    if (!b) continue;
    const v = q.perFrame[c].deg;
    if (v / b > ratio) { ratio = v / b; best = `${c} ${v.toFixed(1)} (≤ ${b})`; }
  }
  return best;
}

function qualityCells(q: ClipQuality, motion: string): string {
  const broken = qualityViolations(q, motionClassOf(motion)).map((v) => v.metric);
  return [
    `${cm(q.lowest.height)} (${q.lowest.side} ${q.lowest.point})`,
    q.drift ? `${cm(q.drift.drift)} (${q.drift.side} ${q.drift.point})` : '—',
    `${q.knee.offHinge.toFixed(1)} / ${q.elbow.offHinge.toFixed(1)}`,
    worstRate(q, motion),
    broken.length ? `**${[...new Set(broken)].join(', ')}**` : 'ok',
  ].join(' | ');
}

const t0 = performance.now();
mkdirSync(OUT_DIR, { recursive: true });
const prompts = promptsByMotion();
const rows: string[] = [];
const images: string[] = [];
let largest = 0;
for (const [id, entry] of Object.entries(MOTIONS) as [MotionId, (typeof MOTIONS)[MotionId]][]) {
  const s = await sheet(`${id}.png`, `${id} (seed ${SEED}, 3 s)`, [{ prompt: id.replace(/_/g, ' '), frames: 90 }], { motion: id });
  largest = Math.max(largest, s.bytes);
  const reach = (prompts.get(id) ?? []).map((p) => `“${p}”`).join(', ') || '—';
  rows.push(`| [\`${id}\`](#${id}) | ${esc(entry.description)} | ${esc(reach)} | ${qualityCells(s.quality, id)} |`);
  images.push(`### ${id}`, '', `${entry.description}.`, '', `![${id}](motions/${id}.png)`, '');
}
const seam = await sheet('seam-walk-wave-run.png', 'walk(60) → wave(60) → run(60) (seed 1)', [{ prompt: 'walk', frames: 60 }, { prompt: 'wave', frames: 60 }, { prompt: 'run', frames: 60 }], { frames: 7 });
const rig = await sheet('ue5-walk.png', 'walk on the ue5 rig (floor-level root, ik_ bones dashed)', [{ prompt: 'walk', frames: 90 }], { motion: 'walk', skeleton: ue5 });
largest = Math.max(largest, seam.bytes, rig.bytes);

const seamLines = seam.quality.seams.map((s) => `- seam at frame ${s.frame}: hips ${s.speedBefore.toFixed(2)} → ${s.speedAfter.toFixed(2)} m/s, peak deceleration ${s.peakDecel.toFixed(1)} m/s², peak acceleration ${s.peakAccel.toFixed(1)} m/s², planted drift ${cm(s.drift?.drift ?? 0)} cm, lowest sole point ${cm(s.lowest.height)} cm`);
const doc = [
  '# The procedural motions',
  '',
  '<!-- Generated by `npm run contact-sheets` (scripts/motion-sheets.ts): do not edit by hand. -->',
  '',
  `Every motion of the procedural model's vocabulary (${Object.keys(MOTIONS).length}), each a seeded 3 s answer (seed ${SEED}, 30 fps) on the`,
  'canonical skeleton, made as the gateway makes it (generation, then composition, cleanup and GLB encoding with',
  '`post_processing: true`), decoded back from the GLB and measured by forward kinematics (src/motion/quality.ts; the same',
  'measurement as the "Motion quality" section of bench/RESULTS.md, which also covers every fixture rig and post-processing off).',
  'See [procedural-model.md](procedural-model.md) for how prompts are understood and what the modifiers do.',
  '',
  'Columns: **prompts** are phrases of the vocabulary that `understand()` resolves to the motion (a few of them; modifiers',
  'such as "slowly", "tired", "zombie" combine with any); **lowest** the lowest sole point (heel, ball or toe tip) against',
  'the floor, in cm (bound ≥ −1); **drift** the worst slide of a planted sole point while it is down, in cm (bound < 1);',
  '**off-hinge** how far the knees / elbows turn out of their hinge plane, in degrees (bound < 10); **max °/frame** the largest',
  'per-frame rotation of a joint class relative to its motion class bound; **bounds** the bounds broken, if any.',
  '',
  'Contact sheets: side, front and top views of 4 evenly spaced frames (7 for the seam); left side blue, right red; sole points green while',
  'planted, grey in the air, red under the floor; ground ticks every 25 cm (the figure stays centred, the ticks show travel);',
  'the hips\' trail and heading in the top view. Render any answer with `npm run contact-sheet -- answer.glb out.png`.',
  '',
  '| motion | description | prompts | lowest (cm) | drift (cm) | off-hinge knee / elbow (°) | max °/frame | bounds |',
  '|---|---|---|---|---|---|---|---|',
  ...rows,
  '',
  '## A seam: walk(60) → wave(60) → run(60)',
  '',
  `Lowest sole point ${cm(seam.quality.lowest.height)} cm (${seam.quality.lowest.side} ${seam.quality.lowest.point} at frame ${seam.quality.lowest.frame}), worst planted drift ${cm(seam.quality.drift?.drift ?? 0)} cm.`,
  '',
  ...seamLines,
  '',
  '![walk → wave → run](motions/seam-walk-wave-run.png)',
  '',
  '## A floor-level root: walk on the Unreal rig (`root` above `pelvis`, `ik_foot_*` / `ik_hand_*`)',
  '',
  `Lowest sole point ${cm(rig.quality.lowest.height)} cm, worst planted drift ${cm(rig.quality.drift?.drift ?? 0)} cm, root off the floor ${cm(rig.quality.floorRoot?.offFloor ?? 0)} cm, IK bones from their foot / hand ${cm(rig.quality.ikGap?.gap ?? 0)} cm.`,
  '',
  '![walk on ue5](motions/ue5-walk.png)',
  '',
  '## Every motion',
  '',
  ...images,
].join('\n');
writeFileSync(DOC, doc);
console.log(`wrote docs/motions.md and ${rows.length + 2} sheets to docs/motions/ (largest ${(largest / 1024).toFixed(0)} KB) in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
