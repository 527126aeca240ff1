/**
 * `runRecoveryPlan`: one run of a compiled plan, as a durable Temporal workflow.
 *
 * A plan that fits one execution runs in a single StepEngine (workflows/engine.ts). A large plan arrives as
 * a skeleton (compiler/partition.ts): this execution becomes the root (workflows/root.ts), which runs the
 * plan-level steps itself and coordinates one child workflow per shard (workflows/shard.ts). README, Scale,
 * draws it.
 *
 * The run's state, shared with its handlers, is one RunState (workflows/run-state.ts); before its steps come
 * the preflight checks (workflows/preflight.ts), after them a failover's commit window
 * (workflows/commit-window.ts), and its outcome (workflows/outcome.ts).
 *
 * This module is the workflows' entry point: every function it exports is a workflow type.
 *
 * Deterministic: imports only @temporalio/workflow and pure modules; activities by `import type`.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/workflow';
import type { CompileInput } from '../contracts/activities';
import { ROOT, partitionPlan, sliceSteps, wholeBudget } from '../compiler/partition';
import { FAILOVER_MODES } from '../contracts/plan';
import type { Plan } from '../contracts/plan';
import { compileInActivity, describePlan, prepareDrillInActivity } from './common';
import { commitWindow } from './commit-window';
import { StepEngine } from './engine';
import { Notifier } from './notify';
import { outcome } from './outcome';
import { preflight, release } from './preflight';
import type { RunRecord } from '../contracts/record';
import { Root } from './root';
import { RunState } from './run-state';
import { publishPlan, publishResult } from './visibility';
import type { FailoverChoices, RunInput } from './run-state';

export { runPlanShard } from './shard';
export { holdWorkload, workloadHolds } from './hold';
export type { RunInput } from './run-state';

export async function runRecoveryPlan(input: RunInput): Promise<RunRecord> {
  // The handlers are registered before the first await, so no early signal is lost: until the plan is
  // compiled they are kept, and applied once it is.
  const run = new RunState();
  run.registerHandlers();

  const compiled = await compilePlan(run, input);
  const { engine, root, notifier } = start(run, input, compiled);
  const window = () => commitWindow(run, compiled, engine);
  const published = await publishPlan(compiled.name, compiled.mode);

  const holds = await preflight(run, compiled);
  let ended = false;
  const watch = notifier.wants('rto-at-risk')
    ? notifier
        .watchRto(
          run.record.startedAt,
          compiled.objectives.rtoMs,
          () => engine.remainingMs(Date.now()),
          () => ended,
        )
        .catch(() => undefined)
    : undefined;
  try {
    if (root) await root.run(window);
    else {
      await engine.run();
      if (!engine.stopping) await window();
      if (engine.stopping) {
        run.record.status = engine.stopping === 'rollback' ? 'rolling-back' : 'compensating';
        await engine.compensation.run();
      }
    }
  } finally {
    ended = true;
    await wf.CancellationScope.nonCancellable(() => release(run, holds));
  }
  try {
    return outcome(run, engine, root);
  } finally {
    // Whether the run returns or throws (failed, cancelled): the result on the server, and the last word.
    if (published) publishResult(run.record.status);
    await wf.CancellationScope.nonCancellable(() => finished(notifier, run.record, watch));
  }
}

/** The `finished` notification, then whatever is still being sent (each send is bounded). */
async function finished(notifier: Notifier, record: RunRecord, watch: Promise<unknown> | undefined): Promise<void> {
  const took = (record.endedAt ?? Date.now()) - record.startedAt;
  notifier.notify({
    event: 'finished',
    status: record.status,
    text: `${record.status}${record.failedStep ? ` at ${record.failedStep}` : ''} after ${Math.round(took / 1000)}s${record.achieved.rtoMs !== undefined ? `; RTO ${Math.round(record.achieved.rtoMs / 1000)}s of ${Math.round(record.objectives.rtoMs / 1000)}s` : ''}`,
  });
  await watch;
  await notifier.flush();
}

