/** The MMCP `trajectory` extension: the root's ground-plane travel fitted with the simplest of still / line / arc. */
import type { Clip } from '../spec/motion.js';
import { contactRuns, footContacts } from './contacts.js';
import type { HumanoidMap } from './humanoid.js';
import { qget, qyaw } from './quat.js';
import { ancestorPath, forwardKinematicsPath } from './skeleton.js';
import type { Skeleton } from '../spec/motion.js';

/** A model is accepted when its RMS error is under this (m). */
const TRAJECTORY_TOLERANCE_M = 0.05;
const DEG = 180 / Math.PI;

type XZ = [number, number];

interface Fit {
  model: 'still' | 'line' | 'arc';
  rms: number;
  speed: number;
  headingDeg: number;
  radius: number;
  turnedDeg: number;
  turnDegS: number;
  controls: XZ[];
}

/** MMCP heading (degrees; 0 faces +Z, positive turns +Z toward −X) of a ground-plane direction. */
const mmcpHeadingDeg = (dx: number, dz: number): number => Math.atan2(-dx, dz) * DEG;
const rms = (p: readonly XZ[], model: (i: number) => XZ): number =>
  Math.sqrt(p.reduce((s, q, i) => { const m = model(i); return s + (q[0] - m[0]) ** 2 + (q[1] - m[1]) ** 2; }, 0) / p.length);

function fitStill(p: readonly XZ[]): Fit {
  const c: XZ = [p.reduce((s, q) => s + q[0], 0) / p.length, p.reduce((s, q) => s + q[1], 0) / p.length];
  return { model: 'still', rms: rms(p, () => c), speed: 0, headingDeg: 0, radius: 0, turnedDeg: 0, turnDegS: 0, controls: [c] };
}

function fitLine(p: readonly XZ[], t: readonly number[]): Fit {
  const n = p.length;
  const tm = t.reduce((a, b) => a + b, 0) / n;
  const xm = p.reduce((s, q) => s + q[0], 0) / n;
  const zm = p.reduce((s, q) => s + q[1], 0) / n;
  let stt = 0, stx = 0, stz = 0;
  for (let i = 0; i < n; i++) {
    stt += (t[i] - tm) ** 2;
    stx += (t[i] - tm) * (p[i][0] - xm);
    stz += (t[i] - tm) * (p[i][1] - zm);
  }
  // Principal direction of the points, oriented along the travel.
  let sxx = 0, sxz = 0, szz = 0;
  for (const q of p) { sxx += (q[0] - xm) ** 2; sxz += (q[0] - xm) * (q[1] - zm); szz += (q[1] - zm) ** 2; }
  const th = 0.5 * Math.atan2(2 * sxz, sxx - szz);
  let ux = Math.cos(th), uz = Math.sin(th);
  if (stx * ux + stz * uz < 0) { ux = -ux; uz = -uz; }
  const along = p.map((q) => (q[0] - xm) * ux + (q[1] - zm) * uz);
  const perp = p.map((q) => -(q[0] - xm) * uz + (q[1] - zm) * ux);
  const err = Math.sqrt(perp.reduce((s2, d) => s2 + d * d, 0) / n);
  const speed = stt > 0 ? Math.max(0, t.reduce((s2, ti, i) => s2 + (ti - tm) * along[i], 0) / stt) : 0;
  const pt = (s2: number): XZ => [xm + ux * s2, zm + uz * s2];
  return {
    model: 'line', rms: err, speed, headingDeg: mmcpHeadingDeg(ux, uz),
    radius: 0, turnedDeg: 0, turnDegS: 0, controls: [pt(along[0]), pt(along[n - 1])],
  };
}

/** Circle by algebraic least squares, then the angle along it linear in time. */
function fitArc(p: readonly XZ[], t: readonly number[]): Fit | null {
  const n = p.length;
  // Solve x² + z² + D x + E z + G = 0 in least squares (normal equations, 3×3).
  const A = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  const b = [0, 0, 0];
  for (const [x, z] of p) {
    const row = [x, z, 1];
    const rhs = -(x * x + z * z);
    for (let i = 0; i < 3; i++) {
      b[i] += row[i] * rhs;
      for (let j = 0; j < 3; j++) A[i][j] += row[i] * row[j];
    }
  }
  const sol = solve3(A, b);
  if (!sol) return null;
  const cx = -sol[0] / 2, cz = -sol[1] / 2;
  const r2 = cx * cx + cz * cz - sol[2];
  if (!(r2 > 0) || !Number.isFinite(r2)) return null;
  const r = Math.sqrt(r2);
  if (r > 1e4) return null;
  const ang: number[] = [];
  for (const [x, z] of p) {
    const a = Math.atan2(z - cz, x - cx);
    ang.push(ang.length ? ang[ang.length - 1] + Math.atan2(Math.sin(a - ang[ang.length - 1]), Math.cos(a - ang[ang.length - 1])) : a);
  }
  const tm = t.reduce((s, v) => s + v, 0) / n;
  const am = ang.reduce((s, v) => s + v, 0) / n;
  let stt = 0, sta = 0;
  for (let i = 0; i < n; i++) { stt += (t[i] - tm) ** 2; sta += (t[i] - tm) * (ang[i] - am); }
  const w = stt > 0 ? sta / stt : 0;
  const angleAt = (time: number): number => am + w * (time - tm);
  const at = (i: number): XZ => [cx + r * Math.cos(angleAt(t[i])), cz + r * Math.sin(angleAt(t[i]))];
  // Travel direction: d/dt (cos, sin) · w = w·(−sin, cos).
  const dir = (time: number): number => mmcpHeadingDeg(-Math.sin(angleAt(time)) * w, Math.cos(angleAt(time)) * w);
  const T = t[n - 1] - t[0];
  const h0 = dir(t[0]);
  const hs = dir(t[0] + 1e-3);
  const sign = Math.sign(Math.atan2(Math.sin((hs - h0) / DEG), Math.cos((hs - h0) / DEG))) || 1;
  const turnDegS = sign * Math.abs(w) * DEG;
  return {
    model: 'arc', rms: rms(p, at), speed: r * Math.abs(w), headingDeg: h0, radius: r,
    turnedDeg: turnDegS * T, turnDegS, controls: [at(0), at(Math.floor((n - 1) / 2)), at(n - 1)],
  };
}

