/**
 * The HTML report: one self-contained file (inline CSS and SVG, no script, nothing fetched) that an
 * auditor can open anywhere: a Gantt timeline of every step in recovery order with the critical path
 * marked, RTO and RPO against the objectives, retries and failures, approvals with who and when, tabletop
 * notes and gaps, a drill's score, and the plan's content hash and git commit. Written with `markup`
 * templates (reports/template.ts), which escape every value they are given, in text and in attributes.
 */
import { formatDuration } from '../compiler/durations';
import type { RunRecord, StepRecord } from '../contracts/record';
import { tabletopFindings } from './gaps';
import { counts } from './index';
import { readinessChecks } from './readiness';
import { scoreDrill } from './score';
import type { Markup } from './template';
import { joinMarkup, markup, render, unsafeRaw } from './template';

const iso = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toISOString().replace('.000Z', 'Z'));
const dur = (ms: number | undefined) => (ms === undefined ? 'not measured' : formatDuration(ms));
/** The class of a verdict: `st succeeded` is green, `st failed` red. */
const verdict = (ok: boolean) => (ok ? 'succeeded' : 'failed');

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
  const sections: Markup[] = [];
  sections.push(markup`<h1>${p.name} · ${p.mode} · <span class="st ${record.status}">${record.status}</span></h1>`);
  sections.push(markup`<dl class="facts">
    <dt>Run</dt><dd>${record.workflowId}</dd>
    <dt>Sites</dt><dd>${p.from} → ${p.to}</dd>
    <dt>Started</dt><dd>${iso(record.startedAt)}</dd>
    <dt>Ended</dt><dd>${iso(record.endedAt) || '(running)'}${record.endedAt ? markup` · took ${formatDuration(record.endedAt - record.startedAt)}` : ''}</dd>
    <dt>RTO</dt><dd>${objective(record.achieved.rtoMs, record.objectives.rtoMs)}</dd>
    <dt>RPO</dt><dd>${objective(record.achieved.rpoMs, record.objectives.rpoMs)}</dd>
    <dt>Steps</dt><dd>${c.succeeded} succeeded, ${c.failed} failed, ${c.skipped} skipped, ${c.notRun} not run, of ${c.steps}; ${c.retries} retries; ${c.compensated} compensated${c.compensationFailures ? markup`, <b>${c.compensationFailures} compensations failed</b>` : ''}</dd>
    <dt>Plan</dt><dd><code>${p.planHash}</code> from <code>${p.sourceFile}</code> (sha256 <code>${p.sourceSha256.slice(0, 16)}…</code>)${p.gitCommit ? markup` at git <code>${p.gitCommit}</code>` : ''}</dd>
    ${record.failedStep ? markup`<dt>Stopped by</dt><dd><code>${record.failedStep}</code></dd>` : ''}
  </dl>`);
  const score = scoreDrill(record);
  if (score) {
    sections.push(markup`<h2>Drill score: <span class="st ${verdict(score.passed)}">${score.passed ? 'PASS' : 'FAIL'}</span></h2>
    <p>Scenario <b>${score.scenario}</b> (seed ${score.seed}): ${score.description}</p>
    ${score.reasons.length ? markup`<ul>${score.reasons.map((r) => markup`<li>${r}</li>`)}</ul>` : ''}
    <table><tr><th>workload</th><th>RTO</th><th>objective</th><th>RPO</th><th>objective</th><th>met</th></tr>
    ${score.workloads.map((w) => markup`<tr><td>${w.name}</td><td>${dur(w.rtoMs)}</td><td>${formatDuration(w.rtoObjectiveMs)}</td><td>${dur(w.rpoMs)}</td><td>${formatDuration(w.rpoObjectiveMs)}</td><td class="st ${verdict(w.met)}">${w.met ? 'yes' : 'NO'}</td></tr>`)}
    </table>`);
  }
  const readiness = readinessChecks(record);
  if (readiness) {
    sections.push(markup`<h2>Readiness: <span class="st ${verdict(readiness.ready)}">${readiness.ready ? 'READY' : 'NOT READY'}</span></h2>
    <table><tr><th>check</th><th>result</th><th>detail</th></tr>
    ${readiness.checks.map((c) => markup`<tr><td><code>${c.step}</code></td><td class="st ${verdict(c.passed)}">${c.passed ? 'PASS' : 'FAIL'}</td><td>${c.detail}</td></tr>`)}</table>`);
  }
  if (p.mode === 'tabletop') {
    const f = tabletopFindings(record);
    sections.push(markup`<h2>Tabletop findings</h2>
    <p>${f.answered} steps answered: ${f.done} done, ${f.blocked} blocked, ${f.skipped} skipped.${f.estimatedRtoMs !== undefined ? markup` Estimated RTO ${formatDuration(f.estimatedRtoMs)} against the objective ${formatDuration(f.rtoObjectiveMs)}: ${f.estimatedRtoMs <= f.rtoObjectiveMs ? 'within' : markup`<b>over</b>`}.` : ''}</p>
    ${f.gaps.length ? markup`<ul class="gaps">${f.gaps.map((g) => markup`<li><b>${g.kind}</b> <code>${g.step}</code>: ${g.text}</li>`)}</ul>` : markup`<p>No gaps found.</p>`}`);
  }
  sections.push(markup`<h2>Timeline</h2>${gantt(record, steps, critical)}`);
  const people = steps.flatMap((s) => (s.decisions ?? []).map((d) => ({ s, d })));
  if (people.length) {
    sections.push(markup`<h2>People</h2><table><tr><th>step</th><th>decision</th><th>by</th><th>signed</th><th>at</th><th>note</th></tr>
    ${people.map(({ s, d }) => markup`<tr><td><code>${s.id}</code></td><td>${d.decision}</td><td>${d.by}</td><td>${d.signed ? 'signed, verified' : 'unsigned'}</td><td>${iso(d.at)}</td><td>${d.comment}</td></tr>`)}</table>`);
  }
  const trouble = steps.filter((s) => s.attempts > 1 || s.error || s.compensation);
  if (trouble.length) {
    sections.push(markup`<h2>Retries, failures and compensation</h2><table><tr><th>step</th><th>status</th><th>attempts</th><th>error</th><th>compensation</th></tr>
    ${trouble.map((s) => markup`<tr><td><code>${s.id}</code></td><td class="st ${s.status}">${s.status}</td><td>${s.attempts}</td><td>${s.error ? `${s.error.type}: ${s.error.message}` : ''}</td><td>${s.compensation ? markup`${s.compensation.kind}: ${s.compensation.status}${s.compensation.error ? markup` (${s.compensation.error})` : ''}` : ''}</td></tr>`)}</table>`);
  }
  sections.push(markup`<h2>Steps</h2><table><tr><th>step</th><th>kind</th><th>site</th><th>status</th><th>attempts</th><th>started</th><th>took</th><th>detail</th></tr>
  ${steps.map((s) => markup`<tr${critical.has(s.id) ? markup` class="critical"` : ''}><td><code>${s.id}</code></td><td>${s.kind}</td><td>${s.site}</td><td class="st ${s.status}">${s.status}</td><td>${s.attempts}</td><td>${iso(s.startedAt)}</td><td>${took(s)}</td><td>${s.message}</td></tr>`)}</table>`);
  if (record.events.length)
    sections.push(
      markup`<h2>Events</h2><ol class="events">${record.events.map((e) => markup`<li><time>${iso(e.at)}</time> ${e.text}</li>`)}</ol>`,
    );
  return render(markup`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Drover report: ${p.name} ${p.mode} ${record.workflowId}</title>
<style>${CSS}</style></head>
<body>
${joinMarkup(sections, '\n')}
<footer>Generated by Drover from the run record in Temporal. Simulated sites are marked as such in the plan (provider <code>simulator</code>).</footer>
</body></html>
`);
}

