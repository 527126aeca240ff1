/**
 * PostgreSQL plans on a real Temporal dev server against real PostgreSQL 15 pairs (test/postgres/cluster.ts):
 * the orders-db example switched over and back under write load with nothing lost, a failover after SIGKILL
 * reporting its loss beside the rows really missing, a point-in-time restore test from the archive, and the
 * mixed web shop (simulated VMs, a real database) tested and cleaned up in one plan.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { compile } from '../../compiler';
import { WORKFLOW_TYPE } from '../../workflows/messages';
import { readinessChecks } from '../../reports/readiness';
import type { RunRecord } from '../../contracts/record';
import { crashUnderLoad, createPair, settingsOf, Writer } from '../postgres/cluster';
import type { PgPair } from '../postgres/cluster';
import { ROOT, Scenario, step, useHarness, waitForRecord } from './harness';

jest.setTimeout(180_000);
const harness = useHarness();

/** A runbook from the examples with the pair's real nodes, archive and test copy in its postgres block. */
function scenario(file: string, pair: PgPair, workload: string, test: Record<string, unknown>): Scenario {
  const doc = parseDocument(readFileSync(join(ROOT, 'runbooks', file), 'utf8'));
  const id = `p${process.pid}-${Date.now() % 100000}`;
  doc.setIn(['sites', 'protected', 'taskQueue'], `${id}-east`);
  doc.setIn(['sites', 'recovery', 'taskQueue'], `${id}-west`);
  doc.delete('steps'); // the people's prompts and approvals of the examples: other tests cover them
  if (doc.has('simulation')) doc.setIn(['simulation', 'latency'], { default: '50ms', restore: '200ms' });
  const groups = doc.get('groups') as { items: { get(k: string): { items: { get(k: string): unknown }[] } }[] };
  for (const g of groups.items)
    for (const w of g.get('workloads').items as unknown as {
      get(k: string): unknown;
      setIn(p: unknown[], v: unknown): void;
    }[])
      if (w.get('name') === workload) w.setIn(['postgres'], settingsOf(pair, { test }));
  return new Scenario(harness.h, doc.toString());
}

/** The orders-db example on `pair`, its test copy from the standby on a free port under the pair's folder. */
async function ordersDb(pair: PgPair): Promise<Scenario> {
  return scenario('orders-db.yaml', pair, 'orders', { port: await pair.freePort(), dataDir: join(pair.root, 'copy') });
}

async function committed(
  s: Scenario,
  mode: 'planned-migration' | 'failback' | 'disaster-recovery',
): Promise<RunRecord> {
  const handle = await s.start(mode, `${s.id}-${mode}`);
  // A runbook without `commit:` ends when it has recovered; one with it waits in the commit window.
  const r = await waitForRecord(
    handle,
    'the end or the commit window',
    (x) => ['awaiting-commit', 'succeeded', 'failed'].includes(x.status),
    120_000,
  );
  if (r.status === 'awaiting-commit') await handle.executeUpdate('commit', { args: [{ by: 'alice' }] });
  return (await handle.result()) as RunRecord;
}

async function missing(pair: PgPair, node: PgPair['primary'], writer: Writer): Promise<number> {
  const present = new Set((await pair.query(node, 'SELECT id FROM drover_load')).map((r) => Number(r.id)));
  return writer.acknowledged.filter((id) => !present.has(id)).length;
}

