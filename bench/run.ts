/**
 * Execution benchmark: a generated estate with 1 s simulated steps, run in `test` mode on a real
 * Temporal dev server (the pinned CLI) with Drover's workers in this process. Prints the makespan, the
 * critical-path lower bound (the longest dependency chain, each activity step weighted by the exact
 * time the simulator spends on it: 1 s ±10% seeded jitter) and their ratio: what is above 1.0 is
 * Temporal's and Drover's scheduling overhead; steps per second, the most activities pending at once, the history length, and
 * workflow tasks that timed out or failed (each one is a stall).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import winston from 'winston';
import { temporal } from '@temporalio/proto';
import { compile } from '../compiler';
import type { Plan, PlanStep, StepKind } from '../compiler';
import { simulatedLatencyMs } from '../providers/simulator';
import { longestPath } from '../compiler/graph';
import { createDroverWorkers } from '../worker';
import { WORKFLOW_TYPE } from '../workflows/messages';
import type { RunRecord } from '../workflows/record';
import { generateEstate } from './estate';

const ROOT = join(__dirname, '..', '..');
const IN_WORKFLOW: StepKind[] = ['barrier', 'approval', 'prompt', 'wait', 'confirm'];

export async function executionBench(workloads: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'drover-bench-'));
  const text = generateEstate({ workloads, latency: '1s', name: `bench-${workloads}` });
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
    const workers = await createDroverWorkers({
      connection: env.nativeConnection,
      namespace: 'default',
      orchestration: true,
      siteQueues: Object.values(plan.sites).map((s) => s.taskQueue),
      cwd: dir,
      logger: winston.createLogger({ silent: true }),
    });
    const runs = workers.map((w) => w.run());
    const handle = await env.client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: 'drover',
      workflowId: `bench-${workloads}`,
      args: [{ runbook: 'runbook.yaml', mode: 'test' }],
    });
    const record = (await handle.result()) as RunRecord;
    const history = (await handle.fetchHistory()).events ?? [];
    const stalls = history.filter((e) =>
      [
        temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
        temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
      ].includes(e.eventType!),
    ).length;
    for (const w of workers) w.shutdown();
    await Promise.allSettled(runs);
    report(record, plan, history.length, stalls, workloads);
  } finally {
    await env.teardown();
  }
}

function report(record: RunRecord, plan: Plan, events: number, stalls: number, workloads: number): void {
  const simulated = (s: PlanStep) =>
    IN_WORKFLOW.includes(s.kind) ? 0 : simulatedLatencyMs(plan.simulation!, s.kind, s.workload, 1);
  const firstStart = Math.min(...record.steps.filter((s) => s.startedAt).map((s) => s.startedAt!));
  const lastEnd = Math.max(...record.steps.filter((s) => s.endedAt).map((s) => s.endedAt!));
  const makespan = lastEnd - firstStart;
  const bound = longestPath(plan.steps, simulated).total;
  // Activities pending at once, from the steps' measured intervals (in-workflow steps take no slot).
  const activity = record.steps.filter((s) => !IN_WORKFLOW.includes(s.kind) && s.startedAt !== undefined);
  const edges = activity
    .flatMap((s) => [[s.startedAt!, 1] as const, [s.endedAt!, -1] as const])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, d] of edges) peak = Math.max(peak, (now += d));
  console.log(`execution: ${workloads} workloads, test mode, 1 s simulated steps, one run (${record.status})`);
  console.log(`  steps: ${activity.length} activities (${record.steps.length} with barriers)`);
  console.log(
    `  makespan ${(makespan / 1000).toFixed(1)} s, critical-path lower bound ${(bound / 1000).toFixed(1)} s, ratio ${(makespan / bound).toFixed(3)}  (target <= 1.10)`,
  );
  console.log(`  throughput ${(activity.length / (makespan / 1000)).toFixed(1)} steps/s`);
  console.log(`  most activities pending at once: ${peak} (limit 500)`);
  console.log(
    `  history events in the one execution: ${events} (limit 10,240); workflow tasks timed out or failed: ${stalls}`,
  );
}
