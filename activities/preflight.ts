/**
 * Checks before a run touches anything, shared by `drover run` (before it starts the workflow) and the
 * workflow itself (so a run started with the temporal CLI or a schedule is checked too):
 * - every site's task queue has a worker polling it, else the run would show a step "running" forever;
 * - no other run holds any of its workloads (workflows/hold.ts).
 */
import { WithStartWorkflowOperation } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { HOLD_REGISTRY_TYPE, acquireUpdate, holdsQuery, releaseUpdate } from '../workflows/hold';
import type { HoldEntry, HoldRequest } from '../workflows/hold';

export interface SiteQueue {
  site: string;
  taskQueue: string;
}

/** temporal.api.enums.v1: TASK_QUEUE_KIND_NORMAL and TASK_QUEUE_TYPE_ACTIVITY (numbers, to keep @temporalio/proto out of the runtime). */
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE_ACTIVITY = 2;

/** The sites whose activity task queue no worker polls (Temporal's task-queue description). */
export async function unservedSites(client: Client, sites: SiteQueue[]): Promise<SiteQueue[]> {
  const out: SiteQueue[] = [];
  for (const s of sites) {
    const res = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: s.taskQueue, kind: TASK_QUEUE_KIND_NORMAL },
      taskQueueType: TASK_QUEUE_TYPE_ACTIVITY,
    });
    if ((res.pollers ?? []).length === 0) out.push(s);
  }
  return out;
}

/** What to tell a person when no worker serves some sites. */
export function unservedMessage(sites: SiteQueue[]): { message: string; hint: string } {
  const names = sites.map((s) => `${s.site} (task queue ${s.taskQueue})`).join(', ');
  return {
    message: `no worker serves site${sites.length === 1 ? '' : 's'} ${names}: its steps would wait forever`,
    hint: `start one where the site can be reached: ${sites.map((s) => `drover worker --site ${s.site}${s.taskQueue === `drover-${s.site}` ? '' : `=${s.taskQueue}`}`).join('; ')}`,
  };
}

/** Fails the run (nothing has been done yet) when a site has no worker. */
export async function requireServedSites(client: Client, sites: SiteQueue[]): Promise<void> {
  const missing = await unservedSites(client, sites);
  if (missing.length === 0) return;
  const { message, hint } = unservedMessage(missing);
  throw ApplicationFailure.create({ type: 'SiteUnserved', nonRetryable: true, message: `${message}; ${hint}` });
}

/** Runs other than `self` that hold any of `workloads` in `registry`, with the workloads each holds. */
export async function holdersOf(
  client: Client,
  registry: string,
  workloads: string[],
  self?: string,
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const wanted = new Set(workloads);
  for (const e of await holdsIn(client, registry)) {
    const mine = e.workloads.filter((w) => wanted.has(w));
    if (e.holder !== self && mine.length > 0 && (await isOpen(client, e.holder))) out.set(e.holder, mine);
  }
  return out;
}

/** What a registry holds; nothing when it is not running. */
export async function holdsIn(client: Client, registry: string): Promise<HoldEntry[]> {
  try {
    const handle = client.workflow.getHandle(registry);
    if ((await handle.describe()).status.name !== 'RUNNING') return [];
    return await handle.query(holdsQuery);
  } catch (e) {
    if ((e as Error).name === 'WorkflowNotFoundError') return [];
    throw e;
  }
}

export function inUseMessage(holders: Map<string, string[]>): { message: string; hint: string } {
  const [holder, workloads] = [...holders][0]!;
  const list = workloads.slice(0, 5).join(', ') + (workloads.length > 5 ? ` and ${workloads.length - 5} more` : '');
  return {
    message: `${list} ${workloads.length === 1 ? 'is' : 'are'} in use by run ${holder}: one recovery at a time per workload`,
    hint: `wait for it to end (\`drover status ${holder}\`), or end it: \`drover commit ${holder}\`, \`drover rollback ${holder}\` or \`drover cancel ${holder}\``,
  };
}

/**
 * Holds every workload of `request.holder` in `registry` (started on `taskQueue` when not running), or
 * none: when another open run holds one, fails with `InUse`, naming that run. A holder that has ended
 * without releasing (terminated) is evicted first. Idempotent: a retry finds its own holds and keeps them.
 */
export async function acquireHolds(
  client: Client,
  registry: string,
  request: HoldRequest,
  taskQueue: string,
): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const result = await client.workflow.executeUpdateWithStart(acquireUpdate, {
      args: [request],
      startWorkflowOperation: new WithStartWorkflowOperation(HOLD_REGISTRY_TYPE, {
        workflowId: registry,
        taskQueue,
        args: [[]],
        workflowIdConflictPolicy: 'USE_EXISTING',
      }),
    });
    if (result.held) return;
    const open = new Map<string, string[]>();
    for (const h of result.holders) {
      if (await isOpen(client, h.holder)) open.set(h.holder, h.workloads);
      else await releaseHolds(client, registry, h.holder);
    }
    if (open.size > 0) {
      const { message, hint } = inUseMessage(open);
      throw ApplicationFailure.create({ type: 'InUse', nonRetryable: true, message: `${message}; ${hint}` });
    }
  }
  throw new Error(`could not hold the workloads in ${registry}: their holders changed three times`);
}

/** Releases what `holder` holds in `registry` (nothing to do when it holds nothing, or the registry has ended). */
export async function releaseHolds(client: Client, registry: string, holder: string): Promise<void> {
  try {
    await client.workflow.getHandle(registry).executeUpdate(releaseUpdate, { args: [{ holder }] });
  } catch (e) {
    if ((e as Error).name !== 'WorkflowNotFoundError') throw e;
  }
}

async function isOpen(client: Client, workflowId: string): Promise<boolean> {
  try {
    return (await client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
  } catch (e) {
    if ((e as Error).name === 'WorkflowNotFoundError') return false;
    throw e;
  }
}
