/**
 * Switchover, failover and reprotect of a streaming-replication pair. The zero-loss gate of a switchover:
 * the primary is stopped cleanly (its shutdown checkpoint is its last write), and the standby must have
 * received and replayed past that checkpoint before anything is promoted.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ProviderError } from '../errors';
import type { OperationContext, OperationResult } from '../types';
import type { PgOperation } from './index';
import { answers, controlData, lsn, mustRun, nodeAt, query, running, start, stop, writeOwned } from './node';
import type { PgNode } from './node';
import { lostAgainst, tailData, tailOf, walTail } from './wal';

const FENCED = 'drover.fenced';
const PROMOTED = 'drover.promoted';
const iso = (ms: number) => new Date(ms).toISOString();
const ago = (ms: number) => (ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 60_000)}m`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 200 ms (heartbeating) until it returns a value or `limitMs` passes. */
async function until<T>(
  ctx: OperationContext,
  limitMs: number,
  check: () => Promise<T | undefined>,
): Promise<T | undefined> {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = await check();
    if (v !== undefined || Date.now() >= end) return v;
    if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('cancelled');
    ctx.heartbeat();
    await sleep(200);
  }
}

/** shutdown (the source): a clean `pg_ctl stop -m fast`, which writes the shutdown checkpoint. */
export const shutdown: PgOperation = async (node, ctx) => {
  const stopped = await stop(node, 'fast', ctx.signal);
  return {
    changed: stopped,
    message: stopped ? `${node.label} stopped cleanly (pg_ctl stop -m fast)` : `${node.label} is not running`,
  };
};

/**
 * fence (the source): stopped, and given a `standby.signal`, so whoever starts it gets a read-only standby,
 * never a second primary. Best effort in a failover: a killed server is already stopped.
 */
export const fence: PgOperation = async (node, ctx) => {
  if (existsSync(join(node.dataDir, FENCED))) return { changed: false, message: `${node.label} is already fenced` };
  const wasRunning = await stop(node, 'fast', ctx.signal);
  const hadSignal = existsSync(join(node.dataDir, 'standby.signal'));
  writeOwned(node, FENCED, JSON.stringify({ at: new Date().toISOString(), hadStandbySignal: hadSignal }));
  if (!hadSignal) writeOwned(node, 'standby.signal', '');
  return {
    changed: true,
    message: `${node.label} fenced${wasRunning ? ' (it was running: stopped)' : ''}: standby.signal written, it can only start read-only`,
  };
};

export const unfence: PgOperation = async (node) => {
  const marker = join(node.dataDir, FENCED);
  if (!existsSync(marker)) return { changed: false, message: `${node.label} is not fenced` };
  const { hadStandbySignal } = JSON.parse(readFileSync(marker, 'utf8')) as { hadStandbySignal: boolean };
  if (!hadStandbySignal) rmSync(join(node.dataDir, 'standby.signal'), { force: true });
  rmSync(marker);
  return { changed: true, message: `${node.label} unfenced` };
};

/** powerOn in production: start the node (never a fenced one). */
export const startNode: PgOperation = async (node, ctx) => {
  if (await running(node)) return { changed: false, message: `${node.label} is already running` };
  if (existsSync(join(node.dataDir, FENCED)))
    throw new ProviderError('InvalidState', `${node.label} is fenced: unfence it before starting it`);
  await start(node, ctx.signal);
  return { changed: true, message: `${node.label} started (pg_ctl start)` };
};

export const stopNode: PgOperation = async (node, ctx) => {
  const stopped = await stop(node, 'fast', ctx.signal);
  return { changed: stopped, message: stopped ? `${node.label} stopped` : `${node.label} is not running` };
};

/**
 * syncReplication (at the source). A switchover's final sync proves the standby has the primary's last
 * write: the primary is shut down cleanly, and the standby received and replayed its shutdown checkpoint
 * (ReplicaBehind, retryable, naming both positions, if not within 10 s). Otherwise it switches WAL, so the
 * archive holds the latest changes, and reports how far the standby is behind.
 */
