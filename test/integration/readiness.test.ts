/**
 * `--mode readiness` on a real server: pre-flight checks that recover nothing, each with a clear pass or
 * fail: replication within RPO, recovery-site capacity, each site reachable, the test network, approvers.
 */
import type { Document } from 'yaml';
import { readinessChecks } from '../../reports/readiness';
import type { RunRecord } from '../../contracts/record';
import { Scenario, useHarness } from './harness';

const t = useHarness();

const faults = (list: Record<string, unknown>[]) => (doc: Document) => doc.setIn(['simulation', 'faults'], list);

async function readiness(s: Scenario) {
  await s.seed();
  const before = await s.inventory();
  await s.startWorkers();
  try {
    const record = (await s.runToEnd('readiness')) as RunRecord;
    // Nothing was recovered, stopped or created.
    expect(await s.inventory()).toEqual(before);
    return readinessChecks(record)!;
  } finally {
    await s.stopWorkers();
  }
}

test('a healthy site is READY, every check passing with what it saw', async () => {
  const r = await readiness(Scenario.webshop(t.h));
  expect(r.ready).toBe(true);
  expect(r.checks.map((c) => c.step).sort()).toEqual(
    [
      'plan/approvers',
      'plan/capacity',
      'plan/reach-dc-east',
      'plan/reach-dc-west',
      'plan/test-network',
      ...['app-1', 'app-2', 'orders-db', 'payments', 'web-1', 'web-2'].map((w) => `${w}/preCheck`),
    ].sort(),
  );
  expect(r.checks.find((c) => c.step === 'orders-db/preCheck')!.detail).toBe('orders-db: replica 4m behind (RPO 5m)');
});

test('replication behind its RPO, a full datastore and an unreachable site each fail their check, and only theirs', async () => {
  const r = await readiness(
    Scenario.webshop(
      t.h,
      faults([
        { operation: 'sync', workload: 'orders-db', effect: 'replication-lag', lag: '40m' },
        { site: 'recovery', operation: 'restore', effect: 'storage-full' },
        { site: 'protected', effect: 'site-down' },
      ]),
    ),
  );
  expect(r.ready).toBe(false);
  const failed = Object.fromEntries(r.checks.filter((c) => !c.passed).map((c) => [c.step, c.detail]));
  expect(failed).toEqual({
    'orders-db/preCheck': 'orders-db: replica 40m behind, over its RPO of 5m',
    'plan/capacity': 'dc-west has no room to recover 6 workload(s): datastore full',
    'plan/reach-dc-east': 'site dc-east is unreachable (simulated site-down)',
  });
});

test("the recovery site's capacityGb is checked against the disks of the workloads it would recover", async () => {
  // orders-db 200 GB, app-1 and app-2 40 GB, payments 20 GB, web-1 and web-2 40 GB (the default): 380 GB.
  const small = await readiness(
    Scenario.webshop(t.h, (doc) => doc.setIn(['sites', 'recovery', 'connection', 'capacityGb'], 300)),
  );
  expect(small.ready).toBe(false);
  expect(small.checks.find((c) => c.step === 'plan/capacity')).toMatchObject({
    passed: false,
    detail: 'dc-west has 300 GB (connection.capacityGb) but recovering 6 workload(s) needs 380 GB',
  });
  const enough = await readiness(
    Scenario.webshop(t.h, (doc) => doc.setIn(['sites', 'recovery', 'connection', 'capacityGb'], 400)),
  );
  expect(enough.checks.find((c) => c.step === 'plan/capacity')).toMatchObject({
    passed: true,
    detail: 'dc-west has room for 6 workload(s): 380 GB of disks of 400 GB',
  });
});
