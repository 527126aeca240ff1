/** What the run's root and its shards share: the record's header, compiling in an activity, the courier. */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/workflow';
import type { DroverActivities, PreflightActivities } from '../activities';
import type { CompileInput, DrillSetup } from '../activities/types';
import type { Plan, PlanStep } from '../compiler/plan';
import { approvalMessage } from '../security/approval-message';
import type { SignalDefinition, UpdateDefinition } from '@temporalio/common';
import { answerDecision } from './engine';
import type { DecisionKind } from './engine';
import * as msg from './messages';
import type { StepDecisionInput } from './messages';
import type { RunRecord } from './record';

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

/** Compiles a runbook on the worker (the orchestration queue); a runbook error fails the run at once. */
export async function compileInActivity(input: CompileInput): Promise<Plan> {
  const compiler = wf.proxyActivities<DroverActivities>({
    taskQueue: wf.workflowInfo().taskQueue,
    startToCloseTimeout: '1 minute',
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

/** Where people's decisions go in one execution: checked (for Updates), applied, or kept until the plan is compiled. */
export interface DecisionSink {
  /** Why the decision cannot be taken, or undefined. */
  problem(d: StepDecisionInput, decision: DecisionKind): string | undefined;
  /** Applies it (a Signal's is checked first); undefined `ready` means the plan is not compiled yet. */
  apply(d: StepDecisionInput, decision: DecisionKind, fromSignal: boolean): string;
  ready(): boolean;
  keep(d: StepDecisionInput, decision: DecisionKind): void;
  ignored(text: string): void;
  /** The plan step a decision is about, when this execution runs it (a root forwards the others). */
  stepOf(id: string): PlanStep | undefined;
}

const DECISIONS: [
  UpdateDefinition<string, [StepDecisionInput]>,
  SignalDefinition<[StepDecisionInput]>,
  DecisionKind,
][] = [
  [msg.approveUpdate, msg.approveSignal, 'approved'],
  [msg.rejectUpdate, msg.rejectSignal, 'rejected'],
  [msg.dismissUpdate, msg.dismissSignal, 'dismissed'],
  [msg.retryStepUpdate, msg.retryStepSignal, 'retry'],
  [msg.skipStepUpdate, msg.skipStepSignal, 'skip'],
];

/** Every decision as an Update (validated before it enters history) and a Signal of the same name. */
export function registerDecisionHandlers(sink: DecisionSink): void {
  const validate = (d: StepDecisionInput, decision: DecisionKind | undefined) => {
    const problem = decision ? sink.problem(d, decision) : 'the outcome must be done, blocked or skipped';
    if (problem) throw new Error(problem);
  };
  // Unsigned decisions are applied at once, as before signatures existed (recorded histories replay the same).
  const signalled = (d: StepDecisionInput, decision: DecisionKind) => {
    if (!sink.ready()) {
      if (d?.signature === undefined) sink.keep(d, decision);
      else
        sink.ignored(`ignored signed ${decision} of ${d.step} by ${d.by}: the plan is not compiled yet; send it again`);
    } else if (d?.signature === undefined) sink.apply(d, decision, true);
    else
      void verifyDecision(sink, d, decision).then((refused) =>
        refused
          ? sink.ignored(`refused ${decision} of ${d.step} by ${d.by}: ${refused}`)
          : sink.apply(d, decision, true),
      );
  };
  const signedUpdate = async (d: StepDecisionInput, decision: DecisionKind): Promise<string> => {
    // Checked again after the verification: meanwhile the step may have been decided.
    const problem = (await verifyDecision(sink, d, decision)) ?? sink.problem(d, decision);
    if (problem) throw ApplicationFailure.create({ type: 'DecisionRefused', nonRetryable: true, message: problem });
    return sink.apply(d, decision, false);
  };
  for (const [update, signal, decision] of DECISIONS) {
    wf.setHandler(
      update,
      (d) => (d?.signature === undefined ? sink.apply(d, decision, false) : signedUpdate(d, decision)),
      {
        validator: (d) => validate(d, decision),
      },
    );
    wf.setHandler(signal, (d) => signalled(d, decision));
  }
  wf.setHandler(msg.answerUpdate, (a) => sink.apply(a, answerDecision(a)!, false), {
    validator: (a) => validate(a, answerDecision(a)),
  });
  wf.setHandler(msg.answerSignal, (a) => {
    const decision = answerDecision(a);
    if (!decision) sink.ignored(`ignored answer signal for ${a?.step}: the outcome must be done, blocked or skipped`);
    else signalled(a, decision);
  });
}

/**
 * A signed decision's signature, checked by an activity on the orchestration queue (its verdict is in
 * history) against the approver's key in the plan; undefined when it verifies or carries no signature,
 * else why it is refused. A root leaves the steps of its shards to them (they verify what it forwards).
 */
async function verifyDecision(
  sink: DecisionSink,
  d: StepDecisionInput,
  decision: DecisionKind,
): Promise<string | undefined> {
  if (d?.signature === undefined) return undefined;
  const step = sink.stepOf(d.step);
  if (!step) return undefined;
  const key = (step.params.keys as Record<string, string> | undefined)?.[d.by];
  if (!key) return `${d.by} has no public key in the runbook's approvers: decide without a signature`;
  if (decision !== 'approved' && decision !== 'rejected') return 'only approvals and rejections are signed';
  const info = wf.workflowInfo();
  const acts = wf.proxyActivities<PreflightActivities>({
    taskQueue: info.taskQueue,
    startToCloseTimeout: '30 seconds',
    retry: { maximumAttempts: 3 },
  });
  const message = approvalMessage({
    run: info.root?.workflowId ?? info.workflowId,
    step: d.step,
    decision,
    by: d.by,
    at: d.signature.at,
  });
  const verdict = await acts.verifyApproval({ publicKey: key, message, signature: d.signature.value });
  return verdict.valid ? undefined : (verdict.reason ?? 'the signature does not verify');
}
