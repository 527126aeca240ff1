/**
 * A real PostgreSQL 15 primary + streaming standby for the PostgreSQL provider's tests (servers installed by
 * scripts/install-postgres.sh), on free loopback ports, in a fresh temp folder that `remove()` deletes.
 *
 * - initdb and pg_ctl refuse to run as root: as root the folder is handed to the `postgres` user and every
 *   server program runs through `runuser -u postgres --`; otherwise they run as the current user.
 * - The primary is made for everything the provider does: data checksums and wal_log_hints (pg_rewind),
 *   wal_level replica, WAL senders, wal_keep_size, archiving into `<root>/archive` (point-in-time copies).
 *   `--wal-segsize=1` keeps the WAL (and the archive) small.
 * - For speed, and only because these are throw-away test servers: `fsync = off`, initdb/pg_basebackup
 *   `--no-sync`. A SIGKILL is not an OS crash: the page cache survives it, so crash tests stay honest.
 * - The port is never in the config files: it is passed on the pg_ctl line (`-o "-p N"`), because
 *   pg_basebackup and pg_rewind copy the source's config files to the target.
 * - The standby is `pg_basebackup -R -X stream -c fast` of the primary (standby.signal + primary_conninfo).
 */
import { execFile, execFileSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { JsonValue } from '../../contracts/plan';

export const PG_BIN = process.env.DROVER_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const AS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;

export interface PgNode {
  name: 'a' | 'b' | string;
  host: '127.0.0.1';
  port: number;
  dataDir: string;
}

export interface PgPair {
  primary: PgNode;
  standby: PgNode;
  archiveDir: string;
  socketDir: string;
  binDir: string;
  /** The OS user the servers run as (`postgres` when the tests run as root). */
  osUser: string;
  /** The temp folder holding everything of the pair (data dirs, archive, socket, logs). */
  root: string;
  /** One query on a fresh connection (127.0.0.1, user postgres, database postgres, trust). */
  query(node: PgNode, sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Until the standby's `pg_stat_wal_receiver.status` is 'streaming' (default 15 s, then throws). */
  waitStreaming(standby: PgNode, timeoutMs?: number): Promise<void>;
  /**
   * Signals the node's postmaster (pid from postmaster.pid). SIGKILL, SIGSTOP and SIGCONT go to its
   * children too (a crashed or frozen machine); shutdown signals (SIGTERM/SIGINT/SIGQUIT) and SIGHUP only
   * to the postmaster, which passes them on as PostgreSQL means it to.
   */
  kill(node: PgNode, signal?: NodeJS.Signals): void;
  /**
   * Until no process of the node is left, the postmaster's pid included. Needed before restarting a killed
   * node: a killed postmaster stays a zombie until its parent (here PID 1) reaps it, which on this
   * machine's init takes up to ~1.5 s, and meanwhile `pg_ctl status` says "running" and `pg_ctl start`
   * fails ("another server might be running"). Default 10 s, then throws.
   */
  waitGone(node: PgNode, timeoutMs?: number): Promise<void>;
  /**
   * Signals the node's server processes whose title holds `title` (`walsender`, `walreceiver`): SIGSTOP of
   * a primary's walsender holds back the WAL its standby gets while the primary keeps committing (a link
   * that cannot keep up), SIGCONT lets it go on. Returns how many processes were signalled.
   */
  signalProcess(node: PgNode, title: string, sig: NodeJS.Signals): number;
  /** How many postgres processes of this pair are alive (any server whose working dir is in `root`). */
  processes(): number;
  /** A plain base backup of the primary (`-X stream -c fast`, no standby config) into `dir` under `root`. */
  baseBackup(dir: string): Promise<void>;
  /** A free loopback port; `remove()` checks it refuses connections too. */
  freePort(): Promise<number>;
  /** Whether something accepts TCP connections on 127.0.0.1:port. */
  accepts(port: number): Promise<boolean>;
  /** The next row id for a Writer: one counter per pair, from 1,000,001 (hand-made rows stay below). */
  nextId(): number;
  /** A node's server log (kept outside the data dirs, so base backups do not copy it). */
  logOf(node: PgNode): string;
  /**
   * Stops every server of the pair (pg_ctl -m immediate stop, then SIGKILL leftovers), removes the folder,
   * and throws if a process is left, the folder remains, or a port of the pair still accepts connections.
   */
  remove(): Promise<void>;
}

export interface PairOptions {
  binDir?: string;
  /** Extra postgresql.conf lines for the primary (and so the standby), e.g. `synchronous_commit = off`. */
  conf?: string[];
  /** Build only the primary (the standby node is described but not created). */
  primaryOnly?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Closes a client without waiting on a connection that already died (end() may then never settle). */
async function endQuietly(client: Client | undefined): Promise<void> {
  if (!client) return;
  await Promise.race([client.end().catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
}

/** A port nothing listens on now (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ok);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

export function accepts(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolveAccepts) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolveAccepts(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Runs a server program as the pair's OS user; rejects with its output when it fails. */
function runAs(binDir: string, osUser: string, cwd: string, program: string, args: string[]): Promise<string> {
  const bin = join(binDir, program);
  const [file, argv] = AS_ROOT ? ['runuser', ['-u', osUser, '--', bin, ...args]] : [bin, args];
  return new Promise((ok, fail) => {
    execFile(
      file,
      argv,
      { cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' }, timeout: 120_000 },
      (err, stdout, stderr) => {
        if (err) fail(new Error(`${program} ${args.join(' ')}: ${err.message}\n${stderr}${stdout}`));
        else ok(stdout);
      },
    );
  });
}

function ownerIds(osUser: string): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, osUser], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** The postmaster's pid (first line of postmaster.pid), if the file is there. */
function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The `binDir/postgres` processes whose working dir is inside `root` (the server chdirs to its data dir). */
function serverProcesses(binDir: string, root: string): { pid: number; cwd: string }[] {
  const exe = join(binDir, 'postgres');
  const out: { pid: number; cwd: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/exe`).replace(/ \(deleted\)$/, '') !== exe) continue;
      const cwd = readlinkSync(`/proc/${entry}/cwd`).replace(/ \(deleted\)$/, '');
      if (cwd === root || cwd.startsWith(`${root}/`)) out.push({ pid: Number(entry), cwd });
    } catch {
      // Gone meanwhile, a zombie, or not ours to read.
    }
  }
  return out;
}

/** Whether the process runs (a zombie, dead but not yet reaped by its parent, does not). */
function runs(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Whether the pid still exists for kill(2) (zombies do: pg_ctl and the postmaster's lock check see them). */
function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command (which may hold spaces, in parentheses): state, ppid, ...
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/** Builds a primary + streaming standby; everything is removed again if any step fails. */
export async function createPair(opts: PairOptions = {}): Promise<PgPair> {
  const binDir = opts.binDir ?? PG_BIN;
  if (!existsSync(join(binDir, 'pg_ctl')))
    throw new Error(`PostgreSQL 15 is missing (${binDir}/pg_ctl): run \`npm run setup:postgres\``);
  const osUser = AS_ROOT ? 'postgres' : userInfo().username;
  const root = mkdtempSync(join(tmpdir(), 'drover-pg-'));
  const pair = new Pair(binDir, osUser, root);
  try {
    await pair.build(opts);
    return pair;
  } catch (e) {
    await pair.remove().catch(() => undefined);
    throw e;
  }
}

class Pair implements PgPair {
  readonly primary: PgNode;
  readonly standby: PgNode;
  readonly archiveDir: string;
  readonly socketDir: string;
  readonly logDir: string;
  private readonly ports = new Set<number>();
  private id = 1_000_000;

  constructor(
    readonly binDir: string,
    readonly osUser: string,
    readonly root: string,
  ) {
    this.archiveDir = join(root, 'archive');
    this.socketDir = join(root, 'sock');
    this.logDir = join(root, 'log');
    this.primary = { name: 'a', host: '127.0.0.1', port: 0, dataDir: join(root, 'a') };
    this.standby = { name: 'b', host: '127.0.0.1', port: 0, dataDir: join(root, 'b') };
  }

  private run(program: string, args: string[]): Promise<string> {
    return runAs(this.binDir, this.osUser, this.root, program, args);
  }

  async build(opts: PairOptions): Promise<void> {
    for (const dir of [this.archiveDir, this.socketDir, this.logDir]) mkdirSync(dir, { mode: 0o700 });
    if (AS_ROOT) {
      const { uid, gid } = ownerIds(this.osUser);
      for (const dir of [this.root, this.archiveDir, this.socketDir, this.logDir]) chownSync(dir, uid, gid);
    }
    const p = this.primary;
    await this.run('initdb', [
      '-D',
      p.dataDir,
      '--data-checksums',
      '-U',
      'postgres',
      '--auth=trust',
      '--wal-segsize=1',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    const conf = [
      '',
      '# drover test pair (test/postgres/cluster.ts); the port is on the pg_ctl line',
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${this.socketDir}'`,
      'wal_level = replica',
      'wal_log_hints = on',
      'max_wal_senders = 10',
      "wal_keep_size = '64MB'",
      "min_wal_size = '4MB'",
      "max_wal_size = '64MB'",
      'archive_mode = on',
      `archive_command = 'test ! -f ${this.archiveDir}/%f && cp %p ${this.archiveDir}/%f'`,
      "shared_buffers = '16MB'",
      'max_connections = 50',
      '# throw-away test servers: no fsync (a killed process is not a lost page cache)',
      'fsync = off',
      ...(opts.conf ?? []),
      '',
    ];
    appendFileSync(join(p.dataDir, 'postgresql.conf'), conf.join('\n'));
    await this.start(p);
    await this.query(p, 'CREATE TABLE drover_load (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())');
    if (opts.primaryOnly) return;
    const s = this.standby;
    await this.run('pg_basebackup', [
      '-d',
      `host=127.0.0.1 port=${p.port} user=postgres application_name=${s.name}`,
      '-D',
      s.dataDir,
      '-R',
      '-X',
      'stream',
      '-c',
      'fast',
      '--no-sync',
    ]);
    await this.start(s);
    await this.waitStreaming(s);
  }

  /** pg_ctl start on a free port; a port taken meanwhile by someone else: up to two more tries on others. */
  private async start(node: PgNode): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      node.port = await this.freePort();
      const log = this.logOf(node);
      try {
        await this.run('pg_ctl', ['start', '-w', '-t', '60', '-D', node.dataDir, '-l', log, '-o', `-p ${node.port}`]);
        return;
      } catch (e) {
        const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
        if (attempt < 3 && /could not bind|Address already in use/.test(text)) continue;
        throw new Error(`${(e as Error).message}\n--- ${log} ---\n${text.split('\n').slice(-15).join('\n')}`);
      }
    }
  }

  logOf(node: PgNode): string {
    return join(this.logDir, `${node.name}.log`);
  }

  async freePort(): Promise<number> {
    const port = await freePort();
    this.ports.add(port);
    return port;
  }

  accepts(port: number): Promise<boolean> {
    return accepts(port);
  }

  nextId(): number {
    return ++this.id;
  }

  async query(node: PgNode, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    const client = await openClient(node, 5000, 30_000);
    try {
      return (await client.query(sql, params)).rows as Record<string, unknown>[];
    } finally {
      await endQuietly(client);
    }
  }

  async waitStreaming(standby: PgNode, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer';
    while (Date.now() < deadline) {
      try {
        const [row] = await this.query(standby, 'SELECT status FROM pg_stat_wal_receiver');
        if (row?.status === 'streaming') return;
        last = `status ${String(row?.status ?? '(no WAL receiver)')}`;
      } catch (e) {
        last = (e as Error).message;
      }
      await sleep(50);
    }
    const log = existsSync(this.logOf(standby)) ? readFileSync(this.logOf(standby), 'utf8') : '';
    throw new Error(
      `${standby.name} (port ${standby.port}) not streaming after ${timeoutMs} ms: ${last}\n${log.split('\n').slice(-10).join('\n')}`,
    );
  }

  kill(node: PgNode, sig: NodeJS.Signals = 'SIGKILL'): void {
    const pid = postmasterPid(node.dataDir);
    if (pid === undefined) throw new Error(`${node.name}: no postmaster.pid in ${node.dataDir}`);
    const tree = ['SIGKILL', 'SIGSTOP', 'SIGCONT'].includes(sig);
    const children = tree ? childrenOf(pid) : [];
    signal(pid, sig);
    for (const child of children) signal(child, sig);
  }

  signalProcess(node: PgNode, title: string, sig: NodeJS.Signals): number {
    const pid = postmasterPid(node.dataDir);
    if (pid === undefined) throw new Error(`${node.name}: no postmaster.pid in ${node.dataDir}`);
    const matching = childrenOf(pid).filter((child) => {
      try {
        return readFileSync(`/proc/${child}/cmdline`, 'utf8').includes(title);
      } catch {
        return false;
      }
    });
    for (const child of matching) signal(child, sig);
    return matching.length;
  }

  async waitGone(node: PgNode, timeoutMs = 10_000): Promise<void> {
    const pid = postmasterPid(node.dataDir);
    const deadline = Date.now() + timeoutMs;
    const left = () =>
      (pid !== undefined && exists(pid)) || serverProcesses(this.binDir, this.root).some((p) => p.cwd === node.dataDir);
    while (left()) {
      if (Date.now() > deadline) throw new Error(`${node.name}: postmaster ${pid} still there after ${timeoutMs} ms`);
      await sleep(25);
    }
  }

  processes(): number {
    return serverProcesses(this.binDir, this.root).length;
  }

  async baseBackup(dir: string): Promise<void> {
    const p = this.primary;
    await this.run('pg_basebackup', [
      '-d',
      `host=127.0.0.1 port=${p.port} user=postgres`,
      '-D',
      dir,
      '-X',
      'stream',
      '-c',
      'fast',
      '--no-sync',
    ]);
  }

  async remove(): Promise<void> {
    // A frozen (SIGSTOPped) server would act on pg_ctl's stop signal only after its -t timeout.
    for (const { pid } of serverProcesses(this.binDir, this.root)) signal(pid, 'SIGCONT');
    if (existsSync(this.root)) {
      // Every data dir in the pair's folder with a postmaster.pid: the pair's own and any the test made.
      // A killed postmaster (dead or a zombie not yet reaped) needs no stop: pg_ctl would wait on it.
      const dataDirs = readdirSync(this.root)
        .map((d) => join(this.root, d))
        .filter((d) => {
          const pid = postmasterPid(d);
          return pid !== undefined && runs(pid);
        });
      await Promise.all(
        dataDirs.map((d) =>
          this.run('pg_ctl', ['stop', '-m', 'immediate', '-w', '-t', '10', '-D', d]).catch(() => undefined),
        ),
      );
    }
    for (let i = 0; i < 100 && this.processes() > 0; i++) {
      // Left over: an orphaned child of a killed postmaster, a server whose postmaster.pid is gone, one
      // that ignored the immediate stop.
      for (const { pid } of serverProcesses(this.binDir, this.root)) signal(pid, 'SIGKILL');
      await sleep(50);
    }
    const left = this.processes();
    rmSync(this.root, { recursive: true, force: true });
    const ports = [this.primary.port, this.standby.port, ...this.ports].filter((p) => p > 0);
    const open: number[] = [];
    for (const port of new Set(ports)) if (await accepts(port)) open.push(port);
    const problems = [
      ...(left > 0 ? [`${left} postgres process(es) still alive`] : []),
      ...(existsSync(this.root) ? [`${this.root} still exists`] : []),
      ...(open.length ? [`port(s) ${open.join(', ')} still accept connections`] : []),
    ];
    if (problems.length) throw new Error(`PostgreSQL pair not fully removed: ${problems.join('; ')}`);
  }
}

/**
 * Commits one row per transaction (`INSERT INTO drover_load(id, at) VALUES ($1, now())`, ids from the
 * pair's counter, increasing) in a loop, `pauseMs` apart (default 2 ms: the machine's cores are shared). An id is acknowledged only once its COMMIT
 * returned; a failure (server gone, read-only standby, ...) is counted, the connection dropped and, after
 * a short wait, opened again, until stop() (which waits for the query in flight: at most 5 s on a frozen
 * server).
 */
/**
 * The workload's `postgres:` block (`params.settings`) for this pair, as a runbook writes it: the two nodes
 * (protected = the primary), the OS user, binaries and archive; `extra` adds more keys (`test:`).
 */
export function settingsOf(pair: PgPair, extra: Record<string, unknown> = {}): Record<string, JsonValue> {
  return {
    database: 'postgres',
    osUser: pair.osUser,
    binDir: pair.binDir,
    archive: pair.archiveDir,
    nodes: {
      protected: { host: pair.primary.host, port: pair.primary.port, dataDir: pair.primary.dataDir },
      recovery: { host: pair.standby.host, port: pair.standby.port, dataDir: pair.standby.dataDir },
    },
    ...(extra as Record<string, JsonValue>),
  };
}

/** A connected client to `node` as the tests' superuser (an unexpected disconnect is left to the caller's query). */
async function openClient(node: PgNode, connectMs: number, queryMs: number): Promise<Client> {
  const client = new Client({
    host: node.host,
    port: node.port,
    user: 'postgres',
    database: 'postgres',
    connectionTimeoutMillis: connectMs,
    query_timeout: queryMs,
  });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/**
 * A primary crash under write load: a Writer commits on the primary for `loadMs`; with `holdMs`, the
 * primary's walsender is then held (SIGSTOP) that long, so the standby falls behind while the primary
 * goes on committing (a link that cannot keep up); then the primary is SIGKILLed. Returns the stopped writer.
 */
export async function crashUnderLoad(pair: PgPair, opts: { loadMs: number; holdMs?: number }): Promise<Writer> {
  const writer = new Writer(pair, pair.primary);
  writer.start();
  await sleep(opts.loadMs);
  if (opts.holdMs !== undefined) {
    if (pair.signalProcess(pair.primary, 'walsender', 'SIGSTOP') !== 1)
      throw new Error('the primary has no walsender to hold');
    await sleep(opts.holdMs);
  }
  pair.kill(pair.primary, 'SIGKILL');
  await writer.stop();
  return writer;
}

export class Writer {
  readonly acknowledged: number[] = [];
  errors = 0;
  lastError: string | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private client: Client | undefined;

  constructor(
    private readonly pair: PgPair,
    private readonly node: PgNode,
    private readonly opts: { pauseMs?: number; retryMs?: number } = {},
  ) {}

  start(): void {
    if (this.loop) throw new Error('Writer already started');
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        this.client ??= await openClient(this.node, 2000, 5000);
        const id = this.pair.nextId();
        await this.client.query('BEGIN');
        await this.client.query('INSERT INTO drover_load(id, at) VALUES ($1, now())', [id]);
        await this.client.query('COMMIT');
        this.acknowledged.push(id);
        await sleep(this.opts.pauseMs ?? 2);
      } catch (e) {
        this.errors++;
        this.lastError = (e as Error).message;
        const dead = this.client;
        this.client = undefined;
        await endQuietly(dead);
        await sleep(this.opts.retryMs ?? 50);
      }
    }
    await endQuietly(this.client);
    this.client = undefined;
  }
}

/**
 * The newest timeline the data directory has a history file for: 1 until a promote forks a new one, which
 * only a rewind or a new base backup takes back (a standby on the old timeline is another database).
 */
export function timelineOf(dataDir: string): number {
  const wal = join(dataDir, 'pg_wal');
  if (!existsSync(wal)) return 0;
  const tlis = readdirSync(wal)
    .filter((f) => /^[0-9A-F]{8}\.history$/.test(f))
    .map((f) => parseInt(f.slice(0, 8), 16));
  return Math.max(1, ...tlis);
}
