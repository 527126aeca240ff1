/**
 * Recovery an operator can trust, on a real dev server: past the point of no return nothing is undone
 * behind the operator's back (a failure pauses, cancel keeps), a commit window ends the run (commit,
 * rollback, or the runbook's timeout), a switchover proves the replica caught up before promoting, a
 * failover from an old point waits for someone to accept the loss, one run at a time holds a workload, and
 * a site no worker serves is named at once.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { Document } from 'yaml';
import { holdsIn } from '../../activities/preflight';
import { progressQuery } from '../../workflows/messages';
import type { RunRecord } from '../../contracts/record';
import { failedRecord, Scenario, step, useHarness, waitForRecord } from './harness';

const t = useHarness();

/** No DNS endpoint in these tests: the switch is a command that succeeds. */
const withoutDns = (doc: Document) => {
  doc.setIn(['steps', 1], {
    name: 'switch-dns',
    at: 'after',
    modes: ['planned-migration', 'disaster-recovery', 'failback'],
    command: { argv: ['node', '-e', 'process.exit(0)'] },
    compensation: 'none',
  });
};

async function approved(s: Scenario, mode: 'planned-migration' | 'disaster-recovery'): Promise<WorkflowHandle> {
  const handle = await s.start(mode);
  for (const by of ['alice', 'carol']) await handle.signal('approve', { step: 'plan/approve-failover', by });
  return handle;
}

const awaitingCommit = (handle: WorkflowHandle) =>
  waitForRecord(handle, 'the commit window', (r) => r.status === 'awaiting-commit');

async function siteState(s: Scenario) {
  const inv = await s.inventory();
  const east = inv.sites['dc-east']!.workloads['orders-db']!;
  const west = inv.sites['dc-west']!.workloads['orders-db']!;
  return { east, west };
}

test('a validation that fails after a failover pauses with the recovered workloads running; retry-step completes it; commit ends it', async () => {
  const s = Scenario.webshop(t.h, (doc) => {
    withoutDns(doc);
    doc.setIn(['simulation', 'faults'], [{ operation: 'validate', workload: 'orders-db', effect: 'fail', times: 3 }]);
  });
  await s.seed();
  await s.startWorkers();
  try {
    const handle = await approved(s, 'disaster-recovery');
    const paused = await waitForRecord(handle, 'the validation to pause', (r) =>
      ['waiting'].includes(step(r, 'orders-db/validate').status),
    );
    expect(step(paused, 'orders-db/validate')).toMatchObject({ attempts: 3, error: { type: 'SimulatedFault' } });
    // Nothing was undone: the recovered database runs at the recovery site, promoted.
    const { west } = await siteState(s);
    expect(west.instances.production?.power).toBe('on');
    expect(west.replicaPromoted).toBe(true);
    expect(paused.steps.filter((x) => x.compensation)).toEqual([]);

    // The fault is gone (it fired three times): a person retries the step.
    await handle.executeUpdate('retryStep', { args: [{ step: 'orders-db/validate', by: 'bob' }] });
    await awaitingCommit(handle);
    // Commit is refused to nobody, and taken once.
    await handle.executeUpdate('commit', { args: [{ by: 'alice', comment: 'checked the shop' }] });
    const record = (await handle.result()) as RunRecord;
    expect(record.status).toBe('succeeded');
    expect(step(record, 'orders-db/validate')).toMatchObject({ status: 'succeeded' });
    expect(record.commitWindow?.decision).toMatchObject({ decision: 'commit', by: 'alice' });
  } finally {
    await s.stopWorkers();
  }
});

