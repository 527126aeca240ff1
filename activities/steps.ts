/**
 * The step activities: one per infrastructure kind (the step's provider does the work), and the runbook's
 * own `command` and `http` steps. Each heartbeats while it runs and turns errors into Temporal failures
 * (retryable or not, typed).
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { INFRASTRUCTURE_KINDS } from '../compiler';
import type { ProviderName, StepKind } from '../compiler';
import type { CommandSpec, HttpSpec } from '../compiler/runbook';
import { ProviderError } from '../providers/errors';
import type { InfraKind } from '../providers/types';
import { runCommandStep } from './command';
import type { ActivityDeps } from './deps';
import { httpFailed, performHttp } from './http';
import type { ChainProgress, ChainedOutcome, StepInput, StepOutcome, StepsInput } from '../contracts/activities';

type StepWork = (signal: AbortSignal) => Promise<Omit<StepOutcome, 'attempt'>>;

export function createStepActivities(deps: ActivityDeps) {
  const env = deps.env ?? process.env;

  /** What a step of `kind` does, given its input, its attempt and how to heartbeat. */
  const workOf = (kind: StepKind, input: StepInput, attempt: number, heartbeat: () => void): StepWork => {
    if (kind === 'command')
      return (signal) =>
        // A command from the runbook: argv, no shell, a minimal environment; its exit status is the result.
        runCommandStep(input.params as unknown as CommandSpec, { cwd: deps.cwd, workerEnv: env, signal });
    if (kind === 'http')
      return async (signal) => {
        // An HTTP request from the runbook (webhook, DNS or load-balancer API).
        const answer = await performHttp(input.params as unknown as HttpSpec, env, signal);
        if (answer.problem) throw httpFailed(`${answer.method} ${answer.url} ${answer.problem}`);
        return {
          changed: answer.method !== 'GET',
          message: `${answer.method} ${answer.url} → ${answer.status}`,
          output: answer.text.slice(0, 2000),
        };
      };
    return (signal) => callProvider(deps, kind as InfraKind, input, { signal, attempt, heartbeat });
  };

  /** One step, one activity: heartbeats every 2 s (so a dead worker is noticed fast). */
  const single = async (input: StepInput): Promise<StepOutcome> => {
    const ctx = Context.current();
    const attempt = ctx.info.attempt + (input.attemptsBefore ?? 0);
    const beat = setInterval(() => ctx.heartbeat(), 2000);
    try {
      const work = workOf(input.kind, input, attempt, () => ctx.heartbeat());
      return await attemptStep(deps, input, attempt, work, { signal: ctx.cancellationSignal, abort: () => undefined });
    } finally {
      clearInterval(beat);
    }
  };

  const infra = Object.fromEntries(INFRASTRUCTURE_KINDS.map((kind) => [kind, single])) as Record<
    InfraKind,
    (input: StepInput) => Promise<StepOutcome>
  >;

  return {
    ...infra,
    runCommand: single,
    httpRequest: single,

    /**
     * A chain of steps (StepsInput), one after the other, each within its own timeout. Progress (the steps
     * done) goes out with every heartbeat, and with the failure that ends the chain, so the workflow knows
     * which steps are done and picks up from the one that failed, one activity per step. Cancelled by the
     * workflow (the run is cancelled or stops after a failure), it finishes the step it is on and starts no
     * more; stopped by its worker (shutdown), it ends at once and says how far it got.
     */
    async runSteps(input: StepsInput): Promise<{ steps: ChainedOutcome[] }> {
      const ctx = Context.current();
      const progress: ChainProgress = { done: [] };
      const heartbeat = () => ctx.heartbeat(progress);
      const beat = setInterval(heartbeat, 2000);
      // The step under way is cut off only when the worker stops it, not when the workflow asks the chain to end.
      let step = new AbortController();
      const cut = () => {
        if (!ctx.cancellationDetails?.cancelRequested) step.abort(ctx.cancellationSignal.reason);
      };
      ctx.cancellationSignal.addEventListener('abort', cut);
      try {
        for (const [index, s] of input.steps.entries()) {
          if (ctx.cancellationSignal.aborted) throw chainStopped(ctx, progress, index);
          const one: StepInput = {
            runId: input.runId,
            stepId: s.stepId,
            kind: s.kind,
            params: s.params,
            site: input.site,
            peer: input.peer,
            ...(input.simulation ? { simulation: input.simulation } : {}),
          };
          const startedAt = Date.now();
          progress.running = { stepId: s.stepId, kind: s.kind, site: input.site.name, startedAt };
          step = new AbortController();
          try {
            const work = workOf(s.kind, one, 1, heartbeat);
            const out = await attemptStep(deps, one, 1, work, step, s.timeoutMs);
            progress.done.push({ ...out, stepId: s.stepId, kind: s.kind, startedAt, endedAt: Date.now() });
            delete progress.running;
            heartbeat();
          } catch (e) {
            if (step.signal.aborted && !(step.signal.reason instanceof ApplicationFailure))
              throw chainStopped(ctx, progress, index);
            const failure = toFailure(e, 1);
            throw ApplicationFailure.create({
              type: failure.type ?? 'Error',
              message: failure.message,
              nonRetryable: failure.nonRetryable === true,
              details: [{ ...progress, failed: index, attempt: 1 }],
            });
          }
        }
        return { steps: progress.done };
      } finally {
        clearInterval(beat);
        ctx.cancellationSignal.removeEventListener('abort', cut);
      }
    },
  };
}

