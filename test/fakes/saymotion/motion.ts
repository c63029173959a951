/**
 * The simulator's "AI": simple but real motion on a DeepMotion `_JNT` rig with fingers, chosen from the
 * prompt's words (walk, run, wave, jump, dance, else an idle), different for every variant.
 */
import { allocClip } from '../../../src/motion/clip.js';
import type { Clip } from '../../../src/spec/motion.js';
import { IDENTITY, qmul, qset, qx, qy, qz, type Quat } from '../../../src/motion/quat.js';
import { skeletonFromWire } from '../../../src/motion/skeleton.js';
import type { Skeleton } from '../../../src/spec/motion.js';
import { deepmotion } from '../../fixtures/skeletons/deepmotion.js';

/** The character every simulated job animates (the fixture DeepMotion rig, 1.75 m, T-pose). */
export const DM_RIG: Skeleton = skeletonFromWire(deepmotion.joints);

type Style = 'walk' | 'run' | 'wave' | 'jump' | 'dance' | 'idle';

function styleOf(prompt: string): Style {
  const p = prompt.toLowerCase();
  if (/\b(run|runs|running|jog|sprint)/.test(p)) return 'run';
  if (/\b(walk|walks|walking|stroll|march)/.test(p)) return 'walk';
  if (/\bwav(e|es|ing)\b|\bhello\b|\bgreet/.test(p)) return 'wave';
  if (/\bjump/.test(p)) return 'jump';
  if (/\b(danc|spin|twirl)/.test(p)) return 'dance';
  return 'idle';
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0) / 4294967296;
}

/**
 * A clip of `seconds` at `fps` on DM_RIG for a prompt and a variant (1-based). Rotations are local,
 * measured from the world-aligned rest (the protocol convention the file writer expects).
 */
export function synthesize(prompt: string, seconds: number, variant: number, fps: number): Clip {
  const s = DM_RIG;
  const J = s.names.length;
  const frames = Math.max(2, Math.round(seconds * fps));
  const clip = allocClip(J, frames, fps);
  const idx = (n: string): number => s.names.indexOf(n);
  const style = styleOf(prompt);
  const amp = 1 + 0.15 * (variant - 1);
  const phase0 = 2 * Math.PI * hash(`${prompt}#${variant}`);
  const hips = [s.offsets[0], s.offsets[1], s.offsets[2]];
  const cadence = style === 'run' ? 1.4 : style === 'walk' ? 0.9 : 0.5;
  const speed = style === 'run' ? 3.0 : style === 'walk' ? 1.3 : 0;
  const down = 1.3; // arms about 75° below the T-pose
  const set = (f: number, name: string, q: Quat): void => {
    const j = idx(name);
    if (j >= 0) qset(clip.rotations, f * J + j, q);
  };
  for (let f = 0; f < frames; f++) {
    for (let j = 0; j < J; j++) qset(clip.rotations, f * J + j, IDENTITY);
    const t = f / fps;
    const ph = 2 * Math.PI * cadence * t + phase0;
    let root: [number, number, number] = [hips[0], hips[1], hips[2]];
    let yaw = 0;
    const swing = Math.sin(ph);
    const leftArm = qmul(qx(style === 'walk' || style === 'run' ? 0.35 * amp * swing : 0.05 * Math.sin(ph)), qz(-down));
    let rightArm = qmul(qx(style === 'walk' || style === 'run' ? -0.35 * amp * swing : -0.05 * Math.sin(ph)), qz(down));
    let rightFore: Quat = qy(-0.2);
    switch (style) {
      case 'walk':
      case 'run': {
        const a = (style === 'run' ? 0.6 : 0.4) * amp;
        set(f, 'l_upleg_JNT', qx(-a * swing));
        set(f, 'r_upleg_JNT', qx(a * swing));
        set(f, 'l_leg_JNT', qx(0.6 * a * Math.max(0, Math.sin(ph + 1.2)) + 0.05));
        set(f, 'r_leg_JNT', qx(0.6 * a * Math.max(0, Math.sin(ph + Math.PI + 1.2)) + 0.05));
        set(f, 'spine1_JNT', qy(0.08 * swing));
        root = [hips[0] + 0.02 * Math.sin(ph), hips[1] - 0.03 + 0.025 * Math.cos(2 * ph), hips[2] + speed * t];
        break;
      }
      case 'wave':
        rightArm = qz(-1.3);
        rightFore = qz(-0.4 + 0.45 * amp * Math.sin(2 * Math.PI * 1.8 * t + phase0));
        set(f, 'head_JNT', qy(-0.2));
        break;
      case 'jump': {
        const period = 1.4;
        const u = ((t + phase0 / 6) % period) / period;
        const air = u > 0.35 && u < 0.75 ? Math.sin(((u - 0.35) / 0.4) * Math.PI) : 0;
        const crouch = u < 0.35 ? Math.sin((u / 0.35) * Math.PI) : u > 0.75 ? Math.sin(((u - 0.75) / 0.25) * Math.PI) : 0;
        set(f, 'l_upleg_JNT', qx(-0.7 * crouch));
        set(f, 'r_upleg_JNT', qx(-0.7 * crouch));
        set(f, 'l_leg_JNT', qx(1.2 * crouch));
        set(f, 'r_leg_JNT', qx(1.2 * crouch));
        root = [hips[0], hips[1] - 0.18 * crouch + 0.45 * amp * air, hips[2]];
        break;
      }
      case 'dance':
        yaw = 0.8 * amp * t;
        set(f, 'spine_JNT', qz(0.12 * Math.sin(ph * 2)));
        rightArm = qmul(qx(0.6 * Math.sin(ph * 2)), qz(0.4));
        root = [hips[0] + 0.05 * Math.sin(ph * 2), hips[1] - 0.04 * Math.abs(Math.sin(ph * 2)), hips[2]];
        break;
      case 'idle':
        set(f, 'spine1_JNT', qx(0.03 * Math.sin(ph)));
        set(f, 'head_JNT', qy(0.15 * amp * Math.sin(ph * 0.5)));
        root = [hips[0] + 0.01 * Math.sin(ph * 0.5), hips[1], hips[2]];
        break;
    }
    set(f, 'hips_JNT', qy(yaw));
    set(f, 'l_arm_JNT', leftArm);
    set(f, 'r_arm_JNT', rightArm);
    set(f, 'l_forearm_JNT', qy(0.2));
    set(f, 'r_forearm_JNT', rightFore);
    // Fingers curl and relax a little: the rig has them, so the motion uses them.
    const curl = 0.25 + 0.2 * Math.sin(ph * 0.7);
    for (const side of ['l', 'r'] as const) {
      const sign = side === 'l' ? -1 : 1;
      for (const finger of ['Index', 'Middle', 'Ring', 'Pinky']) {
        for (let k = 1; k <= 3; k++) set(f, `${side}_hand${finger}${k}_JNT`, qz(sign * curl * (k === 1 ? 0.6 : 1)));
      }
      set(f, `${side}_handThumb1_JNT`, qy(sign * 0.2 * curl));
    }
    clip.rootPositions.set(root, f * 3);
  }
  return clip;
}
