/** The playground page: wires the request form, the gateway client and the 3D view together. */
import type { Capabilities, JobStatus, MmcpMotion, ModelCapabilities } from '../../../src/spec/wire.js';
import { byId, h } from './dom.js';
import { FormError, RequestForm } from './form.js';
import { describeError, gatewayClient, generateGlb, type ErrorView } from './gateway.js';
import { CharacterError, characterRig, mannequinRig, mapAnswer, parseAnswer, type Rig, type SampleMotion } from './rig.js';
import { Viewer, type FootContacts } from './viewer.js';

const KEY_STORAGE = 'motion-gateway.api-key';

const el = {
  apiKey: byId('api-key', HTMLInputElement),
  connect: byId('connect', HTMLButtonElement),
  model: byId('model', HTMLSelectElement),
  modelInfo: byId('model-info', HTMLDivElement),
  characterFile: byId('character-file', HTMLInputElement),
  characterReset: byId('character-reset', HTMLButtonElement),
  characterInfo: byId('character-info', HTMLParagraphElement),
  form: byId('request', HTMLFormElement),
  generate: byId('generate', HTMLButtonElement),
  progress: byId('progress', HTMLProgressElement),
  status: byId('status', HTMLParagraphElement),
  error: byId('error', HTMLDivElement),
  drawPath: byId('draw-path', HTMLButtonElement),
  canvas: byId('view', HTMLCanvasElement),
  play: byId('play', HTMLButtonElement),
  scrub: byId('scrub', HTMLInputElement),
  time: byId('time', HTMLOutputElement),
  viewMode: byId('view-mode', HTMLSelectElement),
  download: byId('download', HTMLButtonElement),
  follow: byId('follow', HTMLInputElement),
  answerInfo: byId('answer-info', HTMLParagraphElement),
};

interface Answer {
  glb: Uint8Array;
  rig: Rig;
  model: string;
  samples: SampleMotion[];
  contacts: FootContacts[];
  fps: number;
}

const state: {
  caps?: Capabilities;
  model?: ModelCapabilities;
  character?: Rig;
  answer?: Answer;
  running?: AbortController;
} = {};

const form = new RequestForm();
const viewer = new Viewer(el.canvas);

// The key lives in this tab's session storage only: never in local storage, cookies or the URL.
el.apiKey.value = sessionStorage.getItem(KEY_STORAGE) ?? '';
el.apiKey.addEventListener('change', () => {
  const key = el.apiKey.value.trim();
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
});
const client = () => gatewayClient(el.apiKey.value.trim() || undefined);

function showError(view: ErrorView | undefined): void {
  el.error.hidden = !view;
  if (!view) return el.error.replaceChildren();
  el.error.replaceChildren(
    h('strong', {}, view.message),
    ...(view.action ? [h('p', { class: 'action' }, view.action)] : []),
    ...(view.errors.length > 0 ? [h('ul', {}, ...view.errors.map((e) => h('li', {}, e)))] : []),
    ...(view.code ? [h('p', { class: 'code' }, view.code)] : []),
  );
}

// ---------------------------------------------------------------------------------------------------
// Models.

async function loadModels(): Promise<void> {
  showError(undefined);
  el.connect.disabled = true;
  try {
    const caps = await client().capabilities();
    state.caps = caps;
    const previous = el.model.value;
    el.model.replaceChildren(...caps.models.map((m) => h('option', { value: m.id }, m.provider && m.provider !== m.id ? `${m.id} (${m.provider})` : m.id)));
    el.model.disabled = caps.models.length === 0;
    if (caps.models.some((m) => m.id === previous)) el.model.value = previous;
    selectModel();
  } catch (err) {
    showError(describeError(err));
  } finally {
    el.connect.disabled = false;
  }
}

