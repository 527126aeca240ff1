/**
 * The root of a large plan (README, Scale): the run's own execution when its plan arrives as a skeleton
 * (compiler/partition.ts). It runs the plan-level steps in its own engine, starts one child workflow per
 * shard (workflows/shard.ts), relays each exported step to the executions that import it (and, in
 * compensation, each importer's "undone" back to the owner), forwards people's decisions to the shard that
 * owns the step, stops every shard when one fails or the run is cancelled, and tells them to return when
 * all are done.
 *
 * Deterministic: imports only @temporalio/workflow and pure modules; activities by `import type`.
 */
import * as wf from '@temporalio/workflow';
import type { SignalDefinition } from '@temporalio/common';
import type { CompileInput } from '../contracts/activities';
import { ROOT, ownerOfStepId, sliceSteps } from '../compiler/partition';
import type { Partition, Plan } from '../contracts/plan';
import { courier } from './common';
import { recoveryTimes } from './engine';
import type { StepEngine, StopReason } from './engine';
import * as msg from './messages';
import type { ShardControl, ShardReport, StepDecisionInput } from './messages';
import type { DecisionKind } from './people';
import type { RunRecord, ShardResult, ShardSummary } from '../contracts/record';
import type { RunInput } from './run-state';
import { runPlanShard } from './shard';
import type { ShardInput } from './shard';

/**
 * Shards told to commit at once close at once, and each closes with its record as its result (~300 bytes
 * a step, ~170 kB for a shard of 600 activity steps), which the root's history takes while a workflow task
 * of the root may be running: above 2 MB of such buffered events the server force-closes that task
 * (WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND, seen at 2,000 workloads). So the commit goes out to this
 * many shards at a time, each turn once the one before has closed: about 500 kB of results at once.
 */
const COMMIT_TURN_SHARDS = 3;
const COMMIT_IN_TURNS = 'drover-commit-in-turns-v1';

const DECISION_SIGNALS: Record<DecisionKind, SignalDefinition<[StepDecisionInput]> | undefined> = {
  approved: msg.approveSignal,
  rejected: msg.rejectSignal,
  dismissed: msg.dismissSignal,
  retry: msg.retryStepSignal,
  skip: msg.skipStepSignal,
  'approved-on-timeout': undefined,
  'rejected-on-timeout': undefined,
  done: msg.answerSignal,
  blocked: msg.answerSignal,
  skipped: msg.answerSignal,
};

/** The root of a large plan: its shards, the relay between them, and the verdict. */
export class Root {
  stopReason: StopReason | undefined;
  failedStep: string | undefined;
  failedMessage: string | undefined;
  compensated = 0;

  private readonly shards: ShardSummary[];
  private readonly outbound = new Map<number, ShardControl>();
  private readonly forwards: { shard: number; signal: string; arg: unknown }[] = [];
  private readonly undoneBy = new Map<string, Set<number>>();
  private readonly finished = new Set<number>();
  private readonly closed = new Set<number>();
  /** The commit has gone out to some shard: the run's outcome is decided (commitInTurns). */
  private committed = false;
  private readonly decided = new Map<string, Set<string>>();

  constructor(
    private readonly plan: Plan,
    private readonly partition: Partition,
    private readonly input: RunInput,
    private readonly compiledWith: CompileInput | undefined,
    private readonly engine: StepEngine,
    private readonly record: RunRecord,
    private readonly event: (text: string) => void,
  ) {
    const id = wf.workflowInfo().workflowId;
    this.shards = partition.shards.map((s) => ({
      index: s.index,
      workflowId: `${id}.shard-${s.index}`,
      groups: s.groups,
      steps: s.steps,
      status: 'running',
    }));
    record.shards = this.shards;
  }

