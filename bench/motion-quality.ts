/**
 * The motion-quality report (issue 10): every motion of the procedural vocabulary and a few modifier
 * prompts, on the canonical skeleton and every fixture rig, with post-processing on and off, and the
 * seam case walk(60) → wave(60) → run(60); each answer made as the gateway makes it, decoded back from
 * its GLB and measured by forward kinematics (src/motion/quality.ts). Prints the table (worst first)
 * and the worst rows per metric; `tsx bench/motion-quality.ts` also rewrites the "Motion quality"
 * section of bench/RESULTS.md in place (the summary and the 40 worst rows), `npm run bench` writes it with
 * the rest; both write every row to bench/out/motion-quality.md (gitignored).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import {
  BODY_LOWEST_BOUND, DRIFT_BOUND, GAIT_REVERSALS_BOUND, IK_GAP_BOUND, JOINT_CLASSES, LOWEST_BOUND, OFF_HINGE_BOUND, ROOT_FLOOR_BOUND, ROTATION_BOUNDS, SEAM_DECEL_BOUND,
  motionClassOf,
  qualityViolations, type MotionClass, type Violation,
} from '../src/motion/quality.js';
import {
  MODIFIER_PROMPTS, QUALITY_RIGS, SEAM_SEGMENTS, caseLabel, measureCase, qualityMotions, type QualityCase, type QualityRow,
} from '../test/helpers/answer-quality.js';
import type { Row } from './util.js';

export interface MeasuredRow extends QualityRow {
  motionClass: MotionClass;
  violations: Violation[];
  /** The worst measurement as a multiple of its bound (≤ 1 passes). */
  score: number;
}

/** Every case of the report. */
function qualityCases(): QualityCase[] {
  const out: QualityCase[] = [];
  for (const postProcessing of [true, false]) {
    for (const rig of QUALITY_RIGS) {
      for (const motion of qualityMotions()) out.push({ motion, rig, postProcessing });
      for (const prompt of MODIFIER_PROMPTS) out.push({ prompt, rig, postProcessing });
      out.push({ segments: SEAM_SEGMENTS, rig, postProcessing });
    }
  }
  return out;
}

/** The worst measurement of a row as a multiple of its bound. */
function score(r: QualityRow, mc: MotionClass): number {
  const q = r.quality;
  const parts = [
    -q.lowest.height / -LOWEST_BOUND,
    (q.drift?.drift ?? 0) / DRIFT_BOUND,
    q.knee.offHinge / OFF_HINGE_BOUND,
    q.elbow.offHinge / OFF_HINGE_BOUND,
    ...q.seams.map((s) => s.peakDecel / SEAM_DECEL_BOUND),
    (q.floorRoot?.offFloor ?? 0) / ROOT_FLOOR_BOUND,
    (q.ikGap?.gap ?? 0) / IK_GAP_BOUND,
  ];
  for (const c of JOINT_CLASSES) {
    const b = ROTATION_BOUNDS[mc][c];
    if (b) parts.push(q.perFrame[c].deg / b);
  }
  if (mc === 'gait' && q.kneeReversalsPerStride !== null) parts.push(q.kneeReversalsPerStride / GAIT_REVERSALS_BOUND);
  return Math.max(...parts);
}

/** A case whose answer could not be made or measured. */
export interface FailedCase {
  label: string;
  rig: string;
  postProcessing: boolean;
  error: string;
}

async function measureAll(cases = qualityCases(), failed: FailedCase[] = []): Promise<MeasuredRow[]> {
  const out: MeasuredRow[] = [];
  for (const c of cases) {
    let r: QualityRow;
    try {
      r = await measureCase(c);
    } catch (err) {
      failed.push({ label: caseLabel(c), rig: c.rig, postProcessing: c.postProcessing, error: err instanceof Error ? err.message : String(err) });
      continue;
    }
    const mc = motionClassOf(c.segments ? 'run' : (c.motion ?? r.understood));
    out.push({ ...r, motionClass: mc, violations: qualityViolations(r.quality, mc), score: score(r, mc) });
  }
  return out.sort((a, b) => b.score - a.score);
}