export function syncOperation(env: NodeJS.ProcessEnv): PgOperation {
  return async (source, ctx, p) => {
    const standby = nodeAt(p, ctx.peer, env, ctx.signal);
    if (p.proveCaughtUp !== true && !(await running(source)) && existsSync(join(source.dataDir, 'PG_VERSION'))) {
      // A failover's final sync at a stopped or crashed primary: nothing more can be shipped, but its own
      // WAL says what it wrote; the promote compares that with what the standby recovered.
      const tail = await walTail(source);
      const last = tail.commits[tail.commits.length - 1];
      return {
        changed: false,
        message: `${source.label} is not running (${tail.state}); its WAL on timeline ${tail.timeline} ends at ${tail.walEnd}, ${tail.commitCount} commit(s) since its checkpoint at ${tail.from}${last ? `, the last at ${iso(last[1])}` : ''}`,
        data: tailData(tail),
      };
    }
    if (p.proveCaughtUp !== true) {
      const [pos] = await query<{ lsn: string }>(source, 'SELECT pg_switch_wal()::text AS lsn');
      const [st] = await query<{ replay: string | null; at: Date | null }>(
        standby,
        'SELECT pg_last_wal_replay_lsn()::text AS replay, pg_last_xact_replay_timestamp() AS at',
      );
      const behind = lsn(pos!.lsn) - lsn(st!.replay);
      return {
        changed: true,
        message: `${source.label} switched WAL at ${pos!.lsn} (archived); ${standby.label} replayed ${st!.replay} (${behind > 0n ? `${behind} bytes behind` : 'caught up'})`,
        ...(st!.at ? { recoveryPointAt: st!.at.getTime() } : {}),
        data: { sourcePosition: pos!.lsn, replicaPosition: st!.replay ?? '' },
      };
    }
    if (await running(source))
      throw new ProviderError(
        'InvalidState',
        `${source.label} still takes writes: a switchover's final sync needs it stopped first`,
      );
    const control = await controlData(source);
    if (control['Database cluster state'] !== 'shut down')
      throw new ProviderError(
        'InvalidState',
        `${source.label} did not shut down cleanly (${control['Database cluster state']}): its last write is unknown, so a switchover cannot prove zero loss; use disaster-recovery`,
      );
    const checkpoint = control['Latest checkpoint location']!;
    const reached = await until(ctx, 10_000, async () => {
      const [r] = await query<{ received: string | null; replayed: string | null }>(
        standby,
        'SELECT pg_last_wal_receive_lsn()::text AS received, pg_last_wal_replay_lsn()::text AS replayed',
      );
      return lsn(r!.received) > lsn(checkpoint) && lsn(r!.replayed) >= lsn(checkpoint) ? r : undefined;
    });
    if (!reached) {
      const [r] = await query<{ replayed: string | null }>(
        standby,
        'SELECT pg_last_wal_replay_lsn()::text AS replayed',
      );
      throw new ProviderError(
        'ReplicaBehind',
        `${standby.label} replayed up to ${r!.replayed}, but ${source.label} stopped at its shutdown checkpoint ${checkpoint}: nothing promoted`,
        true,
      );
    }
    return {
      changed: false,
      message: `${standby.label} received ${reached.received} and replayed ${reached.replayed}, past ${source.label}'s shutdown checkpoint ${checkpoint}: caught up, zero loss`,
      recoveryPointAt: Date.now(),
      data: { sourcePosition: checkpoint, replicaPosition: reached.replayed ?? '' },
    };
  };
}

/**
 * promote (the standby): `pg_promote()`, then it accepts writes. Promotion replays all the standby has
 * received, so what a failover loses is what the primary wrote and never sent. It is measured, not assumed:
 * the final sync read the old primary's WAL on its host (`params.source`: where it ends, its commits), and
 * the promote compares it with the standby's end of WAL. Over the RPO it needs `acceptDataLoss`
 * (DataLossNotAccepted otherwise, nothing promoted). When the old primary could not be read (its host is
 * gone), the loss is unknown: the gate uses the age of the standby's last commit, and the message says so.
 */
