/** The drill activity: a drill's own simulated site, seeded before its first step. */
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { seedSite } from '../providers/simulator';
import type { RunbookCompiler } from './compile';
import type { CompileInput, DrillSetup } from '../contracts/activities';

export function createDrillActivities(cwd: string, compiler: RunbookCompiler) {
  return {
    /**
     * Before a drill: a fresh simulated site of its own (`simulationDir`), seeded with the plan's workloads
     * as they stand in production. Idempotent: a retry starts from a fresh site again (no step has run yet).
     */
    async prepareDrill(input: CompileInput): Promise<DrillSetup> {
      Context.current().heartbeat();
      const text = await compiler.read(input.runbook);
      Context.current().heartbeat();
      const { plan, scenario } = compiler.compile(input, text);
      Context.current().heartbeat();
      if (!input.simulationDir)
        throw ApplicationFailure.create({
          type: 'InvalidInput',
          nonRetryable: true,
          message: 'a drill needs its simulationDir',
        });
      rmSync(resolve(cwd, input.simulationDir), { recursive: true, force: true });
      await seedSite(plan, cwd, () => Context.current().heartbeat());
      return {
        planHash: plan.planHash,
        scenario: scenario!.name,
        description: scenario!.description,
        file: scenario!.file,
        seed: plan.simulation!.seed,
        answers: scenario!.answers,
      };
    },
  };
}
