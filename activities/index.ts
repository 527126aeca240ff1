/**
 * The activities: thin. Each finds the step's provider, calls the operation named by the step's kind,
 * heartbeats while it runs, and turns provider errors into Temporal failures (retryable or not, typed).
 * They never decide what comes next: the workflow does.
 *
 * By what they serve, each group in its own module:
 * - activities/steps.ts: the steps (one activity per infrastructure kind, `runCommand`, `httpRequest`);
 * - activities/plan.ts: `compileRunbook` (the plan, its skeleton, or a shard's slice after checking the plan hash);
 * - activities/drill.ts: `prepareDrill` (a drill's own simulated site);
 * - activities/holds.ts and activities/approvals.ts: the preflight activities (`checkSites`, `holdWorkloads`,
 *   `releaseWorkloads`) and a signed approval's check (`verifyApproval`), on the orchestration queue.
 * Activity names are what Temporal records in history: renaming one breaks the replay of recorded runs.
 */
import { approvalActivities } from './approvals';
import { createRunbookCompiler } from './compile';
import type { ActivityDeps } from './deps';
import { createDrillActivities } from './drill';
import { siteAndHoldActivities } from './holds';
import { createPlanActivities } from './plan';
import { notifyActivities } from './notify';
import { createStepActivities } from './steps';
import { visibilityActivities } from './visibility';

export type { ActivityDeps } from './deps';
export { MAX_PLAN_BYTES } from './plan';
export type { CompileInput, StepInput, StepOutcome } from '../contracts/activities';

export function createActivities(deps: ActivityDeps) {
  // One compiler, so its cache serves both the plan and the drill activities.
  const compiler = createRunbookCompiler(deps.cwd);
  return {
    ...createStepActivities(deps),
    ...createPlanActivities(compiler),
    ...createDrillActivities(deps.cwd, compiler),
  };
}

export type DroverActivities = ReturnType<typeof createActivities>;

/**
 * Before a run touches anything (activities/preflight.ts): every site has a worker, and no other run holds
 * its workloads. They run on the orchestration queue, with the worker's Temporal client.
 */
export const preflightActivities = {
  ...approvalActivities,
  ...siteAndHoldActivities,
  // Notifications go out from the orchestration worker too (activities/notify.ts).
  ...notifyActivities,
  // And the check of which search attributes the namespace has (activities/visibility.ts).
  ...visibilityActivities,
};
export type PreflightActivities = typeof preflightActivities;
