/**
 * The preflight activities (the checks and holds themselves are in activities/preflight.ts): every site has
 * a worker, and the run holds its workloads until it ends. They run on the orchestration queue, with the
 * worker's Temporal client.
 */
import { Context } from '@temporalio/activity';
import type { HoldRequest } from '../workflows/hold';
import { acquireHolds, releaseHolds, requireServedSites } from './preflight';
import type { SiteQueue } from './preflight';

export const siteAndHoldActivities = {
  async checkSites(input: { sites: SiteQueue[] }): Promise<void> {
    await requireServedSites(Context.current().client, input.sites);
  },
  async holdWorkloads(input: { registry: string; hold: HoldRequest; taskQueue: string }): Promise<void> {
    const ctx = Context.current();
    const beat = setInterval(() => ctx.heartbeat(), 2000);
    try {
      await acquireHolds(ctx.client, input.registry, input.hold, input.taskQueue);
    } finally {
      clearInterval(beat);
    }
  },
  async releaseWorkloads(input: { registry: string; holder: string }): Promise<void> {
    await releaseHolds(Context.current().client, input.registry, input.holder);
  },
};
