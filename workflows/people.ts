/**
 * People, the part of a step engine (workflows/engine.ts) that waits for them: approvals (a quorum, a
 * rejection, or the runbook's timeout), prompts, tabletop answers, accepting a data loss older than the RPO,
 * and a retry or skip after a failure with `onFailure: pause`. It also checks a decision before it is taken
 * (who may decide what, when, and the shape of a signature) and records it.
 *
 * Decisions reach it through the execution's Updates and Signals (workflows/decisions.ts), which verify a
 * signature first.
 *
 * Deterministic: imports only @temporalio/workflow and pure modules.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/workflow';
import type { PlanStep } from '../contracts/plan';
import type { StopReason } from './engine';
import type { StepDecisionInput } from './messages';
import type { Notifier } from './notify';
import type { Decision, StepRecord } from '../contracts/record';

export type DecisionKind = Decision['decision'];

/** What People reads of its engine: the steps, their records, whether the run is stopping, its event log. */
export interface PeopleHost {
  readonly byId: ReadonlyMap<string, PlanStep>;
  readonly recs: ReadonlyMap<string, StepRecord>;
  stopping(): StopReason | undefined;
  event(text: string): void;
  readonly notifier?: Notifier | undefined;
}

/** The run's id people answer (a shard relays to its root). */
const rootId = () => wf.workflowInfo().root?.workflowId ?? wf.workflowInfo().workflowId;

export class People {
  /** Decisions on approvals, prompts, tabletop steps and data loss, by step id, in the order they came. */
  private readonly decisions = new Map<string, Decision[]>();
  private readonly failureDecision = new Map<string, 'retry' | 'skip'>();
  private readonly lossAccepted = new Set<string>();

  constructor(private readonly host: PeopleHost) {}

  /** A person accepted the data loss of promote step `id`: it runs again with `acceptDataLoss`. */
  acceptedLoss(id: string): boolean {
    return this.lossAccepted.has(id);
  }

  /** Whether a person asked to retry or skip step `id`, which failed with `onFailure: pause`. */
  hasFailureDecision(id: string): boolean {
    return this.failureDecision.has(id);
  }

  /** Takes the retry or skip a person asked for on step `id`, if any. */
  takeFailureDecision(id: string): 'retry' | 'skip' | undefined {
    const d = this.failureDecision.get(id);
    this.failureDecision.delete(id);
    return d;
  }

  /** A failover from a point older than the RPO: waits for a person to accept the loss (approve) or not. */
  async acceptLoss(step: PlanStep, rec: StepRecord): Promise<boolean> {
    rec.status = 'waiting';
    const wfId = wf.workflowInfo().workflowId;
    this.host.event(
      `${step.id}: ${rec.error!.message}. Accept the loss: drover approve ${wfId} --step ${step.id} --by <name>; refuse: drover reject ${wfId} --step ${step.id} --by <name>`,
    );
    this.host.notifier?.waiting(
      step,
      `${rec.error!.message}: accept the loss, or refuse it`,
      `drover approve ${rootId()} --step ${step.id} --by <name>   (or drover reject)`,
    );
    const votes = () => this.decisions.get(step.id) ?? [];
    await wf.condition(() => votes().length > 0 || this.host.stopping() !== undefined);
    this.host.notifier?.resumed(step.id);
    rec.decisions = [...votes()];
    this.decisions.delete(step.id);
    const vote = rec.decisions[rec.decisions.length - 1];
    if (vote?.decision !== 'approved') return false;
    this.lossAccepted.add(step.id);
    return true;
  }

