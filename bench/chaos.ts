/**
 * `npm run chaos`: a bounded chaos campaign on loopback. A generated estate (default 500 workloads, the
 * simulator's two sites) goes through `test`, `cleanup` and a `disaster-recovery` with its protected
 * site down (every call to it fails: SiteUnreachable), while the real `drover worker` process is SIGKILLed
 * at seeded random moments and restarted, and the Temporal dev server is SIGKILLed once and restarted on
 * its SQLite file. Prints runs completed / attempted, duplicate effects (any side effect of a step done
 * twice to one workload: power-ons, promotes, restores...), orphans after cleanup (anything the test left
 * at either site), workflow task failures (a nondeterminism or a workflow bug; timeouts from killed
 * workers are printed apart, they are expected), and exits 1 if any is not as it must be.
 *
 *   CHAOS_WORKLOADS (500)  CHAOS_KILLS (12)  CHAOS_SEED (1)  CHAOS_LATENCY (300ms)
 *
 * `runChaos` is also the short version `npm test` runs (test/chaos.test.ts), with a smaller estate.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { parseDocument } from 'yaml';
import { compile } from '../compiler';
import type { Mode, PlanSite } from '../compiler';
import { effects, inventory, seedSite } from '../providers/simulator';
import { shardRecords } from '../reports/collect';
import { commitUpdate, progressQuery, WORKFLOW_TYPE } from '../workflows/messages';
import type { RunRecord } from '../contracts/record';
import { Rng } from './mutate';
import { generateEstate } from './estate';

/** The repository: two folders up from dist/bench/, one from bench/ (the test runs the source). */
const ROOT = existsSync(join(__dirname, '..', 'package.json')) ? join(__dirname, '..') : join(__dirname, '..', '..');
const TEMPORAL = join(ROOT, '.temporal', 'bin', 'temporal');
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ChaosOptions {
  workloads: number;
  /** Worker SIGKILLs over the campaign (at least this many; spread over the runs). */
  kills: number;
  seed: number;
  /** Simulated latency of every step. */
  latency: string;
  log?: (line: string) => void;
}

export interface ChaosFigures {
  attempted: number;
  completed: number;
  kills: number;
  serverRestarts: number;
  duplicates: number;
  duplicateExamples: string[];
  orphans: number;
  orphanExamples: string[];
  taskFailures: number;
  taskTimeouts: number;
  runs: { mode: Mode; status: string; seconds: number }[];
  folder: string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });

/** The pinned dev server on a fixed port and SQLite file, so a restart finds every run where it was. */
class DevServer {
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
class WorkerProcess {
  private child: ChildProcess | undefined;
  unexpectedExits = 0;
  constructor(
    private readonly dir: string,
    private readonly address: string,
    private readonly log: NodeJS.WritableStream,
  ) {}

