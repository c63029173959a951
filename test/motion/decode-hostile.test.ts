/** decodeAnimationFile on what providers should never send: truncated, corrupted and oversized files, and a large one. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { NodeIO } from '@gltf-transform/core';
import { decodeAnimationFile } from '../../src/motion/decode.js';
import { GatewayError } from '../../src/spec/errors.js';
import { buildFbxStyleDocument, documentToEmbeddedJson, writeFbxStyleGlb, type FbxStyleGlbOptions } from '../fixtures/fbx-style-glb.js';
import { repackGlb, SKEL, smooth, ZUP_CM } from './decode-fixtures.js';

async function expect502(p: Promise<unknown>): Promise<GatewayError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  const g = err as GatewayError;
  expect(g.id).toBe('MG-PRV-502');
  expect(g.message).toMatch(/^The provider's animation file/);
  expect(g.message).not.toMatch(/_JNT|Armature|baselayer|\n/);
  if (process.env.DECODE_DEBUG) console.log(g.message);
  return g;
}

describe('decodeAnimationFile: hostile and broken files', () => {
  const opts = (): FbxStyleGlbOptions => ({ skeleton: SKEL, clips: [{ name: 'Armature|Walk|baselayer', clip: smooth() }], armature: ZUP_CM, mesh: true });

  it('refuses truncated GLBs with MG-PRV-502', async () => {
    const glb = await writeFbxStyleGlb(opts());
    for (const cut of [0, 3, 12, 19, 40, Math.floor(glb.length / 2), glb.length - 4, glb.length - 1]) {
      await expect502(decodeAnimationFile(glb.subarray(0, cut), { fps: 30 }));
    }
  });

  it('refuses garbage, external buffers, NaNs, absurd sizes and files over maxBytes', async () => {
    const glb = await writeFbxStyleGlb(opts());
    await expect502(decodeAnimationFile(new TextEncoder().encode('hello'), { fps: 30 }));
    await expect502(decodeAnimationFile(new TextEncoder().encode('{"asset":{"version":"1.0"}}'), { fps: 30 }));
    await expect502(decodeAnimationFile(repackGlb(glb, (j) => (j.buffers[0].uri = 'https://example.com/x.bin')), { fps: 30 }));
    await expect502(decodeAnimationFile(repackGlb(glb, (j) => (j.accessors[j.animations[0].samplers[0].output].count = 2 ** 30)), { fps: 30 }));
    await expect502(decodeAnimationFile(repackGlb(glb, (j) => (j.accessors[j.animations[0].samplers[0].output].count = 1e6)), { fps: 30 }));
    await expect502(decodeAnimationFile(repackGlb(glb, (j) => (j.nodes[1].children = [0])), { fps: 30 }));
    await expect502(decodeAnimationFile(repackGlb(glb, (j) => (j.nodes[2].rotation = [0, 0, 'x', 1])), { fps: 30 }));
    const tooBig = await expect502(decodeAnimationFile(glb, { fps: 30, maxBytes: 1000 }));
    expect(tooBig.details).toMatchObject({ max_bytes: 1000 });

    const nan = buildFbxStyleDocument(opts());
    (nan.getRoot().listAnimations()[0].listSamplers()[3].getOutput()!.getArray() as Float32Array)[5] = NaN;
    await expect502(decodeAnimationFile(await new NodeIO().writeBinary(nan), { fps: 30 }));

    const endless = buildFbxStyleDocument(opts());
    const times = endless.getRoot().listAnimations()[0].listSamplers()[0].getInput()!.getArray() as Float32Array;
    times[times.length - 1] = 1e7;
    await expect502(decodeAnimationFile(await new NodeIO().writeBinary(endless), { fps: 30 }));

    const missing = JSON.parse(new TextDecoder().decode(await documentToEmbeddedJson(buildFbxStyleDocument(opts()))));
    missing.buffers[0].uri = 'Armature.bin';
    await expect502(decodeAnimationFile(new TextEncoder().encode(JSON.stringify(missing)), { fps: 30 }));
  });

  it('never fails with anything but MG-PRV-502 on corrupted bytes', async () => {
    const glb = await writeFbxStyleGlb({ ...opts(), mesh: false });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(glb.length - 1), fc.nat(255)), { minLength: 1, maxLength: 8 }), async (flips) => {
        const bytes = Uint8Array.from(glb);
        for (const [at, v] of flips) bytes[at] = v;
        try {
          const d = await decodeAnimationFile(bytes, { fps: 30 });
          for (const c of d.clips) for (const v of c.clip.rotations) expect(Number.isFinite(v)).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(GatewayError);
          expect((e as GatewayError).id).toBe('MG-PRV-502');
        }
      }),
      { numRuns: 300, seed: 42 },
    );
  });
});

describe('decodeAnimationFile: a large file', () => {
  // How fast this runs is measured by bench/motion.ts (`npm run bench`).
  it('decodes a ~10 MB provider GLB: four 20 s clips at 60 fps, by name, to 601 frames each at 30 fps', async () => {
    const clips = [0, 1, 2, 3].map((i) => ({ name: `Armature|Clip${i}|baselayer`, clip: smooth(1201, 60, i), constantChannels: true }));
    const glb = await writeFbxStyleGlb({ skeleton: SKEL, clips, armature: ZUP_CM, endBones: true, mesh: { verticesPerJoint: 2400 } });
    expect(glb.length).toBeGreaterThan(9e6);
    const decoded = await decodeAnimationFile(glb, { fps: 30 });
    expect(decoded.clips.map((c) => c.name)).toEqual(clips.map((c) => c.name));
    expect(decoded.clips.map((c) => c.clip.numFrames)).toEqual([601, 601, 601, 601]);
  });
});