test('orders-db: a planned migration under write load loses 0 committed rows, reprotect rewinds the old primary, failback loses 0 again', async () => {
  const pair = await createPair();
  const s = await ordersDb(pair);
  try {
    await s.startWorkers();
    const writer = new Writer(pair, pair.primary);
    writer.start();
    const pm = await committed(s, 'planned-migration');
    await writer.stop();
    expect(pm.status).toBe('succeeded');
    expect(step(pm, 'orders/finalSync').message).toMatch(/caught up, zero loss/);
    console.log(
      `planned migration: ${writer.acknowledged.length} rows acknowledged, ${await missing(pair, pair.standby, writer)} missing`,
    );
    expect(writer.acknowledged.length).toBeGreaterThan(10);
    expect(await missing(pair, pair.standby, writer)).toBe(0);

    const reprotect = await s.runToEnd('reprotect');
    expect(reprotect.status).toBe('succeeded');
    expect(step(reprotect, 'orders/reverseReplication').message).toMatch(/rewound \(pg_rewind\)|re-cloned/);
    const [rx] = await pair.query(pair.primary, 'SELECT status FROM pg_stat_wal_receiver');
    expect(rx?.status).toBe('streaming');

    const back = new Writer(pair, pair.standby);
    back.start();
    const fb = await committed(s, 'failback');
    await back.stop();
    expect(fb.status).toBe('succeeded');
    console.log(
      `failback: ${back.acknowledged.length} rows acknowledged, ${await missing(pair, pair.primary, back)} missing`,
    );
    expect(back.acknowledged.length).toBeGreaterThan(10);
    expect(await missing(pair, pair.primary, back)).toBe(0);
    expect(await missing(pair, pair.primary, writer)).toBe(0);
  } finally {
    await s.stopWorkers();
    await pair.remove();
  }
});

test('orders-db: a disaster recovery after the primary is SIGKILLed under load completes and reports the loss beside the rows really missing', async () => {
  const pair = await createPair();
  const s = await ordersDb(pair);
  try {
    await s.startWorkers();
    // The standby falls behind (its primary's walsender is held) while the primary goes on committing.
    const writer = await crashUnderLoad(pair, { loadMs: 600, holdMs: 400 });
    const dr = await committed(s, 'disaster-recovery');
    expect(dr.status).toBe('succeeded');
    expect(step(dr, 'orders/finalSync').message).toMatch(/not running \(in production\); its WAL .* ends at/);
    const promote = step(dr, 'orders/promote');
    const lost = await missing(pair, pair.standby, writer);
    console.log(
      `disaster recovery after SIGKILL: the run reports "${promote.message}" (achieved RPO ${dr.achieved.rpoMs} ms); ${lost} of ${writer.acknowledged.length} acknowledged rows are missing`,
    );
    expect(promote.status).toBe('succeeded');
    expect(lost).toBeGreaterThan(10);
    // The commits it reports lost are the rows missing (plus at most the writer's unacknowledged last commit
    // and the server's own, autovacuum's).
    const reported = Number(
      /: (\d+) commit\(s\), \d+ bytes of WAL, about [\d.]+s of writes lost/.exec(promote.message!)?.[1],
    );
    expect(reported).toBeGreaterThanOrEqual(lost);
    expect(reported).toBeLessThanOrEqual(lost + 3);
    // The run's achieved RPO is measured from the standby's last commit, older than the run's start.
    expect(dr.achieved.rpoMs).toBeGreaterThan(0);
  } finally {
    await s.stopWorkers();
    await pair.remove();
  }
});

test('orders-db: test mode restores the archive to a point in time, validates it with SQL, and cleanup leaves no process, port or folder', async () => {
  const pair = await createPair();
  const base = join(pair.root, 'base');
  await pair.baseBackup(base);
  await pair.query(pair.primary, 'INSERT INTO drover_load(id) SELECT g FROM generate_series(1, 100) g');
  await new Promise((r) => setTimeout(r, 1100));
  const target = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 1100));
  await pair.query(pair.primary, 'INSERT INTO drover_load(id) SELECT g FROM generate_series(101, 150) g');
  const port = await pair.freePort();
  const copy = join(pair.root, 'copy');
  const s = scenario('orders-db.yaml', pair, 'orders', { port, dataDir: copy, from: 'archive', baseBackup: base });
  try {
    await s.startWorkers();
    // As `drover run --mode test --recovery-point <time>` does: the time compiled into the plan the run gets.
    const r = compile(s.text, { file: 'runbook.yaml', mode: 'test', recoveryPoint: target });
    const plan = r.plan!;
    const v = plan.steps.find((x) => x.id === 'orders/validate')!;
    v.params.checks = [{ name: 'rows at the target', sql: { query: 'SELECT count(*) FROM drover_load', expect: 100 } }];
    const handle = await harness.h.env.client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: s.queue,
      workflowId: `${s.id}-pitr`,
      args: [{ plan }],
    });
    const record = (await handle.result()) as RunRecord;
    expect(record.status).toBe('succeeded');
    expect(step(record, 'orders/powerOn').message).toMatch(/recovery stopping before/);
    expect(step(record, 'orders/validate').message).toMatch(/1 check passed .*returned 100/);
    expect((await s.runToEnd('cleanup')).status).toBe('succeeded');
    expect(existsSync(copy)).toBe(false);
    expect(await pair.accepts(port)).toBe(false);
  } finally {
    await s.stopWorkers();
    await pair.remove();
  }
});

