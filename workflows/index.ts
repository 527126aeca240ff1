/**
 * `runRecoveryPlan`: one run of a compiled plan, as a durable Temporal workflow.
 *
 * A plan that fits one execution runs in a single StepEngine (workflows/engine.ts). A large plan arrives as
 * a skeleton (compiler/partition.ts): this execution becomes the root. It runs the plan-level steps itself,
 * starts one child workflow per shard (workflows/shard.ts), relays each exported step to the executions that
 * import it (and, in compensation, each importer's "undone" back to the owner), forwards people's decisions
 * to the shard that owns the step, stops every shard when one fails or the run is cancelled, and tells
 * them to return when all are done. README, Scale, draws it.
 *
 * Deterministic: imports only @temporalio/workflow and pure modules; activities by `import type`.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/workflow';
import type { SignalDefinition } from '@temporalio/common';
import { ROOT, ownerOfStepId, partitionPlan, sliceSteps, wholeBudget } from '../compiler/partition';
import { FAILOVER_MODES } from '../compiler/plan';
import type { Mode, Partition, Plan } from '../compiler/plan';
import { compileInActivity, courier, describePlan, eventLog, newRecord, prepareDrillInActivity } from './common';
import type { CompileInput } from '../activities/types';
import { registerDecisionHandlers } from './decisions';
import { StepEngine, recoveryTimes } from './engine';
import type { StopReason } from './engine';
import type { DecisionKind } from './people';
import { heldWorkloads, registryId } from './hold';
import { scoreDrill } from '../reports/score';
import type { PreflightActivities } from '../activities';
import * as msg from './messages';
import type { CommitInput, ShardControl, ShardReport, StepDecisionInput } from './messages';
import type { RunRecord, RunSummary, ShardResult, ShardSummary } from './record';
import { runPlanShard } from './shard';
import type { ShardInput } from './shard';

export { runPlanShard } from './shard';
export { holdWorkload, workloadHolds } from './hold';

/** A failover's choices on the command line: the recovery point, and data loss accepted up front. */
interface FailoverChoices {
  /** `latest` (the default), a time (the newest point at or before it), or a checkpoint's name. */
  recoveryPoint?: string;
  /** A disaster recovery from a point older than the RPO goes on without asking. */
  acceptDataLoss?: boolean;
}

export type RunInput =
  | ({
      runbook: string;
      mode: Mode;
      /** A simulated drill: the scenario (runbooks/scenarios/<name>.yaml next to the runbook) and its seed. */
      scenario?: string;
      seed?: number;
      /** Activity steps per shard (README, Scale); tests make it small. */ shardSize?: number;
    } & FailoverChoices)
  | ({ plan: Plan; shardSize?: number } & FailoverChoices);