const cm = (m: number): string => (m * 100).toFixed(1);
const deg = (d: number): string => d.toFixed(1);
const pp = (r: QualityRow): string => (r.postProcessing ? 'on' : 'off');

/** The largest per-frame rotation of a row relative to its class bound: "knee 27.2". */
function worstRate(r: MeasuredRow): string {
  let best = '', ratio = -1;
  for (const c of JOINT_CLASSES) {
    const b = ROTATION_BOUNDS[r.motionClass][c];
    if (!b) continue;
    const v = r.quality.perFrame[c].deg;
    if (v / b > ratio) { ratio = v / b; best = `${c} ${deg(v)}/${b}`; }
  }
  return best;
}

function rowLine(r: MeasuredRow): string {
  const q = r.quality;
  const seam = q.seams.length ? q.seams.map((s) => deg(s.peakDecel)).join(', ') : '';
  const root = q.floorRoot ? `${cm(q.floorRoot.offFloor)} / ${cm(q.ikGap?.gap ?? 0)}` : '';
  return `| ${r.label} | ${r.rig} | ${pp(r)} | ${cm(q.lowest.height)} ${q.lowest.point} | ${cm(q.drift?.drift ?? 0)} | ${deg(q.knee.offHinge)} | ${deg(q.elbow.offHinge)} | ${worstRate(r)} | ${q.kneeReversalsPerStride ?? ''} | ${seam} | ${root} | ${r.score.toFixed(2)} |`;
}

const HEADER = [
  '| case | rig | post-processing | lowest sole point (cm) | planted drift (cm) | knee off-hinge (°) | elbow off-hinge (°) | worst °/frame / bound | knee reversals / stride | seam decel (m/s²) | floor root off floor / IK gap (cm) | worst / bound |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|',
];

