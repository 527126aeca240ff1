/**
 * Tabletop exercises, as people run them, all real processes: `drover tabletop` answered from a terminal,
 * and the same exercise answered step by step with `temporal workflow update execute` from another one.
 * Either way the report lists the gaps found.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile } from '../../compiler';
import { ROOT, useDroverServer } from './processes';

const { background, drover, droverTyping, temporal } = useDroverServer();
beforeAll(() => {
  background('worker');
});

const plan = compile(readFileSync(join(ROOT, 'runbooks', 'webshop.yaml'), 'utf8'), {
  file: 'runbooks/webshop.yaml',
  mode: 'tabletop',
}).plan!;
const walked = plan.steps.filter((s) => s.kind === 'confirm');

test('`drover tabletop` is completed from the terminal, across a lost terminal, and lists the gaps found', async () => {
  const id = `tabletop-term-${process.pid}`;
  // The first step presented is the failover approval: Dave marks it done, but he is not a listed
  // approver, which is a gap. The next one is blocked, with a note; the rest are done.
  // The facilitator's terminal goes away after two answers; nothing is lost: the exercise lives in
  // Temporal, and the same command joins it where it is.
  const first = await droverTyping(
    'd\nb the DNS runbook page is out of date # ask netops\n',
    'tabletop',
    'runbooks/webshop.yaml',
    '--by',
    'dave',
    '--id',
    id,
  );
  expect(first.code).toBe(0);
  expect(first.stdout).toContain(`tabletop exercise ${id} started: ${walked.length} steps to walk, answering as dave`);
  expect(first.stdout).toContain('left the exercise; it keeps its place');
  const rest =
    walked
      .slice(2)
      .map(() => 'd')
      .join('\n') + '\n';
  const r = await droverTyping(rest, 'tabletop', 'runbooks/webshop.yaml', '--by', 'dave', '--id', id);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(`joining the tabletop exercise ${id}, already running, as dave`);
  expect(r.stdout).toMatch(/Walked: 59 step\(s\) answered: 58 done, 1 blocked, 0 skipped/);
  expect(r.stdout).toMatch(
    /Estimated RTO \S+ \(the runbook's critical path\) against the objective 1h: within; not to be relied on while 1 step\(s\) are blocked/,
  );
  expect(r.stdout).toContain('Gaps found: 2');
  expect(r.stdout).toMatch(
    /\*\*blocked\*\* `[^`]+`: blocked \(dave\): the DNS runbook page is out of date \(ask netops\)/,
  );
  expect(r.stdout).toContain(
    '**approval** `plan/approve-failover`: given by dave, who is not a listed approver (alice, bob, carol)',
  );
  const md = readFileSync(join(ROOT, '.drover', 'reports', `${id}.md`), 'utf8');
  expect(md).toContain('## Tabletop findings');
  expect(md).toMatch(/done by dave at \S+/);
}, 120_000);

test('the same exercise can be answered step by step with `temporal workflow update execute`', async () => {
  const id = `tabletop-cli-${process.pid}`;
  const started = await drover('run', 'runbooks/webshop.yaml', '--mode', 'tabletop', '--id', id, '--no-follow');
  expect(started.code).toBe(0);
  const answer = (step: string, extra: Record<string, string>) =>
    temporal(
      'workflow',
      'update',
      'execute',
      '--workflow-id',
      id,
      '--name',
      'answer',
      '--input',
      JSON.stringify({ step, by: 'alice', ...extra }),
    );
  // The worker compiles the plan first; until then an answer is refused with "still compiling".
  for (let i = 0; i < 100; i++) {
    const early = await answer('no/such-step', { outcome: 'done' }).catch((e: { stderr: string }) => e.stderr);
    if (!String(early).includes('still compiling')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  // A wrong answer is refused by the workflow and says why.
  await expect(answer('orders-db/restore', { outcome: 'blocked' })).rejects.toMatchObject({
    stderr: expect.stringContaining('say why orders-db/restore is blocked'),
  });
  for (const s of walked) {
    if (s.id === 'orders-db/restore')
      await answer(s.id, { outcome: 'blocked', comment: 'no one knows the backup vault password' });
    else if (s.id === 'web-2/validate') await answer(s.id, { outcome: 'skipped' });
    else await answer(s.id, { outcome: 'done' });
  }
  expect((await temporal('workflow', 'result', '--workflow-id', id)).stdout).toMatch(/COMPLETED/);
  const report = await drover('report', id, '--format', 'markdown');
  expect(report.code).toBe(0);
  expect(report.stdout).toContain('Walked: 59 step(s) answered: 57 done, 1 blocked, 1 skipped');
  expect(report.stdout).toContain(
    '**blocked** `orders-db/restore`: blocked (alice): no one knows the backup vault password',
  );
  expect(report.stdout).not.toContain('**approval**');
}, 120_000);
