/** Reports made from a run record: the drill's evidence. */
import { formatDuration } from '../compiler/durations';
import type { RunRecord, StepRecord } from '../contracts/record';
import { findingsMarkdown, tabletopFindings } from './gaps';
import { readinessChecks, readinessMarkdown } from './readiness';
import { scoreDrill, scoreMarkdown } from './score';

const iso = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toISOString().replace('.000Z', 'Z'));
const took = (s: { startedAt?: number; endedAt?: number }) =>
  s.startedAt !== undefined && s.endedAt !== undefined ? formatDuration(s.endedAt - s.startedAt) : '';

/** "RTO 41m (objective 1h): met" */
export function objectiveLine(name: 'RTO' | 'RPO', achieved: number | undefined, objective: number): string {
  if (achieved === undefined) return `${name} not measured (objective ${formatDuration(objective)})`;
  return `${name} ${formatDuration(achieved)} (objective ${formatDuration(objective)}): ${achieved <= objective ? 'met' : 'MISSED'}`;
}

export function counts(record: RunRecord) {
  const real = record.steps.filter((s) => s.kind !== 'barrier');
  const by = (st: StepRecord['status']) => real.filter((s) => s.status === st).length;
  return {
    steps: real.length,
    succeeded: by('succeeded'),
    failed: by('failed'),
    skipped: by('skipped'),
    notRun: by('not-run'),
    retries: real.reduce((n, s) => n + Math.max(0, s.attempts - 1), 0),
    compensated: real.filter((s) => s.compensation?.status === 'succeeded').length,
    compensationFailures: real.filter((s) => s.compensation?.status === 'failed').length,
  };
}

export function toMarkdown(record: RunRecord): string {
  const c = counts(record);
  const p = record.plan;
  const out: string[] = [];
  out.push(`# Drover run ${record.workflowId}`);
  out.push('');
  out.push(`**${p.name}** in **${p.mode}** mode, ${p.from} → ${p.to}: **${record.status}**`);
  out.push('');
  out.push(
    `- Started ${iso(record.startedAt)}, ended ${iso(record.endedAt) || '(running)'}${record.endedAt ? `, took ${formatDuration(record.endedAt - record.startedAt)}` : ''}`,
  );
  out.push(`- ${objectiveLine('RTO', record.achieved.rtoMs, record.objectives.rtoMs)}`);
  out.push(`- ${objectiveLine('RPO', record.achieved.rpoMs, record.objectives.rpoMs)}`);
  out.push(
    `- Steps: ${c.succeeded} succeeded, ${c.failed} failed, ${c.skipped} skipped, ${c.notRun} not run, of ${c.steps}; ${c.retries} retries; ${c.compensated} compensated${c.compensationFailures ? `, ${c.compensationFailures} compensations FAILED` : ''}`,
  );
  if (record.failedStep) out.push(`- Stopped by the failure of \`${record.failedStep}\``);
  out.push(
    `- Plan \`${p.planHash}\` from \`${p.sourceFile}\` (sha256 \`${p.sourceSha256.slice(0, 16)}…\`${p.gitCommit ? `, git \`${p.gitCommit}\`` : ''})`,
  );
  // What this kind of run found, each as its own section: a drill's score, readiness checks, tabletop gaps.
  const score = scoreDrill(record);
  const readiness = readinessChecks(record);
  const sections: [string, string[] | undefined][] = [
    ['Drill score', score && scoreMarkdown(score)],
    ['Readiness', readiness && readinessMarkdown(readiness)],
    ['Tabletop findings', p.mode === 'tabletop' ? findingsMarkdown(tabletopFindings(record)) : undefined],
  ];
  for (const [title, lines] of sections) if (lines) out.push('', `## ${title}`, '', ...lines);
  out.push('');
  out.push('| step | kind | site | status | attempts | started | took | detail |');
  out.push('|---|---|---|---|---|---|---|---|');
  for (const s of record.steps.filter((s) => s.kind !== 'barrier')) {
    const detail = [
      s.error ? `${s.error.type}: ${s.error.message}` : s.message,
      s.decisions
        ?.map(
          (d) =>
            `${d.decision} by ${d.by}${d.signed ? ' (signed)' : ''} at ${iso(d.at)}${d.comment ? ` (${d.comment})` : ''}`,
        )
        .join('; '),
      s.compensation
        ? `undone by ${s.compensation.kind}: ${s.compensation.status}${s.compensation.error ? ` (${s.compensation.error})` : ''}`
        : '',
    ]
      .filter(Boolean)
      .join('; ')
      .replace(/\|/g, '\\|')
      .replace(/\n/g, ' ');
    out.push(
      `| \`${s.id}\` | ${s.kind} | ${s.site} | ${s.status} | ${s.attempts} | ${iso(s.startedAt)} | ${took(s)} | ${detail} |`,
    );
  }
  if (record.events.length) {
    out.push('');
    out.push('## Events');
    out.push('');
    for (const e of record.events) out.push(`- ${iso(e.at)} ${e.text.replace(/\n/g, ' ')}`);
  }
  return out.join('\n') + '\n';
}

export function toJson(record: RunRecord): string {
  return JSON.stringify(record, null, 2) + '\n';
}
