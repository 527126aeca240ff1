/**
 * `drover history`'s verdicts, as pure functions of the memo each run leaves: a drill's own score
 * (`verdict`) comes first, then per-workload figures, and only then the plan-level ones.
 */
import { historyLine, passed, readiness, verdictOf } from '../../cli/history';
import type { HistorySummary } from '../../cli/history';

const MIN = 60_000;
const DAY = 86_400_000;
const NOW = Date.UTC(2025, 5, 1, 12);

/** A drill of webshop that succeeded within the plan's objectives (RTO 1h, RPO 15m). */
function drill(extra: Partial<HistorySummary> = {}): HistorySummary {
  return {
    plan: 'webshop',
    mode: 'test',
    status: 'succeeded',
    startedAt: NOW - DAY - 30 * MIN,
    endedAt: NOW - DAY,
    objectives: { rtoMs: 60 * MIN, rpoMs: 15 * MIN },
    rtoMs: 20 * MIN,
    rpoMs: 5 * MIN,
    scenario: 'slow-db',
    seed: 7,
    ...extra,
  };
}

const row = (summary: HistorySummary, id = 'drover-webshop-drill-1') => ({
  workflowId: id,
  status: 'COMPLETED',
  startedAt: summary.startedAt,
  summary,
});

describe("a drill's verdict", () => {
  const failedOwnObjective = drill({
    verdict: 'FAIL',
    reasons: ['RTO of orders-db 20m exceeds its objective 10m'],
  });

  test("plan-level RTO and RPO met, but the drill's own score says FAIL (a workload missed its objective): FAIL", () => {
    expect(verdictOf(failedOwnObjective)).toEqual({
      passed: false,
      reasons: ['RTO of orders-db 20m exceeds its objective 10m'],
      from: 'verdict',
    });
    expect(passed(failedOwnObjective)).toBe(false);
    const line = historyLine(row(failedOwnObjective));
    expect(line).toMatch(/drill slow-db \(test\) {2}succeeded {2}FAIL {2}RTO 20m\/1h {2}RPO 5m\/15m/);
    expect(line).toContain('RTO of orders-db 20m exceeds its objective 10m');
    expect(line).not.toContain('PASS');
  });

  test('such a drill does not count as a success in the readiness figures', () => {
    const [webshop] = readiness([row(failedOwnObjective)], NOW);
    expect(webshop).toMatchObject({ plan: 'webshop', finished: 1, succeeded: 0 });
    expect(webshop!.daysSinceSuccess).toBeUndefined();
  });

  test('verdict PASS is a pass', () => {
    const ok = drill({ verdict: 'PASS' });
    expect(verdictOf(ok)).toEqual({ passed: true, reasons: [], from: 'verdict' });
    expect(historyLine(row(ok))).toMatch(/succeeded {2}PASS {2}RTO 20m\/1h/);
    expect(readiness([row(ok)], NOW)[0]).toMatchObject({ finished: 1, succeeded: 1, daysSinceSuccess: 1 });
  });

  test('without a verdict, per-workload figures decide', () => {
    const s = drill({
      workloads: [
        { name: 'orders-db', rtoMs: 20 * MIN, rtoObjectiveMs: 10 * MIN, rpoMs: 5 * MIN, rpoObjectiveMs: 15 * MIN },
        { name: 'payments', rtoMs: 15 * MIN, rtoObjectiveMs: 60 * MIN, rpoObjectiveMs: 15 * MIN },
      ],
    });
    expect(verdictOf(s)).toEqual({
      passed: false,
      reasons: ['RTO of orders-db 20m exceeds its objective 10m'],
      from: 'workloads',
    });
    expect(historyLine(row(s))).toMatch(/ FAIL /);
    const met = drill({
      workloads: [{ name: 'payments', rtoMs: 15 * MIN, rtoObjectiveMs: 60 * MIN, rpoObjectiveMs: 15 * MIN }],
    });
    expect(verdictOf(met)).toEqual({ passed: true, reasons: [], from: 'workloads' });
  });

  test('a workload marked not met fails even without figures', () => {
    const s = drill({ workloads: [{ name: 'web', rtoObjectiveMs: 60 * MIN, rpoObjectiveMs: 15 * MIN, met: false }] });
    expect(verdictOf(s)).toMatchObject({ passed: false, from: 'workloads' });
  });

  test('as a last resort, the plan-level figures: a run older than the verdict in the memo', () => {
    expect(verdictOf(drill())).toEqual({ passed: true, reasons: [], from: 'plan' });
    const missed = drill({ rpoMs: 39 * MIN });
    expect(verdictOf(missed)).toEqual({
      passed: false,
      reasons: ["RPO 39m exceeds the plan's objective 15m"],
      from: 'plan',
    });
    expect(historyLine(row(missed))).toMatch(/succeeded {2}FAIL {2}RTO 20m\/1h {2}RPO 39m\/15m MISSED/);
  });

  test('a run that did not succeed never passes, whatever its figures', () => {
    const failed = drill({ status: 'failed', failedStep: 'orders-db/restore' });
    expect(verdictOf(failed)).toMatchObject({ passed: false, from: 'plan' });
    expect(verdictOf(failed).reasons[0]).toBe('the run failed at orders-db/restore');
    expect(passed(drill({ status: 'failed', verdict: 'PASS' }))).toBe(false);
  });

  test('a run that is not a drill shows no PASS/FAIL, but its verdict counts for readiness', () => {
    const test = drill({ scenario: undefined, seed: undefined, verdict: 'FAIL', reasons: ['x'] });
    delete test.scenario;
    delete test.seed;
    expect(historyLine(row(test, 'drover-webshop-test'))).toMatch(/drover-webshop-test {2}test {2}succeeded {2}RTO/);
    expect(readiness([row(test)], NOW)[0]).toMatchObject({ finished: 1, succeeded: 0 });
  });
});
