/**
 * Step chains: consecutive activity steps of one execution that run at one site, each the only dependent
 * of the one before (typically one workload's restore → power-on → wait-ready → validate), run as one
 * activity (`runSteps`, activities/steps.ts) instead of one each. Nothing else can start between them, so
 * the round trips between them (a workflow task and an activity task per step) bought nothing. Every step
 * keeps its record (outcome, attempts, times, errors) and its own timeout; the activity reports its
 * progress with every heartbeat and with its failure.
 *
 * A chain is one try of each of its steps. When it stops short (a step failed, the worker died), the steps
 * it finished are recorded as done, and the engine goes on one activity per step from the one that failed,
 * with what is left of that step's retry policy: the same attempts and back-off as if it had always run
 * alone (`afterChain`). When the run stops or is cancelled, its chains are cancelled: each ends the step
 * it is on, starts no more and reports how far it got, which the run waits for before undoing anything.
 *
 * Deterministic: imports only @temporalio/workflow and pure modules.
 */
import { ApplicationFailure, CancelledFailure, TimeoutFailure } from '@temporalio/workflow';
import type { ActivityFailure } from '@temporalio/workflow';
import type { ChainProgress } from '../contracts/activities';
import type { PlanStep, RetryPolicy } from '../contracts/plan';
import { IN_WORKFLOW_KINDS } from '../compiler/partition';

/** Runs recorded before chains ran one activity per step. */
export const STEP_CHAINS = 'drover-step-chains-v1';

/** At most this many steps in one chain: bounds the activity's result (command output is kept per step). */
export const MAX_CHAIN = 8;

/** What the chain finder reads of its engine. */
export interface ChainGraph {
  byId: ReadonlyMap<string, PlanStep>;
  /** Local dependents of every step. */
  dependents: ReadonlyMap<string, string[]>;
  /** Local steps other executions depend on: never inside a chain (another execution waits on each). */
  exports: ReadonlySet<string>;
}

/**
 * Can `step` run inside a chain? An activity step that needs nothing decided at its own start: a promote
 * reads the failover's choices and the final sync's measure when it starts, so it always runs alone.
 */
function chainable(step: PlanStep): boolean {
  return !IN_WORKFLOW_KINDS.has(step.kind) && step.kind !== 'promote';
}

/** The chain that starts at `head`: `[head]` alone when the step after it cannot join. */
export function chainFrom(head: PlanStep, graph: ChainGraph): PlanStep[] {
  const chain = [head];
  let last = head;
  while (chain.length < MAX_CHAIN && chainable(last) && !graph.exports.has(last.id)) {
    const after = graph.dependents.get(last.id);
    if (after?.length !== 1) break;
    const next = graph.byId.get(after[0]!);
    if (!next || next.dependsOn.length !== 1 || next.site !== head.site || !chainable(next)) break;
    chain.push(next);
    last = next;
  }
  return chain;
}

/** What the Temporal Web UI shows for a chain's activity: `plan · vm-1/restore → powerOn → waitReady @ west`. */
export function chainSummary(plan: string, chain: readonly PlanStep[], site: string): string {
  const [head, ...rest] = chain;
  const tail = rest.map((s) =>
    s.workload && s.id.startsWith(`${s.workload}/`) ? s.id.slice(s.workload.length + 1) : s.id,
  );
  return `${plan} · ${[head!.id, ...tail].join(' → ')} @ ${site}`;
}

/** How far a chain that ended early got: its failure's details, or its last heartbeat's. */
export function progressOf(err: unknown): ChainProgress | undefined {
  const cause = (err as ActivityFailure)?.cause;
  let details: unknown[] | undefined;
  if (cause instanceof ApplicationFailure || cause instanceof CancelledFailure) details = cause.details as unknown[];
  else if (cause instanceof TimeoutFailure) details = [cause.lastHeartbeatDetails];
  const progress = details?.[0] as ChainProgress | undefined;
  return progress && Array.isArray(progress.done) ? progress : undefined;
}

/**
 * How many of a chain's steps not known done may have run when its activity ended with `err`, of `left`:
 * none when a step failed (its own failure, reported) or nobody picked the chain up; the step it was on
 * when its worker stopped it; all when it went silent (a timeout: its last heartbeat may be stale).
 */
export function mayHaveRun(err: unknown, left: number): number {
  const cause = (err as ActivityFailure)?.cause;
  if (cause instanceof TimeoutFailure) return cause.timeoutType === 'SCHEDULE_TO_START' ? 0 : left;
  if (cause instanceof ApplicationFailure) return cause.type === 'ChainInterrupted' ? Math.min(1, left) : 0;
  return left;
}

/** The chain's activity is not registered on the site's worker (one older than chains). */
export function unregistered(err: unknown): boolean {
  const cause = (err as ActivityFailure)?.cause;
  return cause instanceof ApplicationFailure && cause.type === 'NotFoundError';
}

/** Would Temporal have retried this first try of a step under `retry`? */
export function retriedAfterChain(err: unknown, retry: RetryPolicy): boolean {
  if (retry.maximumAttempts === 1) return false;
  const cause = (err as ActivityFailure)?.cause;
  if (cause instanceof ApplicationFailure)
    return !cause.nonRetryable && !retry.nonRetryableErrorTypes.includes(cause.type ?? '');
  // A chain nobody picked up is not retried (SiteUnserved); one whose worker went silent is.
  if (cause instanceof TimeoutFailure) return cause.timeoutType !== 'SCHEDULE_TO_START';
  return false;
}

/**
 * The retry policy of a step's tries after its first (made in a chain): one attempt fewer, and the back-off
 * one step further, so the intervals are the ones the step would have had alone (the first is slept first).
 */
export function afterFirstTry(retry: RetryPolicy): RetryPolicy {
  const next = Math.min(retry.initialIntervalMs * retry.backoffCoefficient, retry.maximumIntervalMs);
  return {
    ...retry,
    maximumAttempts: retry.maximumAttempts === 0 ? 0 : retry.maximumAttempts - 1,
    initialIntervalMs: Math.max(retry.initialIntervalMs, next),
  };
}