test('webshop-postgres: one plan tests simulated VMs and a real database copy together, and cleanup leaves both as they were', async () => {
  const pair = await createPair();
  const port = await pair.freePort();
  const copy = join(pair.root, 'copy');
  const s = scenario('webshop-postgres.yaml', pair, 'orders-db', { port, dataDir: copy, from: 'standby' });
  await s.seed();
  const before = await s.inventory();
  try {
    await s.startWorkers();
    const t = await s.runToEnd('test');
    expect(t.status).toBe('succeeded');
    // The database copy is a real server on its own port, validated with SQL, before the app tier starts.
    expect(step(t, 'orders-db/powerOn').message).toMatch(/127\.0\.0\.1:\d+/);
    expect(step(t, 'orders-db/validate').message).toMatch(/1 check passed/);
    expect(await pair.accepts(port)).toBe(true);
    const count = 'SELECT count(*)::int AS n FROM drover_load';
    const [inCopy] = await pair.query({ ...pair.primary, port }, count);
    const [inPrimary] = await pair.query(pair.primary, count);
    expect(inCopy).toEqual(inPrimary);
    expect(step(t, 'payments/powerOn').startedAt!).toBeGreaterThanOrEqual(step(t, 'orders-db/validate').endedAt!);
    // The simulated tiers came up in the bubble; production on both sides is untouched.
    const during = await s.inventory();
    expect(during.sites['dc-west']!.workloads['app-1']!.instances['shop-test-bubble']).toMatchObject({ power: 'on' });
    expect(during.sites['dc-west']!.workloads['orders-db']).toBeUndefined();
    expect(during.sites['dc-east']).toEqual(before.sites['dc-east']);
    const [rx] = await pair.query(pair.standby, 'SELECT status FROM pg_stat_wal_receiver');
    expect(rx?.status).toBe('streaming');

    const c = await s.runToEnd('cleanup');
    expect(c.status).toBe('succeeded');
    expect(await s.inventory()).toEqual(before);
    expect(existsSync(copy)).toBe(false);
    expect(await pair.accepts(port)).toBe(false);
  } finally {
    await s.stopWorkers();
    await pair.remove();
  }
});

test('orders-db readiness on real servers: streaming within the RPO passes with what it saw; a stopped standby fails its check, naming it', async () => {
  const pair = await createPair();
  const s = await ordersDb(pair);
  try {
    await s.startWorkers();
    const ok = readinessChecks((await s.runToEnd('readiness')) as RunRecord)!;
    const detail = (r: typeof ok) => r.checks.find((c) => c.step === 'orders/preCheck')!;
    expect(detail(ok)).toMatchObject({ passed: true });
    expect(detail(ok).detail).toMatch(/streams from .*: \d+ bytes, [\d.]+ ms behind/);
    expect(ok.checks.find((c) => c.step === 'plan/capacity')!.detail).toMatch(/GB free for its test copy/);
    expect(ok.ready).toBe(true);

    pair.kill(pair.standby, 'SIGKILL');
    await pair.waitGone(pair.standby);
    const s2 = await ordersDb(pair);
    await s.stopWorkers();
    await s2.startWorkers();
    try {
      const bad = readinessChecks((await s2.runToEnd('readiness')) as RunRecord)!;
      expect(bad.ready).toBe(false);
      expect(detail(bad)).toMatchObject({ passed: false });
      expect(detail(bad).detail).toMatch(new RegExp(`127\\.0\\.0\\.1:${pair.standby.port}\\) does not answer`));
    } finally {
      await s2.stopWorkers();
    }
  } finally {
    await s.stopWorkers();
    await pair.remove();
  }
});
