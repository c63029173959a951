/** The process logger (pino, JSON lines); credentials are redacted wherever they might appear. */
import { pino, type Logger as PinoLogger } from 'pino';

export function createLogger(level: string): PinoLogger {
  return pino({
    level,
    base: { service: 'motion-gateway' },
    redact: {
      paths: ['authorization', 'cookie', 'headers.authorization', 'headers.cookie', '*.apiKey', '*.clientSecret', '*.secret', '*.password'],
      censor: '[redacted]',
    },
  });
}

