/**
 * The PostgreSQL provider: a streaming-replication pair (one node per site) failed over, switched over
 * with zero loss, rewound and failed back, and restore-tested from the WAL archive. SQL through
 * node-postgres; server operations (pg_ctl, pg_basebackup, pg_rewind) on the worker that serves the site,
 * which must be the database host. Replication itself is PostgreSQL's streaming replication.
 */
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { JsonObject } from '../../contracts/plan';
import type { Validation } from '../../compiler/runbook';
import { runValidations } from '../checks';
import type { CheckAnswer } from '../checks';
import { ProviderError } from '../errors';
import { approversCheck } from '../readiness';
import type { InfraKind, Operation, OperationContext, OperationResult, Provider } from '../types';
import { deleteCopy, removeSnapshot, restoreCopyOperation, snapshotOperation, startCopy, stopCopy } from './copy';
import {
  demote,
  fence,
  promote,
  restoreInPlace,
  reverseOperation,
  shutdown,
  startNode,
  stopNode,
  syncOperation,
  unfence,
  waitWritable,
} from './failover';
import { answers, nodeAt, query, testNode } from './node';
import type { PgNode, PgSettings } from './node';

/** One operation on the node it concerns: the site's node in production, the scratch copy in test. */
export type PgOperation = (node: PgNode, ctx: OperationContext, p: JsonObject) => Promise<OperationResult>;

const isTest = (p: JsonObject) => typeof p.network === 'string' && p.network !== 'production';

