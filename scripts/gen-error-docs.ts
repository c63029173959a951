/** Writes docs/errors.md from the error catalogue (src/spec/errors.ts), so the published list never drifts. */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CATALOGUE } from '../src/spec/errors.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ERRORS_DOC = join(root, 'docs/errors.md');

export function renderErrorDocs(): string {
  const rows = Object.entries(CATALOGUE).map(
    ([id, e]) => `| \`${id}\` | ${e.status} | \`${e.code}\` | ${e.retryable ? 'yes' : 'no'} | ${e.message} | ${e.action.replace('{retry_after_s}', 'N')} |`,
  );
  return [
    '# Error catalogue',
    '',
    'Generated from `src/spec/errors.ts` by `npm run gen:docs`; a test fails when this file is stale.',
    '',
    'Every non-2xx answer carries two views of one error (see `schemas/error-envelope.schema.json`):',
    '',
    '```json',
    '{',
    '  "error":  { "code": "resource_exhausted", "message": "…", "details": { "retry_after_s": 12 } },',
    '  "detail": { "error_code": "MG-JOB-003", "message": "…", "action": "Retry after 12 seconds (see the Retry-After header)." }',
    '}',
    '```',
    '',
    '`error.code` is the MMCP code clients switch on; `detail.error_code` identifies the exact failure (quote it to support).',
    'Provider-caused errors keep their origin in `error.details`: `provider`, `provider_status`, `provider_code`,',
    '`provider_message` (sanitized), `provider_job_id`. `Retry-After` accompanies every 429 and 503.',
    '',
    '| error_code | HTTP | error.code | retry? | message | action |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = renderErrorDocs();
  if (process.argv.includes('--check')) {
    if (readFileSync(ERRORS_DOC, 'utf8') !== text) {
      console.error('docs/errors.md is stale: run npm run gen:docs');
      process.exit(1);
    }
  } else {
    writeFileSync(ERRORS_DOC, text);
    console.log('wrote', ERRORS_DOC);
  }
}
