/**
 * Execution benchmark: a generated estate with 1 s simulated steps, run in `test` mode on a real
 * Temporal dev server (the pinned CLI) with Drover's workers in this process. Prints the makespan, the
 * critical-path lower bound (the longest dependency chain, each activity step weighted by the exact
 * time the simulator spends on it: 1 s ±10% seeded jitter) and their ratio: what is above 1.0 is
 * Temporal's and Drover's scheduling overhead (and, for a large plan, its maxParallel); steps per second;
 * and, over the run's executions (the root and its shards, README Scale), the most activities pending at
 * once and the most history events in any one, and workflow tasks that timed out or failed (each a stall).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import winston from 'winston';
import { compile } from '../compiler';
import type { Plan, PlanStep } from '../compiler';
import { ROOT as ROOT_EXECUTION, isActivityStep, ownerOfStepId, partitionPlan } from '../compiler/partition';
import { simulatedLatencyMs } from '../providers/simulator';
import { longestPath } from '../compiler/graph';
import { createDroverWorkers } from '../worker';
import { WORKFLOW_TYPE } from '../workflows/messages';
import type { RunRecord, StepRecord } from '../contracts/record';
import { mergeRecords, shardRecords } from '../reports/collect';
import { generateEstate } from './estate';
import { historyStats } from './history';
import { rawBaseline } from './raw';
import { cpuSeconds, cpuSince } from './cpu';
import type { CpuSeconds } from './cpu';
import type { RawFigures } from './raw';

const ROOT = join(__dirname, '..', '..');

export async function executionBench(workloads: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'drover-bench-'));
  const text = generateEstate({ workloads, latency: '1s', estimates: '1s', name: `bench-${workloads}` });
  writeFileSync(join(dir, 'runbook.yaml'), text);
  const plan = compile(text, { file: 'runbook.yaml', mode: 'test' }).plan!;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: join(ROOT, '.temporal', 'bin', 'temporal') },
      ip: '127.0.0.1',
      extraArgs: ['--log-level', 'error'],
    },
  });
  try {
    const raw = await rawBaseline(env.nativeConnection, env.client, plan);
    const workers = await createDroverWorkers({
      connection: env.nativeConnection,
      namespace: 'default',
      orchestration: true,
      siteQueues: Object.values(plan.sites).map((s) => s.taskQueue),
      cwd: dir,
      logger: winston.createLogger({ silent: true }),
    });
    const runs = workers.map((w) => w.run());
    const t0 = Date.now();
    const cpu0 = cpuSeconds();
    const use = cpuUse();
    const handle = await env.client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: 'drover',
      workflowId: `bench-${workloads}`,
      args: [{ runbook: 'runbook.yaml', mode: 'test' }],
    });
    const root = (await handle.result()) as RunRecord;
    const wallMs = Date.now() - t0;
    const cpu = cpuSince(cpu0);
    const busy = use.stop();
    const parts = await shardRecords(env.client, root);
    const executions = [{ record: root, id: root.workflowId }, ...parts.map((p) => ({ record: p, id: p.workflowId }))];
    const perExecution = await Promise.all(
      executions.map(async ({ record, id }) => {
        const history = await historyStats(env.client, id, id === root.workflowId ? 10 : 200);
        const stalls = STALLS.reduce((n, type) => n + (history.types.get(type) ?? 0), 0);
        return {
          id,
          events: history.events,
          activities: history.types.get('ACTIVITY_TASK_SCHEDULED') ?? 0,
          bytes: history.bytes,
          stalls,
          failures: history.taskFailures,
          pending: peakPending(record.steps),
        };
      }),
    );
    for (const w of workers) w.shutdown();
    await Promise.allSettled(runs);
    report(mergeRecords(root, parts), plan, perExecution, workloads, { wallMs, cpu, busy }, raw);
  } finally {
    await env.teardown();
  }
}

/** Samples the CPU the workers and the server use, every 5 s until `stop`: cores in use per window. */
function cpuUse(): { stop(): number[] } {
  const windows: number[] = [];
  let last = cpuSeconds();
  let at = Date.now();
  const sample = () => {
    const now = cpuSeconds();
    const t = Date.now();
    windows.push((now.workers + now.server - last.workers - last.server) / ((t - at) / 1000));
    last = now;
    at = t;
  };
  const timer = setInterval(sample, 5000);
  return {
    stop() {
      clearInterval(timer);
      if (Date.now() - at > 1000) sample();
      return windows;
    },
  };
}

