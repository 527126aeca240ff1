/**
 * The HTML report: one self-contained file (inline CSS and SVG, no script, nothing fetched) that an
 * auditor can open anywhere: a Gantt timeline of every step by workload with the critical path marked,
 * RTO and RPO against the objectives, retries and failures, approvals with who and when, tabletop notes
 * and gaps, a drill's score, and the plan's content hash and git commit.
 */
import { formatDuration } from '../compiler/durations';
import type { RunRecord, StepRecord } from '../workflows/record';
import { tabletopFindings } from './gaps';
import { counts } from './index';
import { readinessChecks } from './readiness';
import { scoreDrill } from './score';

const esc = (s: unknown) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const iso = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toISOString().replace('.000Z', 'Z'));
const dur = (ms: number | undefined) => (ms === undefined ? 'not measured' : formatDuration(ms));

const STATUS_COLOR: Record<string, string> = {
  succeeded: '#2e7d32',
  failed: '#c62828',
  skipped: '#9e9e9e',
  waiting: '#f9a825',
  running: '#1565c0',
  'not-run': '#e0e0e0',
  pending: '#e0e0e0',
};

export function toHtml(record: RunRecord): string {
  const p = record.plan;
  const c = counts(record);
  const steps = record.steps.filter((s) => s.kind !== 'barrier');
  const critical = new Set(p.criticalPath ?? []);
  const sections: string[] = [];
  sections.push(
    `<h1>${esc(p.name)} · ${esc(p.mode)} · <span class="st ${esc(record.status)}">${esc(record.status)}</span></h1>`,
  );
  sections.push(`<dl class="facts">
    <dt>Run</dt><dd>${esc(record.workflowId)}</dd>
    <dt>Sites</dt><dd>${esc(p.from)} → ${esc(p.to)}</dd>
    <dt>Started</dt><dd>${esc(iso(record.startedAt))}</dd>
    <dt>Ended</dt><dd>${esc(iso(record.endedAt) || '(running)')}${record.endedAt ? ` · took ${esc(formatDuration(record.endedAt - record.startedAt))}` : ''}</dd>
    <dt>RTO</dt><dd>${objective(record.achieved.rtoMs, record.objectives.rtoMs)}</dd>
    <dt>RPO</dt><dd>${objective(record.achieved.rpoMs, record.objectives.rpoMs)}</dd>
    <dt>Steps</dt><dd>${c.succeeded} succeeded, ${c.failed} failed, ${c.skipped} skipped, ${c.notRun} not run, of ${c.steps}; ${c.retries} retries; ${c.compensated} compensated${c.compensationFailures ? `, <b>${c.compensationFailures} compensations failed</b>` : ''}</dd>
    <dt>Plan</dt><dd><code>${esc(p.planHash)}</code> from <code>${esc(p.sourceFile)}</code> (sha256 <code>${esc(p.sourceSha256.slice(0, 16))}…</code>)${p.gitCommit ? ` at git <code>${esc(p.gitCommit)}</code>` : ''}</dd>
    ${record.failedStep ? `<dt>Stopped by</dt><dd><code>${esc(record.failedStep)}</code></dd>` : ''}
  </dl>`);
  const score = scoreDrill(record);
  if (score) {
    sections.push(`<h2>Drill score: <span class="st ${score.passed ? 'succeeded' : 'failed'}">${score.passed ? 'PASS' : 'FAIL'}</span></h2>
    <p>Scenario <b>${esc(score.scenario)}</b> (seed ${score.seed}): ${esc(score.description)}</p>
    ${score.reasons.length ? `<ul>${score.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>` : ''}
    <table><tr><th>workload</th><th>RTO</th><th>objective</th><th>RPO</th><th>objective</th><th>met</th></tr>
    ${score.workloads.map((w) => `<tr><td>${esc(w.name)}</td><td>${esc(dur(w.rtoMs))}</td><td>${esc(formatDuration(w.rtoObjectiveMs))}</td><td>${esc(dur(w.rpoMs))}</td><td>${esc(formatDuration(w.rpoObjectiveMs))}</td><td class="st ${w.met ? 'succeeded' : 'failed'}">${w.met ? 'yes' : 'NO'}</td></tr>`).join('')}
    </table>`);
  }
  const readiness = readinessChecks(record);
  if (readiness) {
    sections.push(`<h2>Readiness: <span class="st ${readiness.ready ? 'succeeded' : 'failed'}">${readiness.ready ? 'READY' : 'NOT READY'}</span></h2>
    <table><tr><th>check</th><th>result</th><th>detail</th></tr>
    ${readiness.checks.map((c) => `<tr><td><code>${esc(c.step)}</code></td><td class="st ${c.passed ? 'succeeded' : 'failed'}">${c.passed ? 'PASS' : 'FAIL'}</td><td>${esc(c.detail)}</td></tr>`).join('')}</table>`);
  }
  if (p.mode === 'tabletop') {
    const f = tabletopFindings(record);
    sections.push(`<h2>Tabletop findings</h2>
    <p>${f.answered} steps answered: ${f.done} done, ${f.blocked} blocked, ${f.skipped} skipped.${f.estimatedRtoMs !== undefined ? ` Estimated RTO ${esc(formatDuration(f.estimatedRtoMs))} against the objective ${esc(formatDuration(f.rtoObjectiveMs))}: ${f.estimatedRtoMs <= f.rtoObjectiveMs ? 'within' : '<b>over</b>'}.` : ''}</p>
    ${f.gaps.length ? `<ul class="gaps">${f.gaps.map((g) => `<li><b>${esc(g.kind)}</b> <code>${esc(g.step)}</code>: ${esc(g.text)}</li>`).join('')}</ul>` : '<p>No gaps found.</p>'}`);
  }
  sections.push(`<h2>Timeline</h2>${gantt(record, steps, critical)}`);
  const people = steps.flatMap((s) => (s.decisions ?? []).map((d) => ({ s, d })));
  if (people.length) {
    sections.push(`<h2>People</h2><table><tr><th>step</th><th>decision</th><th>by</th><th>signed</th><th>at</th><th>note</th></tr>
    ${people.map(({ s, d }) => `<tr><td><code>${esc(s.id)}</code></td><td>${esc(d.decision)}</td><td>${esc(d.by)}</td><td>${d.signed ? 'signed, verified' : 'unsigned'}</td><td>${esc(iso(d.at))}</td><td>${esc(d.comment ?? '')}</td></tr>`).join('')}</table>`);
  }
  const trouble = steps.filter((s) => s.attempts > 1 || s.error || s.compensation);
  if (trouble.length) {
    sections.push(`<h2>Retries, failures and compensation</h2><table><tr><th>step</th><th>status</th><th>attempts</th><th>error</th><th>compensation</th></tr>
    ${trouble.map((s) => `<tr><td><code>${esc(s.id)}</code></td><td class="st ${esc(s.status)}">${esc(s.status)}</td><td>${s.attempts}</td><td>${esc(s.error ? `${s.error.type}: ${s.error.message}` : '')}</td><td>${s.compensation ? `${esc(s.compensation.kind)}: ${esc(s.compensation.status)}${s.compensation.error ? ` (${esc(s.compensation.error)})` : ''}` : ''}</td></tr>`).join('')}</table>`);
  }
  sections.push(`<h2>Steps</h2><table><tr><th>step</th><th>kind</th><th>site</th><th>status</th><th>attempts</th><th>started</th><th>took</th><th>detail</th></tr>
  ${steps.map((s) => `<tr${critical.has(s.id) ? ' class="critical"' : ''}><td><code>${esc(s.id)}</code></td><td>${esc(s.kind)}</td><td>${esc(s.site)}</td><td class="st ${esc(s.status)}">${esc(s.status)}</td><td>${s.attempts}</td><td>${esc(iso(s.startedAt))}</td><td>${esc(took(s))}</td><td>${esc(s.message ?? '')}</td></tr>`).join('')}</table>`);
  if (record.events.length)
    sections.push(
      `<h2>Events</h2><ol class="events">${record.events.map((e) => `<li><time>${esc(iso(e.at))}</time> ${esc(e.text)}</li>`).join('')}</ol>`,
    );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Drover report: ${esc(p.name)} ${esc(p.mode)} ${esc(record.workflowId)}</title>
<style>${CSS}</style></head>
<body>
${sections.join('\n')}
<footer>Generated by Drover from the run record in Temporal. Simulated sites are marked as such in the plan (provider <code>simulator</code>).</footer>
</body></html>
`;
}

function objective(achieved: number | undefined, objectiveMs: number): string {
  if (achieved === undefined) return `not measured (objective ${esc(formatDuration(objectiveMs))})`;
  const met = achieved <= objectiveMs;
  return `${esc(formatDuration(achieved))} against ${esc(formatDuration(objectiveMs))}: <span class="st ${met ? 'succeeded' : 'failed'}">${met ? 'met' : 'MISSED'}</span>`;
}

function took(s: StepRecord): string {
  return s.startedAt !== undefined && s.endedAt !== undefined ? formatDuration(s.endedAt - s.startedAt) : '';
}

/** One row per step, grouped by workload (plan-level steps first), bars on one time axis. */
function gantt(record: RunRecord, steps: StepRecord[], critical: Set<string>): string {
  const timed = steps.filter((s) => s.startedAt !== undefined);
  if (timed.length === 0) return '<p>No step has started.</p>';
  const t0 = Math.min(...timed.map((s) => s.startedAt!));
  const t1 = Math.max(...timed.map((s) => s.endedAt ?? s.startedAt!), record.endedAt ?? 0);
  const span = Math.max(1, t1 - t0);
  const order = (s: StepRecord) => s.workload ?? s.group ?? '';
  const rows = [...timed].sort(
    (a, b) => order(a).localeCompare(order(b)) || a.startedAt! - b.startedAt! || a.id.localeCompare(b.id),
  );
  const label = 220;
  const width = 900;
  const rowH = 18;
  const x = (t: number) => label + ((t - t0) / span) * (width - label - 10);
  const ticks = Array.from({ length: 6 }, (_, i) => t0 + (span * i) / 5);
  let lastGroup: string | undefined;
  const out: string[] = [];
  rows.forEach((s, i) => {
    const y = 24 + i * rowH;
    const group = order(s) || 'plan';
    if (group !== lastGroup) {
      out.push(`<line class="sep" x1="0" x2="${width}" y1="${y}" y2="${y}"/>`);
      lastGroup = group;
    }
    const start = x(s.startedAt!);
    const end = Math.max(start + 2, x(s.endedAt ?? t1));
    const cls = `bar ${s.status}${critical.has(s.id) ? ' critical' : ''}`;
    out.push(
      `<text class="label" x="4" y="${y + 13}">${esc(s.id)}</text>` +
        `<rect class="${cls}" data-step="${esc(s.id)}" x="${start.toFixed(1)}" y="${y + 3}" width="${(end - start).toFixed(1)}" height="${rowH - 6}" fill="${STATUS_COLOR[s.status] ?? '#777'}"><title>${esc(s.id)}: ${esc(s.status)}, ${esc(took(s))}${s.attempts > 1 ? `, ${s.attempts} attempts` : ''}</title></rect>` +
        (s.compensation
          ? `<rect class="undo" x="${x(s.compensation.startedAt).toFixed(1)}" y="${y + 6}" width="${Math.max(2, x(s.compensation.endedAt) - x(s.compensation.startedAt)).toFixed(1)}" height="${rowH - 12}"><title>undone by ${esc(s.compensation.kind)}: ${esc(s.compensation.status)}</title></rect>`
          : ''),
    );
  });
  const height = 24 + rows.length * rowH + 8;
  const axis = ticks
    .map(
      (t) =>
        `<line class="tick" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="18" y2="${height}"/><text class="axis" x="${x(t).toFixed(1)}" y="12">+${esc(formatDuration(Math.round(t - t0)))}</text>`,
    )
    .join('');
  return `<p class="legend"><span class="key critical"></span> critical path (the runbook's estimates) · <span class="key undo"></span> compensation · colours: ${Object.entries(
    STATUS_COLOR,
  )
    .slice(0, 5)
    .map(([k, v]) => `<span class="key" style="background:${v}"></span> ${k}`)
    .join(' ')}</p>
<svg class="gantt" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="timeline of ${rows.length} steps">${axis}${out.join('')}</svg>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:960px;color:#222;padding:0 12px}
h1{font-size:22px;margin:0 0 12px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f4f4f4;padding:1px 3px;border-radius:3px}
dl.facts{display:grid;grid-template-columns:110px 1fr;gap:4px 12px;margin:0}dl.facts dt{color:#666}dl.facts dd{margin:0}
table{border-collapse:collapse;width:100%;font-size:12px}th,td{border-bottom:1px solid #eee;text-align:left;padding:3px 6px;vertical-align:top}
tr.critical td:first-child{border-left:3px solid #6a1b9a}
.st{font-weight:600}.st.succeeded{color:#2e7d32}.st.failed,.st.cancelled{color:#c62828}.st.skipped{color:#757575}.st.waiting,.st.paused,.st.compensating{color:#b26a00}
svg.gantt{display:block;max-width:100%;height:auto;background:#fcfcfc;border:1px solid #eee}
svg .label{font:11px ui-monospace,Menlo,monospace;fill:#333}svg .axis{font:10px system-ui;fill:#666;text-anchor:middle}
svg .tick{stroke:#eee}svg .sep{stroke:#ddd}svg .bar.critical{stroke:#6a1b9a;stroke-width:2.5}svg .undo{fill:#ff8f00;opacity:.85}
.legend{font-size:12px;color:#555}.key{display:inline-block;width:14px;height:10px;vertical-align:middle;margin:0 2px 0 8px;border-radius:2px}
.key.critical{border:2.5px solid #6a1b9a;height:6px;width:10px}.key.undo{background:#ff8f00}
ol.events{font-size:12px;padding-left:20px}ol.events time{color:#666;margin-right:6px}
footer{margin-top:32px;color:#888;font-size:12px}
`;
