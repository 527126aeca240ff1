/**
 * `drover history [plan]`: past runs from Temporal's visibility (the memo each run sets as it ends), and per
 * plan the DR-readiness figures: days since the last successful test or passing drill, success rate, mean RTO.
 */
import { formatDuration, MODES } from '../compiler';
import { planReasons, workloadReasons } from '../reports/score';
import { command, TEXT_OR_JSON } from './commands';
import { EXIT, UsageError } from './io';
import type { CliIO } from './io';
import type { Client } from '@temporalio/client';
import type { RunSummary } from '../contracts/record';
import { SEARCH_ATTRIBUTES } from '../workflows/search';
import * as msg from '../workflows/messages';
import { connectClient } from './temporal';

/** One workload's achieved figures against its own objectives: reports/score.ts's WorkloadScore. */
export interface WorkloadFigures {
  name: string;
  rtoMs?: number;
  rtoObjectiveMs: number;
  rpoMs?: number;
  rpoObjectiveMs: number;
  /** false when the score found it missed an objective. */
  met?: boolean;
}

/**
 * The memo (`drover` key) as history reads it: RunSummary, plus what the run's own score says when the
 * workflow records it. Each is optional, so runs recorded before it was added are read too:
 * - `verdict`: the run's own score, `scoreDrill(record).passed ? 'PASS' : 'FAIL'` (reports/score.ts);
 * - `reasons`: why, `scoreDrill(record).reasons` (empty or absent on PASS);
 * - `workloads`: per-workload figures (`scoreDrill(record).workloads`), when there is no verdict.
 */
export interface HistorySummary extends RunSummary {
  verdict?: 'PASS' | 'FAIL';
  reasons?: string[];
  workloads?: WorkloadFigures[];
}

export interface HistoryRow {
  workflowId: string;
  status: string;
  startedAt: number;
  summary?: HistorySummary;
  /** The run's DroverPlan and DroverMode search attributes, when it has them. */
  plan?: string;
  mode?: string;
}

/** Whether a run did what it should, why not, and from which figures that was decided. */
export interface Verdict {
  passed: boolean;
  reasons: string[];
  from: 'verdict' | 'workloads' | 'plan';
}

