/**
 * X-MMCP-Ignored-Fields: the fields a newer-minor request had that this server ignored (JobRow.ignored_fields),
 * sent on every answer of its job (the first answer, 202s, polls, replays) alike.
 */
import { ignoredFieldsOf, servedByOf, type JobRow } from '../jobs/store.js';

/**
 * The header listing the fields a newer-minor request had that this server ignored: comma-separated
 * paths, with bytes outside visible ASCII (and "," and "%") percent-encoded as UTF-8; cut to whole
 * entries within 4000 characters (MMCP_motion.x_ignored_fields has the full list).
 */
const IGNORED_FIELDS_HEADER = 'X-MMCP-Ignored-Fields';

export function ignoredFieldsHeader(paths: readonly string[]): string {
  const percent = (c: string): string => {
    try {
      return encodeURIComponent(c);
    } catch {
      return '%EF%BF%BD'; // a lone surrogate: U+FFFD
    }
  };
  const encoded = paths.map((p) => p.replace(/[^\x21-\x7e]|[,%]/gu, percent));
  let out = '';
  for (const e of encoded) {
    const next = out ? `${out}, ${e}` : e;
    if (next.length > 4000) break;
    out = next;
  }
  return out;
}

/** The job's ignored-fields header, merged under `headers` (which win); `headers` itself when nothing was ignored. */
export function withIgnoredFields(row: Pick<JobRow, 'ignored_fields'>, headers: Record<string, string>): Record<string, string> {
  const ignored = ignoredFieldsOf(row);
  return ignored.length ? { [IGNORED_FIELDS_HEADER]: ignoredFieldsHeader(ignored), ...headers } : headers;
}

/**
 * X-Served-By: the model serving the job (a route's target, else the model itself; MMCP_motion.x_served_by
 * has the provider and the targets tried before), on every answer of the job like the header above.
 */
export function withServedBy(row: Pick<JobRow, 'served_by' | 'model' | 'provider'>, headers: Record<string, string>): Record<string, string> {
  return { 'X-Served-By': servedByOf(row).model, ...headers };
}
