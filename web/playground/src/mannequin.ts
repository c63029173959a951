/** A mannequin over bare bones: a capsule along every bone, a sphere at every joint, rigidly attached so any rig's motion reads. */
import * as THREE from 'three';

type Side = 'left' | 'right' | 'centre';

/** Left or right by the name's conventions: `LeftArm`, `upperarm_l`, `thigh.L`, `L_Hand`, `lShldr`. */
function sideOf(name: string): Side {
  const tail = name.slice(name.lastIndexOf(':') + 1);
  const says = (word: string, letter: string) =>
    new RegExp(word, 'i').test(tail) || new RegExp(`(^|[_.\\s-])${letter}([_.\\s-]|$)`, 'i').test(tail) || new RegExp(`^${letter}[A-Z]`).test(tail);
  return says('left', 'l') ? 'left' : says('right', 'r') ? 'right' : 'centre';
}

const COLOURS: Record<Side, number> = { left: 0x4f8fd6, right: 0xe0883a, centre: 0xc9ccd3 };

/** A bone's thickness by what its name says it is, else by its length. */
function radiusOf(name: string, length: number): number {
  const n = name.toLowerCase();
  if (/thumb|index|middle|ring|pinky|finger/.test(n)) return 0.009;
  if (/neck/.test(n)) return 0.045;
  if (/hips|pelvis|spine|chest|torso/.test(n)) return 0.085;
  if (/upleg|thigh|upperleg/.test(n)) return 0.065;
  if (/leg|shin|calf|knee/.test(n)) return 0.05;
  if (/toe|ball/.test(n)) return 0.03;
  if (/foot|ankle/.test(n)) return 0.035;
  if (/shoulder|clavicle/.test(n)) return 0.04;
  if (/forearm|lowerarm|elbow/.test(n)) return 0.037;
  if (/arm/.test(n)) return 0.045;
  if (/hand|wrist/.test(n)) return 0.032;
  return Math.min(0.05, Math.max(0.012, length * 0.2));
}

const materials = new Map<Side, THREE.MeshStandardMaterial>();
const material = (side: Side): THREE.MeshStandardMaterial => {
  let m = materials.get(side);
  if (!m) materials.set(side, (m = new THREE.MeshStandardMaterial({ color: COLOURS[side], roughness: 0.55, metalness: 0.05 })));
  return m;
};

const UP = new THREE.Vector3(0, 1, 0);

/**
 * Adds the mannequin's meshes under `bones` (already parented, at rest). A bone with several children
 * (hips, chest) gets a capsule to each, as thick as the thinner of its own kind and the child's; a head
 * (a leaf named so) is a sphere above its joint.
 */
export function buildMannequin(bones: THREE.Bone[]): void {
  for (const bone of bones) {
    const children = bone.children.filter((c): c is THREE.Bone => (c as THREE.Bone).isBone);
    const side = sideOf(bone.name);
    for (const child of children) {
      const offset = child.position;
      const length = offset.length();
      if (length < 1e-4) continue;
      const childKind = radiusOf(child.name, length);
      const r = children.length > 1 ? Math.min(radiusOf(bone.name, length), childKind) : radiusOf(bone.name, length);
      const capsule = new THREE.Mesh(new THREE.CapsuleGeometry(r, Math.max(length - r, 1e-3), 4, 12), material(children.length > 1 ? sideOf(child.name) : side));
      capsule.position.copy(offset).multiplyScalar(0.5);
      capsule.quaternion.setFromUnitVectors(UP, offset.clone().normalize());
      capsule.castShadow = true;
      bone.add(capsule);
    }
    const isHead = children.length === 0 && /head/i.test(bone.name) && !/end|top/i.test(bone.name);
    const r = isHead ? 0.1 : Math.min(0.05, radiusOf(bone.name, 0.1) * 1.1);
    const sphere = new THREE.Mesh(new THREE.SphereGeometry(r, 16, 12), material(side));
    // A head sits above its joint, along world up at rest whatever the bone's own axes.
    if (isHead) sphere.position.copy(UP).multiplyScalar(0.09).applyQuaternion(worldRotation(bone).invert());
    sphere.castShadow = true;
    bone.add(sphere);
  }
}

/** A bone's rest world rotation from its parents' local rotations (the bones are not in a scene yet). */
function worldRotation(bone: THREE.Object3D): THREE.Quaternion {
  const qw = new THREE.Quaternion();
  for (let b: THREE.Object3D | null = bone; b; b = b.parent) qw.premultiply(b.quaternion);
  return qw;
}
