/**
 * What every phase of `npm run chaos` shares: the pinned Temporal dev server on a SQLite file (killed and
 * restarted on it), the real `drover worker` process (SIGKILLed and restarted), a run's result through
 * outages, the workflow task trouble of a run and its shards, the figures a phase against a real peer
 * (vcsim, PostgreSQL) reports, and the project's install scripts for those peers.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Mode } from '../compiler';
import type { RunRecord } from '../contracts/record';
import { shardRecords } from '../reports/collect';
import { commitUpdate, progressQuery, WORKFLOW_TYPE } from '../workflows/messages';

/** The repository: two folders up from dist/bench/, one from bench/ (the tests run the source). */
export const ROOT = existsSync(join(__dirname, '..', 'package.json'))
  ? join(__dirname, '..')
  : join(__dirname, '..', '..');
export const TEMPORAL = join(ROOT, '.temporal', 'bin', 'temporal');
export const BIN = join(ROOT, 'dist', 'cli', 'bin.js');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });

/** The pinned dev server on a fixed port and SQLite file, so a restart finds every run where it was. */
export class DevServer {
  private child: ChildProcess | undefined;
  constructor(
    private readonly db: string,
    readonly port: number,
    private readonly log: NodeJS.WritableStream,
  ) {}

  async start(): Promise<void> {
    const args = ['server', 'start-dev', '--db-filename', this.db, '--ip', '127.0.0.1', '--port', String(this.port)];
    args.push('--headless', '--log-level', 'error', '--namespace', 'default');
    const child = spawn(TEMPORAL, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.pipe(this.log, { end: false });
    child.stderr!.pipe(this.log, { end: false });
    this.child = child;
    for (let i = 0; i < 300 && !(await accepts(this.port)); i++) await sleep(100);
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }
}

/** The real `drover worker`, restarted by the campaign after each kill (and if it ever exits on its own). */
export class WorkerProcess {
  private child: ChildProcess | undefined;
  unexpectedExits = 0;
  constructor(
    private readonly dir: string,
    private readonly address: string,
    private readonly log: NodeJS.WritableStream,
    /** Added to the worker's environment (the secrets its runbooks reference). */
    private readonly env: Record<string, string> = {},
  ) {}

