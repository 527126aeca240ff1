/**
 * Test mode's scratch copy: the restore test teams skip. A copy recovered into an isolated instance (its
 * own port and folder, no link to production): from the WAL archive to a point in time (a base backup the
 * customer's backups keep, plus `restore_command`), or from a base backup of the standby. PITR can stop
 * short silently (`pg_ctl start -w` returns 0): the copy is checked against its target.
 */
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ProviderError } from '../errors';
import type { OperationContext } from '../types';
import type { PgOperation } from './index';
import { answers, mustRun, nodeAt, query, running, server, start, stop, writeOwned } from './node';
import type { PgNode } from './node';

const RESTORED = 'drover.restore';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The target a test copy recovers to: a time from `--recovery-point`, else the newest point there is. */
function targetOf(p: Record<string, unknown>): string | undefined {
  const t = p.recoveryPoint;
  return typeof t === 'string' && !Number.isNaN(Date.parse(t)) ? new Date(t).toISOString() : undefined;
}

/** snapshot: a database copy takes its data at restore; this records where the standby stands. */
export function snapshotOperation(env: NodeJS.ProcessEnv): PgOperation {
  return async (_copy, ctx, p) => {
    const standby = nodeAt(p, ctx.site, env, ctx.signal);
    const [r] = await query<{ at: Date | null; lsn: string | null }>(
      standby,
      'SELECT pg_last_xact_replay_timestamp() AS at, pg_last_wal_replay_lsn()::text AS lsn',
    );
    return {
      changed: false,
      message: `${standby.label} has replayed ${r!.lsn ?? 'nothing'}${r!.at ? ` (last commit ${r!.at.toISOString()})` : ''}; the test copy takes its data at restore`,
      ...(r!.at ? { recoveryPointAt: r!.at.getTime() } : {}),
    };
  };
}

export const removeSnapshot: PgOperation = async (copy) => ({
  changed: false,
  message: `${copy.label}: nothing to remove (a database copy keeps no snapshot apart from itself)`,
});

/**
 * restore (test): the copy's data (the declared base backup for `from: archive`, a pg_basebackup of the
 * standby for `from: standby`) and its recovery settings: its own port, loopback only, no primary, no
 * archiving, the archive's `restore_command`, the target time.
 *
 * Whole or not at all: the copy is built in a staging folder beside its dataDir (`<dataDir>.drover-partial`),
 * marked as Drover's, then renamed into place. A worker killed mid-backup leaves only the staging folder,
 * which the retry (or cleanup's deleteCopy) removes by its name; never a dataDir that the retry would refuse
 * as not Drover's and that cleanup would leave behind.
 */
export function restoreCopyOperation(env: NodeJS.ProcessEnv): PgOperation {
  return async (copy, ctx, p) => {
    const s = copy.settings;
    const from = s.test?.from ?? 'archive';
    if (existsSync(join(copy.dataDir, RESTORED)))
      return { changed: false, message: `${copy.label} is already restored in ${copy.dataDir}` };
    if (existsSync(copy.dataDir) && readdirSync(copy.dataDir).length > 0)
      throw new ProviderError(
        'InvalidState',
        `${copy.dataDir} already holds files that Drover did not restore: choose another postgres.test.dataDir`,
      );
    const target = targetOf(p);
    if (from === 'archive' && (!s.archive || !s.test?.baseBackup))
      throw new ProviderError(
        'InvalidInput',
        `${String(p.workload)}: a test copy from the archive needs postgres.archive and postgres.test.baseBackup`,
      );
    if (from === 'standby' && target)
      throw new ProviderError(
        'InvalidInput',
        `${String(p.workload)}: a test copy from the standby is taken now and cannot go back to ${target}: set postgres.test.from to archive for a point in time`,
      );
    const work: PgNode = { ...copy, dataDir: stagingOf(copy) };
    // An earlier attempt's partial copy (its worker died or it was cancelled): made here, so it goes.
    rmSync(work.dataDir, REMOVE);
    prepareFolder(work);
    try {
      if (from === 'archive') await copyBaseBackup(work, s.test!.baseBackup!, ctx);
      else await backupStandby(work, nodeAt(p, ctx.site, env), ctx);
      recoverySettings(work, from, s.archive, target);
      writeOwned(work, RESTORED, JSON.stringify({ from, target: target ?? 'latest' }));
      renameSync(work.dataDir, resolve(copy.dataDir));
    } catch (e) {
      rmSync(work.dataDir, REMOVE);
      throw e;
    }
    return {
      changed: true,
      message: `${copy.label} prepared in ${copy.dataDir} from ${from === 'archive' ? `base backup ${s.test!.baseBackup} + WAL archive ${s.archive}` : 'a base backup of the standby'}, to recover to ${target ?? 'the newest point'}`,
    };
  };
}

