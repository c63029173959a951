/** The JSON files the CLI reads (request bodies, manifests, skeletons): parsed, or refused naming the file. */
import { readFile } from 'node:fs/promises';
import { CliError } from './exit-codes.js';

export type Json = Record<string, unknown>;

export const isObj = (x: unknown): x is Json => !!x && typeof x === 'object' && !Array.isArray(x);

/** The parsed contents of `file`; unreadable or invalid JSON is a usage error starting with `label`. */
export async function readJsonFile(file: string, label: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new CliError(`${label}: ${(err as Error).message}`);
  }
}
