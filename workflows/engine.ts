/**
 * The step engine: runs a set of plan steps inside one workflow execution. A small plan is one engine in
 * one execution; a large plan is one engine in the root and one in each shard (workflows/shard.ts), wired
 * together by exports and imports that the root relays.
 *
 * - Forward: a step starts the moment its own dependencies are done (local ones, or imported ones reported
 *   by another execution), within this execution's budget of the plan's and each site's `maxParallel`.
 * - Compensation (workflows/compensation.ts): in reverse dependency order, as a graph, once the run stops.
 * - People (workflows/people.ts): approvals, prompts, tabletop answers, accepting a data loss, a retry or
 *   skip after a failure with `onFailure: pause`; the checks of a decision before it is taken.
 * - Slots (workflows/slots.ts): the budget both of them start steps within.
 *
 * Deterministic: imports only @temporalio/workflow and pure modules; activities by `import type`.
 */
import * as wf from '@temporalio/workflow';
import { ActivityCancellationType } from '@temporalio/workflow';
import type { DroverActivities } from '../activities';
import type { ChainedOutcome, StepInput, StepOutcome, StepsInput } from '../contracts/activities';
import { MinHeap } from '../compiler/graph';
import { IN_WORKFLOW_KINDS } from '../compiler/partition';
import { POINT_OF_NO_RETURN } from '../contracts/plan';
import type {
  Budget,
  JsonObject,
  PlanSite,
  PlanStep,
  RetryPolicy,
  ShardPaths,
  Simulation,
  StepKind,
} from '../contracts/plan';
import {
  STEP_CHAINS,
  afterFirstTry,
  chainFrom,
  chainSummary,
  mayHaveRun,
  progressOf,
  retriedAfterChain,
  unregistered,
} from './chains';
import { Compensation } from './compensation';
import { SCHEDULE_TO_START_MS, attemptsOf, describe, unserved } from './failures';
import type { Notifier } from './notify';
import { remainingCriticalPath } from './notify';
import { People } from './people';
import type { RunRecord, StepRecord } from '../contracts/record';
import { Slots } from './slots';
import { criticalPathFirst, planOrder } from './start-order';
import type { StartOrder } from './start-order';

const HEARTBEAT_TIMEOUT_MS = 10_000;
/** Ready steps start longest path to the plan's end first; runs recorded before it, in plan order. */
const CRITICAL_PATH_FIRST = 'drover-critical-path-first-v1';
const NO_TIMEOUT_MS = 7 * 24 * 3_600_000;

/**
 * Why the run stops: `abort` (a step failed: undo what was done), `cancel` (also undo steps cut off),
 * `rollback` (a person asked to undo a recovery, everything that ran), `halt` (past the point of no return:
 * stop and undo nothing, a recovery is never undone behind the operator's back).
 */
export type StopReason = 'abort' | 'cancel' | 'rollback' | 'halt';

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
  /** In a shard, the plan's longest paths through its exports and imports (ShardSpec.paths). */
  paths?: ShardPaths;
  /** The record whose `steps` this engine fills and whose `events` it appends to. */
  record: RunRecord;
  /** A failover's choices, given to its promote steps: when it began, which point, whether loss is accepted. */
  promote?: { failoverAt: number; recoveryPoint?: string; acceptDataLoss?: boolean };
  event(text: string): void;
  /** Tells the runbook's notify targets and the Web UI about waits and failures (a plan with `notify`). */
  notifier?: Notifier;
}

export class StepEngine {
  readonly recs = new Map<string, StepRecord>();
  /** For the execution's courier: exported steps done, and imports whose local dependents are all undone. */
  readonly outbox: { exported: string[]; undone: string[] } = { exported: [], undone: [] };
  stopping: StopReason | undefined;
  /** The local step whose failure stopped the run, if one did. */
  failedStep: string | undefined;
  /** The workflow (or, in a shard, the root) was cancelled: with `halt`, the run ends cancelled, not failed. */
  cancelled = false;
  /** People's decisions on this execution's steps: approvals, prompts, answers, data loss, retry or skip. */
  readonly people: People;
  /** Undoing this execution's steps once the run stops: `compensation.run()` after `run()`. */
  readonly compensation: Compensation;