export async function runRecoveryPlan(input: RunInput): Promise<RunRecord> {
  const info = wf.workflowInfo();
  const record = newRecord(info.workflowId);
  const event = eventLog(record);

  // The handlers are registered before the first await, so no early signal is lost: until the plan is
  // compiled they are kept, and applied once it is.
  let engine: StepEngine | undefined;
  let root: Root | undefined;
  const early: { input: StepDecisionInput; decision: DecisionKind }[] = [];
  let paused = false;
  /** How the plan was compiled, for shards to compile their slices the same way. */
  let drillSource: CompileInput | undefined;
  registerHandlers();

  const compiled = await compilePlan(input);
  const partition = compiled.partition ?? ('plan' in input ? partitionPlan(compiled, input.shardSize) : undefined);
  describePlan(record, compiled);
  const failover = FAILOVER_MODES.includes(compiled.mode);
  if (failover && (input.recoveryPoint !== undefined || input.acceptDataLoss))
    record.recoveryPoint = {
      requested: input.recoveryPoint ?? 'latest',
      acceptDataLoss: input.acceptDataLoss === true,
    };
  // eslint-disable-next-line prefer-const -- declared before the handlers, which read it, and set once compiled
  engine = new StepEngine({
    steps: partition ? (compiled.partition ? compiled.steps : sliceSteps(compiled, partition, ROOT)) : compiled.steps,
    sites: compiled.sites,
    budget: partition ? partition.root.budget : wholeBudget(compiled),
    runId: info.workflowId,
    ...(compiled.simulation ? { simulation: compiled.simulation } : {}),
    exports: new Set(partition?.root.exports ?? []),
    record,
    event,
    ...(failover ? { promote: { failoverAt: record.startedAt, ...failoverChoices(input) } } : {}),
  });
  const theEngine = engine;
  const activitySteps = partition
    ? partition.root.activitySteps + partition.shards.reduce((n, s) => n + s.activitySteps, 0)
    : compiled.steps.filter((s) => s.kind !== 'barrier').length;
  event(
    `run of ${compiled.name} in ${compiled.mode} mode started (plan ${compiled.planHash.slice(0, 12)}, ${activitySteps} steps${partition ? `, in ${partition.shards.length} shards` : ''})`,
  );
  if (partition) root = new Root(compiled, partition, input, drillSource, engine, record, event);
  for (const e of early.splice(0)) applyDecision(e.input, e.decision, true);
  if (paused) {
    engine.pause();
    root?.forward(msg.pauseSignal, {});
  }

  const holds = await preflight();
  try {
    if (root) await root.run(commitWindow);
    else {
      await engine.run();
      if (!engine.stopping) await commitWindow();
      if (engine.stopping) {
        record.status = engine.stopping === 'rollback' ? 'rolling-back' : 'compensating';
        await engine.compensation.run();
      }
    }
  } finally {
    await wf.CancellationScope.nonCancellable(() => release(holds));
  }

  // ---- the result ----
  const stopping = root?.stopReason ?? engine.stopping;
  record.endedAt = Date.now();
  const times = root ? root.recoveryTimes() : recoveryTimes(record.steps);
  if (times.recoveredAt !== undefined && (!stopping || stopping === 'halt'))
    record.achieved.rtoMs = times.recoveredAt - record.startedAt;
  if (times.recoveryPointAt !== undefined)
    record.achieved.rpoMs = Math.max(0, record.startedAt - times.recoveryPointAt);
  const compensated = engine.compensation.count + (root?.compensated ?? 0);
  const kept = 'what was recovered is kept as it is: run it again to continue where it stopped';
  if (stopping === 'cancel' || (stopping === 'halt' && engine.cancelled)) {
    record.status = stopping === 'halt' ? 'stopped' : 'cancelled';
    event(stopping === 'halt' ? `run cancelled past the point of no return; ${kept}` : 'run cancelled');
    publish();
    // The SDK drops a cancelled workflow's details: reports read the record with the progress query.
    throw new wf.CancelledFailure(
      stopping === 'halt' ? `run cancelled; ${kept}` : 'run cancelled; completed steps were compensated',
    );
  }
  if (stopping === 'abort' || stopping === 'halt') {
    record.status = stopping === 'halt' ? 'stopped' : 'failed';
    record.failedStep = engine.failedStep ?? root?.failedStep;
    const message = engine.failedStep
      ? (engine.recs.get(engine.failedStep)!.error?.message ?? 'unknown error')
      : (root?.failedMessage ?? 'unknown error');
    publish();
    throw ApplicationFailure.create({
      type: 'RunFailed',
      nonRetryable: true,
      message: `step ${record.failedStep} failed: ${message}; ${stopping === 'halt' ? kept : `${compensated} completed step(s) compensated`}`,
      details: [record],
    });
  }
  if (stopping === 'rollback') {
    record.status = 'rolled-back';
    event(`rolled back: ${compensated} step(s) undone in reverse dependency order`);
  } else {
    record.status = 'succeeded';
    event(record.commitWindow ? 'run committed' : 'run succeeded');
  }
  publish();
  return record;

  /**
   * Failover modes past their point of no return: the recovered workloads run while people check them;
   * `commit` keeps them, `rollback` undoes the recovery (Zerto's commit window). The runbook's `commit`
   * block may end it by itself after a timeout.
   */
  async function commitWindow(): Promise<void> {
    const window = compiled.commit;
    if (!window || !theEngine.pastNoReturn || theEngine.stopping) return;
    record.commitWindow = { openedAt: Date.now(), timeoutMs: window.timeoutMs, onTimeout: window.onTimeout };
    if (record.drill) {
      // A drill's recovery is simulated on its own site: it is scored as recovered and committed at once.
      record.commitWindow.decision = { decision: 'commit', by: 'drill', at: Date.now() };
      return;
    }
    record.status = 'awaiting-commit';
    event(
      `recovered; awaiting commit: \`drover commit ${info.workflowId} --by <name>\` keeps it, \`drover rollback ${info.workflowId} --by <name>\` undoes it${window.timeoutMs ? ` (without either, ${window.onTimeout} in ${Math.round(window.timeoutMs / 1000)}s, as the runbook says)` : ''}`,
    );
    let decided = true;
    try {
      decided = await wf.CancellationScope.cancellable(async () => {
        const done = () => record.commitWindow!.decision !== undefined || theEngine.stopping !== undefined;
        if (window.timeoutMs > 0) return wf.condition(done, window.timeoutMs);
        await wf.condition(done);
        return true;
      });
    } catch (err) {
      if (!wf.isCancellation(err)) throw err;
      stopRun('cancel');
      return;
    }
    if (!decided) {
      record.commitWindow.decision = { decision: window.onTimeout, by: 'timeout', at: Date.now() };
      event(`commit window timed out: ${window.onTimeout}, as the runbook says`);
      if (window.onTimeout === 'rollback') stopRun('rollback');
    }
  }

  function stopRun(reason: StopReason): void {
    if (root) root.stopAll(reason);
    else theEngine.stop(reason);
  }

  /**
   * Before anything runs: every site has a worker, and the run holds its workloads (one recovery at a time
   * per workload). Either failure ends the run at once, with nothing done. Runs recorded before these
   * checks existed replay without them.
   */
  async function preflight(): Promise<string | undefined> {
    if (!wf.patched('drover-preflight-v1')) return undefined;
    const acts = wf.proxyActivities<PreflightActivities>({
      taskQueue: info.taskQueue,
      startToCloseTimeout: '5 minutes',
      heartbeatTimeout: '30 seconds',
      retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['InUse', 'SiteUnserved'] },
    });
    const workloads = record.drill ? [] : heldWorkloads(compiled);
    const registry = workloads.length > 0 ? registryId(compiled, info.taskQueue) : undefined;
    try {
      await acts.checkSites({
        sites: Object.values(compiled.sites).map((s) => ({ site: s.name, taskQueue: s.taskQueue })),
      });
      if (registry)
        await acts.holdWorkloads({
          registry,
          hold: { holder: info.workflowId, plan: compiled.name, mode: compiled.mode, workloads },
          taskQueue: info.taskQueue,
        });
    } catch (err) {
      const cause = (err as wf.ActivityFailure).cause as ApplicationFailure | undefined;
      record.status = 'failed';
      record.endedAt = Date.now();
      event(`not started: ${cause?.message ?? String(err)}`);
      throw ApplicationFailure.create({
        type: cause?.type ?? 'PreflightFailed',
        nonRetryable: true,
        message: cause?.message ?? String(err),
        details: [record],
      });
    }
    return registry;
  }

  async function release(registry: string | undefined): Promise<void> {
    if (!registry) return;
    const acts = wf.proxyActivities<PreflightActivities>({
      taskQueue: info.taskQueue,
      startToCloseTimeout: '5 minutes',
      retry: { maximumAttempts: 10 },
    });
    await acts.releaseWorkloads({ registry, holder: info.workflowId }).catch((e: unknown) => {
      // A hold left behind is taken over by the next run that asks (activities/preflight.ts).
      event(`could not release the workload holds: ${(e as Error).message}`);
    });
  }

  // ---------------------------------------------------------------------------------------------

  /** The run's outcome in its memo, so `drover history` reads it from Temporal's visibility. */
  function publish(): void {
    // Runs recorded before the memo existed replay without it.
    if (!wf.patched('drover-memo-v1')) return;
    const summary: RunSummary = {
      plan: record.plan.name,
      mode: record.plan.mode,
      status: record.status,
      startedAt: record.startedAt,
      endedAt: record.endedAt ?? Date.now(),
      objectives: record.objectives,
      ...(record.achieved.rtoMs !== undefined ? { rtoMs: record.achieved.rtoMs } : {}),
      ...(record.achieved.rpoMs !== undefined ? { rpoMs: record.achieved.rpoMs } : {}),
      ...(record.failedStep ? { failedStep: record.failedStep } : {}),
      ...(record.drill ? { scenario: record.drill.scenario, seed: record.drill.seed } : {}),
    };
    const score = record.drill && wf.patched('drover-memo-verdict-v1') ? scoreDrill(record) : undefined;
    if (score) {
      summary.verdict = score.passed ? 'PASS' : 'FAIL';
      summary.reasons = score.reasons.slice(0, 10);
    }
    wf.upsertMemo({ drover: summary });
  }

  async function compilePlan(inp: RunInput): Promise<Plan> {
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
        simulationDir: `.drover/drills/${info.workflowId}`,
        ...(inp.seed !== undefined ? { seed: inp.seed } : {}),
      });
      const setup = await prepareDrillInActivity(compileInput);
      record.drill = { scenario: setup.scenario, description: setup.description, file: setup.file, seed: setup.seed };
      for (const a of setup.answers) {
        const decision = a.decision === 'reject' ? 'rejected' : a.decision === 'dismiss' ? 'dismissed' : 'approved';
        early.push({ input: { step: a.step, by: a.by, comment: 'scripted by the drill scenario' }, decision });
      }
    }
    drillSource = compileInput;
    return compileInActivity(compileInput);
  }

  function registerHandlers(): void {
    registerDecisionHandlers({
      problem: decisionProblem,
      apply: applyDecision,
      ready: () => engine !== undefined,
      keep: (d, decision) => early.push({ input: d, decision }),
      ignored: event,
      stepOf: (id) => engine?.step(id),
    });
    wf.setHandler(msg.pauseSignal, (d) => {
      paused = true;
      engine?.pause();
      root?.forward(msg.pauseSignal, d ?? {});
      if (record.status === 'running') record.status = 'paused';
      event(`paused${d?.by ? ` by ${d.by}` : ''}: no new step starts until resume`);
    });
    wf.setHandler(msg.resumeSignal, (d) => {
      paused = false;
      engine?.resume();
      root?.forward(msg.resumeSignal, d ?? {});
      if (record.status === 'paused') record.status = 'running';
      event(`resumed${d?.by ? ` by ${d.by}` : ''}`);
    });
    wf.setHandler(msg.commitUpdate, (c) => decideWindow('commit', c), {
      validator: (c) => throwIf(windowProblem('commit', c)),
    });
    wf.setHandler(msg.commitSignal, (c) => void decideWindow('commit', c));
    wf.setHandler(msg.rollbackUpdate, (c) => decideWindow('rollback', c), {
      validator: (c) => throwIf(windowProblem('rollback', c)),
    });
    wf.setHandler(msg.rollbackSignal, (c) => void decideWindow('rollback', c));
    wf.setHandler(msg.shardReportSignal, (r) => root?.onReport(r));
    wf.setHandler(msg.progressQuery, () => record);
    wf.setHandler(msg.progressSinceQuery, (cursor) => msg.progressSince(record, cursor));
  }

  function windowProblem(decision: 'commit' | 'rollback', c: CommitInput): string | undefined {
    if (!c || typeof c.by !== 'string' || c.by === '') return 'give {"by": "<your name>"}';
    if (!engine) return 'the run is still compiling its plan';
    if (!FAILOVER_MODES.includes(record.plan.mode))
      return `a ${record.plan.mode} run has no commit window: only planned-migration, disaster-recovery and failback do`;
    if (record.commitWindow?.decision)
      return `the run was already ${record.commitWindow.decision.decision}ed by ${record.commitWindow.decision.by}`;
    if (decision === 'commit' && record.status !== 'awaiting-commit')
      return `the run is ${record.status}: it can be committed once it has recovered everything (awaiting-commit)`;
    if (decision === 'rollback' && (engine.stopping || root?.stopReason))
      return `the run is already stopping (${root?.stopReason ?? engine.stopping})`;
    return undefined;
  }

  /** Commit or roll back; a rollback before the window opens stops the run first. */
  function decideWindow(decision: 'commit' | 'rollback', c: CommitInput): string {
    const problem = windowProblem(decision, c);
    if (problem) {
      event(`ignored ${decision} by ${c?.by}: ${problem}`);
      return problem;
    }
    const entry = { decision, by: c.by, at: Date.now(), ...(c.comment ? { comment: c.comment } : {}) };
    record.commitWindow ??= { openedAt: Date.now(), timeoutMs: 0, onTimeout: 'commit' };
    record.commitWindow.decision = entry;
    event(`${decision} by ${c.by}${c.comment ? ` (${c.comment})` : ''}`);
    if (decision === 'rollback') stopRun('rollback');
    return decision === 'commit'
      ? 'committed: the recovered workloads stay as they are'
      : 'rolling back in reverse dependency order';
  }

  function decisionProblem(d: StepDecisionInput, decision: DecisionKind): string | undefined {
    if (!engine) return 'the run is still compiling its plan; try again in a moment';
    if (root && d && typeof d.step === 'string' && !engine.step(d.step)) return root.decisionProblem(d, decision);
    return engine.people.decisionProblem(d, decision);
  }

  function applyDecision(d: StepDecisionInput, decision: DecisionKind, fromSignal: boolean): string {
    if (root && d && typeof d.step === 'string' && !engine!.step(d.step))
      return root.forwardDecision(d, decision, fromSignal);
    return engine!.people.decide(d, decision, fromSignal);
  }
}

function failoverChoices(input: FailoverChoices): { recoveryPoint?: string; acceptDataLoss?: boolean } {
  return {
    ...(typeof input.recoveryPoint === 'string' ? { recoveryPoint: input.recoveryPoint } : {}),
    ...(input.acceptDataLoss === true ? { acceptDataLoss: true } : {}),
  };
}

function throwIf(problem: string | undefined): void {
  if (problem) throw new Error(problem);
}

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
class Root {
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
      for (const s of this.shards) this.control(s.index).commit = true;
    } else {
      this.record.status = this.stopReason === 'rollback' ? 'rolling-back' : 'compensating';
      await this.engine.compensation.run();
    }
    await wf.CancellationScope.nonCancellable(async () => {
      await wf.condition(() => this.closed.size === n);
      await mail;
    });
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