test('rollback undoes a recovery in reverse dependency order and brings the protected side back', async () => {
  const s = Scenario.webshop(t.h, withoutDns);
  await s.seed();
  await s.startWorkers();
  try {
    const handle = await approved(s, 'disaster-recovery');
    await awaitingCommit(handle);
    expect((await siteState(s)).west.instances.production?.power).toBe('on');
    await handle.executeUpdate('rollback', { args: [{ by: 'carol' }] });
    const record = (await handle.result()) as RunRecord;
    expect(record.status).toBe('rolled-back');
    const undo = (id: string) => step(record, id).compensation!;
    // The recovered copy is powered off before it is deleted, before the replica is demoted, before the
    // source is unfenced, before the source is powered back on.
    const chain = [
      'orders-db/powerOn',
      'orders-db/restore',
      'orders-db/promote',
      'orders-db/fence',
      'orders-db/shutdown',
    ];
    for (const id of chain) expect(undo(id).status).toBe('succeeded');
    for (let i = 1; i < chain.length; i++)
      expect(undo(chain[i - 1]!).endedAt).toBeLessThanOrEqual(undo(chain[i]!).startedAt);
    // The DNS switch is undone first of all: it depends on every workload.
    expect(record.steps.find((x) => x.id === 'plan/switch-dns')?.status).toBe('succeeded');
    const { east, west } = await siteState(s);
    expect(east.instances.production).toMatchObject({ power: 'on' });
    expect(east.instances.production?.fenced).toBeUndefined();
    expect(west.instances.production).toBeUndefined();
    expect(west.replicaPromoted).toBeUndefined();
  } finally {
    await s.stopWorkers();
  }
});

test('a commit window that times out does what the runbook says', async () => {
  const s = Scenario.webshop(t.h, (doc) => {
    withoutDns(doc);
    doc.set('commit', { timeout: '1s', onTimeout: 'rollback' });
  });
  await s.seed();
  await s.startWorkers();
  try {
    const record = (await (await approved(s, 'disaster-recovery')).result()) as RunRecord;
    expect(record.status).toBe('rolled-back');
    expect(record.commitWindow?.decision).toMatchObject({ decision: 'rollback', by: 'timeout' });
    expect((await siteState(s)).west.instances.production).toBeUndefined();
  } finally {
    await s.stopWorkers();
  }
});

test('a planned migration whose replica cannot catch up stops before promoting, naming both positions', async () => {
  const s = Scenario.webshop(t.h, (doc) => {
    withoutDns(doc);
    doc.setIn(
      ['simulation', 'faults'],
      [{ operation: 'finalSync', workload: 'payments', effect: 'replication-lag', lag: '3m' }],
    );
  });
  await s.seed();
  const before = await s.inventory();
  await s.startWorkers();
  try {
    const { record, message } = await failedRecord(await approved(s, 'planned-migration'));
    expect(record.status).toBe('failed');
    expect(record.failedStep).toBe('payments/finalSync');
    expect(step(record, 'payments/finalSync').error?.type).toBe('ReplicaBehind');
    expect(message).toMatch(/replica at dc-west reached \S+Z, but the source at dc-east stopped at \S+Z/);
    // Nothing promoted or recovered anywhere; the sources were unfenced and powered back on.
    expect(record.steps.filter((x) => x.kind === 'promote' && x.status !== 'not-run')).toEqual([]);
    expect(step(record, 'orders-db/shutdown').compensation?.status).toBe('succeeded');
    const after = await s.inventory();
    for (const site of ['dc-east', 'dc-west'])
      for (const [name, w] of Object.entries(after.sites[site]!.workloads)) {
        expect(Object.keys(w.instances)).toEqual(Object.keys(before.sites[site]!.workloads[name]!.instances));
        expect(w.instances.production?.power).toBe(before.sites[site]!.workloads[name]!.instances.production?.power);
        expect(w.replicaPromoted).toBeUndefined();
      }
  } finally {
    await s.stopWorkers();
  }
});

