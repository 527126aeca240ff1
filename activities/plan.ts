/**
 * The plan activity: compiling a runbook on the worker, so the plan, its hash and git commit are in
 * history; for a large plan, its skeleton, or one shard's slice after checking the plan hash.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Plan } from '../compiler';
import { shardPlanOf, skeletonOf } from '../compiler/partition';
import type { RunbookCompiler } from './compile';
import type { CompileInput } from '../contracts/activities';

/**
 * The largest plan (or skeleton, or shard) one payload carries: Temporal rejects payloads over 2 MB.
 * Large plans are split into shards (compiler/partition.ts), each far below this.
 */
export const MAX_PLAN_BYTES = 1_500_000;

export function createPlanActivities(compiler: RunbookCompiler) {
  return {
    /**
     * Reads and compiles a runbook on the worker, so the plan, its hash and git commit are in history.
     * A large plan comes back as its skeleton (the root's steps and the partition); with `shard`, that
     * shard's slice, after checking that the runbook still compiles to the plan the run started with.
     */
    async compileRunbook(input: CompileInput): Promise<Plan> {
      // Heartbeats around the (synchronous) compile: a worker that dies here is noticed within the
      // heartbeat timeout (workflows/common.ts), not at the end of the minute the compile may take.
      Context.current().heartbeat();
      const text = await compiler.read(input.runbook);
      Context.current().heartbeat();
      const { plan, partition } = compiler.compile(input, text);
      Context.current().heartbeat();
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
  };
}