export const historyCommand = command({
  name: 'history',
  summary: "past runs and each plan's DR-readiness figures, from Temporal",
  operands: '[plan]',
  details: `Lists the runs Temporal knows of (newest first): date, run id, mode (or drill scenario), result, achieved
RTO and RPO against the objectives. A drill's PASS or FAIL is its own score (every workload within its own
objectives too), with the first reason it failed. Then per plan: days since the last successful test or passing drill,
the success rate of finished runs, and the mean achieved RTO.`,
  options: { limit: { value: 'n', help: 'at most this many runs (default 50)' } },
  uses: { output: TEXT_OR_JSON, temporal: true },
  async run({ values, positionals }, io) {
    const plan = positionals[0];
    const limit = values.limit === undefined ? 50 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive whole number');
    const format = values.output ?? 'text';
    const { client, connection } = await connectClient(io.env);
    try {
      const rows = await listRuns(client, io, plan !== undefined ? { plan } : {});
      rows.sort((a, b) => b.startedAt - a.startedAt);
      const shown = rows.slice(0, limit);
      const plans = readiness(rows);
      if (format === 'json') {
        const runs = shown.map((r) => {
          if (!r.summary) return r;
          const { passed, reasons } = verdictOf(r.summary);
          return { ...r, passed, reasons };
        });
        io.stdout(JSON.stringify({ runs, plans }, null, 2) + '\n');
        return EXIT.ok;
      }
      if (rows.length === 0) {
        io.stdout(`no runs${plan ? ` of ${plan}` : ''} yet\n`);
        return EXIT.ok;
      }
      for (const r of shown) io.stdout(historyLine(r) + '\n');
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
});

/**
 * Whether a run did what it should: succeeded, and met its objectives. Its own score decides when the memo
 * has it (`verdict`, for a drill the same PASS/FAIL as its report); else the per-workload figures, each
 * against the workload's own objectives, when the memo has them; else, for runs recorded before either,
 * the plan-level RTO and RPO.
 */
export function verdictOf(s: HistorySummary): Verdict {
  const ran = s.status === 'succeeded' ? [] : [`the run ${s.status}${s.failedStep ? ` at ${s.failedStep}` : ''}`];
  if (s.verdict === 'PASS' || s.verdict === 'FAIL') {
    const own = s.reasons ?? [];
    // The score says how the run ended, and more precisely (the step's error): add it only when missing.
    const reasons = ran.length && !own.some((r) => r.startsWith('the run ')) ? [...ran, ...own] : own;
    return { passed: s.verdict === 'PASS' && ran.length === 0, reasons, from: 'verdict' };
  }
  const plan = planReasons({ rtoMs: s.rtoMs, rpoMs: s.rpoMs }, s.objectives);
  if (s.workloads?.length) {
    const missed = s.workloads.flatMap((w) => {
      const why = workloadReasons(w);
      return why.length || w.met !== false ? why : [`${w.name} missed its objectives`];
    });
    const reasons = [...ran, ...plan, ...missed];
    return { passed: reasons.length === 0, reasons, from: 'workloads' };
  }
  const reasons = [...ran, ...plan];
  return { passed: reasons.length === 0, reasons, from: 'plan' };
}

/** A run that did what it should (a drill that passed): see verdictOf. */
export function passed(s: HistorySummary): boolean {
  return verdictOf(s).passed;
}

/** One run as `drover history` lists it; a drill with PASS or FAIL, and why it failed. */
export function historyLine(r: HistoryRow): string {
  const s = r.summary;
  const date = new Date(r.startedAt).toISOString().slice(0, 16).replace('T', ' ');
  if (!s) return `${date}  ${r.workflowId}  ${r.status.toLowerCase()}`;
  const what = s.scenario ? `drill ${s.scenario} (${s.mode})` : s.mode;
  const objective = (name: string, v: number | undefined, o: number) =>
    v === undefined ? '' : `  ${name} ${formatDuration(v)}/${formatDuration(o)}${v > o ? ' MISSED' : ''}`;
  let verdict = '';
  let why = '';
  if (s.scenario) {
    const v = verdictOf(s);
    verdict = v.passed ? '  PASS' : '  FAIL';
    if (!v.passed && v.reasons.length)
      why = `  (${v.reasons[0]}${v.reasons.length > 1 ? `; ${v.reasons.length - 1} more` : ''})`;
  }
  return `${date}  ${r.workflowId}  ${what}  ${s.status}${verdict}${objective('RTO', s.rtoMs, s.objectives.rtoMs)}${objective('RPO', s.rpoMs, s.objectives.rpoMs)}${why}`;
}

export interface Readiness {
  plan: string;
  finished: number;
  succeeded: number;
  daysSinceSuccess?: number;
  meanRtoMs?: number;
}

/** Per plan: how ready it is, from its finished runs (tabletop exercises do not count: nothing recovered). */
export function readiness(rows: readonly HistoryRow[], now = Date.now()): Readiness[] {
  const byPlan = new Map<string, HistorySummary[]>();
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

/** What `drover list` and `drover history` filter on. */
export interface RunFilter {
  plan?: string;
  mode?: string;
  /** Temporal's execution status: Running, Completed, Failed, Canceled, Terminated, TimedOut. */
  status?: string;
}

const STATUSES = ['running', 'completed', 'failed', 'canceled', 'terminated', 'timed-out'] as const;

/**
 * Drover's runs, newest first, filtered by Temporal's visibility on the server: the run's search attributes
 * DroverPlan and DroverMode (set by the workflow; `drover server` registers them, a cluster needs
 * `temporal operator search-attribute create`, README). Where they are not registered (the server refuses
 * the query), the runs are listed and filtered here by their memo and workflow id instead.
 */
export async function listRuns(client: Client, io: CliIO, filter: RunFilter): Promise<HistoryRow[]> {
  for (const v of [filter.plan, filter.mode])
    if (v !== undefined && !/^[A-Za-z0-9._-]+$/.test(v))
      throw new UsageError(`"${v}" is not a plan or mode name (letters, digits, . _ -)`);
  const base = [`WorkflowType = '${msg.WORKFLOW_TYPE}'`];
  if (filter.status) base.push(`ExecutionStatus = '${filter.status}'`);
  const byAttributes = [
    ...base,
    ...(filter.plan ? [`${SEARCH_ATTRIBUTES.plan} = '${filter.plan}'`] : []),
    ...(filter.mode ? [`${SEARCH_ATTRIBUTES.mode} = '${filter.mode}'`] : []),
  ];
  const collect = async (query: string, keep: (r: HistoryRow) => boolean) => {
    const rows: HistoryRow[] = [];
    for await (const w of client.workflow.list({ query })) {
      const summary = (w.memo as { drover?: HistorySummary } | undefined)?.drover;
      const attrs = w.searchAttributes as Record<string, unknown[] | undefined>;
      const row: HistoryRow = {
        workflowId: w.workflowId,
        status: w.status.name,
        startedAt: w.startTime.getTime(),
        ...(summary ? { summary } : {}),
      };
      const plan = attrs[SEARCH_ATTRIBUTES.plan]?.[0];
      const mode = attrs[SEARCH_ATTRIBUTES.mode]?.[0];
      if (typeof plan === 'string') row.plan = plan;
      if (typeof mode === 'string') row.mode = mode;
      if (keep(row)) rows.push(row);
    }
    return rows;
  };
  let rows: HistoryRow[];
  if (byAttributes.length === base.length) rows = await collect(base.join(' AND '), () => true);
  else {
    try {
      rows = await collect(byAttributes.join(' AND '), () => true);
    } catch {
      io.stderr(
        `drover: the server does not know the search attributes ${Object.values(SEARCH_ATTRIBUTES).join(', ')}: filtering here (see docs/operations.md, Search attributes)\n`,
      );
      rows = await collect(base.join(' AND '), (r) => {
        const plan = r.summary?.plan ?? r.plan;
        const mode = r.summary?.mode ?? r.mode;
        return (
          (!filter.plan || plan === filter.plan || (!plan && r.workflowId.startsWith(`drover-${filter.plan}-`))) &&
          (!filter.mode || mode === filter.mode)
        );
      });
    }
  }
  return rows.sort((a, b) => b.startedAt - a.startedAt);
}

export const listCommand = command({
  name: 'list',
  summary: 'runs, newest first, filtered by plan, mode or status',
  details: "Filters on the server (search attributes DroverPlan, DroverMode; Temporal's ExecutionStatus).",
  options: {
    plan: { value: 'name', help: "only this plan's runs" },
    mode: { short: 'm', value: 'mode', choices: MODES, help: 'only runs in this mode' },
    status: { value: 'status', choices: STATUSES, help: `only runs in this state: ${STATUSES.join(', ')}` },
    limit: { value: 'n', help: 'at most this many (default 50)' },
  },
  uses: { output: TEXT_OR_JSON, temporal: true },
  async run({ values }, io) {
    const limit = values.limit === undefined ? 50 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive whole number');
    const status = values.status
      ? {
          running: 'Running',
          completed: 'Completed',
          failed: 'Failed',
          canceled: 'Canceled',
          terminated: 'Terminated',
          'timed-out': 'TimedOut',
        }[values.status]
      : undefined;
    const { client, connection } = await connectClient(io.env);
    try {
      const rows = (
        await listRuns(client, io, {
          ...(values.plan ? { plan: values.plan } : {}),
          ...(values.mode ? { mode: values.mode } : {}),
          ...(status ? { status } : {}),
        })
      ).slice(0, limit);
      if (values.output === 'json') {
        io.stdout(JSON.stringify(rows, null, 2) + '\n');
        return EXIT.ok;
      }
      if (rows.length === 0) io.stdout('no runs\n');
      for (const r of rows) {
        const date = new Date(r.startedAt).toISOString().slice(0, 16).replace('T', ' ');
        const plan = r.summary?.plan ?? r.plan ?? '';
        const mode = r.summary?.scenario ? `drill ${r.summary.scenario}` : (r.summary?.mode ?? r.mode ?? '');
        io.stdout(
          `${date}  ${r.workflowId}  ${plan}  ${mode}  ${r.status.toLowerCase()}${r.summary ? `  ${r.summary.status}` : ''}\n`,
        );
      }
      return EXIT.ok;
    } finally {
      await connection.close();
    }
  },
});
