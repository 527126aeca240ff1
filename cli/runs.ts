/** Commands that start and steer runs: run, status, approve, reject, dismiss, retry-step, skip-step, pause, resume, cancel, report. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { formatDuration } from '../compiler';
import { fileNameOf } from '../compiler/paths';
import type { SignedFields } from '../security/approval-message';
import { signApproval } from '../security/signing';
import type { Command } from './commands';
import { modeOption } from './commands';
import { compileFile, printDiagnostics } from './compile-file';
import { EXIT, UsageError, UserError, useColor } from './io';
import type { CliIO } from './io';
import { counts, objectiveLine, toJson, toMarkdown } from '../reports';
import { readinessChecks, readinessMarkdown } from '../reports/readiness';
import type { RunRecord, StepRecord } from '../workflows/record';
import type { ProgressCursor, ProgressDelta } from '../workflows/messages';
import type { Mode, Plan } from '../compiler';

/** Loaded lazily: `validate` and `plan` start fast without Temporal's client. */
async function temporal(io: CliIO) {
  const { connectClient } = await import('./temporal');
  const msg = await import('../workflows/messages');
  const { client, connection } = await connectClient(io.env);
  return { client, connection, msg };
}

export const runCommand: Command = {
  name: 'run',
  summary: 'start a run of a runbook on Temporal and follow it live',
  usage: `drover run <file> --mode <mode> [--id <workflow id>] [--no-follow]
           [--recovery-point latest|<time>|<name>] [--accept-data-loss]

Compiles the runbook (nothing starts if it has errors), checks that a worker serves each of its sites
and that no other run holds its workloads, starts the workflow on task queue "drover" with input
{"runbook": <file>, "mode": <mode>} (a worker reads and compiles it again, so the plan is in Temporal's
history), then shows every step live until the run ends, or, for planned-migration, disaster-recovery
and failback, until it awaits commit (\`drover commit\` or \`drover rollback\`). The workflow id defaults
to drover-<plan>-<mode>.
--recovery-point (disaster-recovery): the point to recover from, latest by default, or the newest at or
before a time (2026-11-22T10:15:00Z), or a checkpoint's name. --accept-data-loss: a point older than
the RPO needs no approval. --recovery-point <time> (test): the time the test copies of PostgreSQL
workloads are restored to (point-in-time recovery from the WAL archive; the others are restored from the
test snapshot as always); the run then starts with the plan compiled here ({"plan": <plan>}), since the
time is part of it. Writes .drover/reports/<id>.json and .md. Exit 0 when the run succeeds (or
awaits commit), 1 when it fails.`,
  options: {
    mode: { type: 'string', short: 'm' },
    id: { type: 'string' },
    follow: { type: 'boolean' },
    color: { type: 'boolean' },
    'recovery-point': { type: 'string' },
    'accept-data-loss': { type: 'boolean' },
  },
  allowPositionals: true,
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new UsageError('name exactly one runbook file');
    const mode = modeOption(values.mode);
    const color = useColor(io, 'stderr', values.color as boolean | undefined);
    const choices = failoverChoices(mode, values);
    const testPoint = testRecoveryPoint(mode, values);
    const compiled = compileFile(positionals[0]!, io.cwd, mode, testPoint);
    printDiagnostics(compiled, io.stderr, color);
    if (!compiled.plan) return EXIT.failed;
    const workflowId = (values.id as string | undefined) ?? `drover-${compiled.plan.name}-${mode}`;
    // The test copies' point in time is in the plan, so the workflow gets that plan (it does not compile again).
    const input = testPoint
      ? await planInput(compiled.plan, testPoint)
      : { runbook: positionals[0]!, mode, ...choices };
    const { client, connection, msg } = await temporal(io);
    try {
      await preflight(client, compiled.plan, workflowId, msg.ORCHESTRATION_QUEUE);
      try {
        await client.workflow.start(msg.WORKFLOW_TYPE, {
          taskQueue: msg.ORCHESTRATION_QUEUE,
          workflowId,
          args: [input],
        });
      } catch (e) {
        if ((e as Error).name === 'WorkflowExecutionAlreadyStartedError') {
          throw new UserError(
            `a run with id ${workflowId} is already running: Drover runs one ${compiled.plan.name} ${mode} at a time`,
            `follow it with \`drover status ${workflowId}\`, cancel it with \`drover cancel ${workflowId}\`, or give another --id`,
          );
        }
        throw e;
      }
      io.stdout(
        `started ${workflowId} (${compiled.plan.name}, ${mode}, ${compiled.plan.steps.filter((s) => s.kind !== 'barrier').length} steps)\n`,
      );
      if (values.follow === false) {
        io.stdout(`follow it with: drover status ${workflowId}\n`);
        return EXIT.ok;
      }
      const record = await follow(client, workflowId, io);
      return finish(record, io);
    } finally {
      await connection.close();
    }
  },
};