/** Where a restore builds the copy before renaming it into place (beside its dataDir, so the rename is one step). */
export const stagingOf = (copy: Pick<PgNode, 'dataDir'>) => `${resolve(copy.dataDir)}.drover-partial`;

/** A folder removed even while a cancelled or orphaned pg_basebackup still writes into it for a moment. */
const REMOVE = { recursive: true, force: true, maxRetries: 5 } as const;

/**
 * A base backup of the standby into `work`. A standby that cannot be reached, or that goes away mid-backup
 * (stopped, restarted, its connection cut), fails it as SiteUnreachable: the retry takes a new backup.
 */
async function backupStandby(work: PgNode, standby: PgNode, ctx: OperationContext): Promise<void> {
  const s = work.settings;
  try {
    await mustRun(
      work,
      'pg_basebackup',
      [
        '-D',
        work.dataDir,
        // connect_timeout: a standby that does not answer fails the restore instead of holding it forever.
        '-d',
        `host=${standby.host} port=${standby.port} user=${s.user ?? 'postgres'} connect_timeout=10`,
        '-X',
        'stream',
        '-c',
        'fast',
      ],
      ctx.signal,
    );
  } catch (e) {
    throw backupFailure(e, ctx.signal.aborted);
  }
}

/**
 * A failed pg_basebackup as the restore's failure: a standby it could not reach or lost mid-backup is
 * SiteUnreachable (retried); one that answered and refused, a cancelled step, or anything else, as it was.
 */
export function backupFailure(e: unknown, aborted: boolean): unknown {
  const message = (e as Error).message;
  const retry = e instanceof ProviderError && e.type === 'InvalidState' && !BACKUP_REFUSED.test(message);
  return !aborted && retry && BACKUP_CUT.test(message) ? new ProviderError('SiteUnreachable', message) : e;
}

/**
 * pg_basebackup's words for a standby it could not reach or lost mid-backup (libpq's and the server's). A
 * standby stopped mid-stream can leave only libpq's second line ("This probably means the server terminated
 * abnormally") and the WAL streamer's exit in the message's last lines.
 */
const BACKUP_CUT =
  /connection to server .* failed|server closed the connection|server terminated abnormally|background process terminated unexpectedly|could not (connect|receive data|send data)|terminating connection|the database system is (shutting down|starting up|in recovery mode)|connection (refused|reset|timed out)/i;

/** ...and for a standby that answered and refused: a retry cannot help (the runbook or the server must change). */
const BACKUP_REFUSED =
  /authentication failed|no pg_hba\.conf entry|role .* does not exist|database .* does not exist|permission denied|must be superuser or replication role/i;

/** The copy's own settings: its port, loopback only, no primary, no archiving; from the archive, to its target. */
function recoverySettings(work: PgNode, from: string, archive: string | undefined, target: string | undefined): void {
  rmSync(join(work.dataDir, 'standby.signal'), { force: true });
  rmSync(join(work.dataDir, 'postmaster.pid'), { force: true });
  const auto = join(work.dataDir, 'postgresql.auto.conf');
  const settings = [
    `port = ${work.port}`,
    `listen_addresses = '127.0.0.1'`,
    `primary_conninfo = ''`,
    `archive_mode = 'off'`,
    // A backup of the standby holds the WAL it needs (-X stream): it starts as a primary after crash
    // recovery to the backup's end. The archive's copy replays WAL to the target in archive recovery.
    ...(from === 'archive'
      ? [
          `restore_command = 'cp ${archive}/%f %p'`,
          // PostgreSQL reads `2026-11-23 01:44:33.102+00`, not the ISO `T…Z` form.
          ...(target
            ? [
                `recovery_target_time = '${target.replace('T', ' ').replace('Z', '+00')}'`,
                `recovery_target_inclusive = true`,
              ]
            : []),
          `recovery_target_action = 'promote'`,
        ]
      : []),
  ];
  writeOwned(
    work,
    'postgresql.auto.conf',
    `${existsSync(auto) ? readFileSync(auto, 'utf8') : ''}\n# drover test copy\n${settings.join('\n')}\n`,
  );
  if (from === 'archive') writeOwned(work, 'recovery.signal', '');
}

function prepareFolder(copy: PgNode): void {
  const parent = dirname(copy.dataDir);
  mkdirSync(parent, { recursive: true });
  const owner = statSync(parent);
  mkdirSync(copy.dataDir, { mode: 0o700 });
  chownSync(copy.dataDir, owner.uid, owner.gid);
}

