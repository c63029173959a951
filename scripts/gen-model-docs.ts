/**
 * Writes the capability sections of the model docs from the models' own capabilities, as
 * gen-error-docs.ts writes docs/errors.md, so a doc cannot say a model lacks what /capabilities offers.
 * A section is whatever lies between `<!-- generated:capabilities model=<id> -->` and
 * `<!-- /generated:capabilities -->` in a file of docs/; `npm run gen:model-docs` rewrites them,
 * `--check` fails when one is stale.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { createRegistry } from '../src/server/app.js';
import type { ModelCapabilities } from '../src/spec/wire.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const DOCS_DIR = join(root, 'docs');

/**
 * The configuration the docs describe: every default of the gateway, and each in-tree provider
 * configured the way its simulator is (no call leaves the process: adapters reach their provider only
 * in init and jobs, which the docs never run).
 */
const DOCS_ENV = {
  LOG_LEVEL: 'silent',
  SAYMOTION_BASE_URL: 'http://127.0.0.1:9',
  SAYMOTION_CLIENT_ID: 'docs-client',
  SAYMOTION_CLIENT_SECRET: 'docs-secret',
  SAYMOTION_CHARACTER_ID: 'docs-character',
  MESHY_API_KEY: 'msy_docs_key',
  MESHY_RIG_TASK_ID: 'docs-rig-task',
};

const BEGIN = /<!-- generated:capabilities model=([^\s>]+) -->\n[\s\S]*?<!-- \/generated:capabilities -->/g;

/** Every model of the in-tree providers, as GET /capabilities lists them with the default configuration. */
export async function documentedModels(): Promise<ModelCapabilities[]> {
  const registry = createRegistry(loadConfig(DOCS_ENV));
  try {
    return registry.models();
  } finally {
    await registry.close();
  }
}

const yes = (b: boolean | undefined) => (b ? 'yes' : 'no');
const codes = (xs: readonly string[] | undefined) => (xs && xs.length ? xs.map((x) => `\`${x}\``).join(', ') : 'none');
const MIB = 1_048_576;
const bytes = (n: number) => (n % MIB === 0 ? `${n / MIB} MiB` : `${n} bytes`);

/** What each limit is, and how its value reads. */
const LIMITS: Array<[keyof ModelCapabilities['limits'], string, (n: number) => string]> = [
  ['max_duration_seconds', 'longest request (all segments)', (n) => `${n} s`],
  ['max_num_samples', 'most samples (`options.num_samples`)', String],
  ['max_constraints_per_request', 'most constraints', String],
  ['max_prompt_length', 'longest prompt (code points)', String],
  ['max_request_bytes', 'largest request body (`MAX_REQUEST_BYTES`)', bytes],
  ['max_batch_size', 'most requests in a batch body (`MAX_BATCH_SIZE`)', String],
  ['max_reference_frames', 'most frames of a `motion_reference` clip (`MAX_REFERENCE_FRAMES`)', String],
  ['x_max_fps', 'highest `timing.fps` (`MAX_FPS`)', String],
  ['x_max_output_bytes', 'largest answer, estimated before the job (`MAX_OUTPUT_BYTES`)', bytes],
  ['x_max_batch_output_bytes', 'largest batch answer (`MAX_BATCH_OUTPUT_BYTES`)', bytes],
  ['x_max_work', 'most joint-frames of work (`MAX_WORK`, see [limits.md](limits.md))', (n) => n.toLocaleString('en-US')],
];

/** The capability section of one model: a table of every field of its /capabilities entry. */
export function renderCapabilities(m: ModelCapabilities): string {
  const joints = m.canonical_skeleton.joints;
  const rows: Array<[string, string]> = [
    ['`id` / `provider`', `\`${m.id}\` / \`${m.provider}\``],
    ['`fps`', `${m.fps} (native; \`timing.fps\` resamples the answer)`],
    ['`supports_retargeting`', m.supports_retargeting ? 'yes: send your own humanoid skeleton; the answer animates your joint names ([rigs.md](rigs.md))' : 'no: send `canonical_skeleton` as it is'],
    ['`supports_async`', m.supports_async ? 'yes (`Prefer: respond-async` answers 202 at once)' : 'no'],
    ['`supports_batch`', yes(m.supports_batch)],
    ['`supports_segment_seed`', yes(m.supports_segment_seed)],
    ['`supports_loop`', yes(m.supports_loop)],
    ['`supports_trajectory`', yes(m.supports_trajectory)],
    ['`supports_motion_reference_mixed`', yes(m.supports_motion_reference_mixed)],
    ['`supported_segments`', codes(m.supported_segments)],
    ['`supported_constraints`', codes(m.supported_constraints)],
    ['`supported_guidance_types`', codes(m.supported_guidance_types)],
    ['`predicted_contact_joints`', codes(m.predicted_contact_joints)],
    ['`native_clip_seconds` / `chunking` / `recommended_max_duration_seconds`', `${m.native_clip_seconds} s / \`${m.chunking}\` / ${m.recommended_max_duration_seconds} s`],
    ['`canonical_skeleton`', `${joints.length} joints, root \`${joints.find((j) => j.parent === null)?.name}\``],
  ];
  for (const [key, what, show] of LIMITS) {
    const v = m.limits[key];
    if (typeof v === 'number') rows.push([`\`limits.${key}\``, `${show(v)}: ${what}`]);
  }
  return [
    `Generated from the model's \`/capabilities\` entry with the default configuration by \`npm run gen:model-docs\`; a test fails when it is stale. A running gateway's \`GET /capabilities\` is the authority.`,
    '',
    '| field | value |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
  ].join('\n');
}

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? markdownFiles(p) : e.name.endsWith('.md') ? [p] : [];
  });
}

/**
 * Every doc with capability sections and its text with those sections regenerated, and the model ids
 * they cover. A section naming a model that is not served throws: a renamed model must not leave a stale page.
 */
export async function renderModelDocs(): Promise<{ files: Map<string, string>; covered: Set<string>; models: string[] }> {
  const models = await documentedModels();
  const byId = new Map(models.map((m) => [m.id, m]));
  const files = new Map<string, string>();
  const covered = new Set<string>();
  for (const path of markdownFiles(DOCS_DIR)) {
    const text = readFileSync(path, 'utf8');
    if (!text.includes('<!-- generated:capabilities')) continue;
    const out = text.replace(BEGIN, (_all, id: string) => {
      const m = byId.get(id);
      if (!m) throw new Error(`${relative(root, path)}: no model "${id}" (served: ${[...byId.keys()].join(', ')})`);
      covered.add(id);
      return `<!-- generated:capabilities model=${id} -->\n${renderCapabilities(m)}\n<!-- /generated:capabilities -->`;
    });
    files.set(path, out);
  }
  return { files, covered, models: models.map((m) => m.id) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { files, covered, models } = await renderModelDocs();
  const missing = models.filter((id) => !covered.has(id));
  if (missing.length) console.error(`no capability section for: ${missing.join(', ')}`);
  const stale = [...files].filter(([path, text]) => readFileSync(path, 'utf8') !== text).map(([path]) => relative(root, path));
  if (process.argv.includes('--check')) {
    if (stale.length || missing.length) {
      if (stale.length) console.error(`stale: ${stale.join(', ')}: run npm run gen:model-docs`);
      process.exit(1);
    }
  } else {
    for (const [path, text] of files) writeFileSync(path, text);
    console.log(stale.length ? `wrote ${stale.join(', ')}` : 'model docs are up to date');
  }
}
