/**
 * How people and tools talk to a running plan. Each action is an Update (validated before it enters
 * history, and answered) and also a Signal of the same name, so `temporal workflow signal` works too.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { RunRecord } from './record';

export interface StepDecisionInput {
  step: string;
  by: string;
  comment?: string;
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

export interface ByInput {
  by?: string;
}
/** Stop starting new steps (running ones finish); `resume` goes on. */
export const pauseSignal = defineSignal<[ByInput?]>('pause');
export const resumeSignal = defineSignal<[ByInput?]>('resume');

/** Every step's status, attempts, times and last error. */
export const progressQuery = defineQuery<RunRecord>('progress');

export const WORKFLOW_TYPE = 'runRecoveryPlan';
/** The task queue of the orchestration (workflows and runbook compilation). */
export const ORCHESTRATION_QUEUE = 'drover';
