/**
 * The gateway's budgets over what a request asks for, decided before a job exists: the timing.fps bound,
 * the output and work budgets of one request, and the output budget of a whole batch. All answer
 * 400 invalid_options with details naming the budget, its bound, the estimate and what to lower.
 */
import { GatewayError } from '../spec/errors.js';
import type { Limits } from '../spec/wire.js';
import type { RequestCost } from './cost.js';

/** The request fields that scale an answer and its work, in the words a caller finds them. */
const LOWER = ['num_samples', 'timing.fps', 'duration_frames', 'skeleton joints'];

/** timing.fps against the gateway's bound (x_max_fps); a limit of MMCP step 9. */
export function checkFps(fps: number, limits: Limits): void {
  const max = limits.x_max_fps;
  if (max === undefined || fps <= max) return;
  throw new GatewayError('MG-PRO-012', `timing.fps ${fps} is above this server's limit of ${max}.`, {
    details: { option: 'timing.fps', field: 'timing.fps', limit: 'x_max_fps', max, value: fps },
  });
}

function overBudget(message: string, budget: string, max: number, estimate: number, lower: string[], extra: Record<string, unknown> = {}): GatewayError {
  return new GatewayError('MG-PRO-016', message, { details: { budget, limit: budget, max, estimate, lower, ...extra } });
}

const mib = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MiB`;

/** One request's estimated answer size (x_max_output_bytes) and pipeline work (x_max_work). */
export function checkRequestBudgets(cost: RequestCost, limits: Limits): void {
  const shape = { frames: cost.frames, samples: cost.samples, joints: cost.joints };
  const maxBytes = limits.x_max_output_bytes;
  if (maxBytes !== undefined && cost.outputBytes > maxBytes) {
    throw overBudget(
      `The answer would be about ${mib(cost.outputBytes)}; at most ${mib(maxBytes)} are produced per request.`,
      'x_max_output_bytes', maxBytes, cost.outputBytes, LOWER, shape,
    );
  }
  const maxWork = limits.x_max_work;
  if (maxWork !== undefined && cost.work > maxWork) {
    throw overBudget(
      `The request asks for ${cost.work} joint-frames of work; at most ${maxWork} are accepted per request.`,
      'x_max_work', maxWork, cost.work, LOWER, shape,
    );
  }
}

/** A batch's estimated total answer size against x_max_batch_output_bytes (`costs` in item order). */
export function checkBatchBudget(costs: ReadonlyArray<RequestCost | undefined>, maxBytes: number): void {
  const items = costs.map((c) => c?.outputBytes ?? 0);
  const estimate = items.reduce((a, b) => a + b, 0);
  if (estimate <= maxBytes) return;
  throw overBudget(
    `The batch's answers would total about ${mib(estimate)}; at most ${mib(maxBytes)} are produced per batch.`,
    'x_max_batch_output_bytes', maxBytes, estimate, ['requests', ...LOWER], { items },
  );
}
