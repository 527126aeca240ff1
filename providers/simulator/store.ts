/**
 * Where the simulated site keeps its state: one JSON file per workload per site, so concurrent
 * activities on different workloads never contend, and a small file per site.
 *
 * Writes are atomic (write a temporary file, then rename over the old one) and each read-modify-write
 * holds a lock: an in-process queue for activities of one worker, and a lock directory (mkdir is
 * atomic) for several worker processes sharing the state folder. A lock left by a killed worker is
 * taken over after `STALE_LOCK_MS`.
 */
import { mkdir, readFile, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
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
    const run = previous
      .catch(() => undefined)
      .then(() =>
        this.withFileLock(path, async () => {
          const value = (await this.readPath<T>(path)) ?? init();
          const result = await update(value);
          await this.writeAtomic(path, value);
          return result;
        }),
      );
    this.queues.set(path, run);
    try {
      return await run;
    } finally {
      if (this.queues.get(path) === run) this.queues.delete(path);
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

  private async readPath<T>(path: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(path, 'utf8')) as T;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  private async folderOf(path: string): Promise<void> {
    const dir = dirname(path);
    if (this.folders.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.folders.add(dir);
  }

  private async writeAtomic(path: string, value: unknown): Promise<void> {
    const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, JSON.stringify(value, null, 2) + '\n');
    await rename(tmp, path);
  }

  private async withFileLock<R>(path: string, fn: () => Promise<R>): Promise<R> {
    const lock = `${path}.lock`;
    await this.folderOf(path);
    for (let wait = 2; ; wait = Math.min(wait * 2, 100)) {
      try {
        await mkdir(lock);
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' && this.folders.delete(dirname(path))) {
          // The folder was removed since (a drill's fresh site): make it again.
          await this.folderOf(path);
          continue;
        }
        if (code !== 'EEXIST') throw e;
        const age = await stat(lock).then(
          (s) => Date.now() - s.mtimeMs,
          () => 0,
        );
        if (age > STALE_LOCK_MS) await rm(lock, { recursive: true, force: true });
        else await new Promise((r) => setTimeout(r, wait));
      }
    }
    try {
      return await fn();
    } finally {
      await rmdir(lock).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
    }
  }
}
