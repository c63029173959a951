/**
 * The simulator's result files as they are fetched: their URLs (pre-signed, on the storage host or on the
 * API host; no cookie needed on either), their bytes (built once) and the answers serving them.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { restClip } from '../../../src/motion/clip.js';
import type { Clock } from '../../../src/spec/clock.js';
import { motionBvh, motionFbxZip, motionGlb, type RigStyle } from './files.js';
import { json, type Answer } from './http.js';
import type { SimJob } from './jobs.js';
import { DM_RIG, synthesize } from './motion.js';

/** The simulator options the files follow. */
export interface FileOptions {
  fileHost: 'storage' | 'api';
  /** Origin written into file URLs instead of the host serving them ('' = the serving host). */
  fileUrlOrigin: string;
  signedUrlTtlS: number;
  fileFps: number;
  rigStyle: RigStyle;
  tposeTake: boolean;
}

const xmlError = (code: string, message?: string): Answer => ({
  status: code === 'NoSuchKey' ? 404 : 403,
  headers: { 'content-type': 'application/xml' },
  body: `<Error><Code>${code}</Code>${message ? `<Message>${message}</Message>` : ''}</Error>`,
});

export class ResultFiles {
  private readonly cache = new Map<string, Promise<Uint8Array>>();
  private readonly signingKey = randomBytes(16);

  constructor(
    private readonly clock: Clock,
    private readonly options: FileOptions,
    private readonly jobs: ReadonlyMap<string, SimJob>,
    /** The simulator's origins, known once it listens. */
    private readonly origins: () => { api: string; storage: string },
  ) {}

  /** The pre-signed URL of one file of a job's variant. */
  url(job: SimJob, variant: number, name: string): string {
    const { api, storage } = this.origins();
    const onApi = this.options.fileHost === 'api';
    const path = `${onApi ? '/job/v1/files' : '/dm-output'}/${job.rid}/${variant}/${name}`;
    const expires = Math.floor(this.clock.now() / 1000) + this.options.signedUrlTtlS;
    const sig = createHmac('sha256', this.signingKey).update(`${path}\n${expires}`).digest('hex');
    return `${this.options.fileUrlOrigin || (onApi ? api : storage)}${path}?X-Amz-Expires=${expires}&X-Amz-Signature=${sig}`;
  }

  /** A GET on the storage host: the file, if the signature holds and has not expired. */
  fromStorage(url: URL): Promise<Answer> | Answer {
    const m = /^\/dm-output\/([^/]+)\/(\d+)\/([^/]+)$/.exec(url.pathname);
    return m ? this.signed(url, m) : xmlError('SignatureDoesNotMatch');
  }

  /** A GET of a file on the API host: pre-signed as on storage (no session needed). */
  fromApi(url: URL): Promise<Answer> | Answer {
    const m = /^\/job\/v1\/files\/([^/]+)\/(\d+)\/([^/]+)$/.exec(url.pathname);
    if (!m) return json(404, { message: 'Not Found' });
    return this.signed(url, m);
  }

  private async signed(url: URL, m: RegExpExecArray): Promise<Answer> {
    const expires = Number(url.searchParams.get('X-Amz-Expires'));
    const sig = url.searchParams.get('X-Amz-Signature') ?? '';
    const good = createHmac('sha256', this.signingKey).update(`${url.pathname}\n${expires}`).digest('hex');
    if (sig !== good) return xmlError('SignatureDoesNotMatch');
    if (this.clock.now() / 1000 > expires) return xmlError('AccessDenied', 'Request has expired');
    return this.answer(m[1], Number(m[2]), m[3]);
  }

  private async answer(rid: string, variant: number, name: string): Promise<Answer> {
    const job = this.jobs.get(rid);
    if (!job || variant < 1 || variant > job.numVariant) return xmlError('NoSuchKey');
    const type = name.endsWith('.glb') ? 'model/gltf-binary' : name.endsWith('.bvh') ? 'text/plain' : 'application/zip';
    return { status: 200, headers: { 'content-type': type }, body: await this.bytes(job, variant, name) };
  }

  /** The bytes of one result file of a job's variant (built once). */
  private bytes(job: SimJob, variant: number, name: string): Promise<Uint8Array> {
    const key = `${job.rid}/${variant}/${name}`;
    let p = this.cache.get(key);
    if (!p) {
      const fps = this.options.fileFps;
      const seconds = job.duration * (job.script.durationScale ?? 1);
      const clip = () => synthesize(job.prompt, seconds, variant, fps);
      const { rigStyle, tposeTake } = this.options;
      const shown = `${job.prompt}|${seconds}|${variant}|${fps}`;
      if (name.startsWith('inter_')) p = sharedFile(`inter|${fps}|${rigStyle}`, () => motionGlb(restClip(DM_RIG, 2, fps), { rigStyle, tposeTake: false }));
      else if (name.endsWith('.glb')) p = sharedFile(`glb|${shown}|${rigStyle}|${tposeTake}`, () => motionGlb(clip(), { rigStyle, tposeTake }));
      else if (name.endsWith('.bvh')) p = sharedFile(`bvh|${shown}`, async () => new Uint8Array(Buffer.from(motionBvh(clip()))));
      else p = sharedFile(`fbx|${shown}|${name}`, async () => motionFbxZip(clip(), name.replace(/\.fbx$/, '')));
      this.cache.set(key, p);
    }
    return p;
  }
}

/**
 * Files depend only on what they show (and their name), and writing them is the costliest thing the
 * simulator does: the same motion is built once per process, whichever simulator serves it (tests play
 * the same walk hundreds of times, benchmarks warm every file before timing either side). A few hundred
 * entries at most, the oldest dropped first.
 */
const FILE_CACHE = new Map<string, Promise<Uint8Array>>();
const FILE_CACHE_SIZE = 256;

function sharedFile(key: string, build: () => Promise<Uint8Array>): Promise<Uint8Array> {
  let p = FILE_CACHE.get(key);
  if (!p) {
    p = build();
    FILE_CACHE.set(key, p);
    if (FILE_CACHE.size > FILE_CACHE_SIZE) FILE_CACHE.delete(FILE_CACHE.keys().next().value!);
  }
  return p;
}