  private readonly spec: EngineSpec;
  private readonly byId: Map<string, PlanStep>;
  private readonly position: Map<string, number>;
  private readonly waitingOn: Map<string, number>;
  /** Local dependents of every step id seen, local or imported. */
  private readonly dependents = new Map<string, string[]>();
  /** Ready steps, by their place in the start order (`order.position` maps it back to the plan's). */
  private readonly ready = new MinHeap();
  private readonly order: StartOrder;
  private readonly running = new Set<string>();
  private readonly slots: Slots;
  private readonly finished: { id: string; ok: boolean }[] = [];
  private readonly arrived: string[] = [];
  /** Data of the syncReplication steps that succeeded, by step id (a promote reads its final sync's). */
  private readonly synced = new Map<string, JsonObject>();
  private readonly activityFunctions = new Map<string, StepActivity>();
  private readonly chainFunctions = new Map<string, ChainActivity>();
  /** Steps run inside a chain started by an earlier step (workflows/chains.ts): the chain releases them. */
  private readonly chained = new Set<string>();
  /** The chains whose activity runs, by their first step: cancelled when the run stops (they end their step). */
  private readonly chainsRunning = new Map<string, { chain: PlanStep[]; scope: wf.CancellationScope }>();
  /** Chained steps that may have run when the run stopped, unknown to it (their chain went silent): undone. */
  private readonly cutOff = new Set<string>();
  /** Runs record chains (STEP_CHAINS); older histories replay one activity per step. */
  private readonly chains: boolean;
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
    this.order = wf.patched(CRITICAL_PATH_FIRST) ? criticalPathFirst(spec.steps, spec.paths) : planOrder(spec.steps);
    spec.steps.forEach((s, i) => s.dependsOn.length === 0 && this.ready.push(this.order.place[i]!));
    this.slots = new Slots(spec.budget);
    this.chains = wf.patched(STEP_CHAINS);
    const event = (text: string) => spec.event(text);
    const stopping = () => this.stopping;
    this.people = new People({ byId: this.byId, recs: this.recs, stopping, event, notifier: spec.notifier });
    this.compensation = new Compensation({
      steps: spec.steps,
      exports: spec.exports ?? new Set<string>(),
      byId: this.byId,
      dependents: this.dependents,
      recs: this.recs,
      slots: this.slots,
      outbox: this.outbox,
      stopping,
      activity: (step, kind, retry, timeoutMs) => this.activity(step, kind, retry, timeoutMs),
      event,
      cutOff: this.cutOff,
    });
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
        // Stopping: let the steps already running finish, so their compensations are known; a chain ends
        // the step it is on and starts no more.
        for (const { scope } of this.chainsRunning.values()) scope.cancel();
        await wf.condition(() => this.running.size === 0);
        for (const f of this.finished.splice(0)) this.complete(f.id, f.ok);
      });
    } catch (err) {
      if (!wf.isCancellation(err)) throw err;
      this.cancelled = true;
      if (this.stopping !== 'rollback') this.stopping = this.settle('cancel');
      // Cancelled chains end the step they are on and say how far they got: wait for that before undoing.
      if (this.chains)
        await wf.CancellationScope.nonCancellable(() => wf.condition(() => this.chainsRunning.size === 0));
    }
    for (const r of this.recs.values()) if (r.status === 'pending') r.status = 'not-run';
  }

  // ---- forward ----

  private launchReady(): void {
    if (this.paused || this.stopping) return;
    const held: number[] = [];
    while (this.ready.size > 0) {
      const k = this.ready.pop();
      const i = this.order.position[k]!;
      const step = this.spec.steps[i]!;
      if (!this.slots.has(step)) {
        held.push(k);
        continue;
      }
      this.launch(step);
    }
    for (const k of held) this.ready.push(k);
  }

  /** Starts `step`, and the chain of steps after it that can run in the same activity (workflows/chains.ts). */
  private launch(step: PlanStep): void {
    const rec = this.recs.get(step.id)!;
    rec.status = 'running';
    rec.startedAt = Date.now();
    this.running.add(step.id);
    this.slots.take(step);
    const chain = this.chains
      ? chainFrom(step, { byId: this.byId, dependents: this.dependents, exports: this.spec.exports ?? new Set() })
      : [step];
    for (const s of chain.slice(1)) this.chained.add(s.id);
    const ends = chain.length > 1 ? this.runChain(chain) : this.runStep(step).then((ok) => [{ id: step.id, ok }]);
    ends.then(
      (list) => {
        this.running.delete(step.id);
        this.slots.give(step);
        this.finished.push(...list);
      },
      () => {
        // Cancellation: run() handles it; the step stays as it was.
        this.running.delete(step.id);
        this.slots.give(step);
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
      if (this.chained.has(d)) continue;
      const left = this.waitingOn.get(d)! - 1;
      this.waitingOn.set(d, left);
      if (left === 0) this.ready.push(this.order.place[this.position.get(d)!]!);
    }
  }

  /**
   * Runs one step to its end: true when the run may go past it (succeeded, skipped, or failed with `continue`).
   * An activity step is one promise chain (no async frames): a 2,000-workload run has 10,000 of them, and the
   * SDK records a stack trace for every promise a workflow creates.
   */
  private runStep(step: PlanStep): Promise<boolean> {
    const rec = this.recs.get(step.id)!;
    if (step.kind === 'confirm') return this.people.walk(step, rec);
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
    if (rec.error.type === 'DataLossNotAccepted' && !this.stopping && (await this.people.acceptLoss(step, rec))) {
      rec.status = 'running';
      return this.runStep(step);
    }
    this.spec.notifier?.failed(step, rec);
    if (step.onFailure === 'pause' && !this.stopping) {
      rec.status = 'waiting';
      this.spec.event(`step ${step.id} failed (${rec.error.message}); waiting for a person to retry or skip it`);
      const run = wf.workflowInfo().root?.workflowId ?? wf.workflowInfo().workflowId;
      this.spec.notifier?.waiting(
        step,
        `${step.id} failed (${rec.error.message}); retry or skip it`,
        `drover retry-step ${run} --step ${step.id} --by <name>   (or drover skip-step)`,
      );
      await wf.condition(() => this.people.hasFailureDecision(step.id) || this.stopping !== undefined);
      this.spec.notifier?.resumed(step.id);
      const d = this.people.takeFailureDecision(step.id);
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

  /**
   * Runs a chain: one activity for all its steps, each recorded as it ended. Stopped short, the steps it
   * finished are done and the rest run one activity each, from the one it stopped on (workflows/chains.ts).
   * Resolves to each step that ended, in order, and whether the run may go past it.
   */
  private async runChain(chain: PlanStep[]): Promise<{ id: string; ok: boolean }[]> {
    const ends: { id: string; ok: boolean }[] = [];
    const done = (outs: readonly ChainedOutcome[]) => {
      for (const [i, out] of outs.entries()) {
        const step = chain[i];
        if (step?.id !== out.stepId) break;
        const rec = this.recs.get(step.id)!;
        this.succeeded(step, rec, out);
        if (i > 0) rec.startedAt = out.startedAt;
        if (i < chain.length - 1) rec.endedAt = out.endedAt;
        ends.push({ id: step.id, ok: true });
      }
    };
    let stoppedBy: unknown;
    const scope = new wf.CancellationScope();
    this.chainsRunning.set(chain[0]!.id, { chain, scope });
    try {
      done((await scope.run(() => this.chainActivity(chain))).steps);
    } catch (err) {
      const progress = progressOf(err);
      done(progress?.done ?? []);
      const on = chain[ends.length];
      if (on && progress?.running?.stepId === on.id) this.recs.get(on.id)!.startedAt = progress.running.startedAt;
      // Asked to stop (the run stops or is cancelled): it finished its step and said so; nothing more ran.
      if (wf.isCancellation(err)) return ends;
      const unknown = mayHaveRun(err, chain.length - ends.length);
      if (this.stopping && unknown > 0) {
        // Stopping, and the chain went silent: what it may have reached is cut off, and undone.
        for (const s of chain.slice(ends.length, ends.length + unknown)) {
          this.recs.get(s.id)!.status = 'running';
          this.cutOff.add(s.id);
        }
        return ends;
      }
      // A site worker without `runSteps` (older than chains): the steps run alone, no attempt spent.
      stoppedBy = unregistered(err) && !progress ? undefined : err;
    } finally {
      this.chainsRunning.delete(chain[0]!.id);
    }
    // After a chain that stopped short (or reported fewer steps than it had), one activity per step.
    for (const step of chain.slice(ends.length)) {
      const rec = this.recs.get(step.id)!;
      if (stoppedBy === undefined) {
        // The steps after the one the chain stopped on start as any step does: not paused, not stopping.
        await wf.condition(() => !this.paused || this.stopping !== undefined);
        if (this.stopping) break;
        rec.status = 'running';
        rec.startedAt = Date.now();
      }
      const ok = stoppedBy === undefined ? await this.runStep(step) : await this.afterChain(step, rec, stoppedBy);
      stoppedBy = undefined;
      ends.push({ id: step.id, ok });
      if (!ok) break;
    }
    return ends;
  }

  /** The step a chain stopped on: its first try was in the chain; the tries it has left run alone. */
  private async afterChain(step: PlanStep, rec: StepRecord, err: unknown): Promise<boolean> {
    rec.status = 'running';
    rec.startedAt ??= Date.now();
    // A run that stops starts no more tries (a step running alone would finish its own).
    if (!retriedAfterChain(err, step.retry) || this.stopping) return this.afterFailure(step, rec, err);
    if (step.retry.initialIntervalMs > 0) await wf.sleep(step.retry.initialIntervalMs);
    if (this.stopping) return this.afterFailure(step, rec, err);
    return this.activity(step, step.kind, afterFirstTry(step.retry), step.timeoutMs, 1).then(
      (out) => this.succeeded(step, rec, out),
      (e: unknown) => this.afterFailure(step, rec, e),
    );
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
        await this.people.awaitApproval(step, rec);
        return undefined;
      case 'prompt':
        await this.people.awaitDismissal(step, rec);
        return undefined;
      default: // a barrier
        return undefined;
    }
  }

  /** The longest chain of estimates this execution's steps still have to run (the RTO watch reads it). */
  remainingMs(now: number): number {
    // A chain's steps are not recorded until it ends: its time so far is spent on them in order.
    const spent = new Map<string, number>();
    for (const { chain } of this.chainsRunning.values()) {
      let left = now - (this.recs.get(chain[0]!.id)!.startedAt ?? now);
      for (const s of chain) {
        if (this.recs.get(s.id)!.status === 'succeeded') continue;
        const used = Math.min(s.estimateMs, Math.max(0, left));
        spent.set(s.id, used);
        left -= used;
      }
    }
    return remainingCriticalPath(this.spec.steps, this.recs, now, spent);
  }

  private activity(
    step: PlanStep,
    kind: StepKind,
    retry: RetryPolicy,
    timeoutMs: number,
    attemptsBefore = 0,
  ): Promise<StepOutcome> {
    const site = this.spec.sites[step.site]!;
    const fn = this.activityFunction(site, kind, retry, timeoutMs);
    const peer = this.peerOf(site);
    let params = step.params;
    const choice = this.spec.promote;
    if (kind === 'promote' && choice) {
      params = { ...params, failoverAt: choice.failoverAt };
      if (choice.recoveryPoint) params.recoveryPoint = choice.recoveryPoint;
      if (choice.acceptDataLoss || this.people.acceptedLoss(step.id)) params.acceptDataLoss = true;
      // What the final sync measured at the source (a crashed database's end of WAL): the promote compares.
      const source = step.workload ? this.synced.get(`${step.workload}/finalSync`) : undefined;
      if (source && wf.patched('drover-promote-source-v1')) params.source = source;
    }
    const input: StepInput = { runId: this.spec.runId, stepId: step.id, kind, params, site, peer };
    if (this.spec.simulation) input.simulation = this.spec.simulation;
    if (attemptsBefore > 0) input.attemptsBefore = attemptsBefore;
    // What the Temporal Web UI shows for the activity: the plan, the step and where it runs.
    return fn.executeWithOptions({ summary: `${this.spec.record.plan.name} · ${step.id} @ ${site.name}` }, [input]);
  }

  /** The plan's other site, for replication (the site itself in a one-site plan). */
  private peerOf(site: PlanSite): PlanSite {
    return Object.values(this.spec.sites).find((s) => s.name !== site.name) ?? site;
  }

  /** A chain's one activity: each step within its own timeout, the whole within their sum; one try (chains.ts). */
  private chainActivity(chain: PlanStep[]): Promise<{ steps: ChainedOutcome[] }> {
    const site = this.spec.sites[chain[0]!.site]!;
    const peer = this.peerOf(site);
    const timeouts = chain.map((s) => s.timeoutMs);
    // The inner timeouts end a step first; the outer one only bounds the whole with a margin.
    const total = timeouts.some((t) => t <= 0) ? 0 : timeouts.reduce((a, b) => a + b, 0) + 30_000;
    const key = `${site.taskQueue}|${total}`;
    let fn = this.chainFunctions.get(key);
    if (!fn) {
      fn = wf.proxyActivities<DroverActivities>({
        taskQueue: site.taskQueue,
        startToCloseTimeout: total > 0 ? total : NO_TIMEOUT_MS,
        scheduleToStartTimeout: SCHEDULE_TO_START_MS,
        heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
        cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        retry: { maximumAttempts: 1 },
      }).runSteps as unknown as ChainActivity;
      this.chainFunctions.set(key, fn);
    }
    const input: StepsInput = {
      runId: this.spec.runId,
      site,
      peer,
      steps: chain.map((s) => ({ stepId: s.id, kind: s.kind, params: s.params, timeoutMs: s.timeoutMs })),
    };
    if (this.spec.simulation) input.simulation = this.spec.simulation;
    return fn.executeWithOptions({ summary: chainSummary(this.spec.record.plan.name, chain, site.name) }, [input]);
  }

  /** One activity function per site, kind, timeout and retry policy: a plan has a handful, run 10,000 times. */
  private activityFunction(site: PlanSite, kind: StepKind, retry: RetryPolicy, timeoutMs: number): StepActivity {
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
      fn = acts[name as keyof DroverActivities] as unknown as StepActivity;
      this.activityFunctions.set(key, fn);
    }
    return fn;
  }
}

/** A step's activity as the workflow calls it, with per-call options (its summary). */
type StepActivity = ((input: StepInput) => Promise<StepOutcome>) & {
  executeWithOptions(options: wf.ActivityOptions, args: [StepInput]): Promise<StepOutcome>;
};

/** A chain's activity as the workflow calls it. */
type ChainActivity = {
  executeWithOptions(options: wf.ActivityOptions, args: [StepsInput]): Promise<{ steps: ChainedOutcome[] }>;
};

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