  async awaitApproval(step: PlanStep, rec: StepRecord): Promise<void> {
    rec.status = 'waiting';
    const required = Number(step.params.required ?? 1);
    this.host.event(
      `waiting for ${required} approval(s) of ${step.id} from ${(step.params.approvers as string[]).join(', ')}`,
    );
    this.host.notifier?.waiting(
      step,
      `waits for ${required} approval(s) from ${(step.params.approvers as string[]).join(', ')}`,
      `drover approve ${rootId()} --step ${step.id} --by <name>`,
    );
    const votes = () => this.decisions.get(step.id) ?? [];
    const approved = () => votes().filter((d) => d.decision === 'approved').length >= required;
    const rejected = () => votes().some((d) => d.decision === 'rejected');
    const decided = await waitFor(() => approved() || rejected(), step.timeoutMs);
    this.host.notifier?.resumed(step.id);
    rec.decisions = votes();
    if (!decided) {
      const approve = step.params.onTimeout === 'approve';
      rec.decisions.push({
        by: 'timeout',
        at: Date.now(),
        decision: approve ? 'approved-on-timeout' : 'rejected-on-timeout',
      });
      this.host.event(`approval ${step.id} timed out: ${approve ? 'approved' : 'rejected'}, as the runbook says`);
      if (approve) return;
      throw ApplicationFailure.create({
        type: 'ApprovalTimedOut',
        message: `no quorum of ${required} within the approval's timeout`,
      });
    }
    if (rejected()) {
      const by = votes().find((d) => d.decision === 'rejected')!;
      throw ApplicationFailure.create({
        type: 'ApprovalRejected',
        message: `rejected by ${by.by}${by.comment ? `: ${by.comment}` : ''}`,
      });
    }
    rec.status = 'running';
  }

  /** Tabletop: the participants walk a step; whatever they answer, the exercise goes on and records it. */
  async walk(step: PlanStep, rec: StepRecord): Promise<boolean> {
    rec.status = 'waiting';
    const ok = await waitFor(() => this.decisions.has(step.id), step.timeoutMs);
    const answer = this.decisions.get(step.id)?.[0];
    rec.decisions = this.decisions.get(step.id) ?? [];
    rec.endedAt = Date.now();
    rec.attempts = 1;
    if (!ok || !answer) {
      rec.status = 'failed';
      rec.error = { type: 'Unanswered', message: 'nobody answered within the timeout' };
    } else if (answer.decision === 'blocked') {
      rec.status = 'failed';
      rec.error = { type: 'Blocked', message: answer.comment ?? 'blocked' };
    } else if (answer.decision === 'skipped') {
      rec.status = 'skipped';
    } else {
      rec.status = 'succeeded';
    }
    return true;
  }

  async awaitDismissal(step: PlanStep, rec: StepRecord): Promise<void> {
    rec.status = 'waiting';
    this.host.event(
      `waiting for a person to ${step.kind === 'confirm' ? 'confirm' : 'dismiss'} ${step.id}${step.params.message ? `: ${String(step.params.message)}` : ''}`,
    );
    this.host.notifier?.waiting(
      step,
      `waits for a person to ${step.kind === 'confirm' ? 'confirm' : 'dismiss'} it${step.params.message ? `: ${String(step.params.message)}` : ''}`,
      `drover dismiss ${rootId()} --step ${step.id} --by <name>`,
    );
    const ok = await waitFor(() => this.decisions.has(step.id), step.timeoutMs);
    this.host.notifier?.resumed(step.id);
    rec.decisions = this.decisions.get(step.id) ?? [];
    if (!ok) throw ApplicationFailure.create({ type: 'PromptTimedOut', message: 'nobody answered within the timeout' });
    rec.status = 'running';
  }

