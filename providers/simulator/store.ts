/**
 * Where the simulated site keeps its state: one JSON file per workload per site, so concurrent
 * activities on different workloads never contend, and a small file per site.
 *
 * Each read-modify-write holds the key's lock: an in-process queue for activities of one worker, and
 * `proper-lockfile` (a `<file>.lock` folder) across the worker processes that share the state folder.
 * The holder keeps the lock's mtime fresh, so a lock is stale only when its holder is gone: one left by
 * a SIGKILLed worker is taken over after `staleLockMs` (10 s).
 *
 * A write is the classic durable replace, five calls: the new version goes to a temporary file beside the
 * file (open, write, fsync, close), which is renamed over it; then the folder is fsync'd (one folder fsync
 * serves every rename finished before it starts). A reader sees the old version or the new one, never a
 * torn file, and a written version survives a crash of the machine, not only of the process. An update
 * that changes nothing writes nothing. A writer killed mid-write leaves its temporary file
 * (`<key>.json.<pid>.<n>`), which `keys` does not list. (write-file-atomic did the same in fourteen calls
 * and more per write: a realpath of the path, one lstat per folder in it, a stat, a chown and a chmod of
 * the temporary file, an unlink after the rename; at 250 steps a second they were a quarter of a worker's
 * CPU: `npm run bench`.)
 *
 * The read is synchronous (the page cache answers it); locking, writing and syncing wait on the file
 * system's journal, which a busy database on the same disk keeps busy, so they stay asynchronous.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { lock } from 'proper-lockfile';

export interface StoreOptions {
  /** fsync each version before it replaces the file, and the folder after (default true). */
  fsync?: boolean;
  /** A lock whose mtime is older than this is taken over (default 10 s; at least 2 s). */
  staleLockMs?: number;
}

export class JsonStore {
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Folders made by this process: one `mkdir -p` per folder, not one per write. */
  private readonly folders = new Set<string>();
  /** Per folder: the fsync under way, and the one queued behind it. */
  private readonly folderSyncs = new Map<string, { running?: Promise<void>; next?: Promise<void> }>();
  private readonly fsync: boolean;
  private readonly staleLockMs: number;

  constructor(
    readonly root: string,
    options: StoreOptions = {},
  ) {
    this.fsync = options.fsync ?? true;
    this.staleLockMs = options.staleLockMs ?? 10_000;
  }

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

  private async locked<T, R>(path: string, init: () => T, update: (value: T) => R | Promise<R>): Promise<R> {
    let lost: Error | undefined;
    const release = await this.lock(path, (e) => (lost = e));
    try {
      const text = this.readText(path);
      const value = text === undefined ? init() : (JSON.parse(text) as T);
      const result = await update(value);
      const next = JSON.stringify(value, null, 2) + '\n';
      if (next !== text) {
        // Held past the stale time without refreshing it (a stalled event loop): another process may
        // have taken it over and written since; writing now would undo its update.
        if (lost) throw new Error(`lock on ${path} was lost before the write: ${lost.message}`);
        await replaceFile(path, next, this.fsync);
        if (this.fsync) await this.syncFolder(dirname(path));
      }
      return result;
    } finally {
      await release().catch(() => undefined); // already released when it was lost
    }
  }

  /** Takes the key's cross-process lock, waiting while another process holds it. */
  private async lock(path: string, onLost: (e: Error) => void): Promise<() => Promise<void>> {
    for (let wait = 2; ; wait = Math.min(wait * 2, 100)) {
      this.folderOf(path);
      try {
        return await lock(path, { realpath: false, stale: this.staleLockMs, onCompromised: onLost });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // The folder was removed since (a drill's fresh site): make it again.
        if (code === 'ENOENT' && this.folders.delete(dirname(path))) continue;
        // A stale lock file of the store before proper-lockfile (a file, not a folder): remove it.
        if (code === 'ENOTDIR') await rm(`${path}.lock`, { force: true });
        else if (code === 'ELOCKED') await new Promise((r) => setTimeout(r, wait * (0.5 + Math.random())));
        else throw e;
      }
    }
  }

  /**
   * fsyncs a folder so that the renames in it are durable. Writers that finish while a sync is under
   * way share the next one (it may have started before their rename): a group commit.
   */
  private syncFolder(dir: string): Promise<void> {
    let sync = this.folderSyncs.get(dir);
    if (!sync) this.folderSyncs.set(dir, (sync = {}));
    const s = sync;
    if (!s.running) {
      s.running = fsyncPath(dir).finally(() => (s.running = undefined));
      return s.running;
    }
    s.next ??= s.running
      .catch(() => undefined)
      .then(() => {
        s.next = undefined;
        return this.syncFolder(dir);
      });
    return s.next;
  }

  async read<T>(key: string): Promise<T | undefined> {
    const text = this.readText(this.pathOf(key));
    return text === undefined ? undefined : (JSON.parse(text) as T);
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

  private readText(path: string): string | undefined {
    try {
      return readFileSync(path, 'utf8');
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
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

let temporaries = 0;

/** Writes `text` to a temporary file beside `path` (fsync'd when `fsync`) and renames it over `path`. */
async function replaceFile(path: string, text: string, fsync: boolean): Promise<void> {
  const temporary = `${path}.${process.pid}.${++temporaries}`;
  try {
    await writeFile(temporary, text, { flag: 'wx', flush: fsync });
    await rename(temporary, path);
  } catch (e) {
    await rm(temporary, { force: true });
    throw e;
  }
}
