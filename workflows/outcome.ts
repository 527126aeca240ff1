/**
 * How a run of `runRecoveryPlan` ends, once its steps, commit window and compensation are over: its status,
 * the RTO and RPO it achieved, its memo for `drover history`; a failed or cancelled run throws, its record
 * in the failure's details.
 *
 * Deterministic: imports only @temporalio/workflow and pure modules.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/workflow';
import { scoreDrill } from '../reports/score';
import { recoveryTimes } from './engine';
import type { StepEngine } from './engine';
import type { RunRecord, RunSummary } from '../contracts/record';
import type { Root } from './root';
import type { RunState } from './run-state';

/** The run's verdict: the record it returns, or the failure it throws. */
export function outcome(run: RunState, engine: StepEngine, root: Root | undefined): RunRecord {
  const { record, event } = run;
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
    publish(record);
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
    publish(record);
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
  publish(record);
  return record;
}

/** The run's outcome in its memo, so `drover history` reads it from Temporal's visibility. */
function publish(record: RunRecord): void {
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
