/**
 * The motion-quality bounds of issue 10, enforced over the procedural vocabulary on the canonical
 * skeleton and every fixture rig, post-processing on and off (answers made as the gateway makes them,
 * measured by FK of the decoded GLB), and the metrics themselves on synthetic clips.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { PROCEDURAL_SKELETON } from '../../src/adapters/procedural/rig.js';
import { restClip } from '../../src/motion/clip.js';
import { mapHumanoid } from '../../src/motion/humanoid.js';
import { qaxisAngle, qmul, qset, qx, qz } from '../../src/motion/quat.js';
import {
  BODY_LOWEST_BOUND, DRIFT_BOUND, IK_GAP_BOUND, LOWEST_BOUND, OFF_HINGE_BOUND, ROOT_FLOOR_BOUND, SEAM_DECEL_BOUND, measureClip, motionClassOf, qualityViolations, type QualityMetric, type Violation,
} from '../../src/motion/quality.js';
import { restPositions } from '../../src/motion/skeleton.js';
import type { Clip } from '../../src/spec/motion.js';
import { FIXTURE_NAMES } from '../fixtures/skeletons/index.js';
import {
  MODIFIER_PROMPTS, SEAM_SEGMENTS, caseLabel, measureCase, qualityMotions, type QualityCase,
} from '../helpers/answer-quality.js';

const DEG = Math.PI / 180;
const S = PROCEDURAL_SKELETON;
const map = mapHumanoid(S);
const J = S.names.length;

/** A rest clip of the canonical skeleton with `set(clip, frame)` applied to every frame. */
function synthetic(frames: number, fps: number, set: (c: Clip, f: number) => void): Clip {
  const c = restClip(S, frames, fps);
  for (let f = 0; f < frames; f++) set(c, f);
  return c;
}
const setLocal = (c: Clip, f: number, j: number, q: ArrayLike<number>): void => qset(c.rotations, f * J + j, q);

