/** The skeleton Meshy's auto-rigger gives a humanoid, as this model's canonical skeleton (wire form). */
import type { Skeleton as WireSkeleton } from '../../spec/wire.js';

type Row = [name: string, parent: string | null, x: number, y: number, z: number];

/**
 * A 1.7 m Meshy-rigged character standing on y = 0, facing +Z, arms about 10° below horizontal. The
 * joint order is the one a Meshy GLB decodes to (legs first, then the spine numbered downward, arms,
 * neck and head with its two leaf joints); names and hierarchy are what matter to the pipeline, the
 * offsets are typical proportions (the character actually rigged may be taller or shorter).
 */
const ROWS: Row[] = [
  ['Hips', null, 0, 0.9, 0],
  ['LeftUpLeg', 'Hips', 0.087, -0.049, 0],
  ['LeftLeg', 'LeftUpLeg', 0.005, -0.401, 0.015],
  ['LeftFoot', 'LeftLeg', 0.005, -0.387, -0.044],
  ['LeftToeBase', 'LeftFoot', 0.01, -0.063, 0.126],
  ['RightUpLeg', 'Hips', -0.087, -0.049, 0],
  ['RightLeg', 'RightUpLeg', -0.005, -0.401, 0.015],
  ['RightFoot', 'RightLeg', -0.005, -0.387, -0.044],
  ['RightToeBase', 'RightFoot', -0.01, -0.063, 0.126],
  ['Spine02', 'Hips', 0, 0.049, 0.005],
  ['Spine01', 'Spine02', 0, 0.151, -0.036],
  ['Spine', 'Spine01', 0, 0.151, 0.012],
  ['LeftShoulder', 'Spine', 0.034, 0.068, 0.029],
  ['LeftArm', 'LeftShoulder', 0.131, 0.019, -0.029],
  ['LeftForeArm', 'LeftArm', 0.266, -0.047, -0.01],
  ['LeftHand', 'LeftForeArm', 0.236, -0.042, 0.01],
  ['RightShoulder', 'Spine', -0.034, 0.068, 0.029],
  ['RightArm', 'RightShoulder', -0.131, 0.019, -0.029],
  ['RightForeArm', 'RightArm', -0.266, -0.047, -0.01],
  ['RightHand', 'RightForeArm', -0.236, -0.042, 0.01],
  ['neck', 'Spine', 0, 0.136, -0.01],
  ['Head', 'neck', 0, 0.097, 0.029],
  ['head_end', 'Head', 0, 0.199, 0.01],
  ['headfront', 'Head', 0, 0.09, 0.1],
];

export const MESHY_RIG: WireSkeleton = {
  joints: ROWS.map(([name, parent, x, y, z]) => ({ name, parent, rest_translation: [x, y, z], rest_rotation: [0, 0, 0, 1] })) as WireSkeleton['joints'],
  coordinate_system: 'right_handed_y_up',
  units: 'meters',
};

/** The joints whose ground contact is reported. */
export const MESHY_CONTACT_JOINTS = ['LeftFoot', 'LeftToeBase', 'RightFoot', 'RightToeBase'];
