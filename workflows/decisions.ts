/**
 * People's decisions as they reach one execution (the root or a shard): every decision is an Update
 * (validated before it enters history, and answered) and a Signal of the same name, so `temporal workflow
 * signal` works too. A signed approval or rejection is verified first, by an activity whose verdict is in
 * history. Where a decision then goes is the execution's `DecisionSink`: its engine's People
 * (workflows/people.ts), a shard the root forwards it to (workflows/root.ts), or kept until the plan is compiled.
 *
 * Deterministic: imports only @temporalio/workflow and pure modules; activities by `import type`.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/workflow';
import type { SignalDefinition, UpdateDefinition } from '@temporalio/common';
import type { PreflightActivities } from '../activities';
import type { PlanStep } from '../contracts/plan';
import { approvalMessage } from '../security/approval-message';
import * as msg from './messages';
import type { StepDecisionInput } from './messages';
import type { DecisionKind } from './people';

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

/** The decision an answer stands for, or undefined when its outcome is not one of done, blocked, skipped. */
export function answerDecision(a: { outcome?: unknown } | undefined): DecisionKind | undefined {
  const o = a?.outcome;
  return o === 'done' || o === 'blocked' || o === 'skipped' ? o : undefined;
}