  /** Runs the plan; `window` is the commit window, opened once every execution has finished its steps. */
  async run(window: () => Promise<void>): Promise<void> {
    const n = this.shards.length;
    // Children are started outside the run's cancellation scope: a cancelled run stops them through the
    // protocol, so that they compensate in order with everyone else.
    const handles = await wf.CancellationScope.nonCancellable(() =>
      Promise.all(this.partition.shards.map((spec) => wf.startChild(runPlanShard, this.childOptions(spec.index)))),
    );
    handles.forEach((h, k) =>
      h.result().then(
        (res) => this.onClosed(k, res),
        (err: unknown) => this.onClosed(k, undefined, err),
      ),
    );
    // The relay must outlive a cancellation of the run: the shards compensate through it.
    const mail = wf.CancellationScope.nonCancellable(() =>
      courier(
        () => this.pending(),
        () => this.takeMail(),
        (batch) => this.deliver(batch),
        () => this.closed.size === n,
      ),
    );

    await this.engine.run();
    if (this.engine.stopping && !this.stopReason) {
      if (this.engine.failedStep) {
        this.failedStep = this.engine.failedStep;
        this.failedMessage = this.engine.recs.get(this.engine.failedStep)!.error?.message;
      }
      this.stopAll(this.engine.stopping);
    }
    if (!this.stopReason) {
      try {
        await wf.CancellationScope.cancellable(() =>
          wf.condition(() => this.finished.size === n || this.stopReason !== undefined),
        );
      } catch (err) {
        if (!wf.isCancellation(err)) throw err;
        this.stopAll('cancel');
      }
    }
    if (!this.stopReason) await window();
    if (!this.stopReason) {
      // Outside the run's cancellation scope, as the wait for the shards to close below.
      if (wf.patched(COMMIT_IN_TURNS)) await wf.CancellationScope.nonCancellable(() => this.commitInTurns());
      else for (const s of this.shards) this.control(s.index).commit = true;
    } else {
      this.record.status = this.stopReason === 'rollback' ? 'rolling-back' : 'compensating';
      await this.engine.compensation.run();
    }
    await wf.CancellationScope.nonCancellable(async () => {
      await wf.condition(() => this.closed.size === n);
      await mail;
    });
  }

  /**
   * Tells every shard to commit, COMMIT_TURN_SHARDS at a time, each turn once the one before has closed.
   * The run is committed from the first turn: a cancel or rollback arriving meanwhile stops no one (a
   * shard told to commit ignores it too); it is only noted. A shard failing meanwhile fails the run.
   */
  private async commitInTurns(): Promise<void> {
    this.committed = true;
    for (let i = 0; i < this.shards.length; i += COMMIT_TURN_SHARDS) {
      const turn = this.shards.slice(i, i + COMMIT_TURN_SHARDS).map((s) => s.index);
      for (const k of turn) if (!this.closed.has(k)) this.control(k).commit = true;
      await wf.condition(() => turn.every((k) => this.closed.has(k)));
    }
  }

  /** A shard's report: relay its exports and undos, note that it finished, or stop everyone. */
  onReport(r: ShardReport): void {
    const k = r.shard;
    for (const id of r.exported ?? []) this.relayExport(id);
    for (const id of r.undone ?? []) this.relayUndone(id, k);
    if (r.finished) {
      this.finished.add(k);
      this.shards[k]!.status = 'finished';
    }
    if (r.stopped) {
      if (r.stopped.failedStep && !this.failedStep) {
        this.failedStep = r.stopped.failedStep;
        this.failedMessage = r.stopped.message;
        this.event(`step ${r.stopped.failedStep} failed in shard ${k}: ${r.stopped.message}; stopping every shard`);
      }
      this.stopAll(r.stopped.reason);
    }
  }

