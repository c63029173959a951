/**
 * The ground of a ground_height constraint (MMCP 1.3): its height at any place of the floor plane.
 *
 * The protocol gives the ground as points [x, z, height] and says neither how to fill the ground between
 * them nor what lies beyond them. **Our choice: piecewise-linear along the points as a path.** The points
 * are read in the order given as a polyline on the floor plane (a profile along the route, as in the
 * reference tests' "run and jump down": flat, then a 0.6 m drop between z = 3 and z = 4.5). A place
 * (x, z) takes the height of its nearest point on that polyline: projected onto the nearest segment and
 * linearly interpolated between the segment's two heights (clamped to the segment, so past either end
 * the end point's height continues, and sideways of the path the ground is level across it). One point
 * is level ground at its height. A step is given as two points close together (e.g. z = 3.00 → 0,
 * z = 3.01 → 0.3). Why not inverse-distance weighting of all points: it pulls flat ground towards far
 * heights (on the example, 8 cm of sinking 1 m before the drop), where the path reading keeps flat
 * ground flat and puts the slope exactly where the points put it.
 *
 * Several ground_height constraints are several profiles: a place takes the height of the profile whose
 * polyline passes nearest to it (the first one on a tie).
 *
 * Pure and allocation-free: called per foot per frame.
 */

/** Squared planar distance from (x, z) to the nearest point of `points`' polyline, and the height there. */
function nearestOnProfile(points: ArrayLike<number>, x: number, z: number, out: { d2: number; h: number }): void {
  const n = Math.floor(points.length / 3);
  if (n === 0) throw new RangeError('groundHeightAt: a ground profile needs at least one point');
  let bestD2 = Infinity;
  let bestH = points[2];
  if (n === 1) {
    const dx = x - points[0], dz = z - points[1];
    out.d2 = dx * dx + dz * dz;
    out.h = points[2];
    return;
  }
  for (let i = 0; i + 1 < n; i++) {
    const ax = points[i * 3], az = points[i * 3 + 1], ah = points[i * 3 + 2];
    const bx = points[i * 3 + 3], bz = points[i * 3 + 4], bh = points[i * 3 + 5];
    const ex = bx - ax, ez = bz - az;
    const len2 = ex * ex + ez * ez;
    let t = len2 > 1e-18 ? ((x - ax) * ex + (z - az) * ez) / len2 : 0;
    if (t < 0) t = 0;
    else if (t > 1) t = 1;
    const px = ax + ex * t, pz = az + ez * t;
    const dx = x - px, dz = z - pz;
    const d2 = dx * dx + dz * dz;
    // Strictly nearer only: on a tie (e.g. exactly at a shared vertex) the earlier segment wins, and both
    // give the vertex's height there anyway.
    if (d2 < bestD2 - 1e-12) {
      bestD2 = d2;
      bestH = ah + (bh - ah) * t;
    }
  }
  out.d2 = bestD2;
  out.h = bestH;
}

const scratch = { d2: 0, h: 0 };

/** The ground's height at (x, z) of one profile: n × [x, z, height] points in path order (see above). */
export function groundHeightAt(points: ArrayLike<number>, x: number, z: number): number {
  nearestOnProfile(points, x, z, scratch);
  return scratch.h;
}

/** The ground's height at (x, z) over several profiles: the one passing nearest decides (see above). */
export function groundHeightAtProfiles(profiles: readonly ArrayLike<number>[], x: number, z: number): number {
  if (profiles.length === 0) throw new RangeError('groundHeightAtProfiles: no ground profile');
  let bestD2 = Infinity;
  let bestH = 0;
  for (const p of profiles) {
    nearestOnProfile(p, x, z, scratch);
    if (scratch.d2 < bestD2 - 1e-12) {
      bestD2 = scratch.d2;
      bestH = scratch.h;
    }
  }
  return bestH;
}

/**
 * The ground's height at (x, z) over several profiles, and which profile decides it (its index: the one
 * passing nearest, as groundHeightAtProfiles reads it); into `out`.
 */
export function groundAtProfiles(profiles: readonly ArrayLike<number>[], x: number, z: number, out: { h: number; index: number }): void {
  if (profiles.length === 0) throw new RangeError('groundAtProfiles: no ground profile');
  let bestD2 = Infinity;
  out.h = 0;
  out.index = 0;
  for (let i = 0; i < profiles.length; i++) {
    nearestOnProfile(profiles[i], x, z, scratch);
    if (scratch.d2 < bestD2 - 1e-12) {
      bestD2 = scratch.d2;
      out.h = scratch.h;
      out.index = i;
    }
  }
}

/**
 * World positions (F×J×3) with each joint's height taken over the ground under it instead of over the
 * flat floor (a copy): what height-based contact detection reads on uneven ground.
 */
export function heightsOverGround(world: Float64Array, profiles: readonly ArrayLike<number>[]): Float64Array {
  const out = world.slice();
  for (let o = 0; o + 2 < out.length; o += 3) out[o + 1] -= groundHeightAtProfiles(profiles, out[o], out[o + 2]);
  return out;
}
