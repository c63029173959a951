/** Meshy's animation library (action id, name, category, sub-category), loaded once from the TSV shipped beside this adapter. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface MeshyAction {
  action_id: number;
  name: string;
  category: string;
  subcategory: string;
}

export interface ActionLibrary {
  actions: readonly MeshyAction[];
  byId: ReadonlyMap<number, MeshyAction>;
}

const FILE = 'actions.tsv';
const HOME = join('src', 'adapters', 'meshy');

/**
 * Where the TSV is: beside this module (tsx, vitest, or a build that copied it), else under
 * `src/adapters/meshy/` of the first ancestor directory that has it — the project root when running
 * the compiled `dist/src/…` build from a checkout. The TSV stays the one copy in the source tree.
 */
export function findLibraryFile(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  const beside = join(dir, FILE);
  if (existsSync(beside)) return beside;
  for (let i = 0; i < 6; i++) {
    dir = dirname(dir);
    const candidate = join(dir, HOME, FILE);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`Meshy action library ${FILE} not found beside ${fileURLToPath(import.meta.url)} or under ${HOME}/ of an ancestor directory`);
}

/** Parses the library TSV (header `action_id name category subcategory`); malformed rows are an error, not skipped. */
export function parseLibrary(text: string): ActionLibrary {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines.shift()?.split('\t').map((h) => h.trim());
  if (!header || header.join(',') !== 'action_id,name,category,subcategory') throw new Error('Meshy action library: unexpected header');
  const actions: MeshyAction[] = lines.map((line, i) => {
    const [id, name, category, subcategory] = line.split('\t').map((c) => c.trim());
    if (!/^-?\d+$/.test(id ?? '') || !name || !category || !subcategory) throw new Error(`Meshy action library: bad row ${i + 2}`);
    return { action_id: Number(id), name, category, subcategory };
  });
  const byId = new Map(actions.map((a) => [a.action_id, a]));
  if (byId.size !== actions.length) throw new Error('Meshy action library: duplicate action ids');
  return { actions, byId };
}

let cached: ActionLibrary | undefined;

/** The shipped library (read once per process). */
export function loadLibrary(): ActionLibrary {
  cached ??= parseLibrary(readFileSync(findLibraryFile(), 'utf8'));
  return cached;
}

/** Actions bundled with every rig (walking, running): their GLBs come with the rig task, no animation task needed. */
export const RIG_BASIC_ACTIONS: Readonly<Record<number, 'walking' | 'running'>> = { [-2]: 'walking', [-1]: 'running' };
