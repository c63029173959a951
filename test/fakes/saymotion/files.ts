/**
 * The simulator's result files: a GLB exported the way FBX-born files are (armature scale and/or axis
 * rotation, bone-axis rest rotations, end bones, a skinned mesh, a T-pose take before the motion), a BVH
 * of the same motion, and the FBX output as the zip archive SayMotion delivers.
 */
import { crc32 } from 'node:zlib';
import type { Clip } from '../../../src/spec/motion.js';
import { qx, type Quat } from '../../../src/motion/quat.js';
import { restClip } from '../../../src/motion/clip.js';
import { writeFbxStyleGlb } from '../../fixtures/fbx-style-glb.js';
import { DM_RIG } from './motion.js';

/** How the armature above the hips is exported: centimetres (scale 0.01), Z-up (−90° about X), or both. */
export type RigStyle = 'cm' | 'zup' | 'cm+zup';

export async function motionGlb(clip: Clip, opts: { rigStyle: RigStyle; tposeTake: boolean }): Promise<Uint8Array> {
  const rotation: Quat | undefined = opts.rigStyle === 'cm' ? undefined : qx(-Math.PI / 2);
  const scale = opts.rigStyle === 'zup' ? undefined : 0.01;
  const clips = [{ name: 'Armature|text2motion|baselayer', clip }];
  if (opts.tposeTake) clips.unshift({ name: 'T-Pose', clip: restClip(DM_RIG, 1, clip.fps) });
  return writeFbxStyleGlb({
    skeleton: DM_RIG,
    clips,
    armature: { name: 'Armature', scale, rotation },
    endBones: { suffix: '_end' },
    skin: { shuffle: 7 },
    mesh: { verticesPerJoint: 4 },
  });
}

/** ZXY Euler angles (degrees, BVH order: R = Rz·Rx·Ry) of a unit quaternion. */
function eulerZXY(q: ArrayLike<number>): [number, number, number] {
  const [x, y, z, w] = [q[0], q[1], q[2], q[3]];
  const m01 = 2 * (x * y - z * w);
  const m11 = 1 - 2 * (x * x + z * z);
  const m20 = 2 * (x * z - y * w);
  const m21 = 2 * (y * z + x * w);
  const m22 = 1 - 2 * (x * x + y * y);
  const deg = 180 / Math.PI;
  const b = Math.asin(Math.max(-1, Math.min(1, m21)));
  return [Math.atan2(-m01, m11) * deg, b * deg, Math.atan2(-m20, m22) * deg];
}

/** A BVH of the clip on DM_RIG (centimetres, rest with identity orientations, so local rotations carry over). */
export function motionBvh(clip: Clip): string {
  const s = DM_RIG;
  const kids = s.names.map((_, j) => s.names.map((__, k) => k).filter((k) => s.parents[k] === j));
  const fmt = (v: number): string => (Math.abs(v) < 1e-9 ? '0' : v.toFixed(4));
  const lines: string[] = ['HIERARCHY'];
  const order: number[] = [];
  const write = (j: number, depth: number): void => {
    const pad = '  '.repeat(depth);
    const o = [s.offsets[j * 3] * 100, s.offsets[j * 3 + 1] * 100, s.offsets[j * 3 + 2] * 100];
    lines.push(`${pad}${j === 0 ? 'ROOT' : 'JOINT'} ${s.names[j]}`, `${pad}{`, `${pad}  OFFSET ${o.map(fmt).join(' ')}`);
    lines.push(`${pad}  CHANNELS ${j === 0 ? '6 Xposition Yposition Zposition ' : '3 '}Zrotation Xrotation Yrotation`);
    order.push(j);
    if (kids[j].length === 0) lines.push(`${pad}  End Site`, `${pad}  {`, `${pad}    OFFSET 0 2 0`, `${pad}  }`);
    for (const k of kids[j]) write(k, depth + 1);
    lines.push(`${pad}}`);
  };
  write(0, 0);
  lines.push('MOTION', `Frames: ${clip.numFrames}`, `Frame Time: ${(1 / clip.fps).toFixed(6)}`);
  const J = clip.jointCount;
  for (let f = 0; f < clip.numFrames; f++) {
    const values: number[] = [];
    for (const j of order) {
      if (j === 0) values.push(...[0, 1, 2].map((k) => clip.rootPositions[f * 3 + k] * 100));
      values.push(...eulerZXY(clip.rotations.subarray((f * J + j) * 4, (f * J + j) * 4 + 4)));
    }
    lines.push(values.map(fmt).join(' '));
  }
  return lines.join('\n') + '\n';
}

/** A zip archive (stored, no compression) of named files. */
function zip(files: Array<{ name: string; data: Uint8Array }>): Uint8Array {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name, 'utf8');
    const crc = crc32(f.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(f.data.length, 18);
    local.writeUInt32LE(f.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const dir = Buffer.alloc(46);
    dir.writeUInt32LE(0x02014b50, 0);
    dir.writeUInt16LE(20, 4);
    dir.writeUInt16LE(20, 6);
    dir.writeUInt32LE(crc, 16);
    dir.writeUInt32LE(f.data.length, 20);
    dir.writeUInt32LE(f.data.length, 24);
    dir.writeUInt16LE(name.length, 28);
    dir.writeUInt32LE(offset, 42);
    parts.push(local, name, Buffer.from(f.data));
    central.push(dir, name);
    offset += local.length + name.length + f.data.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...parts, cd, end]));
}

/** The FBX output: a zip holding an ASCII FBX header stub and the BVH it was baked from. */
export function motionFbxZip(clip: Clip, baseName: string): Uint8Array {
  const fbx = `; FBX 7.4.0 project file\n; Simulated SayMotion export: ${baseName}\nFBXHeaderExtension:  {\n\tFBXVersion: 7400\n}\n`;
  return zip([
    { name: `${baseName}.fbx`, data: Buffer.from(fbx) },
    { name: `${baseName}.bvh`, data: Buffer.from(motionBvh(clip)) },
  ]);
}