const STALLS = ['WORKFLOW_TASK_TIMED_OUT', 'WORKFLOW_TASK_FAILED'];

/** The most activities running at once, from the steps' measured intervals (in-workflow steps take no slot). */
function peakPending(steps: readonly StepRecord[]): number {
  const edges = steps
    .filter((s) => isActivityStep(s) && s.startedAt !== undefined && s.endedAt !== undefined)
    .flatMap((s) => [[s.startedAt!, 1] as const, [s.endedAt!, -1] as const])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, d] of edges) peak = Math.max(peak, (now += d));
  return peak;
}

/**
 * Each priority's steps, first start to last end: SRM's priorities order the power-ons, so the waves
 * overlap (replication and restores of every priority start at once) and the last one ends the run.
 */
function waves(record: RunRecord, plan: Plan, t0: number): string {
  const priorityOf = new Map(plan.workloads.map((w) => [w.name, w.priority ?? 1]));
  const spans = new Map<number, { start: number; end: number }>();
  for (const s of record.steps) {
    if (!s.workload || s.startedAt === undefined || s.endedAt === undefined) continue;
    const p = priorityOf.get(s.workload) ?? 1;
    const span = spans.get(p) ?? { start: Infinity, end: -Infinity };
    spans.set(p, { start: Math.min(span.start, s.startedAt), end: Math.max(span.end, s.endedAt) });
  }
  const ordered = [...spans].sort((a, b) => a[0] - b[0]);
  const sec = (ms: number) => (ms / 1000).toFixed(1);
  return ordered.map(([p, { start, end }]) => `P${p} ${sec(start - t0)}–${sec(end - t0)} s`).join('; ');
}

/**
 * How long ready steps waited: from the end of a step's last dependency to its start, for dependencies in
 * the same execution and for those in another (an export, relayed by the root: two signals).
 */
function dependencyWaits(record: RunRecord, plan: Plan): string {
  const partition = partitionPlan(plan);
  const owner = (id: string) => (partition ? ownerOfStepId(partition, id) : ROOT_EXECUTION);
  const byId = new Map(record.steps.map((s) => [s.id, s]));
  const same: number[] = [];
  const across: number[] = [];
  for (const step of plan.steps) {
    const rec = byId.get(step.id);
    if (rec?.startedAt === undefined || step.dependsOn.length === 0) continue;
    let last: { end: number; id: string } | undefined;
    for (const d of step.dependsOn) {
      const end = byId.get(d)?.endedAt;
      if (end !== undefined && (!last || end > last.end)) last = { end, id: d };
    }
    if (!last) continue;
    (owner(last.id) === owner(step.id) ? same : across).push(rec.startedAt - last.end);
  }
  const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))] ?? 0;
  const say = (xs: number[]) =>
    xs.length ? `${xs.length} steps, median ${q(xs, 0.5)} ms, p95 ${q(xs, 0.95)} ms, most ${q(xs, 1)} ms` : 'none';
  return `wait from a step's last dependency to its start: in one execution ${say(same)}; across executions ${say(across)}`;
}

interface ExecutionStats {
  id: string;
  events: number;
  bytes: number;
  /** Why its workflow tasks failed, if any did. */
  failures: string[];
  stalls: number;
  pending: number;
  /** Activities scheduled (a chain of steps is one; compiles and checks count too). */
  activities: number;
}

