/**
 * Checks of a workload's `postgres:` block that the schema cannot express: paths on the database hosts
 * are absolute, and the test copy can never land on a node (its data directory is deleted by cleanup, its
 * server listens on its own port). Test mode's needs (a `test:` block, and what `from: archive` reads)
 * are checked per mode, by the expansion (`postgresModeProblems`).
 */
import { posix } from 'node:path';
import type { Diagnostic } from './diagnostics';
import type { Mode } from '../contracts/plan';
import { isRecord } from './runbook';
import type { Workload } from './runbook';
import type { PathSegment, RunbookSource } from './source';

const ROLES = ['protected', 'recovery'] as const;
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1)$/i;

/** A workload's `postgres:` block, read defensively (the schema may have failed). */
export function checkPostgresWorkload(
  source: RunbookSource,
  w: Workload,
  path: PathSegment[],
  out: Diagnostic[],
): void {
  const pg: unknown = w.postgres;
  if (!isRecord(pg)) return;
  const at: PathSegment[] = [...path, 'postgres'];
  const name = typeof w.name === 'string' ? w.name : 'this workload';
  const nodes = isRecord(pg.nodes) ? pg.nodes : {};
  const test = isRecord(pg.test) ? pg.test : undefined;
  const absolute = (value: unknown, where: PathSegment[], what: string) => {
    if (typeof value !== 'string' || posix.isAbsolute(value)) return;
    out.push(
      source.diagnostic(
        'postgres/path',
        where,
        `${what} "${value}" of ${name} is not an absolute path`,
        'write the full path on the database host, e.g. `/var/lib/postgresql/15/main`: commands run there from a folder Drover does not choose',
      ),
    );
  };
  absolute(pg.binDir, [...at, 'binDir'], 'binDir');
  absolute(pg.archive, [...at, 'archive'], 'the WAL archive');
  for (const role of ROLES) {
    const node = nodes[role];
    if (isRecord(node)) absolute(node.dataDir, [...at, 'nodes', role, 'dataDir'], `the ${role} node's dataDir`);
  }
  if (!test) return;
  absolute(test.dataDir, [...at, 'test', 'dataDir'], "the test copy's dataDir");
  absolute(test.baseBackup, [...at, 'test', 'baseBackup'], 'the base backup');
  checkTestCopy(source, name, nodes, test, at, out);
}

/** The test copy's folder is neither a node's data directory nor inside or around one; its port is its own. */
function checkTestCopy(
  source: RunbookSource,
  name: string,
  nodes: Record<string, unknown>,
  test: Record<string, unknown>,
  at: PathSegment[],
  out: Diagnostic[],
): void {
  for (const role of ROLES) {
    const node = nodes[role];
    if (!isRecord(node)) continue;
    const overlap =
      typeof test.dataDir === 'string' && typeof node.dataDir === 'string'
        ? overlapOf(test.dataDir, node.dataDir)
        : undefined;
    if (overlap) {
      out.push(
        source.diagnostic(
          'postgres/test-copy',
          [...at, 'test', 'dataDir'],
          `the test copy's dataDir ${overlap} the ${role} node's data directory (${String(node.dataDir)}) of ${name}`,
          'give the test copy a folder of its own, outside every data directory: cleanup deletes it with all it holds',
        ),
      );
    }
    // The copy listens on the recovery site's worker, the recovery node's host; a loopback node is there too.
    const sameHost = role === 'recovery' || (typeof node.host === 'string' && LOOPBACK.test(node.host));
    if (sameHost && typeof test.port === 'number' && test.port === node.port) {
      out.push(
        source.diagnostic(
          'postgres/test-copy',
          [...at, 'test', 'port'],
          `the test copy of ${name} would listen on port ${test.port}, the ${role} node's`,
          'give the test copy a port no server on that host uses',
        ),
      );
    }
  }
}

/** How folder `a` overlaps folder `b` ("is", "is inside", "contains"), or undefined. */
function overlapOf(a: string, b: string): string | undefined {
  if (!posix.isAbsolute(a) || !posix.isAbsolute(b)) return undefined;
  const x = posix.normalize(`${a}/`);
  const y = posix.normalize(`${b}/`);
  if (x === y) return 'is';
  if (x.startsWith(y)) return 'is inside';
  if (y.startsWith(x)) return 'contains';
  return undefined;
}

/**
 * What a mode needs of a workload the postgres provider recovers: test and cleanup work on the test copy
 * (`test:`), and a test copy from the archive reads `archive` and `test.baseBackup`. Each problem as the
 * path to point at and the message; the expansion reports them (`provider/settings`).
 */
export function postgresModeProblems(
  w: Workload,
  mode: Mode,
): { path: PathSegment[]; message: string; hint: string }[] {
  if (mode !== 'test' && mode !== 'cleanup') return [];
  const pg = w.postgres;
  if (!pg) return []; // reported by checkProviderSettings
  if (!pg.test)
    return [
      {
        path: ['postgres'],
        message: `${mode} mode works on a scratch copy of ${w.name}, but its postgres block has no \`test:\``,
        hint: 'add `test: { port: <free port>, dataDir: <absolute folder> }` (and `from: standby`, or a `baseBackup` for the default `from: archive`)',
      },
    ];
  if (mode !== 'test' || (pg.test.from ?? 'archive') !== 'archive') return [];
  const missing = [!pg.archive && 'postgres.archive', !pg.test.baseBackup && 'postgres.test.baseBackup'].filter(
    (m): m is string => typeof m === 'string',
  );
  if (!missing.length) return [];
  return [
    {
      path: ['postgres', 'test'],
      message: `the test copy of ${w.name} is restored from the WAL archive (\`from: archive\`, the default), which needs ${missing.join(' and ')}`,
      hint: 'name the WAL archive folder and a base backup to replay it onto, or write `from: standby` to copy the standby as it is now',
    },
  ];
}
