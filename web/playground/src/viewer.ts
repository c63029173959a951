/**
 * The 3D view: a lit floor with an orbit camera, the rig (one sample, or every sample side by side), the
 * playback clock, and what is drawn on the floor (the requested root path, each sample's root trail and
 * foot contacts).
 */
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import type { Rig, RigInstance, SampleMotion } from './rig.js';

/** Foot contacts of one sample: request joint name → one flag per frame (MMCP_motion). */
export type FootContacts = Record<string, boolean[]> | null | undefined;

interface Actor {
  instance: RigInstance;
  wrapper: THREE.Group;
  mixer: THREE.AnimationMixer;
  /** Joints with contacts, their flags and the ring shown under them while planted. */
  contacts: Array<{ joint: THREE.Object3D; flags: boolean[]; ring: THREE.Mesh }>;
}

const FLOOR_Y = 0.003;
const TRAIL = new THREE.LineBasicMaterial({ color: 0xf2c14e });
const PATH = new THREE.LineBasicMaterial({ color: 0x2bbf7a });
const PATH_POINT = new THREE.MeshBasicMaterial({ color: 0x2bbf7a });
const CONTACT: Record<'left' | 'right' | 'other', THREE.MeshBasicMaterial> = {
  left: new THREE.MeshBasicMaterial({ color: 0x4f8fd6, transparent: true, opacity: 0.55 }),
  right: new THREE.MeshBasicMaterial({ color: 0xe0883a, transparent: true, opacity: 0.55 }),
  other: new THREE.MeshBasicMaterial({ color: 0xdddddd, transparent: true, opacity: 0.55 }),
};
const RING = new THREE.MeshBasicMaterial({ color: 0xffffff, side: THREE.DoubleSide });

const contactColour = (name: string) => (/left|(^|[_.:])l([_.]|$)/i.test(name) ? CONTACT.left : /right|(^|[_.:])r([_.]|$)/i.test(name) ? CONTACT.right : CONTACT.other);

export class Viewer {
  readonly renderer: THREE.WebGLRenderer;
  private readonly scene = new THREE.Scene();
  private readonly camera = new THREE.PerspectiveCamera(40, 1, 0.05, 200);
  private readonly controls: OrbitControls;
  private readonly floor: THREE.Mesh;
  private readonly actorsGroup = new THREE.Group();
  private readonly pathGroup = new THREE.Group();
  private actors: Actor[] = [];
  private fps = 30;
  private readonly timer = new THREE.Timer();
  /** Seconds into the clip. */
  time = 0;
  duration = 0;
  playing = false;
  /** The camera keeps the characters in view as they travel. */
  follow = true;
  /** Called every frame the time changed (the page moves its scrubber). */
  onTime: (t: number) => void = () => {};
  /** Called with a floor point [x, z] when the floor is clicked (not dragged). */
  onFloorClick: ((xz: [number, number]) => void) | undefined;

  constructor(private readonly canvas: HTMLCanvasElement) {
    // preserveDrawingBuffer: the page's pixels stay readable after a frame (screenshots, the e2e test).
    this.renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
    this.renderer.shadowMap.enabled = true;
    this.scene.background = new THREE.Color(0x1d2026);
    this.scene.fog = new THREE.Fog(0x1d2026, 14, 40);

    this.scene.add(new THREE.HemisphereLight(0xe8eefc, 0x3a3430, 1.6));
    const sun = new THREE.DirectionalLight(0xffffff, 2.2);
    sun.position.set(3, 6, 4);
    sun.castShadow = true;
    sun.shadow.mapSize.set(1024, 1024);
    Object.assign(sun.shadow.camera, { left: -6, right: 6, top: 6, bottom: -6, near: 0.5, far: 20 });
    this.scene.add(sun);

    this.floor = new THREE.Mesh(new THREE.PlaneGeometry(60, 60), new THREE.MeshStandardMaterial({ color: 0x30343c, roughness: 0.95 }));
    this.floor.rotation.x = -Math.PI / 2;
    this.floor.receiveShadow = true;
    this.scene.add(this.floor);
    const grid = new THREE.GridHelper(30, 60, 0x5a6170, 0x41464f);
    grid.position.y = 0.001;
    this.scene.add(grid, this.actorsGroup, this.pathGroup);

    this.camera.position.set(2.6, 1.7, 3.6);
    this.controls = new OrbitControls(this.camera, canvas);
    this.controls.target.set(0, 0.9, 0);
    this.controls.enableDamping = true;
    this.controls.update();

    this.listenForFloorClicks();
    new ResizeObserver(() => this.resize()).observe(canvas.parentElement ?? canvas);
    this.resize();
    this.renderer.setAnimationLoop((now) => this.frame(now));
  }

