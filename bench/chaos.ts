/**
 * `npm run chaos`: a bounded chaos campaign on loopback, in three phases (CHAOS_PHASES, default all three).
 *
 * - simulator: a generated estate (default 500 workloads, the simulator's two sites) goes through `test`,
 *   `cleanup` and a `disaster-recovery` with its protected site down (every call to it fails:
 *   SiteUnreachable), while the real `drover worker` process is SIGKILLed at seeded random moments and
 *   restarted, and the Temporal dev server is SIGKILLed once and restarted on its SQLite file.
 * - vsphere (bench/chaos-vsphere.ts): VMs on two real vCenter API peers (govmomi's vcsim) through `test` and
 *   `cleanup`, the recovery vCenter frozen (SIGSTOP/SIGCONT) mid-run, the worker SIGKILLed.
 * - postgres (bench/chaos-postgres.ts): a real PostgreSQL 15 primary/standby pair through `test`, `cleanup`
 *   and a `planned-migration` under writes, the standby stopped and started with pg_ctl mid-run, the
 *   worker SIGKILLed.
 *
 * Prints runs completed / attempted, duplicate effects (any side effect of a step done twice to one
 * workload: power-ons, promotes, restores...), orphans after cleanup (anything the test left at either
 * site), committed rows lost (PostgreSQL), workflow task failures (a nondeterminism or a workflow bug;
 * timeouts from killed workers are printed apart, they are expected), and exits 1 if any is not as it must
 * be, or if a real peer is missing and its install script (scripts/install-vcsim.sh, install-postgres.sh)
 * could not install it: the phase is printed as SKIPPED with the reason, never passed.
 *
 *   CHAOS_PHASES (simulator,vsphere,postgres)  CHAOS_SEED (1)
 *   simulator: CHAOS_WORKLOADS (500)  CHAOS_KILLS (12)  CHAOS_LATENCY (300ms)
 *   vsphere, postgres: CHAOS_VMS (12)  CHAOS_OUTAGE_MS (6000)  CHAOS_PEER_KILLS (3 per phase)
 *
 * `runChaos`, `runVsphereChaos` and `runPostgresChaos` are also the short versions `npm test` runs
 * (test/chaos.test.ts, test/chaos-peers.test.ts), smaller.
 */
import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { parseDocument } from 'yaml';
import { compile } from '../compiler';
import type { Mode, PlanSite } from '../compiler';
import { effects, inventory, seedSite } from '../providers/simulator';
import { WORKFLOW_TYPE } from '../workflows/messages';
import {
  commitIfWaiting,
  DevServer,
  freePort,
  peerHeld,
  peerLine,
  resultOf,
  sleep,
  taskTrouble,
  WorkerProcess,
} from './chaos-processes';
import type { PeerFigures } from './chaos-processes';
import { runPostgresChaos } from './chaos-postgres';
import { runVsphereChaos } from './chaos-vsphere';
import { Rng } from './mutate';
import { generateEstate } from './estate';

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
  /** Syncs run again after a worker died mid-sync (not duplicates: a sync may ship again, see runChaos). */
  resyncs: number;
  orphans: number;
  orphanExamples: string[];
  taskFailures: number;
  taskTimeouts: number;
  /** Tasks the server force-closed (bench/chaos-processes.ts TaskTrouble). */
  taskForceClosed: number;
  runs: { mode: Mode; status: string; seconds: number }[];
  folder: string;
  /** Why the simulator phase did not run (CHAOS_PHASES left it out); undefined when it ran. */
  simulatorNotRun?: string;
  /** The phases against real peers (vcsim, PostgreSQL), each counted from the peer itself. */
  peers: PeerFigures[];
}