  /** Why a decision cannot be taken, or undefined when it can. */
  decisionProblem(d: StepDecisionInput, decision: DecisionKind): string | undefined {
    if (!d || typeof d.step !== 'string' || typeof d.by !== 'string' || d.by === '')
      return 'give {"step": "<step id>", "by": "<your name>"}';
    const step = this.host.byId.get(d.step);
    const rec = this.host.recs.get(d.step);
    if (!step || !rec) return `no step ${d.step} in this plan`;
    if ((decision === 'approved' || decision === 'rejected') && step.kind === 'promote') {
      if (!(rec.status === 'waiting' && rec.error?.type === 'DataLossNotAccepted'))
        return `${d.step} is not waiting for anyone to accept data loss (it is ${rec.status})`;
    } else if (decision === 'approved' || decision === 'rejected') {
      if (step.kind !== 'approval') return `${d.step} is a ${step.kind} step, not an approval`;
      const approvers = step.params.approvers as string[];
      if (!approvers.includes(d.by))
        return `${d.by} is not an approver of ${d.step} (approvers: ${approvers.join(', ')})`;
      if ((this.decisions.get(d.step) ?? []).some((x) => x.by === d.by))
        return `${d.by} has already decided on ${d.step}`;
      if (rec.status === 'succeeded' || rec.status === 'failed') return `${d.step} is already ${rec.status}`;
      const signing = signingProblem(step, d, wf.workflowInfo().root?.workflowId ?? wf.workflowInfo().workflowId);
      if (signing) return signing;
    } else if (d.signature !== undefined) {
      return 'only approvals and rejections are signed: send this decision without a signature';
    } else if (decision === 'dismissed') {
      if (step.kind !== 'prompt' && step.kind !== 'confirm') return `${d.step} is a ${step.kind} step, not a prompt`;
      if (rec.status === 'succeeded' || rec.status === 'failed') return `${d.step} is already ${rec.status}`;
    } else if (decision === 'done' || decision === 'blocked' || decision === 'skipped') {
      if (step.kind !== 'confirm') return `${d.step} is a ${step.kind} step; answers are for tabletop steps`;
      if (this.decisions.has(d.step)) {
        const first = this.decisions.get(d.step)![0]!;
        return `${d.step} was already answered ${first.decision} by ${first.by}`;
      }
      if (decision === 'blocked' && !d.comment) return `say why ${d.step} is blocked: add "comment": "<reason>"`;
    } else if (!(rec.status === 'waiting' && rec.error)) {
      return `${d.step} is not waiting after a failure (it is ${rec.status})`;
    }
    return undefined;
  }

  /** Applies a decision; from a Signal it is checked first (an Update's validator already did). */
  decide(d: StepDecisionInput, decision: DecisionKind, fromSignal: boolean): string {
    const problem = fromSignal ? this.decisionProblem(d, decision) : undefined;
    if (problem) {
      this.host.event(`ignored ${decision} signal for ${d?.step} by ${d?.by}: ${problem}`);
      return problem;
    }
    const entry: Decision = { by: d.by, at: Date.now(), decision };
    if (d.comment) entry.comment = d.comment;
    // A signature reaches here verified (workflows/decisions.ts verifyDecision).
    if (d.signature !== undefined) entry.signed = true;
    if (decision === 'retry' || decision === 'skip') {
      this.failureDecision.set(d.step, decision);
      const rec = this.host.recs.get(d.step)!;
      (rec.decisions ??= []).push(entry);
    } else {
      const list = this.decisions.get(d.step) ?? [];
      list.push(entry);
      this.decisions.set(d.step, list);
      const rec = this.host.recs.get(d.step);
      if (rec) rec.decisions = list;
    }
    this.host.event(`${d.step}: ${decision} by ${d.by}${d.comment ? ` (${d.comment})` : ''}`);
    return `${decision} ${d.step}`;
  }
}

/** `condition` with a timeout in ms, where 0 means none; false when it timed out. */
async function waitFor(fn: () => boolean, timeoutMs: number): Promise<boolean> {
  if (timeoutMs > 0) return wf.condition(fn, timeoutMs);
  await wf.condition(fn);
  return true;
}

/** What a signed (or unsigned) decision on an approval step lacks: the shape of its signature, a key, or one at all. */
function signingProblem(step: PlanStep, d: StepDecisionInput, run: string): string | undefined {
  const keys = step.params.keys as Record<string, string> | undefined;
  const sig = d.signature;
  if (sig === undefined)
    return step.params.signatures === 'required'
      ? `${d.step} counts only signed decisions: drover approve ${run} --step ${d.step} --by ${d.by} --key <your private key file>`
      : undefined;
  if (
    typeof sig !== 'object' ||
    typeof sig.at !== 'string' ||
    typeof sig.value !== 'string' ||
    Number.isNaN(Date.parse(sig.at))
  )
    return 'a signature is {"at": "<ISO time it was signed>", "value": "<base64 Ed25519 signature>"}';
  if (!keys?.[d.by]) return `${d.by} has no public key in the runbook's approvers: decide without a signature`;
  return undefined;
}
