/** /capabilities advertises the limits this deployment enforces, not hard-coded defaults. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postGenerate, startGateway, type Running } from '../helpers/gateway.js';

describe('gateway-wide limits in /capabilities', () => {
  let g: Running;
  beforeAll(async () => {
    g = await startGateway({ maxRequestBytes: 4096, maxBatchSize: 3 });
  });
  afterAll(() => g.close());

  it('are the configured MAX_REQUEST_BYTES and MAX_BATCH_SIZE on every model', async () => {
    const caps = await (await fetch(`${g.url}/capabilities`)).json();
    for (const m of caps.models) expect(m.limits).toMatchObject({ max_request_bytes: 4096, max_batch_size: 3 });
  });

  it('are the limits enforced', async () => {
    const big = await postGenerate(g.url, JSON.stringify({ pad: 'x'.repeat(5000) }));
    expect(big.status).toBe(413);
    const batch = await postGenerate(g.url, { protocol_version: '1.2', requests: [{}, {}, {}, {}] });
    expect(batch.status).toBe(400);
    expect((await batch.json()).error.details.max_batch_size).toBe(3);
  });
});
