/** The protocol this server speaks: the minor version it serves and the majors it accepts. */
export const SERVED_VERSION = '1.3';
export const SUPPORTED_MAJORS = ['1'] as const;

/** A "<major>.<minor>" version as numbers (compared numerically: 1.10 > 1.2), or undefined when malformed. */
function parseVersion(version: unknown): { major: number; minor: number } | undefined {
  if (typeof version !== 'string') return undefined;
  const m = /^(\d+)\.(\d+)$/.exec(version);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]) };
}

/**
 * Whether a request speaks a newer minor of the served major than this server (e.g. "1.9" to a 1.3
 * server). Such a request is read leniently: fields this server does not know are ignored and listed in
 * the answer (MMCP "a v1.x server SHOULD ignore unknown additive fields"), where a request of the served
 * minor or an older one is refused with 422 for them (typos are caught).
 */
export function isNewerMinor(version: unknown): boolean {
  const v = parseVersion(version);
  const served = parseVersion(SERVED_VERSION)!;
  return v !== undefined && v.major === served.major && v.minor > served.minor;
}
