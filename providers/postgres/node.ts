/**
 * One PostgreSQL node as a workload's `postgres:` block describes it: SQL through node-postgres, server
 * operations (pg_ctl, pg_basebackup, pg_rewind, pg_controldata) as the OS user that owns the data
 * directory, on the worker that serves the site (which must be the database host).
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import type { JsonObject, PlanSite } from '../../contracts/plan';
import type { PostgresNode, PostgresWorkload } from '../../compiler/runbook';
import { resolveSecret } from '../../activities/secrets';
import { ProviderError } from '../errors';

/** The workload's `postgres:` block and one of its nodes, as the runbook language types them. */
export type PgSettings = PostgresWorkload;
export type PgNodeSettings = PostgresNode;

export const DEFAULT_BIN = '/usr/lib/postgresql/15/bin';

/** A node Drover can query and operate: connection settings resolved, the server commands at hand. */
export interface PgNode extends PgNodeSettings {
  label: string;
  settings: PgSettings;
  env: NodeJS.ProcessEnv;
  /** The step's `ctx.signal`: a cancelled step closes its connections instead of waiting on a hung server. */
  signal?: AbortSignal;
}

export function settingsOf(p: JsonObject): PgSettings {
  const s = p.settings as unknown as PgSettings | undefined;
  if (!s?.nodes?.protected || !s.nodes.recovery)
    throw new ProviderError(
      'InvalidInput',
      `${String(p.workload)} has no postgres: { nodes: { protected, recovery } }`,
    );
  return s;
}

/** The node at `site` (by its role in the runbook) or, with `peer`, at the other site. */
export function nodeAt(p: JsonObject, site: PlanSite, env: NodeJS.ProcessEnv, signal?: AbortSignal): PgNode {
  const s = settingsOf(p);
  const n = s.nodes[site.role];
  return {
    ...n,
    label: `${String(p.workload)}@${site.name} (${n.host}:${n.port})`,
    settings: s,
    env,
    ...(signal ? { signal } : {}),
  };
}

/** The scratch instance test mode restores into. */
export function testNode(p: JsonObject, env: NodeJS.ProcessEnv, signal?: AbortSignal): PgNode {
  const s = settingsOf(p);
  if (!s.test)
    throw new ProviderError('InvalidInput', `${String(p.workload)}: test mode needs postgres.test { port, dataDir }`);
  return {
    host: '127.0.0.1',
    port: s.test.port,
    dataDir: s.test.dataDir,
    label: `${String(p.workload)} test copy (127.0.0.1:${s.test.port})`,
    settings: s,
    env,
    ...(signal ? { signal } : {}),
  };
}

/**
 * `work`, or a rejection with the signal's reason as soon as it is aborted (`onAbort` then closes what
 * `work` uses, so nothing goes on after the step was cancelled).
 */
