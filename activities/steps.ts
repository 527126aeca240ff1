/**
 * The step activities: one per infrastructure kind (the step's provider does the work), and the runbook's
 * own `command` and `http` steps. Each heartbeats while it runs and turns errors into Temporal failures
 * (retryable or not, typed).
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { INFRASTRUCTURE_KINDS } from '../compiler';
import type { ProviderName } from '../compiler';
import type { CommandSpec, HttpSpec } from '../compiler/runbook';
import { ProviderError } from '../providers/errors';
import type { InfraKind } from '../providers/types';
import { runCommandStep } from './command';
import type { ActivityDeps } from './deps';
import { httpFailed, performHttp } from './http';
import type { StepInput, StepOutcome } from '../contracts/activities';

type StepWork = (signal: AbortSignal) => Promise<Omit<StepOutcome, 'attempt'>>;

export function createStepActivities(deps: ActivityDeps) {
  const env = deps.env ?? process.env;
  const step = (input: StepInput, fn: StepWork) => runStep(deps, input, fn);

  const infra = Object.fromEntries(
    INFRASTRUCTURE_KINDS.map((kind) => [
      kind,
      (input: StepInput): Promise<StepOutcome> => step(input, (signal) => callProvider(deps, kind, input, signal)),
    ]),
  ) as Record<InfraKind, (input: StepInput) => Promise<StepOutcome>>;

  return {
    ...infra,

    /** A command from the runbook: argv, no shell, a minimal environment; its exit status is the result. */
    async runCommand(input: StepInput): Promise<StepOutcome> {
      return step(input, (signal) =>
        runCommandStep(input.params as unknown as CommandSpec, { cwd: deps.cwd, workerEnv: env, signal }),
      );
    },

    /** An HTTP request from the runbook (webhook, DNS or load-balancer API). */
    async httpRequest(input: StepInput): Promise<StepOutcome> {
      return step(input, async (signal) => {
        const answer = await performHttp(input.params as unknown as HttpSpec, env, signal);
        if (answer.problem) throw httpFailed(`${answer.method} ${answer.url} ${answer.problem}`);
        return {
          changed: answer.method !== 'GET',
          message: `${answer.method} ${answer.url} → ${answer.status}`,
          output: answer.text.slice(0, 2000),
        };
      });
    },
  };
}

/** An infrastructure step: the operation named by its kind, of the step's provider. */
async function callProvider(deps: ActivityDeps, kind: InfraKind, input: StepInput, signal: AbortSignal) {
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
  const ctx = Context.current();
  return operation(input.params, {
    runId: input.runId,
    site: input.site,
    peer: input.peer,
    attempt: ctx.info.attempt,
    ...(input.simulation ? { simulation: input.simulation } : {}),
    heartbeat: (d) => ctx.heartbeat(d),
    signal,
  });
}

/** Runs `fn` with a heartbeat every 2 s (so a dead worker is noticed fast) and logs its outcome. */
async function runStep(deps: ActivityDeps, input: StepInput, fn: StepWork): Promise<StepOutcome> {
  const ctx = Context.current();
  const { attempt, workflowExecution } = ctx.info;
  const log = {
    workflowId: workflowExecution?.workflowId,
    step: input.stepId,
    kind: input.kind,
    site: input.site.name,
    attempt,
  };
  const beat = setInterval(() => ctx.heartbeat(), 2000);
  deps.logger.info('step started', log);
  try {
    const out = await fn(ctx.cancellationSignal);
    deps.logger.info('step succeeded', { ...log, changed: out.changed, message: out.message });
    return { ...out, attempt };
  } catch (e) {
    // A cancelled activity must end as cancelled, not as a failure, so the workflow sees the cancel.
    if (ctx.cancellationSignal.aborted) throw e;
    const failure = toFailure(e, attempt);
    deps.logger.warn('step failed', {
      ...log,
      error: failure.message,
      type: failure.type,
      retryable: !failure.nonRetryable,
    });
    throw failure;
  } finally {
    clearInterval(beat);
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
