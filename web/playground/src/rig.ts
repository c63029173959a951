/**
 * Rigs the answer plays on: the request skeleton of a model (a mannequin) or of an uploaded character
 * (read from its skin in the browser), and the mapping of an answer's clips onto either.
 */
import * as THREE from 'three';
import { GLTFLoader, type GLTF } from 'three/addons/loaders/GLTFLoader.js';
import { clone as cloneSkinned } from 'three/addons/utils/SkeletonUtils.js';
import type { Skeleton } from '../../../src/spec/wire.js';
import { buildMannequin } from './mannequin.js';

/** One placed copy of a rig: its scene object and the request skeleton's joints in it, in skeleton order. */
export interface RigInstance {
  object: THREE.Object3D;
  joints: THREE.Object3D[];
}

/** How an answer value of joint j (MMCP: rotation in the parent joint's rest frame, metres) becomes its node's local TRS. */
interface JointFrame {
  /** The parent joint's frame at rest relative to the node's real parent: identity when that is the parent joint. */
  parentFix: THREE.Matrix4;
  /** The parent joint's world scale (answers are in metres, a rig may store centimetres under a 0.01 armature). */
  parentScale: THREE.Vector3;
  /** The node's own scale relative to the parent joint's frame. */
  scale: THREE.Vector3;
  /** The rest offset from the parent joint in its rest frame (for joints the answer does not translate). */
  restOffset: THREE.Vector3;
}

/** What the page knows of the character a request is for. */
export interface Rig {
  /** Display name: the model's canonical skeleton or the uploaded file. */
  label: string;
  /** Sent as the request skeleton. */
  skeleton: Skeleton;
  /** A new copy to place in the scene. */
  instantiate(): RigInstance;
  frames: JointFrame[];
  /** Rest height in metres, highest joint above the lowest (shown, so a rig in centimetres stands out). */
  height: number;
}

const v = () => new THREE.Vector3();
const q = () => new THREE.Quaternion();

/** A mannequin for a skeleton given in MMCP form (the canonical skeleton of a model from /capabilities). */
export function mannequinRig(skeleton: Skeleton, label: string): Rig {
  const index = new Map(skeleton.joints.map((j, i) => [j.name, i]));
  const worldRot: THREE.Quaternion[] = [];
  const worldPos: THREE.Vector3[] = [];
  skeleton.joints.forEach((j, i) => {
    const local = q().fromArray(j.rest_rotation ?? [0, 0, 0, 1]).normalize();
    const p = j.parent === null ? -1 : (index.get(j.parent) ?? -1);
    worldRot[i] = p < 0 ? local : worldRot[p].clone().multiply(local);
    worldPos[i] = v().fromArray(j.rest_translation).add(p < 0 ? v() : worldPos[p]);
  });
  const frames = skeleton.joints.map((j): JointFrame => {
    const p = j.parent === null ? -1 : (index.get(j.parent) ?? -1);
    const offset = v().fromArray(j.rest_translation);
    return {
      parentFix: new THREE.Matrix4(),
      parentScale: new THREE.Vector3(1, 1, 1),
      scale: new THREE.Vector3(1, 1, 1),
      restOffset: p < 0 ? offset : offset.applyQuaternion(worldRot[p].clone().invert()),
    };
  });
  const instantiate = (): RigInstance => {
    const joints = skeleton.joints.map((j, i) => {
      const bone = new THREE.Bone();
      bone.name = j.name;
      bone.position.copy(frames[i].restOffset);
      bone.quaternion.fromArray(j.rest_rotation ?? [0, 0, 0, 1]).normalize();
      return bone;
    });
    skeleton.joints.forEach((j, i) => {
      const p = j.parent === null ? undefined : index.get(j.parent);
      if (p !== undefined) joints[p].add(joints[i]);
    });
    buildMannequin(joints);
    const object = new THREE.Group();
    object.add(joints[0]);
    return { object, joints };
  };
  return { label, skeleton, instantiate, frames, height: Math.max(...worldPos.map((p) => p.y)) - Math.min(...worldPos.map((p) => p.y)) };
}

/** Why an uploaded file cannot be used; its message is shown as it is. */
export class CharacterError extends Error {}