/** The markdown section: bounds, summary per metric, the seam rows, the worst rows and the full table. */
function qualityMarkdown(rows: MeasuredRow[], failed: FailedCase[], seconds: number): string {
  const failing = rows.filter((r) => r.violations.length);
  const metric = (name: string, value: (r: MeasuredRow) => number, show: (r: MeasuredRow) => string, fails: (r: MeasuredRow) => boolean): string => {
    const worst = [...rows].sort((a, b) => value(b) - value(a)).slice(0, 3);
    return `| ${name} | ${rows.filter(fails).length} | ${worst.map((r) => `${r.label} on ${r.rig} (pp ${pp(r)}): ${show(r)}`).join('; ')} |`;
  };
  const rate = (r: MeasuredRow): number => Math.max(...JOINT_CLASSES.map((c) => r.quality.perFrame[c].deg / (ROTATION_BOUNDS[r.motionClass][c] ?? Infinity)));
  const seamRows = rows.filter((r) => r.quality.seams.length).sort((a, b) => a.rig.localeCompare(b.rig) || Number(b.postProcessing) - Number(a.postProcessing));
  const lines = [
    '## Motion quality',
    '',
    `Measured by \`tsx bench/motion-quality.ts\` (also part of \`npm run bench\`): ${rows.length} answers (${qualityMotions().length} motions of the vocabulary, ${MODIFIER_PROMPTS.length} modifier prompts and the seam case ${SEAM_SEGMENTS.map((s) => `${s.prompt}(${s.frames})`).join(' → ')}, 3 s at 30 fps, on ${QUALITY_RIGS.length} rigs: ${QUALITY_RIGS.join(', ')}; post-processing on and off), each made as the gateway makes it (generation, \`renderMotion\`), decoded back from the GLB and measured by forward kinematics of sample 0 (src/motion/quality.ts). Took ${seconds.toFixed(0)} s.`,
    '',
    `Bounds: lowest sole point (heel, ball, toe tip) ≥ ${cm(LOWEST_BOUND)} cm; drift of a planted sole point < ${cm(DRIFT_BOUND)} cm; knee and elbow off-hinge < ${OFF_HINGE_BOUND}° while bent > 10°; per-frame rotation per joint and motion class (src/motion/quality.ts ROTATION_BOUNDS); gait knee flexion reversals ≤ ${GAIT_REVERSALS_BOUND} per stride; hips deceleration within 1 s of a seam ≤ ${SEAM_DECEL_BOUND} m/s²; every mapped body joint ≥ ${cm(BODY_LOWEST_BOUND)} cm; a floor-level root within ${cm(ROOT_FLOOR_BOUND)} cm of the floor and IK bones within ${cm(IK_GAP_BOUND)} cm of their foot or hand. **${failing.length} of ${rows.length} answers break at least one bound.**`,
    '',
    '| metric | answers over the bound | worst three |',
    '|---|---|---|',
    metric('lowest sole point (cm)', (r) => -r.quality.lowest.height, (r) => `${cm(r.quality.lowest.height)} (${r.quality.lowest.side} ${r.quality.lowest.point} @${r.quality.lowest.frame})`, (r) => r.quality.lowest.height < LOWEST_BOUND),
    metric('lowest body joint (cm)', (r) => -r.quality.lowestJoint.height, (r) => `${cm(r.quality.lowestJoint.height)} (${r.quality.lowestJoint.joint} @${r.quality.lowestJoint.frame})`, (r) => r.quality.lowestJoint.height < BODY_LOWEST_BOUND),
    metric('planted drift (cm)', (r) => r.quality.drift?.drift ?? 0, (r) => `${cm(r.quality.drift?.drift ?? 0)} (${r.quality.drift?.side ?? ''} ${r.quality.drift?.point ?? ''})`, (r) => (r.quality.drift?.drift ?? 0) >= DRIFT_BOUND),
    metric('knee off-hinge (°)', (r) => r.quality.knee.offHinge, (r) => deg(r.quality.knee.offHinge), (r) => r.quality.knee.offHinge >= OFF_HINGE_BOUND),
    metric('elbow off-hinge (°)', (r) => r.quality.elbow.offHinge, (r) => deg(r.quality.elbow.offHinge), (r) => r.quality.elbow.offHinge >= OFF_HINGE_BOUND),
    metric('per-frame rotation / class bound', rate, (r) => worstRate(r), (r) => rate(r) > 1),
    metric('gait knee reversals / stride', (r) => (r.motionClass === 'gait' ? (r.quality.kneeReversalsPerStride ?? 0) : 0), (r) => String(r.quality.kneeReversalsPerStride), (r) => r.motionClass === 'gait' && (r.quality.kneeReversalsPerStride ?? 0) > GAIT_REVERSALS_BOUND),
    metric('floor-level root off the floor (cm)', (r) => r.quality.floorRoot?.offFloor ?? 0, (r) => cm(r.quality.floorRoot?.offFloor ?? 0), (r) => (r.quality.floorRoot?.offFloor ?? 0) > ROOT_FLOOR_BOUND),
    metric('IK bone from its foot / hand (cm)', (r) => r.quality.ikGap?.gap ?? 0, (r) => `${cm(r.quality.ikGap?.gap ?? 0)} (${r.quality.ikGap?.joint ?? ''})`, (r) => (r.quality.ikGap?.gap ?? 0) > IK_GAP_BOUND),
    metric('seam deceleration (m/s²)', (r) => Math.max(0, ...r.quality.seams.map((s) => s.peakDecel)), (r) => r.quality.seams.map((s) => deg(s.peakDecel)).join(', '), (r) => r.quality.seams.some((s) => s.peakDecel > SEAM_DECEL_BOUND)),
    '',
    `Seams of ${SEAM_SEGMENTS.map((s) => `${s.prompt}(${s.frames})`).join(' → ')}: hips speed over 0.5 s before → after, peak deceleration / acceleration within 1 s, worst planted drift and lowest sole point within 1 s.`,
    '',
    '| rig | post-processing | seam frame | hips speed (m/s) | peak decel (m/s²) | peak accel (m/s²) | drift (cm) | lowest (cm) |',
    '|---|---|---|---|---|---|---|---|',
    ...seamRows.flatMap((r) => r.quality.seams.map((s) => `| ${r.rig} | ${pp(r)} | ${s.frame} | ${s.speedBefore.toFixed(2)} → ${s.speedAfter.toFixed(2)} | ${deg(s.peakDecel)} | ${deg(s.peakAccel)} | ${cm(s.drift?.drift ?? 0)} ${s.drift?.point ?? ''} | ${cm(s.lowest.height)} ${s.lowest.point} |`)),
    '',
    ...(failed.length
      ? [`${failed.length} cases could not be made or measured:`, '', ...failed.map((f) => `- ${f.label} on ${f.rig} (post-processing ${f.postProcessing ? 'on' : 'off'}): ${f.error}`), '']
      : []),
    `The ${Math.min(WORST_ROWS, rows.length)} worst answers (worst measurement over its bound first); every answer is in \`${FULL_TABLE}\` (written by each run, not committed):`,
    '',
    ...HEADER,
    ...rows.slice(0, WORST_ROWS).map(rowLine),
  ];
  return lines.join('\n');
}

