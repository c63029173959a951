/**
 * The playground at `/` in real Chromium (playwright-core, headless, software WebGL) against a real
 * gateway: the API key, progress of an async job (live from its event stream, from /status polls when the
 * stream fails), the rendered and playing mannequin, the GLB download, an uploaded character and an error
 * envelope, as a user sees them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProceduralAdapter } from '../../src/adapters/procedural/index.js';
import { parseGlb } from '../../src/motion/gltf.js';
import { mixamoCharacterGlb } from '../fixtures/playground/character.js';
import { createGatedAdapter, type GatedAdapter } from '../helpers/gated-adapter.js';
import { startGateway, type Running } from '../helpers/gateway.js';
import { validateGltf } from '../helpers/gltf-validate.js';

// The callbacks given to page.evaluate and waitForFunction run in the page; the test program has no DOM
// lib, so the page globals they use are declared here, loosely, for this module only.
declare const document: any;
declare const window: any;
declare const sessionStorage: any;
declare const localStorage: any;
declare function requestAnimationFrame(callback: () => void): number;

const CHROMIUM = '/usr/bin/chromium';
const KEY = 'playground-e2e-key-0123456789';
const SCREENSHOT = '/tmp/playground.png';
/** A job's event stream, as the page requests it. */
const EVENTS = /\/generate\/jobs\/[^/]+\/events$/;