function objective(achieved: number | undefined, objectiveMs: number): Markup {
  if (achieved === undefined) return markup`not measured (objective ${formatDuration(objectiveMs)})`;
  const met = achieved <= objectiveMs;
  return markup`${formatDuration(achieved)} against ${formatDuration(objectiveMs)}: <span class="st ${verdict(met)}">${met ? 'met' : 'MISSED'}</span>`;
}

function took(s: StepRecord): string {
  return s.startedAt !== undefined && s.endedAt !== undefined ? formatDuration(s.endedAt - s.startedAt) : '';
}

/**
 * One row per step that started, in recovery order: by start time, and steps that started at the same
 * moment in the record's order (each execution's steps in plan order, which is topological). A step that
 * never started has no row. Bars on one time axis.
 */
function gantt(record: RunRecord, steps: StepRecord[], critical: Set<string>): Markup {
  // sort is stable: steps that started at the same moment keep the record's order.
  const rows = steps.filter((s) => s.startedAt !== undefined).sort((a, b) => a.startedAt! - b.startedAt!);
  if (rows.length === 0) return markup`<p>No step has started.</p>`;
  const t0 = rows[0]!.startedAt!;
  const t1 = Math.max(...rows.map((s) => s.endedAt ?? s.startedAt!), record.endedAt ?? 0);
  const span = Math.max(1, t1 - t0);
  const label = 220;
  const width = 900;
  const rowH = 18;
  const x = (t: number) => label + ((t - t0) / span) * (width - label - 10);
  const ticks = Array.from({ length: 6 }, (_, i) => t0 + (span * i) / 5);
  const out: Markup[] = [];
  rows.forEach((s, i) => {
    const y = 24 + i * rowH;
    const start = x(s.startedAt!);
    const end = Math.max(start + 2, x(s.endedAt ?? t1));
    const undo = s.compensation;
    out.push(markup`<text class="label" x="4" y="${y + 13}">${s.id}</text>`);
    out.push(
      markup`<rect class="bar ${s.status}${critical.has(s.id) ? ' critical' : ''}" data-step="${s.id}" x="${start.toFixed(1)}" y="${y + 3}" width="${(end - start).toFixed(1)}" height="${rowH - 6}" fill="${STATUS_COLOR[s.status] ?? '#777'}"><title>${s.id}: ${s.status}, ${took(s)}${s.attempts > 1 ? `, ${s.attempts} attempts` : ''}</title></rect>`,
    );
    if (undo)
      out.push(
        markup`<rect class="undo" x="${x(undo.startedAt).toFixed(1)}" y="${y + 6}" width="${Math.max(2, x(undo.endedAt) - x(undo.startedAt)).toFixed(1)}" height="${rowH - 12}"><title>undone by ${undo.kind}: ${undo.status}</title></rect>`,
      );
  });
  const height = 24 + rows.length * rowH + 8;
  const axis = ticks.map(
    (t) =>
      markup`<line class="tick" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="18" y2="${height}"/><text class="axis" x="${x(t).toFixed(1)}" y="12">+${formatDuration(Math.round(t - t0))}</text>`,
  );
  const legend = Object.entries(STATUS_COLOR)
    .slice(0, 5)
    .map(([k, v]) => markup`<span class="key" style="background:${v}"></span> ${k}`);
  return markup`<p class="legend"><span class="key critical"></span> critical path (the runbook's estimates) · <span class="key undo"></span> compensation · colours: ${joinMarkup(legend, ' ')}</p>
<svg class="gantt" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="timeline of ${rows.length} steps">${axis}${out}</svg>`;
}