  /** Shows `count` copies of a rig (count = samples side by side), at rest or playing their samples. */
  show(rig: Rig, samples: SampleMotion[] = [], contacts: FootContacts[] = [], fps = 30): void {
    for (const a of this.actors) a.mixer.stopAllAction();
    this.actorsGroup.clear();
    this.actors = [];
    this.fps = fps;
    const copies = Math.max(1, samples.length);
    const spacing = Math.max(1.2, rig.height * 0.75);
    for (let i = 0; i < copies; i++) {
      const instance = rig.instantiate();
      const wrapper = new THREE.Group();
      wrapper.add(instance.object);
      instance.object.traverse((o) => {
        if ((o as THREE.Mesh).isMesh) o.castShadow = true;
      });
      const mixer = new THREE.AnimationMixer(instance.object);
      const actor: Actor = { instance, wrapper, mixer, contacts: [] };
      const motion = samples[i];
      if (motion) {
        mixer.clipAction(motion.clipFor(instance)).play();
        this.drawFloorMarks(actor, rig, motion, contacts[i]);
      }
      wrapper.position.x = (i - (copies - 1) / 2) * spacing;
      this.actorsGroup.add(wrapper);
      this.actors.push(actor);
    }
    this.duration = samples.length > 0 ? Math.max(...samples.map((s) => s.duration)) : 0;
    this.setTime(0);
    this.actorsGroup.updateMatrixWorld(true);
    this.followActors(1);
  }

  /** Moves every copy to `t` seconds (clamped to the clip). */
  setTime(t: number): void {
    this.time = Math.min(Math.max(0, t), this.duration);
    for (const a of this.actors) {
      // Just short of the end: a repeating action would wrap to frame 0 exactly at its duration.
      a.mixer.setTime(Math.min(this.time, Math.max(0, this.duration - 1e-4)));
      this.updateRings(a);
    }
    this.onTime(this.time);
  }

  /** The current frame index at the answer's fps. */
  get frameIndex(): number {
    return Math.round(this.time * this.fps);
  }

  stepFrames(n: number): void {
    this.playing = false;
    this.setTime((this.frameIndex + n) / this.fps);
  }

  /** Draws the requested root path (its points, joined) on the floor. */
  setPath(points: Array<[number, number]>): void {
    this.pathGroup.clear();
    if (points.length === 0) return;
    const marker = new THREE.SphereGeometry(0.045, 12, 8);
    for (const [x, z] of points) {
      const m = new THREE.Mesh(marker, PATH_POINT);
      m.position.set(x, 0.03, z);
      this.pathGroup.add(m);
    }
    if (points.length > 1) {
      this.pathGroup.add(new THREE.Line(new THREE.BufferGeometry().setFromPoints(points.map(([x, z]) => new THREE.Vector3(x, FLOOR_Y * 2, z))), PATH));
    }
  }

  /** Orbits the camera about its target (keyboard control of the canvas). */
  orbit(azimuth: number, elevation: number, zoom = 1): void {
    const offset = this.camera.position.clone().sub(this.controls.target);
    const s = new THREE.Spherical().setFromVector3(offset);
    s.theta += azimuth;
    s.phi = Math.min(Math.PI / 2 - 0.02, Math.max(0.05, s.phi - elevation));
    s.radius = Math.min(40, Math.max(0.5, s.radius * zoom));
    this.camera.position.copy(this.controls.target).add(new THREE.Vector3().setFromSpherical(s));
    this.controls.update();
  }

