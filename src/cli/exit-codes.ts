/**
 * The CLI's exit codes, one table: scripts branch on them, `--help` prints them, and every failure is
 * mapped here from what the gateway answered (the HTTP status and whether it is retryable).
 */
import { MotionGatewayError } from '../client/index.js';

export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  auth: 3,
  notFound: 4,
  credits: 5,
  unavailable: 6,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** What each code means, in the order printed by `motion-gateway --help`. */
const MEANINGS: Array<[ExitCode, string]> = [
  [EXIT.ok, 'ok'],
  [EXIT.internal, 'unexpected or internal error (a 5xx that is not retryable, an answer that is not motion)'],
  [EXIT.usage, 'usage or invalid input (bad flags, unreadable files, the gateway answered 400/422)'],
  [EXIT.auth, 'authentication (401/403): check --api-key / MOTION_GATEWAY_API_KEY'],
  [EXIT.notFound, 'not found or gone (404/410): unknown, expired or cancelled job'],
  [EXIT.credits, 'insufficient credits at the provider (402)'],
  [EXIT.unavailable, 'temporarily unavailable (429/503/504, unreachable gateway): retry later'],
  [EXIT.interrupted, 'interrupted (Ctrl-C): the running job was cancelled'],
];

/** The exit-code table for the help epilogue. */
export function exitCodeHelp(): string {
  return ['Exit codes:', ...MEANINGS.map(([code, text]) => `  ${String(code).padStart(3)}  ${text}`)].join('\n');
}

/** A failure the CLI itself detected (a bad flag value, an unreadable file, an invalid manifest). */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.usage,
    readonly action: string | null = null,
  ) {
    super(message);
  }
}

/** Ctrl-C: the reason an interrupted job's AbortSignal carries. */
export class Interrupted extends Error {
  override readonly name = 'Interrupted';
  constructor() {
    super('interrupted');
  }
}

/** The exit code of a gateway error, by HTTP status (a retryable 5xx is "retry later", another one internal). */
function exitCodeOfStatus(status: number, retryable: boolean): ExitCode {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 402) return EXIT.credits;
  if (status === 404 || status === 410) return EXIT.notFound;
  if (status === 429 || status === 503 || status === 504 || status === 0) return EXIT.unavailable;
  if (status >= 500) return retryable ? EXIT.unavailable : EXIT.internal;
  if (status >= 400) return EXIT.usage;
  // A 2xx that was not what was asked for (e.g. a 202 where a result was due): retrying later may do.
  return status === 202 ? EXIT.unavailable : EXIT.internal;
}

/** The exit code of anything a command threw. */
export function exitCodeOf(err: unknown): ExitCode {
  if (err instanceof Interrupted) return EXIT.interrupted;
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof MotionGatewayError) return err.code === 'invalid_answer' ? EXIT.internal : exitCodeOfStatus(err.status, err.retryable);
  return EXIT.internal;
}