export const promote: PgOperation = async (node, ctx, p): Promise<OperationResult> => {
  const [state] = await query<{ recovery: boolean }>(node, 'SELECT pg_is_in_recovery() AS recovery');
  if (!state!.recovery) {
    const info = promotedPoint(node);
    return {
      changed: false,
      message: `${node.label} is already a primary (accepts writes)`,
      ...(info.pointAt ? { recoveryPointAt: info.pointAt } : {}),
    };
  }
  if (p.recoveryPoint !== undefined && !['latest', 'final-sync'].includes(String(p.recoveryPoint)))
    throw new ProviderError(
      'InvalidInput',
      `${node.label} is a streaming standby: it can only be promoted at its latest point, not ${String(p.recoveryPoint)} (test mode restores an older point from the archive)`,
    );
  const before = await position(node);
  const source = tailOf(p.source);
  const failoverAt = Number(p.failoverAt ?? Date.now());
  const loss = measureLoss(before, source, failoverAt);
  const rpoMs = Number(p.rpoMs ?? 0);
  if (rpoMs > 0 && loss.ms > rpoMs && p.acceptDataLoss !== true)
    throw new ProviderError('DataLossNotAccepted', `${node.label}: ${loss.text}, over the RPO of ${ago(rpoMs)}`);
  await query(node, 'SELECT pg_promote(true, 60)');
  const writable = await until(ctx, 60_000, async () => {
    const [r] = await query<{ recovery: boolean }>(node, 'SELECT pg_is_in_recovery() AS recovery');
    return r!.recovery ? undefined : true;
  });
  if (!writable)
    throw new ProviderError('InvalidState', `${node.label} did not leave recovery within 60 s of pg_promote()`, true);
  // After promotion the replay position and last replayed commit stay as recovery left them: the exact point.
  const after = await position(node);
  const final = measureLoss(after, source, failoverAt);
  const lastCommit = after.at?.getTime();
  // Nothing lost: the copy is whole as of the failover. Else (or unknown) it holds what was committed up to its last replay.
  const pointAt = final.known && final.commits === 0 ? failoverAt : (lastCommit ?? failoverAt);
  writeOwned(node, PROMOTED, JSON.stringify({ at: new Date().toISOString(), pointAt, recovered: after.end }));
  return {
    changed: true,
    message: `${node.label} promoted (pg_promote) and accepts writes; it recovered up to ${after.end} (last commit ${lastCommit ? iso(lastCommit) : 'none'}); ${final.text}`,
    recoveryPointAt: pointAt,
    data: {
      recoveryPoint: iso(pointAt),
      recoveredLsn: after.end,
      lossKnown: final.known,
      dataLossMs: final.ms,
      ...(source ? { primaryLsn: source.walEnd, lostCommits: final.commits, missingBytes: Number(final.bytes) } : {}),
    },
  };
};

/** The recovery point Drover's promote of this node measured (its `drover.promoted` marker), if any. */
function promotedPoint(node: PgNode): { pointAt?: number } {
  const marker = join(node.dataDir, PROMOTED);
  return existsSync(marker) ? (JSON.parse(readFileSync(marker, 'utf8')) as { pointAt?: number }) : {};
}

/** Where a standby's WAL ends (the furthest of received and replayed: promotion replays all it received). */
async function position(node: PgNode): Promise<{ end: string; at: Date | null }> {
  const [r] = await query<{ replayed: string | null; received: string | null; at: Date | null }>(
    node,
    `SELECT pg_last_wal_replay_lsn()::text AS replayed, pg_last_wal_receive_lsn()::text AS received,
            pg_last_xact_replay_timestamp() AS at`,
  );
  const end = lsn(r!.received) > lsn(r!.replayed) ? r!.received : r!.replayed;
  return { end: end ?? '0/0', at: r!.at };
}

