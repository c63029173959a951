/** `motion-gateway jobs status|cancel <id>`: one job, by the id a 202 (or `generate`'s progress line) gave. */
import type { MotionGatewayClient } from '../client/index.js';

export async function jobStatusCommand(client: MotionGatewayClient, id: string): Promise<void> {
  const status = await client.jobs.status(id);
  process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
}

/** Cancels a queued or running job; on a finished one the gateway forgets it (and its result). */
export async function jobCancelCommand(client: MotionGatewayClient, id: string): Promise<void> {
  await client.jobs.cancel(id);
  process.stdout.write(`cancelled ${id}\n`);
}