function unlessAborted<T>(work: Promise<T>, signal: AbortSignal | undefined, onAbort: () => void): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort();
      reject(signal.reason ?? new Error('cancelled'));
    };
    if (signal.aborted) return abort();
    signal.addEventListener('abort', abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

/** Runs one query on the node; connection trouble is SiteUnreachable (retryable); a cancelled step stops waiting. */
export async function query<T = Record<string, unknown>>(
  node: PgNode,
  sql: string,
  params: unknown[] = [],
  opts: { database?: string; timeoutMs?: number } = {},
): Promise<T[]> {
  const s = node.settings;
  const client = new Client({
    host: node.host,
    port: node.port,
    user: s.user ? resolveSecret(s.user, node.env) : 'postgres',
    ...(s.password ? { password: resolveSecret(s.password, node.env) } : {}),
    database: opts.database ?? 'postgres',
    connectionTimeoutMillis: opts.timeoutMs ?? 5000,
    statement_timeout: opts.timeoutMs ?? 30_000,
  });
  client.on('error', () => undefined);
  const close = () => void client.end().catch(() => undefined);
  try {
    await unlessAborted(client.connect(), node.signal, close);
  } catch (e) {
    if (node.signal?.aborted) throw e;
    throw new ProviderError('SiteUnreachable', `${node.label} cannot be reached: ${(e as Error).message}`);
  }
  try {
    return (await unlessAborted(client.query(sql, params), node.signal, close)).rows as T[];
  } catch (e) {
    if (node.signal?.aborted) throw e;
    const err = e as Error & { code?: string };
    if (err.code === '53100') throw new ProviderError('StorageFull', `${node.label}: ${err.message}`);
    if (err.code === '57P01' || err.code === '57P03' || /terminat|connection/i.test(err.message))
      throw new ProviderError('SiteUnreachable', `${node.label}: ${err.message}`);
    throw new ProviderError('InvalidState', `${node.label}: ${err.message} (${sql.split('\n')[0]})`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether the node answers at all (a stopped or killed server does not). */
export async function answers(node: PgNode): Promise<boolean> {
  try {
    await query(node, 'SELECT 1', [], { timeoutMs: 2000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * A server program (pg_ctl, pg_rewind, ...) as the data directory's owner: through `runuser` when the
 * worker is root (the server refuses to run as root), directly otherwise.
 */
export function server(
  node: PgNode,
  program: string,
  args: string[],
  signal?: AbortSignal,
): Promise<{ stdout: string; stderr: string; code: number }> {
  const bin = join(node.settings.binDir ?? DEFAULT_BIN, program);
  if (!existsSync(bin))
    throw new ProviderError('InvalidInput', `${bin} does not exist on this worker: set postgres.binDir`);
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const [file, argv] = asRoot
    ? ['runuser', ['-u', node.settings.osUser ?? 'postgres', '--', bin, ...args]]
    : [bin, args];
  return new Promise((resolveRun) => {
    execFile(
      file,
      argv,
      {
        cwd: '/',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', TZ: 'UTC' },
        maxBuffer: 8 * 1024 * 1024,
        ...(signal ? { signal } : {}),
      },
      (err, stdout, stderr) => {
        // A non-zero exit has a numeric `code`; a program that could not start has a string one (ENOENT).
        const code = !err
          ? 0
          : typeof (err as { code?: unknown }).code === 'number'
            ? Number((err as { code: number }).code)
            : 127;
        resolveRun({ stdout, stderr, code });
      },
    );
  });
}

/** Runs a server program and throws with its output when it fails. */
export async function mustRun(node: PgNode, program: string, args: string[], signal?: AbortSignal): Promise<string> {
  const r = await server(node, program, args, signal);
  if (r.code !== 0) {
    const out = `${r.stderr}${r.stdout}`.trim().split('\n').slice(-4).join(' | ');
    if (/No space left on device/i.test(out))
      throw new ProviderError('StorageFull', `${program} on ${node.label}: ${out}`);
    throw new ProviderError(
      'InvalidState',
      `${program} ${args.slice(0, 2).join(' ')} on ${node.label} exited ${r.code}: ${out}`,
    );
  }
  return r.stdout;
}

/** `pg_controldata` as a map: the cluster state and the latest checkpoint, readable with the server down. */
export async function controlData(node: PgNode): Promise<Record<string, string>> {
  const out = await mustRun(node, 'pg_controldata', ['-D', node.dataDir]);
  const map: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) map[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return map;
}

/**
 * Whether a postmaster runs on the data directory (`pg_ctl status`: 0 running, 3 not running). A killed
 * postmaster stays a zombie until its parent reaps it (seconds under some inits), and `pg_ctl` counts a
 * zombie as running: on Linux its state in /proc says it is dead.
 */
export async function running(node: PgNode): Promise<boolean> {
  if ((await server(node, 'pg_ctl', ['status', '-D', node.dataDir])).code !== 0) return false;
  return !postmasterDead(node);
}

/** The postmaster of postmaster.pid has exited (gone, or a zombie); false when that cannot be read. */
function postmasterDead(node: PgNode): boolean {
  let pid: string | undefined;
  try {
    pid = readFileSync(join(node.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]?.trim();
  } catch {
    return false;
  }
  if (!pid || !/^\d+$/.test(pid) || !existsSync('/proc/self/stat')) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** Writes a file into a data directory, owned like the directory (the server runs as its owner). */
export function writeOwned(node: PgNode, name: string, content: string): void {
  const path = join(node.dataDir, name);
  writeFileSync(path, content, { mode: 0o600 });
  const st = statSync(node.dataDir);
  chownSync(path, st.uid, st.gid);
}

/** Starts the server on its own port (pg_rewind and pg_basebackup copy the source's port setting). */
export async function start(node: PgNode, signal?: AbortSignal): Promise<void> {
  await mustRun(
    node,
    'pg_ctl',
    [
      'start',
      '-w',
      '-t',
      '120',
      '-D',
      node.dataDir,
      '-l',
      join(node.dataDir, 'drover-server.log'),
      '-o',
      `-p ${node.port}`,
    ],
    signal,
  );
}

/** Whether a connection to the node gets no answer at all within `ms` (a frozen server or host), not a refusal or an error. */
async function silent(node: PgNode, ms: number): Promise<boolean> {
  try {
    await query(node, 'SELECT 1', [], { timeoutMs: ms });
    return false;
  } catch (e) {
    return /timeout expired/.test((e as Error).message);
  }
}

/**
 * pg_ctl signals the postmaster, then waits until it has gone. A hung server (or host) never acts on the
 * signal: when it does not even answer a connection meanwhile, the step fails at once, retryable, instead of
 * after pg_ctl's 120 s; the stop request stays pending, so the server stops as soon as it runs again.
 */
export async function stop(node: PgNode, mode: 'fast' | 'immediate' = 'fast', signal?: AbortSignal): Promise<boolean> {
  if (!(await running(node))) return false;
  const pgCtl = new AbortController();
  const cancel = () => pgCtl.abort(signal?.reason);
  if (signal?.aborted) cancel();
  signal?.addEventListener('abort', cancel, { once: true });
  const stopping = mustRun(node, 'pg_ctl', ['stop', '-w', '-t', '120', '-m', mode, '-D', node.dataDir], pgCtl.signal);
  try {
    const outcome = await Promise.race([
      stopping.then(() => 'stopped' as const),
      silent(node, 5000).then(async (quiet) =>
        quiet && (await running(node)) ? ('hung' as const) : new Promise<never>(() => undefined),
      ),
    ]);
    if (outcome === 'hung') {
      pgCtl.abort();
      await stopping.catch(() => undefined);
      throw new ProviderError(
        'SiteUnreachable',
        `${node.label} runs but does not answer (hung?): asked to stop (pg_ctl stop -m ${mode}), it stops when it runs again`,
      );
    }
  } catch (e) {
    if (e instanceof ProviderError && e.type === 'SiteUnreachable') throw e;
    // It died while pg_ctl waited (killed, crashed): stopped all the same.
    if (await running(node)) throw e;
  } finally {
    signal?.removeEventListener('abort', cancel);
  }
  return true;
}

/** LSN text (`0/3000060`) as a number of bytes, to compare positions. */
export function lsn(text: string | null | undefined): bigint {
  if (!text) return -1n;
  const [hi, lo] = text.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}