// UNSAFE RAW, on purpose: fixed text written here, nothing from a record (nothing is escaped inside <style>).
const CSS = unsafeRaw(`
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:960px;color:#222;padding:0 12px}
h1{font-size:22px;margin:0 0 12px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f4f4f4;padding:1px 3px;border-radius:3px}
dl.facts{display:grid;grid-template-columns:110px 1fr;gap:4px 12px;margin:0}dl.facts dt{color:#666}dl.facts dd{margin:0}
table{border-collapse:collapse;width:100%;font-size:12px}th,td{border-bottom:1px solid #eee;text-align:left;padding:3px 6px;vertical-align:top}
tr.critical td:first-child{border-left:3px solid #6a1b9a}
.st{font-weight:600}.st.succeeded{color:#2e7d32}.st.failed,.st.cancelled{color:#c62828}.st.skipped{color:#757575}.st.waiting,.st.paused,.st.compensating{color:#b26a00}
svg.gantt{display:block;max-width:100%;height:auto;background:#fcfcfc;border:1px solid #eee}
svg .label{font:11px ui-monospace,Menlo,monospace;fill:#333}svg .axis{font:10px system-ui;fill:#666;text-anchor:middle}
svg .tick{stroke:#eee}svg .bar.critical{stroke:#6a1b9a;stroke-width:2.5}svg .undo{fill:#ff8f00;opacity:.85}
.legend{font-size:12px;color:#555}.key{display:inline-block;width:14px;height:10px;vertical-align:middle;margin:0 2px 0 8px;border-radius:2px}
.key.critical{border:2.5px solid #6a1b9a;height:6px;width:10px}.key.undo{background:#ff8f00}
ol.events{font-size:12px;padding-left:20px}ol.events time{color:#666;margin-right:6px}
footer{margin-top:32px;color:#888;font-size:12px}
`);
