/** `motion-gateway jobs status|cancel <id>`: one job, by the id a 202 (or `generate`'s progress line) gave. */
import type { MotionGatewayClient } from '../client/index.js';

export async function jobStatusCommand(client: MotionGatewayClient, id: string): Promise<void> {
  const status = await client.jobs.status(id);
  process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
}

/** Cancels a queued or running job; on a finished one the gateway forgets it (and its result): the line says which. */
export async function jobCancelCommand(client: MotionGatewayClient, id: string): Promise<void> {
  const before = await client.jobs.status(id);
  await client.jobs.cancel(id);
  const finished = before.state === 'succeeded' || before.state === 'failed' || before.state === 'cancelled';
  process.stdout.write(finished ? `removed ${id} (it had ${before.state}; its record and result are gone)\n` : `cancelled ${id} (it was ${before.state})\n`);
}
