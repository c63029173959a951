/** What a SayMotion job keeps between steps (one unit per provider job), and its validation when read back. */
import type { JobContext } from '../../spec/adapter.js';
import { GatewayError } from '../../spec/errors.js';

/** One provider job: a whole text segment, or one chunk of a long one. */
export interface Unit {
  segment: number;
  chunk: number;
  /** Frames of this chunk at the plan's fps. */
  frames: number;
  /** The exact `params` sent (stored, so a resumed job sends, and recognises, the same request). */
  params: string[];
  state: 'pending' | 'submitting' | 'running' | 'succeeded';
  rid?: string;
  /** Epoch ms when the submission began (the job list is searched from here after a crash). */
  submittedAt?: number;
  /** 0..1 as last reported. */
  progress?: number;
  positionInQueue?: number;
  /** Epoch ms when the rid first went missing from status answers (cleared when it shows again). */
  missingSince?: number;
}

/** The checkpoint of a SayMotion job (plain JSON). */
export interface SayMotionCheckpoint {
  v: 1;
  numVariant: number;
  units: Unit[];
}

/** What the runner hands every step of a SayMotion job. */
export type SayMotionContext = JobContext<SayMotionCheckpoint>;

const UNIT_STATES: ReadonlyArray<unknown> = ['pending', 'submitting', 'running', 'succeeded'] satisfies Unit['state'][];

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const optional = (v: unknown, check: (x: unknown) => boolean): boolean => v === undefined || check(v);

function isUnit(u: unknown): u is Unit {
  if (!isObject(u)) return false;
  if (!Number.isInteger(u.segment) || !Number.isInteger(u.chunk) || !Number.isInteger(u.frames)) return false;
  if (!Array.isArray(u.params) || !u.params.every((p) => typeof p === 'string')) return false;
  if (!UNIT_STATES.includes(u.state)) return false;
  // From `running` on, the unit polls and downloads its rid.
  if ((u.state === 'running' || u.state === 'succeeded') && typeof u.rid !== 'string') return false;
  return (
    optional(u.rid, (r) => typeof r === 'string') &&
    optional(u.submittedAt, isNumber) &&
    optional(u.progress, isNumber) &&
    optional(u.positionInQueue, isNumber) &&
    optional(u.missingSince, isNumber)
  );
}

/**
 * A checkpoint as the runner gives it back (what JSON.parse made of one we returned): a checked copy
 * the steps may change, or MG-SRV-001 when it is not a SayMotion checkpoint.
 */
export function readCheckpoint(value: unknown): SayMotionCheckpoint {
  if (!isObject(value) || value.v !== 1 || typeof value.numVariant !== 'number' || !Number.isInteger(value.numVariant) || !Array.isArray(value.units) || !value.units.every(isUnit)) {
    throw new GatewayError('MG-SRV-001', undefined, { details: { reason: 'unreadable SayMotion checkpoint' } });
  }
  return { v: 1, numVariant: value.numVariant, units: structuredClone(value.units) };
}

/** A copy of the state to hand the runner: the steps go on changing their own. */
export function snapshot(state: SayMotionCheckpoint): SayMotionCheckpoint {
  return structuredClone(state);
}

/** Whether SayMotion may have charged for this job: a unit was submitted, or its submission's answer was lost. */
export function mayHaveCharged(cp: SayMotionCheckpoint): boolean {
  return cp.units.some((u) => u.state !== 'pending');
}
