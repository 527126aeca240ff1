/**
 * Simulated drills on a real server: every shipped scenario runs against a simulated site of its own and
 * is scored; the same seed gives the same run.
 */
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { Mode } from '../../contracts/plan';
import { scoreDrill } from '../../reports/score';
import type { DrillScore } from '../../reports/score';
import type { RunRecord } from '../../contracts/record';
import { Scenario, step, useHarness, waitForRecord } from './harness';

const t = useHarness();
const ROOT = join(__dirname, '..', '..');

function withScenarios(): Scenario {
  const s = Scenario.webshop(t.h);
  cpSync(join(ROOT, 'runbooks', 'scenarios'), join(s.dir, 'scenarios'), { recursive: true });
  return s;
}

/** The run's record whether it succeeded or failed (a failed run carries it in its failure). */
async function recordOf(handle: WorkflowHandle): Promise<RunRecord> {
  try {
    return (await handle.result()) as RunRecord;
  } catch (e) {
    return (e as { cause: { details: RunRecord[] } }).cause.details[0]!;
  }
}

async function drill(s: Scenario, scenario: string, mode: Mode = 'test', seed?: number, id?: string) {
  s.runInput = { scenario, ...(seed !== undefined ? { seed } : {}) };
  return s.start(mode, id ?? `${s.id}-${scenario}-${seed ?? 'default'}`);
}

describe('drills of the web shop', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = withScenarios();
    await s.seed();
    await s.startWorkers();
  });
  // Inside a describe, so the workers stop before the harness closes the connection they hold.
  afterAll(async () => {
    await s?.stopWorkers();
  });

  test('rpo-breach: the plan recovers, but the drill fails on RPO', async () => {
    const before = await s.inventory();
    const record = await recordOf(await drill(s, 'rpo-breach'));
    expect(record.status).toBe('succeeded');
    const score = scoreDrill(record)!;
    expect(score).toMatchObject({ scenario: 'rpo-breach', seed: 11, passed: false });
    // 40 minutes behind when replication ran (a moment after the drill started).
    expect(score.rpo.achievedMs).toBeGreaterThan(39 * 60_000);
    expect(score.rpo.achievedMs).toBeLessThanOrEqual(40 * 60_000);
    expect(score.reasons[0]).toMatch(/^RPO 39m\S* exceeds the plan's objective 15m$/);
    expect(score.reasons).toContainEqual(expect.stringMatching(/^RPO of orders-db 39m\S* exceeds its objective 5m$/));
    expect(score.workloads.find((w) => w.name === 'orders-db')).toMatchObject({ met: false });
    // The drill ran on a site of its own: the shared simulated site is untouched.
    expect(existsSync(join(s.dir, '.drover', 'drills', record.workflowId))).toBe(true);
    expect(await s.inventory()).toEqual(before);
  });

  test('power-on-retry: passes, with its retries shown; the same seed gives the same run', async () => {
    const fingerprint = (r: RunRecord, score: DrillScore) => ({
      steps: r.steps.map((x) => [x.id, x.status, x.attempts, x.error?.message ?? '']),
      passed: score.passed,
      reasons: score.reasons,
      retried: score.retried,
      rpo: score.rpo.achievedMs !== undefined ? Math.round(score.rpo.achievedMs / 60_000) : undefined,
    });
    const first = await recordOf(await drill(s, 'power-on-retry', 'test', 5, `${s.id}-retry-a`));
    const score = scoreDrill(first)!;
    expect(score.passed).toBe(true);
    expect(score.retried).toEqual([{ step: 'app-1/powerOn', attempts: 3 }]);
    expect(step(first, 'app-1/powerOn').message).toBeDefined();
    const again = await recordOf(await drill(s, 'power-on-retry', 'test', 5, `${s.id}-retry-b`));
    expect(fingerprint(again, scoreDrill(again)!)).toEqual(fingerprint(first, score));
  });

  test('storage-full: the run stops and undoes what it did; the drill fails with the reason', async () => {
    const record = await recordOf(await drill(s, 'storage-full'));
    expect(record.status).toBe('failed');
    const score = scoreDrill(record)!;
    expect(score.passed).toBe(false);
    expect(score.reasons[0]).toMatch(/^the run failed at orders-db\/restore: StorageFull/);
    expect(score.compensated.length).toBeGreaterThan(0);
    expect(score.failedStep).toBe('orders-db/restore');
  });

  test('site-lost: a disaster recovery with the protected site down proceeds, scored on its RPO', async () => {
    const record = await recordOf(await drill(s, 'site-lost', 'disaster-recovery'));
    expect(record.status).toBe('succeeded');
    const score = scoreDrill(record)!;
    expect(score.passed).toBe(true);
    expect(score.rpo.achievedMs).toBeGreaterThan(3.9 * 60_000);
    expect(score.rpo.achievedMs).toBeLessThanOrEqual(4 * 60_000);
    // The DNS switch did not go out: a drill records what it would have done.
    expect(step(record, 'plan/switch-dns')).toMatchObject({
      kind: 'wait',
      status: 'succeeded',
      message: 'simulated: POST https://dns.example.com/api/zones/shop.example.com/records/www',
    });
    expect(step(record, 'plan/approve-failover').decisions!.map((d) => d.by)).toEqual(['alice', 'bob']);
  });

  test('validation-needs-person: the run waits for a person, who retries the step; the drill passes', async () => {
    const handle = await drill(s, 'validation-needs-person');
    await waitForRecord(
      handle,
      'web-1/validate to wait for a person',
      (r) => step(r, 'web-1/validate').status === 'waiting',
    );
    await handle.executeUpdate('retryStep', { args: [{ step: 'web-1/validate', by: 'bob' }] });
    const record = await recordOf(handle);
    const score = scoreDrill(record)!;
    expect(score.passed).toBe(true);
    expect(score.steered).toEqual([{ step: 'web-1/validate', decision: 'retry', by: 'bob' }]);
    expect(score.retried).toContainEqual({ step: 'web-1/validate', attempts: 4 });
  });
});