/** `--recovery-point` and `--accept-data-loss`: a failover's choices; a switchover loses nothing, so has none. */
function failoverChoices(
  mode: Mode,
  values: Record<string, unknown>,
): { recoveryPoint?: string; acceptDataLoss?: true } {
  const point = values['recovery-point'] as string | undefined;
  const accept = values['accept-data-loss'] === true;
  if (mode === 'test') {
    if (accept)
      throw new UsageError('--accept-data-loss is for disaster-recovery: a test recovers copies and loses nothing');
    return {};
  }
  if ((point !== undefined || accept) && mode !== 'disaster-recovery')
    throw new UsageError(
      `--recovery-point and --accept-data-loss are for disaster-recovery (and --recovery-point <time> for test): a ${mode} ${mode === 'planned-migration' || mode === 'failback' ? 'is a switchover and loses no data (it recovers from the final sync)' : 'recovers nothing from a replica'}`,
    );
  if (point !== undefined && point !== 'latest' && /^\d{4}-\d\d-\d\d/.test(point) && Number.isNaN(Date.parse(point)))
    throw new UsageError(
      `--recovery-point ${point} is not a time: use latest, an ISO time like 2026-11-22T10:15:00Z, or a checkpoint's name`,
    );
  return {
    ...(point !== undefined ? { recoveryPoint: point } : {}),
    ...(accept ? { acceptDataLoss: true as const } : {}),
  };
}

/** Test mode's `--recovery-point <time>`, as an ISO time (`latest`, the default, is no point at all). */
function testRecoveryPoint(mode: Mode, values: Record<string, unknown>): string | undefined {
  const point = values['recovery-point'] as string | undefined;
  if (mode !== 'test' || point === undefined || point === 'latest') return undefined;
  if (!/^\d{4}-\d\d-\d\d/.test(point) || Number.isNaN(Date.parse(point)))
    throw new UsageError(
      `--recovery-point ${point} is not a time: in test mode it is the time test copies are restored to, an ISO time like 2026-11-22T10:15:00Z`,
    );
  return new Date(point).toISOString();
}

/** The workflow input of a test run to a point in time: the plan itself, if one of its copies goes there. */
async function planInput(plan: Plan, point: string): Promise<{ plan: Plan }> {
  if (!plan.steps.some((s) => s.kind === 'restore' && s.params.recoveryPoint === point))
    throw new UserError(
      `--recovery-point in test mode is the time PostgreSQL test copies are restored to, but no workload of ${plan.name} is recovered by the postgres provider`,
      'other test copies are restored from the test snapshot: run the test without --recovery-point',
    );
  const { MAX_PLAN_BYTES } = await import('../activities');
  const bytes = Buffer.byteLength(JSON.stringify(plan));
  if (bytes > MAX_PLAN_BYTES)
    throw new UserError(
      `the plan of ${plan.name} is ${bytes.toLocaleString('en-US')} bytes, too large to start a run with it (at most ${MAX_PLAN_BYTES.toLocaleString('en-US')})`,
      'run the test without --recovery-point, or split the runbook',
    );
  return { plan };
}

