/** The run record: what a run did, step by step; reports are made from it. Pure types. */
import type { Mode, StepKind } from './plan';

export type StepStatus =
  | 'pending'
  | 'running'
  /** Waiting for people: an approval, a prompt, or a decision after a failure with `onFailure: pause`. */
  | 'waiting'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  /** Not started because the run stopped (abort or cancel) first. */
  | 'not-run';

export interface Decision {
  by: string;
  at: number;
  decision:
    | 'approved'
    | 'rejected'
    | 'dismissed'
    | 'retry'
    | 'skip'
    | 'approved-on-timeout'
    | 'rejected-on-timeout'
    /** Tabletop answers. */
    | 'done'
    | 'blocked'
    | 'skipped';
  comment?: string;
  /** The approver signed it with their declared key, and the run verified the signature before counting it. */
  signed?: true;
}

export interface StepRecord {
  id: string;
  kind: StepKind;
  site: string;
  workload?: string;
  group?: string;
  status: StepStatus;
  /** Attempts of the last try (Temporal retries), summed over retries a person asked for. */
  attempts: number;
  startedAt?: number;
  endedAt?: number;
  message?: string;
  error?: { type: string; message: string };
  changed?: boolean;
  recoveryPointAt?: number;
  /** Tabletop: how long the step is expected to take, to compare with how long walking it took. */
  estimateMs?: number;
  /** Tabletop: what the step would do (`params.action`), and for an approval who may give it. */
  action?: string;
  approvers?: string[];
  decisions?: Decision[];
  compensation?: {
    kind: StepKind;
    status: 'succeeded' | 'failed';
    startedAt: number;
    endedAt: number;
    error?: string;
    message?: string;
  };
}

export type RunStatus =
  | 'running'
  | 'paused'
  | 'compensating'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  /** Failover modes: everything recovered; waiting for `drover commit` or `drover rollback`. */
  | 'awaiting-commit'
  | 'rolling-back'
  | 'rolled-back'
  /** Failover modes: stopped past the point of no return; what was recovered is kept as it is. */
  | 'stopped';

export interface RunRecord {
  workflowId: string;
  plan: {
    name: string;
    mode: Mode;
    planHash: string;
    sourceFile: string;
    sourceSha256: string;
    gitCommit?: string;
    from: string;
    to: string;
    /** The critical path's estimate from the runbook's step estimates: the plan's expected RTO. */
    estimatedRtoMs?: number;
    /** The steps of that critical path (reports mark them). */
    criticalPath?: string[];
  };
  status: RunStatus;
  startedAt: number;
  endedAt?: number;
  objectives: { rpoMs: number; rtoMs: number };
  /** RTO: the last recovery step's end − run start. RPO: run start − the oldest recovery point used. */
  achieved: { rtoMs?: number; rpoMs?: number };
  /** The step whose failure stopped the run. */
  failedStep?: string;
  /** Objectives of workloads that have their own (the others have the plan's). */
  workloadObjectives?: Record<string, { rpoMs: number; rtoMs: number }>;
  /** A simulated drill: the scenario it ran and its seed (reports score it, reports/score.ts). */
  drill?: { scenario: string; description: string; file: string; seed: number };
  steps: StepRecord[];
  /** Failover modes: the point asked for (`--recovery-point`), and whether data loss was accepted up front. */
  recoveryPoint?: { requested: string; acceptDataLoss: boolean };
  /** Failover modes: the commit window and how it ended (who committed or rolled back, or its timeout). */
  commitWindow?: {
    openedAt: number;
    timeoutMs: number;
    onTimeout: 'commit' | 'rollback';
    decision?: { decision: 'commit' | 'rollback'; by: string; at: number; comment?: string };
  };
  /** Notable events in order: approvals, pauses, ignored signals, compensation. */
  events: { at: number; text: string }[];
  /**
   * A large plan runs in child executions (README, Scale): `steps` then lists the root's own steps, and
   * each shard's record is its child workflow's result (`drover report` merges them).
   */
  shards?: ShardSummary[];
}

/** One child execution of a large plan, as the root's record lists it. */
export interface ShardSummary {
  index: number;
  workflowId: string;
  groups: string[];
  steps: number;
  status: 'running' | 'finished' | RunStatus;
  failedStep?: string;
  /** End of its last recovery step, and the oldest recovery point it restored from. */
  recoveredAt?: number;
  recoveryPointAt?: number;
}

/** What a shard returns: its own record (its steps only) and its figures for the root. */
export interface ShardResult {
  record: RunRecord;
  recoveredAt?: number;
  recoveryPointAt?: number;
  failedStep?: string;
}

/** A finished run in a few fields: the workflow's memo (`drover`), read by `drover history`. */
export interface RunSummary {
  plan: string;
  mode: Mode;
  status: RunStatus;
  startedAt: number;
  endedAt: number;
  objectives: { rpoMs: number; rtoMs: number };
  rtoMs?: number;
  rpoMs?: number;
  failedStep?: string;
  scenario?: string;
  seed?: number;
  /** A drill's own score (reports/score.ts), per-workload objectives included: `drover history` shows it. */
  verdict?: 'PASS' | 'FAIL';
  reasons?: string[];
}
