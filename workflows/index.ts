/**
 * The plan interpreter: runs a compiled Plan as one durable Temporal workflow.
 *
 * - Scheduling follows the graph: a step starts the moment its own dependencies are done (never in
 *   waves), up to the plan's and each site's `maxParallel`.
 * - Each completed step's compensation is pushed on a stack; on abort or cancel the stack runs in
 *   reverse, in a non-cancellable scope, so a cancelled run still cleans up.
 * - People act through Updates (validated before they enter history) or Signals of the same names:
 *   approvals may arrive before the run reaches the gate and are kept.
 *
 * Deterministic: imports only @temporalio/workflow and pure modules; activities by `import type`.
 */
import * as wf from '@temporalio/workflow';
import { ActivityCancellationType, ApplicationFailure } from '@temporalio/workflow';
import type { SignalDefinition, UpdateDefinition } from '@temporalio/common';
import type { DroverActivities } from '../activities';
import type { StepInput, StepOutcome } from '../activities/types';
import { MinHeap } from '../compiler/graph';
import type { Mode, Plan, PlanSite, PlanStep, RetryPolicy, StepKind } from '../compiler/plan';
import * as msg from './messages';
import type { StepDecisionInput } from './messages';
import type { Decision, RunRecord, StepRecord } from './record';

export type RunInput = { runbook: string; mode: Mode } | { plan: Plan };

const HEARTBEAT_TIMEOUT_MS = 10_000;
const NO_TIMEOUT_MS = 7 * 24 * 3_600_000;
/** Steps that run in the workflow itself, taking no activity slot. */
const IN_WORKFLOW: ReadonlySet<StepKind> = new Set(['barrier', 'approval', 'prompt', 'confirm', 'wait']);

