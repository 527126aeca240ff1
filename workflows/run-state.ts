/**
 * One run of `runRecoveryPlan` (workflows/index.ts) as the state its handlers and its main flow share: the
 * record, the engine of its own steps and, for a large plan, the root coordinator (workflows/root.ts).
 *
 * The handlers are registered before the first await, so no early signal is lost: until the plan is
 * compiled there is no engine, and decisions and a pause are kept here; `adopt` applies them once it is.
 *
 * Deterministic: imports only @temporalio/workflow and pure modules; activities by `import type`.
 */
import * as wf from '@temporalio/workflow';
import type { CompileInput } from '../contracts/activities';
import type { Mode, Plan } from '../contracts/plan';
import { eventLog, newRecord } from './common';
import { decideWindow, windowProblem } from './commit-window';
import { registerDecisionHandlers } from './decisions';
import type { StepEngine, StopReason } from './engine';
import * as msg from './messages';
import type { StepDecisionInput } from './messages';
import type { DecisionKind } from './people';
import type { RunRecord } from '../contracts/record';
import type { Root } from './root';

/** A failover's choices on the command line: the recovery point, and data loss accepted up front. */
export interface FailoverChoices {
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

export class RunState {
  readonly info = wf.workflowInfo();
  readonly record: RunRecord;
  readonly event: (text: string) => void;
  /** The engine of the run's own steps (all of them, or a large plan's plan-level ones), once compiled. */
  engine: StepEngine | undefined;
  /** A large plan's root coordinator, once compiled. */
  root: Root | undefined;
  /** Decisions that came before the plan was compiled, and a drill's scripted answers. */
  readonly early: { input: StepDecisionInput; decision: DecisionKind }[] = [];
  /** Paused before the plan was compiled. */
  paused = false;
  /** How the plan was compiled, for shards to compile their slices the same way. */
  compiledWith: CompileInput | undefined;

  constructor() {
    this.record = newRecord(this.info.workflowId);
    this.event = eventLog(this.record);
  }

  /** The plan is compiled: what people decided and a pause that came before go to the engine (and the shards). */
  adopt(engine: StepEngine, root: Root | undefined): void {
    this.engine = engine;
    this.root = root;
    for (const e of this.early.splice(0)) this.applyDecision(e.input, e.decision, true);
    if (this.paused) {
      engine.pause();
      root?.forward(msg.pauseSignal, {});
    }
  }

  /** Stops the run: every execution of a large plan, or the one engine. */
  stop(reason: StopReason): void {
    if (this.root) this.root.stopAll(reason);
    else this.engine!.stop(reason);
  }

  registerHandlers(): void {
    const record = this.record;
    const event = this.event;
    registerDecisionHandlers({
      problem: (d, decision) => this.decisionProblem(d, decision),
      apply: (d, decision, fromSignal) => this.applyDecision(d, decision, fromSignal),
      ready: () => this.engine !== undefined,
      keep: (d, decision) => this.early.push({ input: d, decision }),
      ignored: event,
      stepOf: (id) => this.engine?.step(id),
    });
    wf.setHandler(msg.pauseSignal, (d) => {
      this.paused = true;
      this.engine?.pause();
      this.root?.forward(msg.pauseSignal, d ?? {});
      if (record.status === 'running') record.status = 'paused';
      event(`paused${d?.by ? ` by ${d.by}` : ''}: no new step starts until resume`);
    });
    wf.setHandler(msg.resumeSignal, (d) => {
      this.paused = false;
      this.engine?.resume();
      this.root?.forward(msg.resumeSignal, d ?? {});
      if (record.status === 'paused') record.status = 'running';
      event(`resumed${d?.by ? ` by ${d.by}` : ''}`);
    });
    wf.setHandler(msg.commitUpdate, (c) => decideWindow(this, 'commit', c), {
      validator: (c) => throwIf(windowProblem(this, 'commit', c)),
    });
    wf.setHandler(msg.commitSignal, (c) => void decideWindow(this, 'commit', c));
    wf.setHandler(msg.rollbackUpdate, (c) => decideWindow(this, 'rollback', c), {
      validator: (c) => throwIf(windowProblem(this, 'rollback', c)),
    });
    wf.setHandler(msg.rollbackSignal, (c) => void decideWindow(this, 'rollback', c));
    wf.setHandler(msg.shardReportSignal, (r) => this.root?.onReport(r));
    wf.setHandler(msg.progressQuery, () => record);
    wf.setHandler(msg.progressSinceQuery, (cursor) => msg.progressSince(record, cursor));
  }

  /** A decision on a step of the root's own engine goes there; one on a shard's step, to the root to forward. */
  private decisionProblem(d: StepDecisionInput, decision: DecisionKind): string | undefined {
    const { engine, root } = this;
    if (!engine) return 'the run is still compiling its plan; try again in a moment';
    if (root && d && typeof d.step === 'string' && !engine.step(d.step)) return root.decisionProblem(d, decision);
    return engine.people.decisionProblem(d, decision);
  }

  private applyDecision(d: StepDecisionInput, decision: DecisionKind, fromSignal: boolean): string {
    const engine = this.engine!;
    if (this.root && d && typeof d.step === 'string' && !engine.step(d.step))
      return this.root.forwardDecision(d, decision, fromSignal);
    return engine.people.decide(d, decision, fromSignal);
  }
}

function throwIf(problem: string | undefined): void {
  if (problem) throw new Error(problem);
}