/** Before a run starts: refused while a site has no worker, or another run holds its workloads. */
async function preflight(client: Client, plan: Plan, workflowId: string, taskQueue: string): Promise<void> {
  const { unservedSites, unservedMessage, holdersOf, inUseMessage } = await import('../activities/preflight');
  const { heldWorkloads, registryId } = await import('../workflows/hold');
  const missing = await unservedSites(
    client,
    Object.values(plan.sites).map((s) => ({ site: s.name, taskQueue: s.taskQueue })),
  );
  if (missing.length) {
    const { message, hint } = unservedMessage(missing);
    throw new UserError(`not started: ${message}`, hint);
  }
  const holders = await holdersOf(client, registryId(plan, taskQueue), heldWorkloads(plan), workflowId);
  if (holders.size) {
    const { message, hint } = inUseMessage(holders);
    throw new UserError(`not started: ${message}`, hint);
  }
}

/**
 * Prints step transitions until the run closes (or awaits commit); returns its record. Each poll asks an
 * execution only for what changed since the last (`progressSince`): the root every second, the shards of a
 * large run every third second, and a shard no more once it has ended.
 */
export async function follow(client: Client, workflowId: string, io: CliIO): Promise<RunRecord | undefined> {
  const handle = client.workflow.getHandle(workflowId);
  const shown = new Map<string, string>();
  const cursors = new Map<string, ProgressCursor>();
  const ended = new Set<string>();
  const poll = async (id: string): Promise<ProgressDelta | undefined> => {
    const delta = await progressOf(client, id, cursors.get(id) ?? { since: 0, from: 0 });
    if (!delta) return undefined;
    cursors.set(id, { since: delta.now, from: delta.eventCount });
    for (const e of delta.events) io.stdout(`${clock(e.at)} · ${e.text}\n`);
    for (const s of delta.steps) {
      const key = `${s.status}|${s.compensation?.status ?? ''}`;
      if (s.kind === 'barrier' || shown.get(s.id) === key || s.status === 'pending') continue;
      shown.set(s.id, key);
      const line = stepLine(s, workflowId);
      if (line) io.stdout(line + '\n');
    }
    return delta;
  };
  for (let tick = 0; ; tick++) {
    const desc = await handle.describe();
    const root = await poll(workflowId);
    for (const shard of root?.shards ?? []) {
      if (ended.has(shard.workflowId) || (tick % 3 !== 0 && desc.status.name === 'RUNNING')) continue;
      await poll(shard.workflowId);
      if (shard.status !== 'running' && shard.status !== 'finished') ended.add(shard.workflowId);
    }
    if (desc.status.name !== 'RUNNING' || root?.status === 'awaiting-commit')
      return fetchRecord(client, handle, desc.status.name, io);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** What changed in one execution's record; from its whole record when its worker predates `progressSince`. */
async function progressOf(client: Client, id: string, cursor: ProgressCursor): Promise<ProgressDelta | undefined> {
  const { progressQuery, progressSince, progressSinceQuery } = await import('../workflows/messages');
  const handle = client.workflow.getHandle(id);
  return handle.query(progressSinceQuery, cursor).catch(() =>
    handle.query(progressQuery).then(
      (record) => progressSince(record, cursor),
      () => undefined,
    ),
  );
}

function stepLine(s: StepRecord, workflowId: string): string | undefined {
  const at = clock(s.endedAt ?? s.startedAt ?? Date.now());
  const took =
    s.startedAt !== undefined && s.endedAt !== undefined ? ` ${formatDuration(s.endedAt - s.startedAt)}` : '';
  const retries = s.attempts > 1 ? ` (attempt ${s.attempts})` : '';
  if (s.compensation)
    return `${at} ↩ ${s.id} undone by ${s.compensation.kind}: ${s.compensation.status}${s.compensation.error ? ` (${s.compensation.error})` : ''}`;
  switch (s.status) {
    case 'running':
      return `${at} ▶ ${s.id} (${s.kind} @ ${s.site})`;
    case 'succeeded':
      return `${at} ✓ ${s.id}${took}${retries}${s.message ? ` · ${s.message}` : ''}`;
    case 'failed':
      return `${at} ✗ ${s.id}${took}${retries} · ${s.error?.type}: ${s.error?.message}`;
    case 'skipped':
      return `${at} ⤼ ${s.id} skipped`;
    case 'waiting':
      if (s.kind === 'approval')
        return `${at} ⏸ ${s.id} waits for approval: drover approve ${workflowId} --step ${s.id} --by <name>`;
      if (s.error?.type === 'DataLossNotAccepted')
        return `${at} ⏸ ${s.id}: ${s.error.message}; accept: drover approve ${workflowId} --step ${s.id} --by <name> (or reject)`;
      if (s.kind === 'prompt' || s.kind === 'confirm')
        return `${at} ⏸ ${s.id} waits for a person: drover dismiss ${workflowId} --step ${s.id} --by <name>`;
      return `${at} ⏸ ${s.id} failed (${s.error?.message}); drover retry-step|skip-step ${workflowId} --step ${s.id} --by <name>`;
    default:
      return undefined;
  }
}

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/** The run record of a workflow in any state, with its shards' steps when the plan was split. */
async function fetchRecord(
  client: Client,
  handle: WorkflowHandle,
  status: string,
  io: CliIO,
): Promise<RunRecord | undefined> {
  const root = await rootRecord(handle, status, io);
  const { withShards } = await import('../reports/collect');
  return root ? withShards(client, root) : undefined;
}

async function rootRecord(handle: WorkflowHandle, status: string, io: CliIO): Promise<RunRecord | undefined> {
  const { progressQuery } = await import('../workflows/messages');
  if (status === 'COMPLETED') return (await handle.result()) as RunRecord;
  if (status === 'FAILED') {
    try {
      await handle.result();
    } catch (e) {
      const cause = (e as { cause?: { details?: unknown[]; message?: string; type?: string } }).cause;
      const record = cause?.details?.[0] as RunRecord | undefined;
      if (record && Array.isArray(record.steps)) return record;
      io.stderr(
        `drover: the run failed before it started its plan: ${cause?.type ?? ''} ${cause?.message ?? (e as Error).message}\n`,
      );
      return undefined;
    }
  }
  // Running, cancelled or terminated: ask the workflow (a worker must be running to answer).
  try {
    return await handle.query(progressQuery);
  } catch (e) {
    throw new UserError(
      `cannot read the run record of ${handle.workflowId} (${status}): ${(e as Error).message}`,
      'start a worker (`drover worker`), which answers queries for closed runs too',
    );
  }
}

function finish(record: RunRecord | undefined, io: CliIO, ok: RunRecord['status'][] = ['succeeded']): number {
  if (!record) return EXIT.failed;
  io.stdout('\n' + summary(record) + writeReports(record, io));
  const readiness = readinessChecks(record);
  if (readiness) io.stdout(readinessMarkdown(readiness).join('\n') + '\n');
  if (record.status === 'awaiting-commit') {
    io.stdout(
      `\nrecovered; awaiting commit. Check the workloads, then keep them: drover commit ${record.workflowId} --by <name>\n` +
        `or undo the recovery in reverse dependency order: drover rollback ${record.workflowId} --by <name>\n`,
    );
    return EXIT.ok;
  }
  return ok.includes(record.status) && (readiness?.ready ?? true) ? EXIT.ok : EXIT.failed;
}

/** `--out FILE`: the path you give, written as it is; a folder that is missing or not yours is a clear error. */
function writeOut(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'an error';
    throw new UserError(
      `cannot write the report to ${path} (${code})`,
      'give --out a file in a folder that exists and that you may write to',
    );
  }
}

/** Writes the run's reports under .drover/reports/ and says where. */
export function writeReports(record: RunRecord, io: CliIO): string {
  const dir = join(io.cwd, '.drover', 'reports');
  // The file is named after the run, made one plain file name: a workflow id can hold `/` or `..`.
  const name = fileNameOf(record.workflowId);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), toJson(record));
  writeFileSync(join(dir, `${name}.md`), toMarkdown(record));
  return `reports: .drover/reports/${name}.json, .md\n`;
}

