/**
 * `npm run contact-sheet -- answer.glb out.png [--frames 6] [--sample 0] [--title "walk"]`: side, front
 * and top views of evenly spaced frames of one sample of an MMCP answer, as one PNG (src/tools/contact-sheet.ts
 * draws the SVG, resvg renders it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Resvg } from '@resvg/resvg-js';
import { mapHumanoid, type HumanoidMap } from '../src/motion/humanoid.js';
import type { Skeleton } from '../src/spec/motion.js';
import { contactSheetSvg, type ContactSheetOptions } from '../src/tools/contact-sheet.js';
import { readAnswer } from '../src/tools/read-answer.js';

function humanoid(s: Skeleton): HumanoidMap | null {
  try {
    return mapHumanoid(s);
  } catch {
    return null;
  }
}

/** The contact sheet of sample `sample` of an answer GLB, as SVG text. */
export async function answerContactSheetSvg(glb: Uint8Array, opts: ContactSheetOptions & { sample?: number } = {}): Promise<string> {
  const answer = await readAnswer(glb);
  const sample = answer.samples[opts.sample ?? 0];
  if (!sample) throw new Error(`the answer has ${answer.samples.length} samples, no sample ${opts.sample ?? 0}`);
  return contactSheetSvg(answer.skeleton, humanoid(answer.skeleton), sample.clip, { ...opts, title: `${opts.title ?? 'answer'} · ${sample.name}` });
}

/** Renders SVG text to PNG bytes. */
export function svgToPng(svg: string): Uint8Array {
  return new Resvg(svg, { background: '#ffffff', font: { loadSystemFonts: true } }).render().asPng();
}

/** The contact sheet of an answer GLB as PNG bytes. */
export async function answerContactSheet(glb: Uint8Array, opts: ContactSheetOptions & { sample?: number } = {}): Promise<Uint8Array> {
  return svgToPng(await answerContactSheetSvg(glb, opts));
}

function parseArgs(argv: string[]): { input: string; output: string; frames: number; sample: number; title?: string } {
  const pos: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) flags[a.slice(2)] = argv[++i] ?? '';
    else pos.push(a);
  }
  if (pos.length !== 2) throw new Error('usage: npm run contact-sheet -- answer.glb out.png [--frames 6] [--sample 0] [--title text]');
  const frames = Number(flags.frames ?? 6), sample = Number(flags.sample ?? 0);
  if (!(Number.isInteger(frames) && frames >= 1 && frames <= 60)) throw new Error('--frames must be an integer from 1 to 60');
  if (!(Number.isInteger(sample) && sample >= 0)) throw new Error('--sample must be a non-negative integer');
  return { input: pos[0], output: pos[1], frames, sample, title: flags.title };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const args = parseArgs(process.argv.slice(2));
    const png = await answerContactSheet(readFileSync(args.input), { frames: args.frames, sample: args.sample, title: args.title ?? basename(args.input) });
    writeFileSync(args.output, png);
    console.log(`wrote ${args.output} (${png.byteLength} bytes)`);
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  }
}
