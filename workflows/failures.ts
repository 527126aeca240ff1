/**
 * How a step's failure reads in its record: its type and message, how many attempts it took, and a step no
 * worker picked up. Deterministic: imports only @temporalio/workflow.
 */
import { TimeoutFailure } from '@temporalio/workflow';
import type { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { PlanSite, RetryPolicy } from '../contracts/plan';

/** A step no worker picks up within this fails as SiteUnserved (its site's worker is gone), not "running" forever. */
export const SCHEDULE_TO_START_MS = 60_000;

export function attemptsOf(err: unknown, retry: RetryPolicy): number {
  const details = ((err as ActivityFailure)?.cause as ApplicationFailure | undefined)?.details;
  const attempt = (details?.[0] as { attempt?: number } | undefined)?.attempt;
  if (typeof attempt === 'number') return attempt;
  return (err as ActivityFailure)?.cause ? retry.maximumAttempts : 1;
}

/** A step nobody picked up: its site's worker is gone (or never started). */
export function unserved(err: unknown, site: PlanSite): { type: string; message: string } | undefined {
  const cause = (err as ActivityFailure)?.cause;
  if (!(cause instanceof TimeoutFailure) || cause.timeoutType !== 'SCHEDULE_TO_START') return undefined;
  return {
    type: 'SiteUnserved',
    message: `no worker picked the step up within ${SCHEDULE_TO_START_MS / 1000}s on task queue ${site.taskQueue}: start one with \`drover worker --site ${site.name}\``,
  };
}

export function describe(err: unknown): { type: string; message: string } {
  const cause = (err as ActivityFailure)?.cause as (Error & { type?: string }) | undefined;
  const e = (cause ?? err) as Error & { type?: string };
  return { type: e.type ?? e.name ?? 'Error', message: e.message ?? String(err) };
}
