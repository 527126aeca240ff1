/**
 * Compensation, the part of a step engine (workflows/engine.ts) that undoes what the run did once it stops:
 * in reverse dependency order, as a graph. A step is undone once everything that depended on it has been
 * undone (across executions, through `remoteUndone` and the engine's `undone` outbox), so independent undos
 * run in parallel and a dependency is never undone under something still using it. Runs in a non-cancellable
 * scope; failures are recorded, and the rest still run.
 *
 * Deterministic: imports only @temporalio/workflow and pure modules; activities by `import type`.
 */
import * as wf from '@temporalio/workflow';
import type { StepOutcome } from '../contracts/activities';
import type { PlanStep, RetryPolicy, StepKind } from '../contracts/plan';
import type { StopReason } from './engine';
import { describe } from './failures';
import type { StepRecord } from '../contracts/record';
import type { Slots } from './slots';

/** What compensation reads and uses of its engine. */
export interface CompensationHost {
  /** The execution's steps, in topological order. */
  readonly steps: readonly PlanStep[];
  /** Local steps that other executions depend on. */
  readonly exports: ReadonlySet<string>;
  readonly byId: ReadonlyMap<string, PlanStep>;
  /** Local dependents of every step id seen, local or imported. */
  readonly dependents: ReadonlyMap<string, string[]>;
  readonly recs: ReadonlyMap<string, StepRecord>;
  readonly slots: Slots;
  /** Where imports whose local dependents are all undone go, for the execution's courier. */
  readonly outbox: { undone: string[] };
  stopping(): StopReason | undefined;
  /** Schedules the activity of `kind` for `step` on its site. */
  activity(step: PlanStep, kind: StepKind, retry: RetryPolicy, timeoutMs: number): Promise<StepOutcome>;
  event(text: string): void;
  /** Steps that may have run when the run stopped, though it could not learn so (a chain gone silent). */
  readonly cutOff: ReadonlySet<string>;
}

export class Compensation {
  /** Activity steps compensated (successfully or not). */
  count = 0;

  private readonly remoteUndoneIds: string[] = [];

  constructor(private readonly host: CompensationHost) {}

  /** Every execution that imports local step `id` has undone its dependents of it. */
  remoteUndone(id: string): void {
    if (this.host.byId.has(id)) this.remoteUndoneIds.push(id);
  }

  /** Steps whose compensation will run: completed ones, and on cancel those cut off mid-way (undo is idempotent). */
  private needsUndo(s: PlanStep): boolean {
    const status = this.host.recs.get(s.id)!.status;
    const stopping = this.host.stopping();
    if (s.compensation === undefined || stopping === 'halt') return false;
    // A rollback undoes whatever ran, even a step that failed half-way (every undo is idempotent).
    if (stopping === 'rollback') return status !== 'pending' && status !== 'not-run';
    if (status === 'running' && this.host.cutOff.has(s.id)) return true;
    return status === 'succeeded' || (stopping === 'cancel' && status === 'running');
  }

  /** Undo, in reverse dependency order, as a graph. Never cancelled. */
  async run(): Promise<void> {
    const { steps, exports, byId, dependents, slots } = this.host;
    const toUndo = steps.filter((s) => this.needsUndo(s)).length;
    const involved = toUndo > 0 || exports.size > 0 || [...dependents.keys()].some((d) => !byId.has(d));
    if (!involved) return;
    if (toUndo > 0) this.host.event(`compensating ${toUndo} step(s) in reverse dependency order`);
    // A step is undone after all its local dependents, and, when exported, after every importer says so.
    const waiting = new Map(
      steps.map((s) => [s.id, (dependents.get(s.id)?.length ?? 0) + (exports.has(s.id) ? 1 : 0)]),
    );
    const importWaiting = new Map<string, number>();
    for (const [d, list] of dependents) if (!byId.has(d)) importWaiting.set(d, list.length);
    const ready: string[] = [];
    const active = new Set<string>();
    const undone: string[] = [];
    let left = steps.length;
    const markUndone = (id: string) => {
      left--;
      for (const d of byId.get(id)!.dependsOn) {
        if (byId.has(d)) {
          const n = waiting.get(d)! - 1;
          waiting.set(d, n);
          if (n === 0) ready.push(d);
        } else {
          const n = importWaiting.get(d)! - 1;
          importWaiting.set(d, n);
          if (n === 0) this.host.outbox.undone.push(d);
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
          const s = byId.get(id)!;
          if (!this.needsUndo(s)) {
            markUndone(id);
            continue;
          }
          if (!slots.has(s)) {
            held.push(id);
            continue;
          }
          active.add(id);
          slots.take(s);
          this.undo(s).then(() => {
            slots.give(s);
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
    const rec = this.host.recs.get(s.id)!;
    const startedAt = Date.now();
    try {
      const out = await this.host.activity(s, c.kind, c.retry, c.timeoutMs);
      rec.compensation = { kind: c.kind, status: 'succeeded', startedAt, endedAt: Date.now(), message: out.message };
    } catch (err) {
      const error = describe(err).message;
      rec.compensation = { kind: c.kind, status: 'failed', startedAt, endedAt: Date.now(), error };
      this.host.event(`compensation ${c.kind} of ${s.id} failed: ${error}`);
    }
    this.count++;
  }
}