/** The loss of a copy ending at `pos` against the old primary's WAL (known), or the age of its last commit. */
function measureLoss(
  pos: { end: string; at: Date | null },
  source: ReturnType<typeof tailOf>,
  failoverAt: number,
): { known: boolean; ms: number; commits: number; bytes: bigint; text: string } {
  const last = pos.at?.getTime();
  if (!source) {
    const ms = last !== undefined ? Math.max(0, failoverAt - last) : 0;
    return {
      known: false,
      ms,
      commits: 0,
      bytes: 0n,
      text: `the old primary's WAL could not be read (its final sync did not answer), so what it wrote after ${pos.end} is unknown: up to ${ago(ms)} of writes may be lost`,
    };
  }
  const lost = lostAgainst(source, pos.end);
  if (lost.commits === 0 && !lost.atLeast)
    return {
      known: true,
      ms: 0,
      commits: 0,
      bytes: lost.bytes,
      text: `the old primary's WAL ends at ${source.walEnd}: nothing committed is lost${lost.bytes > 0n ? ` (its last ${lost.bytes} bytes of WAL hold no commit)` : ''}`,
    };
  const ms = lost.last !== undefined ? Math.max(0, lost.last - (last ?? lost.first!)) : 0;
  return {
    known: true,
    ms,
    commits: lost.commits,
    bytes: lost.bytes,
    text: `the old primary's WAL ends at ${source.walEnd}: ${lost.atLeast ? 'at least ' : ''}${lost.commits} commit(s), ${lost.bytes} bytes of WAL, about ${ago(ms)} of writes lost`,
  };
}

/**
 * demote (a promote's compensation, on rollback): stopped and fenced as a standby. What it wrote since the
 * promote diverges from the old primary: reprotect (pg_rewind) makes it a standby again.
 */
export const demote: PgOperation = async (node, ctx) => {
  const marker = join(node.dataDir, PROMOTED);
  if (!existsSync(marker)) return { changed: false, message: `${node.label} was not promoted by Drover` };
  await stop(node, 'fast', ctx.signal);
  writeOwned(node, 'standby.signal', '');
  rmSync(marker);
  return {
    changed: true,
    message: `${node.label} stopped and left as a standby (standby.signal): its writes since the promote diverge from the old primary; reprotect rewinds it`,
  };
};

/** restore in production: the promoted standby is the database; nothing is copied. */
export const restoreInPlace: PgOperation = async (node) => {
  const [r] = await query<{ recovery: boolean }>(node, 'SELECT pg_is_in_recovery() AS recovery');
  if (r!.recovery) throw new ProviderError('InvalidState', `${node.label} is still a standby: promote it first`);
  // The run's achieved RPO is read from its restores: the point the promote measured.
  const info = promotedPoint(node);
  return {
    changed: false,
    message: `${node.label} is the recovered database (the promoted standby): nothing to copy`,
    ...(info.pointAt ? { recoveryPointAt: info.pointAt } : {}),
  };
};

/** waitReady: the node accepts connections and, in production, writes. */
export const waitWritable: PgOperation = async (node, ctx) => {
  const started = Date.now();
  const ok = await until(ctx, 24 * 3600_000, async () => {
    if (!(await answers(node))) return undefined;
    const [r] = await query<{ recovery: boolean }>(node, 'SELECT pg_is_in_recovery() AS recovery');
    return r!.recovery ? undefined : true;
  });
  return {
    changed: false,
    message: `${node.label} accepts connections and writes (${ok ? Date.now() - started : 0} ms)`,
  };
};

/**
 * reverseReplication (reprotect, at the new primary): the old primary becomes its standby. CHECKPOINT on
 * the new primary first (PostgreSQL 15 can otherwise report "no rewind required" for a diverged node),
 * pg_rewind the old one, or a fresh pg_basebackup when rewind cannot work; start it as a standby and wait
 * until it streams and has replayed the new primary's position.
 */
