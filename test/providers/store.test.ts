/**
 * The simulator's state store across worker processes: child processes of the built store (`npm test`
 * builds first) share a state folder with the test, as several workers share a site's state. A lock left
 * by a SIGKILLed process is taken over, a live holder keeps its lock past the stale time, concurrent
 * updates from several processes lose nothing, and no reader ever sees a torn file.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonStore } from '../../providers/simulator/store';

const ROOT = join(__dirname, '..', '..');
const BUILT = join(ROOT, 'dist', 'providers', 'simulator', 'store.js');
const STALE_MS = 2_000; // proper-lockfile's least

interface Counter {
  n: number;
  by: Record<string, number>;
}
const counter = (): Counter => ({ n: 0, by: {} });

/**
 * A worker process on `dir`. `count <key> <times> <name>`: increments the key's counter `times` times,
 * then exits. `hold <key> <ms>`: takes the key's lock, prints "locked", holds it `ms` (forever if 0),
 * then increments once.
 */
const CHILD = `
const { JsonStore } = require(process.env.STORE_JS);
const [, dir, what, key, arg, name] = process.argv;
const store = new JsonStore(dir, { staleLockMs: Number(process.env.STALE_MS) });
const init = () => ({ n: 0, by: {} });
(async () => {
  if (what === 'count') {
    for (let i = 0; i < Number(arg); i++) await store.update(key, init, (c) => { c.n++; c.by[name] = (c.by[name] ?? 0) + 1; });
  } else {
    await store.update(key, init, async (c) => {
      process.stdout.write('locked\\n');
      await new Promise((r) => (Number(arg) ? setTimeout(r, Number(arg)) : setInterval(() => undefined, 60_000)));
      c.n++; c.by.holder = 1;
    });
  }
})().catch((e) => { console.error(e); process.exit(1); });
`;

let dir: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  const source = join(ROOT, 'providers', 'simulator', 'store.ts');
  if (!existsSync(BUILT) || statSync(BUILT).mtimeMs < statSync(source).mtimeMs)
    throw new Error(`${BUILT} is missing or older than store.ts: run npm run build`);
});
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'drover-store-'))));
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function worker(...args: string[]): { child: ChildProcess; exited: Promise<number | null>; output: () => string } {
  const child = spawn(process.execPath, ['-e', CHILD, dir, ...args], {
    env: { ...process.env, STORE_JS: BUILT, STALE_MS: String(STALE_MS) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

async function until(what: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const increment = (store: JsonStore, key: string, name: string) =>
  store.update(key, counter, (c) => {
    c.n++;
    c.by[name] = (c.by[name] ?? 0) + 1;
  });

test('reads what was written; an update that changes nothing writes nothing', async () => {
  const store = new JsonStore(dir);
  expect(await store.read('east/w1')).toBeUndefined();
  await increment(store, 'east/w1', 'test');
  await increment(store, 'east/_site', 'test');
  expect(await store.read<Counter>('east/w1')).toEqual({ n: 1, by: { test: 1 } });
  expect(await store.keys('east')).toEqual(['east/_site', 'east/w1']);

  const before = statSync(join(dir, 'east', 'w1.json'));
  expect(await store.update('east/w1', counter, (c) => c.n)).toBe(1);
  const after = statSync(join(dir, 'east', 'w1.json'));
  expect(after.ino).toBe(before.ino); // not replaced
  expect(readdirSync(join(dir, 'east')).sort()).toEqual(['_site.json', 'w1.json']); // no lock or temporary left
});

test('a failed update writes nothing and releases the lock', async () => {
  const store = new JsonStore(dir);
  await increment(store, 'east/w1', 'test');
  await expect(
    store.update('east/w1', counter, (c) => {
      c.n = 99;
      throw new Error('refused');
    }),
  ).rejects.toThrow('refused');
  await increment(store, 'east/w1', 'test');
  expect(await store.read<Counter>('east/w1')).toEqual({ n: 2, by: { test: 2 } });
});

test('a lock left by a SIGKILLed process is taken over; what it had not written is not read', async () => {
  const store = new JsonStore(dir, { staleLockMs: STALE_MS });
  await increment(store, 'east/w1', 'test');
  const holder = worker('hold', 'east/w1', '0');
  await until(() => holder.output().includes('locked'));
  holder.child.kill('SIGKILL');
  await holder.exited;
  expect(existsSync(join(dir, 'east', 'w1.json.lock'))).toBe(true); // left behind

  const started = Date.now();
  await increment(store, 'east/w1', 'test');
  const waited = Date.now() - started;
  expect(waited).toBeGreaterThanOrEqual(STALE_MS - 1_000); // the lock's mtime is refreshed about every second
  expect(waited).toBeLessThan(STALE_MS + 3_000);
  expect(await store.read<Counter>('east/w1')).toEqual({ n: 2, by: { test: 2 } });
  expect(existsSync(join(dir, 'east', 'w1.json.lock'))).toBe(false);
});

test('a lock file of the previous store (a file, left by a killed worker) is taken over', async () => {
  const store = new JsonStore(dir, { staleLockMs: STALE_MS });
  await increment(store, 'east/w1', 'test');
  const lock = join(dir, 'east', 'w1.json.lock');
  writeFileSync(lock, '{"n": 5'); // a torn next version
  const old = new Date(Date.now() - 60_000);
  utimesSync(lock, old, old);
  await increment(store, 'east/w1', 'test');
  expect(await store.read<Counter>('east/w1')).toEqual({ n: 2, by: { test: 2 } });
});

test('a live holder keeps its lock past the stale time: the other process waits for it', async () => {
  const store = new JsonStore(dir, { staleLockMs: STALE_MS });
  const holder = worker('hold', 'east/w1', String(STALE_MS * 2));
  await until(() => holder.output().includes('locked'));
  await increment(store, 'east/w1', 'test');
  expect(await holder.exited).toBe(0);
  expect(await store.read<Counter>('east/w1')).toEqual({ n: 2, by: { holder: 1, test: 1 } });
});

test('two processes and this one updating one key at once lose no update, and no read is torn', async () => {
  const store = new JsonStore(dir, { staleLockMs: STALE_MS });
  const times = 150;
  const a = worker('count', 'east/w1', String(times), 'a');
  const b = worker('count', 'east/w1', String(times), 'b');
  let reads = 0;
  let done = false;
  const reading = (async () => {
    while (!done) {
      await store.read<Counter>('east/w1'); // JSON.parse throws on a torn file
      reads++;
      await new Promise((r) => setImmediate(r));
    }
  })();
  for (let i = 0; i < times; i++) await increment(store, 'east/w1', 'test');
  const codes = await Promise.all([a.exited, b.exited]);
  done = true;
  await reading;
  expect({ codes, output: a.output() + b.output() }).toEqual({ codes: [0, 0], output: '' });
  expect(await store.read<Counter>('east/w1')).toEqual({ n: 3 * times, by: { a: times, b: times, test: times } });
  expect(reads).toBeGreaterThan(0);
  expect(readdirSync(join(dir, 'east'))).toEqual(['w1.json']);
});
