/** How the CLI writes: answer files atomically (never a half-written .glb), and failures as `error:`/`action:` lines on stderr. */
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MotionGatewayError } from '../client/index.js';
import { CliError } from './exit-codes.js';

/**
 * Writes `bytes` to a temporary file beside `file` and renames it over `file`: a reader (or a resumed batch
 * checking whether the file exists) sees either nothing or the whole answer, even after a crash.
 */
export async function writeAtomic(file: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new CliError(`could not write ${file}: ${(err as Error).message}`);
  }
}

/** The message and the suggested action of a failure, as printed (never a stack trace). */
export function describeFailure(err: unknown): { message: string; action: string | null; code: string | null } {
  if (err instanceof MotionGatewayError) return { message: err.message, action: err.action, code: err.code };
  if (err instanceof CliError) return { message: err.message, action: err.action, code: null };
  return { message: err instanceof Error ? err.message : String(err), action: null, code: null };
}

export function printFailure(err: unknown): void {
  const { message, action } = describeFailure(err);
  process.stderr.write(`error: ${message}\n`);
  if (action) process.stderr.write(`  action: ${action}\n`);
}
