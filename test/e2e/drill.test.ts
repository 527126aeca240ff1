/**
 * Drills and schedules as a user runs them, all real processes: `drover drill` scores a scenario,
 * `drover schedule` makes Temporal start a drill on its own.
 */
import { useDroverServer } from './processes';

const { background, drover, temporal } = useDroverServer();
beforeAll(() => {
  background('worker');
});

test('`drover drill` scores the retry scenario PASS with its retries, and the RPO breach FAIL', async () => {
  const pass = await drover(
    'drill',
    'runbooks/webshop.yaml',
    '--scenario',
    'power-on-retry',
    '--id',
    `drill-ok-${process.pid}`,
  );
  expect(pass.stdout).toContain('scenario power-on-retry (seed 12), test mode against a simulated site of its own');
  expect(pass.stdout).toContain('Result: **PASS**');
  expect(pass.stdout).toContain('Retried: `app-1/powerOn` (3 attempts)');
  expect(pass.code).toBe(0);
  const fail = await drover(
    'drill',
    'runbooks/webshop.yaml',
    '--scenario',
    'rpo-breach',
    '--id',
    `drill-rpo-${process.pid}`,
  );
  expect(fail.stdout).toMatch(/Result: \*\*FAIL\*\*: RPO 39m\S* exceeds the plan's objective 15m/);
  expect(fail.code).toBe(1);
  const report = await drover('report', `drill-rpo-${process.pid}`, '--format', 'markdown');
  expect(report.stdout).toContain('## Drill score');
  expect(report.stdout).toMatch(/\| orders-db \| \S+ \| 30m \| 39m\S* \| 5m \| NO \|/);
}, 120_000);

test('a mistake in the drill command is one clear message, and nothing runs', async () => {
  const missing = await drover('drill', 'runbooks/webshop.yaml', '--scenario', 'meteor');
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('cannot read scenario runbooks/scenarios/meteor.yaml');
  expect(missing.stderr).toMatch(/hint: scenarios in runbooks\/scenarios: .*power-on-retry.*rpo-breach/);
  const seed = await drover('drill', 'runbooks/webshop.yaml', '--scenario', 'rpo-breach', '--seed', 'x');
  expect(seed.code).toBe(2);
  expect(seed.stderr).toContain('--seed must be a whole number');
});

test('`drover schedule` creates a schedule that starts a drill on its own; list shows it; delete removes it', async () => {
  const id = `sched-${process.pid}`;
  const created = await drover(
    'schedule',
    'create',
    'runbooks/webshop.yaml',
    '--scenario',
    'power-on-retry',
    '--every',
    '5s',
    '--id',
    id,
  );
  expect(created.code).toBe(0);
  expect(created.stdout).toContain(`schedule ${id} created: drill power-on-retry of runbooks/webshop.yaml every 5s`);
  let started: string | undefined;
  for (let i = 0; i < 60 && !started; i++) {
    const list = await drover('schedule', 'list');
    started = /started (drover-webshop-drill-power-on-retry-\S+) at/.exec(list.stdout)?.[1];
    if (!started) await new Promise((r) => setTimeout(r, 500));
  }
  expect(started).toBeDefined();
  expect((await drover('schedule', 'delete', id)).stdout).toContain(`schedule ${id} deleted`);
  expect((await drover('schedule', 'list')).stdout).not.toContain(id);
  // The drill it started runs to its end like any other.
  expect((await temporal('workflow', 'result', '--workflow-id', started!)).stdout).toMatch(/COMPLETED/);
  const report = await drover('report', started!, '--format', 'markdown');
  expect(report.stdout).toContain('Result: **PASS**');
}, 120_000);

test("`drover history` lists past runs from Temporal with their results, and the plan's readiness figures", async () => {
  const h = await drover('history', 'webshop');
  expect(h.code).toBe(0);
  expect(h.stdout).toMatch(
    new RegExp(`drill-ok-${process.pid}  drill power-on-retry \\(test\\)  succeeded  PASS  RTO \\S+/1h`),
  );
  expect(h.stdout).toMatch(
    new RegExp(
      `drill-rpo-${process.pid}  drill rpo-breach \\(test\\)  succeeded  FAIL  RTO \\S+/1h  RPO 39m\\S*/15m MISSED`,
    ),
  );
  expect(h.stdout).toMatch(
    /webshop: last successful test or passing drill 0 day\(s\) ago; success rate \d+\/\d+ \(\d+%\); mean RTO \S+/,
  );
  const json = JSON.parse((await drover('history', '-o', 'json')).stdout) as {
    plans: { plan: string; finished: number }[];
  };
  expect(json.plans.find((p) => p.plan === 'webshop')!.finished).toBeGreaterThanOrEqual(3);
});
