/**
 * How people and tools talk to a running plan. Each action is an Update (validated before it enters
 * history, and answered) and also a Signal of the same name, so `temporal workflow signal` works too.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { RunRecord } from '../contracts/record';

export interface StepDecisionInput {
  step: string;
  by: string;
  comment?: string;
  /** An approval signed with the approver's Ed25519 key (security/approval-message.ts says what is signed). */
  signature?: { at: string; value: string };
}

/** Approve an approval step; counts toward its quorum. Before the run reaches the gate is fine. */
export const approveUpdate = defineUpdate<string, [StepDecisionInput]>('approve');
export const approveSignal = defineSignal<[StepDecisionInput]>('approve');
/** Reject an approval step: it fails, with the step's `onFailure`. */
export const rejectUpdate = defineUpdate<string, [StepDecisionInput]>('reject');
export const rejectSignal = defineSignal<[StepDecisionInput]>('reject');
/** Dismiss a prompt (or confirm a tabletop step), letting the run go on. */
export const dismissUpdate = defineUpdate<string, [StepDecisionInput]>('dismiss');
export const dismissSignal = defineSignal<[StepDecisionInput]>('dismiss');
/** After a failure with `onFailure: pause`: run the step again, or skip it. */
export const retryStepUpdate = defineUpdate<string, [StepDecisionInput]>('retryStep');
export const retryStepSignal = defineSignal<[StepDecisionInput]>('retryStep');
export const skipStepUpdate = defineUpdate<string, [StepDecisionInput]>('skipStep');
export const skipStepSignal = defineSignal<[StepDecisionInput]>('skipStep');

/** Tabletop: the participants' answer for a step they walked: done, blocked (say why in `comment`), or skipped. */
export interface AnswerInput extends StepDecisionInput {
  outcome: 'done' | 'blocked' | 'skipped';
}
export const TABLETOP_OUTCOMES = ['done', 'blocked', 'skipped'] as const;
export const answerUpdate = defineUpdate<string, [AnswerInput]>('answer');
export const answerSignal = defineSignal<[AnswerInput]>('answer');

export interface ByInput {
  by?: string;
}
/** Stop starting new steps (running ones finish); `resume` goes on. */
export const pauseSignal = defineSignal<[ByInput?]>('pause');
export const resumeSignal = defineSignal<[ByInput?]>('resume');

/** Failover modes, in the commit window: keep the recovery (`commit`), or undo it in reverse dependency order. */
export interface CommitInput {
  by: string;
  comment?: string;
}
export const commitUpdate = defineUpdate<string, [CommitInput]>('commit');
export const commitSignal = defineSignal<[CommitInput]>('commit');
/** Undo the recovery, in reverse dependency order; also while paused or running (it stops the run first). */
export const rollbackUpdate = defineUpdate<string, [CommitInput]>('rollback');
export const rollbackSignal = defineSignal<[CommitInput]>('rollback');

/** Every step's status, attempts, times and last error. */
export const progressQuery = defineQuery<RunRecord>('progress');

/** What changed in a run record since a time (the workflow's clock): what `--follow` polls, not the whole record. */
export interface ProgressDelta {
  status: RunRecord['status'];
  /** The newest time in the record: pass it as `since` next. */
  now: number;
  /** The events from `from` on, and how many there are in all (the next `from`). */
  events: RunRecord['events'];
  eventCount: number;
  /** Steps that started, ended, were decided or compensated since, and those waiting for a person. */
  steps: RunRecord['steps'];
  shards?: RunRecord['shards'];
}
export interface ProgressCursor {
  since: number;
  /** Events already seen. */
  from: number;
}
export const progressSinceQuery = defineQuery<ProgressDelta, [ProgressCursor]>('progressSince');

/** The part of `record` that changed at or after `since`, and its events from `from`. Pure: the workflows answer `progressSince` with it. */
export function progressSince(record: RunRecord, { since, from }: ProgressCursor): ProgressDelta {
  const timesOf = (s: RunRecord['steps'][number]) =>
    [
      s.startedAt,
      s.endedAt,
      s.compensation?.startedAt,
      s.compensation?.endedAt,
      ...(s.decisions ?? []).map((d) => d.at),
    ].filter((t) => t !== undefined);
  const times = record.steps.map(timesOf);
  const delta: ProgressDelta = {
    status: record.status,
    now: Math.max(record.startedAt, ...times.flat()),
    events: record.events.slice(from),
    eventCount: record.events.length,
    steps: record.steps.filter((s, i) => s.status === 'waiting' || times[i]!.some((t) => t >= since)),
  };
  if (record.shards) delta.shards = record.shards;
  return delta;
}

export const WORKFLOW_TYPE = 'runRecoveryPlan';
/** The task queue of the orchestration (workflows and runbook compilation). */
export const ORCHESTRATION_QUEUE = 'drover';

// ---- between the root execution of a large plan and its shards (child workflows) ----

/** Shard → root, batched per workflow task. */
export interface ShardReport {
  shard: number;
  /** Exported steps that finished (and let the run go on). */
  exported?: string[];
  /** Imported steps whose local dependents are all undone, in compensation. */
  undone?: string[];
  /** Every step of the shard is done; the shard waits for the root's verdict. */
  finished?: boolean;
  /** The shard stopped: one of its steps failed (abort), or it was cancelled on its own. */
  stopped?: { reason: 'abort' | 'cancel' | 'rollback' | 'halt'; failedStep?: string; message?: string };
}
export const shardReportSignal = defineSignal<[ShardReport]>('shardReport');

/** Root → shard, batched per workflow task. */
export interface ShardControl {
  /** Imported steps another execution finished. */
  imported?: string[];
  /** Exported steps every importer has undone its dependents of. */
  undone?: string[];
  /** Stop: compensate (abort, cancel), undo everything (rollback), or keep what was recovered (halt). */
  stop?: 'abort' | 'cancel' | 'rollback' | 'halt';
  /** The whole run succeeded: return. */
  commit?: boolean;
}
export const shardControlSignal = defineSignal<[ShardControl]>('shardControl');

export const SHARD_WORKFLOW_TYPE = 'runPlanShard';