  start(): void {
    const child = spawn(process.execPath, [BIN, 'worker', '--runbooks', '.'], {
      cwd: this.dir,
      env: { ...process.env, TEMPORAL_ADDRESS: this.address, TEMPORAL_NAMESPACE: 'default', DROVER_LOG_LEVEL: 'warn' },
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
async function resultOf(client: Client, workflowId: string): Promise<RunRecord | string> {
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

async function commitIfWaiting(client: Client, workflowId: string): Promise<void> {
  try {
    const handle = client.workflow.getHandle(workflowId);
    const r = await handle.query(progressQuery);
    if (r.status === 'awaiting-commit') await handle.executeUpdate(commitUpdate, { args: [{ by: 'chaos' }] });
  } catch {
    // The server or the worker is down just now: the next round asks again.
  }
}

/** Side effects per workload and kind at every site, flattened: `west/vm-0001/powerOn` → count. */
async function effectCounts(sites: PlanSite[], dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const site of sites)
    for (const [workload, kinds] of Object.entries(await effects(site, dir)))
      for (const [kind, n] of Object.entries(kinds ?? {})) out.set(`${site.name}/${workload}/${kind}`, n);
  return out;
}

/** Every workflow task that failed (a bug) or timed out (a killed worker) in a run and its shards. */
async function taskTrouble(client: Client, root: RunRecord): Promise<{ failed: number; timedOut: number }> {
  const ids = [root.workflowId, ...(await shardRecords(client, root)).map((r) => r.workflowId)];
  const E = temporal.api.enums.v1.EventType;
  let failed = 0;
  let timedOut = 0;
  for (const id of ids) {
    const events = (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
    failed += events.filter((e) => e.eventType === E.EVENT_TYPE_WORKFLOW_TASK_FAILED).length;
    timedOut += events.filter((e) => e.eventType === E.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT).length;
  }
  return { failed, timedOut };
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosFigures> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const rng = new Rng(opts.seed);
  const dir = mkdtempSync(join(tmpdir(), 'drover-chaos-'));
  const logs = createWriteStream(join(dir, 'processes.log'));
  const estate = generateEstate({ workloads: opts.workloads, latency: opts.latency, name: 'chaos' });
  writeFileSync(join(dir, 'chaos.yaml'), estate);
  // The failover's runbook: the same estate, its protected site down for the whole run (a disaster).
  const dr = parseDocument(estate);
  dr.setIn(['metadata', 'name'], 'chaos-dr');
  dr.setIn(['simulation', 'faults'], [{ site: 'protected', effect: 'site-down' }]);
  dr.setIn(['defaults', 'retry'], { maxAttempts: 3, initialInterval: '200ms', maxInterval: '1s' });
  writeFileSync(join(dir, 'chaos-dr.yaml'), dr.toString());
  const plan = compile(estate, { file: 'chaos.yaml', mode: 'test' }).plan!;
  const sites = Object.values(plan.sites);
  await seedSite(plan, dir);

  const server = new DevServer(join(dir, 'temporal.db'), await freePort(), logs);
  await server.start();
  const address = `127.0.0.1:${server.port}`;
  const worker = new WorkerProcess(dir, address, logs);
  worker.start();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });

  const phases: { mode: Mode; runbook: string; restartServer: boolean }[] = [
    { mode: 'test', runbook: 'chaos.yaml', restartServer: false },
    { mode: 'cleanup', runbook: 'chaos.yaml', restartServer: false },
    { mode: 'disaster-recovery', runbook: 'chaos-dr.yaml', restartServer: true },
  ];
  const figures: ChaosFigures = {
    attempted: 0,
    completed: 0,
    kills: 0,
    serverRestarts: 0,
    duplicates: 0,
    duplicateExamples: [],
    orphans: 0,
    orphanExamples: [],
    taskFailures: 0,
    taskTimeouts: 0,
    runs: [],
    folder: dir,
  };
  const before = await inventory(sites, dir);
  try {
    for (const [i, phase] of phases.entries()) {
      const want = Math.ceil(((opts.kills - figures.kills) * 1) / (phases.length - i));
      const counts = await effectCounts(sites, dir);
      const workflowId = `chaos-${phase.mode}`;
      figures.attempted++;
      const t0 = Date.now();
      await client.workflow.start(WORKFLOW_TYPE, {
        taskQueue: 'drover',
        workflowId,
        args: [{ runbook: phase.runbook, mode: phase.mode }],
      });
      let finished = false;
      const result = resultOf(client, workflowId).finally(() => (finished = true));
      // The chaos: kills at seeded moments while the run goes on; the server once, in the failover.
      let killed = 0;
      let serverDone = !phase.restartServer;
      for (let round = 0; !finished; round++) {
        await Promise.race([result, sleep(round === 0 ? 300 + rng.int(700) : 800 + rng.int(2500))]);
        if (finished) break;
        // A failover waits in its commit window for a person: the campaign commits (through outages too).
        await commitIfWaiting(client, workflowId);
        if (!serverDone && Date.now() - t0 > 2000) {
          serverDone = true;
          log(`  ${phase.mode}: SIGKILL of the Temporal server; restarting it on its SQLite file`);
          await server.kill();
          await sleep(1000);
          await server.start();
          figures.serverRestarts++;
          continue;
        }
        if (killed < want) {
          await worker.kill('SIGKILL');
          killed++;
          figures.kills++;
          await sleep(200 + rng.int(1300));
          worker.start();
        }
      }
      const outcome = await result;
      const seconds = (Date.now() - t0) / 1000;
      const status = typeof outcome === 'string' ? outcome : outcome.status;
      figures.runs.push({ mode: phase.mode, status, seconds });
      if (typeof outcome !== 'string' && outcome.status === 'succeeded') figures.completed++;
      log(`  ${phase.mode}: ${status} in ${seconds.toFixed(1)} s, ${killed} worker kill(s)`);
      // Twice to one workload is a duplicate effect: each step's effect happens once per run.
      const after = await effectCounts(sites, dir);
      for (const [key, n] of after) {
        const extra = n - (counts.get(key) ?? 0) - 1;
        if (extra > 0) {
          figures.duplicates += extra;
          if (figures.duplicateExamples.length < 5)
            figures.duplicateExamples.push(`${phase.mode}: ${key} +${extra + 1}`);
        }
      }
      if (typeof outcome !== 'string') {
        const trouble = await taskTrouble(client, outcome);
        figures.taskFailures += trouble.failed;
        figures.taskTimeouts += trouble.timedOut;
      }
      if (phase.mode === 'cleanup') {
        // Orphans: anything test + cleanup left behind (a test network, a copy, a snapshot), at either site.
        const now = await inventory(sites, dir);
        for (const site of sites) {
          const was = before.sites[site.name]!;
          const is = now.sites[site.name]!;
          for (const net of is.networks.filter((n) => !was.networks.includes(n))) {
            figures.orphans++;
            figures.orphanExamples.push(`${site.name}: network ${net}`);
          }
          for (const [name, w] of Object.entries(is.workloads)) {
            if (JSON.stringify(w) === JSON.stringify(was.workloads[name])) continue;
            figures.orphans++;
            if (figures.orphanExamples.length < 5) figures.orphanExamples.push(`${site.name}: ${name} differs`);
          }
        }
      }
    }
  } finally {
    await worker.kill('SIGTERM');
    await connection.close();
    await server.kill();
    logs.end();
  }
  if (worker.unexpectedExits) log(`  the worker exited on its own ${worker.unexpectedExits} time(s) (restarted)`);
  return figures;
}

/** Whether the campaign kept every promise: all runs completed, nothing done twice, nothing left, no task failure. */
export function chaosHeld(f: ChaosFigures): boolean {
  return f.completed === f.attempted && f.duplicates === 0 && f.orphans === 0 && f.taskFailures === 0;
}

export function printChaos(f: ChaosFigures, opts: ChaosOptions): void {
  console.log(`runs completed / attempted:   ${f.completed} / ${f.attempted}`);
  console.log(`worker SIGKILLs:              ${f.kills} (asked for ${opts.kills})`);
  console.log(`Temporal server restarts:     ${f.serverRestarts}`);
  console.log(
    `duplicate effects:            ${f.duplicates}${f.duplicateExamples.length ? ` (${f.duplicateExamples.join('; ')})` : ''}`,
  );
  console.log(
    `orphans after cleanup:        ${f.orphans}${f.orphanExamples.length ? ` (${f.orphanExamples.join('; ')})` : ''}`,
  );
  console.log(`workflow task failures:       ${f.taskFailures}`);
  console.log(`workflow task timeouts:       ${f.taskTimeouts} (killed workers; expected, not failures)`);
  console.log(`goal (all complete, 0 duplicates, 0 orphans, 0 task failures): ${chaosHeld(f) ? 'met' : 'NOT met'}`);
  console.log(`logs and state: ${f.folder}`);
}

async function main(): Promise<void> {
  const opts: ChaosOptions = {
    workloads: Number(process.env.CHAOS_WORKLOADS ?? 500),
    kills: Number(process.env.CHAOS_KILLS ?? 12),
    seed: Number(process.env.CHAOS_SEED ?? 1),
    latency: process.env.CHAOS_LATENCY ?? '300ms',
  };
  console.log(
    `chaos: ${opts.workloads} workloads, test + cleanup + disaster-recovery (protected site down), ≥ ${opts.kills} worker SIGKILLs, one server restart, seed ${opts.seed}`,
  );
  const figures = await runChaos(opts);
  printChaos(figures, opts);
  if (!chaosHeld(figures)) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 2;
  });
}
