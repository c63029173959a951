/** Seamless cycles: the last frame's rotations equal the first's, the root keeps its travel. */
import type { Clip } from '../spec/motion.js';
import { qdot, qget, qinv, qmul, qnormalize, qset, qslerp, type Quat } from './quat.js';
import type { Skeleton } from '../spec/motion.js';

/**
 * Makes `clip` a seamless cycle: each joint's mismatch between the last and the first frame is spread
 * evenly over the clip (a slerp from identity growing linearly with the frame), so the last frame's
 * rotations equal the first's and no frame changes more than the mismatch / (frames − 1) extra. The
 * root's height is corrected the same way; its XZ displacement (one cycle's travel) is kept, so the
 * cycle can be repeated end to end.
 */
export function makeLoop(skeleton: Skeleton, clip: Clip): Clip {
  const F = clip.numFrames;
  const J = clip.jointCount;
  const out: Clip = { ...clip, rotations: clip.rotations.slice(), rootPositions: clip.rootPositions.slice() };
  if (F < 2 || J !== skeleton.names.length) return out;
  const last = F - 1;
  for (let j = 0; j < J; j++) {
    const q0 = qget(clip.rotations, j);
    const qn = qget(clip.rotations, last * J + j);
    const delta = qnormalize(qmul(q0, qinv(qn)));
    for (let f = 1; f < F; f++) {
      const a = f / last;
      const orig = qget(clip.rotations, f * J + j);
      let q: Quat = qnormalize(qmul(qslerp([0, 0, 0, 1], delta, a), orig));
      if (f === last) q = q0;
      if (qdot(q, orig) < 0) q = [-q[0], -q[1], -q[2], -q[3]];
      qset(out.rotations, f * J + j, q);
    }
  }
  const dy = clip.rootPositions[1] - clip.rootPositions[last * 3 + 1];
  for (let f = 1; f < F; f++) out.rootPositions[f * 3 + 1] += dy * (f / last);
  return out;
}
