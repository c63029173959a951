/**
 * Builds a generate request from what a command line (or a batch clip) gives: an optional base request
 * (a file as in docs/cookbook.md), then the flags over it. What is left out is taken from /capabilities:
 * the first model, its canonical skeleton (MMCP requires a skeleton) and its fps for turning seconds into frames.
 */
import { dirname, resolve } from 'node:path';
import type { Capabilities, GenerateRequest } from '../client/index.js';
import type { ModelCapabilities, Skeleton } from '../spec/wire.js';
import { SERVED_VERSION } from '../spec/version.js';
import { CliError } from './exit-codes.js';
import { isObj, readJsonFile, type Json } from './json.js';
import { readSkeletonFile } from './skeleton.js';


/** What a request is made of before /capabilities fills the gaps; every field but `base` overrides it. */
export interface RequestDraft {
  /** A (partial) request body; its `skeleton` may be a file path, read relative to `baseDir`. */
  base: Json;
  /** Directory `base`'s relative paths are relative to. */
  baseDir: string;
  /** Text segments in order; when given they replace the base's segments. */
  prompts?: string[];
  /**
   * Seconds of each prompt's segment: one value for all, or one per prompt in order (default 4); without
   * prompts, one value for each text/unconditioned segment of the base.
   */
  seconds?: number | number[];
  model?: string;
  /** A .glb/.gltf/.json file holding the skeleton. */
  skeletonFile?: string;
  seed?: number;
  fps?: number;
  samples?: number;
}

export const DEFAULT_SECONDS = 4;

/** A request file's body (a JSON object that is one request, not a batch). */
export async function readRequestFile(file: string): Promise<Json> {
  const value = await readJsonFile(file, `--request ${file}`);
  if (!isObj(value)) throw new CliError(`--request ${file}: expected a JSON object (a generate request)`);
  if (Array.isArray(value.requests)) throw new CliError(`--request ${file} is a batch body ("requests"): use \`motion-gateway batch\` with a manifest`);
  return value;
}

/** The capabilities, fetched once and only when a default is needed. */
export function lazyCapabilities(fetchCaps: () => Promise<Capabilities>): () => Promise<Capabilities> {
  let caps: Promise<Capabilities> | undefined;
  return () => (caps ??= fetchCaps());
}

function modelOf(caps: Capabilities, id: string): ModelCapabilities {
  const model = caps.models.find((m) => m.id === id);
  if (!model) throw new CliError(`unknown model ${JSON.stringify(id)}; this gateway serves: ${caps.models.map((m) => m.id).join(', ') || 'none'}`, undefined, 'Pick one with --model (see `motion-gateway capabilities`).');
  return model;
}

export async function buildRequest(draft: RequestDraft, capabilities: () => Promise<Capabilities>): Promise<GenerateRequest> {
  const req: Json = { ...draft.base };
  req.protocol_version ??= SERVED_VERSION;

  if (draft.model !== undefined) req.model = draft.model;
  if (typeof req.model !== 'string') {
    const first = (await capabilities()).models[0];
    if (!first) throw new CliError('the gateway serves no model');
    req.model = first.id;
  }
  const modelId = req.model as string;

  if (draft.skeletonFile !== undefined) req.skeleton = await readSkeletonFile(draft.skeletonFile);
  else if (typeof req.skeleton === 'string') req.skeleton = await readSkeletonFile(resolve(draft.baseDir, req.skeleton));
  else if (req.skeleton === undefined) req.skeleton = structuredClone(modelOf(await capabilities(), modelId).canonical_skeleton) as Skeleton;

  if (draft.fps !== undefined) req.timing = { ...(isObj(req.timing) ? req.timing : {}), fps: draft.fps };
  const framesOf = async (seconds: number): Promise<number> => {
    const fps = isObj(req.timing) && typeof req.timing.fps === 'number' ? req.timing.fps : modelOf(await capabilities(), modelId).fps;
    return Math.max(1, Math.round(seconds * fps));
  };

  const seconds = draft.seconds === undefined ? [] : [draft.seconds].flat();
  if (draft.prompts && draft.prompts.length > 0) {
    const prompts = draft.prompts;
    if (seconds.length > 1 && seconds.length !== prompts.length) {
      throw new CliError(`--seconds is given ${seconds.length} times for ${prompts.length} prompts: give it once (for every prompt) or once per --prompt, in order`);
    }
    const secondsOf = (i: number) => (seconds.length === 0 ? DEFAULT_SECONDS : seconds.length === 1 ? seconds[0] : seconds[i]);
    req.segments = await Promise.all(prompts.map(async (prompt, i) => ({ type: 'text', prompt, duration_frames: await framesOf(secondsOf(i)) })));
  } else if (seconds.length > 0 && Array.isArray(req.segments)) {
    if (seconds.length > 1) throw new CliError('without --prompt, --seconds takes one value (the length of every text and unconditioned segment)');
    const frames = await framesOf(seconds[0]);
    req.segments = req.segments.map((s: unknown) => (isObj(s) && (s.type === 'text' || s.type === 'unconditioned') ? { ...s, duration_frames: frames } : s));
  }
  if (!(Array.isArray(req.segments) && req.segments.length > 0) && !(Array.isArray(req.constraints) && req.constraints.length > 0)) {
    throw new CliError('nothing to generate: give --prompt (or a --request file with segments or constraints)');
  }

  if (draft.seed !== undefined || draft.samples !== undefined) {
    const options: Json = { ...(isObj(req.options) ? req.options : {}) };
    if (draft.seed !== undefined) options.seed = draft.seed;
    if (draft.samples !== undefined) options.num_samples = draft.samples;
    req.options = options;
  }
  return req as unknown as GenerateRequest;
}

/** The directory a request file's relative paths are read from. */
export const dirOf = (file: string | undefined): string => (file ? dirname(resolve(file)) : process.cwd());