  private onClosed(k: number, res: ShardResult | undefined, err?: unknown): void {
    this.closed.add(k);
    const s = this.shards[k]!;
    if (res) {
      s.status = res.record.status;
      if (res.recoveredAt !== undefined) s.recoveredAt = res.recoveredAt;
      if (res.recoveryPointAt !== undefined) s.recoveryPointAt = res.recoveryPointAt;
      if (res.failedStep) s.failedStep = res.failedStep;
      this.compensated += res.record.steps.filter((x) => x.compensation).length;
    } else {
      s.status = 'failed';
      const message = (err as Error)?.message ?? String(err);
      this.event(`shard ${k} (${s.workflowId}) failed: ${message}`);
      if (!this.failedStep) {
        this.failedStep = s.workflowId;
        this.failedMessage = message;
      }
      this.stopAll('abort');
    }
    // A closed shard will undo nothing more: whatever it imports is released.
    for (const id of this.partition.shards[k]!.imports) this.relayUndone(id, k);
  }

  /** Stops every execution: past the point of no return an abort or cancel halts (nothing undone). */
  stopAll(wanted: StopReason): void {
    if (this.committed) {
      // Past the commit nothing is stopped or undone; a shard that failed while closing still fails the run.
      if (wanted === 'abort') this.stopReason ??= this.engine.settle(wanted);
      else this.event(`${wanted} asked after the run committed: nothing is stopped or undone`);
      return;
    }
    const reason = this.engine.settle(wanted);
    if (wanted === 'cancel') this.engine.cancelled = true;
    if (this.stopReason && !(reason === 'rollback' && this.stopReason === 'halt')) return;
    this.stopReason = reason;
    this.engine.stop(reason);
    for (const s of this.shards) if (!this.closed.has(s.index)) this.control(s.index).stop = reason;
  }

  private relayExport(id: string): void {
    for (const k of this.partition.importers[id] ?? []) {
      if (k === ROOT) this.engine.importDone(id);
      else (this.control(k).imported ??= []).push(id);
    }
  }

  private relayUndone(id: string, by: number): void {
    const importers = this.partition.importers[id] ?? [];
    const set = this.undoneBy.get(id) ?? new Set<number>();
    if (set.has(by) || !importers.includes(by)) return;
    set.add(by);
    this.undoneBy.set(id, set);
    if (set.size < importers.length) return;
    const owner = ownerOfStepId(this.partition, id);
    if (owner === ROOT) this.engine.compensation.remoteUndone(id);
    else if (!this.closed.has(owner)) (this.control(owner).undone ??= []).push(id);
  }

  private control(k: number): ShardControl {
    let c = this.outbound.get(k);
    if (!c) this.outbound.set(k, (c = {}));
    return c;
  }

  private pending(): boolean {
    return (
      this.outbound.size > 0 ||
      this.forwards.length > 0 ||
      this.engine.outbox.exported.length > 0 ||
      this.engine.outbox.undone.length > 0
    );
  }

  private takeMail() {
    // The root's own exports and undos go through the same relay as the shards'.
    for (const id of this.engine.outbox.exported.splice(0)) this.relayExport(id);
    for (const id of this.engine.outbox.undone.splice(0)) this.relayUndone(id, ROOT);
    const controls = [...this.outbound].filter(([k]) => !this.closed.has(k));
    this.outbound.clear();
    return { controls, forwards: this.forwards.splice(0) };
  }

  private async deliver(batch: ReturnType<Root['takeMail']>): Promise<void> {
    const sends: Promise<void>[] = [];
    for (const [k, c] of batch.controls)
      sends.push(wf.getExternalWorkflowHandle(this.shards[k]!.workflowId).signal(msg.shardControlSignal, c));
    for (const f of batch.forwards)
      sends.push(wf.getExternalWorkflowHandle(this.shards[f.shard]!.workflowId).signal(f.signal, f.arg));
    // A shard that has already returned cannot be signalled; that is fine: it needs nothing more.
    await Promise.allSettled(sends);
  }

  /** Pause and resume go to every shard. */
  forward(signal: { name: string }, arg: unknown): void {
    for (const s of this.shards)
      if (!this.closed.has(s.index)) this.forwards.push({ shard: s.index, signal: signal.name, arg });
  }