let gateway: Running;
let gated: GatedAdapter;
/** The gated provider's gate, held here so that a test can close it again after an earlier one opened it. */
const gate = { open: false };
let browser: Browser | undefined;
let page: Page;
/** Uncaught page errors and console errors (a CSP violation is one): none may happen. */
const pageProblems: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: the playground test needs it (Debian: apt-get install -y chromium; .ci/run installs it).`);
  }
  gated = createGatedAdapter({ modelId: 'gated', shared: { calls: { start: 0, advance: 0, cancel: 0 }, gate } });
  gateway = await startGateway({ apiKeys: [KEY] }, { adapters: [createProceduralAdapter(), gated] });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // SwiftShader: WebGL without a GPU, the same pixels on every machine.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1000, height: 640 }, acceptDownloads: true });
  page.on('pageerror', (e) => pageProblems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // The refusals the test provokes (401 without a key, 400 for a too-long clip) are logged by Chromium too.
    // So is the event stream the fallback test cuts.
    const provoked = /^Failed to load resource: the server responded with a status of 40[01]/.test(m.text()) || (/^Failed to load resource/.test(m.text()) && EVENTS.test(m.location().url));
    if (m.type() === 'error' && !provoked) pageProblems.push(`console: ${m.text()}`);
  });
});

afterAll(async () => {
  gated?.open();
  await browser?.close();
  await gateway?.close();
});

/** Resolves after the page has rendered `n` more animation frames (the view draws on each). */
const frames = (n = 2) =>
  page.evaluate((k) => new Promise<void>((resolve) => {
    const step = (left: number) => (left === 0 ? resolve() : requestAnimationFrame(() => step(left - 1)));
    step(k);
  }), n);

interface CanvasPixels {
  /** Pixels much brighter than the dark floor and background: the figure. */
  bright: number;
  /** Clearly green pixels: the uploaded character's material. */
  green: number;
  total: number;
}

/** Counts the 3D view's pixels (scaled down to 320×200 in the page) and keeps them under `name` for changedPixels. */
async function canvasPixels(name: string): Promise<CanvasPixels> {
  await frames();
  return page.evaluate((key) => {
    const view = document.querySelector('#view');
    const c = document.createElement('canvas');
    c.width = 320;
    c.height = 200;
    const ctx = c.getContext('2d')!;
    ctx.drawImage(view, 0, 0, c.width, c.height);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    const w = window as { captures?: Record<string, Uint8ClampedArray> };
    (w.captures ??= {})[key] = d;
    let bright = 0;
    let green = 0;
    for (let i = 0; i < d.length; i += 4) {
      const [r, g, b] = [d[i], d[i + 1], d[i + 2]];
      if (0.299 * r + 0.587 * g + 0.114 * b > 110) bright++;
      if (g > r + 15 && g > b + 15) green++;
    }
    return { bright, green, total: c.width * c.height };
  }, name);
}

/** Pixels that differ clearly between two captures of canvasPixels. */
function changedPixels(a: string, b: string): Promise<number> {
  return page.evaluate(([ka, kb]) => {
    const { captures } = window as { captures: Record<string, Uint8ClampedArray> };
    const [x, y] = [captures[ka], captures[kb]];
    let n = 0;
    for (let i = 0; i < x.length; i += 4) if (Math.abs(x[i] - y[i]) + Math.abs(x[i + 1] - y[i + 1]) + Math.abs(x[i + 2] - y[i + 2]) > 60) n++;
    return n;
  }, [a, b]);
}

const scrubTime = async () => Number(await page.inputValue('#scrub'));

/** Clicks Generate and waits for the answer to be described under the view (or the error box to show). */
async function generateAndWait(): Promise<void> {
  await page.click('#generate');
  await page.waitForFunction(() => (document.querySelector('#answer-info').textContent ?? '') !== '' || !document.querySelector('#error').hidden);
  expect(await page.isHidden('#error'), await page.textContent('#error') ?? '').toBe(true);
  expect(await page.textContent('#status')).toMatch(/^succeeded/);
}

async function downloadGlb(): Promise<Uint8Array> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  expect(download.suggestedFilename()).toMatch(/\.glb$/);
  return new Uint8Array(readFileSync(await download.path()));
}

describe('the playground page', () => {
  it('is served at / and /playground/ with a strict CSP, hashed immutable assets and revalidation', async () => {
    const res = await fetch(`${gateway.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/connect-src 'self'/);
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const html = await res.text();
    expect(html).not.toMatch(/<script>|<script [^>]*>[^<]/); // no inline script
    const js = /src="(\/playground\/app\.[0-9a-f]{12}\.js)"/.exec(html)?.[1];
    const css = /href="(\/playground\/app\.[0-9a-f]{12}\.css)"/.exec(html)?.[1];
    expect(js && css).toBeTruthy();

    const script = await fetch(`${gateway.url}${js}`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const body = await script.text();
    expect(body.length).toBeGreaterThan(300_000); // three.js is bundled in, nothing comes from a CDN
    expect(body).not.toMatch(/https?:\/\/(cdn|unpkg|esm\.sh|cdnjs)/);
    expect((await fetch(`${gateway.url}${css}`)).headers.get('content-type')).toBe('text/css; charset=utf-8');

    const again = await fetch(`${gateway.url}/playground/`, { headers: { 'if-none-match': res.headers.get('etag')! } });
    expect(again.status).toBe(304);
    const post = await fetch(`${gateway.url}/`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const missing = await fetch(`${gateway.url}/playground/app.000000000000.js`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).detail.error_code).toBe('MG-REQ-007');
  });

  it("shows the envelope's message and action when the key is missing, then loads the models with the key (kept in session storage)", async () => {
    await page.goto(`${gateway.url}/`);
    await page.waitForSelector('#error:not([hidden])');
    expect(await page.textContent('#error strong')).toBe('An API key is required.');
    expect(await page.textContent('#error .action')).toBe('Send Authorization: Bearer <your gateway API key>.');
    expect(await page.textContent('#error .code')).toContain('MG-AUT-001');

    await page.getByLabel('API key').fill(KEY);
    await page.getByLabel('API key').press('Tab'); // change event: stored
    await page.getByRole('button', { name: 'Load models' }).click();
    await page.waitForSelector('#model option[value="procedural"]', { state: 'attached' });
    expect(await page.isHidden('#error')).toBe(true);
    expect(await page.$$eval('#model option', (o) => o.map((x) => x.value))).toEqual(['procedural', 'gated']);
    expect(await page.textContent('#model-info')).toContain('30 s, 16 samples');
    const stored = await page.evaluate(() => ({ session: sessionStorage.getItem('motion-gateway.api-key'), local: localStorage.length, cookie: document.cookie }));
    expect(stored).toEqual({ session: KEY, local: 0, cookie: '' });
  });

  it('shows the progress of an async job (queue, progress, the serving provider) until it finishes', async () => {
    await page.selectOption('#model', 'gated');
    await page.click('#generate');
    // The gated provider reports pending steps with rising progress until the test opens it.
    await page.waitForFunction(() => {
      const bar = document.querySelector('#progress');
      return bar.hasAttribute('value') && bar.value > 0 && bar.value < 1 && /served by gated/.test(document.querySelector('#status').textContent ?? '');
    });
    expect(await page.textContent('#status')).toMatch(/^(queued|running)/);
    // The bar was fed by the job's event stream, not by the client's /status polls.
    expect(await page.getAttribute('#progress', 'data-progress-source')).toBe('events');
    gated.open();
    await page.waitForFunction(() => (document.querySelector('#answer-info').textContent ?? '') !== '');
    expect(await page.textContent('#status')).toMatch(/^succeeded/);
    expect(await page.$eval('#progress', (p) => p.value)).toBe(1);
  });

  it('falls back to polling /status for the progress when the event stream fails', async () => {
    gate.open = false;
    let cut = 0;
    await page.route(EVENTS, (route) => {
      cut++;
      return route.abort('connectionreset');
    });
    // Another seed: the same request again would be answered from the gateway's seeded-result cache at once.
    await page.fill('#seed', '8');
    try {
      await page.click('#generate');
      await page.waitForFunction(() => {
        const bar = document.querySelector('#progress');
        return bar.dataset.progressSource === 'status' && bar.value > 0 && bar.value < 1 && /served by gated/.test(document.querySelector('#status').textContent ?? '');
      });
      expect(cut).toBe(1); // the page did ask for the stream
      expect(await page.textContent('#status')).toMatch(/^(queued|running)/);
      gated.open();
      await page.waitForFunction(() => (document.querySelector('#answer-info').textContent ?? '') !== '');
      expect(await page.textContent('#status')).toMatch(/^succeeded/);
      expect(await page.isHidden('#error')).toBe(true);
    } finally {
      await page.unroute(EVENTS);
      await page.fill('#seed', '7');
    }
  });

  it('generates a walk on the mannequin that renders and plays; pause, frame steps and scrubbing move the clip', async () => {
    await page.selectOption('#model', 'procedural');
    await page.fill('#seg-1-prompt', 'walk forward');
    await page.fill('#seg-1-seconds', '3');
    await generateAndWait();
    expect(await page.textContent('#answer-info')).toContain("90 frames at 30 fps from procedural, on procedural's canonical skeleton");

    const lit = await canvasPixels('walk');
    expect(lit.bright / lit.total).toBeGreaterThan(0.005); // the mannequin, not an empty floor
    const t0 = await scrubTime();
    await page.waitForFunction((t) => Math.abs(Number(document.querySelector('#scrub').value) - t) > 0.25, t0);

    await page.getByRole('button', { name: 'Pause' }).click();
    const paused = await scrubTime();
    await frames(4);
    expect(await scrubTime()).toBe(paused);
    await page.focus('#view');
    await page.keyboard.press('.');
    expect(await scrubTime()).toBeCloseTo(Math.round(paused * 30 + 1) / 30, 6);

    await page.fill('#scrub', '0.2');
    await canvasPixels('early');
    await page.fill('#scrub', '1.6');
    await canvasPixels('later');
    expect(await changedPixels('early', 'later')).toBeGreaterThan(200); // the figure moved between the two times
    await page.screenshot({ path: SCREENSHOT });
  });

  it('downloads the answer as a valid GLB', async () => {
    const glb = await downloadGlb();
    const report = await validateGltf(glb, 'glb');
    expect(report.errors).toEqual([]);
    const { json } = parseGlb(glb);
    expect(json.animations?.map((a) => a.name)).toEqual(['sample_0']);
    expect(json.nodes?.[0].name).toBe('Hips');
  });

  it('reads an uploaded character in the browser, sends its skeleton and plays the answer on it, samples side by side', async () => {
    const bytes = await mixamoCharacterGlb();
    await page.setInputFiles('#character-file', { name: 'mixamo-character.glb', mimeType: 'model/gltf-binary', buffer: Buffer.from(bytes) });
    await page.waitForFunction(() => /mixamo-character\.glb: 65 joints, 1\.80 m tall/.test(document.querySelector('#character-info').textContent ?? ''));
    const atRest = await canvasPixels('character');
    expect(atRest.green / atRest.total).toBeGreaterThan(0.005);

    await page.fill('#samples', '2');
    await generateAndWait();
    expect(await page.textContent('#answer-info')).toContain('2 samples, 90 frames at 30 fps from procedural, on mixamo-character.glb');
    expect(await page.$$eval('#view-mode option', (o) => o.map((x) => x.textContent))).toEqual(['All 2 side by side', 'sample_0', 'sample_1']);
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.fill('#scrub', '0.3');
    const both = await canvasPixels('both');
    await page.selectOption('#view-mode', '1');
    const one = await canvasPixels('one');
    expect(both.green).toBeGreaterThan(one.green * 1.4); // two characters, then one
    await page.fill('#scrub', '1.5');
    await canvasPixels('one-later');
    expect(await changedPixels('one', 'one-later')).toBeGreaterThan(200);

    // The request skeleton was the character's: the answer animates its own joint names.
    const { json } = parseGlb(await downloadGlb());
    expect(json.nodes?.length).toBe(65);
    expect(json.nodes?.[0].name).toBe('mixamorig:Hips');
    expect(json.animations?.map((a) => a.name)).toEqual(['sample_0', 'sample_1']);

    await page.getByRole('button', { name: 'Use the mannequin' }).click();
    await page.waitForFunction(() => /canonical skeleton: 22 joints/.test(document.querySelector('#character-info').textContent ?? ''));
  });

  it('sends a root path (typed, and a point clicked on the floor) and a keyframe, and the answer honours them', async () => {
    await page.getByLabel(/Points on the floor/).fill('0 0\n0 1.2');
    await page.getByRole('button', { name: 'Draw on the floor' }).click();
    expect(await page.getAttribute('#draw-path', 'aria-pressed')).toBe('true');
    // The camera looks at the mannequin from above the floor: a click low in the view lands on the floor.
    const box = (await page.locator('#view').boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height * 0.85);
    const points = (await page.inputValue('#root-path')).trim().split('\n');
    expect(points).toHaveLength(3);
    expect(points[2]).toMatch(/^-?\d+(\.\d+)? -?\d+(\.\d+)?$/);
    await page.getByRole('button', { name: 'Draw on the floor' }).click();
    await page.getByLabel('Pose a joint at a frame').check();
    await page.getByLabel('Frame', { exact: true }).fill('45');
    await page.selectOption('#keyframe-joint', 'LeftArm');
    await generateAndWait();
    const { json } = parseGlb(await downloadGlb());
    const motion = (json.extensions as { MMCP_motion: { samples: Array<{ x_constraint_residuals: Array<{ type: string; max_position_error_m: number }> }> } }).MMCP_motion;
    const residuals = motion.samples[0].x_constraint_residuals;
    expect(residuals.map((r) => r.type)).toEqual(['root_path', 'pose_keyframe']);
    expect(residuals[0].max_position_error_m).toBeLessThan(0.5);
    await page.getByRole('button', { name: 'Clear the path' }).click();
    await page.getByLabel('Pose a joint at a frame').uncheck();
  });

  it("shows a refused request's message and action from the envelope", async () => {
    await page.fill('#samples', '1');
    await page.fill('#seg-1-seconds', '40');
    await page.click('#generate');
    await page.waitForSelector('#error:not([hidden])');
    expect(await page.textContent('#error strong')).toBe('The request lasts 40.00 s; at most 30 s are accepted.');
    expect(await page.textContent('#error .action')).toBe('Stay within the limit named in error.details (see GET /capabilities).');
    expect(await page.textContent('#error .code')).toBe('MG-PRO-012 · HTTP 400');
    expect(await page.textContent('#status')).toBe('failed');
  });

  it('logged no page error and no CSP violation', () => {
    expect(pageProblems).toEqual([]);
  });
});
