/**
 * `drover history [plan]`: past runs from Temporal's visibility (the memo each run sets as it ends), and per
 * plan the DR-readiness figures: days since the last successful test or passing drill, success rate, mean RTO.
 */
import { formatDuration } from '../compiler';
import type { Command } from './commands';
import { EXIT, UsageError } from './io';
import type { RunSummary } from '../workflows/record';

interface Row {
  workflowId: string;
  status: string;
  startedAt: number;
  summary?: RunSummary;
}

export const historyCommand: Command = {
  name: 'history',
  summary: "past runs and each plan's DR-readiness figures, from Temporal",
  usage: `drover history [plan] [--limit <n>] [--format text|json]

Lists the runs Temporal knows of (newest first): date, run id, mode (or drill scenario), result, achieved
RTO and RPO against the objectives. Then per plan: days since the last successful test or passing drill,
the success rate of finished runs, and the mean achieved RTO.`,
  options: { limit: { type: 'string' }, format: { type: 'string' } },
  allowPositionals: true,
  async run({ values, positionals }, io) {
    if (positionals.length > 1) throw new UsageError('name at most one plan');
    const plan = positionals[0];
    const limit = values.limit === undefined ? 50 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive whole number');
    const format = (values.format as string | undefined) ?? 'text';
    if (!['text', 'json'].includes(format)) throw new UsageError(`unknown format "${format}": use text or json`);
    const { connectClient } = await import('./temporal');
    const msg = await import('../workflows/messages');
    const { client, connection } = await connectClient(io.env);
    try {
      const rows: Row[] = [];
      for await (const w of client.workflow.list({ query: `WorkflowType = '${msg.WORKFLOW_TYPE}'` })) {
        const summary = (w.memo as { drover?: RunSummary } | undefined)?.drover;
        if (plan && summary?.plan !== plan && !w.workflowId.startsWith(`drover-${plan}-`)) continue;
        rows.push({
          workflowId: w.workflowId,
          status: w.status.name,
          startedAt: w.startTime.getTime(),
          ...(summary ? { summary } : {}),
        });
      }
      rows.sort((a, b) => b.startedAt - a.startedAt);
      const shown = rows.slice(0, limit);
      const plans = readiness(rows);
      if (format === 'json') {
        io.stdout(JSON.stringify({ runs: shown, plans }, null, 2) + '\n');
        return EXIT.ok;
      }
      if (rows.length === 0) {
        io.stdout(`no runs${plan ? ` of ${plan}` : ''} yet\n`);
        return EXIT.ok;
      }
      for (const r of shown) io.stdout(line(r) + '\n');
      if (rows.length > shown.length) io.stdout(`... and ${rows.length - shown.length} older (--limit)\n`);
      io.stdout('\n');
      for (const p of plans) {
        io.stdout(
          `${p.plan}: ${p.daysSinceSuccess === undefined ? 'no successful test or passing drill yet' : `last successful test or passing drill ${p.daysSinceSuccess} day(s) ago`}; ` +
            `success rate ${p.succeeded}/${p.finished} (${p.finished ? Math.round((100 * p.succeeded) / p.finished) : 0}%)` +
            `${p.meanRtoMs !== undefined ? `; mean RTO ${formatDuration(Math.round(p.meanRtoMs))}` : ''}\n`,
        );
      }
      return EXIT.ok;
    } finally {
      await connection.close();
    }
  },
};

/** A run that did what it should: succeeded within its objectives (a drill that passed). */
export function passed(s: RunSummary): boolean {
  return (
    s.status === 'succeeded' &&
    (s.rtoMs === undefined || s.rtoMs <= s.objectives.rtoMs) &&
    (s.rpoMs === undefined || s.rpoMs <= s.objectives.rpoMs)
  );
}

function line(r: Row): string {
  const s = r.summary;
  const date = new Date(r.startedAt).toISOString().slice(0, 16).replace('T', ' ');
  if (!s) return `${date}  ${r.workflowId}  ${r.status.toLowerCase()}`;
  const what = s.scenario ? `drill ${s.scenario} (${s.mode})` : s.mode;
  const objective = (name: string, v: number | undefined, o: number) =>
    v === undefined ? '' : `  ${name} ${formatDuration(v)}/${formatDuration(o)}${v > o ? ' MISSED' : ''}`;
  const verdict = s.scenario ? (passed(s) ? '  PASS' : '  FAIL') : '';
  return `${date}  ${r.workflowId}  ${what}  ${s.status}${verdict}${objective('RTO', s.rtoMs, s.objectives.rtoMs)}${objective('RPO', s.rpoMs, s.objectives.rpoMs)}`;
}

export interface Readiness {
  plan: string;
  finished: number;
  succeeded: number;
  daysSinceSuccess?: number;
  meanRtoMs?: number;
}

/** Per plan: how ready it is, from its finished runs (tabletop exercises do not count: nothing recovered). */
export function readiness(rows: readonly Row[], now = Date.now()): Readiness[] {
  const byPlan = new Map<string, RunSummary[]>();
  for (const r of rows) {
    if (!r.summary || r.summary.mode === 'tabletop') continue;
    const list = byPlan.get(r.summary.plan) ?? [];
    list.push(r.summary);
    byPlan.set(r.summary.plan, list);
  }
  return [...byPlan].map(([plan, runs]) => {
    const good = runs.filter(passed);
    const testsOk = good.filter((s) => s.mode === 'test' || s.scenario);
    const rtos = runs.map((s) => s.rtoMs).filter((x): x is number => x !== undefined);
    const out: Readiness = { plan, finished: runs.length, succeeded: good.length };
    if (testsOk.length)
      out.daysSinceSuccess = Math.floor((now - Math.max(...testsOk.map((s) => s.endedAt))) / 86_400_000);
    if (rtos.length) out.meanRtoMs = rtos.reduce((a, b) => a + b, 0) / rtos.length;
    return out;
  });
}
