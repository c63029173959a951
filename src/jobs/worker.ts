/**
 * The worker-thread side of the compute pool. Each message is one unit of CPU work: calling a task's
 * function, or rendering a finished motion (computing it first when the adapter handed a task) into the
 * GLB answer. Results go back by transfer; failures go back as values the pool turns into errors again.
 */
import { Piscina } from 'piscina';
import type { ComputeTask } from '../spec/compute.js';
import type { Motion } from '../spec/motion.js';
import type { GenerationPlan } from '../spec/plan.js';
import { renderMotion } from '../motion/pipeline.js';
import { throwable, transferablesOf, type ThrownAcross } from './transfer.js';

export type WorkerMessage =
  | { op: 'call'; task: ComputeTask }
  | { op: 'render'; plan: GenerationPlan; motion?: Motion; task?: ComputeTask };

export type WorkerAnswer = { ok: true; value: unknown } | { ok: false; error: ThrownAcross };

const modules = new Map<string, Promise<Record<string, unknown>>>();

async function call(task: ComputeTask): Promise<unknown> {
  let mod = modules.get(task.module);
  if (!mod) {
    mod = import(task.module) as Promise<Record<string, unknown>>;
    modules.set(task.module, mod);
  }
  const fn = (await mod)[task.fn];
  if (typeof fn !== 'function') throw new Error(`${task.module} exports no function "${task.fn}"`);
  return (fn as (input: unknown) => unknown)(task.input);
}

/** Moves the answer's buffers back to the event loop instead of copying them. */
function moved(answer: WorkerAnswer): unknown {
  const buffers = answer.ok ? transferablesOf(answer.value) : [];
  if (!buffers.length) return answer;
  const movable = {
    get [Piscina.transferableSymbol]() {
      return buffers;
    },
    get [Piscina.valueSymbol]() {
      return answer;
    },
  };
  // Piscina's Transferable interface: the value travels, the listed buffers are moved.
  return Piscina.move(movable as unknown as Parameters<typeof Piscina.move>[0]);
}

/** Does one unit of work on this thread (the pool's worker, or the caller's own thread when inline). */
export async function perform(msg: WorkerMessage): Promise<WorkerAnswer> {
  try {
    if (msg.op === 'call') return { ok: true, value: await call(msg.task) };
    const motion = msg.motion ?? ((await call(msg.task!)) as Motion);
    return { ok: true, value: renderMotion(msg.plan, motion) };
  } catch (err) {
    return { ok: false, error: throwable(err) };
  }
}

export default async function work(msg: WorkerMessage): Promise<unknown> {
  return moved(await perform(msg));
}