/** Rows of the "Motion quality" section: the rest go to the full table only. */
const WORST_ROWS = 40;
/** The full table, relative to the repository (gitignored). */
const FULL_TABLE = 'bench/out/motion-quality.md';

/** Every answer's row, worst first, as a markdown document. */
function fullTableMarkdown(rows: MeasuredRow[]): string {
  return ['# Motion quality: every answer', '', `Written by \`tsx bench/motion-quality.ts\` / \`npm run bench\` (${rows.length} answers, worst first); the summary is in bench/RESULTS.md.`, '', ...HEADER, ...rows.map(rowLine), ''].join('\n');
}

/** Summary rows for the bench's main table. */
function qualityRows(rows: MeasuredRow[]): Row[] {
  const worst = (v: (r: MeasuredRow) => number): MeasuredRow => rows.reduce((a, b) => (v(b) > v(a) ? b : a));
  const low = worst((r) => -r.quality.lowest.height);
  const drift = worst((r) => r.quality.drift?.drift ?? 0);
  const knee = worst((r) => r.quality.knee.offHinge);
  const seam = worst((r) => Math.max(0, ...r.quality.seams.map((s) => s.peakDecel)));
  const at = (r: MeasuredRow): string => `${r.label} on ${r.rig}, post-processing ${pp(r)}`;
  return [
    { suite: 'motion quality', metric: 'answers breaking a bound (see "Motion quality")', value: `${rows.filter((r) => r.violations.length).length} / ${rows.length}` },
    { suite: 'motion quality', metric: 'lowest sole point', value: `${cm(low.quality.lowest.height)} cm`, note: `bound ≥ −1 cm; ${at(low)}` },
    { suite: 'motion quality', metric: 'worst planted drift', value: `${cm(drift.quality.drift?.drift ?? 0)} cm`, note: `bound < 1 cm; ${at(drift)}` },
    { suite: 'motion quality', metric: 'worst knee off-hinge', value: `${deg(knee.quality.knee.offHinge)}°`, note: `bound < 10°; ${at(knee)}` },
    { suite: 'motion quality', metric: 'worst seam deceleration', value: `${deg(Math.max(...seam.quality.seams.map((s) => s.peakDecel)))} m/s²`, note: `bound ≤ ${SEAM_DECEL_BOUND}; ${at(seam)}` },
  ];
}

/** Measures everything; returns the main-table rows and the markdown section. */
export async function motionQualitySuite(): Promise<{ rows: Row[]; markdown: string }> {
  const t0 = performance.now();
  const failed: FailedCase[] = [];
  const measured = await measureAll(qualityCases(), failed);
  const rows = qualityRows(measured);
  if (failed.length) rows.unshift({ suite: 'motion quality', metric: 'cases that could not be made or measured', value: String(failed.length) });
  const out = new URL('./out/', import.meta.url);
  mkdirSync(out, { recursive: true });
  writeFileSync(new URL('motion-quality.md', out), fullTableMarkdown(measured));
  return { rows, markdown: qualityMarkdown(measured, failed, (performance.now() - t0) / 1000) };
}

/** Puts `section` (starting "## Motion quality") into RESULTS.md text, replacing an older one. */
export function withQualitySection(results: string, section: string): string {
  const at = results.indexOf('\n## Motion quality');
  const head = at >= 0 ? results.slice(0, at) : results.trimEnd();
  return `${head}\n\n${section}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { markdown } = await motionQualitySuite();
  console.log(markdown);
  const file = new URL('./RESULTS.md', import.meta.url);
  writeFileSync(file, withQualitySection(readFileSync(file, 'utf8'), markdown));
}
