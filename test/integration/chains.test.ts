/**
 * Step chains on a real Temporal server (workflows/chains.ts): a workload's consecutive steps at one site
 * run as one activity with a record per step; a step that fails in a chain is retried alone with the
 * attempts it has left, and the steps before it are not redone; a step past its own timeout in a chain
 * fails as its own; a chain cancelled mid-way has everything it may have reached undone; while a chain runs,
 * its heartbeats show the steps it finished.
 *
 * With RECORD_HISTORY=<name> the retry test saves its history as test/histories/<name>.pb for the replay
 * test (test/replay.test.ts).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Document } from 'yaml';
import { failedRecord, ROOT, Scenario, step, useHarness } from './harness';
import { progressQuery } from '../../workflows/messages';
import { chainProgress, withChainProgress } from '../../reports/collect';

const t = useHarness();

const fault = (f: Record<string, unknown>) => (doc: Document) => doc.setIn(['simulation', 'faults'], [f]);

/** The activities the run scheduled, by type, and the Web UI summaries of its chains. */
async function scheduled(handle: WorkflowHandle): Promise<{ types: string[]; summaries: string[] }> {
  const history = await handle.fetchHistory();
  const events = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes);
  return {
    types: events.map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name!),
    summaries: events
      .filter((e) => e.activityTaskScheduledEventAttributes!.activityType!.name === 'runSteps')
      .map((e) => JSON.parse(Buffer.from(e.userMetadata!.summary!.data!).toString()) as string),
  };
}

test("a workload's steps at one site run as one activity, each step with its own record", async () => {
  const s = Scenario.webshop(t.h);
  await s.startWorkers();
  try {
    const handle = await s.start('test');
    const record = (await handle.result()) as Awaited<ReturnType<typeof s.runToEnd>>;
    expect(record.status).toBe('succeeded');
    const { types, summaries } = await scheduled(handle);
    expect(summaries).toContain('webshop · orders-db/restore → powerOn → waitReady → validate @ dc-west');
    // Fewer activities than activity steps, and every step recorded as if it had run alone.
    const activitySteps = record.steps.filter((x) => !['barrier', 'approval', 'wait'].includes(x.kind));
    expect(types.filter((x) => x === 'runSteps').length).toBeGreaterThan(3);
    expect(types.filter((x) => x !== 'runSteps' && x !== 'checkSites').length).toBeLessThan(activitySteps.length);
    const chain = ['restore', 'powerOn', 'waitReady', 'validate'].map((k) => step(record, `orders-db/${k}`));
    for (const [i, r] of chain.entries()) {
      expect(r).toMatchObject({ status: 'succeeded', attempts: 1, changed: r.kind !== 'validate' });
      expect(r.message).toBeTruthy();
      expect(r.startedAt!).toBeLessThanOrEqual(r.endedAt!);
      if (i > 0) expect(chain[i - 1]!.endedAt!).toBeLessThanOrEqual(r.startedAt!);
    }
    expect((await s.effects('dc-west'))['orders-db']!.powerOn).toBe(1);
  } finally {
    await s.stopWorkers();
  }
});

test('a step that fails in a chain is retried alone with the attempts it has left; the steps before it are not redone', async () => {
  const s = Scenario.webshop(t.h, fault({ operation: 'waitReady', workload: 'orders-db', effect: 'fail', times: 2 }));
  await s.startWorkers();
  try {
    const handle = await s.start('test', `${s.id}-chain-retry`);
    const record = (await handle.result()) as Awaited<ReturnType<typeof s.runToEnd>>;
    expect(record.status).toBe('succeeded');
    // Its first try in the chain, then two alone: three, as the runbook's maxAttempts allows.
    expect(step(record, 'orders-db/waitReady')).toMatchObject({ status: 'succeeded', attempts: 3 });
    expect(step(record, 'orders-db/powerOn')).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(step(record, 'orders-db/validate')).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect((await s.effects('dc-west'))['orders-db']).toMatchObject({ restore: 1, powerOn: 1 });
    // After the chain stopped on it, the wait and the validation ran as activities of their own.
    const { types } = await scheduled(handle);
    expect(types.filter((x) => x === 'waitReady')).toHaveLength(1);
    expect(types).toContain('validate');
    if (process.env.RECORD_HISTORY) {
      const history = await handle.fetchHistory();
      writeFileSync(
        join(ROOT, 'test', 'histories', `${process.env.RECORD_HISTORY}.pb`),
        temporal.api.history.v1.History.encode(history).finish(),
      );
    }
  } finally {
    await s.stopWorkers();
  }
});

test('a step that fails for good in a chain fails with one attempt when its error is not retried', async () => {
  const s = Scenario.webshop(t.h, (doc) => {
    fault({ operation: 'powerOn', workload: 'orders-db', effect: 'fail-always' })(doc);
    doc.setIn(['defaults', 'retry', 'nonRetryableErrors'], ['SimulatedFault']);
  });
  await s.seed();
  const before = await s.inventory();
  await s.startWorkers();
  try {
    const { record } = await failedRecord(await s.start('test'));
    expect(record.failedStep).toBe('orders-db/powerOn');
    expect(step(record, 'orders-db/powerOn')).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { type: 'SimulatedFault' },
    });
    expect(step(record, 'orders-db/waitReady').status).toBe('not-run');
    // The restore the chain finished is recorded, and undone.
    expect(step(record, 'orders-db/restore')).toMatchObject({
      status: 'succeeded',
      compensation: { status: 'succeeded' },
    });
    expect(await s.inventory()).toEqual(before);
  } finally {
    await s.stopWorkers();
  }
});

