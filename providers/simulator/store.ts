/**
 * Where the simulated site keeps its state: one JSON file per workload per site, so concurrent
 * activities on different workloads never contend, and a small file per site.
 *
 * Writes are atomic (the new version is written beside the file, then renamed over it) and each
 * read-modify-write holds a lock: an in-process queue for activities of one worker, and a lock file
 * (created exclusively) for several worker processes sharing the state folder. A lock left by a killed
 * worker is taken over after `STALE_LOCK_MS`.
 *
 * The read is synchronous (the page cache answers it); creating and renaming wait on the file system's
 * journal, which a busy database on the same disk keeps busy, so they stay asynchronous, off the event loop.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const STALE_LOCK_MS = 10_000;

export class JsonStore {
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Folders made by this process: one `mkdir -p` per folder, not two per write. */
  private readonly folders = new Set<string>();

  constructor(readonly root: string) {}

  /** Reads `key`, lets `update` change it, writes it back; the whole under the key's lock. */
  async update<T, R>(key: string, init: () => T, update: (value: T) => R | Promise<R>): Promise<R> {
    const path = this.pathOf(key);
    const previous = this.queues.get(path) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.locked(path, init, update));
    this.queues.set(path, run);
    try {
      return await run;
    } finally {
      if (this.queues.get(path) === run) this.queues.delete(path);
    }
  }

  /**
   * The lock is the next version of the file: `<file>.lock`, created exclusively (another process holding
   * it makes us wait), written with the new value and renamed over the file, which also releases it. Two
   * metadata operations per write instead of four.
   */
  private async locked<T, R>(path: string, init: () => T, update: (value: T) => R | Promise<R>): Promise<R> {
    const lock = `${path}.lock`;
    let file: FileHandle | undefined;
    for (let wait = 2; (file = await this.tryLock(path, lock)) === undefined; wait = Math.min(wait * 2, 100)) {
      const age = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > STALE_LOCK_MS) await rm(lock, { force: true });
      else await new Promise((r) => setTimeout(r, wait));
    }
    let written = false;
    try {
      const value = this.readPath<T>(path) ?? init();
      const result = await update(value);
      await file.writeFile(JSON.stringify(value, null, 2) + '\n');
      await file.close();
      file = undefined;
      await rename(lock, path);
      written = true;
      return result;
    } finally {
      await file?.close();
      if (!written) await rm(lock, { force: true });
    }
  }

  async read<T>(key: string): Promise<T | undefined> {
    return this.readPath<T>(this.pathOf(key));
  }

  /** Every key under a folder (`site/`), for inspecting a whole site. */
  async keys(prefix: string): Promise<string[]> {
    try {
      const names = await readdir(join(this.root, prefix));
      return names
        .filter((n) => n.endsWith('.json'))
        .map((n) => `${prefix}/${n.slice(0, -5)}`)
        .sort();
    } catch {
      return [];
    }
  }

  private pathOf(key: string): string {
    if (!/^[\w.-]+(\/[\w.-]+)*$/.test(key) || key.includes('..')) throw new Error(`bad store key ${key}`);
    return join(this.root, `${key}.json`);
  }

  private readPath<T>(path: string): T | undefined {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as T;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  private folderOf(path: string): void {
    const dir = dirname(path);
    if (this.folders.has(dir)) return;
    mkdirSync(dir, { recursive: true });
    this.folders.add(dir);
  }

  /** Creates the lock file: its handle, or undefined when another process holds it. */
  private async tryLock(path: string, lock: string): Promise<FileHandle | undefined> {
    this.folderOf(path);
    try {
      return await open(lock, 'wx');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // The folder was removed since (a drill's fresh site): make it again.
      if (code === 'ENOENT' && this.folders.delete(dirname(path))) return this.tryLock(path, lock);
      if (code !== 'EEXIST') throw e;
      return undefined;
    }
  }
}
