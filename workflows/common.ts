/**
 * What the run's root and its shards share: the record's header, compiling in an activity, the courier.
 * People's decisions, which both take too, are in workflows/decisions.ts.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/workflow';
import type { DroverActivities } from '../activities';
import type { CompileInput, DrillSetup } from '../contracts/activities';
import type { Plan } from '../contracts/plan';
import type { RunRecord } from '../contracts/record';

export function newRecord(workflowId: string): RunRecord {
  return {
    workflowId,
    plan: { name: '', mode: 'test', planHash: '', sourceFile: '', sourceSha256: '', from: '', to: '' },
    status: 'running',
    startedAt: Date.now(),
    objectives: { rpoMs: 0, rtoMs: 0 },
    achieved: {},
    steps: [],
    events: [],
  };
}

export function describePlan(record: RunRecord, plan: Plan): void {
  record.plan = {
    name: plan.name,
    mode: plan.mode,
    planHash: plan.planHash,
    sourceFile: plan.source.file,
    sourceSha256: plan.source.sha256,
    ...(plan.source.gitCommit ? { gitCommit: plan.source.gitCommit } : {}),
    from: plan.from,
    to: plan.to,
    estimatedRtoMs: plan.criticalPath.estimateMs,
    criticalPath: plan.criticalPath.stepIds,
  };
  record.objectives = plan.objectives;
  const own = plan.workloads.filter((w) => w.objectives);
  if (own.length) record.workloadObjectives = Object.fromEntries(own.map((w) => [w.name, w.objectives!]));
}

export function eventLog(record: RunRecord): (text: string) => void {
  const { workflowId } = wf.workflowInfo();
  return (text: string) => {
    record.events.push({ at: Date.now(), text });
    wf.log.info(text, { workflowId });
  };
}

/**
 * How long a compile (or a drill's setup) may go without a heartbeat: far above the longest compile
 * measured (1.2 s for 5,000 workloads), so a worker killed mid-compile is retried after seconds, not
 * after the whole start-to-close timeout.
 */
const COMPILE_HEARTBEAT = '30 seconds';

/** Compiles a runbook on the worker (the orchestration queue); a runbook error fails the run at once. */
export async function compileInActivity(input: CompileInput): Promise<Plan> {
  const compiler = wf.proxyActivities<DroverActivities>({
    taskQueue: wf.workflowInfo().taskQueue,
    startToCloseTimeout: '1 minute',
    heartbeatTimeout: COMPILE_HEARTBEAT,
    retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['InvalidRunbook'] },
  });
  try {
    return await compiler.compileRunbook(input);
  } catch (err) {
    const cause = (err as wf.ActivityFailure).cause;
    if (cause instanceof ApplicationFailure || (cause as { name?: string })?.name === 'ApplicationFailure') {
      const app = cause as ApplicationFailure;
      throw ApplicationFailure.create({
        type: app.type ?? 'InvalidRunbook',
        nonRetryable: true,
        message: app.message,
        details: app.details ?? [],
      });
    }
    throw err;
  }
}

/** Gives a drill its own freshly seeded simulated site, before its plan is compiled. */
export async function prepareDrillInActivity(input: CompileInput): Promise<DrillSetup> {
  const acts = wf.proxyActivities<DroverActivities>({
    taskQueue: wf.workflowInfo().taskQueue,
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: COMPILE_HEARTBEAT,
    retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['InvalidRunbook', 'InvalidInput'] },
  });
  try {
    return await acts.prepareDrill(input);
  } catch (err) {
    const cause = (err as wf.ActivityFailure).cause as ApplicationFailure | undefined;
    throw ApplicationFailure.create({
      type: cause?.type ?? 'InvalidRunbook',
      nonRetryable: true,
      message: cause?.message ?? String(err),
      details: cause?.details ?? [],
    });
  }
}

/**
 * Sends `take()` whenever `pending()`: one message per workflow task at most, each after the previous one
 * was delivered, so they arrive in order. Ends once `closing()` and nothing is pending.
 */
export async function courier<T>(
  pending: () => boolean,
  take: () => T,
  send: (batch: T) => Promise<void>,
  closing: () => boolean,
): Promise<void> {
  for (;;) {
    await wf.condition(() => pending() || closing());
    if (!pending()) return;
    await send(take());
  }
}
