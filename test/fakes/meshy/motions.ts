/**
 * The simulator's animation library made real: every action becomes a deterministic clip on a
 * Meshy-rigged character (walks travel and cycle, in-place variants do not, waves wave, jumps leave the
 * ground…), written as FBX-born GLBs the way Meshy delivers them (centimetre Z-up armature, bone-axis
 * rests, shuffled skin, constant channels, clips named `Armature|<Name>|baselayer`).
 */
import { allocClip } from '../../../src/motion/clip.js';
import type { Clip } from '../../../src/spec/motion.js';
import { IDENTITY, qmul, qnormalize, qset, qx, qy, qz, type Quat } from '../../../src/motion/quat.js';
import { skeletonFromWire } from '../../../src/motion/skeleton.js';
import type { Skeleton } from '../../../src/spec/motion.js';
import { meshy } from '../../fixtures/skeletons/meshy.js';
import { writeFbxStyleGlb } from '../../fixtures/fbx-style-glb.js';

export interface SimAction {
  action_id: number;
  name: string;
  category: string;
  subcategory: string;
}

/** The Meshy rig of a character `height` metres tall (the fixture rig is 1.7 m). */
function meshyRig(height = 1.7): Skeleton {
  const base = skeletonFromWire(meshy.joints);
  const k = height / 1.7;
  return { ...base, offsets: base.offsets.map((v) => v * k) };
}

type Style = 'walk' | 'run' | 'crawl' | 'swim' | 'idle' | 'wave' | 'strike' | 'kick' | 'jump' | 'dance' | 'sit' | 'fall' | 'gesture';

/** How the simulator animates an action, from its name and sub-category. */
function styleOf(a: SimAction): Style {
  const n = a.name.toLowerCase();
  if (/swim/.test(n)) return 'swim';
  if (/crawl/.test(n)) return 'crawl';
  if (/wave/.test(n)) return 'wave';
  if (/kick|sweep/.test(n)) return 'kick';
  if (/jump|leap|hop|flip/.test(n) && !/jack|rope/.test(n)) return 'jump';
  if (/sit|sleep|lie|kneel|squat/.test(n)) return 'sit';
  if (/fall|dead|dying|knock/.test(n)) return 'fall';
  if (/run|sprint|charge/.test(n) || a.subcategory === 'Running') return 'run';
  if (/walk|strut|stagger|march|step/.test(n) || a.subcategory === 'Walking' || a.subcategory === 'CrouchWalking') return 'walk';
  if (/danc|groove|hip_hop|jazz|ymca/.test(n) || a.category === 'Dancing') return 'dance';
  if (/idle|breath|alert|stance/.test(n) || a.subcategory === 'Idle') return 'idle';
  if (/attack|slash|punch|jab|hook|combo|strike|swing|chop|thrust|parry|block|shot|shoot/.test(n) || a.category === 'Fighting') return 'strike';
  return 'gesture';
}

/** A small deterministic number in [0, 1) per action (amplitudes and lengths vary from action to action). */
function jitter(id: number, salt: number): number {
  let h = (id * 2654435761 + salt * 40503) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0x5bd1e995) >>> 0;
  return ((h ^ (h >>> 15)) >>> 0) / 2 ** 32;
}

/** Seconds of one clip: a cycle for cyclic styles, the whole move for one-shots. */
function clipSeconds(a: SimAction): number {
  const style = styleOf(a);
  const j = jitter(a.action_id, 1);
  switch (style) {
    case 'walk': return 1.0 + 0.2 * j;
    case 'run': return 0.7 + 0.1 * j;
    case 'crawl': case 'swim': return 1.6 + 0.4 * j;
    case 'idle': case 'dance': return 2.0 + 1.0 * j;
    default: return 1.5 + 1.5 * j;
  }
}

/** Ground speed of travelling styles (m/s at 1.7 m); 0 for in-place variants. */
function speedOf(a: SimAction, style: Style): number {
  if (/_inplace$/i.test(a.name)) return 0;
  const dir = /backward|back_|_back/i.test(a.name) && style !== 'jump' ? -1 : 1;
  if (style === 'walk') return dir * 1.3;
  if (style === 'run') return dir * 3.4;
  if (style === 'crawl' || style === 'swim') return dir * 0.5;
  return 0;
}