  /** Checks what the root can about a decision on a shard's step: the shard checks the rest. */
  decisionProblem(d: StepDecisionInput, decision: DecisionKind): string | undefined {
    if (typeof d.by !== 'string' || d.by === '') return 'give {"step": "<step id>", "by": "<your name>"}';
    const shard = ownerOfStepId(this.partition, d.step);
    if (shard === ROOT) return `no step ${d.step} in this plan`;
    if (decision === 'approved' || decision === 'rejected' || decision === 'dismissed') {
      const p = this.partition.people.find((x) => x.id === d.step);
      if (!p) return `${d.step} is not an approval or prompt in this plan`;
      if (decision !== 'dismissed') {
        if (p.kind !== 'approval') return `${d.step} is a ${p.kind} step, not an approval`;
        if (!p.approvers?.includes(d.by))
          return `${d.by} is not an approver of ${d.step} (approvers: ${(p.approvers ?? []).join(', ')})`;
        if (this.decided.get(d.step)?.has(d.by)) return `${d.by} has already decided on ${d.step}`;
      } else if (p.kind === 'approval') return `${d.step} is an approval step, not a prompt`;
    }
    if (decision === 'done' || decision === 'blocked' || decision === 'skipped') {
      const p = this.partition.people.find((x) => x.id === d.step);
      if (p?.kind !== 'confirm') return `${d.step} is not a tabletop step of this plan`;
      if (decision === 'blocked' && !d.comment) return `say why ${d.step} is blocked: add "comment": "<reason>"`;
    }
    if (this.closed.has(shard)) return `${d.step} belongs to a part of the run that has already ended`;
    return undefined;
  }

  forwardDecision(d: StepDecisionInput, decision: DecisionKind, fromSignal: boolean): string {
    const problem = fromSignal ? this.decisionProblem(d, decision) : undefined;
    if (problem) {
      this.event(`ignored ${decision} signal for ${d?.step} by ${d?.by}: ${problem}`);
      return problem;
    }
    const shard = ownerOfStepId(this.partition, d.step);
    const signal = DECISION_SIGNALS[decision]!;
    if (decision === 'approved' || decision === 'rejected') {
      const set = this.decided.get(d.step) ?? new Set<string>();
      set.add(d.by);
      this.decided.set(d.step, set);
    }
    this.forwards.push({ shard, signal: signal.name, arg: d });
    this.event(`${d.step}: ${decision} by ${d.by}, passed to shard ${shard}`);
    return `${decision} ${d.step} (passed to ${this.shards[shard]!.workflowId})`;
  }

  recoveryTimes(): { recoveredAt?: number; recoveryPointAt?: number } {
    const own = recoveryTimes(this.record.steps);
    const ends = [own.recoveredAt, ...this.shards.map((s) => s.recoveredAt)].filter((x) => x !== undefined);
    const points = [own.recoveryPointAt, ...this.shards.map((s) => s.recoveryPointAt)].filter((x) => x !== undefined);
    const out: { recoveredAt?: number; recoveryPointAt?: number } = {};
    if (ends.length) out.recoveredAt = Math.max(...ends);
    if (points.length) out.recoveryPointAt = Math.min(...points);
    return out;
  }

  private childOptions(index: number): { workflowId: string; taskQueue: string; args: [ShardInput] } {
    const spec = this.partition.shards[index]!;
    const source: ShardInput['source'] =
      'plan' in this.input
        ? { plan: { ...this.plan, partition: undefined, steps: sliceSteps(this.input.plan, this.partition, index) } }
        : {
            ...this.compiledWith!,
            runbook: this.input.runbook,
            mode: this.input.mode,
            shardSize: this.partition.shardSize,
            planHash: this.plan.planHash,
          };
    return {
      workflowId: this.shards[index]!.workflowId,
      taskQueue: wf.workflowInfo().taskQueue,
      args: [{ runId: wf.workflowInfo().workflowId, parentId: wf.workflowInfo().workflowId, shard: spec, source }],
    };
  }
}