/** The plan given, or the runbook compiled in an activity (a drill's own simulated site prepared first). */
async function compilePlan(run: RunState, inp: RunInput): Promise<Plan> {
  if (inp && typeof inp === 'object' && 'plan' in inp && inp.plan) return inp.plan;
  if (!inp || typeof inp !== 'object' || !('runbook' in inp) || typeof inp.runbook !== 'string') {
    throw ApplicationFailure.create({
      type: 'InvalidInput',
      nonRetryable: true,
      message: 'input must be {"runbook": "<path>", "mode": "<mode>"} or {"plan": <compiled plan>}',
    });
  }
  const compileInput: CompileInput = {
    runbook: inp.runbook,
    mode: inp.mode,
    ...(inp.shardSize !== undefined ? { shardSize: inp.shardSize } : {}),
  };
  if (inp.scenario) {
    // A drill: its own simulated site, seeded fresh; its mode is the scenario's.
    Object.assign(compileInput, {
      scenario: inp.scenario,
      simulationDir: `.drover/drills/${run.info.workflowId}`,
      ...(inp.seed !== undefined ? { seed: inp.seed } : {}),
    });
    const setup = await prepareDrillInActivity(compileInput);
    run.record.drill = { scenario: setup.scenario, description: setup.description, file: setup.file, seed: setup.seed };
    for (const a of setup.answers) {
      const decision = a.decision === 'reject' ? 'rejected' : a.decision === 'dismiss' ? 'dismissed' : 'approved';
      run.early.push({ input: { step: a.step, by: a.by, comment: 'scripted by the drill scenario' }, decision });
    }
  }
  run.compiledWith = compileInput;
  return compileInActivity(compileInput);
}

/** The plan is compiled: the run's engine, for a large plan its root, and what came before applied to them. */
function start(
  run: RunState,
  input: RunInput,
  compiled: Plan,
): { engine: StepEngine; root: Root | undefined; notifier: Notifier } {
  const { info, record, event } = run;
  // Always: it also keeps the Web UI's "current details" (what the run waits for); without targets it sends nothing.
  const notifier = new Notifier(
    compiled.notify ?? [],
    { run: info.workflowId, plan: compiled.name, mode: compiled.mode },
    event,
  );
  const partition = compiled.partition ?? ('plan' in input ? partitionPlan(compiled, input.shardSize) : undefined);
  describePlan(record, compiled);
  const failover = FAILOVER_MODES.includes(compiled.mode);
  if (failover && (input.recoveryPoint !== undefined || input.acceptDataLoss))
    record.recoveryPoint = {
      requested: input.recoveryPoint ?? 'latest',
      acceptDataLoss: input.acceptDataLoss === true,
    };
  const engine = new StepEngine({
    steps: partition ? (compiled.partition ? compiled.steps : sliceSteps(compiled, partition, ROOT)) : compiled.steps,
    sites: compiled.sites,
    budget: partition ? partition.root.budget : wholeBudget(compiled),
    runId: info.workflowId,
    ...(compiled.simulation ? { simulation: compiled.simulation } : {}),
    exports: new Set(partition?.root.exports ?? []),
    record,
    event,
    ...(failover ? { promote: { failoverAt: record.startedAt, ...failoverChoices(input) } } : {}),
    notifier,
  });
  const activitySteps = partition
    ? partition.root.activitySteps + partition.shards.reduce((n, s) => n + s.activitySteps, 0)
    : compiled.steps.filter((s) => s.kind !== 'barrier').length;
  event(
    `run of ${compiled.name} in ${compiled.mode} mode started (plan ${compiled.planHash.slice(0, 12)}, ${activitySteps} steps${partition ? `, in ${partition.shards.length} shards` : ''})`,
  );
  notifier.notify({
    event: 'started',
    text: `${compiled.mode} of ${compiled.name} started: ${compiled.from} → ${compiled.to}, ${activitySteps} steps, critical path ${Math.round(compiled.criticalPath.estimateMs / 1000)}s against an RTO of ${Math.round(compiled.objectives.rtoMs / 1000)}s`,
  });
  const root = partition ? new Root(compiled, partition, input, run.compiledWith, engine, record, event) : undefined;
  run.adopt(engine, root);
  return { engine, root, notifier };
}

function failoverChoices(input: FailoverChoices): { recoveryPoint?: string; acceptDataLoss?: boolean } {
  return {
    ...(typeof input.recoveryPoint === 'string' ? { recoveryPoint: input.recoveryPoint } : {}),
    ...(input.acceptDataLoss === true ? { acceptDataLoss: true } : {}),
  };
}
