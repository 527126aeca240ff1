/**
 * Replays recorded histories of real runs (the webshop in test mode, with a worker killed mid-run) against
 * the current workflow code. A change to the interpreter that would break runs already in flight (a DR
 * run can last hours) fails here: guard it with `patched()` instead. After an intended, patched change,
 * record a run of the new code beside the old ones (which keep the unpatched path replaying):
 * RECORD_HISTORY=webshop-test-crash-<what changed> npx jest test/integration/crash.
 *
 * - webshop-test-crash: before the critical-path-first start order (plan order).
 * - webshop-test-crash-critical-path: with it (the patch marker drover-critical-path-first-v1).
 * - webshop-test-crash-sa-activity: the search-attribute check as an activity, not a local one (the marker
 *   drover-search-attributes-by-activity-v1; workflows/visibility.ts says why).
 * - webshop-test-shards-root, webshop-test-shards-shard: a split plan's root (its commit going out in
 *   turns, drover-commit-in-turns-v1) and one of its shards; recorded with
 *   RECORD_HISTORY=webshop-test-shards npx jest test/integration/shards -t 'split plan runs test'.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';

const HISTORIES = readdirSync(join(__dirname, 'histories'))
  .filter((f) => f.endsWith('.pb'))
  .map((f) => f.slice(0, -3));

test.each(HISTORIES)('the current workflow code replays the recorded run %s', async (name) => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const history = temporal.api.history.v1.History.decode(readFileSync(join(__dirname, 'histories', `${name}.pb`)));
  expect(history.events.length).toBeGreaterThan(100);
  // The recorded run's own id: a root names its shards after it (`<id>.shard-N`).
  const workflowId = history.events[0]!.workflowExecutionStartedEventAttributes?.workflowId || name;
  await expect(
    Worker.runReplayHistory({ workflowsPath: require.resolve('../workflows') }, history, workflowId),
  ).resolves.toBeUndefined();
});
