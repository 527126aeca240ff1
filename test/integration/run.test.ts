/**
 * Runs on a real Temporal dev server against the simulated site: test and cleanup, retries,
 * compensation, cancellation, approvals through the real `temporal` CLI, invalid input.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Document } from 'yaml';
import { failedRecord, Scenario, step, useHarness, waitForRecord } from './harness';
import { progressQuery } from '../../workflows/messages';

const t = useHarness();

const fault = (f: Record<string, unknown>) => (doc: Document) => {
  const faults = (doc.getIn(['simulation', 'faults']) as unknown[] | undefined) ?? [];
  doc.setIn(['simulation', 'faults'], [...((faults as { toJSON?: () => unknown[] }).toJSON?.() ?? []), f]);
};

test('test then cleanup on the three-tier example leaves the simulated site exactly as before', async () => {
  const s = Scenario.webshop(t.h);
  await s.seed();
  const before = await s.inventory();
  await s.startWorkers();
  try {
    const test = await s.runToEnd('test');
    expect(test.status).toBe('succeeded');
    expect(test.steps.filter((x) => x.kind !== 'barrier').every((x) => x.status === 'succeeded')).toBe(true);
    const during = await s.inventory();
    expect(during.sites['dc-west']!.networks).toEqual(['shop-test-bubble']);
    expect(during.sites['dc-west']!.workloads['orders-db']!.instances['shop-test-bubble']).toMatchObject({
      power: 'on',
      ready: true,
    });
    // Production is untouched by a test.
    expect(during.sites['dc-east']).toEqual(before.sites['dc-east']);
    expect(test.achieved.rtoMs).toBeGreaterThan(0);

    const cleanup = await s.runToEnd('cleanup');
    expect(cleanup.status).toBe('succeeded');
    expect(await s.inventory()).toEqual(before);
  } finally {
    await s.stopWorkers();
  }
});

test('a fault injected twice is retried to success, and the VM is powered on once', async () => {
  const s = Scenario.webshop(t.h, fault({ operation: 'powerOn', workload: 'app-1', effect: 'fail', times: 2 }));
  await s.startWorkers();
  try {
    const record = await s.runToEnd('test');
    expect(record.status).toBe('succeeded');
    expect(step(record, 'app-1/powerOn')).toMatchObject({ status: 'succeeded', attempts: 3 });
    expect((await s.effects('dc-west'))['app-1']!.powerOn).toBe(1);
  } finally {
    await s.stopWorkers();
  }
});

test('a permanent fault aborts, compensates in reverse order, and the site ends as it started', async () => {
  const s = Scenario.webshop(t.h, fault({ operation: 'validate', workload: 'web-1', effect: 'fail-always' }));
  await s.seed();
  const before = await s.inventory();
  await s.startWorkers();
  try {
    const handle = await s.start('test');
    const { record, message, type } = await failedRecord(handle);
    expect(type).toBe('RunFailed');
    expect(message).toContain('web-1/validate');
    expect(record.failedStep).toBe('web-1/validate');
    expect(step(record, 'web-1/validate')).toMatchObject({ status: 'failed', attempts: 3 });
    const undo = (id: string) => step(record, id).compensation!;
    for (const id of ['orders-db/powerOn', 'orders-db/restore', 'orders-db/snapshot', 'plan/test-network'])
      expect(undo(id).status).toBe('succeeded');
    // Reverse dependency order: a workload's power-off before its copy is deleted, before its snapshot is
    // removed; the test network only once every copy on it is gone. Independent undos may overlap.
    expect(undo('web-1/powerOn').endedAt).toBeLessThanOrEqual(undo('web-1/restore').startedAt);
    expect(undo('web-1/restore').endedAt).toBeLessThanOrEqual(undo('web-1/snapshot').startedAt);
    const copies = record.steps.filter((x) => x.kind === 'restore' && x.compensation);
    expect(copies.length).toBeGreaterThan(1);
    expect(undo('plan/test-network').startedAt).toBeGreaterThanOrEqual(
      Math.max(...copies.map((x) => x.compensation!.endedAt)),
    );
    expect(await s.inventory()).toEqual(before);
  } finally {
    await s.stopWorkers();
  }
});

test('cancel mid-run compensates what was done', async () => {
  const s = Scenario.webshop(t.h, (doc) => doc.setIn(['simulation', 'latency'], { default: '50ms', waitReady: '5s' }));
  await s.seed();
  const before = await s.inventory();
  await s.startWorkers();
  try {
    const handle = await s.start('test');
    // Wait until the database is powered on, then cancel.
    await waitForRecord(handle, 'the database to power on', (r) => step(r, 'orders-db/powerOn').status === 'succeeded');
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    const record = await handle.query(progressQuery);
    expect(record.status).toBe('cancelled');
    expect(step(record, 'orders-db/powerOn').compensation?.status).toBe('succeeded');
    expect(await s.inventory()).toEqual(before);
  } finally {
    await s.stopWorkers();
  }
});

test('approvals: one given before the gate is kept, and `temporal workflow signal` opens the gate', async () => {
  const s = Scenario.webshop(t.h);
  await s.startWorkers();
  try {
    const handle = await s.start('planned-migration');
    // Bob approves at once, before the run has even compiled its plan.
    await handle.signal('approve', { step: 'plan/approve-failover', by: 'bob' });
    await waitForRecord(handle, 'the gate', (r) => step(r, 'plan/approve-failover').status === 'waiting');
    let record = await handle.query(progressQuery);
    expect(step(record, 'plan/approve-failover').status).toBe('waiting');
    expect(step(record, 'orders-db/preCheck').status).toBe('pending');
    // An approver who is not on the list is refused by the Update's validator.
    const refused = await handle
      .executeUpdate('approve', { args: [{ step: 'plan/approve-failover', by: 'mallory' }] })
      .catch((e: { cause?: Error }) => e);
    expect((refused as { cause?: Error }).cause?.message).toMatch(
      /mallory is not an approver of plan\/approve-failover/,
    );
    await s.temporal(
      'workflow',
      'signal',
      '--workflow-id',
      handle.workflowId,
      '--name',
      'approve',
      '--input',
      '{"step":"plan/approve-failover","by":"alice"}',
    );
    // The DNS switch needs a real endpoint: this run has none, so it fails after every workload has been
    // recovered. Past the point of no return that pauses for a person; nothing is undone behind their back.
    record = await waitForRecord(
      handle,
      'the DNS switch to pause',
      (r) => step(r, 'plan/switch-dns').status === 'waiting',
    );
    expect(step(record, 'plan/approve-failover')).toMatchObject({ status: 'succeeded' });
    expect(step(record, 'plan/approve-failover').decisions!.map((d) => d.by)).toEqual(['bob', 'alice']);
    expect(step(record, 'web-1/validate').status).toBe('succeeded');
    // The operator stops the run: it ends with the recovered workloads kept as they are.
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();
    record = await handle.query(progressQuery);
    expect(record.status).toBe('stopped');
    expect(record.steps.filter((x) => x.compensation)).toEqual([]);
  } finally {
    await s.stopWorkers();
  }
});

test('a second start of the same plan and mode is rejected while the first runs', async () => {
  const s = Scenario.webshop(t.h);
  await s.startWorkers();
  try {
    const first = await s.start('planned-migration', `drover-webshop-planned-migration-${s.id}`);
    await expect(s.start('planned-migration', first.workflowId)).rejects.toBeInstanceOf(
      WorkflowExecutionAlreadyStartedError,
    );
    await first.terminate('test over');
  } finally {
    await s.stopWorkers();
  }
});

test('an invalid runbook started through the Temporal CLI fails at once with its diagnostics', async () => {
  const s = new Scenario(
    t.h,
    'apiVersion: drover.dev/v1\nkind: RecoveryPlan\nmetadata: { name: x }\nobjectives: { rpo: 15m, rto: 1hour }\n',
  );
  await s.startWorkers();
  try {
    const id = `${s.id}-invalid`;
    await s.temporal(
      'workflow',
      'start',
      '--task-queue',
      s.queue,
      '--type',
      'runRecoveryPlan',
      '--workflow-id',
      id,
      '--input',
      '{"runbook":"runbook.yaml","mode":"test"}',
    );
    const handle = t.h.env.client.workflow.getHandle(id);
    const err = await handle.result().catch((e: { cause?: { type?: string; message: string } }) => e);
    expect((err as { cause: { type: string } }).cause.type).toBe('InvalidRunbook');
    expect((err as { cause: { message: string } }).cause.message).toContain(
      'runbook.yaml:4:30: error[duration/invalid]',
    );
    expect((err as { cause: { message: string } }).cause.message).toContain('missing the required key "sites"');
  } finally {
    await s.stopWorkers();
  }
});