  start(): void {
    const child = spawn(process.execPath, [BIN, 'worker', '--runbooks', '.'], {
      cwd: this.dir,
      env: {
        ...process.env,
        ...this.env,
        TEMPORAL_ADDRESS: this.address,
        TEMPORAL_NAMESPACE: 'default',
        DROVER_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.pipe(this.log, { end: false });
    child.once('exit', (code, signal) => {
      if (this.child === child && signal !== 'SIGKILL' && signal !== 'SIGTERM') {
        this.unexpectedExits++;
        this.child = undefined;
        setTimeout(() => this.start(), 500);
      }
      void code;
    });
    this.child = child;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await gone;
  }
}

/** A run's result, waiting through a server that is down (the client reconnects). */
export async function resultOf(client: Client, workflowId: string): Promise<RunRecord | string> {
  for (;;) {
    try {
      return (await client.workflow.getHandle(workflowId).result()) as RunRecord;
    } catch (e) {
      const err = e as Error & { cause?: Error };
      if (err.name === 'WorkflowFailedError') return `failed: ${err.cause?.message ?? err.message}`;
      await sleep(500);
    }
  }
}

export async function commitIfWaiting(client: Client, workflowId: string): Promise<void> {
  try {
    const handle = client.workflow.getHandle(workflowId);
    const r = await handle.query(progressQuery);
    if (r.status === 'awaiting-commit') await handle.executeUpdate(commitUpdate, { args: [{ by: 'chaos' }] });
  } catch {
    // The server or the worker is down just now: the next round asks again.
  }
}

/** Every workflow task that failed (a bug) or timed out (a killed worker) in a run and its shards. */
/**
 * Workflow task trouble: `failed` by the worker (nondeterminism, an error in the workflow code), `timedOut`
 * (a killed worker's task, expected), `forceClosed`: failed by the server itself (cause FORCE_CLOSE_COMMAND,
 * identity history-service), which it does when more than 100 events (its maximumBufferedEventsBatch) pile
 * up while one task runs, e.g. activity results arriving while a CPU-starved worker replays; the task is
 * retried from history and nothing is lost, but it is reported, not hidden.
 */
export interface TaskTrouble {
  failed: number;
  timedOut: number;
  forceClosed: number;
}

export async function taskTrouble(client: Client, root: RunRecord): Promise<TaskTrouble> {
  return historyTrouble(client, [root.workflowId, ...(await shardRecords(client, root)).map((r) => r.workflowId)]);
}

/** Workflow task trouble in these executions' histories (a run without a result too). */
export async function historyTrouble(client: Client, ids: string[]): Promise<TaskTrouble> {
  const E = temporal.api.enums.v1.EventType;
  const FORCE_CLOSE = temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND;
  const trouble: TaskTrouble = { failed: 0, timedOut: 0, forceClosed: 0 };
  for (const id of ids) {
    for (const e of (await client.workflow.getHandle(id).fetchHistory()).events ?? []) {
      if (e.eventType === E.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT) trouble.timedOut++;
      if (e.eventType !== E.EVENT_TYPE_WORKFLOW_TASK_FAILED) continue;
      const a = e.workflowTaskFailedEventAttributes;
      if (a?.cause === FORCE_CLOSE && a.identity === 'history-service') trouble.forceClosed++;
      else trouble.failed++;
    }
  }
  return trouble;
}

/**
 * What a phase against a real peer reports. Every count comes from the peer itself (vCenter's events and
 * inventory, PostgreSQL's timelines, logs, rows and processes), never from Drover's run records.
 */
export interface PeerFigures {
  phase: 'vsphere' | 'postgres';
  /** What the phase ran against and did, for the printed line. */
  title: string;
  /** Why the phase did not run (its peer is not installed and could not be): the campaign's goal is not met. */
  skipped?: string;
  attempted: number;
  completed: number;
  kills: number;
  /** The outages the phase caused (a vCenter frozen, a server stopped), each with how long it lasted. */
  outages: string[];
  duplicates: number;
  duplicateExamples: string[];
  orphans: number;
  orphanExamples: string[];
  /** Rows a PostgreSQL writer had committed (acknowledged) that the new primary does not have. */
  lostRows?: number;
  /** How many rows the writer committed (so a 0 above means something). */
  committedRows?: number;
  taskFailures: number;
  taskTimeouts: number;
  /** Tasks the server force-closed (TaskTrouble). */
  taskForceClosed: number;
  /** Anything that made a figure impossible to read from the peer (then the phase does not count as held). */
  problems: string[];
  runs: { mode: Mode; status: string; seconds: number; kills: number }[];
  seconds: number;
  folder: string;
}

export function emptyFigures(phase: PeerFigures['phase'], title: string, folder: string): PeerFigures {
  return {
    phase,
    title,
    attempted: 0,
    completed: 0,
    kills: 0,
    outages: [],
    duplicates: 0,
    duplicateExamples: [],
    orphans: 0,
    orphanExamples: [],
    taskFailures: 0,
    taskTimeouts: 0,
    taskForceClosed: 0,
    problems: [],
    runs: [],
    seconds: 0,
    folder,
  };
}

/** A phase held when it ran, every run completed, nothing was done twice, left behind or lost. */
export function peerHeld(f: PeerFigures): boolean {
  return (
    f.skipped === undefined &&
    f.attempted > 0 &&
    f.completed === f.attempted &&
    f.duplicates === 0 &&
    f.orphans === 0 &&
    (f.lostRows ?? 0) === 0 &&
    f.taskFailures === 0 &&
    f.problems.length === 0
  );
}

/** One line per phase, as `npm run chaos` prints it. */
export function peerLine(f: PeerFigures): string {
  const label = `${f.phase} phase:`.padEnd(30);
  if (f.skipped) return `${label}SKIPPED (${f.title}): ${f.skipped}`;
  const examples = (xs: string[]) => (xs.length ? ` (${xs.slice(0, 5).join('; ')})` : '');
  const runs = f.runs.map((r) => `${r.mode} ${r.status} ${r.seconds.toFixed(1)} s`).join(', ');
  const rows =
    f.lostRows === undefined ? '' : `, committed rows lost ${f.lostRows} of ${f.committedRows ?? 0} acknowledged`;
  return (
    `${label}${f.title}: runs completed / attempted ${f.completed} / ${f.attempted} (${runs}), ` +
    `duplicate effects ${f.duplicates}${examples(f.duplicateExamples)}, ` +
    `orphans after cleanup ${f.orphans}${examples(f.orphanExamples)}${rows}, ` +
    `workflow task failures ${f.taskFailures} (timeouts ${f.taskTimeouts}, force-closed by the server ${f.taskForceClosed}); ` +
    `${f.kills} worker SIGKILLs; outages: ${f.outages.join(', ') || 'none'}` +
    `${f.problems.length ? `; PROBLEMS: ${f.problems.join('; ')}` : ''} [${f.seconds.toFixed(1)} s, ${f.folder}]`
  );
}

/**
 * The peer's program is there, or the project's install script (scripts/install-*.sh, as `npm run
 * setup:*` runs it) put it there: undefined. Otherwise why not, which the phase reports as skipped.
 */
export function ensureInstalled(what: string, program: string, script: string, log: (l: string) => void) {
  if (existsSync(program)) return undefined;
  log(`  ${what} is not installed (${program}): running ${script}`);
  const r = spawnSync('bash', [join(ROOT, script)], { cwd: ROOT, encoding: 'utf8', timeout: 15 * 60_000 });
  if (existsSync(program)) return undefined;
  const out = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n').slice(-3).join(' | ');
  return `${what} is not installed at ${program} and ${script} did not install it (exit ${r.status ?? r.signal}: ${out})`;
}

/** What an outage sees of the run it strikes: its progress (through the query; undefined while no worker answers). */
export interface RunWatch {
  /** Until `check` holds for the run's progress (true), or the run ends or `capMs` passes (false); polls every 50 ms. */
  until(check: (r: RunRecord) => boolean, capMs: number): Promise<boolean>;
  /** Until `seen` holds (true), or the run ends or `capMs` passes (false); checks every 5 ms, asks the run nothing. */
  untilSeen(seen: () => boolean, capMs: number): Promise<boolean>;
}

/**
 * Drives one run through chaos: starts it, then until it ends, at seeded moments, SIGKILLs and restarts the
 * worker (`kills` times) and commits a waiting commit window. `outage` runs beside it from the start: it
 * watches the run's progress to strike while the run acts on the peer (and to end once the run has met it).
 */
export async function chaosRun(opts: {
  client: Client;
  worker: WorkerProcess;
  workflowId: string;
  input: Record<string, unknown>;
  kills: number;
  rng: { int(n: number): number };
  outage?: (watch: RunWatch) => Promise<void>;
  log: (l: string) => void;
  label: string;
  /** A run not ended after this long is stuck: it is terminated and reported (the campaign stays bounded). */
  maxRunMs?: number;
}): Promise<{
  outcome: RunRecord | string;
  seconds: number;
  kills: number;
  trouble: TaskTrouble;
}> {
  const { client, worker, workflowId, rng } = opts;
  const t0 = Date.now();
  await client.workflow.start(WORKFLOW_TYPE, { taskQueue: 'drover', workflowId, args: [opts.input] });
  let finished = false;
  const result = resultOf(client, workflowId).finally(() => (finished = true));
  /** Until `check` holds (true), or the run ends or `capMs` passes (false), checking every `everyMs`. */
  const poll = async (check: () => boolean | Promise<boolean>, capMs: number, everyMs: number) => {
    const end = Date.now() + capMs;
    while (!finished && Date.now() < end) {
      if (await check()) return true;
      await sleep(everyMs);
    }
    return false;
  };
  const watch: RunWatch = {
    until: (check, capMs) =>
      poll(
        () =>
          client.workflow
            .getHandle(workflowId)
            .query(progressQuery)
            .then(check)
            // No worker answers just now (killed): ask again.
            .catch(() => false),
        capMs,
        50,
      ),
    untilSeen: (seen, capMs) => poll(seen, capMs, 5),
  };
  // Handled at once: a failing outage (pg_ctl refusing) is reported with the run, not an unhandled rejection.
  let outageError: unknown;
  const outage = opts.outage?.(watch).catch((e: unknown) => {
    outageError = e;
  });
  let killed = 0;
  const maxRunMs = opts.maxRunMs ?? Number(process.env.CHAOS_MAX_RUN_MS ?? 600_000);
  let stuck = false;
  for (let round = 0; !finished; round++) {
    await Promise.race([result, sleep(round === 0 ? 300 + rng.int(700) : 600 + rng.int(1800))]);
    if (finished) break;
    if (Date.now() - t0 > maxRunMs) {
      stuck = true;
      opts.log(`  ${opts.label}: not ended after ${maxRunMs / 1000} s: terminated`);
      await client.workflow
        .getHandle(workflowId)
        .terminate('npm run chaos: stuck')
        .catch(() => undefined);
      break;
    }
    await commitIfWaiting(client, workflowId);
    if (killed < opts.kills) {
      await worker.kill('SIGKILL');
      killed++;
      opts.log(`  ${opts.label}: SIGKILL of the worker at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      await sleep(200 + rng.int(1300));
      worker.start();
    }
  }
  const outcome = stuck ? `stuck (terminated after ${maxRunMs / 1000} s)` : await result;
  const seconds = (Date.now() - t0) / 1000;
  await outage;
  if (outageError !== undefined) throw outageError;
  const trouble =
    typeof outcome === 'string' ? await historyTrouble(client, [workflowId]) : await taskTrouble(client, outcome);
  return { outcome, seconds, kills: killed, trouble };
}

/** An outage as the run must meet it: that run, the site made unreachable, and since when. */
export interface Outage {
  workflowId: string;
  site: string;
  since: number;
}

/**
 * Whether the run met its outage: the worker's log (JSON lines) has a step of that run at that site that
 * failed as SiteUnreachable after the outage began. Without one the outage tested nothing.
 */
export async function metOutage(log: string, outage: Outage): Promise<boolean> {
  await sleep(300); // the worker's stderr reaches the file through a pipe
  return sawUnreachable(log, outage);
}

/**
 * Holds an outage for at least `minMs` and until the run has met it (metOutage: the worker was alive and
 * acting on the peer while it was down), or `capMs` passed. A fixed-length outage could fall entirely while
 * the worker was killed, or between two steps.
 */
export async function holdUntilMet(log: string, outage: Outage, minMs: number, capMs: number): Promise<void> {
  const from = Date.now();
  await sleep(minMs);
  while (Date.now() - from < capMs && !sawUnreachable(log, outage)) await sleep(250);
}

function sawUnreachable(log: string, outage: Outage): boolean {
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l.includes(`"workflowId":"${outage.workflowId}"`) && l.includes('"type":"SiteUnreachable"'))
    .some((l) => {
      const entry = JSON.parse(l) as { site?: string; timestamp?: string };
      return entry.site === outage.site && Date.parse(entry.timestamp ?? '') >= outage.since;
    });
}

/**
 * What the chaos runbooks against real peers share: their identity, objectives, and defaults with enough
 * attempts to outlast an outage and a killed worker (the backoff stays short).
 */
export function chaosRunbookHead(name: string, description: string, objectives: { rpo: string; rto: string }) {
  return {
    apiVersion: 'drover.dev/v1',
    kind: 'RecoveryPlan',
    metadata: { name, description, owner: 'chaos@example.com' },
    objectives,
    defaults: {
      timeout: '2m',
      retry: { maxAttempts: 30, initialInterval: '500ms', backoffCoefficient: 2, maxInterval: '2s' },
    },
  };
}

/**
 * A peer phase's own dev server (on `dir`/temporal.db) and real `drover worker`, and a client of it; each
 * pushes its stop onto `cleanups` (run in reverse when the phase ends).
 */
export async function startServerAndWorker(
  dir: string,
  logs: NodeJS.WritableStream,
  cleanups: (() => Promise<unknown>)[],
  env: Record<string, string> = {},
): Promise<{ worker: WorkerProcess; client: Client }> {
  const server = new DevServer(join(dir, 'temporal.db'), await freePort(), logs);
  await server.start();
  cleanups.push(() => server.kill());
  const address = `127.0.0.1:${server.port}`;
  const worker = new WorkerProcess(dir, address, logs, env);
  worker.start();
  cleanups.push(() => worker.kill('SIGTERM'));
  const connection = await Connection.connect({ address });
  cleanups.push(() => connection.close());
  return { worker, client: new Client({ connection, namespace: 'default' }) };
}

/**
 * Adds one run of a peer phase to its figures (attempted, completed, kills, task trouble), logs its end,
 * and returns its status and the counter of its duplicate effects (`dup(extra, what)`; 0 or less counts
 * nothing).
 */
export function tallyRun(
  figures: PeerFigures,
  mode: Mode,
  run: Awaited<ReturnType<typeof chaosRun>>,
  log: (line: string) => void,
): { status: string; dup: (n: number, what: string) => void } {
  figures.attempted++;
  figures.kills += run.kills;
  const status = typeof run.outcome === 'string' ? run.outcome : run.outcome.status;
  if (status === 'succeeded') figures.completed++;
  figures.runs.push({ mode, status, seconds: run.seconds, kills: run.kills });
  log(`  ${figures.phase} ${mode}: ${status} in ${run.seconds.toFixed(1)} s, ${run.kills} worker kill(s)`);
  figures.taskFailures += run.trouble.failed;
  figures.taskTimeouts += run.trouble.timedOut;
  figures.taskForceClosed += run.trouble.forceClosed;
  const dup = (n: number, what: string) => {
    if (n <= 0) return;
    figures.duplicates += n;
    figures.duplicateExamples.push(`${mode}: ${what}`);
  };
  return { status, dup };
}