function report(
  record: RunRecord,
  plan: Plan,
  executions: ExecutionStats[],
  workloads: number,
  run: { wallMs: number; cpu: CpuSeconds; busy: number[] },
  raw: RawFigures,
): void {
  const { wallMs, cpu, busy } = run;
  const simulated = (s: PlanStep) =>
    !isActivityStep(s) ? 0 : simulatedLatencyMs(plan.simulation!, s.kind, s.workload, 1);
  const firstStart = Math.min(...record.steps.filter((s) => s.startedAt).map((s) => s.startedAt!));
  const lastEnd = Math.max(...record.steps.filter((s) => s.endedAt).map((s) => s.endedAt!));
  const makespan = lastEnd - firstStart;
  const bound = longestPath(plan.steps, simulated).total;
  // The other lower bound: all the simulated work spread perfectly over the plan's maxParallel slots.
  const work = plan.steps.reduce((n, s) => n + simulated(s), 0);
  const capacity = work / plan.maxParallel;
  const activity = record.steps.filter((s) => isActivityStep(s) && s.startedAt !== undefined);
  const most = (f: (e: ExecutionStats) => number) => executions.reduce((a, e) => (f(e) > f(a) ? e : a));
  const byEvents = most((e) => e.events);
  const byBytes = most((e) => e.bytes);
  const byPending = most((e) => e.pending);
  const stalls = executions.reduce((n, e) => n + e.stalls, 0);
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  console.log(
    `execution: ${workloads} workloads, test mode, 1 s simulated steps, one run in ${executions.length} execution(s) (${record.status})`,
  );
  const scheduled = executions.reduce((n, e) => n + e.activities, 0);
  console.log(
    `  steps: ${activity.length} activity steps (${record.steps.length} with barriers), maxParallel ${plan.maxParallel}; run as ${scheduled} activities (a chain of one workload's steps at one site is one, compiles and checks included)`,
  );
  console.log(
    `  makespan ${s(makespan)}, critical-path lower bound ${s(bound)}, ratio ${(makespan / bound).toFixed(3)}  (target <= 1.10)`,
  );
  console.log(
    `  capacity lower bound (simulated work / maxParallel) ${s(capacity)}; makespan / max(bounds) ${(makespan / Math.max(bound, capacity)).toFixed(3)}`,
  );
  const perSecond = activity.length / (makespan / 1000);
  console.log(`  throughput ${perSecond.toFixed(1)} steps/s; wall time from start to result ${s(wallMs)}`);
  console.log(
    `  raw Temporal, same work: ${raw.activities} no-op activities in ${raw.executions} plain workflows, same shares, no dependencies: ${raw.perSecond.toFixed(1)} activities/s (makespan ${s(raw.makespanMs)})`,
  );
  console.log(
    `  Drover / raw Temporal: ${(perSecond / raw.perSecond).toFixed(3)} (target >= 0.8); makespan / critical path ${(makespan / bound).toFixed(3)}; raw makespan / critical path ${(raw.makespanMs / bound).toFixed(3)}`,
  );
  const events = executions.reduce((n, e) => n + e.events, 0);
  const perStep = (x: number, n: number) => ((1000 * x) / n).toFixed(2);
  console.log(
    `  per activity step: Drover ${(events / activity.length).toFixed(2)} history events, CPU ${perStep(cpu.workers, activity.length)} ms in the workers, ${perStep(cpu.server, activity.length)} ms in the server; raw ${(raw.events / raw.activities).toFixed(2)} events, ${perStep(raw.cpu.workers, raw.activities)} ms, ${perStep(raw.cpu.server, raw.activities)} ms`,
  );
  console.log(
    `  CPU in use, workers and server, cores in each 5 s of the run (this machine has ${availableParallelism()}): ${busy.map((c) => c.toFixed(1)).join(' ')}`,
  );
  console.log(`  most activities pending in one execution: ${byPending.pending} (${byPending.id}; limit 500)`);
  console.log(
    `  most history events in one execution: ${byEvents.events} (${byEvents.id}; limit 10,240); in all: ${executions.reduce((n, e) => n + e.events, 0)}`,
  );
  console.log(
    `  history events of the root execution: ${executions[0]!.events}; workflow tasks timed out or failed: ${stalls}`,
  );
  console.log(`  priority waves (from the run's start): ${waves(record, plan, firstStart)}`);
  console.log(`  ${dependencyWaits(record, plan)}`);
  const over = activity
    .filter((r) => r.endedAt !== undefined)
    .map((r) => r.endedAt! - r.startedAt! - simulatedLatencyMs(plan.simulation!, r.kind, r.workload, 1));
  const q = (p: number) => [...over].sort((a, b) => a - b)[Math.floor(p * (over.length - 1))] ?? 0;
  console.log(
    `  a step's time beyond its simulated latency (scheduling, dispatch, the simulator's store, the completion's workflow task): median ${q(0.5)} ms, p95 ${q(0.95)} ms`,
  );
  for (const e of executions) for (const f of e.failures) console.log(`  workflow task failed in ${e.id}, ${f}`);
  console.log(
    `  largest history: ${(byBytes.bytes / 1e6).toFixed(1)} MB (${byBytes.id}; Temporal warns at 10 MB, a gRPC message holds 4 MB)`,
  );
}
