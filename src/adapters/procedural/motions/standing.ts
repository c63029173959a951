/**
 * Motions on planted feet: a shared frame loop that adds the small life of a standing body (breathing,
 * a slow weight shift, a drifting gaze) under whatever the motion does, plus the idle itself.
 */
import { allocClip } from '../../../motion/clip.js';
import { footModel, footPointAt } from '../../../motion/foot.js';
import { mapHumanoid } from '../../../motion/humanoid.js';
import { solveTwoBone } from '../../../motion/ik.js';
import { KNEE } from '../../../motion/limits.js';
import type { Vec3 } from '../../../motion/quat.js';
import { forwardKinematics } from '../../../motion/skeleton.js';
import type { Clip } from '../../../spec/motion.js';
import { DEG, smooth } from '../curves.js';
import { flatFoot, type FootPose } from '../feet.js';
import type { Generated, MotionInput } from '../generator.js';
import { finishClip, renderFrame, standingBody, type ArmPose, type BodyPose } from '../pose.js';
import { between, pick, type Rng } from '../random.js';
import { JOINT_COUNT, LEG, PROCEDURAL_SKELETON, REST } from '../rig.js';
import { applyPosture, styleOf, type Style } from '../style.js';

export interface StandingSpec {
  /** Shapes the body at time t (seconds); it arrives as the neutral standing pose. */
  pose(t: number, body: BodyPose): void;
  /** Where the feet are at time t; default both flat where they stand at rest. */
  feet?(t: number): readonly [FootPose, FootPose];
  /** How much standing life (breathing, weight shift, gaze) to add at time t, 0..1; default 1. */
  life?(t: number): number;
  info?: Record<string, number | string | boolean>;
  /**
   * Keep the whole body on or above the floor: after each frame is posed, the body is raised by however
   * far its lowest sole point (heel, ball, toe tip) or joint sinks below `floor` metres (for motions
   * that roll, lie or turn over, where no foot plan bounds the body).
   */
  floor?: number;
  /**
   * World directions the knees point at time t (null: the default, forward). For bodies lying or
   * kneeling, where "forward" does not tell the knee which way to bend.
   */
  kneePoles?(t: number): readonly [Vec3 | null, Vec3 | null];
}

const FOOT_MODEL = footModel(PROCEDURAL_SKELETON, mapHumanoid(PROCEDURAL_SKELETON));
const fkPos = new Float64Array(JOINT_COUNT * 3);
const fkRot = new Float64Array(JOINT_COUNT * 4);
const solePoint = new Float64Array(3);

/** Lowest height of any joint or sole point of frame f (forward kinematics of that frame alone). */
function lowestPoint(clip: Clip, f: number): number {
  forwardKinematics(PROCEDURAL_SKELETON, clip.rotations, clip.rootPositions.subarray(f * 3, f * 3 + 3), fkPos, fkRot, f * JOINT_COUNT);
  let low = Infinity;
  for (let j = 0; j < JOINT_COUNT; j++) low = Math.min(low, fkPos[j * 3 + 1]);
  for (const side of FOOT_MODEL.sides) {
    for (const p of side) {
      footPointAt(p, JOINT_COUNT, fkPos, fkRot, 0, solePoint);
      low = Math.min(low, solePoint[1]);
    }
  }
  return low;
}

/** The small motions of a body standing still, drawn once per sample. */
interface Life {
  breathPeriod: number;
  shiftPeriod: number;
  shiftAmp: number;
  shiftPhase: number;
  gazePeriod: number;
  gazeAmp: number;
  gazePhase: number;
}

function drawLife(rng: Rng): Life {
  return {
    breathPeriod: between(rng, 3.4, 4.8),
    shiftPeriod: between(rng, 4.5, 8),
    shiftAmp: between(rng, 0.012, 0.03),
    shiftPhase: between(rng, 0, 2 * Math.PI),
    gazePeriod: between(rng, 5, 9),
    gazeAmp: between(rng, 2, 6) * DEG,
    gazePhase: between(rng, 0, 2 * Math.PI),
  };
}

/** Adds breathing, weight shift and gaze drift to a body, scaled by `k`. */
function addLife(body: BodyPose, life: Life, t: number, k: number): void {
  if (k <= 0) return;
  const breath = Math.sin((2 * Math.PI * t) / life.breathPeriod);
  // The shift starts from zero so frame 0 is the rest stance.
  const shift = life.shiftAmp * (Math.sin((2 * Math.PI * t) / life.shiftPeriod + life.shiftPhase) - Math.sin(life.shiftPhase)) * k;
  const gaze = life.gazeAmp * (Math.sin((2 * Math.PI * t) / life.gazePeriod + life.gazePhase) - Math.sin(life.gazePhase)) * k;
  body.root = [body.root[0] + shift, body.root[1] - 3 * shift * shift, body.root[2]];
  // The loaded hip rises: weight toward +X tilts the pelvis toward −X.
  body.pelvis = [body.pelvis[0], body.pelvis[1], body.pelvis[2] - shift * 1.2];
  body.spine = [body.spine[0] - 0.8 * DEG * breath * k, body.spine[1], body.spine[2] + shift * 1.6];
  body.head = [body.head[0] + 0.3 * gaze, body.head[1] + gaze, body.head[2]];
  const shrug = 1.2 * DEG * breath * k;
  body.arms = [{ ...body.arms[0], shrug: (body.arms[0].shrug ?? 0) + shrug }, { ...body.arms[1], shrug: (body.arms[1].shrug ?? 0) + shrug }];
}

