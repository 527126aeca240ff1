/**
 * The process that hosts Drover's workflows and activities. One Temporal Worker per task queue:
 * `drover` (the orchestration: workflows and runbook compilation) and one per site (`drover-<site>`),
 * so a site's activities can run on a machine that reaches that site (`drover worker --site dc-west`).
 */
import type { DataConverter } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { NativeConnection, WorkflowBundle } from '@temporalio/worker';
import type winston from 'winston';
import { createActivities, preflightActivities } from './activities';
import { createWorkerLogger } from './activities/logger';
import { createSimulator } from './providers/simulator';
import { createPostgres } from './providers/postgres';
import { createVsphere } from './providers/vsphere';
import { ORCHESTRATION_QUEUE } from './workflows/messages';

export interface DroverWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  /** Run the orchestration queue (workflows + compilation) in this process. */
  orchestration: boolean;
  /** Site task queues to serve. */
  siteQueues: string[];
  /** Runbook paths and the simulator's state folder are relative to this. */
  cwd: string;
  logger?: winston.Logger;
  /** A prebuilt workflow bundle (tests build it once); otherwise workflows/ is bundled at start. */
  workflowBundle?: WorkflowBundle;
  /** Overrides the orchestration queue (tests use one per test). */
  orchestrationQueue?: string;
  /** Payload encryption (security/codec.ts `dataConverterFromEnv`); a prebuilt bundle must have its failureConverterPath. */
  dataConverter?: DataConverter;
}

export async function createDroverWorkers(opts: DroverWorkerOptions): Promise<Worker[]> {
  const logger = opts.logger ?? createWorkerLogger();
  const providers = {
    simulator: createSimulator(opts.cwd),
    vsphere: createVsphere({ cwd: opts.cwd }),
    postgres: createPostgres({ cwd: opts.cwd }),
  };
  const activities = createActivities({ providers, cwd: opts.cwd, logger });
  const workers: Worker[] = [];
  if (opts.orchestration) {
    workers.push(
      await Worker.create({
        connection: opts.connection,
        namespace: opts.namespace,
        taskQueue: opts.orchestrationQueue ?? ORCHESTRATION_QUEUE,
        ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
        ...(opts.workflowBundle
          ? { workflowBundle: opts.workflowBundle }
          : { workflowsPath: require.resolve('./workflows') }),
        activities: { ...activities, ...preflightActivities },
      }),
    );
  }
  for (const taskQueue of [...new Set(opts.siteQueues)]) {
    workers.push(
      await Worker.create({
        connection: opts.connection,
        namespace: opts.namespace,
        taskQueue,
        ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
        activities,
        maxConcurrentActivityTaskExecutions: 500,
      }),
    );
  }
  return workers;
}

/** Runs workers until one stops (or a signal shuts them all down), then shuts down the rest. */
export async function runWorkers(workers: Worker[]): Promise<void> {
  const runs = workers.map((w) => w.run());
  try {
    await Promise.race(runs);
  } finally {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.allSettled(runs);
  }
}
