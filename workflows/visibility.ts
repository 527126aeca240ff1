/**
 * The run's search attributes (workflows/search.ts): its plan and mode once compiled, its result when it
 * ends, so `drover list`, `drover history` and the Web UI filter runs on the server.
 *
 * Setting an attribute the namespace has not registered fails the workflow task, so the run asks first
 * (a local activity, recorded in history, so a replay takes the same path) and sets them only when all
 * are registered: `drover server` registers them; a cluster needs them created once (README).
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
  const { registeredSearchAttributes } = wf.proxyLocalActivities<VisibilityActivities>({
    startToCloseTimeout: '10 seconds',
    retry: { maximumAttempts: 3 },
  });
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
