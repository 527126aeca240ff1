/**
 * The activities: thin. Each finds the step's provider, calls the operation named by the step's kind,
 * heartbeats while it runs, and turns provider errors into Temporal failures (retryable or not, typed).
 * They never decide what comes next: the workflow does.
 */
import { readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type winston from 'winston';
import { compile, formatDiagnostic, INFRASTRUCTURE_KINDS, sha256 } from '../compiler';
import type { Partition, Plan, ProviderName } from '../compiler';
import { DEFAULT_SHARD_SIZE, partitionPlan, shardPlanOf, skeletonOf } from '../compiler/partition';
import { isPlainName, outsideOf } from '../compiler/paths';
import { verifySignature } from '../security/signing';
import { compileDrill } from '../compiler/scenario';
import type { Scenario } from '../compiler/scenario';
import { seedSite } from '../providers/simulator';
import type { CommandSpec, HttpSpec } from '../compiler/runbook';
import { gitCommitOf } from '../cli/files';
import { ProviderError } from '../providers/errors';
import type { InfraKind, Provider } from '../providers/types';
import { runCommandStep } from './command';
import { httpFailed, performHttp } from './http';
import { acquireHolds, releaseHolds, requireServedSites } from './preflight';
import type { SiteQueue } from './preflight';
import type { HoldRequest } from '../workflows/hold';
import type { CompileInput, DrillSetup, StepInput, StepOutcome } from './types';

export type { CompileInput, StepInput, StepOutcome } from './types';

/**
 * The largest plan (or skeleton, or shard) one payload carries: Temporal rejects payloads over 2 MB.
 * Large plans are split into shards (compiler/partition.ts), each far below this.
 */
export const MAX_PLAN_BYTES = 1_500_000;

export interface ActivityDeps {
  providers: Partial<Record<ProviderName, Provider>>;
  /** Runbook paths and state folders are relative to this. */
  cwd: string;
  logger: winston.Logger;
  env?: NodeJS.ProcessEnv;
}

export function createActivities(deps: ActivityDeps) {
  const env = deps.env ?? process.env;
  /** The last few compiled plans: every shard of a large run asks for its slice of the same one. */
  const compiled = new Map<string, { plan: Plan; partition: Partition | undefined; scenario: Scenario | undefined }>();

  async function readRunbook(runbook: string): Promise<string> {
    try {
      return await readFile(resolve(deps.cwd, runbook), 'utf8');
    } catch {
      throw ApplicationFailure.create({
        type: 'InvalidRunbook',
        nonRetryable: true,
        message: `cannot read runbook ${runbook} on the worker (relative paths are from ${deps.cwd})`,
      });
    }
  }

  /** A drill scenario: `scenarios/<name>.yaml` in the runbook's folder. */
  function readScenario(runbook: string, name: string): { file: string; text: string; sha256: string } {
    if (!isPlainName(name))
      throw ApplicationFailure.create({
        type: 'InvalidRunbook',
        nonRetryable: true,
        message: `"${name}" cannot name a drill scenario: a scenario is a file name in scenarios/ next to the runbook (letters, digits, . _ -)`,
      });
    const file = join(dirname(runbook), 'scenarios', `${name}.yaml`);
    try {
      const text = readFileSync(resolve(deps.cwd, file), 'utf8');
      return { file, text, sha256: sha256(text) };
    } catch {
      throw ApplicationFailure.create({
        type: 'InvalidRunbook',
        nonRetryable: true,
        message: `no drill scenario ${name}: cannot read ${file} on the worker (relative paths are from ${deps.cwd})`,
      });
    }
  }

  function compileCached(input: CompileInput, text: string) {
    const commit = gitCommitOf(input.runbook, deps.cwd);
    const size = input.shardSize ?? DEFAULT_SHARD_SIZE;
    const scenario = input.scenario ? readScenario(input.runbook, input.scenario) : undefined;
    const outside = input.simulationDir !== undefined ? outsideOf('.drover/drills', input.simulationDir) : undefined;
    if (outside)
      throw ApplicationFailure.create({
        type: 'InvalidRunbook',
        nonRetryable: true,
        message: `a drill's simulated site would live in ${input.simulationDir}, which ${outside}: give the drill a workflow id without \`..\` (drover drill --id)`,
      });
    const key = [
      input.runbook,
      input.mode,
      commit ?? '',
      size,
      sha256(text),
      scenario?.sha256 ?? '',
      input.seed ?? '',
      input.simulationDir ?? '',
    ].join('|');
    const hit = compiled.get(key);
    if (hit) return hit;
    const result = scenario
      ? compileDrill(text, input.runbook, scenario.text, scenario.file, {
          ...(commit ? { gitCommit: commit } : {}),
          ...(input.seed !== undefined ? { seed: input.seed } : {}),
          ...(input.simulationDir ? { simulationDir: input.simulationDir } : {}),
        })
      : compile(text, { file: input.runbook, mode: input.mode, ...(commit ? { gitCommit: commit } : {}) });
    if (!result.plan) {
      const errors = result.diagnostics.filter((d) => d.severity === 'error');
      throw ApplicationFailure.create({
        type: 'InvalidRunbook',
        nonRetryable: true,
        message: `${input.runbook}${scenario ? ` with scenario ${scenario.file}` : ''} has ${errors.length} error${errors.length === 1 ? '' : 's'}:\n${errors.map((d) => formatDiagnostic(d, d.file === scenario?.file ? scenario.text : text, { color: false })).join('\n')}`,
        details: [errors],
      });
    }
    const entry = {
      plan: result.plan,
      partition: partitionPlan(result.plan, size),
      scenario: 'scenario' in result ? (result.scenario as Scenario | undefined) : undefined,
    };
    compiled.set(key, entry);
    if (compiled.size > 4) compiled.delete(compiled.keys().next().value!);
    return entry;
  }

  /** Runs `fn` with a heartbeat every 2 s (so a dead worker is noticed fast) and logs its outcome. */
  async function step(
    input: StepInput,
    fn: (signal: AbortSignal) => Promise<Omit<StepOutcome, 'attempt'>>,
  ): Promise<StepOutcome> {
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

  const infra = Object.fromEntries(
    INFRASTRUCTURE_KINDS.map((kind) => [
      kind,
      (input: StepInput): Promise<StepOutcome> =>
        step(input, async (signal) => {
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
        }),
    ]),
  ) as Record<InfraKind, (input: StepInput) => Promise<StepOutcome>>;

  return {
    ...infra,

    /**
     * Reads and compiles a runbook on the worker, so the plan, its hash and git commit are in history.
     * A large plan comes back as its skeleton (the root's steps and the partition); with `shard`, that
     * shard's slice, after checking that the runbook still compiles to the plan the run started with.
     */
    async compileRunbook(input: CompileInput): Promise<Plan> {
      const text = await readRunbook(input.runbook);
      const { plan, partition } = compileCached(input, text);
      if (input.shard !== undefined) {
        if (plan.planHash !== input.planHash || !partition || !partition.shards[input.shard]) {
          throw ApplicationFailure.create({
            type: 'PlanChanged',
            nonRetryable: true,
            message: `${input.runbook} no longer compiles to the plan this run started with (${input.planHash?.slice(0, 12)}, now ${plan.planHash.slice(0, 12)}): it changed on this worker mid-run; run it again`,
          });
        }
        return shardPlanOf(plan, partition, input.shard);
      }
      const out = partition ? skeletonOf(plan, partition) : plan;
      const bytes = Buffer.byteLength(JSON.stringify(out));
      if (bytes > MAX_PLAN_BYTES) {
        throw ApplicationFailure.create({
          type: 'PlanTooLarge',
          nonRetryable: true,
          message: `the ${input.mode} plan of ${input.runbook} is ${(bytes / 1e6).toFixed(1)} MB (${out.steps.length} steps) even split into shards; one Temporal payload holds at most ${MAX_PLAN_BYTES / 1e6} MB: split the runbook`,
        });
      }
      return out;
    },

    /**
     * Before a drill: a fresh simulated site of its own (`simulationDir`), seeded with the plan's workloads
     * as they stand in production. Idempotent: a retry starts from a fresh site again (no step has run yet).
     */
    async prepareDrill(input: CompileInput): Promise<DrillSetup> {
      const text = await readRunbook(input.runbook);
      const { plan, scenario } = compileCached(input, text);
      if (!input.simulationDir)
        throw ApplicationFailure.create({
          type: 'InvalidInput',
          nonRetryable: true,
          message: 'a drill needs its simulationDir',
        });
      rmSync(resolve(deps.cwd, input.simulationDir), { recursive: true, force: true });
      await seedSite(plan, deps.cwd);
      return {
        planHash: plan.planHash,
        scenario: scenario!.name,
        description: scenario!.description,
        file: scenario!.file,
        seed: plan.simulation!.seed,
        answers: scenario!.answers,
      };
    },

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

export type DroverActivities = ReturnType<typeof createActivities>;

/**
 * Before a run touches anything (activities/preflight.ts): every site has a worker, and no other run holds
 * its workloads. They run on the orchestration queue, with the worker's Temporal client.
 */
export const preflightActivities = {
  /** A signed approval's check, its verdict recorded in history (workflows/common.ts `verifyDecision`). */
  async verifyApproval(input: { publicKey: string; message: string; signature: string }) {
    return verifySignature(input);
  },
  async checkSites(input: { sites: SiteQueue[] }): Promise<void> {
    await requireServedSites(Context.current().client, input.sites);
  },
  async holdWorkloads(input: { registry: string; hold: HoldRequest; taskQueue: string }): Promise<void> {
    const ctx = Context.current();
    const beat = setInterval(() => ctx.heartbeat(), 2000);
    try {
      await acquireHolds(ctx.client, input.registry, input.hold, input.taskQueue);
    } finally {
      clearInterval(beat);
    }
  },
  async releaseWorkloads(input: { registry: string; holder: string }): Promise<void> {
    await releaseHolds(Context.current().client, input.registry, input.holder);
  },
};
export type PreflightActivities = typeof preflightActivities;

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