describe('quality metrics on synthetic clips', () => {
  it('a knee bent 30° sideways measures 30° off its hinge, bent on its hinge 0°, and a straight knee has no plane', () => {
    const sideways = measureClip(S, map, synthetic(10, 30, (c, f) => setLocal(c, f, map.left.lowerLeg, qz(30 * DEG))));
    expect(sideways.knee.offHinge).toBeCloseTo(30, 0);
    expect(sideways.knee.side).toBe('left');
    // Flexed 50° and then turned 30° sideways: still 30° off the hinge.
    const flexedSideways = measureClip(S, map, synthetic(10, 30, (c, f) => setLocal(c, f, map.right.lowerLeg, qmul(qz(-30 * DEG), qx(50 * DEG)))));
    expect(flexedSideways.knee.offHinge).toBeCloseTo(30, 0);
    expect(flexedSideways.knee.side).toBe('right');
    const hinged = measureClip(S, map, synthetic(10, 30, (c, f) => setLocal(c, f, map.left.lowerLeg, qx((20 + 5 * f) * DEG))));
    expect(hinged.knee.offHinge).toBeLessThan(0.01);
    expect(hinged.knee.bentFrames).toBe(10);
    const straight = measureClip(S, map, synthetic(10, 30, (c, f) => setLocal(c, f, map.left.lowerLeg, qz(6 * DEG))));
    expect(straight.knee.bentFrames).toBe(0);
    expect(straight.knee.offHinge).toBe(0);
  });

  it('an elbow flexed on its hinge with the forearm twisted about its own axis is on its hinge; bent sideways it is not', () => {
    const rest = restPositions(S);
    const e = map.left.forearm, h = map.left.hand, u = map.left.upperArm;
    const along = [rest[h * 3] - rest[e * 3], rest[h * 3 + 1] - rest[e * 3 + 1], rest[h * 3 + 2] - rest[e * 3 + 2]];
    const up = [rest[e * 3] - rest[u * 3], rest[e * 3 + 1] - rest[u * 3 + 1], rest[e * 3 + 2] - rest[u * 3 + 2]];
    const hinge = [up[1], -up[0], 0];
    const flexTwist = qmul(qaxisAngle(hinge, 60 * DEG), qaxisAngle(along, 70 * DEG));
    expect(measureClip(S, map, synthetic(5, 30, (c, f) => setLocal(c, f, e, flexTwist))).elbow.offHinge).toBeLessThan(0.5);
    // 25° about the axis perpendicular to both the hinge and the forearm: out of the elbow's plane.
    const outOfPlane = [along[1] * hinge[2] - along[2] * hinge[1], along[2] * hinge[0] - along[0] * hinge[2], along[0] * hinge[1] - along[1] * hinge[0]];
    expect(measureClip(S, map, synthetic(5, 30, (c, f) => setLocal(c, f, e, qaxisAngle(outOfPlane, 25 * DEG)))).elbow.offHinge).toBeCloseTo(25, 0);
  });

  it('a body pushed 3 cm under the floor measures its lowest sole point at −3 cm, in that frame', () => {
    const q = measureClip(S, map, synthetic(20, 30, (c, f) => { if (f === 7) c.rootPositions[f * 3 + 1] -= 0.03; }));
    expect(q.lowest.height).toBeCloseTo(-0.03, 4);
    expect(q.lowest.frame).toBe(7);
    expect(qualityViolations(q, 'gesture').map((v) => v.metric)).toContain('lowest');
    // The body pushed 30 cm under the floor at frame 4: its lowest joint (a toe joint, 2–3 cm above the sole) goes under by more than 20 cm.
    const kneeDown = measureClip(S, map, synthetic(10, 30, (c, f) => { if (f === 4) c.rootPositions[f * 3 + 1] -= 0.3; }));
    expect(kneeDown.lowestJoint.frame).toBe(4);
    expect(kneeDown.lowestJoint.height).toBeLessThan(-0.2);
    expect(qualityViolations(kneeDown, 'body').map((v) => v.metric)).toContain('bodyLowest');
    const standing = measureClip(S, map, restClip(S, 20, 30));
    expect(standing.lowestJoint.height).toBeGreaterThan(-1e-9);
    expect(Math.abs(standing.lowest.height)).toBeLessThan(1e-9);
    expect(standing.drift?.drift).toBeLessThan(1e-9);
  });

  it('a planted foot sliding slowly measures its slide; a standing one does not drift', () => {
    // 0.5 cm a frame at 30 fps (0.15 m/s, slow enough to count as down) for 30 frames: 14.5 cm from where it landed.
    const q = measureClip(S, map, synthetic(30, 30, (c, f) => { c.rootPositions[f * 3] += 0.005 * f; }));
    expect(q.drift?.drift).toBeCloseTo(0.145, 3);
    expect(qualityViolations(q, 'gait').map((v) => v.metric)).toContain('drift');
    // Lifted 5 cm and moved: not down, so no drift is counted.
    const lifted = measureClip(S, map, synthetic(30, 30, (c, f) => { c.rootPositions[f * 3 + 1] += 0.05; c.rootPositions[f * 3] += 0.005 * f; }));
    expect(lifted.drift).toBeNull();
  });

  it('per-frame rotation is normalized to 30 fps', () => {
    const q = measureClip(S, map, synthetic(20, 60, (c, f) => setLocal(c, f, map.left.lowerLeg, qx(f * DEG))));
    expect(q.perFrame.knee.deg).toBeCloseTo(2, 3);
    expect(q.perFrame.hip.deg).toBe(0);
  });

  it('hips stopping dead at a seam decelerate far past the bound; stopping over a second does not', () => {
    const dead = measureClip(S, map, synthetic(60, 30, (c, f) => { c.rootPositions[f * 3 + 2] += 1.5 * (Math.min(f, 30) / 30); }), { seams: [30] });
    expect(dead.seams[0].speedBefore).toBeCloseTo(1.5, 1);
    expect(dead.seams[0].speedAfter).toBeLessThan(0.1);
    expect(dead.seams[0].peakDecel).toBeGreaterThan(10);
    // v = 1.5 − 1.5·t over the second after the seam: 1.5 m/s².
    const z = (t: number): number => (t < 1 ? 1.5 * t : t < 2 ? 1.5 + 1.5 * (t - 1) - 0.75 * (t - 1) ** 2 : 2.25);
    const gentle = measureClip(S, map, synthetic(90, 30, (c, f) => { c.rootPositions[f * 3 + 2] += z(f / 30); }), { seams: [30] });
    expect(gentle.seams[0].peakDecel).toBeGreaterThan(1.2);
    expect(gentle.seams[0].peakDecel).toBeLessThan(SEAM_DECEL_BOUND);
  });
});

/**
 * The cases (a sub-sample of the bench's report, to keep this file fast): every motion on the canonical
 * skeleton with post-processing on and off, and on one fixture rig, rotating through the rigs (so every
 * rig gets two or more motions, post-processing on for the first round and off for the next); every
 * third motion on the floor-root rig (ue5); the modifier prompts on the canonical skeleton and on one
 * rig; the seam case on the canonical skeleton and the floor-root (ue5), child and nameless rigs.
 * `npm run bench` (bench/motion-quality.ts) measures every motion on every rig both ways.
 */
