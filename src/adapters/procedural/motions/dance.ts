/** A step-touch dance on a steady beat: feet step out and close in side to side, hips bounce down on the beat, arms groove. */
import { DEG, minJerk, smooth } from '../curves.js';
import { footAt, type Plant, type SwingStyle } from '../feet.js';
import type { Generated, MotionInput } from '../generator.js';
import type { ArmPose } from '../pose.js';
import { between, pick } from '../random.js';
import { REST } from '../rig.js';
import { styleOf } from '../style.js';
import { durationOf, standing } from './standing.js';

const STEP: SwingStyle = { clearance: 0.07, apex: 0.5, rollAngle: 0, toeUp: 0 };

/**
 * The feet of a step-touch: every beat one foot moves (left out, right in, right out, left in), so the
 * body travels one step to the left and back every four beats and the feet never come closer than at rest.
 */
function stepTouchPlants(start: number, beat: number, width: number, until: number): [Plant[], Plant[]] {
  const w = REST.footWidth;
  const plants: [Plant[], Plant[]] = [
    [{ land: -Infinity, lift: Infinity, x: w, z: 0, yaw: 0, roll: 0 }],
    [{ land: -Infinity, lift: Infinity, x: -w, z: 0, yaw: 0, roll: 0 }],
  ];
  const moves: [0 | 1, number][] = [[0, w + width], [1, width - w], [1, -w], [0, w]];
  for (let n = 0; start + (n + 1) * beat < until + beat; n++) {
    const [side, x] = moves[n % 4];
    const land = start + (n + 1) * beat;
    const list = plants[side];
    list[list.length - 1].lift = land - 0.6 * beat;
    list.push({ land, lift: Infinity, x, z: 0, yaw: 0, roll: 0 });
  }
  return plants;
}

/** The foot's x: where it stands, or between plants while it steps (eased like the swing). */
function plantedX(plants: readonly Plant[], t: number): number {
  let k = 0;
  while (k + 1 < plants.length && plants[k + 1].land <= t) k++;
  const p = plants[k];
  const next = plants[k + 1];
  if (t <= p.lift || !next) return p.x;
  return p.x + (next.x - p.x) * minJerk((t - p.lift) / (next.land - p.lift));
}

export function dance(input: MotionInput): Generated {
  const { rng, mods } = input;
  const s = styleOf(mods);
  const D = durationOf(input);
  const bpm = between(rng, 100, 128) * s.speed;
  const beat = 60 / bpm;
  const width = between(rng, 0.18, 0.3) * Math.min(1.2, s.energy);
  const bounce = between(rng, 0.025, 0.05) * s.energy;
  const arms = pick(rng, ['pump', 'roof', 'swing', 'clap'] as const);
  const start = 0.25;
  const plants = stepTouchPlants(start, beat, width, D);

  return standing(input, {
    pose(t, body) {
      const amp = smooth(t / (start + beat));
      const ph = (Math.PI * (t - start)) / beat;
      const onBeat = 1 - Math.abs(Math.sin(ph));
      const l = plantedX(plants[0], t);
      const r = plantedX(plants[1], t);
      const sway = 0.03 * Math.sin(ph) * amp;
      body.root = [(l + r) / 2 + sway, REST.hipsHeight - (0.015 + bounce * onBeat) * amp, 0];
      body.pelvis = [3 * DEG * amp, 4 * DEG * Math.sin(ph / 2) * amp, -7 * DEG * Math.sin(ph) * amp];
      body.spine = [2 * DEG * amp, -5 * DEG * Math.sin(ph / 2) * amp, 8 * DEG * Math.sin(ph) * amp];
      body.head = [6 * DEG * onBeat * amp - 3 * DEG, 0, -3 * DEG * Math.sin(ph) * amp];
      const pumpOf = (side: 0 | 1) => Math.max(0, Math.sin(ph / 2 + side * Math.PI / 2));
      let pose: [ArmPose, ArmPose];
      if (arms === 'pump') {
        const arm = (side: 0 | 1): ArmPose => ({ flex: (20 + 60 * pumpOf(side)) * DEG * amp, out: 12 * DEG, elbow: (15 + 75 * amp) * DEG });
        pose = [arm(0), arm(1)];
      } else if (arms === 'roof') {
        const arm: ArmPose = { flex: 0, out: 6 * DEG, elbow: 12 * DEG, reach: { hand: [0.3, 0.5 + 0.14 * (1 - onBeat), 0.1], pole: [1, -0.4, -0.3], w: amp } };
        pose = [arm, arm];
      } else if (arms === 'swing') {
        const a = Math.sin(ph);
        const arm = (k: number): ArmPose => ({ flex: 25 * DEG * amp, out: (10 + 30 * Math.max(0, k * a)) * DEG * amp + 6 * DEG, elbow: (15 + 55 * amp) * DEG });
        pose = [arm(1), arm(-1)];
      } else {
        const gap = 0.08 + 0.3 * Math.abs(Math.sin(ph / 2));
        const arm: ArmPose = { flex: 0, out: 6 * DEG, elbow: 12 * DEG, reach: { hand: [gap / 2, 0.05, 0.3], pole: [1, -0.6, -0.4], w: amp } };
        pose = [arm, arm];
      }
      body.arms = pose;
    },
    feet: (t) => [footAt(plants[0], t, STEP), footAt(plants[1], t, STEP)],
    life: () => 0,
    info: { bpm: Math.round(bpm), arms, step_m: Math.round(width * 100) / 100 },
  }, s);
}