/** The path of child indices from `root` down to `node`. */
function pathOf(root: THREE.Object3D, node: THREE.Object3D): number[] {
  const path: number[] = [];
  for (let n = node; n !== root; n = n.parent!) path.unshift(n.parent!.children.indexOf(n));
  return path;
}

const follow = (root: THREE.Object3D, path: number[]): THREE.Object3D => path.reduce((n, i) => n.children[i], root);

/**
 * Reads a character (`.glb`, or `.gltf` with embedded buffers) with a skin: the request skeleton is its
 * skin's joints with their original names (three.js sanitizes node names; the gateway answers on the names
 * sent), rest positions in metres along world axes and rest rotations relative to the parent joint.
 */
export async function characterRig(data: ArrayBuffer, label: string): Promise<Rig> {
  let gltf: GLTF;
  try {
    gltf = await new GLTFLoader().parseAsync(data, '');
  } catch (err) {
    throw new CharacterError(`${label} could not be read as glTF (${err instanceof Error ? err.message : String(err)}). Use a .glb, or a .gltf with embedded buffers.`);
  }
  const scene = gltf.scene;
  scene.updateMatrixWorld(true);
  const jointSet = new Set<THREE.Object3D>();
  scene.traverse((o) => {
    if ((o as THREE.SkinnedMesh).isSkinnedMesh) for (const b of (o as THREE.SkinnedMesh).skeleton.bones) jointSet.add(b);
  });
  if (jointSet.size === 0) throw new CharacterError(`${label} has no skinned mesh: upload a character with a skin (an armature bound to its mesh).`);
  // Pre-order traversal lists parents before children, as MMCP requires.
  const joints: THREE.Object3D[] = [];
  scene.traverse((o) => {
    if (jointSet.has(o)) joints.push(o);
  });
  const parentJoint = joints.map((j) => {
    for (let a = j.parent; a; a = a.parent) if (jointSet.has(a)) return joints.indexOf(a);
    return -1;
  });
  const names = joints.map((j, i) => {
    const node = gltf.parser.associations.get(j)?.nodes;
    const name = node === undefined ? undefined : (gltf.parser.json.nodes?.[node] as { name?: string } | undefined)?.name;
    return typeof name === 'string' && name.trim().length > 0 ? name.trim() : `joint_${i}`;
  });
  const roots = joints.filter((_, i) => parentJoint[i] < 0);
  if (roots.length !== 1) {
    throw new CharacterError(`${label}'s skin has ${roots.length} root joints (${roots.map((r) => names[joints.indexOf(r)]).slice(0, 4).join(', ')}): a request skeleton has exactly one.`);
  }
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new CharacterError(`${label} has two joints named ${JSON.stringify(dup)}: joint names must be unique.`);

  const world = joints.map((j) => {
    const pos = v(), rot = q(), scale = v();
    j.matrixWorld.decompose(pos, rot, scale);
    return { pos, rot, scale };
  });
  const skeleton: Skeleton = {
    coordinate_system: 'right_handed_y_up',
    units: 'meters',
    joints: joints.map((_, i): Skeleton['joints'][number] => {
      const p = parentJoint[i];
      const t = p < 0 ? world[i].pos.clone() : world[i].pos.clone().sub(world[p].pos);
      const r = p < 0 ? world[i].rot.clone() : world[p].rot.clone().invert().multiply(world[i].rot).normalize();
      return {
        name: names[i],
        parent: p < 0 ? null : names[p],
        rest_translation: t.toArray().map(round) as [number, number, number],
        rest_rotation: r.toArray().map(round) as [number, number, number, number],
      };
    }) as Skeleton['joints'],
  };
  const frames = joints.map((j, i): JointFrame => {
    const p = parentJoint[i];
    const parentWorld = p < 0 ? new THREE.Matrix4() : joints[p].matrixWorld;
    const realParent = j.parent ?? scene;
    const parentScale = p < 0 ? new THREE.Vector3(1, 1, 1) : world[p].scale.clone();
    return {
      parentFix: parentWorld.clone().invert().multiply(realParent.matrixWorld),
      parentScale,
      scale: world[i].scale.clone().divide(parentScale),
      restOffset: v().fromArray(skeleton.joints[i].rest_translation).applyQuaternion(p < 0 ? q() : world[p].rot.clone().invert()),
    };
  });
  const paths = joints.map((j) => pathOf(scene, j));
  const ys = world.map((w) => w.pos.y);
  const instantiate = (): RigInstance => {
    const object = cloneSkinned(scene);
    return { object, joints: paths.map((path) => follow(object, path)) };
  };
  return { label, skeleton, instantiate, frames, height: Math.max(...ys) - Math.min(...ys) };
}

