/**
 * The raw-Temporal baseline's workflow (bench/raw.ts): a plain workflow that runs its list of activity
 * durations, at most `concurrency` at once, with no dependencies, records or anything else of Drover's.
 * What Temporal itself allows on this machine for a share of the same work.
 */
import * as wf from '@temporalio/workflow';

export interface RawActivities {
  pause(ms: number): Promise<void>;
}

const { pause } = wf.proxyActivities<RawActivities>({ startToCloseTimeout: '1 minute' });

export async function rawShard(durations: number[], concurrency: number): Promise<number> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < durations.length) await pause(durations[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
  return durations.length;
}
