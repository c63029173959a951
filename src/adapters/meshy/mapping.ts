/**
 * The request mapping: an MMCP plan becomes library actions per segment and sample, and the Meshy tasks
 * that produce them (one per distinct action: a clip used twice is paid once). This is the checkpoint
 * every later step works from.
 */
import type { GenerationPlan, PlannedSegment } from '../../spec/plan.js';
import { GatewayError } from '../../spec/errors.js';
import { RIG_BASIC_ACTIONS, type ActionLibrary, type MeshyAction } from './library.js';
import { chooseActions, inplaceTwin, type ChosenAction } from './select.js';

/** Frame rates Meshy's change_fps post-process offers. */
const MESHY_FPS: readonly number[] = [24, 25, 30, 60];

/** What one task of the job stands at. */
export interface TaskEntry {
  action_id: number;
  /** `animation`: an animation task; `rig_basic`: the walking/running clip bundled with the rig (no task). */
  source: 'animation' | 'rig_basic';
  /** Meshy's task id, saved the moment the POST answers. */
  task_id?: string;
  /** The rig the task animates. */
  rig_task_id?: string;
  status: 'QUEUED' | 'PENDING' | 'IN_PROGRESS' | 'SUCCEEDED';
  /** 0..100. */
  progress: number;
  preceding_tasks?: number;
  /** When the task's signed result URLs expire (ms epoch). */
  expires_at?: number;
  /** Tasks created for this entry (a transient FAILED task is created again, Meshy refunds it). */
  attempts: number;
}

export interface MeshyCheckpoint {
  v: 1;
  /** `post_process.change_fps` rate, or null when the toolkit resamples. */
  change_fps: number | null;
  /** The chosen action of each segment, per sample: picks[sample][segment]. */
  picks: ChosenAction[][];
  tasks: TaskEntry[];
  /** When the first step ran (the provider deadline counts from it). */
  started_at?: number;
  /** The rig was replaced once during this job (a second refusal is an error). */
  rerigged?: boolean;
  /** Consecutive answers "queue full" from Meshy (backoff). */
  queue_full?: number;
  /** Consecutive creations still rate-limited after their retries (backoff). */
  rate_limited?: number;
  /** A creation got no answer: a task may exist at Meshy that the job does not know. */
  unsure_create?: boolean;
}

const KNOWN_EXTENSIONS = ['action_id'];

function invalid(message: string, details: Record<string, unknown>): GatewayError {
  return new GatewayError('MG-PRO-015', message, { details: { provider: 'meshy', ...details } });
}

/** `extensions.meshy.action_id`: one id for every segment, or one per segment (null = choose from the prompt). */
function explicitActions(plan: GenerationPlan, lib: ActionLibrary): Array<MeshyAction | null> {
  for (const key of Object.keys(plan.extensions)) {
    if (!KNOWN_EXTENSIONS.includes(key)) throw invalid(`extensions.meshy.${key} is not a Meshy option.`, { field: `extensions.meshy.${key}`, known: KNOWN_EXTENSIONS });
  }
  const raw = plan.extensions.action_id;
  if (raw === undefined) return plan.segments.map(() => null);
  const list = Array.isArray(raw) ? raw : plan.segments.map(() => raw);
  if (list.length !== plan.segments.length) {
    throw invalid('extensions.meshy.action_id must be one action id, or a list with one entry per segment.', { field: 'extensions.meshy.action_id', segments: plan.segments.length });
  }
  return list.map((id, i) => {
    if (id === null) return null;
    const action = Number.isInteger(id) ? lib.byId.get(id as number) : undefined;
    if (!action) throw invalid(`extensions.meshy.action_id ${JSON.stringify(id)} is not an action of the Meshy library.`, { field: 'extensions.meshy.action_id', segment: i });
    return action;
  });
}

