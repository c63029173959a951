/**
 * The request editor: segments (text prompts with durations, unconditioned gaps), constraints (a root
 * path, a pose keyframe) and options, turned into an MMCP GenerateRequest for the chosen model.
 */
import * as THREE from 'three';
import type { Constraint, GenerateRequest, ModelCapabilities, Segment, Skeleton } from '../../../src/spec/wire.js';
import { byId, h, numberOf } from './dom.js';

const PROTOCOL_VERSION = '1.3';

interface SegmentDraft {
  type: 'text' | 'unconditioned';
  prompt: string;
  seconds: number;
}

/** A request the page refuses to send, with the field to fix. */
export class FormError extends Error {
  constructor(message: string, readonly field: HTMLElement) {
    super(message);
  }
}

export class RequestForm {
  private segments: SegmentDraft[] = [{ type: 'text', prompt: 'walk forward', seconds: 3 }];
  private model: ModelCapabilities | undefined;
  private readonly list = byId('segments', HTMLOListElement);
  private readonly total = byId('total', HTMLParagraphElement);
  private readonly pathText = byId('root-path', HTMLTextAreaElement);
  private readonly keyframeOn = byId('keyframe-on', HTMLInputElement);
  private readonly keyframeFrame = byId('keyframe-frame', HTMLInputElement);
  private readonly keyframeJoint = byId('keyframe-joint', HTMLSelectElement);
  private readonly keyframeRot = ['x', 'y', 'z'].map((a) => byId(`keyframe-r${a}`, HTMLInputElement));
  private readonly keyframeFill = byId('keyframe-fill', HTMLSelectElement);
  private readonly seed = byId('seed', HTMLInputElement);
  private readonly samples = byId('samples', HTMLInputElement);
  private readonly loop = byId('loop', HTMLInputElement);
  private readonly fps = byId('fps', HTMLInputElement);
  private readonly post = byId('post-processing', HTMLInputElement);
  /** The root path changed (typed or drawn): the view redraws it. */
  onPathChange: (points: Array<[number, number]>) => void = () => {};

  constructor() {
    byId('add-text', HTMLButtonElement).addEventListener('click', () => this.add({ type: 'text', prompt: '', seconds: 2 }));
    byId('add-gap', HTMLButtonElement).addEventListener('click', () => this.add({ type: 'unconditioned', prompt: '', seconds: 1 }));
    byId('clear-path', HTMLButtonElement).addEventListener('click', () => this.setPath([]));
    this.pathText.addEventListener('input', () => this.onPathChange(this.pathPoints(false)));
    this.fps.addEventListener('input', () => this.renderTotal());
    this.render();
  }

  /** Shows what the model accepts: constraint and loop controls are disabled when it does not take them. */
  setModel(model: ModelCapabilities): void {
    this.model = model;
    const constraints = new Set(model.supported_constraints);
    byId('path-block', HTMLFieldSetElement).disabled = !constraints.has('root_path');
    byId('keyframe-block', HTMLFieldSetElement).disabled = !constraints.has('pose_keyframe');
    this.loop.disabled = !model.supports_loop;
    this.samples.max = String(model.limits.max_num_samples);
    const segments = new Set(model.supported_segments);
    byId('add-gap', HTMLButtonElement).disabled = !segments.has('unconditioned');
    byId('add-text', HTMLButtonElement).disabled = !segments.has('text');
    this.renderTotal();
  }

  /** The keyframe's joint list follows the request skeleton (canonical or the uploaded character's). */
  setJoints(names: string[]): void {
    const keep = this.keyframeJoint.value;
    this.keyframeJoint.replaceChildren(...names.map((n) => h('option', { value: n }, n)));
    const preferred = names.includes(keep) ? keep : (names.find((n) => /(^|:)(Left)?(Fore)?Arm$|upperarm_l|LeftUpperArm/i.test(n)) ?? names[0]);
    if (preferred !== undefined) this.keyframeJoint.value = preferred;
  }

  /** Adds a point drawn on the floor to the root path. */
  addPathPoint(xz: [number, number]): void {
    this.setPath([...this.pathPoints(false), xz]);
  }

  private setPath(points: Array<[number, number]>): void {
    this.pathText.value = points.map(([x, z]) => `${x} ${z}`).join('\n');
    this.onPathChange(points);
  }

