/**
 * Foot-driven locomotion: cadence and step length set the speed, the feet are planted along the body's
 * path and swing between plants, the pelvis bobs and sways over them, arms and spine answer the legs.
 * Walks, runs, backward walks, sidesteps, marches and turns on the spot are all parameterizations of it.
 */
import { allocClip } from '../../motion/clip.js';
import { qrotate, qrotateAt, qy, qyAt, type Vec3 } from '../../motion/quat.js';
import { smooth } from './curves.js';
import { footAt, type Plant, type SwingStyle } from './feet.js';
import type { Generated } from './generator.js';
import { finishClip, renderFrame, type ArmPose, type Bend, type BodyPose } from './pose.js';
import { JOINT_COUNT, REST } from './rig.js';

export interface GaitSpec {
  /** Steps per second (two steps make one cycle of each foot). */
  cadence: number;
  /** Distance travelled per step (metres); speed = step × cadence. Zero steps in place. */
  step: number;
  /** Fraction of a foot's cycle spent on the ground (walk ≈ 0.6, run ≈ 0.35: below 0.5 there is a flight phase). */
  stance: number;
  /** Direction of travel relative to the heading (radians): 0 forward, π backward, +π/2 toward the left (+X). */
  direction: number;
  /** Lateral distance of each ankle from the path (metres). */
  width: number;
  /** Fraction of the stance at which the body passes over the planted foot (lower: the foot lands less far ahead). */
  lead: number;
  /** Fraction of the stance spent rolling over the toe before lift-off. */
  roll: number;
  /** Fraction of the stance spent rocking down from the landing (heel or ball first) to flat; default 0.15 when the swing lands pitched (toeUp ≠ 0). */
  strike?: number;
  swing: SwingStyle;
  /** Hips height while moving. */
  height: number;
  /** Vertical bob (highest over the stance foot when walking, at mid-flight when running). */
  bob: number;
  flight: boolean;
  /** Lateral sway of the hips toward the stance foot. */
  sway: number;
  pelvisYaw: number;
  pelvisRoll: number;
  /** Forward lean of the trunk (radians). */
  lean: number;
  /** Arm swing amplitude (radians), resting flex, elbow bend and extra bend on the forward swing. */
  arms: { swing: number; flex: number; elbow: number; elbowSwing: number; out: number };
  /** How much the chest turns against the pelvis (fraction of the pelvis yaw). */
  spineCounter: number;
  /** Head pitch (radians, + looks down) on top of the lean compensation. */
  headPitch: number;
  /** Which foot steps first: 0 left, 1 right. */
  leadSide: 0 | 1;
  /** Seconds to reach full speed from standing. */
  ramp: number;
  /** Heading over time (radians about +Y); default straight ahead. */
  heading?: (t: number) => number;
  /** Stop stepping once the body's plan is complete at this time (turns on the spot). */
  settleAt?: number;
  /** Last touch on the body pose (e.g. a sneak's arms); `amp` is the gait's 0..1 envelope. */
  upper?: (t: number, body: BodyPose, amp: number) => void;
}

/** The body's ground path: position and heading sampled finely, integrated from speed and heading. */
interface Path {
  at(t: number): { x: number; z: number; yaw: number };
}

const PATH_DT = 1 / 240;

function buildPath(spec: GaitSpec, until: number): Path {
  const n = Math.ceil(until / PATH_DT) + 2;
  const xs = new Float64Array(n);
  const zs = new Float64Array(n);
  const yaws = new Float64Array(n);
  const v = spec.step * spec.cadence;
  const heading = spec.heading ?? (() => 0);
  const speed = (t: number) => v * (spec.ramp > 0 ? smooth(t / spec.ramp) : 1);
  yaws[0] = heading(0);
  for (let i = 1; i < n; i++) {
    const t = i * PATH_DT;
    const tm = t - PATH_DT / 2;
    const a = heading(tm) + spec.direction;
    const s = speed(tm) * PATH_DT;
    xs[i] = xs[i - 1] + Math.sin(a) * s;
    zs[i] = zs[i - 1] + Math.cos(a) * s;
    yaws[i] = heading(t);
  }
  return {
    at(t: number) {
      if (t <= 0) return { x: 0, z: 0, yaw: yaws[0] };
      const u = Math.min(t / PATH_DT, n - 1.000001);
      const i = Math.floor(u);
      const w = u - i;
      return { x: xs[i] + (xs[i + 1] - xs[i]) * w, z: zs[i] + (zs[i + 1] - zs[i]) * w, yaw: yaws[i] + (yaws[i + 1] - yaws[i]) * w };
    },
  };
}

