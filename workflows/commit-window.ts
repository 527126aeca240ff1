/**
 * The commit window of a failover mode past its point of no return: the recovered workloads run while people
 * check them; `commit` keeps them, `rollback` undoes the recovery (Zerto's commit window). The runbook's
 * `commit` block may end it by itself after a timeout. A rollback may also come before the window opens: it
 * stops the run first.
 *
 * Deterministic: imports only @temporalio/workflow and pure modules.
 */
import * as wf from '@temporalio/workflow';
import { FAILOVER_MODES } from '../contracts/plan';
import type { Plan } from '../contracts/plan';
import type { StepEngine } from './engine';
import type { CommitInput } from './messages';
import type { RunState } from './run-state';

/** Opens the window once every execution has finished its steps, and waits for a decision or its timeout. */
export async function commitWindow(run: RunState, plan: Plan, engine: StepEngine): Promise<void> {
  const { record, event, info } = run;
  const window = plan.commit;
  if (!window || !engine.pastNoReturn || engine.stopping) return;
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
      const done = () => record.commitWindow!.decision !== undefined || engine.stopping !== undefined;
      if (window.timeoutMs > 0) return wf.condition(done, window.timeoutMs);
      await wf.condition(done);
      return true;
    });
  } catch (err) {
    if (!wf.isCancellation(err)) throw err;
    run.stop('cancel');
    return;
  }
  if (!decided) {
    record.commitWindow.decision = { decision: window.onTimeout, by: 'timeout', at: Date.now() };
    event(`commit window timed out: ${window.onTimeout}, as the runbook says`);
    if (window.onTimeout === 'rollback') run.stop('rollback');
  }
}

/** Why `commit` or `rollback` cannot be taken now, or undefined when it can. */
export function windowProblem(run: RunState, decision: 'commit' | 'rollback', c: CommitInput): string | undefined {
  const { record, engine, root } = run;
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
export function decideWindow(run: RunState, decision: 'commit' | 'rollback', c: CommitInput): string {
  const { record, event } = run;
  const problem = windowProblem(run, decision, c);
  if (problem) {
    event(`ignored ${decision} by ${c?.by}: ${problem}`);
    return problem;
  }
  const entry = { decision, by: c.by, at: Date.now(), ...(c.comment ? { comment: c.comment } : {}) };
  record.commitWindow ??= { openedAt: Date.now(), timeoutMs: 0, onTimeout: 'commit' };
  record.commitWindow.decision = entry;
  event(`${decision} by ${c.by}${c.comment ? ` (${c.comment})` : ''}`);
  if (decision === 'rollback') run.stop('rollback');
  return decision === 'commit'
    ? 'committed: the recovered workloads stay as they are'
    : 'rolling back in reverse dependency order';
}
