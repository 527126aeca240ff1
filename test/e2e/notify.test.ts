/// <reference lib="dom" />
/**
 * A run tells people how it goes, where they look: the runbook's notify targets (two local webhooks, one
 * JSON, one Slack-compatible) hear started / waiting (with the command that answers) / RTO at risk /
 * finished while the run goes; the Temporal Web UI shows each activity's summary, the run's summary and
 * what it waits for (checked in headless Chromium, screenshot under test/artifacts/); and the run carries
 * the search attributes `drover list` and `drover history` filter on, on the server.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT, useDroverServer } from './processes';

interface Received {
  path: string;
  body: { event?: string; text?: string; command?: string; step?: string; run?: string; status?: string };
}
const received: Received[] = [];
let hooks: Server;

// Before the server and worker start (their environment is read then): the webhooks and their addresses.
beforeAll(async () => {
  hooks = createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(text) as Received['body'] });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
  const { port } = hooks.address() as { port: number };
  process.env.DROVER_TEST_HOOK_JSON = `http://127.0.0.1:${port}/json`;
  process.env.DROVER_TEST_HOOK_SLACK = `http://127.0.0.1:${port}/slack`;
});
afterAll(async () => {
  await new Promise((r) => hooks.close(r));
});

const { background, drover, temporal, ports } = useDroverServer();
beforeAll(() => {
  background('worker', '--runbooks', 'test/fixtures/notified-shop.yaml', '--runbooks', 'runbooks');
});

const until = async (what: string, ok: () => boolean | Promise<boolean>, ms = 60_000) => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 250)))
    if (await ok()) return;
  throw new Error(`timed out waiting for ${what}; received: ${JSON.stringify(received)}`);
};
const json = () => received.filter((r) => r.path === '/json').map((r) => r.body);
const slack = () => received.filter((r) => r.path === '/slack').map((r) => r.body);

test('notifications, Web UI summaries and details, and search attributes of one run', async () => {
  const id = `notify-${process.pid}`;
  const start = () => drover('run', 'test/fixtures/notified-shop.yaml', '--mode', 'test', '--id', id, '--no-follow');
  // Exit 3 (a site has no worker yet) until the worker polls its queues.
  let started = await start();
  for (let i = 0; started.code === 3 && i < 60; i++) {
    await new Promise((r) => setTimeout(r, 500));
    started = await start();
  }
  expect(started).toMatchObject({ code: 0 });
  expect(started.stdout).toContain(`started ${id}`);

  // Started, then the approval gate waits: the webhook has the exact command that answers it.
  await until('the waiting notification', () => json().some((b) => b.event === 'waiting'));
  const waiting = json().find((b) => b.event === 'waiting')!;
  expect(waiting.step).toBe('plan/approve-test');
  expect(waiting.command).toBe(`drover approve ${id} --step plan/approve-test --by <name>`);
  expect(json()[0]!.event).toBe('started');
  // The RTO of 1m against a critical path estimated at 37m: at risk from the start, said during the run.
  await until('the rto-at-risk notification', () => json().some((b) => b.event === 'rto-at-risk'));
  expect(json().find((b) => b.event === 'rto-at-risk')!.text).toMatch(/^RTO at risk: .* > the RTO of 1m$/);

  // The Web UI's "current details" say what the run waits for (the metadata query the UI reads).
  const metadata = (await temporal('workflow', 'metadata', '--workflow-id', id)).stdout;
  expect(metadata).toContain('Waiting for people');
  expect(metadata).toContain(`drover approve ${id} --step plan/approve-test --by <name>`);

  // While it runs: the search attributes drover list filters on, on the server.
  const listed = JSON.parse(
    (await drover('list', '--plan', 'notified-shop', '--mode', 'test', '-o', 'json')).stdout,
  ) as {
    workflowId: string;
    plan?: string;
  }[];
  expect(listed.map((r) => r.workflowId)).toContain(id);
  expect(listed.find((r) => r.workflowId === id)!.plan).toBe('notified-shop');

  expect((await drover('approve', id, '--step', 'plan/approve-test', '--by', 'alice')).code).toBe(0);
  expect((await temporal('workflow', 'result', '--workflow-id', id)).stdout).toMatch(/COMPLETED/);
  await until('the finished notification', () => json().some((b) => b.event === 'finished'));
  const events = json().map((b) => b.event);
  expect(events[events.length - 1]).toBe('finished');
  expect(json().find((b) => b.event === 'finished')!.status).toBe('succeeded');
  expect(new Set(events)).toEqual(new Set(['started', 'waiting', 'rto-at-risk', 'finished']));
  // The Slack-compatible target: {text}, the same events (it takes all of them; nothing failed).
  await until('the slack notifications', () => slack().length >= 4);
  expect(slack().every((b) => typeof b.text === 'string' && Object.keys(b).length === 1)).toBe(true);
  expect(slack().some((b) => b.text!.includes('`drover approve'))).toBe(true);

  // Its result is a search attribute too: the server finds it.
  const done = await temporal(
    'workflow',
    'list',
    '--query',
    `DroverPlan = 'notified-shop' AND DroverMode = 'test' AND DroverResult = 'succeeded'`,
  );
  expect(done.stdout).toContain(id);
  const history = JSON.parse((await drover('history', 'notified-shop', '-o', 'json')).stdout) as {
    runs: { workflowId: string }[];
  };
  expect(history.runs.map((r) => r.workflowId)).toContain(id);

  // Every activity carries its summary; the Web UI shows them (headless Chromium, screenshot kept).
  const shown = JSON.parse((await temporal('workflow', 'show', '--workflow-id', id, '--output', 'json')).stdout) as {
    events: { eventType: string; userMetadata?: { summary?: { data?: string } } }[];
  };
  const scheduled = shown.events.filter((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED');
  const summaries = scheduled.map((e) =>
    JSON.parse(Buffer.from(e.userMetadata?.summary?.data ?? '', 'base64').toString() || '""'),
  ) as string[];
  expect(summaries.length).toBeGreaterThan(10);
  expect(summaries).toContain('notified-shop · orders-db/restore → powerOn → waitReady → validate @ dc-west');
  await expectSummariesInWebUi(id, ports().ui);
}, 180_000);

async function expectSummariesInWebUi(id: string, uiPort: number): Promise<void> {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1800 } });
    await page.goto(`http://127.0.0.1:${uiPort}/namespaces/default/workflows/${encodeURIComponent(id)}`);
    // The event history's timeline labels each activity with its type and summary.
    // A workload's restore, power-on, wait and validation at dc-west: one activity (a chain, workflows/chains.ts).
    await page
      .getByText('runSteps • notified-shop · orders-db/restore → powerOn → waitReady → validate @ dc-west')
      .first()
      .waitFor({ timeout: 30_000 });
    await page.getByText('notify • finished → audit').first().waitFor({ timeout: 30_000 });
    mkdirSync(join(ROOT, 'test', 'artifacts'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test', 'artifacts', 'web-ui-run.png'), fullPage: true });
  } finally {
    await browser.close();
  }
}