/** The plants of one foot (side 0 left, 1 right) over [0, duration]. */
function footPlants(spec: GaitSpec, path: Path, side: 0 | 1, duration: number): Plant[] {
  const T = 2 / spec.cadence;
  const stance = spec.stance * T;
  const swing = T - stance;
  const firstLift = 0.08 + (side === spec.leadSide ? 0 : T / 2);
  const sign = side === 0 ? 1 : -1;
  const widthAt = (t: number) => REST.footWidth + (spec.width - REST.footWidth) * smooth(t / Math.max(spec.ramp, 0.5));
  const place = (t: number, width: number) => {
    const p = path.at(t);
    const d = qrotate(qy(p.yaw), [sign * width, 0, 0]);
    return { x: p.x + d[0], z: p.z + d[2], yaw: p.yaw };
  };
  const start = place(0, REST.footWidth);
  const roll = spec.roll * stance;
  const strike = (spec.strike ?? (spec.swing.toeUp !== 0 ? 0.15 : 0)) * stance;
  const plants: Plant[] = [{ land: -Infinity, lift: firstLift, ...start, roll }];
  for (let k = 0; ; k++) {
    const land = firstLift + swing + k * T;
    const over = land + spec.lead * stance;
    const settled = spec.settleAt !== undefined && over >= spec.settleAt;
    plants.push({ land, lift: settled ? Infinity : land + stance, ...place(over, widthAt(over)), roll: settled ? 0 : roll, strike });
    if (settled || land > duration + T) break;
  }
  return plants;
}

/**
 * Once a turn on the spot has settled, the body keeps living instead of freezing: breathing, a slow
 * weight shift between the planted feet and a drifting gaze, growing in over a second. `since` counts
 * seconds from the settle; nothing changes before it.
 */
function settleLife(body: BodyPose, since: number, side: 0 | 1): void {
  if (since <= 0) return;
  const w = smooth(since / 1.2);
  const sign = side === 0 ? 1 : -1;
  const breath = Math.sin((2 * Math.PI * since) / 4.1);
  const shift = 0.018 * sign * Math.sin((2 * Math.PI * since) / 5.3) * w;
  const gaze = 5 * (Math.PI / 180) * Math.sin((2 * Math.PI * since) / 6.7) * w;
  const d = qrotate(qy(body.heading), [shift, 0, 0]);
  body.root = [body.root[0] + d[0], body.root[1] - 3 * shift * shift - 0.004 * w, body.root[2] + d[2]];
  body.pelvis = [body.pelvis[0], body.pelvis[1], body.pelvis[2] - 1.2 * shift];
  body.spine = [body.spine[0] - 0.8 * (Math.PI / 180) * breath * w, body.spine[1], body.spine[2] + 1.6 * shift];
  body.head = [body.head[0] + 0.3 * gaze, body.head[1] + gaze, body.head[2]];
  const shrug = 1.2 * (Math.PI / 180) * breath * w;
  body.arms = [{ ...body.arms[0], shrug: (body.arms[0].shrug ?? 0) + shrug }, { ...body.arms[1], shrug: (body.arms[1].shrug ?? 0) + shrug }];
}

/** Scratch of a gait frame's sway (never read across frames). */
const Q = new Float64Array(7);

