/**
 * The PostgreSQL phase of `npm run chaos`: a real PostgreSQL 15 primary and its streaming standby
 * (test/postgres/cluster.ts, servers installed by scripts/install-postgres.sh), one workload, through
 * `test` (a copy restored from the standby), `cleanup`, and a `planned-migration` (switchover, zero loss
 * promised), on a dev server of its own with the real `drover worker` process SIGKILLed at seeded moments.
 *
 * The outage is the recovery site's database stopped with `pg_ctl stop -m fast` and started again with
 * `pg_ctl start` on its port (a real outage: connections are refused, replication stops):
 * - in `test`, once the restore's base backup of the standby has begun (its staging folder appears), for
 *   `outageMs` and until a step has failed on it;
 * - in `planned-migration`, from before the run starts (the switchover is asked while the standby is down)
 *   until `outageMs` later, while a writer commits one row per transaction on the primary.
 *
 * Counted from PostgreSQL itself, never from Drover's records:
 * - duplicate effects: base backups that became the test copy (each `backup_manifest` checksum seen in its
 *   folder; one redone in `<dataDir>.drover-partial` after a kill never became the copy), the
 *   copy's own starts (its log), promotes (the new primary's timeline history: 1 → 2 once; its log's
 *   "received promote request" lines), starts of the old primary during the switchover (its log);
 * - orphans after cleanup: the copy's folder, its port still accepting, servers left in the pair's folder,
 *   anything in that folder the test added and cleanup did not remove;
 * - committed rows lost: every row the writer's COMMIT acknowledged must be on the new primary.
 */
import { execFile } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { compile } from '../compiler';
import type { Mode } from '../compiler';
import { stagingOf } from '../providers/postgres/copy';
import { createPair, PG_BIN, settingsOf, timelineOf, Writer } from '../test/postgres/cluster';
import type { PgNode, PgPair } from '../test/postgres/cluster';
import {
  chaosRun,
  chaosRunbookHead,
  emptyFigures,
  ensureInstalled,
  holdUntilMet,
  metOutage,
  sleep,
  startServerAndWorker,
  tallyRun,
} from './chaos-processes';
import type { PeerFigures, RunWatch } from './chaos-processes';
import { Rng } from './mutate';

export interface PostgresChaosOptions {
  /** Worker SIGKILLs over the phase (spread over test, cleanup and the switchover). */
  kills: number;
  seed: number;
  /** How long the standby stays stopped, in test and in the switchover. */
  outageMs: number;
  log?: (line: string) => void;
}

const STARTS = /LOG: {2}starting PostgreSQL /g;
const PROMOTES = /LOG: {2}received promote request/g;
const count = (text: string, re: RegExp) => (text.match(re) ?? []).length;
const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');
/** Where the provider sends the log of a server it starts (providers/postgres/node.ts `start`). */
const PROVIDER_LOG = 'drover-server.log';