function selectModel(): void {
  const model = state.caps?.models.find((m) => m.id === el.model.value);
  state.model = model;
  el.generate.disabled = !model;
  if (!model) return;
  form.setModel(model);
  const l = model.limits;
  const features = [
    model.supports_async && 'async',
    model.supports_loop && 'loop',
    model.supports_trajectory && 'trajectory',
    model.supports_retargeting && 'retargeting',
    model.supports_segment_seed && 'segment seeds',
  ].filter(Boolean);
  const row = (term: string, value: string) => [h('dt', {}, term), h('dd', {}, value)];
  el.modelInfo.replaceChildren(
    model.description ? h('p', {}, model.description) : '',
    h(
      'dl',
      {},
      ...row('Native fps', String(model.fps)),
      ...row('Features', features.join(', ') || 'none'),
      ...row('Segments', model.supported_segments.join(', ')),
      ...row('Constraints', model.supported_constraints.join(', ') || 'none'),
      ...row('Limits', `${l.max_duration_seconds} s, ${l.max_num_samples} samples, ${l.max_prompt_length}-character prompts, ${l.max_constraints_per_request} constraints`),
      ...row('Foot contacts', model.predicted_contact_joints.join(', ') || 'none'),
    ),
  );
  if (!state.character) showRig(mannequinRig(model.canonical_skeleton, `${model.id}'s canonical skeleton`));
}

/** Shows a rig at rest (a new model or character): the previous answer was for another skeleton. */
function showRig(rig: Rig): void {
  state.answer = undefined;
  el.status.textContent = '';
  el.progress.value = 0;
  viewer.playing = false;
  viewer.show(rig);
  form.setJoints(rig.skeleton.joints.map((j) => j.name));
  el.characterInfo.textContent = `${rig.label}: ${rig.skeleton.joints.length} joints, ${rig.height.toFixed(2)} m tall.`;
  refreshTransport();
}

el.connect.addEventListener('click', () => void loadModels());
el.model.addEventListener('change', selectModel);

// ---------------------------------------------------------------------------------------------------
// Characters.

el.characterFile.addEventListener('change', async () => {
  const file = el.characterFile.files?.[0];
  if (!file) return;
  showError(undefined);
  try {
    const rig = await characterRig(await file.arrayBuffer(), file.name);
    state.character = rig;
    el.characterReset.disabled = false;
    showRig(rig);
  } catch (err) {
    showError(err instanceof CharacterError ? { message: err.message, errors: [] } : describeError(err));
  }
});

el.characterReset.addEventListener('click', () => {
  state.character = undefined;
  el.characterFile.value = '';
  el.characterReset.disabled = true;
  selectModel();
});

// ---------------------------------------------------------------------------------------------------
// Generation.

function statusText(s: JobStatus): string {
  const parts: string[] = [s.state];
  if (s.queue_position !== null && s.queue_position !== undefined && s.state === 'queued') parts.push(`position ${s.queue_position} in the queue`);
  if (typeof s.progress === 'number') parts.push(`${Math.round(s.progress * 100)}%`);
  if (s.served_by) parts.push(`served by ${servedByText(s.served_by)}`);
  return parts.join(' · ');
}

el.form.addEventListener('submit', (e) => {
  e.preventDefault();
  void generate();
});

async function generate(): Promise<void> {
  const model = state.model;
  if (!model) return;
  const rig = state.character ?? mannequinRig(model.canonical_skeleton, `${model.id}'s canonical skeleton`);
  showError(undefined);
  let request;
  try {
    request = form.build(model, rig.skeleton);
  } catch (err) {
    if (err instanceof FormError) {
      showError({ message: err.message, errors: [] });
      err.field.focus();
      return;
    }
    throw err;
  }
  state.running?.abort();
  const running = (state.running = new AbortController());
  el.generate.textContent = 'Generating…';
  el.progress.removeAttribute('value'); // indeterminate until the gateway reports progress
  delete el.progress.dataset.progressSource;
  el.status.textContent = 'submitting';
  el.answerInfo.textContent = '';
  try {
    const glb = await generateGlb(client(), request, {
      signal: running.signal,
      onProgress: (s, source) => {
        if (typeof s.progress === 'number') el.progress.value = s.progress;
        // Which transport fed the bar (the event stream, or the /status polls standing in for it).
        el.progress.dataset.progressSource = source;
        el.status.textContent = statusText(s);
      },
    });
    const gltf = await parseAnswer(glb);
    const motion = (gltf.parser.json.extensions as { MMCP_motion?: MmcpMotion } | undefined)?.MMCP_motion;
    const samples = mapAnswer(gltf, rig);
    state.answer = {
      glb,
      rig,
      model: model.id,
      samples,
      contacts: samples.map((s) => motion?.samples.find((m) => m.name === s.name)?.foot_contacts),
      fps: motion?.fps ?? model.fps,
    };
    el.progress.value = 1;
    el.status.textContent = `succeeded${motion?.x_served_by ? ` · served by ${servedByText(motion.x_served_by)}` : ''}`;
    const frames = motion?.samples[0]?.num_frames;
    el.answerInfo.textContent = `${samples.length} sample${samples.length === 1 ? '' : 's'}${frames ? `, ${frames} frames` : ''} at ${state.answer.fps} fps from ${model.id}, on ${rig.label}.`;
    el.viewMode.replaceChildren(
      ...(samples.length > 1 ? [h('option', { value: 'all' }, `All ${samples.length} side by side`)] : []),
      ...samples.map((s, i) => h('option', { value: String(i) }, s.name)),
    );
    showAnswer();
    viewer.playing = true;
  } catch (err) {
    if (running.signal.aborted) return;
    el.progress.value = 0;
    el.status.textContent = 'failed';
    showError(describeError(err));
  } finally {
    if (state.running === running) state.running = undefined;
    el.generate.textContent = 'Generate';
    refreshTransport();
  }
}