/** One arm of a gait frame: the style's arm at envelope `amp`, swung by `flex`. */
function gaitArm(a: GaitSpec['arms'], amp: number, flex: number): ArmPose {
  return {
    flex: a.flex * amp + flex,
    out: a.out,
    elbow: a.elbow * amp + 0.17 * (1 - amp) + a.elbowSwing * Math.max(0, flex) / Math.max(a.swing, 1e-6),
  };
}

/** Generates a gait clip of `frames` frames at `fps`. */
export function gait(spec: GaitSpec, frames: number, fps: number): Generated {
  const duration = Math.max(0, (frames - 1) / fps);
  const T = 2 / spec.cadence;
  const path = buildPath(spec, duration + 3 * T + 1);
  const plants = [footPlants(spec, path, 0, duration), footPlants(spec, path, 1, duration)] as const;
  const heading = spec.heading ?? (() => 0);
  const leftLand = plants[0][1].land;
  const midStance = Math.PI * spec.stance;
  const clip = allocClip(JOINT_COUNT, frames, fps);
  const contacts = new Uint8Array(frames * 4);
  const a = spec.arms;

  for (let f = 0; f < frames; f++) {
    const t = f / fps;
    const feet = [footAt(plants[0], t, spec.swing), footAt(plants[1], t, spec.swing)] as const;
    // Envelope: the style grows in over the first steps and, for turns, fades once the body has settled.
    let amp = smooth(t / Math.max(spec.ramp, 0.35));
    if (spec.settleAt !== undefined) amp *= 1 - smooth((t - spec.settleAt) / T);
    const psi = (2 * Math.PI * (t - leftLand)) / T;
    const yaw = heading(t);
    const p = path.at(t);
    // sway = qrotate(qy(yaw), [spec.sway · amp · cos(psi − midStance), 0, 0]), in scratch.
    qyAt(Q, 0, yaw);
    Q[4] = spec.sway * amp * Math.cos(psi - midStance); Q[5] = 0; Q[6] = 0;
    qrotateAt(Q, 4, Q, 0, Q, 4);
    const bob = spec.bob * amp * (spec.flight ? -1 : 1) * Math.cos(2 * (psi - midStance));
    const root: Vec3 = [p.x + Q[4], REST.hipsHeight + (spec.height - REST.hipsHeight) * amp + bob, p.z + Q[6]];

    const pelvisYaw = -spec.pelvisYaw * amp * Math.cos(psi);
    const pelvisRoll = -spec.pelvisRoll * amp * Math.cos(psi - midStance);
    // Look into a turn before the body gets there.
    const turnLead = heading(t + 0.3) - yaw;
    const swingR = a.swing * amp * Math.cos(psi);
    const body: BodyPose = {
      root,
      heading: yaw,
      pelvis: [spec.lean * 0.4 * amp, pelvisYaw, pelvisRoll],
      spine: [spec.lean * 0.6 * amp, (1 + spec.spineCounter) * spec.pelvisYaw * amp * Math.cos(psi) + 0.35 * turnLead, -pelvisRoll * 0.8] as Bend,
      neck: [-spec.lean * 0.3 * amp, -spec.spineCounter * spec.pelvisYaw * amp * Math.cos(psi) * 0.5 + 0.25 * turnLead, 0],
      head: [-spec.lean * 0.5 * amp + spec.headPitch * amp, -spec.spineCounter * spec.pelvisYaw * amp * Math.cos(psi) * 0.5 + 0.4 * turnLead, 0],
      arms: [gaitArm(a, amp, -swingR), gaitArm(a, amp, swingR)],
    };
    if (spec.settleAt !== undefined) settleLife(body, t - spec.settleAt - T / 2, spec.leadSide);
    spec.upper?.(t, body, amp);
    renderFrame(clip, f, body, feet, contacts);
  }
  finishClip(clip);
  return {
    clip,
    contacts,
    info: { cadence: spec.cadence, step: spec.step, speed: spec.step * spec.cadence, stance: spec.stance },
    plants,
  };
}
