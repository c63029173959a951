/** The DeepMotion character rig (`_JNT` joints, five three-joint fingers per hand) as this model's canonical skeleton. */
import type { Skeleton as WireSkeleton } from '../../spec/wire.js';
import { skeletonFromWire } from '../../motion/skeleton.js';
import type { Skeleton } from '../../spec/motion.js';

type Vec3 = [number, number, number];

/** Joints whose contacts the gateway predicts: DeepMotion feet and toes. */
export const CONTACT_JOINTS = ['l_foot_JNT', 'l_toebase_JNT', 'r_foot_JNT', 'r_toebase_JNT'] as const;

const FINGERS = ['Index', 'Middle', 'Ring', 'Pinky', 'Thumb'] as const;

/**
 * World rest positions of a 1.75 m DeepMotion stock character in T-pose, facing +Z, left side at +X,
 * toes on y = 0. Names and hierarchy are what the pipeline relies on; the offsets are typical
 * proportions (the configured character may be taller or shorter: the decoded file's own rig is what
 * the motion is delivered on).
 */
function rows(): Array<[string, string | null, Vec3]> {
  const out: Array<[string, string | null, Vec3]> = [
    ['hips_JNT', null, [0, 0.95, 0]],
    ['spine_JNT', 'hips_JNT', [0, 1.0, 0.005]],
    ['spine1_JNT', 'spine_JNT', [0, 1.14, -0.005]],
    ['spine2_JNT', 'spine1_JNT', [0, 1.28, -0.02]],
    ['neck_JNT', 'spine2_JNT', [0, 1.46, -0.03]],
    ['head_JNT', 'neck_JNT', [0, 1.56, 0]],
  ];
  for (const s of [1, -1] as const) {
    const p = s > 0 ? 'l' : 'r';
    const x = (v: number): number => s * v;
    out.push(
      [`${p}_shoulder_JNT`, 'spine2_JNT', [x(0.035), 1.38, 0]],
      [`${p}_arm_JNT`, `${p}_shoulder_JNT`, [x(0.17), 1.4, -0.02]],
      [`${p}_forearm_JNT`, `${p}_arm_JNT`, [x(0.45), 1.4, -0.03]],
      [`${p}_hand_JNT`, `${p}_forearm_JNT`, [x(0.7), 1.4, -0.02]],
    );
    const spread: Record<(typeof FINGERS)[number], number> = { Index: 0.03, Middle: 0.01, Ring: -0.01, Pinky: -0.03, Thumb: 0.05 };
    for (const f of FINGERS) {
      let parent = `${p}_hand_JNT`;
      for (let i = 1; i <= 3; i++) {
        const name = `${p}_hand${f}${i}_JNT`;
        const along = f === 'Thumb' ? 0.73 + 0.025 * i : (f === 'Pinky' ? 0.77 : 0.785) + 0.03 * i;
        out.push([name, parent, [x(along), f === 'Thumb' ? 1.39 - 0.005 * i : 1.4, spread[f] + (f === 'Thumb' ? 0.015 * i : 0)]]);
        parent = name;
      }
    }
    out.push(
      [`${p}_upleg_JNT`, 'hips_JNT', [x(0.09), 0.9, 0]],
      [`${p}_leg_JNT`, `${p}_upleg_JNT`, [x(0.095), 0.5, 0.015]],
      [`${p}_foot_JNT`, `${p}_leg_JNT`, [x(0.1), 0.08, -0.03]],
      [`${p}_toebase_JNT`, `${p}_foot_JNT`, [x(0.11), 0, 0.1]],
    );
  }
  return out;
}

function round6(v: number): number {
  return Math.round(v * 1e6) / 1e6 + 0;
}

/** The canonical skeleton in wire form (identity rest rotations, parents first). */
export function deepMotionSkeletonWire(): WireSkeleton {
  const world = new Map<string, Vec3>();
  const joints = rows().map(([name, parent, p]) => {
    world.set(name, p);
    const base = parent === null ? [0, 0, 0] : world.get(parent)!;
    return {
      name,
      parent,
      rest_translation: [round6(p[0] - base[0]), round6(p[1] - base[1]), round6(p[2] - base[2])],
      rest_rotation: [0, 0, 0, 1],
    };
  });
  return { joints: joints as WireSkeleton['joints'], coordinate_system: 'right_handed_y_up', units: 'meters' };
}

/** The canonical skeleton as the motion pipeline's Skeleton. */
export const DEEPMOTION_SKELETON: Skeleton = skeletonFromWire(deepMotionSkeletonWire().joints);
