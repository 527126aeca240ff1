/**
 * A large plan's run is a root workflow and one child per shard (README, Scale); its record is theirs
 * merged. Reports, `drover status` and the bench read a run through here.
 */
import type { Client } from '@temporalio/client';
import { progressQuery } from '../workflows/messages';
import type { RunRecord, ShardResult } from '../contracts/record';

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
