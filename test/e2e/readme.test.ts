/**
 * The README's path, as a user runs it, all real processes: `drover server` (the pinned dev server),
 * `drover worker`, a run started and approved with the `temporal` CLI, `drover report`, and `drover run`
 * refusing a second run of the same plan and mode.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useDroverServer } from './processes';

const { background, drover, webshopTestViaTemporalCli } = useDroverServer();
beforeAll(() => {
  background('worker');
});

test('start with `temporal workflow start`, approve with `temporal workflow signal`, read it with `drover report`', async () => {
  const id = `readme-${process.pid}`;
  const result = await webshopTestViaTemporalCli(id, 'alice');
  expect(result).toMatch(/COMPLETED/);
  const report = await drover('report', id, '--format', 'markdown');
  expect(report.code).toBe(0);
  expect(report.stdout).toContain('**webshop** in **test** mode, dc-east → dc-west: **succeeded**');
  for (const step of ['plan/approve-test', 'orders-db/restore', 'app-1/powerOn', 'web-2/validate', 'web/warm-cache']) {
    expect(report.stdout).toMatch(
      new RegExp(`\\| \`${step}\` \\| \\w+ \\| dc-\\w+ \\| succeeded \\| \\d+ \\| \\S+ \\| \\d+m?s?\\S* \\|`),
    );
  }
  expect(report.stdout).toContain('approved by alice');
  const json = JSON.parse((await drover('report', id, '--format', 'json')).stdout);
  expect(json.status).toBe('succeeded');
  await drover('run', 'runbooks/webshop.yaml', '--mode', 'cleanup', '--id', `${id}-cleanup`);
}, 120_000);

test('`drover run` refuses a second run of the same plan and mode, naming the running one; cancel compensates', async () => {
  const id = `dup-${process.pid}`;
  const first = await drover('run', 'runbooks/webshop.yaml', '--mode', 'test', '--id', id, '--no-follow');
  expect(first.code).toBe(0);
  const second = await drover('run', 'runbooks/webshop.yaml', '--mode', 'test', '--id', id, '--no-follow');
  expect(second.code).toBe(1);
  expect(second.stderr).toContain(`a run with id ${id} is already running`);
  expect(second.stderr).not.toMatch(/^\s+at /m);
  // It waits at the owner's approval; a refused approval says why.
  const wrong = await drover('approve', id, '--step', 'plan/approve-test', '--by', 'mallory');
  expect(wrong.code).toBe(1);
  expect(wrong.stderr).toContain('mallory is not an approver of plan/approve-test (approvers: alice, bob)');
  expect((await drover('cancel', id)).code).toBe(0);
  const status = await drover('status', id);
  expect(status.stdout).toContain('cancelled');
}, 120_000);

test('drover plan -o plan.json, then drover run --plan plan.json runs exactly that plan; status -o json for tools', async () => {
  const id = `saved-${process.pid}`;
  const file = join(mkdtempSync(join(tmpdir(), 'drover-plan-')), 'plan.json');
  expect((await drover('plan', 'runbooks/webshop.yaml', '--mode', 'test', '-o', file)).code).toBe(0);
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { planHash: string };
  const started = await drover('run', '--plan', file, '--id', id, '--no-follow', '-o', 'json');
  expect(started.code).toBe(0);
  expect(JSON.parse(started.stdout)).toMatchObject({ workflowId: id, plan: 'webshop', mode: 'test', started: true });
  expect((await drover('approve', id, '--step', 'plan/approve-test', '--by', 'alice', '-o', 'json')).code).toBe(0);
  let record: { status: string; plan: { planHash: string }; execution: string; steps: unknown[] } | undefined;
  for (let i = 0; i < 120 && record?.execution !== 'COMPLETED'; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const status = await drover('status', id, '-o', 'json');
    expect(status.code).toBe(0);
    record = JSON.parse(status.stdout) as typeof record;
  }
  expect(record!.status).toBe('succeeded');
  // The run's plan is the reviewed one, byte for byte (the same hash).
  expect(record!.plan.planHash).toBe(saved.planHash);
  const failed = JSON.parse((await drover('status', id, '--failed', '-o', 'json')).stdout) as { steps: unknown[] };
  expect(failed.steps).toEqual([]);
  await drover('run', 'runbooks/webshop.yaml', '--mode', 'cleanup', '--id', `${id}-cleanup`);
}, 120_000);

test('Ctrl-C while following a run says the run goes on, and how to follow or cancel it', async () => {
  const id = `ctrl-c-${process.pid}`;
  // -o json: the live steps go to stderr, which background() collects.
  const child = background('run', 'runbooks/webshop.yaml', '--mode', 'test', '--id', id, '-o', 'json');
  for (let i = 0; i < 120 && !child.logs.join('').includes(`started ${id}`); i++)
    await new Promise((r) => setTimeout(r, 250));
  child.kill('SIGINT');
  const code = await new Promise((r) => child.once('exit', (c) => r(c)));
  expect(code).toBe(130);
  const said = child.logs.join('');
  expect(said).toContain(`${id} goes on: it runs on Temporal, not in this terminal.`);
  expect(said).toContain(`drover status ${id} --follow`);
  expect(said).toContain(`drover cancel ${id}`);
  expect((await drover('status', id)).stdout).toContain('running');
  expect((await drover('cancel', id)).code).toBe(0);
}, 120_000);
