/**
 * People steering a run: a failed step that waits for a decision (onFailure: pause) is retried and then
 * skipped; an approval that times out rejects as its runbook says; pause holds new steps until resume.
 */
import { failedRecord, Scenario, step, useHarness, waitForRecord } from './harness';
import { progressQuery } from '../../workflows/messages';
import type { RunRecord } from '../../contracts/record';

const t = useHarness();

test('onFailure: pause waits for a person, who retries the step, then skips it', async () => {
  const s = Scenario.webshop(t.h, (doc) => {
    doc.setIn(['groups', 2, 'workloads', 0, 'actions'], {
      validate: { onFailure: 'pause', retry: { maxAttempts: 1 } },
    });
    doc.setIn(['simulation', 'faults'], [{ operation: 'validate', workload: 'web-1', effect: 'fail-always' }]);
  });
  await s.startWorkers();
  try {
    const handle = await s.start('test');
    const waiting = (r: RunRecord) => step(r, 'web-1/validate').status === 'waiting';
    await waitForRecord(handle, 'the failed validation to wait', waiting);
    // Other work goes on meanwhile: web-2 is validated while web-1 waits.
    await waitForRecord(handle, 'web-2 to validate', (r) => step(r, 'web-2/validate').status === 'succeeded');
    const refused = await handle
      .executeUpdate('retryStep', { args: [{ step: 'web-2/validate', by: 'alice' }] })
      .catch((e: { cause?: Error }) => e);
    expect((refused as { cause?: Error }).cause?.message).toContain('is not waiting after a failure');
    await handle.executeUpdate('retryStep', { args: [{ step: 'web-1/validate', by: 'alice' }] });
    await waitForRecord(
      handle,
      'the retry to fail and wait again',
      (r) => waiting(r) && step(r, 'web-1/validate').attempts === 2,
    );
    await handle.executeUpdate('skipStep', {
      args: [{ step: 'web-1/validate', by: 'bob', comment: 'known flaky probe' }],
    });
    const record = (await handle.result()) as RunRecord;
    expect(record.status).toBe('succeeded');
    expect(step(record, 'web-1/validate')).toMatchObject({ status: 'skipped', attempts: 2 });
    expect(step(record, 'web-1/validate').decisions!.map((d) => `${d.decision} by ${d.by}`)).toEqual([
      'retry by alice',
      'skip by bob',
    ]);
    expect(step(record, 'web/warm-cache').status).toBe('succeeded');
  } finally {
    await s.stopWorkers();
  }
});

test('an approval that times out rejects, as the runbook says, and nothing is recovered', async () => {
  const s = Scenario.webshop(t.h, (doc) => doc.setIn(['steps', 0, 'approval', 'timeout'], '1s'));
  await s.startWorkers();
  try {
    const { record, message } = await failedRecord(await s.start('planned-migration'));
    expect(record.failedStep).toBe('plan/approve-failover');
    expect(message).toContain('no quorum of 2');
    expect(step(record, 'plan/approve-failover').decisions).toEqual([
      expect.objectContaining({ by: 'timeout', decision: 'rejected-on-timeout' }),
    ]);
    expect(record.steps.filter((x) => x.workload && x.status !== 'not-run')).toEqual([]);
  } finally {
    await s.stopWorkers();
  }
});

test('pause holds every new step until resume', async () => {
  const s = Scenario.webshop(t.h);
  await s.startWorkers();
  try {
    const handle = await s.start('test');
    await handle.signal('pause', { by: 'carol' });
    await waitForRecord(handle, 'the pause to apply', (r) => r.status === 'paused');
    await new Promise((res) => setTimeout(res, 1500));
    let record = await handle.query(progressQuery);
    // The owner's approval is given, but nothing after it starts while paused.
    expect(record.steps.filter((x) => x.workload && x.status !== 'pending')).toEqual([]);
    await handle.signal('resume', { by: 'carol' });
    record = (await handle.result()) as RunRecord;
    expect(record.status).toBe('succeeded');
    expect(record.events.map((e) => e.text)).toEqual(
      expect.arrayContaining([expect.stringContaining('paused by carol'), 'resumed by carol']),
    );
  } finally {
    await s.stopWorkers();
  }
});