function cases(): QualityCase[] {
  const out: QualityCase[] = [];
  const motions = qualityMotions();
  motions.forEach((motion, i) => {
    out.push({ motion, rig: 'canonical', postProcessing: true }, { motion, rig: 'canonical', postProcessing: false });
    out.push({ motion, rig: FIXTURE_NAMES[i % FIXTURE_NAMES.length], postProcessing: Math.floor(i / FIXTURE_NAMES.length) % 2 === 0 });
  });
  MODIFIER_PROMPTS.forEach((prompt, i) => {
    out.push({ prompt, rig: 'canonical', postProcessing: true }, { prompt, rig: FIXTURE_NAMES[i % FIXTURE_NAMES.length], postProcessing: i % 2 === 0 });
  });
  // The floor-root rig (its root and IK bones are measured only there) with every third motion: it is the slowest rig.
  motions.forEach((motion, i) => { if (i % 3 === 1) out.push({ motion, rig: 'ue5', postProcessing: i % 2 === 0 }); });
  for (const rig of ['canonical', 'ue5', 'child', 'nameless'] as const) {
    for (const postProcessing of [true, false]) out.push({ segments: SEAM_SEGMENTS, rig, postProcessing });
  }
  return out;
}

interface Outcome { name: string; violations: Violation[]; error?: string }

describe('motion quality of the vocabulary on every rig (issue 10 bounds)', () => {
  const outcomes: Outcome[] = [];
  const all = cases();

  beforeAll(async () => {
    for (const c of all) {
      const name = `${caseLabel(c)} on ${c.rig} (post-processing ${c.postProcessing ? 'on' : 'off'})`;
      try {
        const row = await measureCase(c);
        const mc = motionClassOf(c.segments ? 'run' : (c.motion ?? row.understood));
        outcomes.push({ name, violations: qualityViolations(row.quality, mc) });
      } catch (err) {
        outcomes.push({ name, violations: [], error: err instanceof Error ? err.message : String(err) });
      }
    }
  }, 60_000);

  /** Every failing case of one metric in one readable message. */
  const check = (metric: QualityMetric): void => {
    const failing = outcomes.flatMap((o) => o.violations.filter((v) => v.metric === metric).map((v) => `${o.name}: ${v.text}`));
    expect(failing.length, `${failing.length} of ${outcomes.length} answers break the bound:\n  ${failing.join('\n  ')}\n`).toBe(0);
  };

  it('covers every motion and every rig', () => {
    const rigs = new Set<string>(all.map((c) => c.rig));
    expect([...FIXTURE_NAMES, 'canonical'].filter((r) => !rigs.has(r))).toEqual([]);
    expect(qualityMotions().filter((m) => !all.some((c) => c.motion === m))).toEqual([]);
  });

  it('makes every answer', () => {
    const failed = outcomes.filter((o) => o.error).map((o) => `${o.name}: ${o.error}`);
    expect(failed, `${failed.length} cases could not be made or measured:\n  ${failed.join('\n  ')}\n`).toEqual([]);
  });

  it(`no sole point (heel, ball, toe tip) goes more than ${-LOWEST_BOUND * 100} cm under the floor`, () => check('lowest'));
  it(`no mapped body joint (inside the body) goes more than ${-BODY_LOWEST_BOUND * 100} cm under the floor`, () => check('bodyLowest'));
  it(`a planted sole point drifts less than ${DRIFT_BOUND * 100} cm while it is down`, () => check('drift'));
  it(`knees stay within ${OFF_HINGE_BOUND}° of their hinge while bent`, () => check('knee'));
  it(`elbows stay within ${OFF_HINGE_BOUND}° of their hinge while bent`, () => check('elbow'));
  it('no joint turns faster in one frame than its motion class allows (ROTATION_BOUNDS)', () => check('rotation'));
  it('a gait\'s stance knee reverses its flexion at most 5 times per stride', () => check('reversals'));
  it(`hips decelerate at most ${SEAM_DECEL_BOUND} m/s² around a seam`, () => check('seam'));
  it(`a floor-level root stays within ${ROOT_FLOOR_BOUND * 100} cm of the floor`, () => check('root'));
  it(`IK helper bones stay within ${IK_GAP_BOUND * 100} cm of the foot or hand they follow`, () => check('ik'));
});
