/**
 * What a stopped or crashed primary wrote, read from its own WAL with `pg_waldump` on its host: where its
 * WAL ends and the commits it holds since its latest checkpoint. A failover compares that with what the
 * standby recovered, so the loss it reports is measured on both sides, not guessed from one.
 */
import { ProviderError } from '../errors';
import type { JsonObject } from '../../contracts/plan';
import { controlData, lsn, server } from './node';
import type { PgNode } from './node';

/** Commits kept for the comparison (the newest); older ones are counted only. */
export const MAX_COMMITS = 500;

export interface WalTail {
  /** Where the WAL ends: the first byte after the last valid record. */
  walEnd: string;
  /** Where the reading started (the latest checkpoint's redo point): commits before it are not listed. */
  from: string;
  timeline: number;
  /** The cluster state pg_controldata reports (`in production` after a crash, `shut down` after a clean stop). */
  state: string;
  /** The newest commits as [lsn, epoch ms], oldest first; `commitCount` counts all since `from`. */
  commits: [string, number][];
  commitCount: number;
}

const COMMIT = /lsn: (\S+), prev \S+, desc: COMMIT (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) UTC/;
const END =
  /invalid record length at (\S+?):|record with incorrect prev-link \S+ at (\S+?)$|invalid magic number \S+ in WAL segment \S+, LSN (\S+?),/m;

/** Reads the tail of a stopped node's WAL (the node must not be running: its WAL would still grow). */
export async function walTail(node: PgNode): Promise<WalTail> {
  const control = await controlData(node);
  const from = control["Latest checkpoint's REDO location"];
  const timeline = Number(control["Latest checkpoint's TimeLineID"]);
  if (!from || !Number.isInteger(timeline))
    throw new ProviderError('InvalidState', `pg_controldata of ${node.label} names no checkpoint`);
  const r = await server(node, 'pg_waldump', [
    '-p',
    `${node.dataDir}/pg_wal`,
    '-t',
    String(timeline),
    '-s',
    from,
    '-r',
    'Transaction',
  ]);
  const end = END.exec(r.stderr);
  const walEnd = end ? (end[1] ?? end[2] ?? end[3])! : undefined;
  if (!walEnd)
    throw new ProviderError(
      'InvalidState',
      `pg_waldump could not find where ${node.label}'s WAL ends: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`,
    );
  const commits: [string, number][] = [];
  let commitCount = 0;
  for (const line of r.stdout.split('\n')) {
    const m = COMMIT.exec(line);
    if (!m) continue;
    commitCount++;
    commits.push([m[1]!, Date.parse(`${m[2]!.replace(' ', 'T')}Z`)]);
    if (commits.length > MAX_COMMITS) commits.shift();
  }
  return { walEnd, from, timeline, state: control['Database cluster state'] ?? 'unknown', commits, commitCount };
}

/** A WalTail as it travels in a step's result (and back into the promote's params). */
export function tailData(t: WalTail): JsonObject {
  const { walEnd, from, timeline, state, commits, commitCount } = t;
  return { walEnd, from, timeline, state, commits, commitCount };
}

/** A WalTail read back from a promote's `params.source`, or undefined when the final sync did not read one. */
export function tailOf(v: unknown): WalTail | undefined {
  const t = v as Partial<WalTail> | undefined;
  if (!t || typeof t.walEnd !== 'string' || typeof t.from !== 'string' || !Array.isArray(t.commits)) return undefined;
  return t as WalTail;
}

/** What the primary committed that a copy ending at `recoveredEnd` does not hold. */
export function lostAgainst(
  tail: WalTail,
  recoveredEnd: string,
): { commits: number; atLeast: boolean; bytes: bigint; first?: number; last?: number } {
  const end = lsn(recoveredEnd);
  const lost = tail.commits.filter(([l]) => lsn(l) >= end);
  // The list holds the newest MAX_COMMITS: if all are lost, older ones may be too; before `from`, unknown.
  const atLeast =
    (lost.length === tail.commits.length && tail.commitCount > tail.commits.length) || end < lsn(tail.from);
  const bytes = lsn(tail.walEnd) - end;
  return {
    commits: lost.length,
    atLeast,
    bytes: bytes > 0n ? bytes : 0n,
    ...(lost.length ? { first: lost[0]![1], last: lost[lost.length - 1]![1] } : {}),
  };
}
