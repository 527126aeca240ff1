/**
 * The step engine: runs a set of plan steps inside one workflow execution. A small plan is one engine in
 * one execution; a large plan is one engine in the root and one in each shard (workflows/shard.ts), wired
 * together by exports and imports that the root relays.
 *
 * - Forward: a step starts the moment its own dependencies are done (local ones, or imported ones reported
 *   by another execution), within this execution's budget of the plan's and each site's `maxParallel`.
 * - Compensation: in reverse dependency order, as a graph: a step is undone once everything that depended
 *   on it has been undone (across executions, through `remoteUndone` and the `undone` outbox), so
 *   independent undos run in parallel and a dependency is never undone under something still using it.
 *   Runs in a non-cancellable scope; failures are recorded, and the rest still run.
 * - People: approvals, prompts, a retry or skip after a failure with `onFailure: pause`.
 *
 * Deterministic: imports only @temporalio/workflow and pure modules; activities by `import type`.
 */
import * as wf from '@temporalio/workflow';
import { ActivityCancellationType, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import type { DroverActivities } from '../activities';
import type { StepInput, StepOutcome } from '../activities/types';
import { MinHeap } from '../compiler/graph';
import { IN_WORKFLOW_KINDS } from '../compiler/partition';
import { POINT_OF_NO_RETURN } from '../compiler/plan';
import type { Budget, JsonObject, PlanSite, PlanStep, RetryPolicy, Simulation, StepKind } from '../compiler/plan';
import type { StepDecisionInput } from './messages';
import type { Decision, RunRecord, StepRecord } from './record';

const HEARTBEAT_TIMEOUT_MS = 10_000;
const NO_TIMEOUT_MS = 7 * 24 * 3_600_000;
/** A step no worker picks up within this fails as SiteUnserved (its site's worker is gone), not "running" forever. */
export const SCHEDULE_TO_START_MS = 60_000;

/**
 * Why the run stops: `abort` (a step failed: undo what was done), `cancel` (also undo steps cut off),
 * `rollback` (a person asked to undo a recovery, everything that ran), `halt` (past the point of no return:
 * stop and undo nothing, a recovery is never undone behind the operator's back).
 */
export type StopReason = 'abort' | 'cancel' | 'rollback' | 'halt';
export type DecisionKind = Decision['decision'];

export interface EngineSpec {
  /** This execution's steps, in topological order. Dependencies not among them are imports. */
  steps: PlanStep[];
  sites: Record<string, PlanSite>;
  budget: Budget;
  /** The run's id (the root workflow's): simulated faults count per run, across executions. */
  runId: string;
  simulation?: Simulation;
  /** Local steps that other executions depend on. */
  exports?: ReadonlySet<string>;
  /** The record whose `steps` this engine fills and whose `events` it appends to. */
  record: RunRecord;
  /** A failover's choices, given to its promote steps: when it began, which point, whether loss is accepted. */
  promote?: { failoverAt: number; recoveryPoint?: string; acceptDataLoss?: boolean };
  event(text: string): void;
}

export class StepEngine {
  readonly recs = new Map<string, StepRecord>();
  /** For the execution's courier: exported steps done, and imports whose local dependents are all undone. */
  readonly outbox: { exported: string[]; undone: string[] } = { exported: [], undone: [] };
  stopping: StopReason | undefined;
  /** The local step whose failure stopped the run, if one did. */
  failedStep: string | undefined;
  /** Activity steps compensated (successfully or not). */
  compensated = 0;
  /** The workflow (or, in a shard, the root) was cancelled: with `halt`, the run ends cancelled, not failed. */
  cancelled = false;

  private readonly spec: EngineSpec;
  private readonly byId: Map<string, PlanStep>;
  private readonly position: Map<string, number>;
  private readonly waitingOn: Map<string, number>;
  /** Local dependents of every step id seen, local or imported. */
  private readonly dependents = new Map<string, string[]>();
  private readonly ready = new MinHeap();
  private readonly running = new Set<string>();
  private readonly perSite = new Map<string, number>();
  private readonly finished: { id: string; ok: boolean }[] = [];
  private readonly arrived: string[] = [];
  private readonly decisions = new Map<string, Decision[]>();
  private readonly failureDecision = new Map<string, 'retry' | 'skip'>();
  private readonly remoteUndoneIds: string[] = [];
  private readonly lossAccepted = new Set<string>();
  /** Data of the syncReplication steps that succeeded, by step id (a promote reads its final sync's). */
  private readonly synced = new Map<string, JsonObject>();
  private readonly activityFunctions = new Map<string, (input: StepInput) => Promise<StepOutcome>>();
  private noReturnPassed = false;
  private done = 0;
  private paused = false;
  private resumed = false;

  constructor(spec: EngineSpec) {
    this.spec = spec;
    this.byId = new Map(spec.steps.map((s) => [s.id, s]));
    this.position = new Map(spec.steps.map((s, i) => [s.id, i]));
    this.waitingOn = new Map(spec.steps.map((s) => [s.id, s.dependsOn.length]));
    for (const s of spec.steps) {
      for (const d of s.dependsOn) {
        const list = this.dependents.get(d);
        if (list) list.push(s.id);
        else this.dependents.set(d, [s.id]);
      }
    }
    for (const s of spec.steps) {
      const r: StepRecord = { id: s.id, kind: s.kind, site: s.site, status: 'pending', attempts: 0 };
      if (s.workload) r.workload = s.workload;
      if (s.group) r.group = s.group;
      if (s.kind === 'confirm') {
        r.estimateMs = s.estimateMs;
        if (typeof s.params.action === 'string') r.action = s.params.action;
        if (Array.isArray(s.params.approvers)) r.approvers = s.params.approvers as string[];
      }
      this.recs.set(s.id, r);
      spec.record.steps.push(r);
    }
    spec.steps.forEach((s, i) => s.dependsOn.length === 0 && this.ready.push(i));
  }

  get steps(): readonly PlanStep[] {
    return this.spec.steps;
  }

  step(id: string): PlanStep | undefined {
    return this.byId.get(id);
  }

  /** Another execution finished `id`, which some local steps depend on. */
  importDone(id: string): void {
    if (id === POINT_OF_NO_RETURN) this.noReturnPassed = true;
    if (this.dependents.has(id) && !this.byId.has(id)) this.arrived.push(id);
  }

  /** Whether the run has passed its point of no return (some workload may be promoted). */
  get pastNoReturn(): boolean {
    return this.noReturnPassed;
  }

  /**
   * How to stop for `reason` in a failover past its point of no return: an abort or a cancel then halts
   * (nothing undone); only a rollback a person asked for undoes a recovery.
   */
  settle(reason: StopReason): StopReason {
    return this.noReturnPassed && (reason === 'abort' || reason === 'cancel') ? 'halt' : reason;
  }

  /** Every execution that imports local step `id` has undone its dependents of it. */
  remoteUndone(id: string): void {
    if (this.byId.has(id)) this.remoteUndoneIds.push(id);
  }

  /** Stop starting steps, from outside (another execution failed, or the run was cancelled). A rollback overrides a halt. */
  stop(reason: StopReason): void {
    if (reason === 'cancel') this.cancelled = true;
    if (reason === 'rollback' && this.stopping === 'halt') this.stopping = 'rollback';
    this.stopping ??= this.settle(reason);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.resumed = true;
  }

  /**
   * The forward phase: until every step is done or the run stops. A cancellation of the workflow ends it
   * with `stopping = 'cancel'`; steps cut off mid-way stay `running` in the record.
   */
  async run(): Promise<void> {
    const total = this.spec.steps.length;
    try {
      await wf.CancellationScope.cancellable(async () => {
        while (this.done < total && !this.stopping) {
          this.launchReady();
          // After launchReady nothing more can start until a step finishes, an import arrives, or a resume.
          await wf.condition(
            () => this.finished.length > 0 || this.resumed || this.arrived.length > 0 || this.stopping !== undefined,
          );
          this.resumed = false;
          for (const f of this.finished.splice(0)) this.complete(f.id, f.ok);
          for (const id of this.arrived.splice(0)) this.release(id);
        }
        // Stopping: let the steps already running finish, so their compensations are known.
        await wf.condition(() => this.running.size === 0);
        for (const f of this.finished.splice(0)) this.complete(f.id, f.ok);
      });
    } catch (err) {
      if (!wf.isCancellation(err)) throw err;
      this.cancelled = true;
      if (this.stopping !== 'rollback') this.stopping = this.settle('cancel');
    }
    for (const r of this.recs.values()) if (r.status === 'pending') r.status = 'not-run';
  }

  /** Steps whose compensation will run: completed ones, and on cancel those cut off mid-way (undo is idempotent). */
  private needsUndo(s: PlanStep): boolean {
    const status = this.recs.get(s.id)!.status;
    if (s.compensation === undefined || this.stopping === 'halt') return false;
    // A rollback undoes whatever ran, even a step that failed half-way (every undo is idempotent).
    if (this.stopping === 'rollback') return status !== 'pending' && status !== 'not-run';
    return status === 'succeeded' || (this.stopping === 'cancel' && status === 'running');
  }

  /** Undo, in reverse dependency order, as a graph. Never cancelled. */
  async compensate(): Promise<void> {
    const steps = this.spec.steps;
    const exports = this.spec.exports ?? new Set<string>();
    const toUndo = steps.filter((s) => this.needsUndo(s)).length;
    const involved = toUndo > 0 || exports.size > 0 || [...this.dependents.keys()].some((d) => !this.byId.has(d));
    if (!involved) return;
    if (toUndo > 0) this.spec.event(`compensating ${toUndo} step(s) in reverse dependency order`);
    // A step is undone after all its local dependents, and, when exported, after every importer says so.
    const waiting = new Map(
      steps.map((s) => [s.id, (this.dependents.get(s.id)?.length ?? 0) + (exports.has(s.id) ? 1 : 0)]),
    );
    const importWaiting = new Map<string, number>();
    for (const [d, list] of this.dependents) if (!this.byId.has(d)) importWaiting.set(d, list.length);
    const ready: string[] = [];
    const active = new Set<string>();
    const undone: string[] = [];
    let left = steps.length;
    const markUndone = (id: string) => {
      left--;
      for (const d of this.byId.get(id)!.dependsOn) {
        if (this.byId.has(d)) {
          const n = waiting.get(d)! - 1;
          waiting.set(d, n);
          if (n === 0) ready.push(d);
        } else {
          const n = importWaiting.get(d)! - 1;
          importWaiting.set(d, n);
          if (n === 0) this.outbox.undone.push(d);
        }
      }
    };
    // Reverse topological order among the ready ones: the latest step first.
    for (let i = steps.length - 1; i >= 0; i--) if (waiting.get(steps[i]!.id) === 0) ready.push(steps[i]!.id);
    await wf.CancellationScope.nonCancellable(async () => {
      while (left > 0) {
        for (const id of this.remoteUndoneIds.splice(0)) {
          const n = waiting.get(id)! - 1;
          waiting.set(id, n);
          if (n === 0) ready.push(id);
        }
        const held: string[] = [];
        while (ready.length > 0) {
          const id = ready.shift()!;
          const s = this.byId.get(id)!;
          if (!this.needsUndo(s)) {
            markUndone(id);
            continue;
          }
          if (!this.hasSlot(s)) {
            held.push(id);
            continue;
          }
          active.add(id);
          this.take(s);
          this.undo(s).then(() => {
            this.give(s);
            active.delete(id);
            undone.push(id);
          }, wf.log.error);
        }
        ready.push(...held);
        if (left === 0) break;
        await wf.condition(() => undone.length > 0 || this.remoteUndoneIds.length > 0);
        for (const id of undone.splice(0)) markUndone(id);
      }
    });
  }

  private async undo(s: PlanStep): Promise<void> {
    const c = s.compensation!;
    const rec = this.recs.get(s.id)!;
    const startedAt = Date.now();
    try {
      const out = await this.activity(s, c.kind, c.retry, c.timeoutMs);
      rec.compensation = { kind: c.kind, status: 'succeeded', startedAt, endedAt: Date.now(), message: out.message };
    } catch (err) {
      const error = describe(err).message;
      rec.compensation = { kind: c.kind, status: 'failed', startedAt, endedAt: Date.now(), error };
      this.spec.event(`compensation ${c.kind} of ${s.id} failed: ${error}`);
    }
    this.compensated++;
  }

  // ---- forward ----

  private hasSlot(step: PlanStep): boolean {
    if (IN_WORKFLOW_KINDS.has(step.kind)) return true;
    const budget = this.spec.budget;
    let active = 0;
    for (const c of this.perSite.values()) active += c;
    return active < budget.plan && (this.perSite.get(step.site) ?? 0) < (budget.sites[step.site] ?? 1);
  }

  private take(step: PlanStep): void {
    if (!IN_WORKFLOW_KINDS.has(step.kind)) this.perSite.set(step.site, (this.perSite.get(step.site) ?? 0) + 1);
  }

  private give(step: PlanStep): void {
    if (!IN_WORKFLOW_KINDS.has(step.kind)) this.perSite.set(step.site, this.perSite.get(step.site)! - 1);
  }

  private launchReady(): void {
    if (this.paused || this.stopping) return;
    const held: number[] = [];
    while (this.ready.size > 0) {
      const i = this.ready.pop();
      const step = this.spec.steps[i]!;
      if (!this.hasSlot(step)) {
        held.push(i);
        continue;
      }
      this.launch(step);
    }
    for (const i of held) this.ready.push(i);
  }

  private launch(step: PlanStep): void {
    const rec = this.recs.get(step.id)!;
    rec.status = 'running';
    rec.startedAt = Date.now();
    this.running.add(step.id);
    this.take(step);
    this.runStep(step).then(
      (ok) => {
        this.running.delete(step.id);
        this.give(step);
        this.finished.push({ id: step.id, ok });
      },
      () => {
        // Cancellation: run() handles it; the step stays as it was.
        this.running.delete(step.id);
        this.give(step);
      },
    );
  }

  /** A finished step: release its dependents, export it, or stop the run. */
  private complete(id: string, ok: boolean): void {
    this.done++;
    if (!ok) {
      if (!this.stopping) {
        this.stopping = this.settle('abort');
        this.failedStep = id;
        this.spec.event(
          `step ${id} failed: ${this.recs.get(id)!.error?.message}; ${this.stopping === 'halt' ? 'stopping; what was recovered is kept (past the point of no return nothing is undone without a rollback)' : 'aborting and compensating'}`,
        );
      }
      return;
    }
    if (id === POINT_OF_NO_RETURN) {
      this.noReturnPassed = true;
      this.spec.event('point of no return passed: every source is stopped and fenced; promoting');
    }
    if (this.spec.exports?.has(id)) this.outbox.exported.push(id);
    this.release(id);
  }

  private release(id: string): void {
    for (const d of this.dependents.get(id) ?? []) {
      const left = this.waitingOn.get(d)! - 1;
      this.waitingOn.set(d, left);
      if (left === 0) this.ready.push(this.position.get(d)!);
    }
  }

  /**
   * Runs one step to its end: true when the run may go past it (succeeded, skipped, or failed with `continue`).
   * An activity step is one promise chain (no async frames): a 2,000-workload run has 10,000 of them, and the
   * SDK records a stack trace for every promise a workflow creates.
   */
  private runStep(step: PlanStep): Promise<boolean> {
    const rec = this.recs.get(step.id)!;
    if (step.kind === 'confirm') return this.walk(step, rec);
    let outcome: Promise<StepOutcome | undefined>;
    try {
      outcome = IN_WORKFLOW_KINDS.has(step.kind)
        ? this.inWorkflow(step, rec)
        : this.activity(step, step.kind, step.retry, step.timeoutMs);
    } catch (err) {
      // Scheduling refused (bad activity options): the step fails; the workflow task does not.
      outcome = Promise.reject(err);
    }
    return outcome.then(
      (out) => this.succeeded(step, rec, out),
      (err: unknown) => this.afterFailure(step, rec, err),
    );
  }

  private succeeded(step: PlanStep, rec: StepRecord, out: StepOutcome | undefined): true {
    rec.status = 'succeeded';
    rec.endedAt = Date.now();
    rec.attempts += out ? out.attempt : 1;
    if (out) {
      rec.changed = out.changed;
      rec.message = out.message;
      if (out.recoveryPointAt !== undefined) rec.recoveryPointAt = out.recoveryPointAt;
      if (out.data && step.kind === 'syncReplication') this.synced.set(step.id, out.data);
    }
    return true;
  }

  /** A failed step: accept a loss, wait for a person to retry or skip it, continue past it, or stop the run. */
  private async afterFailure(step: PlanStep, rec: StepRecord, err: unknown): Promise<boolean> {
    if (wf.isCancellation(err)) throw err;
    rec.attempts += attemptsOf(err, step.retry);
    rec.error = unserved(err, this.spec.sites[step.site]!) ?? describe(err);
    rec.endedAt = Date.now();
    if (rec.error.type === 'DataLossNotAccepted' && !this.stopping && (await this.acceptLoss(step, rec))) {
      rec.status = 'running';
      return this.runStep(step);
    }
    if (step.onFailure === 'pause' && !this.stopping) {
      rec.status = 'waiting';
      this.spec.event(`step ${step.id} failed (${rec.error.message}); waiting for a person to retry or skip it`);
      await wf.condition(() => this.failureDecision.has(step.id) || this.stopping !== undefined);
      const d = this.failureDecision.get(step.id);
      this.failureDecision.delete(step.id);
      if (d === 'retry') {
        rec.status = 'running';
        return this.runStep(step);
      }
      if (d === 'skip') {
        rec.status = 'skipped';
        return true;
      }
    }
    rec.status = 'failed';
    if (step.onFailure === 'continue') {
      this.spec.event(`step ${step.id} failed (${rec.error.message}); continuing, as its onFailure says`);
      return true;
    }
    return false;
  }

  /** A step the workflow runs itself (IN_WORKFLOW_KINDS): a wait, a person's gate, a barrier. */
  private async inWorkflow(step: PlanStep, rec: StepRecord): Promise<StepOutcome | undefined> {
    switch (step.kind) {
      case 'wait': {
        const ms = Number(step.params.durationMs ?? 0);
        if (ms > 0) await wf.sleep(ms);
        // A drill's stand-in for a command or HTTP call says what would have run.
        if (step.params.wouldRun)
          return { attempt: 1, changed: false, message: `simulated: ${String(step.params.wouldRun)}` };
        return undefined;
      }
      case 'approval':
        await this.awaitApproval(step, rec);
        return undefined;
      case 'prompt':
        await this.awaitDismissal(step, rec);
        return undefined;
      default: // a barrier
        return undefined;
    }
  }

  private activity(step: PlanStep, kind: StepKind, retry: RetryPolicy, timeoutMs: number): Promise<StepOutcome> {
    const site = this.spec.sites[step.site]!;
    const fn = this.activityFunction(site, kind, retry, timeoutMs);
    const peer = Object.values(this.spec.sites).find((s) => s.name !== site.name) ?? site;
    let params = step.params;
    const choice = this.spec.promote;
    if (kind === 'promote' && choice) {
      params = { ...params, failoverAt: choice.failoverAt };
      if (choice.recoveryPoint) params.recoveryPoint = choice.recoveryPoint;
      if (choice.acceptDataLoss || this.lossAccepted.has(step.id)) params.acceptDataLoss = true;
      // What the final sync measured at the source (a crashed database's end of WAL): the promote compares.
      const source = step.workload ? this.synced.get(`${step.workload}/finalSync`) : undefined;
      if (source && wf.patched('drover-promote-source-v1')) params.source = source;
    }
    const input: StepInput = { runId: this.spec.runId, stepId: step.id, kind, params, site, peer };
    if (this.spec.simulation) input.simulation = this.spec.simulation;
    return fn(input);
  }

  /** One activity function per site, kind, timeout and retry policy: a plan has a handful, run 10,000 times. */
  private activityFunction(
    site: PlanSite,
    kind: StepKind,
    retry: RetryPolicy,
    timeoutMs: number,
  ): (input: StepInput) => Promise<StepOutcome> {
    const name = kind === 'command' ? 'runCommand' : kind === 'http' ? 'httpRequest' : kind;
    const key = JSON.stringify([site.taskQueue, name, timeoutMs, retry]);
    let fn = this.activityFunctions.get(key);
    if (!fn) {
      const acts = wf.proxyActivities<DroverActivities>({
        taskQueue: site.taskQueue,
        startToCloseTimeout: timeoutMs > 0 ? timeoutMs : NO_TIMEOUT_MS,
        scheduleToStartTimeout: SCHEDULE_TO_START_MS,
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
      fn = acts[name as keyof DroverActivities] as (i: StepInput) => Promise<StepOutcome>;
      this.activityFunctions.set(key, fn);
    }
    return fn;
  }

  // ---- people ----

  /** A failover from a point older than the RPO: waits for a person to accept the loss (approve) or not. */
  private async acceptLoss(step: PlanStep, rec: StepRecord): Promise<boolean> {
    rec.status = 'waiting';
    const wfId = wf.workflowInfo().workflowId;
    this.spec.event(
      `${step.id}: ${rec.error!.message}. Accept the loss: drover approve ${wfId} --step ${step.id} --by <name>; refuse: drover reject ${wfId} --step ${step.id} --by <name>`,
    );
    const votes = () => this.decisions.get(step.id) ?? [];
    await wf.condition(() => votes().length > 0 || this.stopping !== undefined);
    rec.decisions = [...votes()];
    this.decisions.delete(step.id);
    const vote = rec.decisions[rec.decisions.length - 1];
    if (vote?.decision !== 'approved') return false;
    this.lossAccepted.add(step.id);
    return true;
  }

  private async awaitApproval(step: PlanStep, rec: StepRecord): Promise<void> {
    rec.status = 'waiting';
    const required = Number(step.params.required ?? 1);
    this.spec.event(
      `waiting for ${required} approval(s) of ${step.id} from ${(step.params.approvers as string[]).join(', ')}`,
    );
    const votes = () => this.decisions.get(step.id) ?? [];
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
      this.spec.event(`approval ${step.id} timed out: ${approve ? 'approved' : 'rejected'}, as the runbook says`);
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
  private async walk(step: PlanStep, rec: StepRecord): Promise<boolean> {
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

  private async awaitDismissal(step: PlanStep, rec: StepRecord): Promise<void> {
    rec.status = 'waiting';
    this.spec.event(
      `waiting for a person to ${step.kind === 'confirm' ? 'confirm' : 'dismiss'} ${step.id}${step.params.message ? `: ${String(step.params.message)}` : ''}`,
    );
    const ok = await waitFor(() => this.decisions.has(step.id), step.timeoutMs);
    rec.decisions = this.decisions.get(step.id) ?? [];
    if (!ok) throw ApplicationFailure.create({ type: 'PromptTimedOut', message: 'nobody answered within the timeout' });
    rec.status = 'running';
  }

  /** Why a decision cannot be taken, or undefined when it can. */
  decisionProblem(d: StepDecisionInput, decision: DecisionKind): string | undefined {
    if (!d || typeof d.step !== 'string' || typeof d.by !== 'string' || d.by === '')
      return 'give {"step": "<step id>", "by": "<your name>"}';
    const step = this.byId.get(d.step);
    const rec = this.recs.get(d.step);
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
      this.spec.event(`ignored ${decision} signal for ${d?.step} by ${d?.by}: ${problem}`);
      return problem;
    }
    const entry: Decision = { by: d.by, at: Date.now(), decision };
    if (d.comment) entry.comment = d.comment;
    // A signature reaches here verified (workflows/common.ts verifyDecision).
    if (d.signature !== undefined) entry.signed = true;
    if (decision === 'retry' || decision === 'skip') {
      this.failureDecision.set(d.step, decision);
      const rec = this.recs.get(d.step)!;
      (rec.decisions ??= []).push(entry);
    } else {
      const list = this.decisions.get(d.step) ?? [];
      list.push(entry);
      this.decisions.set(d.step, list);
      const rec = this.recs.get(d.step);
      if (rec) rec.decisions = list;
    }
    this.spec.event(`${d.step}: ${decision} by ${d.by}${d.comment ? ` (${d.comment})` : ''}`);
    return `${decision} ${d.step}`;
  }
}

/** The decision an answer stands for, or undefined when its outcome is not one of done, blocked, skipped. */
export function answerDecision(a: { outcome?: unknown } | undefined): DecisionKind | undefined {
  const o = a?.outcome;
  return o === 'done' || o === 'blocked' || o === 'skipped' ? o : undefined;
}

/** When the run recovered (the last recovery step's end) and the oldest recovery point used, from records. */
export function recoveryTimes(steps: readonly StepRecord[]): { recoveredAt?: number; recoveryPointAt?: number } {
  const ends = (kinds: StepKind[]) =>
    steps
      .filter((r) => r.status === 'succeeded' && kinds.includes(r.kind) && r.endedAt !== undefined)
      .map((r) => r.endedAt!);
  const validated = ends(['validate']);
  const recovered = validated.length ? validated : ends(['waitReady', 'powerOn', 'restore']);
  const points = steps
    .filter((r) => r.kind === 'restore' && r.recoveryPointAt !== undefined)
    .map((r) => r.recoveryPointAt!);
  const out: { recoveredAt?: number; recoveryPointAt?: number } = {};
  if (recovered.length) out.recoveredAt = recovered.reduce((a, b) => Math.max(a, b));
  if (points.length) out.recoveryPointAt = points.reduce((a, b) => Math.min(a, b));
  return out;
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

/** A step nobody picked up: its site's worker is gone (or never started). */
function unserved(err: unknown, site: PlanSite): { type: string; message: string } | undefined {
  const cause = (err as wf.ActivityFailure)?.cause;
  if (!(cause instanceof TimeoutFailure) || cause.timeoutType !== 'SCHEDULE_TO_START') return undefined;
  return {
    type: 'SiteUnserved',
    message: `no worker picked the step up within ${SCHEDULE_TO_START_MS / 1000}s on task queue ${site.taskQueue}: start one with \`drover worker --site ${site.name}\``,
  };
}

export function describe(err: unknown): { type: string; message: string } {
  const cause = (err as wf.ActivityFailure)?.cause as (Error & { type?: string }) | undefined;
  const e = (cause ?? err) as Error & { type?: string };
  return { type: e.type ?? e.name ?? 'Error', message: e.message ?? String(err) };
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
