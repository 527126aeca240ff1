/**
 * The raw-Temporal baseline of the execution benchmark: the same work as the Drover run, as plain Temporal
 * would do it. One plain workflow per Drover execution (the root and each shard of the partition), each
 * running exactly the activity steps that execution runs, as 1 s no-op activities of the same simulated
 * durations, with the same share of `maxParallel` at once, and no dependencies between them. Same process,
 * same dev server, SDK defaults but for the 500 activity slots Drover's site worker has too. What it
 * reaches (activities per second) is what Temporal itself allows this machine for this much work.
 */
import { Worker } from '@temporalio/worker';
import type { NativeConnection } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { ROOT, isActivityStep, partitionPlan, sliceSteps, wholeBudget } from '../compiler/partition';
import type { Budget, Plan, PlanStep } from '../contracts/plan';
import { simulatedLatencyMs } from '../providers/simulator';
import { cpuSeconds, cpuSince } from './cpu';
import { historyStats } from './history';
import type { CpuSeconds } from './cpu';

export interface RawFigures {
  executions: number;
  activities: number;
  /** First activity start to last activity end. */
  makespanMs: number;
  perSecond: number;
  /** History events in all the baseline's executions. */
  events: number;
  /** CPU spent by the workers and the server while the baseline ran. */
  cpu: CpuSeconds;
}

/** Each execution's activity durations and concurrency, as Drover splits the plan. */
export function rawShape(plan: Plan): { durations: number[]; concurrency: number }[] {
  const partition = partitionPlan(plan);
  const parts: { steps: PlanStep[]; budget: Budget }[] = partition
    ? [
        { steps: sliceSteps(plan, partition, ROOT), budget: partition.root.budget },
        ...partition.shards.map((s) => ({ steps: sliceSteps(plan, partition, s.index), budget: s.budget })),
      ]
    : [{ steps: plan.steps, budget: wholeBudget(plan) }];
  return parts
    .map(({ steps, budget }) => ({
      durations: steps.filter(isActivityStep).map((s) => simulatedLatencyMs(plan.simulation!, s.kind, s.workload, 1)),
      concurrency: Math.min(budget.plan, ...Object.values(budget.sites)),
    }))
    .filter((p) => p.durations.length > 0);
}

export async function rawBaseline(connection: NativeConnection, client: Client, plan: Plan): Promise<RawFigures> {
  const taskQueue = 'raw-baseline';
  const starts: number[] = [];
  const ends: number[] = [];
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue,
    workflowsPath: require.resolve('./raw-workflow'),
    activities: {
      async pause(ms: number): Promise<void> {
        starts.push(Date.now());
        await new Promise((r) => setTimeout(r, ms));
        ends.push(Date.now());
      },
    },
    maxConcurrentActivityTaskExecutions: 500,
  });
  const shape = rawShape(plan);
  const cpu0 = cpuSeconds();
  const finished = await worker.runUntil(
    Promise.all(
      shape.map((p, i) =>
        client.workflow.execute('rawShard', {
          taskQueue,
          workflowId: `raw-baseline-${plan.name}-${i}`,
          args: [p.durations, p.concurrency],
        }),
      ),
    ),
  );
  const cpu = cpuSince(cpu0);
  const activities = (finished as number[]).reduce((n, c) => n + c, 0);
  const makespanMs = Math.max(...ends) - Math.min(...starts);
  let events = 0;
  for (let i = 0; i < shape.length; i++)
    events += (await historyStats(client, `raw-baseline-${plan.name}-${i}`)).events;
  return {
    executions: shape.length,
    activities,
    makespanMs,
    perSecond: activities / (makespanMs / 1000),
    events,
    cpu,
  };
}