export function summary(record: RunRecord): string {
  const c = counts(record);
  const lines = [
    `${record.plan.name} ${record.plan.mode}: ${record.status.toUpperCase()}${record.endedAt ? ` in ${formatDuration(record.endedAt - record.startedAt)}` : ''}`,
    `  steps: ${c.succeeded} succeeded, ${c.failed} failed, ${c.skipped} skipped, ${c.notRun} not run, of ${c.steps}; ${c.retries} retries; ${c.compensated} compensated`,
    `  ${objectiveLine('RTO', record.achieved.rtoMs, record.objectives.rtoMs)}`,
    `  ${objectiveLine('RPO', record.achieved.rpoMs, record.objectives.rpoMs)}`,
  ];
  if (record.failedStep) {
    const f = record.steps.find((s) => s.id === record.failedStep);
    lines.push(`  failed step: ${record.failedStep}: ${f?.error?.type}: ${f?.error?.message}`);
  }
  if (record.status === 'stopped')
    lines.push('  stopped past the point of no return: what was recovered is kept; run it again to continue');
  const d = record.commitWindow?.decision;
  if (d)
    lines.push(
      `  ${d.decision === 'commit' ? 'committed' : 'rolled back'} by ${d.by}${d.comment ? ` (${d.comment})` : ''}`,
    );
  return lines.join('\n') + '\n';
}

