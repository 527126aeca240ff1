/**
 * Before anything runs: every site has a worker, and the run holds its workloads (one recovery at a time
 * per workload, workflows/hold.ts); after everything, the run releases them. The checks themselves are
 * activities (activities/preflight.ts).
 *
 * Deterministic: imports only @temporalio/workflow and pure modules; activities by `import type`.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/workflow';
import type { PreflightActivities } from '../activities';
import type { Plan } from '../contracts/plan';
import { heldWorkloads, registryId } from './hold';
import type { RunState } from './run-state';

/**
 * Checks the sites and holds the workloads; either failure ends the run at once, with nothing done. Returns
 * the hold registry the workloads are held in, if any. Runs recorded before these checks existed replay
 * without them.
 */
export async function preflight(run: RunState, compiled: Plan): Promise<string | undefined> {
  const { info, record, event } = run;
  if (!wf.patched('drover-preflight-v1')) return undefined;
  const acts = wf.proxyActivities<PreflightActivities>({
    taskQueue: info.taskQueue,
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['InUse', 'SiteUnserved'] },
  });
  const workloads = record.drill ? [] : heldWorkloads(compiled);
  const registry = workloads.length > 0 ? registryId(compiled, info.taskQueue) : undefined;
  try {
    await acts.checkSites({
      sites: Object.values(compiled.sites).map((s) => ({ site: s.name, taskQueue: s.taskQueue })),
    });
    if (registry)
      await acts.holdWorkloads({
        registry,
        hold: { holder: info.workflowId, plan: compiled.name, mode: compiled.mode, workloads },
        taskQueue: info.taskQueue,
      });
  } catch (err) {
    const cause = (err as wf.ActivityFailure).cause as ApplicationFailure | undefined;
    record.status = 'failed';
    record.endedAt = Date.now();
    event(`not started: ${cause?.message ?? String(err)}`);
    throw ApplicationFailure.create({
      type: cause?.type ?? 'PreflightFailed',
      nonRetryable: true,
      message: cause?.message ?? String(err),
      details: [record],
    });
  }
  return registry;
}

/** Releases the run's workload holds, if it took any; a hold left behind is taken over by the next run that asks. */
export async function release(run: RunState, registry: string | undefined): Promise<void> {
  const { info, event } = run;
  if (!registry) return;
  // One Update to the registry: a worker that died while sending it is noticed after 30 s, not 5 minutes.
  const acts = wf.proxyActivities<PreflightActivities>({
    taskQueue: info.taskQueue,
    startToCloseTimeout: '30 seconds',
    retry: { maximumAttempts: 10 },
  });
  await acts.releaseWorkloads({ registry, holder: info.workflowId }).catch((e: unknown) => {
    // A hold left behind is taken over by the next run that asks (activities/preflight.ts).
    event(`could not release the workload holds: ${(e as Error).message}`);
  });
}
