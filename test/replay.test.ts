/**
 * Replays a recorded history of a real run (the webshop in test mode, with a worker killed mid-run)
 * against the current workflow code. A change to the interpreter that would break runs already in
 * flight (a DR run can last hours) fails here: guard it with `patched()` instead.
 * Re-record after an intended, patched change: RECORD_HISTORY=1 npx jest test/integration/crash.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';

test('the current workflow code replays the recorded webshop run', async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const history = temporal.api.history.v1.History.decode(
    readFileSync(join(__dirname, 'histories', 'webshop-test-crash.pb')),
  );
  expect(history.events.length).toBeGreaterThan(100);
  await expect(
    Worker.runReplayHistory({ workflowsPath: require.resolve('../workflows') }, history, 'webshop-test-crash'),
  ).resolves.toBeUndefined();
});
