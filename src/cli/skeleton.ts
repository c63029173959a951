/**
 * Reads the request skeleton from a character file: a `.glb`/`.gltf` (its first skin's joints, as the
 * playground does in the browser, web/playground/src/rig.ts) or a `.json` holding a skeleton object.
 */
import { extname } from 'node:path';
import { NodeIO, type Node } from '@gltf-transform/core';
import type { Skeleton } from '../spec/wire.js';
import { qinv, qmul, qnormalize, vsub } from '../motion/quat.js';
import { CliError } from './exit-codes.js';
import { readJsonFile } from './json.js';

const round = (x: number): number => Math.round(x * 1e6) / 1e6;

export async function readSkeletonFile(file: string): Promise<Skeleton> {
  const ext = extname(file).toLowerCase();
  if (ext === '.glb' || ext === '.gltf') return skeletonOfGltf(file);
  if (ext === '.json') return skeletonOfJson(file);
  throw new CliError(`--skeleton ${file}: expected a .glb, .gltf or .json file`);
}

/** A `.json` skeleton: the object itself, or the `skeleton` of a request or model entry holding one. */
async function skeletonOfJson(file: string): Promise<Skeleton> {
  const value = await readJsonFile(file, `--skeleton ${file}`);
  const obj = value as { joints?: unknown; skeleton?: { joints?: unknown } } | null;
  if (obj && Array.isArray(obj.joints)) return obj as Skeleton;
  if (obj && obj.skeleton && Array.isArray(obj.skeleton.joints)) return obj.skeleton as Skeleton;
  throw new CliError(`--skeleton ${file}: no skeleton in it (an object with a "joints" array)`);
}

/**
 * The first skin's joints with their original names, parents before children (pre-order of the scene),
 * rest offsets in metres along world axes (armature scale applied) and rest rotations relative to the
 * parent joint, the root's being its world rotation.
 */
async function skeletonOfGltf(file: string): Promise<Skeleton> {
  let doc;
  try {
    doc = await new NodeIO().read(file);
  } catch (err) {
    throw new CliError(`--skeleton ${file} could not be read as glTF (${(err as Error).message})`);
  }
  const root = doc.getRoot();
  const skin = root.listSkins()[0];
  if (!skin || skin.listJoints().length === 0) throw new CliError(`--skeleton ${file} has no skin: use a character with an armature bound to its mesh`);
  const jointSet = new Set(skin.listJoints());
  const joints: Node[] = [];
  const seen = new Set<Node>();
  const scenes = [root.getDefaultScene(), ...root.listScenes()].filter((s) => s !== null);
  for (const scene of scenes) {
    scene.traverse((n) => {
      if (jointSet.has(n) && !seen.has(n)) {
        seen.add(n);
        joints.push(n);
      }
    });
  }
  if (joints.length !== jointSet.size) throw new CliError(`--skeleton ${file}: ${jointSet.size - joints.length} of the skin's joints are not in any scene`);

  const parentOf = joints.map((j) => {
    for (let a = j.getParentNode(); a; a = a.getParentNode()) if (jointSet.has(a)) return joints.indexOf(a);
    return -1;
  });
  const names = joints.map((j, i) => j.getName().trim() || `joint_${i}`);
  const roots = names.filter((_, i) => parentOf[i] < 0);
  if (roots.length !== 1) throw new CliError(`--skeleton ${file}: the skin has ${roots.length} root joints (${roots.slice(0, 4).join(', ')}); a request skeleton has exactly one`);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new CliError(`--skeleton ${file}: two joints are named ${JSON.stringify(dup)}; joint names must be unique`);

  const pos = joints.map((j) => j.getWorldTranslation());
  const rot = joints.map((j) => qnormalize(j.getWorldRotation()));
  return {
    coordinate_system: 'right_handed_y_up',
    units: 'meters',
    joints: joints.map((_, i) => {
      const p = parentOf[i];
      const t = p < 0 ? [...pos[i]] : vsub(pos[i], pos[p]);
      const r = p < 0 ? rot[i] : qnormalize(qmul(qinv(rot[p]), rot[i]));
      return {
        name: names[i],
        parent: p < 0 ? null : names[p],
        rest_translation: t.map(round) as [number, number, number],
        rest_rotation: r.map(round) as [number, number, number, number],
      };
    }) as Skeleton['joints'],
  };
}