export function reverseOperation(env: NodeJS.ProcessEnv): PgOperation {
  return async (primary, ctx, p) => {
    const old = nodeAt(p, ctx.peer, env, ctx.signal);
    const [me] = await query<{ recovery: boolean }>(primary, 'SELECT pg_is_in_recovery() AS recovery');
    if (me!.recovery)
      throw new ProviderError('InvalidState', `${primary.label} is not the primary: fail over before reprotecting`);
    if (await streamingFrom(primary, old))
      return { changed: false, message: `${old.label} already streams from ${primary.label}` };
    await stop(old, 'fast', ctx.signal);
    await query(primary, 'CHECKPOINT');
    const how = await rewindOrClone(primary, old, ctx);
    rmSync(join(old.dataDir, FENCED), { force: true });
    rmSync(join(old.dataDir, PROMOTED), { force: true });
    writeOwned(old, 'standby.signal', '');
    appendConninfo(old, primary);
    await start(old, ctx.signal);
    const [target] = await query<{ lsn: string }>(primary, 'SELECT pg_current_wal_lsn()::text AS lsn');
    const caught = await until(ctx, 120_000, async () => {
      const [r] = await query<{ state: string; replay: string | null }>(
        primary,
        `SELECT state, replay_lsn::text AS replay FROM pg_stat_replication WHERE application_name = $1`,
        [appName(old)],
      );
      return r && r.state === 'streaming' && lsn(r.replay) >= lsn(target!.lsn) ? r : undefined;
    });
    if (!caught)
      throw new ProviderError(
        'InvalidState',
        `${old.label} started as a standby but did not catch up with ${primary.label} within 120 s`,
        true,
      );
    return {
      changed: true,
      message: `${old.label} ${how}, started as a standby of ${primary.label}: streaming, replayed ${caught.replay} (≥ ${target!.lsn})`,
    };
  };
}

const appName = (node: PgNode) => `drover_${node.port}`;

async function streamingFrom(primary: PgNode, standby: PgNode): Promise<boolean> {
  if (!(await answers(standby))) return false;
  const rows = await query<{ state: string }>(
    primary,
    `SELECT state FROM pg_stat_replication WHERE application_name = $1`,
    [appName(standby)],
  );
  return rows.some((r) => r.state === 'streaming');
}

function conninfo(primary: PgNode, standby: PgNode): string {
  return `host=${primary.host} port=${primary.port} user=${primary.settings.user ?? 'postgres'} application_name=${appName(standby)}`;
}

/** Later lines of postgresql.auto.conf win: the copied `primary_conninfo` is replaced without editing it. */
function appendConninfo(standby: PgNode, primary: PgNode): void {
  const path = join(standby.dataDir, 'postgresql.auto.conf');
  const before = existsSync(path) ? readFileSync(path, 'utf8') : '';
  writeOwned(
    standby,
    'postgresql.auto.conf',
    `${before}\n# drover reprotect\nprimary_conninfo = '${conninfo(primary, standby)}'\n`,
  );
}

async function rewindOrClone(primary: PgNode, old: PgNode, ctx: OperationContext): Promise<string> {
  const source = `host=${primary.host} port=${primary.port} user=${primary.settings.user ?? 'postgres'} dbname=postgres`;
  try {
    await mustRun(old, 'pg_rewind', ['--target-pgdata', old.dataDir, '--source-server', source], ctx.signal);
    return 'rewound (pg_rewind)';
  } catch (e) {
    if (ctx.signal.aborted) throw e;
    // Rewind cannot work (no common history, missing WAL): a fresh copy of the new primary.
    rmSync(old.dataDir, { recursive: true, force: true });
    await mustRun(
      old,
      'pg_basebackup',
      [
        '-D',
        old.dataDir,
        '-h',
        primary.host,
        '-p',
        String(primary.port),
        '-U',
        primary.settings.user ?? 'postgres',
        '-X',
        'stream',
        '-c',
        'fast',
      ],
      ctx.signal,
    );
    return `re-cloned with pg_basebackup (pg_rewind failed: ${(e as Error).message.slice(0, 200)})`;
  }
}