function solve3(A: number[][], b: number[]): number[] | null {
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < 3; c++) {
    let piv = c;
    for (let r = c + 1; r < 3; r++) if (Math.abs(M[r][c]) > Math.abs(M[piv][c])) piv = r;
    if (Math.abs(M[piv][c]) < 1e-12) return null;
    [M[c], M[piv]] = [M[piv], M[c]];
    for (let r = 0; r < 3; r++) {
      if (r === c) continue;
      const k = M[r][c] / M[c][c];
      for (let k2 = c; k2 < 4; k2++) M[r][k2] -= k * M[c][k2];
    }
  }
  return [M[0][3] / M[0][0], M[1][3] / M[1][1], M[2][3] / M[2][2]];
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000 + 0;

/**
 * Fits the root's XZ travel with the simplest of still / line / arc whose RMS distance of the
 * path from the model's curve is under TRAJECTORY_TOLERANCE_M (the best one when none is) and returns the MMCP `trajectory` object.
 * Headings and yaws are MMCP degrees (0 faces +Z, positive turns +Z toward −X); markers are the frames
 * where each foot lands (starts of its contact runs); `off_cm` is the fit's RMS error in centimetres.
 * `worldPositions`, when given, are the clip's world positions (clipWorldPositions), saving a pass.
 */
export function fitTrajectory(skeleton: Skeleton, map: HumanoidMap, clip: Clip, loop: boolean, worldPositions?: Float64Array): Record<string, unknown> {
  const F = clip.numFrames;
  const J = clip.jointCount;
  const p: XZ[] = [];
  const t: number[] = [];
  for (let f = 0; f < F; f++) {
    p.push([clip.rootPositions[f * 3], clip.rootPositions[f * 3 + 2]]);
    t.push(f / clip.fps);
  }
  let fit: Fit = F ? fitStill(p) : { model: 'still', rms: 0, speed: 0, headingDeg: 0, radius: 0, turnedDeg: 0, turnDegS: 0, controls: [] };
  if (F > 1 && fit.rms >= TRAJECTORY_TOLERANCE_M) {
    const candidates: Fit[] = [fit];
    const line = fitLine(p, t);
    candidates.push(line);
    if (line.rms >= TRAJECTORY_TOLERANCE_M) {
      const arc = fitArc(p, t);
      if (arc) candidates.push(arc);
    }
    fit = candidates.find((c) => c.rms < TRAJECTORY_TOLERANCE_M) ?? candidates.reduce((a, b) => (b.rms < a.rms ? b : a));
  }

  // Per-frame speed (smoothed over ±0.25 s) for the range.
  const half = Math.max(1, Math.round(0.25 * clip.fps));
  const speeds: number[] = [];
  for (let f = 0; f < F; f++) {
    const a = Math.max(0, f - half), b = Math.min(F - 1, f + half);
    if (b > a) speeds.push(Math.hypot(p[b][0] - p[a][0], p[b][1] - p[a][1]) / ((b - a) / clip.fps));
  }
  const speedRange = speeds.length ? [r3(Math.min(...speeds)), r3(Math.max(...speeds))] : [0, 0];

  // Facing per frame: the hips' rotation about +Y, MMCP sign, unwrapped.
  const pos = new Float64Array(J * 3);
  const world = new Float64Array(J * 4);
  const yaw: number[] = [];
  const hipsPath = ancestorPath(skeleton, map.hips);
  for (let f = 0; f < F; f++) {
    forwardKinematicsPath(skeleton, hipsPath, clip.rotations, clip.rootPositions.subarray(f * 3, f * 3 + 3), pos, world, f * J);
    const y = -qyaw(qget(world, map.hips)) * DEG;
    yaw.push(yaw.length ? yaw[yaw.length - 1] + (((y - yaw[yaw.length - 1]) % 360) + 540) % 360 - 180 : y);
  }

  const markers: Record<string, number[]> = { LeftFootDown: [], RightFootDown: [] };
  if (F > 1) {
    const flags = footContacts(skeleton, clip, [map.left.foot, map.right.foot], { worldPositions });
    markers.LeftFootDown = contactRuns(flags[0]).map((r) => r.start);
    markers.RightFootDown = contactRuns(flags[1]).map((r) => r.start);
  }

  return {
    model: fit.model,
    loop,
    params: {
      speed: r3(fit.speed),
      speed_range: speedRange,
      heading_deg: r3(fit.headingDeg),
      radius_m: r3(fit.radius),
      turned_deg: r3(fit.turnedDeg),
      turn_deg_s: r3(fit.turnDegS),
      control_points_xz: fit.controls.map((c) => [r3(c[0]), r3(c[1])]),
      off_cm: Math.round(fit.rms * 1000) / 10,
    },
    heading: r3(yaw.length ? yaw[0] : 0),
    markers,
    position: p.map((q) => [r3(q[0]), r3(q[1])]),
    yaw: yaw.map(r3),
  };
}
