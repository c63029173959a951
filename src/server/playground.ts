/**
 * Serves the playground (web/playground, bundled with three.js) at `/` and `/playground/*`: from the built
 * bundle in dist/playground when the gateway runs compiled, or bundled once in memory from web/ when it
 * runs from source (tsx, vitest), so a page edited in dev is never shadowed by a stale bundle.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router, type Request, type Response } from 'express';
import { GatewayError } from '../spec/errors.js';
import type { Logger } from '../spec/adapter.js';
import { methodNotAllowed } from './http.js';

/** One file of the page, ready to send. */
interface PageFile {
  body: Buffer;
  type: string;
  etag: string;
}

/** The page: `index.html` plus assets whose names carry a hash of their content. */
export type PlaygroundFiles = Map<string, PageFile>;

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json; charset=utf-8',
  svg: 'image/svg+xml',
};

// The page runs only its own bundle and talks only to this gateway. blob: and data: let the browser read an
// uploaded character (GLTFLoader fetches embedded buffers and images by URL); they reach no network.
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self' blob: data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const HTML_ENTRY = 'index.html';

/** The repository root: the nearest folder above this module holding package.json (src/ and dist/src/ alike). */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6 && !existsSync(join(dir, 'package.json')); i++) dir = dirname(dir);
  return dir;
}

function pageFile(name: string, body: Buffer): PageFile {
  const ext = name.slice(name.lastIndexOf('.') + 1);
  return { body, type: TYPES[ext] ?? 'application/octet-stream', etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/**
 * Bundles web/playground (TypeScript, three.js, CSS) with esbuild: minified `app.<hash>.js` and
 * `app.<hash>.css`, and index.html pointing at them. esbuild is a build-time dependency, imported only here.
 */
export async function bundlePlayground(root = projectRoot()): Promise<PlaygroundFiles> {
  const esbuild = await import('esbuild');
  const web = join(root, 'web', 'playground');
  const result = await esbuild.build({
    entryPoints: [
      { in: join(web, 'src', 'main.ts'), out: 'app' },
      { in: join(web, 'src', 'app.css'), out: 'app' },
    ],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022'],
    platform: 'browser',
    outdir: '/',
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
    tsconfig: join(web, 'tsconfig.json'),
  });
  const files: PlaygroundFiles = new Map();
  const names: Record<string, string> = {};
  for (const out of result.outputFiles) {
    const ext = out.path.slice(out.path.lastIndexOf('.') + 1);
    const hash = createHash('sha256').update(out.contents).digest('hex').slice(0, 12);
    const name = `app.${hash}.${ext}`;
    names[ext] = name;
    files.set(name, pageFile(name, Buffer.from(out.contents)));
  }
  if (!names.js || !names.css) throw new Error('bundlePlayground: esbuild produced no app.js or app.css');
  const html = readFileSync(join(web, HTML_ENTRY), 'utf8')
    .replace('/playground/app.js', `/playground/${names.js}`)
    .replace('/playground/app.css', `/playground/${names.css}`);
  files.set(HTML_ENTRY, pageFile(HTML_ENTRY, Buffer.from(html, 'utf8')));
  return files;
}

/** Reads a bundle written by scripts/build-playground.ts, or undefined when there is none. */
function readBuilt(dir: string): PlaygroundFiles | undefined {
  if (!existsSync(join(dir, HTML_ENTRY))) return undefined;
  const files: PlaygroundFiles = new Map();
  for (const name of readdirSync(dir)) files.set(name, pageFile(name, readFileSync(join(dir, name))));
  return files;
}

/**
 * The page's routes. Running compiled, the bundle `npm run build` wrote is read at the first request;
 * from source, or when no bundle was built, it is bundled then (about a second, once) so that tests and
 * `npm run dev` need no build step and gateways that never serve the page never pay for it.
 */
export function playground(log: Logger, root = projectRoot()): Router {
  const fromSource = fileURLToPath(import.meta.url).endsWith('.ts');
  let files: Promise<PlaygroundFiles> | undefined;
  const load = (): Promise<PlaygroundFiles> => {
    if (!files) {
      files = (async () => (fromSource ? undefined : readBuilt(join(root, 'dist', 'playground'))) ?? bundlePlayground(root))();
      // A failed build is retried by the next request (esbuild missing, a syntax error being fixed in dev).
      files.catch(() => (files = undefined));
    }
    return files;
  };

  const send = (name: string) => async (req: Request, res: Response): Promise<void> => {
    let all: PlaygroundFiles;
    try {
      all = await load();
    } catch (err) {
      log.error({ err: String(err) }, 'the playground could not be bundled');
      throw new GatewayError('MG-SRV-001', 'The playground page is not built on this gateway.', {
        action: 'Run `npm run build:playground` (or `npm run build`) where the gateway is installed, then reload.',
      });
    }
    const file = all.get(name || String(req.params.file));
    if (!file) throw new GatewayError('MG-REQ-007', 'There is no such file in the playground.', { details: { path: req.path.slice(0, 200) } });
    const html = file.type.startsWith('text/html');
    res.setHeader('Content-Type', file.type);
    res.setHeader('ETag', file.etag);
    // index.html is revalidated so a new deployment shows at once; assets are named by content.
    res.setHeader('Cache-Control', html ? 'no-cache' : 'public, max-age=31536000, immutable');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    if (html) {
      res.setHeader('Content-Security-Policy', CSP);
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('X-Frame-Options', 'DENY');
    }
    if (req.headers['if-none-match']?.split(',').some((t) => t.trim() === file.etag)) {
      res.status(304).end();
      return;
    }
    res.setHeader('Content-Length', String(file.body.length));
    res.status(200).end(req.method === 'HEAD' ? undefined : file.body);
  };

  const router = Router();
  const methods = methodNotAllowed(['GET', 'HEAD']);
  router.route('/').get(send(HTML_ENTRY)).all(methods);
  router.route('/playground/').get(send(HTML_ENTRY)).all(methods);
  router.route('/playground/:file').get(send('')).all(methods);
  return router;
}
