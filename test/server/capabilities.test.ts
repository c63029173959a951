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

  it('serve protocol 1.3, take motion references on every model (the pipeline splices them) with their limit, and advertise no video limit', async () => {
    const caps = await (await fetch(`${g.url}/capabilities`)).json();
    expect(caps.protocol_version).toBe('1.3');
    for (const m of caps.models) {
      expect(m.supported_segments).toContain('motion_reference');
      expect(m.supported_segments).toContain('pose');
      expect(m.supports_motion_reference_mixed).toBe(true);
      expect(m.limits.max_reference_frames).toBeGreaterThan(0);
      expect(m.supported_segments).not.toContain('video_reference');
      for (const k of ['max_video_bytes', 'max_video_seconds']) expect(m.limits[k]).toBeUndefined();
    }
  });

  it('are the limits enforced', async () => {
    const big = await postGenerate(g.url, JSON.stringify({ pad: 'x'.repeat(5000) }));
    expect(big.status).toBe(413);
    expect((await big.json()).error.details).toMatchObject({ max_request_bytes: 4096, request_bytes: 5010 });
    const batch = await postGenerate(g.url, { protocol_version: '1.2', requests: [{}, {}, {}, {}] });
    expect(batch.status).toBe(400);
    expect((await batch.json()).error.details.max_batch_size).toBe(3);
  });
});
