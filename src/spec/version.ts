/** The protocol this server speaks: the minor version it serves and the majors it accepts. */
export const SERVED_VERSION = '1.2';
export const SUPPORTED_MAJORS = ['1'] as const;
