/**
 * Secret values a provider adapter must never let out of the process (its API key, client secret, live
 * session cookies): a set that replaces each of them with `[redacted]` in text, in structured values, in
 * GatewayErrors and in log fields. Adapters redact in their error mapping and their log lines with it;
 * src/log.ts repeats the replacement on every log line as a last line of defence.
 */
import { GatewayError } from '../../spec/errors.js';
import type { Logger } from '../../spec/adapter.js';
import { ProviderCallError } from './errors.js';

const REDACTED = '[redacted]';

/** Values shorter than this are not treated as secrets (they would blank out ordinary words). */
const MIN_SECRET_LENGTH = 4;

/** Live values kept at most (session cookies rotate; the oldest are dropped first). */
const MAX_LIVE_VALUES = 64;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The forms a secret takes in text: as it is, JSON-escaped (in a serialized log line) and
 * percent-encoded (in a URL or a cookie header).
 */
function secretForms(value: string): string[] {
  const forms = new Set([value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)]);
  return [...forms].filter((f) => f.length >= MIN_SECRET_LENGTH);
}

export class Secrets {
  private readonly fixed = new Set<string>();
  private readonly live: string[] = [];
  private pattern?: RegExp;

  constructor(values: Iterable<string | undefined> = []) {
    for (const v of values) if (v) this.addForms(this.fixed, v);
  }

  private addForms(into: Set<string> | string[], value: string): void {
    for (const f of secretForms(value)) {
      if (into instanceof Set) into.add(f);
      else if (!into.includes(f)) into.push(f);
    }
    this.pattern = undefined;
  }

  /** Adds a value learnt at run time (a session cookie): redacted from now on. */
  addLive(value: string): void {
    this.addForms(this.live, value);
    if (this.live.length > MAX_LIVE_VALUES) this.live.splice(0, this.live.length - MAX_LIVE_VALUES);
  }

  /** Every form of every secret, longest first. */
  values(): string[] {
    return [...new Set([...this.fixed, ...this.live])].sort((a, b) => b.length - a.length);
  }

  private regex(): RegExp | undefined {
    const values = this.values();
    if (values.length === 0) return undefined;
    this.pattern ??= new RegExp(values.map(escapeRegExp).join('|'), 'g');
    return this.pattern;
  }

  /** `text` with every secret replaced by `[redacted]`. */
  text(text: string): string {
    const re = this.regex();
    return re ? text.replace(re, REDACTED) : text;
  }

  /** A copy of a JSON-like value with every string redacted (other values as they are). */
  value<T>(value: T, depth = 0): T {
    if (typeof value === 'string') return this.text(value) as T;
    if (depth > 16 || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => this.value(v, depth + 1)) as T;
    if (value instanceof Error) return this.text(String(value)) as T;
    if (Object.getPrototypeOf(value) !== Object.prototype) return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.value(v, depth + 1)])) as T;
  }

  /**
   * An error as it may leave the adapter: a GatewayError rebuilt with its message, action and details
   * redacted; its cause is kept only when it is a provider call error (made redacted by the HTTP kit),
   * anything else may quote the provider verbatim. Other errors pass as they are.
   */
  error(err: unknown): unknown {
    if (!(err instanceof GatewayError)) return err;
    const message = this.text(err.message);
    const details = err.details ? this.value(err.details) : err.details;
    const action = this.text(err.action);
    if (message === err.message && action === err.action && JSON.stringify(details) === JSON.stringify(err.details)) return err;
    const cause = err.cause instanceof ProviderCallError ? err.cause : undefined;
    return new GatewayError(err.id, message, { details, retryAfterS: err.retryAfterS, action, cause });
  }

  /** A logger that redacts every field and message before passing them on. */
  logger(log: Logger): Logger {
    const pass = (level: keyof Logger) => (obj: object, msg?: string) => {
      const fields = this.value(obj as Record<string, unknown>);
      if (msg === undefined) log[level](fields);
      else log[level](fields, this.text(msg));
    };
    return { debug: pass('debug'), info: pass('info'), warn: pass('warn'), error: pass('error') };
  }
}