test('a disaster recovery from a point older than the RPO waits for someone to accept the loss, and reports it', async () => {
  // The protected site is lost with replicas 10 minutes old: the orders database's RPO is 5m, the plan's 15m.
  const s = Scenario.webshop(t.h, (doc) => {
    withoutDns(doc);
    doc.setIn(['simulation', 'recoveryPointAge'], '10m');
    doc.setIn(['simulation', 'faults'], [{ effect: 'site-down', site: 'protected' }]);
  });
  await s.seed();
  await s.startWorkers();
  try {
    const handle = await approved(s, 'disaster-recovery');
    // The other promotes run beside the waiting one: on a loaded machine they may still be running.
    const waiting = await waitForRecord(
      handle,
      'the data-loss approval',
      (r) => step(r, 'orders-db/promote').status === 'waiting' && step(r, 'app-1/promote').status !== 'running',
    );
    expect(step(waiting, 'orders-db/promote').error).toMatchObject({ type: 'DataLossNotAccepted' });
    expect(step(waiting, 'orders-db/promote').error?.message).toMatch(/10m of data would be lost, over its RPO of 5m/);
    expect((await siteState(s)).west.replicaPromoted).toBeUndefined();
    // The others are within the plan's 15m objective: they were promoted without asking.
    expect(step(waiting, 'app-1/promote').status).toBe('succeeded');
    await handle.executeUpdate('approve', { args: [{ step: 'orders-db/promote', by: 'alice', comment: 'accept' }] });
    await awaitingCommit(handle);
    await handle.signal('commit', { by: 'alice' });
    const record = (await handle.result()) as RunRecord;
    expect(step(record, 'orders-db/promote').message).toMatch(/10m of data lost/);
    expect(step(record, 'orders-db/promote').decisions).toEqual([
      expect.objectContaining({ by: 'alice', decision: 'approved' }),
    ]);
    expect(record.achieved.rpoMs).toBeGreaterThanOrEqual(600_000);
  } finally {
    await s.stopWorkers();
  }
});

test('a test of a plan is refused while its disaster recovery runs, naming that run', async () => {
  const s = Scenario.webshop(t.h, withoutDns);
  await s.startWorkers();
  try {
    const dr = await s.start('disaster-recovery');
    await waitForRecord(dr, 'the approval gate', (r) => step(r, 'plan/approve-failover').status === 'waiting');
    const test = await s.start('test');
    const { message, type } = await failedRecord(test);
    expect(type).toBe('InUse');
    expect(message).toContain(`in use by run ${dr.workflowId}`);
    const registry = `drover-holds.${s.queue}.dc-east+dc-west`;
    expect((await holdsIn(s.client, registry)).map((e) => [e.holder, e.mode])).toEqual([
      [dr.workflowId, 'disaster-recovery'],
    ]);
    // Terminated, the disaster recovery cannot release its holds: the next run finds it closed and takes them.
    await dr.terminate('the test ends it without letting it release');
    const again = await s.start('test', `${s.id}-test-again`);
    expect(((await again.result()) as RunRecord).status).toBe('succeeded');
    // Released at its end: nothing is held, and the registry has ended.
    expect(await holdsIn(s.client, registry)).toEqual([]);
    expect((await s.client.workflow.getHandle(registry).describe()).status.name).toBe('COMPLETED');
  } finally {
    await s.stopWorkers();
  }
});

test('a run for a site no worker serves fails at once, naming the site and the worker to start', async () => {
  const s = Scenario.webshop(t.h);
  // Workers for the orchestration and dc-east only: nobody serves dc-west.
  const west = s.siteQueues().find((q) => q.endsWith('-west'))!;
  s.serveOnly = (q) => q !== west;
  await s.startWorkers();
  try {
    const started = Date.now();
    const handle = await s.start('test');
    const { message, type, record } = await failedRecord(handle);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(type).toBe('SiteUnserved');
    expect(message).toContain(`dc-west (task queue ${west})`);
    expect(message).toContain(`drover worker --site dc-west=${west}`);
    expect(record.steps.filter((x) => x.status !== 'pending' && x.status !== 'not-run')).toEqual([]);
    // Nothing holds the workloads after it.
    expect((await handle.query(progressQuery)).status).toBe('failed');
  } finally {
    await s.stopWorkers();
  }
});