/** The action's clip at `fps` on `rig`. Cyclic clips end on the pose they start with. */
function actionClip(a: SimAction, rig: Skeleton, fps: number): Clip {
  const style = styleOf(a);
  const seconds = clipSeconds(a);
  const frames = Math.max(2, Math.round(seconds * fps) + 1);
  const J = rig.names.length;
  const clip = allocClip(J, frames, fps);
  const idx = (n: string) => rig.names.indexOf(n);
  const amp = 0.8 + 0.4 * jitter(a.action_id, 2);
  const speed = speedOf(a, style) * (rig.offsets[1] / 0.899);
  const hipY = rig.offsets[1];
  const joints = {
    lUp: idx('LeftUpLeg'), lLeg: idx('LeftLeg'), rUp: idx('RightUpLeg'), rLeg: idx('RightLeg'),
    lArm: idx('LeftArm'), lFore: idx('LeftForeArm'), rArm: idx('RightArm'), rFore: idx('RightForeArm'),
    spine: idx('Spine01'), chest: idx('Spine'), head: idx('Head'), hips: 0,
  };
  for (let f = 0; f < frames; f++) {
    const u = (f / (frames - 1)) % 1; // phase of the cycle, 0 → 1 (ends where it starts)
    const w = 2 * Math.PI * (f / (frames - 1));
    const pose: Quat[] = rig.names.map(() => [...IDENTITY] as Quat);
    const root: [number, number, number] = [0, hipY, speed * (f / fps)];
    const set = (j: number, q: Quat) => {
      if (j >= 0) pose[j] = qnormalize(q);
    };
    // Arms rest about 10° below horizontal: bring them down the sides for most styles.
    const armsDown = (by: number) => {
      set(joints.lArm, qz(-by));
      set(joints.rArm, qz(by));
    };
    switch (style) {
      case 'walk':
      case 'run': {
        const s = (style === 'run' ? 0.7 : 0.45) * amp;
        set(joints.lUp, qx(-s * Math.sin(w)));
        set(joints.rUp, qx(s * Math.sin(w)));
        set(joints.lLeg, qx(s * 0.8 * (1 - Math.cos(w)) * 0.5));
        set(joints.rLeg, qx(s * 0.8 * (1 + Math.cos(w)) * 0.5));
        set(joints.lArm, qmul(qz(-1.2), qx(s * 0.6 * Math.sin(w))));
        set(joints.rArm, qmul(qz(1.2), qx(-s * 0.6 * Math.sin(w))));
        root[1] = hipY - 0.02 * Math.abs(Math.cos(w));
        break;
      }
      case 'crawl':
      case 'swim': {
        set(joints.hips, qx(Math.PI / 2.2));
        set(joints.lArm, qx(-1.5 + 0.5 * Math.sin(w)));
        set(joints.rArm, qx(-1.5 - 0.5 * Math.sin(w)));
        set(joints.lUp, qx(0.4 * Math.sin(w)));
        set(joints.rUp, qx(-0.4 * Math.sin(w)));
        root[1] = hipY * 0.35;
        break;
      }
      case 'idle': {
        armsDown(1.2);
        set(joints.chest, qx(0.03 * amp * Math.sin(w)));
        set(joints.head, qy(0.1 * amp * Math.sin(w)));
        break;
      }
      case 'dance': {
        set(joints.hips, qy(0.35 * amp * Math.sin(2 * w)));
        set(joints.lArm, qz(0.9 * Math.sin(w)));
        set(joints.rArm, qz(-0.9 * Math.sin(w)));
        set(joints.lUp, qx(-0.3 * Math.max(0, Math.sin(2 * w))));
        root[0] = 0.1 * Math.sin(w);
        root[1] = hipY - 0.05 * Math.abs(Math.sin(2 * w));
        break;
      }
      case 'wave': {
        set(joints.lArm, qz(-1.2));
        set(joints.rArm, qz(-1.9)); // right arm raised above the shoulder
        set(joints.rFore, qz(0.5 * amp * Math.sin(3 * w)));
        break;
      }
      case 'strike': {
        const hit = Math.sin(Math.PI * u) ** 2;
        armsDown(1.0);
        set(joints.rArm, qmul(qz(1.0 - 0.9 * hit), qy(-1.2 * hit * amp)));
        set(joints.rFore, qy(-0.8 * (1 - hit)));
        set(joints.chest, qy(0.5 * hit));
        break;
      }
      case 'kick': {
        const hit = Math.sin(Math.PI * u) ** 2;
        armsDown(1.1);
        set(joints.rUp, qx(-1.4 * hit * amp));
        set(joints.rLeg, qx(0.6 * hit * (1 - hit) * 4));
        break;
      }
      case 'jump': {
        // Crouch (first 30 %), flight (30–70 %), landing (70–100 %).
        const crouch = u < 0.3 ? Math.sin((Math.PI * u) / 0.3) : u > 0.7 ? Math.sin((Math.PI * (u - 0.7)) / 0.3) : 0;
        const flight = u > 0.3 && u < 0.7 ? (u - 0.3) / 0.4 : -1;
        set(joints.lUp, qx(-0.8 * crouch));
        set(joints.rUp, qx(-0.8 * crouch));
        set(joints.lLeg, qx(1.4 * crouch));
        set(joints.rLeg, qx(1.4 * crouch));
        set(joints.lArm, qz(-1.8 * (flight >= 0 ? 1 : 0.3)));
        set(joints.rArm, qz(1.8 * (flight >= 0 ? 1 : 0.3)));
        root[1] = hipY - 0.25 * crouch + (flight >= 0 ? 0.5 * amp * 4 * flight * (1 - flight) : 0);
        break;
      }
      case 'sit': {
        const down = Math.sin(Math.PI * Math.min(1, u * 1.5) * 0.5);
        armsDown(1.2);
        set(joints.lUp, qx(-1.5 * down));
        set(joints.rUp, qx(-1.5 * down));
        set(joints.lLeg, qx(1.5 * down));
        set(joints.rLeg, qx(1.5 * down));
        root[1] = hipY - 0.4 * down;
        root[2] = -0.15 * down;
        break;
      }
      case 'fall': {
        const t = Math.min(1, u * 1.4);
        armsDown(1.2 * (1 - t));
        set(joints.hips, qx(-1.5 * t * t));
        root[1] = hipY - (hipY - 0.15) * t * t;
        break;
      }
      default: {
        armsDown(1.1);
        set(joints.lArm, qmul(qz(-1.1 + 0.6 * Math.sin(Math.PI * u)), qx(-0.5 * Math.sin(Math.PI * u))));
        set(joints.lFore, qy(0.8 * Math.sin(Math.PI * u) * amp));
        set(joints.head, qx(0.15 * Math.sin(2 * Math.PI * u)));
      }
    }
    for (let j = 0; j < J; j++) qset(clip.rotations, f * J + j, pose[j]);
    clip.rootPositions.set(root, f * 3);
  }
  return clip;
}