/** Side effects per workload and kind at every site, flattened: `west/vm-0001/powerOn` → count. */
async function effectCounts(sites: PlanSite[], dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const site of sites)
    for (const [workload, kinds] of Object.entries(await effects(site, dir)))
      for (const [kind, n] of Object.entries(kinds ?? {})) out.set(`${site.name}/${workload}/${kind}`, n);
  return out;
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
    resyncs: 0,
    orphans: 0,
    orphanExamples: [],
    taskFailures: 0,
    taskTimeouts: 0,
    taskForceClosed: 0,
    runs: [],
    folder: dir,
    peers: [],
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
      // Twice to one workload is a duplicate effect: each step's effect happens once per run. A sync is
      // the exception: a retried sync of a running source ships what changed since, as a replication
      // engine's "sync now" does when asked again; those are counted apart (resyncs), not hidden.
      const after = await effectCounts(sites, dir);
      for (const [key, n] of after) {
        const extra = n - (counts.get(key) ?? 0) - 1;
        // (Only when a worker was killed in this run: otherwise a second sync is a duplicate like any other.)
        if (extra > 0 && key.endsWith('/syncReplication') && killed > 0) figures.resyncs += extra;
        else if (extra > 0) {
          figures.duplicates += extra;
          if (figures.duplicateExamples.length < 5)
            figures.duplicateExamples.push(`${phase.mode}: ${key} +${extra + 1}`);
        }
      }
      if (typeof outcome !== 'string') {
        const trouble = await taskTrouble(client, outcome);
        figures.taskFailures += trouble.failed;
        figures.taskTimeouts += trouble.timedOut;
        figures.taskForceClosed += trouble.forceClosed;
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

/**
 * Whether the campaign kept every promise: all runs completed, nothing done twice, nothing left, nothing
 * lost, no task failure, in the simulator phase and in every phase against a real peer. A peer phase that
 * was skipped (its peer could not be installed) is not a pass.
 */
export function chaosHeld(f: ChaosFigures): boolean {
  const simulator =
    f.simulatorNotRun !== undefined ||
    (f.attempted > 0 && f.completed === f.attempted && f.duplicates === 0 && f.orphans === 0 && f.taskFailures === 0);
  const ran = f.simulatorNotRun === undefined || f.peers.length > 0;
  return ran && simulator && f.peers.every(peerHeld);
}

export function printChaos(f: ChaosFigures, opts: ChaosOptions): void {
  if (f.simulatorNotRun) console.log(`simulator phase:              not run (${f.simulatorNotRun})`);
  else {
    console.log(`runs completed / attempted:   ${f.completed} / ${f.attempted}`);
    console.log(`worker SIGKILLs:              ${f.kills} (asked for ${opts.kills})`);
    console.log(`Temporal server restarts:     ${f.serverRestarts}`);
    console.log(
      `duplicate effects:            ${f.duplicates}${f.duplicateExamples.length ? ` (${f.duplicateExamples.join('; ')})` : ''}`,
    );
    console.log(`syncs run again:              ${f.resyncs} (a worker died mid-sync; a sync may ship again)`);
    console.log(
      `orphans after cleanup:        ${f.orphans}${f.orphanExamples.length ? ` (${f.orphanExamples.join('; ')})` : ''}`,
    );
    console.log(`workflow task failures:       ${f.taskFailures}`);
    console.log(`workflow task timeouts:       ${f.taskTimeouts} (killed workers; expected, not failures)`);
    console.log(
      `tasks force-closed by server: ${f.taskForceClosed} (over 100 events arrived while one task ran; retried, nothing lost)`,
    );
    console.log(`logs and state: ${f.folder}`);
  }
  for (const p of f.peers) console.log(peerLine(p));
  console.log(
    `goal (all complete, 0 duplicates, 0 orphans, 0 rows lost, 0 task failures, no phase skipped): ${chaosHeld(f) ? 'met' : 'NOT met'}`,
  );
}

/** The phases `npm run chaos` runs: CHAOS_PHASES, a comma-separated subset of these (default all). */
export const PHASES = ['simulator', 'vsphere', 'postgres'] as const;

async function main(): Promise<void> {
  const opts: ChaosOptions = {
    workloads: Number(process.env.CHAOS_WORKLOADS ?? 500),
    kills: Number(process.env.CHAOS_KILLS ?? 12),
    seed: Number(process.env.CHAOS_SEED ?? 1),
    latency: process.env.CHAOS_LATENCY ?? '300ms',
  };
  const phases = (process.env.CHAOS_PHASES ?? PHASES.join(','))
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const unknown = phases.filter((x) => !(PHASES as readonly string[]).includes(x));
  if (unknown.length || phases.length === 0) {
    console.error(`CHAOS_PHASES: ${unknown.join(', ') || 'empty'}; the phases are ${PHASES.join(', ')}`);
    process.exitCode = 2;
    return;
  }
  const vms = Number(process.env.CHAOS_VMS ?? 12);
  const outageMs = Number(process.env.CHAOS_OUTAGE_MS ?? 6000);
  const peerKills = Number(process.env.CHAOS_PEER_KILLS ?? 3);
  let figures: ChaosFigures;
  if (phases.includes('simulator')) {
    console.log(
      `chaos: ${opts.workloads} workloads, test + cleanup + disaster-recovery (protected site down), ≥ ${opts.kills} worker SIGKILLs, one server restart, seed ${opts.seed}`,
    );
    figures = await runChaos(opts);
  } else {
    figures = {
      ...{ attempted: 0, completed: 0, kills: 0, serverRestarts: 0, duplicates: 0, duplicateExamples: [], resyncs: 0 },
      ...{ orphans: 0, orphanExamples: [], taskFailures: 0, taskTimeouts: 0, taskForceClosed: 0, runs: [], folder: '' },
      simulatorNotRun: `CHAOS_PHASES=${phases.join(',')}`,
      peers: [],
    };
  }
  if (phases.includes('vsphere')) {
    console.log(
      `chaos, vsphere: ${vms} VMs on two vcsim vCenters, test + cleanup, vCenter west frozen ${outageMs / 1000} s per run, ${peerKills} worker SIGKILLs, seed ${opts.seed}`,
    );
    figures.peers.push(await runVsphereChaos({ vms, kills: peerKills, seed: opts.seed, freezeMs: outageMs }));
  }
  if (phases.includes('postgres')) {
    console.log(
      `chaos, postgres: a PostgreSQL 15 pair, test + cleanup + planned-migration under writes, standby stopped ${outageMs / 1000} s (pg_ctl) in test and switchover, ${peerKills} worker SIGKILLs, seed ${opts.seed}`,
    );
    figures.peers.push(await runPostgresChaos({ kills: peerKills, seed: opts.seed, outageMs }));
  }
  printChaos(figures, opts);
  if (!chaosHeld(figures)) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 2;
  });
}
