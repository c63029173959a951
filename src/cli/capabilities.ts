/** `motion-gateway capabilities`: the models as a table a person reads, or the raw JSON for scripts. */
import type { Capabilities } from '../client/index.js';

/** Columns padded to their widest cell; the last column is left ragged. */
function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ')).join('\n');
}

export function capabilitiesTable(caps: Capabilities): string {
  const rows = [['MODEL', 'PROVIDER', 'ASYNC', 'FPS', 'LIMITS', 'CONSTRAINTS']];
  for (const m of caps.models) {
    const l = m.limits;
    const limits = `≤${l.max_duration_seconds}s, ≤${l.max_num_samples} samples, ≤${l.max_constraints_per_request} constraints, prompt ≤${l.max_prompt_length}`;
    rows.push([m.id, m.provider ?? '-', m.supports_async ? 'yes' : 'no', String(m.fps), limits, m.supported_constraints.join(', ') || '-']);
  }
  return `MMCP ${caps.protocol_version}\n${table(rows)}`;
}