// ---------------------------------------------------------------------------------------------------
// Playback.

function showAnswer(): void {
  const a = state.answer;
  if (!a) return;
  const mode = el.viewMode.value;
  const picked = mode === 'all' || mode === '' ? a.samples.map((_, i) => i) : [Number(mode)];
  const time = viewer.time;
  viewer.show(a.rig, picked.map((i) => a.samples[i]), picked.map((i) => a.contacts[i]), a.fps);
  viewer.setTime(time);
}

function refreshTransport(): void {
  const has = Boolean(state.answer);
  el.play.disabled = !has;
  el.scrub.disabled = !has;
  el.viewMode.disabled = !has || (state.answer?.samples.length ?? 0) < 2;
  el.download.disabled = !has;
  el.scrub.max = String(viewer.duration);
  el.play.textContent = viewer.playing ? 'Pause' : 'Play';
  el.play.setAttribute('aria-pressed', String(viewer.playing));
  if (!has) el.answerInfo.textContent = '';
}

viewer.onTime = (t) => {
  el.scrub.value = String(t);
  el.scrub.setAttribute('aria-valuetext', `${t.toFixed(2)} seconds, frame ${viewer.frameIndex}`);
  el.time.value = `${t.toFixed(2)} s`;
};

const setPlaying = (on: boolean) => {
  viewer.playing = on && Boolean(state.answer);
  refreshTransport();
};

el.play.addEventListener('click', () => setPlaying(!viewer.playing));
el.scrub.addEventListener('input', () => {
  setPlaying(false);
  viewer.setTime(Number(el.scrub.value));
});
el.viewMode.addEventListener('change', showAnswer);
el.follow.addEventListener('change', () => (viewer.follow = el.follow.checked));

el.download.addEventListener('click', () => {
  const a = state.answer;
  if (!a) return;
  const url = URL.createObjectURL(new Blob([a.glb as Uint8Array<ArrayBuffer>], { type: 'model/gltf-binary' }));
  const link = h('a', { href: url, download: `${a.model.replace(/[^\w.-]+/g, '_')}-motion.glb` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
});

el.canvas.addEventListener('keydown', (e) => {
  const step = Math.PI / 18;
  const keys: Record<string, () => void> = {
    ArrowLeft: () => viewer.orbit(-step, 0),
    ArrowRight: () => viewer.orbit(step, 0),
    ArrowUp: () => viewer.orbit(0, step),
    ArrowDown: () => viewer.orbit(0, -step),
    '+': () => viewer.orbit(0, 0, 0.9),
    '=': () => viewer.orbit(0, 0, 0.9),
    '-': () => viewer.orbit(0, 0, 1 / 0.9),
    ' ': () => setPlaying(!viewer.playing),
    ',': () => viewer.stepFrames(-1),
    '.': () => viewer.stepFrames(1),
  };
  const action = keys[e.key];
  if (!action) return;
  e.preventDefault();
  action();
  refreshTransport();
});

// The root path: typed in the form or clicked on the floor while drawing is on.
form.onPathChange = (points) => viewer.setPath(points);
el.drawPath.addEventListener('click', () => {
  const on = el.drawPath.getAttribute('aria-pressed') !== 'true';
  el.drawPath.setAttribute('aria-pressed', String(on));
  viewer.onFloorClick = on ? (xz) => form.addPathPoint(xz) : undefined;
});

void loadModels();

/** `meshy`, or `kimodo (kimodo/text2motion)` when the model id says more than the provider's name. */
function servedByText(s: { model: string; provider: string }): string {
  return s.model === s.provider ? s.provider : `${s.provider} (${s.model})`;
}
