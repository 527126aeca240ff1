/// <reference lib="dom" />
/**
 * The evidence a run leaves, checked the way people read it: `drover report --format html` opened in a
 * real headless Chromium (Debian's, driven by playwright-core; `npm run setup:browser` installs it), with
 * its timeline of one bar per step and a screenshot under test/artifacts/; `--format junit` parsed as XML.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import type { RunRecord } from '../../contracts/record';
import { ROOT, useDroverServer } from './processes';

const CHROMIUM = '/usr/bin/chromium';
// The flags that work on a machine without outside network (see README, Development).
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const { background, drover, webshopTestViaTemporalCli } = useDroverServer();
let browser: Browser;
beforeAll(async () => {
  background('worker');
  if (!existsSync(CHROMIUM)) throw new Error(`no ${CHROMIUM}: install it with \`npm run setup:browser\``);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

test('the HTML report renders in Chromium with one timeline bar per step, fetches nothing, and is screenshotted', async () => {
  const id = `html-${process.pid}`;
  expect(await webshopTestViaTemporalCli(id, 'alice')).toMatch(/COMPLETED/);
  const dir = mkdtempSync(join(tmpdir(), 'drover-report-'));
  expect((await drover('report', id, '--format', 'html', '--out', join(dir, 'report.html'))).code).toBe(0);
  const record = JSON.parse((await drover('report', id, '--format', 'json')).stdout) as RunRecord;
  const started = record.steps.filter((s) => s.kind !== 'barrier' && s.startedAt !== undefined);

  const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(`file://${join(dir, 'report.html')}`);
  expect(await page.title()).toBe(`Drover report: webshop test ${id}`);
  expect(await page.locator('h1').innerText()).toContain('succeeded');
  // One bar per step that ran, each labelled with its step, and the critical path marked.
  const bars = page.locator('svg.gantt rect.bar');
  expect(await bars.count()).toBe(started.length);
  expect((await bars.evaluateAll((els) => els.map((e) => e.getAttribute('data-step')))).sort()).toEqual(
    started.map((s) => s.id).sort(),
  );
  expect(await page.locator('svg.gantt rect.bar.critical').count()).toBeGreaterThan(3);
  const box = await page.locator('svg.gantt').boundingBox();
  expect(box!.width).toBeGreaterThan(500);
  expect(await page.getByText('approved', { exact: true }).count()).toBeGreaterThan(0);
  // Self-contained: the page itself is the only thing loaded.
  expect(requests).toEqual([`file://${join(dir, 'report.html')}`]);
  mkdirSync(join(ROOT, 'test', 'artifacts'), { recursive: true });
  const shot = join(ROOT, 'test', 'artifacts', 'report-webshop-test.png');
  await page.screenshot({ path: shot, fullPage: true });
  expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
  await page.close();

  // JUnit: well-formed XML, one test case per step, counts that add up.
  const junit = (await drover('report', id, '--format', 'junit')).stdout;
  const parsed = await (
    await browser.newPage()
  ).evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, 'application/xml');
    const suites = doc.documentElement;
    return {
      error: doc.getElementsByTagName('parsererror').length,
      root: suites.tagName,
      tests: Number(suites.getAttribute('tests')),
      failures: Number(suites.getAttribute('failures')),
      cases: doc.getElementsByTagName('testcase').length,
      failed: doc.getElementsByTagName('failure').length,
      names: Array.from(doc.getElementsByTagName('testcase')).map((c) => c.getAttribute('name')),
    };
  }, junit);
  expect(parsed).toMatchObject({ error: 0, root: 'testsuites', failures: 0, failed: 0 });
  expect(parsed.cases).toBe(parsed.tests);
  expect(parsed.cases).toBe(record.steps.filter((s) => s.kind !== 'barrier').length);
  expect(parsed.names).toContain('orders-db/restore');
}, 120_000);