// Six decimals (micrometres, 1e-6 of a quaternion) keep the request small and change nothing visible.
const round = (x: number): number => Math.round(x * 1e6) / 1e6;

/** One sample of an answer: its clip already mapped onto a rig's joints. */
export interface SampleMotion {
  name: string;
  duration: number;
  /** Builds the clip for one instance of the rig (tracks target that instance's joint objects). */
  clipFor(instance: RigInstance): THREE.AnimationClip;
}

/**
 * Maps the answer's clips onto the rig: each track's node is found by its original glTF name among the
 * request skeleton's joints, and its values become local transforms of the rig's nodes (the same as the
 * answer's own when the rig is a mannequin; through armatures and centimetre scales for a character).
 */
export function mapAnswer(answer: GLTF, rig: Rig): SampleMotion[] {
  const index = new Map(rig.skeleton.joints.map((j, i) => [j.name, i]));
  const jointOfTrackNode = (nodeName: string): number | undefined => {
    const obj = THREE.PropertyBinding.findNode(answer.scene, nodeName) as THREE.Object3D | null;
    const node = obj ? answer.parser.associations.get(obj)?.nodes : undefined;
    const name = node === undefined ? undefined : (answer.parser.json.nodes?.[node] as { name?: string } | undefined)?.name;
    return name === undefined ? undefined : index.get(name);
  };
  return answer.animations.map((clip) => {
    const rotations = new Map<number, THREE.KeyframeTrack>();
    const translations = new Map<number, THREE.KeyframeTrack>();
    for (const track of clip.tracks) {
      const { nodeName, propertyName } = THREE.PropertyBinding.parseTrackName(track.name);
      const j = jointOfTrackNode(nodeName);
      if (j === undefined) continue;
      if (propertyName === 'quaternion') rotations.set(j, track);
      else if (propertyName === 'position') translations.set(j, track);
    }
    const times = (rotations.get(0) ?? clip.tracks[0])?.times ?? new Float32Array([0]);
    const F = times.length;
    // Local TRS of every joint at every key, computed once and shared by every instance of the rig.
    const local = rig.skeleton.joints.map((joint, j) => {
      const frame = rig.frames[j];
      const rot = rotations.get(j);
      const tr = translations.get(j);
      const pos = new Float32Array(F * 3);
      const quat = new Float32Array(F * 4);
      const x = new THREE.Matrix4(), m = new THREE.Matrix4(), fixInv = frame.parentFix.clone().invert();
      const t = v(), r = q(), s = v();
      const rest = q().fromArray(joint.rest_rotation ?? [0, 0, 0, 1]);
      for (let f = 0; f < F; f++) {
        if (tr) t.fromArray(tr.values, f * 3);
        else t.copy(frame.restOffset);
        if (rot) r.fromArray(rot.values, f * 4);
        else r.copy(rest);
        x.compose(t.divide(frame.parentScale), r, frame.scale);
        m.multiplyMatrices(fixInv, x).decompose(t, r, s);
        t.toArray(pos, f * 3);
        r.toArray(quat, f * 4);
      }
      return { pos, quat };
    });
    const duration = times[F - 1] ?? 0;
    return {
      name: clip.name,
      duration,
      clipFor(instance: RigInstance) {
        const tracks = instance.joints.flatMap((node, j) => [
          new THREE.QuaternionKeyframeTrack(`${node.uuid}.quaternion`, times, local[j].quat),
          ...(j === 0 || translations.has(j) ? [new THREE.VectorKeyframeTrack(`${node.uuid}.position`, times, local[j].pos)] : []),
        ]);
        return new THREE.AnimationClip(clip.name, duration, tracks);
      },
    };
  });
}

/** Parses an answer GLB. */
export function parseAnswer(glb: Uint8Array): Promise<GLTF> {
  const copy = glb.slice().buffer;
  return new GLTFLoader().parseAsync(copy, '');
}