async function copyBaseBackup(copy: PgNode, base: string, ctx: OperationContext): Promise<void> {
  if (!existsSync(join(base, 'PG_VERSION')))
    throw new ProviderError(
      'InvalidInput',
      `${base} is not a base backup (no PG_VERSION): set postgres.test.baseBackup`,
    );
  // cp as the data directory's owner: the copy is theirs, mode 0700 kept.
  const r = await server(
    { ...copy, settings: { ...copy.settings, binDir: '/bin' } },
    'cp',
    ['-a', `${base}/.`, copy.dataDir],
    ctx.signal,
  );
  if (r.code !== 0)
    throw new ProviderError(
      /No space/i.test(r.stderr) ? 'StorageFull' : 'InvalidState',
      `copying ${base}: ${r.stderr.trim()}`,
    );
}

/**
 * powerOn (test): starts the copy and waits until recovery has ended and it accepts writes; a copy that
 * stopped short of its target (the archive ends before it) is a clear error, never a silent success.
 */
export const startCopy: PgOperation = async (copy, ctx) => {
  if (!existsSync(join(copy.dataDir, RESTORED)))
    throw new ProviderError('InvalidState', `${copy.label} has not been restored`);
  // Already started (by an attempt that was cancelled or whose worker died): done only once it has left
  // recovery and accepts writes; until then this attempt waits for it as the first one would have.
  const already = await running(copy);
  if (already && (await acceptsWrites(copy))) return { changed: false, message: `${copy.label} is already running` };
  const { target } = JSON.parse(readFileSync(join(copy.dataDir, RESTORED), 'utf8')) as { target: string };
  if (!already) await start(copy, ctx.signal).catch(() => undefined);
  const log = join(copy.dataDir, 'drover-server.log');
  for (;;) {
    if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('cancelled');
    const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
    if (/recovery ended before configured recovery target was reached/.test(text))
      throw new ProviderError(
        'InvalidInput',
        `${copy.label}: the WAL archive ends before the recovery target ${target}: no copy at that time is possible (choose an earlier --recovery-point)`,
      );
    if (await answers(copy)) {
      const [r] = await query<{ recovery: boolean }>(copy, 'SELECT pg_is_in_recovery() AS recovery');
      if (!r!.recovery) break;
    } else if (!(await running(copy)))
      throw new ProviderError('InvalidState', `${copy.label} stopped during recovery: ${whyStopped(text)}`);
    ctx.heartbeat();
    await sleep(200);
  }
  const text = readFileSync(log, 'utf8');
  const stopped = /recovery stopping (before|after) [^\n]*/.exec(text)?.[0];
  if (target !== 'latest' && !stopped)
    throw new ProviderError(
      'InvalidInput',
      `${copy.label} reached the end of the archive without reaching ${target}: the archive does not cover that time`,
    );
  return {
    changed: !already,
    message: `${copy.label} ${already ? '(started by an earlier attempt) ' : ''}recovered and promoted (${target === 'latest' ? 'to the end of the available WAL' : stopped}); it accepts writes, isolated on 127.0.0.1:${copy.port}`,
    ...(target !== 'latest' ? { recoveryPointAt: Date.parse(target) } : {}),
  };
};

async function acceptsWrites(copy: PgNode): Promise<boolean> {
  if (!(await answers(copy))) return false;
  const [r] = await query<{ recovery: boolean }>(copy, 'SELECT pg_is_in_recovery() AS recovery');
  return r?.recovery === false;
}

/** The server log's own reason (its FATAL/PANIC lines), else its last lines. */
function whyStopped(log: string): string {
  const lines = log.trim().split('\n');
  const fatal = lines.filter((l) => /\b(FATAL|PANIC):/.test(l));
  return (fatal.length > 0 ? fatal.slice(-3) : lines.slice(-3)).join(' | ');
}

export const stopCopy: PgOperation = async (copy, ctx) => {
  if (!existsSync(copy.dataDir)) return { changed: false, message: `${copy.label} does not exist` };
  const stopped = await stop(copy, 'fast', ctx.signal);
  return { changed: stopped, message: stopped ? `${copy.label} stopped` : `${copy.label} is not running` };
};

/** deleteCopy (test): the copy's folder removed (it is stopped first by cleanup's powerOff). */
export const deleteCopy: PgOperation = async (copy) => {
  const partial = existsSync(stagingOf(copy));
  // A restore that never finished (its worker died mid-backup) left only its staging folder: it goes too.
  rmSync(stagingOf(copy), REMOVE);
  if (!existsSync(copy.dataDir))
    return partial
      ? {
          changed: true,
          message: `${copy.label}: the partial copy of an unfinished restore removed (${stagingOf(copy)})`,
        }
      : { changed: false, message: `${copy.label} has no data in ${copy.dataDir}` };
  if (await running(copy))
    throw new ProviderError('InvalidState', `${copy.label} is running: stop it before deleting it`, true);
  if (!existsSync(join(copy.dataDir, RESTORED)))
    throw new ProviderError('InvalidState', `${copy.dataDir} was not restored by Drover: not deleting it`);
  rmSync(copy.dataDir, { recursive: true, force: true });
  return { changed: true, message: `${copy.label} deleted (${copy.dataDir} removed)` };
};