/** The armature FBX converters leave above the hips: centimetres, authored Z-up. */
const ARMATURE = { name: 'Armature', scale: 0.01, rotation: qx(-Math.PI / 2) };

/** A GLB with the action's animation, as Meshy's `animation_glb_url` serves it. */
export function animationGlb(a: SimAction, opts: { fps: number; height: number }): Promise<Uint8Array> {
  const rig = meshyRig(opts.height);
  return writeFbxStyleGlb({
    skeleton: rig,
    clips: [{ name: `Armature|${a.name}|baselayer`, clip: actionClip(a, rig, opts.fps) }],
    armature: ARMATURE,
    skin: { shuffle: 7 },
    keys: { constantChannels: true },
  });
}

/** The rigged character (a skinned mesh on the rig, no animation), as `rigged_character_glb_url` serves it. */
export function riggedCharacterGlb(height: number): Promise<Uint8Array> {
  const rig = meshyRig(height);
  return writeFbxStyleGlb({ skeleton: rig, clips: [], armature: ARMATURE, skin: { shuffle: 7 }, mesh: true });
}

/** Models to rig, as a customer would upload them. */
export type SampleModel = 'humanoid' | 'quadruped' | 'huge';

/**
 * `humanoid`: a character mesh; `quadruped`: a mesh pose estimation refuses; `huge`: a GLB declaring
 * more than 300,000 faces (only its JSON is ever read).
 */
export async function sampleModelGlb(kind: SampleModel): Promise<Uint8Array> {
  if (kind === 'humanoid') return riggedCharacterGlb(1.7);
  if (kind === 'quadruped') {
    const bytes = await riggedCharacterGlb(1.0);
    return renameMeshes(bytes, 'Quadruped');
  }
  const json = {
    asset: { version: '2.0', generator: 'meshy-sim' },
    accessors: [{ componentType: 5126, count: 900_003, type: 'VEC3', max: [1, 1, 1], min: [0, 0, 0] }],
    meshes: [{ name: 'Statue', primitives: [{ attributes: { POSITION: 0 } }] }],
  };
  return glbOfJson(json);
}

/** A GLB container around a JSON chunk (and an optional BIN chunk). */
function glbOfJson(json: unknown, bin?: Uint8Array): Uint8Array {
  let text = Buffer.from(JSON.stringify(json));
  if (text.length % 4) text = Buffer.concat([text, Buffer.alloc(4 - (text.length % 4), 0x20)]);
  const parts: Buffer[] = [Buffer.alloc(12)];
  const chunk = (type: number, data: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32LE(data.length, 0);
    head.writeUInt32LE(type, 4);
    parts.push(head, data);
  };
  chunk(0x4e4f534a, text);
  if (bin) {
    let b = Buffer.from(bin);
    if (b.length % 4) b = Buffer.concat([b, Buffer.alloc(4 - (b.length % 4))]);
    chunk(0x004e4942, b);
  }
  const out = Buffer.concat(parts);
  out.writeUInt32LE(0x46546c67, 0);
  out.writeUInt32LE(2, 4);
  out.writeUInt32LE(out.length, 8);
  return out;
}

function renameMeshes(glb: Uint8Array, name: string): Uint8Array {
  const buf = Buffer.from(glb);
  const jsonLen = buf.readUInt32LE(12);
  const json = JSON.parse(buf.subarray(20, 20 + jsonLen).toString('utf8'));
  for (const m of json.meshes ?? []) m.name = name;
  const binStart = 20 + jsonLen;
  const bin = binStart + 8 <= buf.length ? buf.subarray(binStart + 8, binStart + 8 + buf.readUInt32LE(binStart)) : undefined;
  return glbOfJson(json, bin);
}
