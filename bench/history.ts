/**
 * One execution's history, in pages of `pageSize` events. The root of a large run holds every shard's
 * result (its record, ~170 kB for 600 steps) in its history: read it 10 events at a time, or a page is
 * larger than one gRPC message (4 MB), which the client retries for minutes before giving up.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

export interface HistoryStats {
  events: number;
  bytes: number;
  /** Events by type (`ACTIVITY_TASK_SCHEDULED`, ...). */
  types: Map<string, number>;
  /** Why workflow tasks failed (the cause and the failure's message), one line each. */
  taskFailures: string[];
}

export async function historyStats(client: Client, workflowId: string, pageSize = 200): Promise<HistoryStats> {
  const stats: HistoryStats = { events: 0, bytes: 0, types: new Map(), taskFailures: [] };
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId },
      maximumPageSize: pageSize,
      ...(nextPageToken ? { nextPageToken } : {}),
    });
    for (const e of page.history?.events ?? []) {
      stats.events++;
      stats.bytes += temporal.api.history.v1.HistoryEvent.encode(e).finish().length;
      const name = temporal.api.enums.v1.EventType[e.eventType!]!.replace('EVENT_TYPE_', '');
      stats.types.set(name, (stats.types.get(name) ?? 0) + 1);
      const failed = e.workflowTaskFailedEventAttributes;
      if (failed) {
        const cause = temporal.api.enums.v1.WorkflowTaskFailedCause[failed.cause ?? 0];
        stats.taskFailures.push(`event ${String(e.eventId)}: ${cause}: ${failed.failure?.message ?? ''}`.slice(0, 300));
      }
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return stats;
}