/**
 * How a chain ends when it was stopped before step `index`: as cancelled when the workflow asked (it reads
 * the progress from the cancellation), else (its worker shuts down) as a retryable failure carrying it.
 */
function chainStopped(ctx: Context, progress: ChainProgress, index: number): Error {
  if (ctx.cancellationDetails?.cancelRequested) return new CancelledFailure('the chain was asked to stop', [progress]);
  return ApplicationFailure.create({
    type: 'ChainInterrupted',
    message: `the worker stopped the chain (${String(ctx.cancellationSignal.reason)})`,
    details: [{ ...progress, failed: index, attempt: 1 }],
  });
}

/** An infrastructure step: the operation named by its kind, of the step's provider. */
async function callProvider(
  deps: ActivityDeps,
  kind: InfraKind,
  input: StepInput,
  run: { signal: AbortSignal; attempt: number; heartbeat: () => void },
) {
  // A workload may be recovered by another provider than its site's (`params.provider`, set by the compiler).
  const name = (input.params.provider as ProviderName | undefined) ?? input.site.provider;
  const provider = deps.providers[name];
  const operation = provider?.operations[kind];
  if (!operation) {
    throw ApplicationFailure.create({
      type: 'UnknownProvider',
      nonRetryable: true,
      message: `this worker has no ${name} provider that can ${kind}`,
    });
  }
  return operation(input.params, {
    runId: input.runId,
    site: input.site,
    peer: input.peer,
    attempt: run.attempt,
    ...(input.simulation ? { simulation: input.simulation } : {}),
    heartbeat: () => run.heartbeat(),
    signal: run.signal,
  });
}

/**
 * One try of a step's work: logs its start and outcome, and turns its error into a typed Temporal failure.
 * With a timeout (a chained step's own; 0: none), the step is aborted and fails as StepTimedOut past it.
 */
async function attemptStep(
  deps: ActivityDeps,
  input: StepInput,
  attempt: number,
  fn: StepWork,
  controller: { signal: AbortSignal; abort(reason?: unknown): void },
  timeoutMs = 0,
): Promise<StepOutcome> {
  const { signal } = controller;
  const log = {
    workflowId: Context.current().info.workflowExecution?.workflowId,
    step: input.stepId,
    kind: input.kind,
    site: input.site.name,
    attempt,
  };
  deps.logger.info('step started', log);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    if (timeoutMs <= 0) return;
    timer = setTimeout(() => {
      const failure = ApplicationFailure.create({
        type: 'StepTimedOut',
        message: `the step did not finish within its timeout of ${timeoutMs / 1000}s`,
      });
      controller.abort(failure);
      reject(failure);
    }, timeoutMs);
  });
  try {
    const out = await Promise.race([fn(signal), expired]);
    deps.logger.info('step succeeded', { ...log, changed: out.changed, message: out.message });
    return { ...out, attempt };
  } catch (e) {
    // A cancelled activity must end as cancelled, not as a failure, so the workflow sees the cancel.
    if (signal.aborted && !(signal.reason instanceof ApplicationFailure)) throw e;
    const failure = signal.reason instanceof ApplicationFailure ? signal.reason : toFailure(e, attempt);
    deps.logger.warn('step failed', {
      ...log,
      error: failure.message,
      type: failure.type,
      retryable: !failure.nonRetryable,
    });
    throw failure;
  } finally {
    clearTimeout(timer);
  }
}

function toFailure(e: unknown, attempt: number): ApplicationFailure {
  if (e instanceof ProviderError) {
    return ApplicationFailure.create({
      type: e.type,
      message: e.message,
      nonRetryable: !e.retryable,
      details: [{ attempt }],
    });
  }
  if (e instanceof ApplicationFailure) return e;
  const err = e as Error;
  return ApplicationFailure.create({
    type: err.name ?? 'Error',
    message: err.message ?? String(e),
    details: [{ attempt }],
  });
}