test('a run that stops after a failure tells a chain under way to end its step and start no more', async () => {
  const s = Scenario.webshop(t.h, (doc) => {
    // app-1's power-on fails for good at once (after the database's 12 s wait, priority 1); app-2's chain
    // (power-on, a 12 s wait, a validation) learns of the stop with its next heartbeat (at most every 8 s).
    fault({ operation: 'powerOn', workload: 'app-1', effect: 'fail-always' })(doc);
    doc.setIn(['defaults', 'retry', 'nonRetryableErrors'], ['SimulatedFault']);
    doc.setIn(['simulation', 'latency'], { default: '50ms', waitReady: '12s' });
  });
  await s.seed();
  const before = await s.inventory();
  await s.startWorkers();
  try {
    const { record } = await failedRecord(await s.start('test'));
    expect(record.failedStep).toBe('app-1/powerOn');
    // The step it was on ran to its end (the wait, or the power-on if it heard of the stop first); the
    // validation, 12 s on, never started.
    expect(['succeeded', 'not-run']).toContain(step(record, 'app-2/waitReady').status);
    expect(step(record, 'app-2/validate').status).toBe('not-run');
    expect(step(record, 'app-2/powerOn')).toMatchObject({ status: 'succeeded', compensation: { status: 'succeeded' } });
    expect((await s.effects('dc-west'))['app-2']).toMatchObject({ powerOn: 1 });
    expect(await s.inventory()).toEqual(before);
  } finally {
    await s.stopWorkers();
  }
});

test('a step past its own timeout in a chain fails as its own, and is retried alone', async () => {
  const s = Scenario.webshop(t.h, (doc) => {
    doc.setIn(['simulation', 'latency'], { default: '50ms', waitReady: '3s' });
    doc.setIn(['groups', 0, 'workloads', 0, 'actions', 'waitReady'], { timeout: '1s' });
    doc.setIn(['defaults', 'retry', 'maxAttempts'], 2);
  });
  await s.startWorkers();
  try {
    const { record } = await failedRecord(await s.start('test'));
    expect(record.failedStep).toBe('orders-db/waitReady');
    // The chain's try ended at 1 s (StepTimedOut), then its last try alone timed out as Temporal's.
    expect(step(record, 'orders-db/waitReady')).toMatchObject({ status: 'failed', attempts: 2 });
    expect(step(record, 'orders-db/waitReady').error!.message).toMatch(/timeout/i);
    expect(step(record, 'orders-db/powerOn')).toMatchObject({ status: 'succeeded', attempts: 1 });
  } finally {
    await s.stopWorkers();
  }
});

test('a chain cancelled mid-way finishes its step and says how far it got; that is undone, in reverse order', async () => {
  const s = Scenario.webshop(t.h, (doc) => doc.setIn(['simulation', 'latency'], { default: '50ms', waitReady: '5s' }));
  await s.seed();
  const before = await s.inventory();
  await s.startWorkers();
  try {
    const handle = await s.start('test');
    // The database's power-on is seen at the site (the record learns it when the chain ends).
    const end = Date.now() + 30_000;
    const on = async () =>
      (await s.inventory()).sites['dc-west']!.workloads['orders-db']?.instances['shop-test-bubble']?.power === 'on';
    while (!(await on())) {
      if (Date.now() > end) throw new Error('the database never powered on');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(step(await handle.query(progressQuery), 'orders-db/powerOn').status).toBe('pending');
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();
    const record = await handle.query(progressQuery);
    expect(record.status).toBe('cancelled');
    // Cancelled, the chain finishes the step it is on (it learns of the cancel with its next heartbeat)
    // and the run waits for it to say how far it got: what it did is recorded, and undone, in reverse.
    const undone = { status: 'succeeded', compensation: { status: 'succeeded' } };
    expect(step(record, 'orders-db/powerOn')).toMatchObject(undone);
    expect(step(record, 'orders-db/restore')).toMatchObject(undone);
    expect(step(record, 'orders-db/waitReady').status).toBe('succeeded');
    expect(['succeeded', 'not-run']).toContain(step(record, 'orders-db/validate').status);
    expect(await s.inventory()).toEqual(before);
  } finally {
    await s.stopWorkers();
  }
});

test('while a chain runs, `drover status` shows the steps it finished and the one it is on, from its heartbeats', async () => {
  const s = Scenario.webshop(t.h, (doc) => doc.setIn(['simulation', 'latency'], { default: '50ms', waitReady: '15s' }));
  await s.startWorkers();
  try {
    const handle = await s.start('test');
    // Heartbeats reach the server at most every 8 s (the SDK throttles them to 0.8 of the 10 s timeout).
    const end = Date.now() + 30_000;
    let seen = await chainProgress(s.client, handle.workflowId);
    while (!seen.some((x) => x.id === 'orders-db/waitReady')) {
      if (Date.now() > end) throw new Error(`the chain's progress never showed the wait: ${JSON.stringify(seen)}`);
      await new Promise((r) => setTimeout(r, 200));
      seen = await chainProgress(s.client, handle.workflowId);
    }
    expect(seen.find((x) => x.id === 'orders-db/powerOn')).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(seen.find((x) => x.id === 'orders-db/waitReady')).toMatchObject({ status: 'running', kind: 'waitReady' });
    const record = await handle.query(progressQuery);
    expect(step(record, 'orders-db/powerOn').status).toBe('pending');
    const live = await withChainProgress(s.client, record, [handle.workflowId]);
    expect(step(live, 'orders-db/powerOn')).toMatchObject({
      status: 'succeeded',
      message: expect.stringContaining('orders-db'),
    });
    expect(step(live, 'orders-db/waitReady').status).toBe('running');
    expect(step(live, 'orders-db/validate').status).toBe('pending');
    await handle.cancel();
  } finally {
    await s.stopWorkers();
  }
});
