/**
 * Checks before a run touches anything, shared by `drover run` (before it starts the workflow) and the
 * workflow itself (so a run started with the temporal CLI or a schedule is checked too):
 * - every site's task queue has a worker polling it, else the run would show a step "running" forever;
 * - no other run holds any of its workloads (workflows/hold.ts).
 */
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { HOLD_WORKFLOW_TYPE, heldWorkload, releaseSignal } from '../workflows/hold';
import type { HoldInput } from '../workflows/hold';

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

/** Runs that hold any of `holdIds` other than `self`, with the workloads each holds. */
export async function holdersOf(client: Client, holdIds: string[], self?: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  await forEachLimited(holdIds, async (id) => {
    const holder = await runningHolder(client, id);
    if (!holder || holder.holder === self || !(await isOpen(client, holder.holder))) return;
    out.set(holder.holder, [...(out.get(holder.holder) ?? []), heldWorkload(id)]);
  });
  return out;
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
 * Holds every workload for `input.holder`, or none: when another open run holds one, releases what it took
 * and fails with `InUse`, naming that run. Idempotent: a retry finds its own holds and keeps them.
 */
export async function acquireHolds(client: Client, holdIds: string[], input: HoldInput, taskQueue: string) {
  const taken: string[] = [];
  const refused = new Map<string, string[]>();
  await forEachLimited(holdIds, async (id) => {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await client.workflow.start(HOLD_WORKFLOW_TYPE, {
          workflowId: id,
          taskQueue,
          args: [input],
          memo: { holder: input.holder, plan: input.plan, mode: input.mode },
        });
        taken.push(id);
        return;
      } catch (e) {
        if ((e as Error).name !== 'WorkflowExecutionAlreadyStartedError') throw e;
      }
      const holder = await runningHolder(client, id);
      if (holder?.holder === input.holder) return; // ours already (a retry, or a run continuing)
      if (holder && (await isOpen(client, holder.holder))) {
        refused.set(holder.holder, [...(refused.get(holder.holder) ?? []), heldWorkload(id)]);
        return;
      }
      // Left behind by a run that ended without releasing it (terminated): take it over.
      await client.workflow
        .getHandle(id)
        .terminate(`its run ${holder?.holder ?? '(unknown)'} has ended`)
        .catch(() => undefined);
    }
    throw new Error(`could not hold ${id}: it changed hands three times`);
  });
  if (refused.size === 0) return;
  await releaseHolds(client, taken, input.holder);
  const { message, hint } = inUseMessage(refused);
  throw ApplicationFailure.create({ type: 'InUse', nonRetryable: true, message: `${message}; ${hint}` });
}

/** Releases the holds of `holder` (a hold already gone, or another run's, is left alone). */
export async function releaseHolds(client: Client, holdIds: string[], holder: string): Promise<void> {
  await forEachLimited(holdIds, (id) =>
    client.workflow
      .getHandle(id)
      .signal(releaseSignal, { holder })
      .catch((e: Error) => {
        if (e.name !== 'WorkflowNotFoundError') throw e;
      }),
  );
}

/** The run holding `id`, when its hold is running (the holder's id is in the hold's memo). */
async function runningHolder(client: Client, id: string): Promise<{ holder: string } | undefined> {
  try {
    const d = await client.workflow.getHandle(id).describe();
    if (d.status.name !== 'RUNNING') return undefined;
    const holder = (d.memo as { holder?: string } | undefined)?.holder;
    return holder ? { holder } : undefined;
  } catch (e) {
    if ((e as Error).name === 'WorkflowNotFoundError') return undefined;
    throw e;
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

/** Runs `fn` over `items`, at most 32 at a time: a 2,000-workload plan holds 2,000 workloads. */
async function forEachLimited<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(32, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(lanes);
}