export function createPostgres(deps: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Provider {
  const env = deps.env ?? process.env;
  const cwd = deps.cwd ?? process.cwd();
  /** Production and test copies differ for a few kinds: `[production, test]`. */
  const both =
    (prod: PgOperation, test: PgOperation): PgOperation =>
    (n, c, p) =>
      (isTest(p) ? test : prod)(n, c, p);
  const ops: Partial<Record<InfraKind, PgOperation>> = {
    preCheck: preCheckOperation(env),
    syncReplication: syncOperation(env),
    shutdown,
    fence,
    unfence,
    promote,
    demote,
    restore: both(restoreInPlace, restoreCopyOperation(env)),
    powerOn: both(startNode, startCopy),
    powerOff: both(stopNode, stopCopy),
    waitReady: waitWritable,
    validate: validateOperation(env, cwd),
    snapshot: snapshotOperation(env),
    removeSnapshot,
    deleteCopy: both(
      async (n) => ({ changed: false, message: `${n.label} is the production database: Drover never deletes it` }),
      deleteCopy,
    ),
    reverseReplication: reverseOperation(env),
  };
  const operations: Partial<Record<InfraKind, Operation>> = {};
  for (const [kind, fn] of Object.entries(ops) as [InfraKind, PgOperation][])
    operations[kind] = async (params, ctx) => {
      // Plan-level readiness checks carry no workload (capacity's settings are every workload's): no node.
      const node =
        params.settings && (!params.check || params.check === 'replication')
          ? isTest(params)
            ? testNode(params, env, ctx.signal)
            : nodeAt(params, ctx.site, env, ctx.signal)
          : (undefined as unknown as PgNode);
      try {
        return await fn(node, ctx, params);
      } catch (e) {
        if (ctx.signal.aborted || e instanceof ProviderError) throw e;
        throw new ProviderError(
          'InvalidState',
          `${kind} of ${node?.label ?? String(params.workload)}: ${(e as Error).message}`,
        );
      }
    };
  return { name: 'postgres', operations };
}

/** validate: the workload's checks; `sql` ones run on the recovered database (the node or the test copy). */
function validateOperation(env: NodeJS.ProcessEnv, cwd: string): PgOperation {
  return async (node, ctx, p) => {
    const database = node.settings.database ?? 'postgres';
    const report = await runValidations(
      (p.checks ?? []) as unknown as Validation[],
      { host: node.host, workload: String(p.workload) },
      {
        signal: ctx.signal,
        cwd,
        env,
        heartbeat: () => ctx.heartbeat(),
        sql: async (check): Promise<CheckAnswer> => {
          const rows = await query<Record<string, unknown>>(node, check.query, [], { database });
          return judgeSql(check as { query: string; expect?: unknown; expectRows?: number }, rows);
        },
      },
    );
    return {
      changed: false,
      message: `${report.message} (${node.label})`,
      data: { checks: report.results.map((r) => ({ ...r })) },
    };
  };
}

function judgeSql(
  check: { query: string; expect?: unknown; expectRows?: number },
  rows: Record<string, unknown>[],
): CheckAnswer {
  const first = rows[0] ? Object.values(rows[0])[0] : undefined;
  const shown =
    first === undefined
      ? 'no rows'
      : first === null
        ? 'NULL'
        : String(first instanceof Date ? first.toISOString() : first);
  if (check.expectRows !== undefined && rows.length !== check.expectRows)
    return { ok: false, detail: `returned ${rows.length} row(s), expected ${check.expectRows}` };
  if (check.expect !== undefined && (check.expect === null ? first !== null : shown !== String(check.expect)))
    return { ok: false, detail: `returned ${shown}, expected ${String(check.expect)}` };
  return { ok: true, detail: `returned ${shown}${rows.length !== 1 ? ` (${rows.length} rows)` : ''}` };
}

/**
 * preCheck: readiness (both nodes reachable, the standby streaming, lag within the RPO, the archive recent,
 * room for a restore) or, before a failover, the standby is there to promote.
 */
function preCheckOperation(env: NodeJS.ProcessEnv): PgOperation {
  return async (node, ctx, p) => {
    switch (p.check) {
      case 'approvers':
        return approversCheck(p);
      case 'site':
        return { changed: false, message: `${ctx.site.name}: PostgreSQL nodes are checked per workload (replication)` };
      case 'test-network':
        return {
          changed: false,
          message: `${ctx.site.name}: a PostgreSQL test copy needs no test network (its own port on loopback)`,
        };
      case 'capacity':
        return capacityCheck(p);
      case 'replication':
        return replicationCheck(node, ctx, p, env);
      case undefined: {
        const [r] = await query<{ recovery: boolean }>(node, 'SELECT pg_is_in_recovery() AS recovery');
        return {
          changed: false,
          message: `${node.label} answers${r!.recovery ? ' (a standby, ready to promote)' : ' (already a primary)'}`,
        };
      }
      default:
        throw new ProviderError('ValidationFailed', `unknown readiness check ${String(p.check)}`);
    }
  };
}

function capacityCheck(p: JsonObject): OperationResult {
  const lines: string[] = [];
  for (const [name, s] of Object.entries((p.settings ?? {}) as unknown as Record<string, PgSettings>)) {
    if (!s.test) continue;
    const fs = statfsSync(dirname(s.test.dataDir));
    lines.push(`${name}: ${((fs.bavail * fs.bsize) / 2 ** 30).toFixed(1)} GB free for its test copy`);
  }
  return { changed: false, message: lines.join('; ') || 'no PostgreSQL test copies declared' };
}

async function replicationCheck(
  standby: PgNode,
  ctx: OperationContext,
  p: JsonObject,
  env: NodeJS.ProcessEnv,
): Promise<OperationResult> {
  const fail = (m: string): never => {
    throw new ProviderError('ValidationFailed', `${String(p.workload)}: ${m}`);
  };
  const primary = nodeAt(p, ctx.peer, env, ctx.signal);
  if (!(await answers(primary))) fail(`${primary.label} does not answer`);
  if (!(await answers(standby))) fail(`${standby.label} does not answer`);
  const [rx] = await query<{ status: string | null }>(
    standby,
    'SELECT (SELECT status FROM pg_stat_wal_receiver) AS status',
  );
  if (rx!.status !== 'streaming') fail(`${standby.label} is not streaming (${rx!.status ?? 'no WAL receiver'})`);
  const [lag] = await query<{
    bytes: string | null;
    secs: number | null;
    archived: Date | null;
    behind: boolean;
    failing: boolean;
  }>(
    primary,
    `SELECT (SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) FROM pg_stat_replication ORDER BY replay_lsn LIMIT 1)::text AS bytes,
            (SELECT extract(epoch FROM replay_lag) FROM pg_stat_replication ORDER BY replay_lsn LIMIT 1)::float AS secs,
            a.last_archived_time AS archived,
            -- Archiving keeps up when the newest archived segment is the one before the segment being written.
            coalesce(a.last_archived_wal < pg_walfile_name(pg_current_wal_lsn() - pg_size_bytes(current_setting('wal_segment_size'))), true) AS behind,
            coalesce(a.last_failed_time > coalesce(a.last_archived_time, '-infinity'), false) AS failing
       FROM pg_stat_archiver a`,
  );
  const rpoMs = Number(p.rpoMs ?? 0);
  const lagMs = (lag!.secs ?? 0) * 1000;
  if (rpoMs > 0 && lagMs > rpoMs) fail(`replay lag ${lagMs} ms is over the RPO of ${rpoMs} ms`);
  const archiveAge = lag!.archived ? Date.now() - lag!.archived.getTime() : undefined;
  if (standby.settings.archive) {
    if (lag!.failing) fail(`archiving fails on ${primary.label} (pg_stat_archiver: the last attempt failed)`);
    // An idle primary archives nothing new: only WAL waiting for the archive can be too old.
    if (rpoMs > 0 && lag!.behind && (archiveAge === undefined || archiveAge > rpoMs))
      fail(
        `the archive is behind: the newest archived WAL is ${archiveAge === undefined ? 'missing' : `${Math.round(archiveAge / 1000)}s old`}, over the RPO`,
      );
  }
  return {
    changed: false,
    message: `${standby.label} streams from ${primary.label}: ${lag!.bytes ?? 0} bytes, ${lagMs} ms behind (RPO ${rpoMs} ms)${archiveAge !== undefined ? `; newest archived WAL ${Math.round(archiveAge / 1000)}s old` : ''}`,
  };
}