const STATUS_LIST_MAX = 60;
const STATUS_ATTENTION_MAX = 25;

export const statusCommand: Command = {
  name: 'status',
  summary: "show a run's steps, their status, attempts and errors",
  usage: `drover status <workflow id> [--step PATTERN] [--failed] [--all] [--follow]

A run of up to ${STATUS_LIST_MAX} steps lists every step. A larger one shows a summary: steps by kind and
status, then the steps that need a look (failed, waiting, running, compensation failed), at most
${STATUS_ATTENTION_MAX}. --step lists the steps whose id matches (\`vm-0042\` or \`vm-0042/*\`: that workload's
steps; * matches any text), --failed the failed ones, --all every step.`,
  options: {
    follow: { type: 'boolean' },
    step: { type: 'string' },
    failed: { type: 'boolean' },
    all: { type: 'boolean' },
  },
  allowPositionals: true,
  async run({ values, positionals }, io) {
    const id = onePositional(positionals, 'workflow id');
    const { client, connection } = await temporal(io);
    try {
      const handle = client.workflow.getHandle(id);
      const desc = await handle.describe().catch((e: Error) => {
        throw notFound(id, e);
      });
      const record = values.follow
        ? await follow(client, id, io)
        : await fetchRecord(client, handle, desc.status.name, io);
      if (!record) return EXIT.failed;
      io.stdout(`${id}: ${desc.status.name.toLowerCase()}\n`);
      io.stdout(
        statusLines(record, {
          ...(typeof values.step === 'string' ? { step: values.step } : {}),
          failed: values.failed === true,
          all: values.all === true,
        }).join('\n') + '\n',
      );
      io.stdout(summary(record));
      return EXIT.ok;
    } finally {
      await connection.close();
    }
  },
};

