/** Constraints, loops and trajectories through HTTP on a caller's own rig: residuals reported and small, answers valid. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAnimationFile } from '../../src/motion/decode.js';
import { parseGlb } from '../../src/motion/gltf.js';
import { qangle, qget } from '../../src/motion/quat.js';
import { FIXTURE_RIGS } from '../fixtures/skeletons/index.js';
import { postGenerate, startGateway, type Running } from '../helpers/gateway.js';
import { validateGltf } from '../helpers/gltf-validate.js';

let g: Running;
beforeAll(async () => {
  g = await startGateway();
});
afterAll(() => g.close());

const rig = FIXTURE_RIGS.mixamo;

async function generate(body: Record<string, unknown>) {
  const res = await postGenerate(g.url, { protocol_version: '1.2', model: 'procedural', skeleton: rig, ...body }, { accept: 'model/gltf-binary' });
  expect(res.status).toBe(200);
  const glb = new Uint8Array(await res.arrayBuffer());
  expect((await validateGltf(glb, 'glb')).errors).toEqual([]);
  return { glb, motion: (parseGlb(glb).json as any).extensions.MMCP_motion };
}

describe('constraints as post-processing', () => {
  it('follows a root path and reports small residuals', async () => {
    const { motion } = await generate({
      segments: [{ type: 'text', prompt: 'walk', duration_frames: 90 }],
      constraints: [{ type: 'root_path', frames: [0, 45, 89], positions_xz: [[0, 0], [0.3, 1.4], [0.8, 2.6]] }],
    });
    const [r] = motion.samples[0].x_constraint_residuals;
    expect(r).toMatchObject({ constraint: 0, type: 'root_path' });
    expect(r.max_position_error_m).toBeLessThan(0.02);
  });

  it('reaches a hand target and holds a keyframe pose', async () => {
    const { motion } = await generate({
      segments: [{ type: 'text', prompt: 'stand', duration_frames: 60 }],
      constraints: [
        { type: 'effector_target', joint: 'mixamorig:RightHand', frames: [30], positions: [[-0.35, 1.45, 0.3]] },
        { type: 'pose_keyframe', frame: 10, joint_rotations: { 'mixamorig:Head': [0, 0.258819, 0, 0.965926] } },
      ],
    });
    const [hand, pose] = motion.samples[0].x_constraint_residuals;
    expect(hand.type).toBe('effector_target');
    expect(hand.max_position_error_m).toBeLessThan(0.02);
    expect(pose.type).toBe('pose_keyframe');
    expect(pose.max_rotation_error_deg).toBeLessThan(2);
  });

  it('reports an unreachable target honestly instead of failing', async () => {
    const { motion } = await generate({
      segments: [{ type: 'text', prompt: 'stand', duration_frames: 30 }],
      constraints: [{ type: 'effector_target', joint: 'mixamorig:LeftHand', frames: [15], positions: [[3, 3, 3]] }],
    });
    expect(motion.samples[0].x_constraint_residuals[0].max_position_error_m).toBeGreaterThan(1);
  });
});

describe('loops and trajectories', () => {
  it('closes a loop: the last frame equals the first', async () => {
    const { glb, motion } = await generate({ segments: [{ type: 'text', prompt: 'walk', duration_frames: 64 }], options: { loop: true } });
    expect(motion.samples[0].trajectory.loop).toBe(true);
    const { clips } = await decodeAnimationFile(glb, { fps: 30 });
    const clip = clips[0].clip;
    const J = clip.jointCount;
    let worst = 0;
    for (let j = 1; j < J; j++) worst = Math.max(worst, qangle(qget(clip.rotations, j), qget(clip.rotations, (clip.numFrames - 1) * J + j)));
    expect((worst * 180) / Math.PI).toBeLessThan(1.5);
  });

  it('fits the travel of a walk as a line with a plausible speed', async () => {
    const { motion } = await generate({ segments: [{ type: 'text', prompt: 'walk forward', duration_frames: 120 }] });
    const t = motion.samples[0].trajectory;
    expect(t.model).toBe('line');
    expect(t.params.speed).toBeGreaterThan(0.8);
    expect(t.params.speed).toBeLessThan(1.8);
    expect(t.position).toHaveLength(120);
  });
});
