/**
 * The process logger (pino, JSON lines). Credentials are redacted wherever they might appear: by field
 * name (authorization, cookie, api keys…), and, as a last line of defence behind the adapters' own
 * redaction, by value: every configured secret is replaced with `[redacted]` in each line before it is
 * written, whatever field or message carries it.
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

export interface LoggerOptions {
  /** Secret values (the configuration's `secrets`) never to appear in a log line. */
  secrets?: readonly string[];
  /** Where lines go (default: stdout); tests capture them. */
  destination?: DestinationStream;
}

const REDACTED = '[redacted]';
/** Shorter values would blank out ordinary words. */
const MIN_SECRET_LENGTH = 4;

/** A replacer of every secret (as written and JSON-escaped, longest first), or undefined when there are none. */
function secretScrubber(secrets: readonly string[]): ((line: string) => string) | undefined {
  const forms = new Set<string>();
  for (const s of secrets) {
    for (const f of [s, JSON.stringify(s).slice(1, -1), encodeURIComponent(s)]) if (f.length >= MIN_SECRET_LENGTH) forms.add(f);
  }
  if (forms.size === 0) return undefined;
  const pattern = new RegExp(
    [...forms]
      .sort((a, b) => b.length - a.length)
      .map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('|'),
    'g',
  );
  return (line) => line.replace(pattern, REDACTED);
}

export function createLogger(level: string, opts: LoggerOptions = {}): PinoLogger {
  const scrub = secretScrubber(opts.secrets ?? []);
  return pino(
    {
      level,
      base: { service: 'motion-gateway' },
      redact: {
        paths: ['authorization', 'cookie', 'headers.authorization', 'headers.cookie', '*.apiKey', '*.clientSecret', '*.secret', '*.password'],
        censor: REDACTED,
      },
      ...(scrub ? { hooks: { streamWrite: scrub } } : {}),
    },
    opts.destination,
  );
}
