/** The HTML report: every value from the record is escaped, in text and in attributes; the timeline is in recovery order. */
import { XMLParser } from 'fast-xml-parser';
import { toHtml } from '../../reports/html';
import { joinMarkup, markup, render, unsafeRaw } from '../../reports/template';
import type { RunRecord, StepRecord } from '../../contracts/record';

const T0 = Date.UTC(2025, 0, 1);
const SEC = 1000;

function record(steps: Partial<StepRecord>[], more: Partial<RunRecord> = {}): RunRecord {
  return {
    workflowId: 'wf-1',
    plan: {
      name: 'shop',
      mode: 'test',
      planHash: 'h',
      sourceFile: 'shop.yaml',
      sourceSha256: '0123456789abcdef0123',
      from: 'west',
      to: 'east',
    },
    status: 'failed',
    startedAt: T0,
    endedAt: T0 + 60 * SEC,
    objectives: { rpoMs: 60 * SEC, rtoMs: 600 * SEC },
    achieved: {},
    steps: steps.map((s, i) => ({
      id: `s${i}`,
      kind: 'command',
      site: 'east',
      status: 'succeeded',
      attempts: 1,
      ...s,
    })),
    events: [],
    ...more,
  };
}

/** The timeline's bars (and compensation bars), read back by an XML parser: the SVG must be well-formed. */
function bars(html: string): { 'data-step'?: string; class: string; title: string }[] {
  const svg = /<svg class="gantt"[^]*?<\/svg>/.exec(html)![0];
  const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', htmlEntities: true }).parse(svg);
  const rects = parsed.svg.rect;
  return Array.isArray(rects) ? rects : [rects];
}

const EVIL = `<script>alert("x")</script> & 'y'`;
const EVIL_TEXT = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;';

test('a step id, an error message and an approver with markup, quotes and & are escaped in text and in attributes', () => {
  const id = `db/${EVIL}" onmouseover="alert(1)`;
  const html = toHtml(
    record(
      [
        {
          id,
          status: 'failed',
          attempts: 2,
          startedAt: T0 + SEC,
          endedAt: T0 + 5 * SEC,
          error: { type: 'Boom', message: `disk ${EVIL}` },
          decisions: [{ by: `mallory ${EVIL}`, at: T0 + 2 * SEC, decision: 'approved', comment: `ok ${EVIL}` }],
          message: `note ${EVIL}`,
        },
      ],
      { failedStep: id, events: [{ at: T0, text: `event ${EVIL}` }] },
    ),
  );
  // Nothing from the record opens a tag or closes an attribute.
  expect(html).not.toMatch(/<script/i);
  expect(html).not.toContain('alert("x")');
  expect(html).not.toContain('" onmouseover=');
  const idText = `db/${EVIL_TEXT}&quot; onmouseover=&quot;alert(1)`;
  // In text: the step tables, the error, the approver and their note, the detail, the events.
  expect(html).toContain(`<td><code>${idText}</code></td>`);
  expect(html).toContain(`<td>Boom: disk ${EVIL_TEXT}</td>`);
  expect(html).toContain(`<td>mallory ${EVIL_TEXT}</td>`);
  expect(html).toContain(`<td>ok ${EVIL_TEXT}</td>`);
  expect(html).toContain(`<td>note ${EVIL_TEXT}</td>`);
  expect(html).toContain(`</time> event ${EVIL_TEXT}</li>`);
  expect(html).toContain(`<dt>Stopped by</dt><dd><code>${idText}</code></dd>`);
  expect(html).toContain(`<text class="label" x="4" y="37">${idText}</text>`);
  // In attributes: the bar's data-step holds the id exactly, and its tooltip too.
  expect(html).toContain(`data-step="${idText}"`);
  const [bar] = bars(html);
  expect(bar!['data-step']).toBe(id);
  expect(bar!.class).toBe('bar failed');
  expect(bar!.title).toBe(`${id}: failed, 4s, 2 attempts`);
});

test('the plan name, mode and run id are escaped in the title and heading', () => {
  const html = toHtml(record([], { workflowId: `wf ${EVIL}`, plan: { ...record([]).plan, name: `shop ${EVIL}` } }));
  expect(html).toContain(`<title>Drover report: shop ${EVIL_TEXT} test wf ${EVIL_TEXT}</title>`);
  expect(html).toContain(`<h1>shop ${EVIL_TEXT} · test · <span class="st failed">failed</span></h1>`);
  expect(html).toContain('<p>No step has started.</p>');
});

test('the timeline is in recovery order: by start time, then the plan order, and steps that never started have no bar', () => {
  // Listed in plan (topological) order; workloads and ids chosen so that neither the old order
  // (workload, then start) nor an alphabetical one is the order they ran in.
  const html = toHtml(
    record(
      [
        { id: 'plan/approve', group: 'plan', startedAt: T0, endedAt: T0 + SEC },
        { id: 'zeta/restore', workload: 'zeta', startedAt: T0 + SEC, endedAt: T0 + 9 * SEC },
        { id: 'alpha/restore', workload: 'alpha', startedAt: T0 + SEC, endedAt: T0 + 4 * SEC },
        { id: 'alpha/powerOn', workload: 'alpha', startedAt: T0 + 4 * SEC, endedAt: T0 + 6 * SEC },
        { id: 'zeta/powerOn', workload: 'zeta', startedAt: T0 + 9 * SEC, endedAt: T0 + 12 * SEC },
        { id: 'alpha/validate', workload: 'alpha', status: 'not-run' },
        { id: 'beta/restore', workload: 'beta', startedAt: T0 + 2 * SEC, status: 'failed' },
        { id: 'join', kind: 'barrier', startedAt: T0, endedAt: T0 },
      ],
      { plan: { ...record([]).plan, criticalPath: ['zeta/restore', 'zeta/powerOn'] } },
    ),
  );
  const rows = bars(html);
  expect(rows.map((r) => r['data-step'])).toEqual([
    'plan/approve',
    'zeta/restore',
    'alpha/restore',
    'beta/restore',
    'alpha/powerOn',
    'zeta/powerOn',
  ]);
  expect(rows.map((r) => r.class)).toEqual([
    'bar succeeded',
    'bar succeeded critical',
    'bar succeeded',
    'bar failed',
    'bar succeeded',
    'bar succeeded critical',
  ]);
  expect(html).toContain('aria-label="timeline of 6 steps"');
  // Every row one step further down, in that order.
  const ys = [...html.matchAll(/<rect class="bar[^"]*" data-step="[^"]*" x="[\d.]+" y="(\d+)"/g)].map((m) =>
    Number(m[1]),
  );
  expect(ys).toEqual([27, 45, 63, 81, 99, 117]);
});

test('markup escapes text and numbers, inserts markup as it is, joins lists and leaves out nothing-values', () => {
  const cls = `a" onclick="x`;
  const inner = markup`<b>${'1 < 2'}</b>`;
  expect(render(markup`<p class="${cls}">${inner}${[inner, 'x&y', 3]}${undefined}${null}${false}</p>`)).toBe(
    '<p class="a&quot; onclick=&quot;x"><b>1 &lt; 2</b><b>1 &lt; 2</b>x&amp;y3</p>',
  );
  expect(render(joinMarkup([markup`<i>a</i>`, '<b>'], ' & '))).toBe('<i>a</i> &amp; &lt;b&gt;');
  expect(render(unsafeRaw('a>b{}'))).toBe('a>b{}');
  // What came from JSON cannot pass for markup: it is text.
  const forged = JSON.parse('{"markup": "<script>"}') as unknown as string;
  expect(render(markup`${forged}`)).toBe('[object Object]');
});
