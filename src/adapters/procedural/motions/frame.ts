/**
 * Where things are in a body pose before it is rendered: the pelvis rotation, a point of the pelvis
 * frame in the world, and a world point in the chest frame that `ArmPose.reach` uses (so a hand can be
 * planted on the floor, a rung or a box while the body moves).
 */
import { qinv, qmul, qrotate, qslerp, qx, qy, qz, type Quat, type Vec3 } from '../../../motion/quat.js';
import { vget } from '../../../motion/quat.js';
import type { FootPose } from '../feet.js';
import type { Bend, BodyPose } from '../pose.js';
import { JOINT, PROCEDURAL_SKELETON, REST } from '../rig.js';

/** The rotation renderFrame gives a bend (yaw, then pitch, then roll). */
function bendQ(b: Bend): Quat {
  return qmul(qy(b[1]), qmul(qx(b[0]), qz(-b[2])));
}

/** World rotation of the hips. */
export const pelvisRotation = (body: BodyPose): Quat => qmul(qy(body.heading), bendQ(body.pelvis));

/** A point given in the pelvis frame, in the world. */
export function pelvisPoint(body: BodyPose, local: Vec3): Vec3 {
  const d = qrotate(pelvisRotation(body), local);
  return [body.root[0] + d[0], body.root[1] + d[1], body.root[2] + d[2]];
}

const SPINE_OFFSETS = [JOINT.Spine, JOINT.Spine1, JOINT.Spine2].map((j) => vget(PROCEDURAL_SKELETON.offsets, j));
const SHARES = [0.3, 0.65, 1] as const;

/** World position and rotation of the chest (Spine2), as renderFrame will pose it (root height as given). */
export function chestOf(body: BodyPose): { pos: Vec3; rot: Quat } {
  const r0 = pelvisRotation(body);
  const spine = bendQ(body.spine);
  const pos: Vec3 = [body.root[0], body.root[1], body.root[2]];
  let rot = r0;
  for (let i = 0; i < 3; i++) {
    const d = qrotate(rot, SPINE_OFFSETS[i]);
    pos[0] += d[0];
    pos[1] += d[1];
    pos[2] += d[2];
    rot = qmul(r0, qslerp([0, 0, 0, 1], spine, SHARES[i]));
  }
  return { pos, rot };
}

/** A world point as an `ArmPose.reach` hand target of arm `side` (the right arm's x is mirrored). */
export function handTarget(body: BodyPose, side: 0 | 1, world: Vec3): Vec3 {
  const c = chestOf(body);
  const l = qrotate(qinv(c.rot), [world[0] - c.pos[0], world[1] - c.pos[1], world[2] - c.pos[2]]);
  return side === 0 ? l : [-l[0], l[1], l[2]];
}

/** A direction given in the pelvis frame, in the world. */
export const pelvisDir = (body: BodyPose, local: Vec3): Vec3 => qrotate(pelvisRotation(body), local);

/**
 * A foot standing (x, z is its flat ankle place, yaw 0) rolled up onto its toes by `pitch`: the foot turns
 * about the ball (the toe joint), which stays where it was, and the toes stay flat on the floor.
 */
export function onToes(x: number, z: number, pitch: number): FootPose {
  const [, ty, tz] = REST.toeOffset;
  const c = Math.cos(pitch);
  const s = Math.sin(pitch);
  // Toe joint of the flat foot, minus the rolled ankle→toe offset (qx(pitch) applied to it).
  const ankle: Vec3 = [x, REST.ankleHeight + ty - (ty * c - tz * s), z + tz - (ty * s + tz * c)];
  return { ankle, rot: qx(pitch), toeLocal: qx(-pitch), heel: pitch < 1e-4, toe: true };
}
