/**
 * The run's search attributes (workflows/search.ts): its plan and mode once compiled, its result when it
 * ends, so `drover list`, `drover history` and the Web UI filter runs on the server.
 *
 * Setting an attribute the namespace has not registered fails the workflow task, so the run asks first (an
 * activity, recorded in history, so a replay takes the same path) and sets them only when all are
 * registered: `drover server` registers them; a cluster needs them created once (README).
 *
 * Runs before `drover-search-attributes-by-activity-v1` asked in a local activity. A worker restarted while
 * one ran could record the local activity's marker in one workflow task and the run's next commands in the
 * following one; the SDK's replay of such a history resolves the local activity before it has read that
 * next task, so the `patched('drover-preflight-v1')` that follows answered false and the run failed every
 * later workflow task with a nondeterminism error (seen in `npm run chaos`). A regular activity's result is
 * an event of its own, which ends the task: nothing can straddle it.
 *
 * Deterministic: imports only @temporalio/workflow, @temporalio/common and pure modules.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import * as wf from '@temporalio/workflow';
import type { VisibilityActivities } from '../activities/visibility';
import { SEARCH_ATTRIBUTES } from './search';

const KEYS = {
  plan: defineSearchAttributeKey(SEARCH_ATTRIBUTES.plan, SearchAttributeType.KEYWORD),
  mode: defineSearchAttributeKey(SEARCH_ATTRIBUTES.mode, SearchAttributeType.KEYWORD),
  result: defineSearchAttributeKey(SEARCH_ATTRIBUTES.result, SearchAttributeType.KEYWORD),
};

/** Sets DroverPlan and DroverMode when the namespace has all three; true when it did (then `publishResult` works). */
export async function publishPlan(plan: string, mode: string): Promise<boolean> {
  // Runs recorded before search attributes replay without asking.
  if (!wf.patched('drover-search-attributes-v1')) return false;
  const options = { startToCloseTimeout: '10 seconds', retry: { maximumAttempts: 3 } } as const;
  const { registeredSearchAttributes } = wf.patched('drover-search-attributes-by-activity-v1')
    ? wf.proxyActivities<VisibilityActivities>({ ...options, taskQueue: wf.workflowInfo().taskQueue })
    : // eslint-disable-next-line no-restricted-properties -- runs recorded before the patch replay with it
      wf.proxyLocalActivities<VisibilityActivities>(options);
  const wanted = Object.values(SEARCH_ATTRIBUTES);
  const known = await registeredSearchAttributes(wanted).catch(() => [] as string[]);
  if (!wanted.every((name) => known.includes(name))) return false;
  wf.upsertSearchAttributes([
    { key: KEYS.plan, value: plan },
    { key: KEYS.mode, value: mode },
  ]);
  return true;
}

/** Sets DroverResult (succeeded, failed, rolled-back, ...) once the run has ended. */
export function publishResult(result: string): void {
  wf.upsertSearchAttributes([{ key: KEYS.result, value: result }]);
}