/** `drover status`'s body: every step of a small run; a summary and the steps that need a look in a large one. */
export function statusLines(record: RunRecord, opts: { step?: string; failed?: boolean; all?: boolean }): string[] {
  const steps = record.steps.filter((s) => s.kind !== 'barrier');
  const failed = (s: StepRecord) => s.status === 'failed' || s.compensation?.status === 'failed';
  const line = (s: StepRecord) =>
    `  ${s.status.padEnd(9)} ${s.id.padEnd(32)} ${String(s.attempts).padStart(2)} attempt(s)${s.error ? `  ${s.error.type}: ${s.error.message}` : ''}${s.compensation ? `  undone by ${s.compensation.kind}: ${s.compensation.status}` : ''}`;
  if (opts.step !== undefined || opts.failed) {
    const matches = opts.step !== undefined ? stepMatcher(opts.step) : () => true;
    const chosen = steps.filter((s) => matches(s.id) && (!opts.failed || failed(s)));
    const what = [opts.step !== undefined ? `matching ${opts.step}` : '', opts.failed ? 'failed' : '']
      .filter(Boolean)
      .join(', ');
    return chosen.length > 0 ? chosen.map(line) : [`  no step ${what}`];
  }
  if (opts.all || steps.length <= STATUS_LIST_MAX) return steps.map(line);
  // Large: a table of kinds by status, then what needs a look.
  const statuses = [...new Set(steps.map((s) => s.status))];
  const kinds = new Map<string, Map<string, number>>();
  for (const s of steps) {
    const row = kinds.get(s.kind) ?? new Map<string, number>();
    row.set(s.status, (row.get(s.status) ?? 0) + 1);
    kinds.set(s.kind, row);
  }
  const out = [
    `  ${steps.length} steps${record.shards?.length ? ` in ${record.shards.length + 1} executions` : ''}; by kind and status:`,
    `    ${'kind'.padEnd(20)}${statuses.map((st) => st.padStart(11)).join('')}`,
    ...[...kinds].map(
      ([kind, row]) => `    ${kind.padEnd(20)}${statuses.map((st) => String(row.get(st) ?? 0).padStart(11)).join('')}`,
    ),
  ];
  const attention = steps.filter((s) => failed(s) || s.status === 'waiting' || s.status === 'running');
  if (attention.length > 0) {
    out.push(`  needing a look (failed, waiting, running, compensation failed): ${attention.length}`);
    out.push(...attention.slice(0, STATUS_ATTENTION_MAX).map(line));
    if (attention.length > STATUS_ATTENTION_MAX)
      out.push(`  ... and ${attention.length - STATUS_ATTENTION_MAX} more: --failed, --step PATTERN or --all`);
  }
  out.push(`  one workload's steps: drover status ${record.workflowId} --step <workload>; every step: --all`);
  return out;
}

/** `vm-0042` matches that id and the ids under it (`vm-0042/...`); `*` matches any text. */
function stepMatcher(pattern: string): (id: string) => boolean {
  const body = pattern
    .split('*')
    .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const re = new RegExp(`^${body}(/.*)?$`);
  return (id) => re.test(id);
}

export const reportCommand: Command = {
  name: 'report',
  summary: "print a run's report (json or markdown)",
  usage: `drover report <workflow id> [--format markdown|html|junit|json] [--out FILE]

markdown: for a pull-request comment. html: one self-contained file (timeline, objectives, approvals,
drill score, tabletop gaps) to keep as evidence. junit: JUnit XML, one test case per step and per
objective, for CI. json: the run record, for tools.`,
  options: { format: { type: 'string' }, out: { type: 'string' } },
  allowPositionals: true,
  async run({ values, positionals }, io) {
    const id = onePositional(positionals, 'workflow id');
    const format = (values.format as string | undefined) ?? 'markdown';
    if (!['json', 'markdown', 'html', 'junit'].includes(format))
      throw new UsageError(`unknown format "${format}": use markdown, html, junit or json`);
    const { client, connection } = await temporal(io);
    try {
      const handle = client.workflow.getHandle(id);
      const desc = await handle.describe().catch((e: Error) => {
        throw notFound(id, e);
      });
      const record = await fetchRecord(client, handle, desc.status.name, io);
      if (!record) return EXIT.failed;
      const text =
        format === 'json'
          ? toJson(record)
          : format === 'html'
            ? (await import('../reports/html')).toHtml(record)
            : format === 'junit'
              ? (await import('../reports/junit')).toJunit(record)
              : toMarkdown(record);
      if (values.out) writeOut(resolve(io.cwd, values.out as string), text);
      else io.stdout(text);
      return EXIT.ok;
    } finally {
      await connection.close();
    }
  },
};