/** Ground distance a root_path covers within the segment's frames, and whether one overlaps it at all. */
function rootPathIn(plan: GenerationPlan, seg: PlannedSegment): { overlaps: boolean; travel: number } {
  let overlaps = false;
  let travel = 0;
  for (const c of plan.constraints) {
    if (c.type !== 'root_path') continue;
    const pts = c.frames.map((f, i) => ({ f, p: c.positions_xz[i] })).filter(({ f }) => f >= seg.startFrame && f < seg.startFrame + seg.frames);
    if (pts.length) overlaps = true;
    for (let i = 1; i < pts.length; i++) travel += Math.hypot(pts[i].p[0] - pts[i - 1].p[0], pts[i].p[1] - pts[i - 1].p[1]);
  }
  return { overlaps, travel };
}

const IDLE = 0;
const WALK_IN_PLACE = 613; // Casual_Walk_inplace: a constraints-only path is walked, the toolkit steers the root

/**
 * Chooses the actions (throws 400 before any job exists when a prompt matches nothing) and lists the
 * tasks. Motion in place is preferred under a root path (the toolkit then drives the root along it) and
 * for loops.
 */
export function planJob(plan: GenerationPlan, lib: ActionLibrary): MeshyCheckpoint {
  const explicit = explicitActions(plan, lib);
  const perSegment: ChosenAction[][] = plan.segments.map((seg, i) => {
    const path = rootPathIn(plan, seg);
    const inPlace = path.overlaps || plan.loop;
    const fixed = explicit[i];
    const same = (a: MeshyAction, via: ChosenAction['via'], score: number): ChosenAction[] =>
      Array.from({ length: plan.numSamples }, (_, s) => ({ action_id: a.action_id, name: a.name, score, inplace: /_inplace$/i.test(a.name), via, ...(s > 0 ? { repeated: true } : {}) }));
    if (fixed) return same(inPlace ? (inplaceTwin(lib, fixed) ?? fixed) : fixed, 'extension', 1);
    // A pose is the action its prompt names, of which the answer keeps one representative frame (kit/pose-frame.ts).
    if (seg.type === 'text' || seg.type === 'pose') return chooseActions(lib, seg.prompt ?? '', { inPlace, count: plan.numSamples, segment: i });
    const id = path.travel > 0.5 ? WALK_IN_PLACE : IDLE;
    return same(lib.byId.get(id)!, 'unconditioned', 1);
  });
  // A motion_reference segment is spliced in by the pipeline: its placeholder reuses an action another
  // segment already pays for (the nearest text segment's), so the reference costs no animation task.
  plan.segments.forEach((seg, i) => {
    if (!seg.reference) return;
    const donor = nearestTextSegment(plan, i);
    if (donor === undefined) return;
    perSegment[i] = perSegment[donor].map((p) => ({ ...p, via: 'motion_reference' as const, score: 1 }));
  });
  const picks = Array.from({ length: plan.numSamples }, (_, s) => perSegment.map((choices) => choices[s]));
  const ids = [...new Set(picks.flat().map((p) => p.action_id))].sort((a, b) => a - b);
  return {
    v: 1,
    change_fps: MESHY_FPS.includes(plan.fps) ? plan.fps : null,
    picks,
    tasks: ids.map((action_id) => ({
      action_id,
      source: action_id in RIG_BASIC_ACTIONS ? 'rig_basic' : 'animation',
      status: 'QUEUED',
      progress: 0,
      attempts: 0,
    })),
  };
}

/**
 * A working copy of the checkpoint the runner hands back: what planJob or a step returned, possibly
 * read back from the store by another process, so its shape is checked rather than trusted.
 */
export function readCheckpoint(checkpoint: unknown): MeshyCheckpoint {
  const cp = checkpoint as Partial<MeshyCheckpoint> | null;
  if (!cp || typeof cp !== 'object' || cp.v !== 1 || !Array.isArray(cp.picks) || !Array.isArray(cp.tasks)) {
    throw new GatewayError('MG-SRV-001', 'The job\'s Meshy checkpoint is unreadable.');
  }
  return structuredClone(cp as MeshyCheckpoint);
}

/** The text segment closest to segment `i` (earlier first on a tie), if the plan has one. */
function nearestTextSegment(plan: GenerationPlan, i: number): number | undefined {
  for (let d = 1; d < plan.segments.length; d++) {
    for (const j of [i - d, i + d]) if (plan.segments[j]?.type === 'text') return j;
  }
  return undefined;
}