/** pg_ctl as the pair's OS user (through runuser when this process is root, as the pair's own servers run). */
function pgCtl(pair: PgPair, args: string[]): Promise<void> {
  const bin = join(PG_BIN, 'pg_ctl');
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const [file, argv] = root ? ['runuser', ['-u', pair.osUser, '--', bin, ...args]] : [bin, args];
  return new Promise((resolve, reject) =>
    execFile(
      file,
      argv,
      { cwd: pair.root, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' }, timeout: 90_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`pg_ctl ${args[0]}: ${err.message} ${stderr}${stdout}`)) : resolve(),
    ),
  );
}

/** The node's outage: stopped (fast: a clean shutdown, connections refused from then on). */
const stopServer = (pair: PgPair, node: PgNode) =>
  pgCtl(pair, ['stop', '-w', '-t', '60', '-m', 'fast', '-D', node.dataDir]);
/** Back on its own port, logging where the pair's logs are. */
const startServer = (pair: PgPair, node: PgNode) =>
  pgCtl(pair, ['start', '-w', '-t', '60', '-D', node.dataDir, '-l', pair.logOf(node), '-o', `-p ${node.port}`]);

/** Both logs of a node: the pair's (outside the data dir) and the provider's (inside it). */
const logOf = (pair: PgPair, node: PgNode) => `${read(pair.logOf(node))}\n${read(join(node.dataDir, PROVIDER_LOG))}`;

/** PostgreSQL server processes whose working directory is `dataDir` (a server chdirs to its data dir). */
function serversIn(dataDir: string): number {
  const exe = join(PG_BIN, 'postgres');
  let n = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/exe`).replace(/ \(deleted\)$/, '') !== exe) continue;
      const cwd = readlinkSync(`/proc/${entry}/cwd`).replace(/ \(deleted\)$/, '');
      if (cwd === dataDir || cwd.startsWith(`${dataDir}/`)) n++;
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return n;
}

/** Each base backup the copy's folder holds while it is watched, by its manifest's checksum. */
class CopyWatch {
  readonly backups = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly dataDir: string) {}
  start(): void {
    this.timer = setInterval(() => this.look(), 100);
  }
  stop(): void {
    clearInterval(this.timer);
    this.look();
  }
  private look(): void {
    try {
      const m = JSON.parse(read(join(this.dataDir, 'backup_manifest')) || '{}') as { 'Manifest-Checksum'?: string };
      if (m['Manifest-Checksum']) this.backups.add(m['Manifest-Checksum']);
    } catch {
      // Being written: the next look reads it.
    }
  }
}

function runbook(pair: PgPair, copy: { port: number; dataDir: string }): string {
  return stringify({
    ...chaosRunbookHead('chaos-postgres', 'npm run chaos: a PostgreSQL 15 pair', { rpo: '1m', rto: '15m' }),
    sites: {
      protected: { name: 'db-east', provider: 'postgres' },
      recovery: { name: 'db-west', provider: 'postgres' },
    },
    groups: [
      {
        name: 'database',
        workloads: [
          {
            name: 'orders',
            type: 'database',
            postgres: settingsOf(pair, { test: { port: copy.port, dataDir: copy.dataDir, from: 'standby' } }),
            validations: [{ name: 'answers', sql: { query: 'SELECT count(*) FROM drover_load', expectRows: 1 } }],
          },
        ],
      },
    ],
  });
}

export async function runPostgresChaos(opts: PostgresChaosOptions): Promise<PeerFigures> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'drover-chaos-postgres-'));
  const title = `one primary/standby pair, test + cleanup + planned-migration, standby stopped ${opts.outageMs / 1000} s (pg_ctl) in test and switchover`;
  const figures = emptyFigures('postgres', title, dir);
  const missing = ensureInstalled('PostgreSQL 15', join(PG_BIN, 'pg_ctl'), 'scripts/install-postgres.sh', log);
  if (missing) return { ...figures, skipped: missing };
  const rng = new Rng(opts.seed);
  const logs = createWriteStream(join(dir, 'processes.log'));
  const cleanups: (() => Promise<unknown>)[] = [];
  let pair: PgPair | undefined;
  let writer: Writer | undefined;
  try {
    pair = await createPair();
    const p = pair;
    const copy = { port: await p.freePort(), dataDir: join(p.root, 'copy') };
    const yaml = runbook(p, copy);
    const compiled = compile(yaml, { file: 'chaos-postgres.yaml', mode: 'test' });
    if (!compiled.plan) throw new Error(`the chaos runbook does not compile: ${JSON.stringify(compiled.diagnostics)}`);
    writeFileSync(join(dir, 'chaos-postgres.yaml'), yaml);

    const { worker, client } = await startServerAndWorker(dir, logs, cleanups);

    const folderBefore = readdirSync(p.root).sort();
    const modes: Mode[] = ['test', 'cleanup', 'planned-migration'];
    const watch = new CopyWatch(copy.dataDir);
    cleanups.push(async () => watch.stop());
    let primaryStarts = 0;
    for (const [i, mode] of modes.entries()) {
      const kills = Math.ceil((opts.kills - figures.kills) / (modes.length - i));
      let outage: ((watch: RunWatch) => Promise<void>) | undefined;
      let outageDone = false;
      const met = { workflowId: `chaos-postgres-${mode}`, site: 'db-west', since: 0 };
      const standbyDown = async (from: number) => {
        met.since = from;
        // For outageMs, and until a step of the run has failed on the stopped standby (holdUntilMet).
        await holdUntilMet(join(dir, 'processes.log'), met, opts.outageMs - (Date.now() - from), 60_000);
        await startServer(p, p.standby);
        outageDone = true;
        figures.outages.push(`${mode}: standby stopped ${((Date.now() - from) / 1000).toFixed(1)} s`);
        log(
          `  postgres ${mode}: standby started again (pg_ctl start) after ${((Date.now() - from) / 1000).toFixed(1)} s`,
        );
      };
      if (mode === 'test') {
        // Mid-restore: once the copy's staging folder appears, pg_basebackup is reading the standby. Seen on
        // disk, not in the run's record: the snapshot → restore chain starts the moment the sync is done,
        // and this small database's backup can end before a record poll (every 50 ms) sees the sync.
        outage = async (watch) => {
          if (!(await watch.untilSeen(() => existsSync(stagingOf(copy)), 300_000))) return;
          const from = Date.now();
          await stopServer(p, p.standby);
          log("  postgres test: standby stopped (pg_ctl stop -m fast) once the restore's base backup had begun");
          await standbyDown(from);
        };
        watch.start();
      }
      if (mode === 'planned-migration') {
        primaryStarts = count(logOf(p, p.primary), STARTS);
        writer = new Writer(p, p.primary);
        writer.start();
        await sleep(500);
        const from = Date.now();
        await stopServer(p, p.standby);
        log('  postgres planned-migration: standby stopped (pg_ctl stop -m fast) before the switchover starts');
        outage = () => standbyDown(from);
      }
      const run = await chaosRun({
        client,
        worker,
        workflowId: `chaos-postgres-${mode}`,
        input: { runbook: 'chaos-postgres.yaml', mode },
        kills,
        rng,
        ...(outage ? { outage } : {}),
        log,
        label: `postgres ${mode}`,
      });
      if (outage && !outageDone) figures.problems.push(`${mode} ended before its outage did`);
      if (outage && !(await metOutage(join(dir, 'processes.log'), met)))
        figures.problems.push(`${mode} never met its outage (no step failed SiteUnreachable)`);
      const { status, dup } = tallyRun(figures, mode, run, log);
      if (mode === 'test') {
        watch.stop();
        dup(watch.backups.size - 1, `the copy's folder held ${watch.backups.size} base backups`);
        const starts = count(read(join(copy.dataDir, PROVIDER_LOG)), STARTS);
        dup(starts - 1, `the copy started ${starts}×`);
        if (status === 'succeeded' && (watch.backups.size === 0 || starts === 0))
          figures.problems.push(
            `test succeeded with ${watch.backups.size} base backups and ${starts} copy starts seen`,
          );
      }
      if (mode === 'cleanup') {
        const orphans: string[] = [];
        if (existsSync(copy.dataDir)) orphans.push(`the copy's folder ${copy.dataDir}`);
        if (await p.accepts(copy.port)) orphans.push(`port ${copy.port} still accepts connections`);
        const left = serversIn(copy.dataDir);
        if (left > 0) orphans.push(`${left} server process(es) of the copy still running`);
        for (const f of readdirSync(p.root).filter((x) => !folderBefore.includes(x)))
          if (f !== 'copy') orphans.push(`${f} in the pair's folder`);
        figures.orphans += orphans.length;
        figures.orphanExamples.push(...orphans);
      }
      if (mode === 'planned-migration') {
        await writer!.stop();
        const standbyLog = logOf(p, p.standby);
        const promotes = count(standbyLog, PROMOTES);
        const timeline = timelineOf(p.standby.dataDir);
        dup(promotes - 1, `the standby received ${promotes} promote requests`);
        dup(timeline - 2, `the new primary's timeline went from 1 to ${timeline}`);
        // A failed switchover restarts its source (compensation); a completed one never starts it again.
        const restarts = count(logOf(p, p.primary), STARTS) - primaryStarts;
        if (status === 'succeeded') dup(restarts, `the old primary was started ${restarts}× during the switchover`);
        if (status === 'succeeded' && (promotes === 0 || timeline !== 2))
          figures.problems.push(
            `the switchover succeeded but the standby shows ${promotes} promotes, timeline ${timeline}`,
          );
        // Zero loss: every acknowledged row is on the new primary.
        const present = new Set((await p.query(p.standby, 'SELECT id FROM drover_load')).map((r) => Number(r.id)));
        figures.committedRows = writer!.acknowledged.length;
        figures.lostRows = writer!.acknowledged.filter((id) => !present.has(id)).length;
        if (figures.committedRows === 0) figures.problems.push('the writer committed no row before the switchover');
      }
    }
    if (worker.unexpectedExits) log(`  postgres: the worker exited on its own ${worker.unexpectedExits} time(s)`);
    if (figures.kills === 0) figures.problems.push('no worker kill landed during a run');
  } catch (e) {
    figures.problems.push(`the phase broke: ${(e as Error).message}`);
  } finally {
    await writer?.stop();
    for (const stop of cleanups.reverse()) await stop().catch(() => undefined);
    // Every server of the pair stopped, its folder removed; it throws if a process or a port is left.
    await pair?.remove().catch((e: unknown) => figures.problems.push((e as Error).message));
    logs.end();
  }
  figures.seconds = (Date.now() - started) / 1000;
  return figures;
}
