/**
 * The procedural model's poses: what a `pose` segment (one frame from a prompt) answers. A pose that
 * stands is a static BodyPose rendered through standing() on flat resting feet with no standing life
 * (no breathing, no weight shift: one frame has no time). A pose the body has to get into over the
 * floor (sitting on a chair, kneeling, crouching, lying down) is the held end of the motion that gets
 * there: that motion is generated over a few seconds and its last frame, where it holds still, is the
 * pose — so it has exactly the motion's planted feet, hinged knees and floor contact.
 */
import { allocClip } from '../../../motion/clip.js';
import { qz, type Vec3 } from '../../../motion/quat.js';
import { DEG } from '../curves.js';
import type { Generated, MotionInput, MotionGenerator } from '../generator.js';
import { HANGING, type ArmPose, type BodyPose } from '../pose.js';
import type { PoseId } from '../prompt.js';
import { crouch, sitDown } from './lowering.js';
import { kneel, lieDown } from './ground.js';
import { standing } from './standing.js';

export interface PoseEntry {
  /** One frame of the pose at `fps`, its variation drawn from `rng`. */
  generate(input: Pick<MotionInput, 'fps' | 'rng'>): Generated;
  description: string;
}

/** Both arms the same (each described for its own side, so the body is symmetric). */
const both = (a: ArmPose): [ArmPose, ArmPose] => [a, a];
/** Arm `side` (0 left, 1 right) set to `a`, the other hanging. */
const oneArm = (side: 0 | 1, a: ArmPose): [ArmPose, ArmPose] => (side === 0 ? [a, HANGING] : [HANGING, a]);

/** A standing pose: `shape` sets the body once, rendered as one still frame on the resting feet. */
function still(shape: (body: BodyPose) => void, info: Record<string, string | number> = {}): PoseEntry['generate'] {
  return ({ fps, rng }) => standing({ frames: 1, fps, rng, mods: {} }, { pose: (_t, body) => shape(body), life: () => 0, info });
}

/**
 * The last frame of `motion` generated over `seconds`: the pose it holds once it got there. The clip is
 * copied into a one-frame clip (root, rotations and the four foot-contact flags of that frame).
 */
function heldEnd(motion: MotionGenerator, seconds: number, mods: MotionInput['mods'] = {}): PoseEntry['generate'] {
  return ({ fps, rng }) => {
    const frames = Math.max(2, Math.round(seconds * fps) + 1);
    const g = motion({ frames, fps, rng, mods });
    const src = g.clip;
    const last = src.numFrames - 1;
    const J = src.jointCount;
    const clip = allocClip(J, 1, fps);
    clip.rotations.set(src.rotations.subarray(last * J * 4, (last + 1) * J * 4));
    clip.rootPositions.set(src.rootPositions.subarray(last * 3, last * 3 + 3));
    const contacts = g.contacts.slice(last * 4, last * 4 + 4);
    return { clip, contacts, info: { ...g.info, from_motion_seconds: seconds } };
  };
}

/** Hand targets in the chest frame (x outward from the midline, y up, z forward), as ArmPose.reach takes them. */
const reach = (hand: Vec3, pole: Vec3, extra: Partial<ArmPose> = {}): ArmPose => ({ ...HANGING, ...extra, reach: { hand, pole, w: 1 } });

export const POSES: Record<PoseId, PoseEntry> = {
  t_pose: {
    description: 'the T-pose: arms straight out to the sides, horizontal, palms down',
    generate: still((b) => { b.arms = both({ flex: 0, out: 90 * DEG, elbow: 0 }); }),
  },
  a_pose: {
    description: 'the A-pose: arms straight, 45° down from horizontal',
    generate: still((b) => { b.arms = both({ flex: 0, out: 45 * DEG, elbow: 0 }); }),
  },
  standing: {
    description: 'standing relaxed, arms hanging with soft elbows (the answer to an unrecognized pose prompt)',
    generate: still((b) => { b.arms = both({ flex: 2 * DEG, out: 6 * DEG, elbow: 12 * DEG }); }),
  },
  arms_raised: {
    description: 'both arms raised straight overhead in a slight V, the head tipped up a little',
    generate: still((b) => {
      b.arms = both({ flex: 8 * DEG, out: 162 * DEG, elbow: 6 * DEG });
      b.head = [-6 * DEG, 0, 0];
    }),
  },
  pointing: {
    description: 'pointing straight ahead with the right arm at shoulder height, looking along it',
    generate: still((b) => {
      b.arms = oneArm(1, reach([0.1, 0.16, 0.56], [1, -1, -0.5]));
      b.spine = [0, -8 * DEG, 0];
      b.head = [-2 * DEG, 5 * DEG, 0];
    }, { hand: 'right' }),
  },
  hands_on_hips: {
    description: 'hands on the hips, elbows out to the sides',
    generate: still((b) => { b.arms = both(reach([0.21, -0.3, -0.01], [1, 0.1, -0.5], { out: 8 * DEG, elbow: 12 * DEG })); }),
  },
  arms_crossed: {
    // The forearms are stacked, the right one 13 cm higher and 11 cm further forward (their centre lines 12 cm apart), so they never intersect; the lower one clears the chest.
    description: 'arms crossed over the chest, the right forearm over the left, each hand at the other upper arm',
    generate: still((b) => {
      b.arms = [
        reach([-0.16, -0.17, 0.16], [1, -0.4, 0.1], { elbow: 90 * DEG }),
        reach([-0.16, -0.04, 0.27], [1, -0.4, 0.1], { elbow: 90 * DEG }),
      ];
    }),
  },
  waving: {
    description: 'the right hand raised beside the head, palm forward, as at the top of a wave',
    generate: still((b) => {
      b.arms = oneArm(1, reach([0.36, 0.4, 0.12], [1, -1, -0.3]));
      b.spine = [0, 0, 3 * DEG];
      b.head = [-4 * DEG, 0, -4 * DEG];
    }, { hand: 'right' }),
  },
  saluting: {
    description: 'a military salute: the right hand at the brow, elbow out, standing straight',
    generate: still((b) => {
      b.arms = oneArm(1, reach([0.1, 0.4, 0.14], [1, 0.2, -0.2], { wrist: qz(0.3) }));
      b.spine = [-3 * DEG, 0, 0];
      b.head = [-4 * DEG, 0, 0];
    }, { hand: 'right' }),
  },
  hands_behind_back: {
    description: 'standing at ease with the hands clasped behind the back',
    generate: still((b) => { b.arms = both(reach([0.06, -0.38, -0.2], [1, 0, 0.2], { flex: -4 * DEG, elbow: 20 * DEG })); }),
  },
  hands_clasped: {
    description: 'standing with the hands clasped in front of the body',
    generate: still((b) => { b.arms = both(reach([0.045, -0.42, 0.16], [1, 0, -0.3], { flex: 4 * DEG, elbow: 20 * DEG })); }),
  },
  sitting: {
    description: 'sitting on a chair-height seat (0.50–0.56 m), feet flat, hands on the thighs (the held end of sit_down)',
    generate: heldEnd(sitDown, 3),
  },
  kneeling: {
    description: 'down on one knee, the other foot stepped ahead (the held end of kneel)',
    generate: heldEnd(kneel, 3.5),
  },
  crouching: {
    description: 'crouching low on both feet (the held end of crouch)',
    generate: heldEnd(crouch, 2.5),
  },
  lying_down: {
    description: 'lying on the back on the floor, knees a little raised, heels down (the held end of lie_down)',
    generate: heldEnd(lieDown, 6),
  },
};