export async function runRecoveryPlan(input: RunInput): Promise<RunRecord> {
  const info = wf.workflowInfo();
  const record: RunRecord = {
    workflowId: info.workflowId,
    plan: { name: '', mode: 'test', planHash: '', sourceFile: '', sourceSha256: '', from: '', to: '' },
    status: 'running',
    startedAt: Date.now(),
    objectives: { rpoMs: 0, rtoMs: 0 },
    achieved: {},
    steps: [],
    events: [],
  };
  const event = (text: string) => {
    record.events.push({ at: Date.now(), text });
    wf.log.info(text, { workflowId: info.workflowId });
  };

  // State the message handlers read; the handlers are registered before the first await.
  // Set once compiled; the handlers (registered first, so no early signal is lost) read it before.
  let plan: Plan | undefined = undefined;
  const recs = new Map<string, StepRecord>();
  const decisions = new Map<string, Decision[]>();
  const failureDecision = new Map<string, 'retry' | 'skip'>();
  const early: { input: StepDecisionInput; decision: Decision['decision'] }[] = [];
  let paused = false;
  let resumed = false;
  registerHandlers();

  plan = await compilePlan(input);
  const thePlan = plan;
  record.plan = {
    name: plan.name,
    mode: plan.mode,
    planHash: plan.planHash,
    sourceFile: plan.source.file,
    sourceSha256: plan.source.sha256,
    ...(plan.source.gitCommit ? { gitCommit: plan.source.gitCommit } : {}),
    from: plan.from,
    to: plan.to,
  };
  record.objectives = plan.objectives;
  for (const s of plan.steps) {
    const r: StepRecord = { id: s.id, kind: s.kind, site: s.site, status: 'pending', attempts: 0 };
    if (s.workload) r.workload = s.workload;
    if (s.group) r.group = s.group;
    recs.set(s.id, r);
    record.steps.push(r);
  }
  event(
    `run of ${plan.name} in ${plan.mode} mode started (plan ${plan.planHash.slice(0, 12)}, ${plan.steps.filter((s) => s.kind !== 'barrier').length} steps)`,
  );
  for (const e of early.splice(0)) applyDecision(e.input, e.decision, true);

  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const position = new Map(plan.steps.map((s, i) => [s.id, i]));
  const waitingOn = new Map(plan.steps.map((s) => [s.id, s.dependsOn.length]));
  const dependents = new Map<string, string[]>(plan.steps.map((s) => [s.id, []]));
  for (const s of plan.steps) for (const d of s.dependsOn) dependents.get(d)!.push(s.id);
  const ready = new MinHeap();
  plan.steps.forEach((s, i) => s.dependsOn.length === 0 && ready.push(i));

  const running = new Set<string>();
  const perSite = new Map<string, number>();
  const finished: { id: string; ok: boolean }[] = [];
  /** Steps whose compensation must run if the run stops, in the order they completed. */
  const undoStack: string[] = [];
  let stopping: 'abort' | 'cancel' | undefined;
  let done = 0;

  try {
    await wf.CancellationScope.cancellable(async () => {
      while (done < thePlan.steps.length && !stopping) {
        launchReady();
        // After launchReady, nothing more can start until a step finishes (freeing a slot, readying
        // dependents) or a resume: those are the only wake-ups.
        await wf.condition(() => finished.length > 0 || resumed);
        resumed = false;
        for (const f of finished.splice(0)) complete(f.id, f.ok);
      }
      // Aborting: let the steps already running finish, so their compensations are known.
      await wf.condition(() => running.size === 0);
      for (const f of finished.splice(0)) complete(f.id, f.ok);
    });
  } catch (err) {
    if (!wf.isCancellation(err)) throw err;
    stopping = 'cancel';
    event('run cancelled');
    // Steps cut off mid-way may have done part of their work: their (idempotent) undo runs too.
    for (const id of running) if (byId.get(id)!.compensation && !undoStack.includes(id)) undoStack.push(id);
  }

  for (const r of record.steps) if (r.status === 'pending') r.status = 'not-run';
  if (stopping) await compensate();
  record.endedAt = Date.now();
  measure();
  if (stopping === 'cancel') {
    record.status = 'cancelled';
    // The SDK drops a cancelled workflow's details: reports read the record with the progress query.
    throw new wf.CancelledFailure('run cancelled; completed steps were compensated');
  }
  if (stopping === 'abort') {
    record.status = 'failed';
    const failed = recs.get(record.failedStep!)!;
    throw ApplicationFailure.create({
      type: 'RunFailed',
      nonRetryable: true,
      message: `step ${failed.id} failed: ${failed.error?.message ?? 'unknown error'}; ${undoStack.length} completed step(s) compensated`,
      details: [record],
    });
  }
  record.status = 'succeeded';
  event('run succeeded');
  return record;

  // ---------------------------------------------------------------------------------------------

  async function compilePlan(inp: RunInput): Promise<Plan> {
    if (inp && typeof inp === 'object' && 'plan' in inp && inp.plan) return inp.plan;
    if (!inp || typeof inp !== 'object' || !('runbook' in inp) || typeof inp.runbook !== 'string') {
      throw ApplicationFailure.create({
        type: 'InvalidInput',
        nonRetryable: true,
        message: 'input must be {"runbook": "<path>", "mode": "<mode>"} or {"plan": <compiled plan>}',
      });
    }
    const compiler = wf.proxyActivities<DroverActivities>({
      taskQueue: info.taskQueue,
      startToCloseTimeout: '1 minute',
      retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['InvalidRunbook'] },
    });
    try {
      return await compiler.compileRunbook({ runbook: inp.runbook, mode: inp.mode });
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

  function canLaunch(step: PlanStep): boolean {
    if (IN_WORKFLOW.has(step.kind)) return true;
    const site = thePlan.sites[step.site]!;
    return activeActivities() < thePlan.maxParallel && (perSite.get(step.site) ?? 0) < site.maxParallel;
  }

  function activeActivities(): number {
    let n = 0;
    for (const c of perSite.values()) n += c;
    return n;
  }

  function launchReady(): void {
    if (paused || stopping) return;
    const held: number[] = [];
    while (ready.size > 0) {
      const i = ready.pop();
      const step = thePlan.steps[i]!;
      if (!canLaunch(step)) {
        held.push(i);
        continue;
      }
      launch(step);
    }
    for (const i of held) ready.push(i);
  }

  function launch(step: PlanStep): void {
    const rec = recs.get(step.id)!;
    rec.status = 'running';
    rec.startedAt = Date.now();
    running.add(step.id);
    if (!IN_WORKFLOW.has(step.kind)) perSite.set(step.site, (perSite.get(step.site) ?? 0) + 1);
    runStep(step).then(
      (ok) => {
        running.delete(step.id);
        if (!IN_WORKFLOW.has(step.kind)) perSite.set(step.site, perSite.get(step.site)! - 1);
        finished.push({ id: step.id, ok });
      },
      () => {
        // Cancellation: the scope's catch handles the run; the step stays as it was.
        running.delete(step.id);
        if (!IN_WORKFLOW.has(step.kind)) perSite.set(step.site, perSite.get(step.site)! - 1);
      },
    );
  }

  /** Runs one step to its end: true when the run may go past it (succeeded, skipped, or failed with `continue`). */
  async function runStep(step: PlanStep): Promise<boolean> {
    const rec = recs.get(step.id)!;
    for (;;) {
      try {
        const out = await perform(step, rec);
        rec.status = 'succeeded';
        rec.endedAt = Date.now();
        rec.attempts += out ? out.attempt : 1;
        if (out) {
          rec.changed = out.changed;
          rec.message = out.message;
          if (out.recoveryPointAt !== undefined) rec.recoveryPointAt = out.recoveryPointAt;
        }
        return true;
      } catch (err) {
        if (wf.isCancellation(err)) throw err;
        rec.attempts += attemptsOf(err, step.retry);
        rec.error = describe(err);
        rec.endedAt = Date.now();
        if (step.onFailure === 'pause' && !stopping) {
          rec.status = 'waiting';
          event(`step ${step.id} failed (${rec.error.message}); waiting for a person to retry or skip it`);
          await wf.condition(() => failureDecision.has(step.id) || stopping !== undefined);
          const d = failureDecision.get(step.id);
          failureDecision.delete(step.id);
          if (d === 'retry') {
            rec.status = 'running';
            continue;
          }
          if (d === 'skip') {
            rec.status = 'skipped';
            return true;
          }
        }
        rec.status = 'failed';
        if (step.onFailure === 'continue') {
          event(`step ${step.id} failed (${rec.error.message}); continuing, as its onFailure says`);
          return true;
        }
        return false;
      }
    }
  }

  async function perform(step: PlanStep, rec: StepRecord): Promise<StepOutcome | undefined> {
    switch (step.kind) {
      case 'barrier':
        return undefined;
      case 'wait':
        await wf.sleep(Number(step.params.durationMs ?? 0));
        return undefined;
      case 'approval':
        await awaitApproval(step, rec);
        return undefined;
      case 'prompt':
      case 'confirm':
        await awaitDismissal(step, rec);
        return undefined;
      default:
        return activity(step, step.kind, step.retry, step.timeoutMs);
    }
  }

  function activity(step: PlanStep, kind: StepKind, retry: RetryPolicy, timeoutMs: number): Promise<StepOutcome> {
    const site = thePlan.sites[step.site]!;
    const name = kind === 'command' ? 'runCommand' : kind === 'http' ? 'httpRequest' : kind;
    const acts = wf.proxyActivities<DroverActivities>({
      taskQueue: site.taskQueue,
      startToCloseTimeout: timeoutMs > 0 ? timeoutMs : NO_TIMEOUT_MS,
      heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      retry: {
        maximumAttempts: retry.maximumAttempts,
        initialInterval: Math.max(1, retry.initialIntervalMs),
        backoffCoefficient: retry.backoffCoefficient,
        maximumInterval: Math.max(retry.initialIntervalMs, retry.maximumIntervalMs, 1),
        nonRetryableErrorTypes: retry.nonRetryableErrorTypes,
      },
    });
    const fn = acts[name as keyof DroverActivities] as (i: StepInput) => Promise<StepOutcome>;
    const peer = Object.values(thePlan.sites).find((s) => s.name !== site.name) ?? site;
    return fn(stepInput(step, kind, site, peer));
  }

  function stepInput(step: PlanStep, kind: StepKind, site: PlanSite, peer: PlanSite): StepInput {
    const i: StepInput = { runId: info.workflowId, stepId: step.id, kind, params: step.params, site, peer };
    if (thePlan.simulation) i.simulation = thePlan.simulation;
    return i;
  }

  async function awaitApproval(step: PlanStep, rec: StepRecord): Promise<void> {
    rec.status = 'waiting';
    const required = Number(step.params.required ?? 1);
    event(`waiting for ${required} approval(s) of ${step.id} from ${(step.params.approvers as string[]).join(', ')}`);
    const votes = () => decisions.get(step.id) ?? [];
    const approved = () => votes().filter((d) => d.decision === 'approved').length >= required;
    const rejected = () => votes().some((d) => d.decision === 'rejected');
    const decided = await waitFor(() => approved() || rejected(), step.timeoutMs);
    rec.decisions = votes();
    if (!decided) {
      const approve = step.params.onTimeout === 'approve';
      rec.decisions.push({
        by: 'timeout',
        at: Date.now(),
        decision: approve ? 'approved-on-timeout' : 'rejected-on-timeout',
      });
      event(`approval ${step.id} timed out: ${approve ? 'approved' : 'rejected'}, as the runbook says`);
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

  async function awaitDismissal(step: PlanStep, rec: StepRecord): Promise<void> {
    rec.status = 'waiting';
    event(
      `waiting for a person to ${step.kind === 'confirm' ? 'confirm' : 'dismiss'} ${step.id}${step.params.message ? `: ${String(step.params.message)}` : ''}`,
    );
    const ok = await waitFor(() => decisions.has(step.id), step.timeoutMs);
    rec.decisions = decisions.get(step.id) ?? [];
    if (!ok) throw ApplicationFailure.create({ type: 'PromptTimedOut', message: 'nobody answered within the timeout' });
    rec.status = 'running';
  }

  /** A finished step: release its dependents, or stop the run. */
  function complete(id: string, ok: boolean): void {
    done++;
    const step = byId.get(id)!;
    const rec = recs.get(id)!;
    if (rec.status === 'succeeded' && step.compensation) undoStack.push(id);
    if (!ok) {
      if (!stopping) {
        stopping = 'abort';
        record.failedStep = id;
        event(`step ${id} failed: ${rec.error?.message}; aborting and compensating`);
      }
      return;
    }
    for (const d of dependents.get(id)!) {
      const left = waitingOn.get(d)! - 1;
      waitingOn.set(d, left);
      if (left === 0) ready.push(position.get(d)!);
    }
  }

  /** Undo in reverse order of completion, never cancelled; failures are recorded, and the rest still run. */
  async function compensate(): Promise<void> {
    if (undoStack.length === 0) return;
    const previous = record.status;
    record.status = 'compensating';
    event(`compensating ${undoStack.length} step(s) in reverse order`);
    await wf.CancellationScope.nonCancellable(async () => {
      for (const id of [...undoStack].reverse()) {
        const step = byId.get(id)!;
        const c = step.compensation!;
        const startedAt = Date.now();
        try {
          const out = await activity(step, c.kind, c.retry, c.timeoutMs);
          recs.get(id)!.compensation = {
            kind: c.kind,
            status: 'succeeded',
            startedAt,
            endedAt: Date.now(),
            message: out.message,
          };
        } catch (err) {
          const error = describe(err).message;
          recs.get(id)!.compensation = { kind: c.kind, status: 'failed', startedAt, endedAt: Date.now(), error };
          event(`compensation ${c.kind} of ${id} failed: ${error}`);
        }
      }
    });
    record.status = previous;
  }

  function measure(): void {
    const ends = (kinds: StepKind[]) =>
      record.steps
        .filter((r) => r.status === 'succeeded' && kinds.includes(r.kind) && r.endedAt !== undefined)
        .map((r) => r.endedAt!);
    const recovered = ends(['validate']).length ? ends(['validate']) : ends(['waitReady', 'powerOn', 'restore']);
    if (recovered.length && !stopping) record.achieved.rtoMs = Math.max(...recovered) - record.startedAt;
    const points = record.steps
      .filter((r) => r.kind === 'restore' && r.recoveryPointAt !== undefined)
      .map((r) => r.recoveryPointAt!);
    if (points.length) record.achieved.rpoMs = Math.max(0, record.startedAt - Math.min(...points));
  }

  // ---- people ----

  function registerHandlers(): void {
    const decide = (decision: Decision['decision']) => (d: StepDecisionInput) => applyDecision(d, decision, false);
    const check = (decision: Decision['decision']) => (d: StepDecisionInput) => {
      const problem = decisionProblem(d, decision);
      if (problem) throw new Error(problem);
    };
    const pairs: [
      UpdateDefinition<string, [StepDecisionInput]>,
      SignalDefinition<[StepDecisionInput]>,
      Decision['decision'],
    ][] = [
      [msg.approveUpdate, msg.approveSignal, 'approved'],
      [msg.rejectUpdate, msg.rejectSignal, 'rejected'],
      [msg.dismissUpdate, msg.dismissSignal, 'dismissed'],
      [msg.retryStepUpdate, msg.retryStepSignal, 'retry'],
      [msg.skipStepUpdate, msg.skipStepSignal, 'skip'],
    ];
    for (const [update, signal, decision] of pairs) {
      wf.setHandler(update, decide(decision), { validator: check(decision) });
      wf.setHandler(signal, (d) => {
        if (!plan) early.push({ input: d, decision });
        else applyDecision(d, decision, true);
      });
    }
    wf.setHandler(msg.pauseSignal, (d) => {
      paused = true;
      if (record.status === 'running') record.status = 'paused';
      event(`paused${d?.by ? ` by ${d.by}` : ''}: no new step starts until resume`);
    });
    wf.setHandler(msg.resumeSignal, (d) => {
      paused = false;
      resumed = true;
      if (record.status === 'paused') record.status = 'running';
      event(`resumed${d?.by ? ` by ${d.by}` : ''}`);
    });
    wf.setHandler(msg.progressQuery, () => record);
  }

  /** Why a decision cannot be taken, or undefined when it can. */
  function decisionProblem(d: StepDecisionInput, decision: Decision['decision']): string | undefined {
    if (!plan) return 'the run is still compiling its plan; try again in a moment';
    if (!d || typeof d.step !== 'string' || typeof d.by !== 'string' || d.by === '')
      return 'give {"step": "<step id>", "by": "<your name>"}';
    const step = plan.steps.find((s) => s.id === d.step);
    const rec = recs.get(d.step);
    if (!step || !rec) return `no step ${d.step} in this plan`;
    if (decision === 'approved' || decision === 'rejected') {
      if (step.kind !== 'approval') return `${d.step} is a ${step.kind} step, not an approval`;
      const approvers = step.params.approvers as string[];
      if (!approvers.includes(d.by))
        return `${d.by} is not an approver of ${d.step} (approvers: ${approvers.join(', ')})`;
      if ((decisions.get(d.step) ?? []).some((x) => x.by === d.by)) return `${d.by} has already decided on ${d.step}`;
      if (rec.status === 'succeeded' || rec.status === 'failed') return `${d.step} is already ${rec.status}`;
    } else if (decision === 'dismissed') {
      if (step.kind !== 'prompt' && step.kind !== 'confirm') return `${d.step} is a ${step.kind} step, not a prompt`;
      if (rec.status === 'succeeded' || rec.status === 'failed') return `${d.step} is already ${rec.status}`;
    } else if (!(rec.status === 'waiting' && rec.error)) {
      return `${d.step} is not waiting after a failure (it is ${rec.status})`;
    }
    return undefined;
  }

  function applyDecision(d: StepDecisionInput, decision: Decision['decision'], fromSignal: boolean): string {
    const problem = fromSignal ? decisionProblem(d, decision) : undefined;
    if (problem) {
      event(`ignored ${decision} signal for ${d?.step} by ${d?.by}: ${problem}`);
      return problem;
    }
    const entry: Decision = { by: d.by, at: Date.now(), decision };
    if (d.comment) entry.comment = d.comment;
    if (decision === 'retry' || decision === 'skip') {
      failureDecision.set(d.step, decision);
      const rec = recs.get(d.step)!;
      (rec.decisions ??= []).push(entry);
    } else {
      const list = decisions.get(d.step) ?? [];
      list.push(entry);
      decisions.set(d.step, list);
      const rec = recs.get(d.step);
      if (rec) rec.decisions = list;
    }
    event(`${d.step}: ${decision} by ${d.by}${d.comment ? ` (${d.comment})` : ''}`);
    return `${decision} ${d.step}`;
  }
}

/** `condition` with a timeout in ms, where 0 means none; false when it timed out. */
async function waitFor(fn: () => boolean, timeoutMs: number): Promise<boolean> {
  if (timeoutMs > 0) return wf.condition(fn, timeoutMs);
  await wf.condition(fn);
  return true;
}

function attemptsOf(err: unknown, retry: RetryPolicy): number {
  const details = ((err as wf.ActivityFailure)?.cause as ApplicationFailure | undefined)?.details;
  const attempt = (details?.[0] as { attempt?: number } | undefined)?.attempt;
  if (typeof attempt === 'number') return attempt;
  return (err as wf.ActivityFailure)?.cause ? retry.maximumAttempts : 1;
}

function describe(err: unknown): { type: string; message: string } {
  const cause = (err as wf.ActivityFailure)?.cause as (Error & { type?: string }) | undefined;
  const e = (cause ?? err) as Error & { type?: string };
  return { type: e.type ?? e.name ?? 'Error', message: e.message ?? String(err) };
}