  /** The root path's points; `strict` refuses a line that is not two numbers (else it is skipped). */
  pathPoints(strict: boolean): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (const [i, line] of this.pathText.value.split('\n').entries()) {
      if (line.trim() === '') continue;
      const nums = line.trim().split(/[\s,;]+/).map(Number);
      if (nums.length === 2 && nums.every(Number.isFinite)) out.push([nums[0], nums[1]]);
      else if (strict) throw new FormError(`Root path line ${i + 1} is not two numbers "x z": ${JSON.stringify(line.trim())}.`, this.pathText);
    }
    return out;
  }

  private effectiveFps(): number {
    return numberOf(this.fps) ?? this.model?.fps ?? 30;
  }

  private frames(seconds: number): number {
    return Math.max(1, Math.round(seconds * this.effectiveFps()));
  }

  private add(s: SegmentDraft): void {
    this.segments.push(s);
    this.render();
    const inputs = this.list.lastElementChild?.querySelectorAll('input');
    inputs?.[0]?.focus();
  }

  private render(): void {
    this.list.replaceChildren(
      ...this.segments.map((s, i) => {
        const n = i + 1;
        const seconds = h('input', {
          type: 'number', id: `seg-${n}-seconds`, min: 0.05, step: 0.1, value: s.seconds, class: 'seconds',
          oninput: (e: Event) => {
            s.seconds = Number((e.target as HTMLInputElement).value);
            this.renderTotal();
          },
        });
        const remove = h('button', {
          type: 'button', class: 'remove', 'aria-label': `Remove segment ${n}`,
          onclick: () => {
            this.segments.splice(i, 1);
            this.render();
          },
        }, '✕');
        const body = s.type === 'text'
          ? [
              h('label', { for: `seg-${n}-prompt` }, `Segment ${n}: prompt`),
              h('input', {
                type: 'text', id: `seg-${n}-prompt`, value: s.prompt, class: 'prompt', placeholder: 'e.g. walk forward, then wave',
                oninput: (e: Event) => (s.prompt = (e.target as HTMLInputElement).value),
              }),
            ]
          : [h('span', { class: 'gap' }, `Segment ${n}: unconditioned gap`)];
        return h('li', { class: `segment ${s.type}` }, ...body, h('label', { for: `seg-${n}-seconds` }, 'seconds'), seconds, remove);
      }),
    );
    this.renderTotal();
  }

  private renderTotal(): void {
    const frames = this.segments.reduce((sum, s) => sum + this.frames(s.seconds), 0);
    const max = this.model?.limits.max_duration_seconds;
    this.total.textContent = `Total ${frames} frames at ${this.effectiveFps()} fps (${(frames / this.effectiveFps()).toFixed(2)} s${max ? ` of at most ${max} s` : ''}).`;
  }

  /** The request for `model` on `skeleton`; the gateway validates it (its refusals are shown as they come). */
  build(model: ModelCapabilities, skeleton: Skeleton): GenerateRequest {
    if (this.segments.length === 0) throw new FormError('Add a segment: a text prompt or an unconditioned gap.', byId('add-text', HTMLButtonElement));
    const segments: Segment[] = this.segments.map((s) =>
      s.type === 'text' ? { type: 'text', prompt: s.prompt, duration_frames: this.frames(s.seconds) } : { type: 'unconditioned', duration_frames: this.frames(s.seconds) },
    );
    const total = segments.reduce((sum, s) => sum + (s.duration_frames ?? 1), 0);
    const constraints: Constraint[] = [];
    const path = this.pathPoints(true);
    if (path.length > 0 && model.supported_constraints.includes('root_path')) {
      if (path.length > total) throw new FormError(`The root path has ${path.length} points for ${total} frames: use at most one point per frame.`, this.pathText);
      // Points are spread evenly over the clip, the last one at its last frame.
      const frames = path.map((_, k) => (path.length === 1 ? total - 1 : Math.round((k * (total - 1)) / (path.length - 1))));
      constraints.push({ type: 'root_path', frames: frames as [number, ...number[]], positions_xz: path as [[number, number], ...Array<[number, number]>] });
    }
    if (this.keyframeOn.checked && model.supported_constraints.includes('pose_keyframe')) {
      const frame = numberOf(this.keyframeFrame);
      if (frame === undefined || !Number.isInteger(frame)) throw new FormError('The keyframe needs a whole frame number.', this.keyframeFrame);
      const [x, y, z] = this.keyframeRot.map((input) => THREE.MathUtils.degToRad(numberOf(input) ?? 0));
      const rotation = new THREE.Quaternion().setFromEuler(new THREE.Euler(x, y, z, 'XYZ'));
      constraints.push({
        type: 'pose_keyframe',
        frame,
        joint_rotations: { [this.keyframeJoint.value]: rotation.toArray().map((v) => Math.round(v * 1e6) / 1e6) as [number, number, number, number] },
        fill_mode: this.keyframeFill.value === 'rest' ? 'rest' : 'generate',
      });
    }
    const seed = numberOf(this.seed);
    const samples = numberOf(this.samples) ?? 1;
    const fps = numberOf(this.fps);
    return {
      protocol_version: PROTOCOL_VERSION,
      model: model.id,
      skeleton,
      segments,
      ...(constraints.length > 0 ? { constraints } : {}),
      ...(fps !== undefined ? { timing: { fps } } : {}),
      options: {
        seed: seed ?? null,
        num_samples: samples,
        post_processing: this.post.checked,
        ...(this.loop.checked && !this.loop.disabled ? { loop: true } : {}),
      },
    };
  }
}