const RESTING_FEET: readonly [FootPose, FootPose] = [flatFoot(REST.footWidth, 0, 0), flatFoot(-REST.footWidth, 0, 0)];

/** Generates a motion on planted (or custom) feet. */
export function standing(input: MotionInput, spec: StandingSpec, style: Style = styleOf(input.mods)): Generated {
  const { frames, fps, rng } = input;
  const life = drawLife(rng);
  const clip = allocClip(JOINT_COUNT, frames, fps);
  const contacts = new Uint8Array(frames * 4);
  for (let f = 0; f < frames; f++) {
    const t = f / fps;
    const body = standingBody();
    spec.pose(t, body);
    addLife(body, life, t, spec.life ? spec.life(t) : 1);
    applyPosture(body, style);
    const feet = spec.feet ? spec.feet(t) : RESTING_FEET;
    renderFrame(clip, f, body, feet, contacts);
    if (spec.kneePoles) {
      const poles = spec.kneePoles(t);
      for (let side = 0; side < 2; side++) {
        const pole = poles[side];
        if (!pole) continue;
        solveTwoBone(PROCEDURAL_SKELETON, clip.rotations, f * JOINT_COUNT, clip.rootPositions.subarray(f * 3, f * 3 + 3), LEG[side], feet[side].ankle, { poleHint: pole, endWorldRotation: feet[side].rot, hinge: KNEE });
      }
    }
    if (spec.floor !== undefined) {
      const low = lowestPoint(clip, f);
      if (low < spec.floor) clip.rootPositions[f * 3 + 1] += spec.floor - low;
    }
  }
  finishClip(clip);
  return { clip, contacts, info: { ...spec.info } };
}

/** Seconds covered by a clip of `frames` frames. */
export const durationOf = (input: MotionInput): number => Math.max(0, (input.frames - 1) / input.fps);

/**
 * Arm poses of the idle variants. Hands that meet stay a hand's width apart and the elbows point away
 * from the body, so no forearm passes through the other or through the trunk.
 */
const IDLE_ARMS: Record<string, readonly [ArmPose, ArmPose]> = {
  relaxed: [
    { flex: 2 * DEG, out: 6 * DEG, elbow: 12 * DEG },
    { flex: 2 * DEG, out: 6 * DEG, elbow: 12 * DEG },
  ],
  hands_on_hips: [
    { flex: 2 * DEG, out: 8 * DEG, elbow: 12 * DEG, reach: { hand: [0.21, -0.3, -0.01], pole: [1, 0.1, -0.5], w: 1 } },
    { flex: 2 * DEG, out: 8 * DEG, elbow: 12 * DEG, reach: { hand: [0.21, -0.3, -0.01], pole: [1, 0.1, -0.5], w: 1 } },
  ],
  hands_clasped_front: [
    { flex: 4 * DEG, out: 6 * DEG, elbow: 20 * DEG, reach: { hand: [0.045, -0.42, 0.16], pole: [1, 0, -0.3], w: 1 } },
    { flex: 4 * DEG, out: 6 * DEG, elbow: 20 * DEG, reach: { hand: [0.045, -0.42, 0.16], pole: [1, 0, -0.3], w: 1 } },
  ],
  hands_behind_back: [
    { flex: -4 * DEG, out: 6 * DEG, elbow: 20 * DEG, reach: { hand: [0.06, -0.38, -0.2], pole: [1, 0, 0.2], w: 1 } },
    { flex: -4 * DEG, out: 6 * DEG, elbow: 20 * DEG, reach: { hand: [0.06, -0.38, -0.2], pole: [1, 0, 0.2], w: 1 } },
  ],
};

/** Standing still with natural breathing and weight shift; the answer to unconditioned segments and (as a neutral variant) to unknown prompts. */
export function idle(input: MotionInput): Generated {
  const variant = pick(input.rng, ['relaxed', 'relaxed', 'hands_on_hips', 'hands_clasped_front', 'hands_behind_back'] as const);
  const arms = IDLE_ARMS[variant];
  return standing(input, {
    pose(t, body) {
      // Arms settle into the variant over the first second, from wherever the previous motion left them.
      const w = smooth(t / 0.9);
      body.arms = arms.map((a) => (a.reach ? { ...a, reach: { ...a.reach, w: a.reach.w * w } } : a)) as unknown as [ArmPose, ArmPose];
    },
    info: { variant },
  });
}