type Decision = 'approve' | 'reject' | 'dismiss' | 'retryStep' | 'skipStep';

function decisionCommand(name: string, decision: Decision, summaryText: string): Command {
  return {
    name,
    summary: summaryText,
    usage: `drover ${name} <workflow id> --step <step id> --by <name> [--comment TEXT]${signs(decision) ? ' [--key FILE]' : ''}

Sent as a Temporal Update, so a mistake (unknown step, not an approver, twice) is refused at once.
The same works as a signal: temporal workflow signal --workflow-id <id> --name ${decision} --input '{"step":"<step id>","by":"<name>"}'${
      signs(decision)
        ? `
--key: your Ed25519 private key (PEM): the decision is signed (run, step, decision, you, now) and the run
counts it only if it verifies with your public key in the runbook's \`approvers\`. An approval whose
approvers all have keys counts only signed decisions, unless it says \`signatures: optional\`.`
        : ''
    }`,
    options: {
      step: { type: 'string' },
      by: { type: 'string' },
      comment: { type: 'string' },
      ...(signs(decision) ? { key: { type: 'string' as const } } : {}),
    },
    allowPositionals: true,
    async run({ values, positionals }, io) {
      const id = onePositional(positionals, 'workflow id');
      if (!values.step || !values.by) throw new UsageError('--step and --by are required');
      const signature = values.key
        ? signedBy(resolve(io.cwd, values.key as string), {
            run: id,
            step: values.step as string,
            decision: decision === 'approve' ? 'approved' : 'rejected',
            by: values.by as string,
            at: new Date().toISOString(),
          })
        : undefined;
      const { client, connection, msg } = await temporal(io);
      const update = {
        approve: msg.approveUpdate,
        reject: msg.rejectUpdate,
        dismiss: msg.dismissUpdate,
        retryStep: msg.retryStepUpdate,
        skipStep: msg.skipStepUpdate,
      }[decision];
      try {
        const input = {
          step: values.step as string,
          by: values.by as string,
          ...(values.comment ? { comment: values.comment as string } : {}),
          ...(signature ? { signature } : {}),
        };
        const answer = await client.workflow.getHandle(id).executeUpdate(update, { args: [input] });
        io.stdout(`${id}: ${answer}\n`);
        return EXIT.ok;
      } catch (e) {
        if ((e as Error).name === 'WorkflowNotFoundError') throw notFound(id, e as Error);
        const cause = (e as { cause?: Error }).cause;
        if ((e as Error).name === 'WorkflowUpdateFailedError')
          throw new UserError(`refused: ${cause?.message ?? (e as Error).message}`);
        throw e;
      } finally {
        await connection.close();
      }
    },
  };
}

const signs = (d: Decision) => d === 'approve' || d === 'reject';

/** The decision signed with the key in `file` (security/signing.ts); a key problem is the user's to fix. */
function signedBy(file: string, fields: SignedFields): { at: string; value: string } {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`cannot read the key file ${file}`, 'give --key the PEM file of your Ed25519 private key');
  }
  try {
    return { at: fields.at, value: signApproval(pem, fields) };
  } catch (e) {
    throw new UserError(`--key ${file}: ${(e as Error).message}`);
  }
}

function signalCommand(name: 'pause' | 'resume' | 'cancel', summaryText: string): Command {
  return {
    name,
    summary: summaryText,
    usage: `drover ${name} <workflow id> [--by <name>]`,
    options: { by: { type: 'string' } },
    allowPositionals: true,
    async run({ values, positionals }, io) {
      const id = onePositional(positionals, 'workflow id');
      const { client, connection, msg } = await temporal(io);
      try {
        const handle = client.workflow.getHandle(id);
        const by = values.by ? { by: values.by as string } : {};
        if (name === 'cancel') await handle.cancel();
        else await handle.signal(name === 'pause' ? msg.pauseSignal : msg.resumeSignal, by);
        io.stdout(
          `${id}: ${name} requested${name === 'cancel' ? ' (completed steps are compensated; a failover past its point of no return keeps what it recovered: `drover rollback` undoes it)' : ''}\n`,
        );
        return EXIT.ok;
      } catch (e) {
        if ((e as Error).name === 'WorkflowNotFoundError') throw notFound(id, e as Error);
        throw e;
      } finally {
        await connection.close();
      }
    },
  };
}

/** `drover commit` and `drover rollback`: end a failover's commit window; rollback then follows the undo. */
function windowCommand(name: 'commit' | 'rollback', summaryText: string): Command {
  return {
    name,
    summary: summaryText,
    usage: `drover ${name} <workflow id> --by <name> [--comment TEXT] [--no-follow]

${
  name === 'commit'
    ? 'Keeps what a planned-migration, disaster-recovery or failback run recovered and ends it (the run must be\nawaiting commit).'
    : 'Undoes a planned-migration, disaster-recovery or failback run in reverse dependency order: the recovered\nworkloads are powered off and removed, replicas demoted, the protected side unfenced and powered on where\nit still can be. Works in the commit window, and while the run is running or paused.'
}
Sent as a Temporal Update (refused at once when it does not apply); also a signal: temporal workflow signal --name ${name} --input '{"by":"<name>"}'`,
    options: { by: { type: 'string' }, comment: { type: 'string' }, follow: { type: 'boolean' } },
    allowPositionals: true,
    async run({ values, positionals }, io) {
      const id = onePositional(positionals, 'workflow id');
      if (!values.by) throw new UsageError('--by is required');
      const { client, connection, msg } = await temporal(io);
      try {
        const input = { by: values.by as string, ...(values.comment ? { comment: values.comment as string } : {}) };
        const answer = await client.workflow
          .getHandle(id)
          .executeUpdate(name === 'commit' ? msg.commitUpdate : msg.rollbackUpdate, { args: [input] })
          .catch((e: Error & { cause?: Error }) => {
            if (e.name === 'WorkflowNotFoundError') throw notFound(id, e);
            if (e.name === 'WorkflowUpdateFailedError')
              throw new UserError(`refused: ${e.cause?.message ?? e.message}`);
            throw e;
          });
        io.stdout(`${id}: ${answer}\n`);
        if (values.follow === false) return EXIT.ok;
        const record = await follow(client, id, io);
        return finish(record, io, ['succeeded', 'rolled-back']);
      } finally {
        await connection.close();
      }
    },
  };
}

export const peopleCommands: Command[] = [
  windowCommand('commit', 'keep what a failover recovered and end its commit window'),
  windowCommand('rollback', 'undo a failover in reverse dependency order (in its commit window, or while it runs)'),
  decisionCommand('approve', 'approve', 'approve an approval step (counts toward its quorum)'),
  decisionCommand('reject', 'reject', 'reject an approval step'),
  decisionCommand('dismiss', 'dismiss', 'dismiss a prompt so the run goes on'),
  decisionCommand('retry-step', 'retryStep', 'run again a step that failed with onFailure: pause'),
  decisionCommand('skip-step', 'skipStep', 'skip a step that failed with onFailure: pause'),
  signalCommand('pause', 'stop starting new steps (running ones finish)'),
  signalCommand('resume', 'go on after pause'),
  signalCommand('cancel', 'cancel a run: running steps stop, completed ones are compensated in reverse'),
];

function onePositional(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`name exactly one ${what}`);
  return positionals[0]!;
}

function notFound(id: string, e: Error): UserError {
  return new UserError(
    `no run with workflow id ${id}: ${e.message.split('\n')[0]}`,
    'list runs with `temporal workflow list`',
  );
}
