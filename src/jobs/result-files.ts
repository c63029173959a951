/**
 * The directory beside the database that holds results too large for a SQLite row, one GLB file each.
 * Files are written to a temporary name, fsync'd, renamed and the directory fsync'd, all asynchronously,
 * so a file that has its final name is complete and durable before any row points at it. A `:memory:`
 * store gets a temporary directory that is removed when the store closes.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { copyFile, link, open, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileResult, type StoredResult } from './stored-result.js';

/** Link errors after which a copy does the job (filesystems without hard links, link count limits). */
const LINK_UNSUPPORTED = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS']);

const isErrno = (err: unknown, code: string) => (err as NodeJS.ErrnoException | undefined)?.code === code;

export class ResultFiles {
  readonly dir: string;
  private readonly temporary: boolean;

  /** `<dbPath>.results/` for a database file; a fresh temporary directory for `:memory:`. */
  constructor(dbPath: string) {
    this.temporary = dbPath === ':memory:';
    this.dir = this.temporary ? mkdtempSync(join(tmpdir(), 'motion-gateway-results-')) : `${dbPath}.results`;
    mkdirSync(this.dir, { recursive: true });
  }

  /** Only our own bare file names are ever joined to the directory. */
  pathOf(name: string): string {
    return join(this.dir, basename(name));
  }

  /** Writes `bytes` as `name`, durably: temp file, fsync, rename, fsync of the directory. */
  async write(name: string, bytes: Uint8Array): Promise<void> {
    const temp = this.tempPathFor(name);
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } catch (err) {
      await handle.close();
      await rm(temp, { force: true });
      throw err;
    }
    await handle.close();
    await rename(temp, this.pathOf(name));
    await this.syncDir();
  }

  /**
   * Gives the file `from` a second name `to` (a hard link: no bytes copied, and either name can be
   * deleted without touching the other); copies durably where links are not available.
   * Rejects with ENOENT when `from` no longer exists.
   */
  async share(from: string, to: string): Promise<void> {
    try {
      await link(this.pathOf(from), this.pathOf(to));
    } catch (err) {
      if (!LINK_UNSUPPORTED.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
      const temp = this.tempPathFor(to);
      await copyFile(this.pathOf(from), temp);
      const handle = await open(temp, 'r+');
      await handle.sync().finally(() => handle.close());
      await rename(temp, this.pathOf(to));
    }
    await this.syncDir();
  }

  /** Opens a stored result for reading; undefined when the file is missing or not `size` bytes long. */
  async open(name: string, size: number): Promise<StoredResult | undefined> {
    let handle;
    try {
      handle = await open(this.pathOf(name), 'r');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
    if ((await handle.stat()).size !== size) {
      await handle.close();
      return undefined;
    }
    return fileResult(handle, size);
  }

  /** Whether the file exists with exactly `size` bytes (start-up reconciliation). */
  isIntact(name: string, size: number | null): boolean {
    try {
      return statSync(this.pathOf(name)).size === size;
    } catch {
      return false;
    }
  }

  /** Deletes a file; a file already gone is fine. Synchronous: an unlink is one metadata update. */
  remove(name: string): void {
    try {
      unlinkSync(this.pathOf(name));
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
  }

  /**
   * Deletes files no row refers to (a crash between the rename and the row update, or during a write)
   * once they are older than `graceMs` by file time: a younger file may be a write in progress.
   */
  removeOrphans(referenced: Set<string>, graceMs: number, nowMs = Date.now()): number {
    let removed = 0;
    for (const name of readdirSync(this.dir)) {
      if (referenced.has(name)) continue;
      try {
        if (nowMs - statSync(this.pathOf(name)).mtimeMs < graceMs) continue;
        this.remove(name);
        removed++;
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
      }
    }
    return removed;
  }

  /** Removes the directory of a `:memory:` store; a file-backed store keeps its results. */
  close(): void {
    if (this.temporary) rmSync(this.dir, { recursive: true, force: true });
  }

  private tempPathFor(name: string): string {
    return `${this.pathOf(name)}.${randomBytes(6).toString('hex')}.tmp`;
  }

  /** Makes a rename durable (the directory entry); not every platform can open a directory. */
  private async syncDir(): Promise<void> {
    let dir;
    try {
      dir = await open(this.dir, 'r');
    } catch {
      return;
    }
    try {
      await dir.sync();
    } catch (err) {
      if (!isErrno(err, 'EINVAL') && !isErrno(err, 'EPERM') && !isErrno(err, 'EISDIR')) throw err;
    } finally {
      await dir.close();
    }
  }
}
