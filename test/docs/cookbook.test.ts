/**
 * Every request file of docs/examples/ is posted to a real gateway as the cookbook and the quickstarts
 * post it (`curl -d @file`), and must succeed: an example that rots fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Running } from '../helpers/gateway.js';

const EXAMPLES = fileURLToPath(new URL('../../docs/examples/', import.meta.url));
const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.json')).sort();
const COOKBOOK = readFileSync(fileURLToPath(new URL('../../docs/cookbook.md', import.meta.url)), 'utf8');

let gw: Running;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw.close());

async function post(file: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${gw.url}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: readFileSync(join(EXAMPLES, file)),
  });
  return { status: res.status, body: await res.json() };
}

describe('docs/examples', () => {
  it('holds the examples the docs name, and the docs name every one', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const f of files) expect(COOKBOOK, f).toContain(`docs/examples/${f}`);
  });

  it.each(files.filter((f) => f !== 'batch.json'))('%s answers 200 with its motion on the request skeleton', async (file) => {
    const request = JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8'));
    const { status, body } = await post(file);
    expect(status, JSON.stringify(body.error)).toBe(200);
    const motion = body.extensions.MMCP_motion;
    expect(motion.samples).toHaveLength(request.options?.num_samples ?? 1);
    // The answer animates the joints the file sent, under their names.
    expect(body.nodes.map((n: { name: string }) => n.name)).toEqual(request.skeleton.joints.map((j: { name: string }) => j.name));
    const constraints: Array<{ type: string }> = request.constraints ?? [];
    const residuals = motion.samples[0].x_constraint_residuals ?? [];
    expect(residuals.map((r: { type: string }) => r.type)).toEqual(constraints.map((c) => c.type));
    for (const r of residuals) expect(r.max_position_error_m).toBeLessThan(0.1);
  });

  it('batch.json answers one glTF per request', async () => {
    const request = JSON.parse(readFileSync(join(EXAMPLES, 'batch.json'), 'utf8'));
    const { status, body } = await post('batch.json');
    expect(status).toBe(200);
    expect(body.results).toHaveLength(request.requests.length);
    for (const r of body.results) expect(Object.keys(r)).toEqual(['gltf']);
  });
});
