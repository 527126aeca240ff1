/**
 * `runPlanShard`: one part of a large plan, a child workflow of the run's root (workflows/root.ts).
 *
 * It compiles its own slice of the runbook (checking the plan hash, so every part runs the same plan), runs
 * it with its share of the concurrency budget, reports exported steps to the root as they finish, and waits
 * for the root's verdict: `commit` (the whole run succeeded) or `stop` (compensate its part, in reverse
 * dependency order with the other parts). It returns its record; it throws only when it cannot run at all.
 *
 * Deterministic: imports only @temporalio/workflow and pure modules; activities by `import type`.
 */
import * as wf from '@temporalio/workflow';
import type { CompileInput } from '../contracts/activities';
import type { Plan, ShardSpec } from '../contracts/plan';
import { compileInActivity, courier, describePlan, eventLog, newRecord } from './common';
import { registerDecisionHandlers } from './decisions';
import { StepEngine, recoveryTimes } from './engine';
import { Notifier } from './notify';
import type { DecisionKind } from './people';
import * as msg from './messages';
import type { ShardControl, ShardReport, StepDecisionInput } from './messages';
import type { ShardResult } from '../contracts/record';

export interface ShardInput {
  /** The root's workflow id: simulated faults count per run. */
  runId: string;
  parentId: string;
  shard: ShardSpec;
  /** Compile the slice from the runbook (checked against the plan hash), or run the slice given. */
  source: (CompileInput & { shardSize: number; planHash: string }) | { plan: Plan };
}

export async function runPlanShard(input: ShardInput): Promise<ShardResult> {
  const info = wf.workflowInfo();
  const record = newRecord(info.workflowId);
  const event = eventLog(record);
  const index = input.shard.index;

  let engine: StepEngine | undefined;
  const early: { input: StepDecisionInput; decision: DecisionKind }[] = [];
  const controls: ShardControl[] = [];
  let verdict: 'commit' | NonNullable<ShardControl['stop']> | undefined;
  let paused = false;
  const report: ShardReport = { shard: index };
  let reported = false;
  let closing = false;
  registerHandlers();

  const plan = 'plan' in input.source ? input.source.plan : await compileInActivity({ ...input.source, shard: index });
  describePlan(record, plan);
  // A shard's waits and failures are told like the root's (started, RTO at risk and finished are the root's).
  const notifier = new Notifier(plan.notify ?? [], { run: input.runId, plan: plan.name, mode: plan.mode }, event);
  // eslint-disable-next-line prefer-const -- declared before the handlers, which read it, and set once compiled
  engine = new StepEngine({
    steps: plan.steps,
    sites: plan.sites,
    budget: input.shard.budget,
    runId: input.runId,
    ...(plan.simulation ? { simulation: plan.simulation } : {}),
    exports: new Set(input.shard.exports),
    ...(input.shard.paths ? { paths: input.shard.paths } : {}),
    record,
    event,
    notifier,
  });
  const theEngine = engine;
  event(`shard ${index} of ${plan.name} (${input.shard.groups.join(', ')}) started: ${plan.steps.length} steps`);
  for (const e of early.splice(0)) engine.people.decide(e.input, e.decision, true);
  if (paused) engine.pause();
  for (const c of controls.splice(0)) applyControl(c);

  const parent = wf.getExternalWorkflowHandle(input.parentId);
  // Outside the shard's cancellation scope: a cancelled shard still reports and compensates through it.
  const mail = wf.CancellationScope.nonCancellable(() =>
    courier(
      () => reported || theEngine.outbox.exported.length > 0 || theEngine.outbox.undone.length > 0,
      () => {
        const batch: ShardReport = { ...report };
        if (theEngine.outbox.exported.length) batch.exported = theEngine.outbox.exported.splice(0);
        if (theEngine.outbox.undone.length) batch.undone = theEngine.outbox.undone.splice(0);
        delete report.finished;
        delete report.stopped;
        reported = false;
        return batch;
      },
      (batch) => parent.signal(msg.shardReportSignal, batch),
      () => closing,
    ),
  );

  await engine.run();
  if (engine.stopping) {
    if (!verdict) {
      // Stopped here, not by the root: tell it, so it stops everyone else.
      const stopped: NonNullable<ShardReport['stopped']> = { reason: engine.stopping };
      if (engine.failedStep) {
        stopped.failedStep = engine.failedStep;
        stopped.message = engine.recs.get(engine.failedStep)!.error?.message ?? 'unknown error';
      }
      report.stopped = stopped;
      reported = true;
    }
  } else {
    report.finished = true;
    reported = true;
    try {
      await wf.CancellationScope.cancellable(() => wf.condition(() => verdict !== undefined));
    } catch (err) {
      if (!wf.isCancellation(err)) throw err;
      engine.stop('cancel');
      report.stopped = { reason: 'cancel' };
      reported = true;
    }
    if (verdict && verdict !== 'commit') engine.stop(verdict);
  }
  if (engine.stopping) {
    record.status = engine.stopping === 'rollback' ? 'rolling-back' : 'compensating';
    await engine.compensation.run();
  }
  closing = true;
  await mail;

  record.endedAt = Date.now();
  record.status = ({ cancel: 'cancelled', halt: 'stopped', rollback: 'rolled-back', abort: 'failed' } as const)[
    engine.stopping ?? 'abort'
  ];
  if (!engine.stopping) record.status = 'succeeded';
  const result: ShardResult = { record, ...recoveryTimes(record.steps) };
  if (engine.failedStep) {
    result.failedStep = engine.failedStep;
    record.failedStep = engine.failedStep;
  }
  event(`shard ${index} ${record.status}`);
  await wf.CancellationScope.nonCancellable(() => notifier.flush());
  return result;

  // ---------------------------------------------------------------------------------------------

  function applyControl(c: ShardControl): void {
    const e = engine!;
    for (const id of c.imported ?? []) e.importDone(id);
    for (const id of c.undone ?? []) e.compensation.remoteUndone(id);
    if (c.stop && (!verdict || (c.stop === 'rollback' && verdict === 'halt'))) {
      verdict = c.stop;
      e.stop(c.stop);
    }
    if (c.commit && !verdict) verdict = 'commit';
  }

  function registerHandlers(): void {
    wf.setHandler(msg.shardControlSignal, (c) => {
      if (engine) applyControl(c);
      else controls.push(c);
    });
    registerDecisionHandlers({
      problem: (d, decision) =>
        engine ? engine.people.decisionProblem(d, decision) : 'this part of the run is still compiling',
      apply: (d, decision, fromSignal) => engine!.people.decide(d, decision, fromSignal),
      ready: () => engine !== undefined,
      keep: (d, decision) => early.push({ input: d, decision }),
      ignored: event,
      stepOf: (id) => engine?.step(id),
    });
    wf.setHandler(msg.pauseSignal, () => {
      paused = true;
      engine?.pause();
      if (record.status === 'running') record.status = 'paused';
    });
    wf.setHandler(msg.resumeSignal, () => {
      paused = false;
      engine?.resume();
      if (record.status === 'paused') record.status = 'running';
    });
    wf.setHandler(msg.progressQuery, () => record);
    wf.setHandler(msg.progressSinceQuery, (cursor) => msg.progressSince(record, cursor));
  }
}
