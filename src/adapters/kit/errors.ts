/** The error of a call to a provider: what was called, what came back, and whether retrying can help. */

/** `refused`: the gateway would not fetch the URL a provider gave it (see egress.ts); nothing was sent. */
export type ProviderFailureKind = 'http' | 'network' | 'timeout' | 'parse' | 'too_large' | 'refused';

export interface ProviderCallErrorInit {
  provider: string;
  /** Method and path of the call (no query string: it may carry signatures). */
  endpoint: string;
  kind: ProviderFailureKind;
  status?: number;
  /** The provider's own message, sanitized (see sanitizeProviderText). */
  providerMessage?: string;
  /** The parsed JSON body of an error answer, when there was one. */
  body?: unknown;
  retryAfterMs?: number;
  cause?: unknown;
}

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

export class ProviderCallError extends Error {
  readonly provider: string;
  readonly endpoint: string;
  readonly kind: ProviderFailureKind;
  readonly status?: number;
  readonly providerMessage?: string;
  readonly body?: unknown;
  readonly retryAfterMs?: number;

  constructor(init: ProviderCallErrorInit) {
    super(`${init.provider} ${init.endpoint}: ${init.kind}${init.status ? ` ${init.status}` : ''}${init.providerMessage ? ` (${init.providerMessage})` : ''}`, {
      cause: init.cause,
    });
    this.name = 'ProviderCallError';
    this.provider = init.provider;
    this.endpoint = init.endpoint;
    this.kind = init.kind;
    this.status = init.status;
    this.providerMessage = init.providerMessage;
    this.body = init.body;
    this.retryAfterMs = init.retryAfterMs;
  }

  /** Transient failures: network trouble, timeouts, 408/425/429/5xx. */
  get isRetryable(): boolean {
    if (this.kind === 'network' || this.kind === 'timeout') return true;
    return this.kind === 'http' && this.status !== undefined && RETRYABLE_STATUS.has(this.status);
  }
}

/**
 * Makes provider text safe to show and log: removes URLs' query strings (signatures), bearer tokens,
 * API keys, cookies and anything after 300 characters.
 */
export function sanitizeProviderText(text: string): string {
  return text
    .replace(/(https?:\/\/[^\s"'?]+)\?[^\s"']*/gi, '$1?…')
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 …')
    .replace(/\bmsy_[A-Za-z0-9_]+/g, 'msy_…')
    .replace(/(dmsess=)[^;\s"]+/gi, '$1…')
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .slice(0, 300);
}
