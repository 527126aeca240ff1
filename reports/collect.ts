/**
 * A large plan's run is a root workflow and one child per shard (README, Scale); its record is theirs
 * merged. Reports, `drover status` and the bench read a run through here.
 */
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import type { ChainProgress } from '../contracts/activities';
import { progressQuery } from '../workflows/messages';
import type { RunRecord, ShardResult, StepRecord } from '../contracts/record';

/** The root's record with every shard's steps and events added (events in time order). */
export function mergeRecords(root: RunRecord, parts: readonly RunRecord[]): RunRecord {
  if (parts.length === 0) return root;
  return {
    ...root,
    steps: [...root.steps, ...parts.flatMap((p) => p.steps)],
    events: [...root.events, ...parts.flatMap((p) => p.events)].sort((a, b) => a.at - b.at),
  };
}

/** Each shard's own record, in shard order; a shard not started yet, or not answering, is left out. */
export async function shardRecords(client: Client, root: RunRecord): Promise<RunRecord[]> {
  const parts = await Promise.all((root.shards ?? []).map((s) => shardRecord(client, s.workflowId)));
  return parts.filter((p): p is RunRecord => p !== undefined);
}

export async function withShards(client: Client, root: RunRecord): Promise<RunRecord> {
  if (!root.shards?.length) return root;
  return mergeRecords(root, await shardRecords(client, root));
}

async function shardRecord(client: Client, workflowId: string): Promise<RunRecord | undefined> {
  const handle = client.workflow.getHandle(workflowId);
  try {
    const desc = await handle.describe();
    if (desc.status.name === 'COMPLETED') return ((await handle.result()) as ShardResult).record;
    return await handle.query(progressQuery);
  } catch {
    return undefined;
  }
}

/**
 * The steps inside chains (workflows/chains.ts) that an execution's record does not show yet: a chain's
 * activity reports its steps when it ends, and meanwhile, in its heartbeats (every few seconds), the steps
 * it finished and the one it is on. Read from the execution's pending activities; empty once it closed.
 */
export async function chainProgress(
  client: Client,
  workflowId: string,
  described?: WorkflowExecutionDescription,
): Promise<StepRecord[]> {
  let desc = described;
  try {
    desc ??= await client.workflow.getHandle(workflowId).describe();
  } catch {
    return [];
  }
  if (desc.status.name !== 'RUNNING') return [];
  const steps: StepRecord[] = [];
  for (const a of desc.raw.pendingActivities ?? []) {
    const payloads = a.heartbeatDetails?.payloads;
    if (a.activityType?.name !== 'runSteps' || !payloads?.length) continue;
    const progress = await decodeFromPayloadsAtIndex<ChainProgress>(
      client.workflow.options.loadedDataConverter,
      0,
      payloads,
    ).catch(() => undefined);
    for (const out of progress?.done ?? []) {
      const { stepId, kind, startedAt, endedAt, attempt, changed, message } = out;
      steps.push({
        id: stepId,
        kind,
        site: '',
        status: 'succeeded',
        attempts: attempt,
        startedAt,
        endedAt,
        changed,
        message,
      });
    }
    const now = progress?.running;
    if (now)
      steps.push({
        id: now.stepId,
        kind: now.kind,
        site: now.site,
        status: 'running',
        attempts: 0,
        startedAt: now.startedAt,
      });
  }
  return steps;
}

/** `record` with what its executions' chains reported so far (`chainProgress`) on steps it shows as not done. */
export async function withChainProgress(client: Client, record: RunRecord, workflowIds: string[]): Promise<RunRecord> {
  const byId = new Map(record.steps.map((s) => [s.id, s]));
  for (const list of await Promise.all(workflowIds.map((id) => chainProgress(client, id)))) {
    for (const seen of list) {
      const r = byId.get(seen.id);
      if (!r || (r.status !== 'pending' && r.status !== 'running')) continue;
      const { kind: _kind, site: _site, ...news } = seen;
      Object.assign(r, news, { attempts: r.attempts + seen.attempts });
    }
  }
  return record;
}