  /** The root trail and a disc at each planted frame of each contact joint, computed by stepping the clip once. */
  private drawFloorMarks(actor: Actor, rig: Rig, motion: SampleMotion, contacts: FootContacts): void {
    const frames = Math.max(1, Math.round(motion.duration * this.fps) + 1);
    const root = actor.instance.joints[0];
    const byName = new Map(rig.skeleton.joints.map((j, i) => [j.name, actor.instance.joints[i]]));
    const tracked = Object.entries(contacts ?? {}).flatMap(([name, flags]) => {
      const joint = byName.get(name);
      return joint && Array.isArray(flags) ? [{ name, joint, flags }] : [];
    });
    const trail: THREE.Vector3[] = [];
    const discs = new Map<THREE.Material, THREE.Vector3[]>();
    const p = new THREE.Vector3();
    for (let f = 0; f < frames; f++) {
      actor.mixer.setTime(Math.min(f / this.fps, Math.max(0, motion.duration - 1e-4)));
      actor.wrapper.updateMatrixWorld(true);
      root.getWorldPosition(p);
      trail.push(new THREE.Vector3(p.x, FLOOR_Y * 3, p.z));
      for (const c of tracked) {
        if (!c.flags[f]) continue;
        c.joint.getWorldPosition(p);
        const mat = contactColour(c.name);
        if (!discs.has(mat)) discs.set(mat, []);
        discs.get(mat)!.push(new THREE.Vector3(p.x, FLOOR_Y, p.z));
      }
    }
    actor.wrapper.add(new THREE.Line(new THREE.BufferGeometry().setFromPoints(trail), TRAIL));
    const disc = new THREE.CircleGeometry(0.028, 12).rotateX(-Math.PI / 2);
    const m = new THREE.Matrix4();
    for (const [mat, points] of discs) {
      const inst = new THREE.InstancedMesh(disc, mat, points.length);
      points.forEach((pt, k) => inst.setMatrixAt(k, m.makeTranslation(pt.x, pt.y, pt.z)));
      actor.wrapper.add(inst);
    }
    const ringGeometry = new THREE.RingGeometry(0.05, 0.07, 24).rotateX(-Math.PI / 2);
    actor.contacts = tracked.map((c) => {
      const ring = new THREE.Mesh(ringGeometry, RING);
      ring.visible = false;
      actor.wrapper.add(ring);
      return { joint: c.joint, flags: c.flags, ring };
    });
  }

  private updateRings(actor: Actor): void {
    if (actor.contacts.length === 0) return;
    actor.wrapper.updateMatrixWorld(true);
    const f = this.frameIndex;
    const p = new THREE.Vector3();
    for (const c of actor.contacts) {
      c.ring.visible = Boolean(c.flags[f]);
      if (!c.ring.visible) continue;
      actor.wrapper.worldToLocal(c.joint.getWorldPosition(p));
      c.ring.position.set(p.x, FLOOR_Y * 4, p.z);
    }
  }

  private frame(now: number): void {
    this.timer.update(now);
    // A hidden tab pauses frames: never jump more than a tenth of a second at once.
    const dt = Math.min(this.timer.getDelta(), 0.1);
    if (this.playing && this.duration > 0) {
      // Loops: the clip plays again from its start.
      const next = this.time + dt;
      this.setTime(next > this.duration ? next % this.duration : next);
    }
    if (this.follow) this.followActors(dt);
    this.controls.update();
    this.renderer.render(this.scene, this.camera);
  }

  /** Eases the orbit target (and the camera with it) toward the characters' mean root position on the floor. */
  private followActors(dt: number): void {
    if (this.actors.length === 0) return;
    const mean = new THREE.Vector3();
    const p = new THREE.Vector3();
    for (const a of this.actors) mean.add(a.instance.joints[0].getWorldPosition(p));
    mean.divideScalar(this.actors.length);
    const shift = new THREE.Vector3(mean.x - this.controls.target.x, 0, mean.z - this.controls.target.z).multiplyScalar(Math.min(1, dt * 3));
    this.controls.target.add(shift);
    this.camera.position.add(shift);
  }

  private resize(): void {
    const box = (this.canvas.parentElement ?? this.canvas).getBoundingClientRect();
    const w = Math.max(1, Math.floor(box.width));
    const h = Math.max(1, Math.floor(box.height));
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
  }

  /** A click (pointer released near where it went down) on the floor, not an orbit drag. */
  private listenForFloorClicks(): void {
    let down: { x: number; y: number } | undefined;
    this.canvas.addEventListener('pointerdown', (e) => (down = { x: e.clientX, y: e.clientY }));
    this.canvas.addEventListener('pointerup', (e) => {
      if (!down || !this.onFloorClick || Math.hypot(e.clientX - down.x, e.clientY - down.y) > 5) return;
      const r = this.canvas.getBoundingClientRect();
      const ndc = new THREE.Vector2(((e.clientX - r.left) / r.width) * 2 - 1, -((e.clientY - r.top) / r.height) * 2 + 1);
      const ray = new THREE.Raycaster();
      ray.setFromCamera(ndc, this.camera);
      const hit = ray.intersectObject(this.floor)[0];
      if (hit) this.onFloorClick([Math.round(hit.point.x * 100) / 100, Math.round(hit.point.z * 100) / 100]);
    });
  }
}
