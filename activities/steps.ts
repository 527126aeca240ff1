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
      return await attemptStep(deps, input, attempt, work, ctx.cancellationSignal);
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
     * which steps are done and picks up from the one that failed, one activity per step.
     */
    async runSteps(input: StepsInput): Promise<{ steps: ChainedOutcome[] }> {
      const ctx = Context.current();
      const progress: ChainProgress = { done: [] };
      const heartbeat = () => ctx.heartbeat(progress);
      const beat = setInterval(heartbeat, 2000);
      try {
        for (const [index, s] of input.steps.entries()) {
          const step: StepInput = {
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
          try {
            const work = workOf(s.kind, step, 1, heartbeat);
            const out = await withinTimeout(s.timeoutMs, ctx.cancellationSignal, (signal) =>
              attemptStep(deps, step, 1, work, signal),
            );
            progress.done.push({ ...out, stepId: s.stepId, kind: s.kind, startedAt, endedAt: Date.now() });
            delete progress.running;
            heartbeat();
          } catch (e) {
            if (ctx.cancellationSignal.aborted) throw new CancelledFailure('cancelled', [progress]);
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
      }
    },
  };
}

/** Runs `fn` with a signal that aborts at `timeoutMs` (0: never) or with `outer`; a step past it fails as StepTimedOut. */
async function withinTimeout<T>(
  timeoutMs: number,
  outer: AbortSignal,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (timeoutMs <= 0) return fn(outer);
  const own = new AbortController();
  const forward = () => own.abort(outer.reason);
  outer.addEventListener('abort', forward, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const failure = ApplicationFailure.create({
        type: 'StepTimedOut',
        message: `the step did not finish within its timeout of ${timeoutMs / 1000}s`,
      });
      own.abort(failure);
      reject(failure);
    }, timeoutMs);
  });
  try {
    return await Promise.race([fn(own.signal), expired]);
  } finally {
    clearTimeout(timer);
    outer.removeEventListener('abort', forward);
  }
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

/** One try of a step's work: logs its start and outcome, and turns its error into a typed Temporal failure. */
async function attemptStep(
  deps: ActivityDeps,
  input: StepInput,
  attempt: number,
  fn: StepWork,
  signal: AbortSignal,
): Promise<StepOutcome> {
  const log = {
    workflowId: Context.current().info.workflowExecution?.workflowId,
    step: input.stepId,
    kind: input.kind,
    site: input.site.name,
    attempt,
  };
  deps.logger.info('step started', log);
  try {
    const out = await fn(signal);
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
