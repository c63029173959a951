/** Motion toolkit benchmarks: retargeting throughput onto a 65-joint rig, and decode time of a 10 MB provider GLB. */
import { createProceduralAdapter } from '../src/adapters/procedural/index.js';
import { PROCEDURAL_SKELETON } from '../src/adapters/procedural/skeleton.js';
import { buildPlan } from '../src/protocol/plan.js';
import { decodeAnimationFile } from '../src/motion/decode.js';
import { mapHumanoid } from '../src/motion/humanoid.js';
import { retarget } from '../src/motion/retarget.js';
import { skeletonToWire } from '../src/motion/skeleton.js';
import { fixtureSkeleton } from '../test/fixtures/skeletons/index.js';
import { writeFbxStyleGlb } from '../test/fixtures/fbx-style-glb.js';
import type { Clip } from '../src/spec/motion.js';
import type { GenerateRequest } from '../src/spec/wire.js';
import type { Row } from './util.js';

async function walkClip(seconds: number, fps: number, seed = 1): Promise<Clip> {
  const adapter = createProceduralAdapter();
  const model = adapter.models()[0];
  const request: GenerateRequest = {
    protocol_version: '1.2',
    model: model.id,
    skeleton: skeletonToWire(PROCEDURAL_SKELETON) as GenerateRequest['skeleton'],
    segments: [{ type: 'text', prompt: 'walk forward', duration_frames: seconds * fps }],
    timing: { fps },
  };
  const step = await adapter.advance(buildPlan(request, model, 'procedural', seed), {}, undefined as never);
  if (step.kind !== 'done') throw new Error('procedural model did not finish');
  return step.motion.samples[0].segments[0];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function motionSuite(): Promise<Row[]> {
  const rows: Row[] = [];
  const clip = await walkClip(10, 30);
  const target = fixtureSkeleton('mixamo');
  const srcMap = mapHumanoid(PROCEDURAL_SKELETON);
  const tgtMap = mapHumanoid(target);
  retarget(PROCEDURAL_SKELETON, srcMap, clip, target, tgtMap); // warm-up
  const runs: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t0 = performance.now();
    retarget(PROCEDURAL_SKELETON, srcMap, clip, target, tgtMap);
    runs.push(performance.now() - t0);
  }
  const ms = median(runs);
  const jointFrames = clip.numFrames * target.names.length;
  rows.push({ suite: 'motion', metric: `retarget 10 s walk (${clip.numFrames} frames) onto ${target.names.length}-joint Mixamo rig`, value: `${ms.toFixed(1)} ms`, note: `${((jointFrames / ms) * 1000 / 1e6).toFixed(2)} M frame·joints/s (median of 15, feet re-planted)` });

  const long = await walkClip(20, 60);
  const glb = await writeFbxStyleGlb({
    skeleton: PROCEDURAL_SKELETON,
    clips: [0, 1, 2, 3].map((i) => ({ name: `Armature|Walk${i}|baselayer`, clip: long })),
    armature: { scale: 0.01, rotation: [-Math.SQRT1_2, 0, 0, Math.SQRT1_2] },
    endBones: true,
    mesh: { verticesPerJoint: 6000 },
  });
  await decodeAnimationFile(glb, { fps: 30 });
  const dec: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await decodeAnimationFile(glb, { fps: 30 });
    dec.push(performance.now() - t0);
  }
  rows.push({ suite: 'motion', metric: `decode a ${(glb.length / 1e6).toFixed(1)} MB FBX-style provider GLB (4 clips × 20 s at 60 fps → 30 fps)`, value: `${median(dec).toFixed(0)} ms`, note: 'median of 5' });
  return rows;
}
