/** Commands that start and steer runs: run, status, approve, reject, dismiss, retry-step, skip-step, pause, resume, cancel, report. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Client, WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';
import { formatDuration, planHashOf } from '../compiler';
import { fileNameOf } from '../compiler/paths';
import type { SignedFields } from '../security/approval-message';
import { signApproval } from '../security/signing';
import { command, MODE_OPTION, modeOption, TEXT_OR_JSON, writeFileOrSay } from './commands';
import type { Command } from './commands';
import { compileFile, printDiagnostics } from './compile-file';
import { EXIT, UsageError, UserError, useColor } from './io';
import type { CliIO } from './io';
import { connectClient, DEFAULT_ADDRESS } from './temporal';
import type { TemporalTarget } from './temporal';
import { counts, objectiveLine, toJson, toMarkdown } from '../reports';
import { readinessChecks, readinessMarkdown } from '../reports/readiness';
import type { RunRecord, StepRecord } from '../contracts/record';
import * as msg from '../workflows/messages';
import type { ProgressCursor, ProgressDelta } from '../workflows/messages';
import type { Mode, Plan } from '../compiler';
import { MAX_PLAN_BYTES } from '../activities';
import { unservedSites, unservedMessage, holdersOf, inUseMessage } from '../activities/preflight';
import { heldWorkloads, registryId } from '../workflows/hold';
import { chainProgress, withChainProgress, withShards } from '../reports/collect';
import { toHtml } from '../reports/html';
import { toJunit } from '../reports/junit';

/** A client connected as the environment says, and the workflow's messages. */
async function temporal(io: CliIO) {
  const { client, connection, target } = await connectClient(io.env);
  return { client, connection, msg, target };
}

/** The run's static details in the Web UI (markdown): what runs, from where, against which objectives. */
export function runDetails(plan: Plan): string {
  const steps = plan.steps.filter((s) => s.kind !== 'barrier').length;
  return [
    `**${plan.name}** in **${plan.mode}** mode: ${plan.from} → ${plan.to}`,
    `- plan ${plan.planHash.slice(0, 12)}, from ${plan.source.file}${plan.source.gitCommit ? ` @ ${plan.source.gitCommit.slice(0, 12)}` : ''}`,
    `- ${plan.workloads.length} workloads, ${steps} steps; critical path ${formatDuration(plan.criticalPath.estimateMs)}`,
    `- objectives: RTO ${formatDuration(plan.objectives.rtoMs)}, RPO ${formatDuration(plan.objectives.rpoMs)}`,
  ].join('\n');
}

/** Modes that change production: a run in one starts only when the operator confirms it (or `--yes`). */
export const DISRUPTIVE_MODES: readonly Mode[] = ['planned-migration', 'disaster-recovery', 'failback', 'reprotect'];

export const runCommand = command({
  name: 'run',
  summary: 'start a run of a runbook on Temporal and follow it live',
  operands: '[file]',
  details: `Compiles the runbook (nothing starts if it has errors), checks that a worker serves each of its sites
and that no other run holds its workloads, starts the workflow on task queue "drover" with input
{"runbook": <file>, "mode": <mode>} (a worker reads and compiles it again, so the plan is in Temporal's
history), then shows every step live until the run ends, or, for planned-migration, disaster-recovery
and failback, until it awaits commit (\`drover commit\` or \`drover rollback\`). The workflow id defaults
to drover-<plan>-<mode>. Ctrl-C stops following, not the run.
${DISRUPTIVE_MODES.join(', ')} change production: the plan's summary is shown and the run starts
only when you type yes (or with --yes, for scripts).
--plan <file>.json (from \`drover plan -o <file>.json\`): runs exactly that reviewed plan, after checking that
its runbook still compiles to it (same hash); a runbook changed since is refused.
--recovery-point (disaster-recovery): the point to recover from, latest by default, or the newest at or
before a time (2026-11-22T10:15:00Z), or a checkpoint's name. --accept-data-loss: a point older than
the RPO needs no approval. --recovery-point <time> (test): the time the test copies of PostgreSQL
workloads are restored to (point-in-time recovery from the WAL archive; the others are restored from the
test snapshot as always); the run then starts with the plan compiled here ({"plan": <plan>}), since the
time is part of it. Writes .drover/reports/<id>.json and .md. Exit 0 when the run succeeds (or
awaits commit), 1 when it fails. With -o json the steps go to stderr and the run record to stdout.`,
  options: {
    mode: MODE_OPTION,
    plan: { value: 'file', help: 'run the plan saved by drover plan -o <file>.json', complete: 'file' },
    id: { value: 'workflow-id', help: 'the workflow id (default drover-<plan>-<mode>)' },
    follow: { negatable: true, help: 'show the steps live until the run ends (default; --no-follow returns at once)' },
    'recovery-point': { value: 'point', help: 'disaster-recovery: latest, a time, or a checkpoint; test: a time' },
    'accept-data-loss': { help: 'disaster-recovery: a point older than the RPO needs no approval' },
    yes: { short: 'y', help: 'start a disruptive mode without asking' },
  },
  uses: { output: TEXT_OR_JSON, temporal: true },
  async run({ values, positionals }, io) {
    const color = useColor(io, 'stderr', values.color);
    const chosen = await whatToRun(values, positionals, io);
    if (!chosen) return EXIT.failed;
    const { plan, input, mode } = chosen;
    const workflowId = values.id ?? `drover-${plan.name}-${mode}`;
    const json = values.output === 'json';
    // With -o json, stdout is the record alone: the live steps go to stderr.
    const out: CliIO = json ? { ...io, stdout: io.stderr } : io;
    if (DISRUPTIVE_MODES.includes(mode) && !values.yes && !(await confirmed(plan, workflowId, io, color)))
      return EXIT.failed;
    const { client, connection, msg, target } = await temporal(io);
    try {
      await preflight(client, plan, workflowId, msg.ORCHESTRATION_QUEUE);
      try {
        await client.workflow.start(msg.WORKFLOW_TYPE, {
          taskQueue: msg.ORCHESTRATION_QUEUE,
          workflowId,
          args: [input],
          // What the Web UI shows at the top of the run: the plan, the mode, its hash and objectives.
          staticSummary: `${plan.name} · ${mode}`,
          staticDetails: runDetails(plan),
        });
      } catch (e) {
        if ((e as Error).name === 'WorkflowExecutionAlreadyStartedError') {
          throw new UserError(
            `a run with id ${workflowId} is already running: Drover runs one ${plan.name} ${mode} at a time`,
            `follow it with \`drover status ${workflowId}\`, cancel it with \`drover cancel ${workflowId}\`, or give another --id`,
          );
        }
        throw e;
      }
      out.stdout(
        `started ${workflowId} (${plan.name}, ${mode}, ${plan.steps.filter((s) => s.kind !== 'barrier').length} steps)\n`,
      );
      const link = webUiLink(io.env, workflowId, target);
      if (link) out.stdout(`web UI: ${link}\n`);
      if (values.follow === false) {
        if (json) io.stdout(JSON.stringify({ workflowId, plan: plan.name, mode, started: true }, null, 2) + '\n');
        else io.stdout(`follow it with: drover status ${workflowId}\n`);
        return EXIT.ok;
      }
      io.onInterrupt?.(
        `\n${workflowId} goes on: it runs on Temporal, not in this terminal.\n` +
          `  follow it:  drover status ${workflowId} --follow\n  cancel it:  drover cancel ${workflowId}\n`,
      );
      const record = await follow(client, workflowId, out);
      return finish(record, io, json);
    } finally {
      await connection.close();
    }
  },
});

/** The plan to run and the workflow's input: a runbook compiled here, or a saved plan checked against its runbook. */
async function whatToRun(
  values: { mode?: string; plan?: string; color?: boolean; 'recovery-point'?: string; 'accept-data-loss'?: boolean },
  positionals: string[],
  io: CliIO,
): Promise<{ plan: Plan; input: unknown; mode: Mode } | undefined> {
  const color = useColor(io, 'stderr', values.color);
  if (values.plan !== undefined) {
    if (positionals.length || values.mode)
      throw new UsageError('give either a runbook and --mode, or --plan <file>.json (which names both), not both');
    const plan = await savedPlan(values.plan, io, color);
    return { plan, mode: plan.mode, input: { ...(await planInput(plan)), ...failoverChoices(plan.mode, values) } };
  }
  if (positionals.length !== 1) throw new UsageError('name exactly one runbook file (or --plan <file>.json)');
  const mode = modeOption(values.mode);
  const choices = failoverChoices(mode, values);
  const testPoint = testRecoveryPoint(mode, values);
  const compiled = compileFile(positionals[0]!, io.cwd, mode, testPoint);
  printDiagnostics(compiled, io.stderr, color);
  if (!compiled.plan) return undefined;
  // The test copies' point in time is in the plan, so the workflow gets that plan (it does not compile again).
  const input = testPoint
    ? await planInput(requirePointInTime(compiled.plan, testPoint))
    : { runbook: positionals[0]!, mode, ...choices };
  return { plan: compiled.plan, input, mode };
}

/** `--plan <file>`: the saved plan, if its runbook still compiles to it (same hash); else a clear refusal. */
async function savedPlan(file: string, io: CliIO, color: boolean): Promise<Plan> {
  let plan: Plan;
  try {
    plan = JSON.parse(readFileSync(resolve(io.cwd, file), 'utf8')) as Plan;
  } catch (e) {
    throw new UserError(
      `cannot read the plan ${file}: ${(e as Error).message.split('\n')[0]}`,
      'save one with: drover plan <runbook> --mode <mode> -o plan.json',
    );
  }
  if (typeof plan?.planHash !== 'string' || typeof plan.source?.file !== 'string' || typeof plan.mode !== 'string')
    throw new UserError(
      `${file} is not a plan saved by drover plan -o`,
      'save one with: drover plan <runbook> --mode <mode> -o plan.json',
    );
  if (planHashOf(plan) !== plan.planHash)
    throw new UserError(
      `${file} was edited after it was saved: its content no longer has its hash ${plan.planHash.slice(0, 12)}`,
      'save the plan again with drover plan -o',
    );
  const point = plan.steps.find((s) => s.kind === 'restore' && typeof s.params.recoveryPoint === 'string')?.params
    .recoveryPoint as string | undefined;
  const again = compileFile(plan.source.file, io.cwd, plan.mode, plan.mode === 'test' ? point : undefined);
  printDiagnostics(again, io.stderr, color);
  if (!again.plan) throw new UserError(`${plan.source.file} no longer compiles: the plan in ${file} is not run`);
  if (again.plan.planHash !== plan.planHash)
    throw new UserError(
      `${plan.source.file} changed since ${file} was saved: it compiles to plan ${again.plan.planHash.slice(0, 12)}, not the reviewed ${plan.planHash.slice(0, 12)}; nothing was started`,
      `review it again: drover plan ${plan.source.file} --mode ${plan.mode} -o ${file}`,
    );
  return plan;
}

/** Shows what a disruptive run will do and asks; true only when the answer is yes. */
async function confirmed(plan: Plan, workflowId: string, io: CliIO, color: boolean): Promise<boolean> {
  const workloads = plan.workloads.length;
  const steps = plan.steps.filter((s) => s.kind !== 'barrier').length;
  const bold = (t: string) => (color ? `\u001b[1m${t}\u001b[22m` : t);
  io.stderr(
    `${bold(`${plan.mode} of ${plan.name}`)}: ${plan.from} → ${plan.to}, ${workloads} workload${workloads === 1 ? '' : 's'}, ${steps} steps, ` +
      `critical path ${formatDuration(plan.criticalPath.estimateMs)} (RTO ${formatDuration(plan.criticalPath.rtoMs)}), plan ${plan.planHash.slice(0, 12)}, run ${workflowId}\n` +
      `This changes production at both sites (\`drover plan ${plan.source.file} --mode ${plan.mode}\` shows every step).\n` +
      `Type yes to start it: `,
  );
  const answer = await readLine(io.stdin);
  if (answer?.trim().toLowerCase() === 'yes') return true;
  io.stderr(
    `\nnot started${answer === undefined ? ': no answer (stdin closed); give --yes to start without asking' : ''}\n`,
  );
  return false;
}

/** One line typed on stdin, or undefined when it closes first (or there is none). */
async function readLine(stdin: NodeJS.ReadableStream | undefined): Promise<string | undefined> {
  if (!stdin) return undefined;
  const lines = createInterface({ input: stdin, terminal: false });
  const line = await new Promise<string | undefined>((done) => {
    lines.once('line', done);
    lines.once('close', () => done(undefined));
  });
  lines.close();
  return line;
}

/**
 * The run's page in the Temporal Web UI: under DROVER_WEB_UI when set; else the embedded server's UI when
 * the connection (flags, TEMPORAL_* or a profile) goes to the embedded server's address; else unknown.
 */
export function webUiLink(env: NodeJS.ProcessEnv, workflowId: string, target: TemporalTarget): string | undefined {
  const embedded = target.address === DEFAULT_ADDRESS || target.address === 'localhost:7233';
  const base = env.DROVER_WEB_UI ?? (embedded ? 'http://127.0.0.1:8233' : undefined);
  if (!base) return undefined;
  return `${base.replace(/\/$/, '')}/namespaces/${encodeURIComponent(target.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** `--recovery-point` and `--accept-data-loss`: a failover's choices; a switchover loses nothing, so has none. */
function failoverChoices(
  mode: Mode,
  values: { 'recovery-point'?: string; 'accept-data-loss'?: boolean },
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
function testRecoveryPoint(mode: Mode, values: { 'recovery-point'?: string }): string | undefined {
  const point = values['recovery-point'] as string | undefined;
  if (mode !== 'test' || point === undefined || point === 'latest') return undefined;
  if (!/^\d{4}-\d\d-\d\d/.test(point) || Number.isNaN(Date.parse(point)))
    throw new UsageError(
      `--recovery-point ${point} is not a time: in test mode it is the time test copies are restored to, an ISO time like 2026-11-22T10:15:00Z`,
    );
  return new Date(point).toISOString();
}

/** Test mode's point in time only applies when a copy of the plan goes there (a PostgreSQL restore). */
function requirePointInTime(plan: Plan, point: string): Plan {
  if (!plan.steps.some((s) => s.kind === 'restore' && s.params.recoveryPoint === point))
    throw new UserError(
      `--recovery-point in test mode is the time PostgreSQL test copies are restored to, but no workload of ${plan.name} is recovered by the postgres provider`,
      'other test copies are restored from the test snapshot: run the test without --recovery-point',
    );
  return plan;
}

/** The workflow input that runs exactly this plan (the worker does not compile again). */
async function planInput(plan: Plan): Promise<{ plan: Plan }> {
  const bytes = Buffer.byteLength(JSON.stringify(plan));
  if (bytes > MAX_PLAN_BYTES)
    throw new UserError(
      `the plan of ${plan.name} is ${bytes.toLocaleString('en-US')} bytes, too large to start a run with it (at most ${MAX_PLAN_BYTES.toLocaleString('en-US')})`,
      'run the runbook itself (drover run <file> --mode <mode>), which the worker compiles and splits into shards',
    );
  return { plan };
}

/** Before a run starts: refused while a site has no worker, or another run holds its workloads. */
async function preflight(client: Client, plan: Plan, workflowId: string, taskQueue: string): Promise<void> {
  const missing = await unservedSites(
    client,
    Object.values(plan.sites).map((s) => ({ site: s.name, taskQueue: s.taskQueue })),
  );
  if (missing.length) {
    const { message, hint } = unservedMessage(missing);
    throw new UserError(`not started: ${message}`, hint, EXIT.unreachable);
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
  // Events and step changes in the order they happened ("run succeeded" after the last step's ✓).
  const show = (events: RunRecord['events'], steps: readonly StepRecord[]) => {
    const lines: { at: number; text: string }[] = events.map((e) => ({ at: e.at, text: `${clock(e.at)} · ${e.text}` }));
    for (const s of steps) {
      const key = `${s.status}|${s.compensation?.status ?? ''}`;
      if (s.kind === 'barrier' || shown.get(s.id) === key || s.status === 'pending') continue;
      shown.set(s.id, key);
      const line = stepLine(s, workflowId);
      if (line) lines.push({ at: s.compensation?.endedAt ?? s.endedAt ?? s.startedAt ?? 0, text: line });
    }
    for (const l of lines.sort((a, b) => a.at - b.at)) io.stdout(l.text + '\n');
  };
  const poll = async (id: string, desc?: WorkflowExecutionDescription): Promise<ProgressDelta | undefined> => {
    const delta = await progressOf(client, id, cursors.get(id) ?? { since: 0, from: 0 });
    if (!delta) return undefined;
    cursors.set(id, { since: delta.now, from: delta.eventCount });
    show(delta.events, delta.steps);
    // The steps a chain under way has finished, or is on, before its activity ends (workflows/chains.ts).
    show([], await chainProgress(client, id, desc));
    return delta;
  };
  for (let tick = 0; ; tick++) {
    const desc = await handle.describe();
    const root = await poll(workflowId, desc);
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
  const { progressQuery, progressSince, progressSinceQuery } = msg;
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
  if (!root) return undefined;
  const whole = await withShards(client, root);
  if (status !== 'RUNNING') return whole;
  // Steps inside chains under way, from their heartbeats (the record has them when each chain ends).
  const running = (root.shards ?? []).filter((s) => s.status === 'running').map((s) => s.workflowId);
  return withChainProgress(client, whole, [handle.workflowId, ...running]);
}

async function rootRecord(handle: WorkflowHandle, status: string, io: CliIO): Promise<RunRecord | undefined> {
  const { progressQuery } = msg;
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

/**
 * The end of a followed run: its summary and reports (or, with `json`, its record on stdout and the rest on
 * stderr); the exit code: 0 when its status is one of `ok` (or it awaits commit), 1 otherwise.
 */
function finish(
  record: RunRecord | undefined,
  io: CliIO,
  json: boolean,
  ok: RunRecord['status'][] = ['succeeded'],
): number {
  if (!record) return EXIT.failed;
  const say = json ? io.stderr : io.stdout;
  say('\n' + summary(record) + writeReports(record, io));
  const readiness = readinessChecks(record);
  if (readiness) say(readinessMarkdown(readiness).join('\n') + '\n');
  if (json) io.stdout(JSON.stringify(record, null, 2) + '\n');
  if (record.status === 'awaiting-commit') {
    say(
      `\nrecovered; awaiting commit. Check the workloads, then keep them: drover commit ${record.workflowId} --by <name>\n` +
        `or undo the recovery in reverse dependency order: drover rollback ${record.workflowId} --by <name>\n`,
    );
    return EXIT.ok;
  }
  return ok.includes(record.status) && (readiness?.ready ?? true) ? EXIT.ok : EXIT.failed;
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

export const statusCommand = command({
  name: 'status',
  summary: "show a run's steps, their status, attempts and errors",
  operands: '<workflow-id>',
  details: `A run of up to ${STATUS_LIST_MAX} steps lists every step. A larger one shows a summary: steps by kind and
status, then the steps that need a look (failed, waiting, running, compensation failed), at most
${STATUS_ATTENTION_MAX}. --step lists the steps whose id matches (\`vm-0042\` or \`vm-0042/*\`: that workload's
steps; * matches any text), --failed the failed ones, --all every step. -o json prints the run record
(with --step or --failed, only the steps chosen).`,
  options: {
    follow: { short: 'f', help: 'show the steps live until the run ends' },
    step: { value: 'pattern', help: "only the steps whose id matches (a workload's name: its steps; * any text)" },
    failed: { help: 'only the failed steps' },
    all: { help: 'every step, however many' },
  },
  uses: { output: TEXT_OR_JSON, temporal: true },
  async run({ values, positionals }, io) {
    const id = positionals[0]!;
    const json = values.output === 'json';
    const { client, connection, target } = await temporal(io);
    try {
      const handle = client.workflow.getHandle(id);
      const desc = await handle.describe().catch((e: Error) => {
        throw notFound(id, e);
      });
      const record = values.follow
        ? await follow(client, id, json ? { ...io, stdout: io.stderr } : io)
        : await fetchRecord(client, handle, desc.status.name, io);
      if (!record) return EXIT.failed;
      const filter = {
        ...(values.step !== undefined ? { step: values.step } : {}),
        failed: values.failed === true,
        all: values.all === true,
      };
      if (json) {
        const steps = filter.step !== undefined || filter.failed ? chosenSteps(record, filter) : record.steps;
        io.stdout(JSON.stringify({ ...record, execution: desc.status.name, steps }, null, 2) + '\n');
        return EXIT.ok;
      }
      io.stdout(`${id}: ${desc.status.name.toLowerCase()}\n`);
      const link = webUiLink(io.env, id, target);
      if (link) io.stdout(`web UI: ${link}\n`);
      io.stdout(statusLines(record, filter).join('\n') + '\n');
      io.stdout(summary(record));
      return EXIT.ok;
    } finally {
      await connection.close();
    }
  },
});

/** `drover status`'s body: every step of a small run; a summary and the steps that need a look in a large one. */
export function statusLines(record: RunRecord, opts: { step?: string; failed?: boolean; all?: boolean }): string[] {
  const steps = record.steps.filter((s) => s.kind !== 'barrier');
  const failed = (s: StepRecord) => s.status === 'failed' || s.compensation?.status === 'failed';
  const line = (s: StepRecord) =>
    `  ${s.status.padEnd(9)} ${s.id.padEnd(32)} ${String(s.attempts).padStart(2)} attempt(s)${s.error ? `  ${s.error.type}: ${s.error.message}` : ''}${s.compensation ? `  undone by ${s.compensation.kind}: ${s.compensation.status}` : ''}`;
  if (opts.step !== undefined || opts.failed) {
    const chosen = chosenSteps(record, opts);
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

/** The steps `--step` and `--failed` choose (barriers never). */
function chosenSteps(record: RunRecord, opts: { step?: string; failed?: boolean }): StepRecord[] {
  const matches = opts.step !== undefined ? stepMatcher(opts.step) : () => true;
  return record.steps.filter(
    (s) =>
      s.kind !== 'barrier' &&
      matches(s.id) &&
      (!opts.failed || s.status === 'failed' || s.compensation?.status === 'failed'),
  );
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

const REPORT_FORMATS = ['markdown', 'html', 'junit', 'json'] as const;

export const reportCommand = command({
  name: 'report',
  summary: "print or write a run's report: markdown, html, junit or json",
  operands: '<workflow-id>',
  details: `markdown: for a pull-request comment. html: one self-contained file (timeline, objectives, approvals,
drill score, tabletop gaps) to keep as evidence. junit: JUnit XML, one test case per step and per
objective, for CI. json: the run record, for tools.`,
  options: {
    format: { value: 'format', choices: REPORT_FORMATS, help: 'the document: markdown (default), html, junit or json' },
    out: { value: 'file', help: 'write it to this file instead of stdout', complete: 'file' },
  },
  uses: { temporal: true },
  async run({ values, positionals }, io) {
    const id = positionals[0]!;
    const format = values.format ?? 'markdown';
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
            ? toHtml(record)
            : format === 'junit'
              ? toJunit(record)
              : toMarkdown(record);
      if (values.out) writeFileOrSay(resolve(io.cwd, values.out), text, 'the report');
      else io.stdout(text);
      return EXIT.ok;
    } finally {
      await connection.close();
    }
  },
});

type Decision = 'approve' | 'reject' | 'dismiss' | 'retryStep' | 'skipStep';

function decisionCommand(name: string, decision: Decision, summaryText: string): Command {
  return command({
    name,
    summary: summaryText,
    operands: '<workflow-id>',
    details: `Sent as a Temporal Update, so a mistake (unknown step, not an approver, twice) is refused at once.
The same works as a signal: temporal workflow signal --workflow-id <id> --name ${decision} --input '{"step":"<step id>","by":"<name>"}'${
      signs(decision)
        ? `
--key: your Ed25519 private key (PEM): the decision is signed (run, step, decision, you, now) and the run
counts it only if it verifies with your public key in the runbook's \`approvers\`. An approval whose
approvers all have keys counts only signed decisions, unless it says \`signatures: optional\`.`
        : ''
    }`,
    options: {
      step: { value: 'step-id', required: true, help: 'the step (as drover status shows it)' },
      by: { value: 'name', required: true, help: 'who decides (recorded in the history and the report)' },
      comment: { value: 'text', help: 'why (recorded with the decision)' },
      ...(signs(decision)
        ? {
            key: {
              value: 'file',
              help: 'sign the decision with this Ed25519 private key (PEM)',
              complete: 'file' as const,
            },
          }
        : {}),
    },
    uses: { output: TEXT_OR_JSON, temporal: true },
    async run({ values, positionals }, io) {
      const id = positionals[0]!;
      const step = values.step!;
      const by = values.by!;
      const key = (values as { key?: string }).key;
      const signature = key
        ? signedBy(resolve(io.cwd, key), {
            run: id,
            step,
            decision: decision === 'approve' ? 'approved' : 'rejected',
            by,
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
          step,
          by,
          ...(values.comment ? { comment: values.comment } : {}),
          ...(signature ? { signature } : {}),
        };
        const answer = await client.workflow.getHandle(id).executeUpdate(update, { args: [input] });
        io.stdout(
          values.output === 'json'
            ? JSON.stringify(
                { workflowId: id, step, decision: name, by, signed: signature !== undefined, answer },
                null,
                2,
              ) + '\n'
            : `${id}: ${answer}\n`,
        );
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
  });
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
  return command({
    name,
    summary: summaryText,
    operands: '<workflow-id>',
    options: { by: { value: 'name', help: 'who asks (recorded)' } },
    uses: { output: TEXT_OR_JSON, temporal: true },
    async run({ values, positionals }, io) {
      const id = positionals[0]!;
      const { client, connection, msg } = await temporal(io);
      try {
        const handle = client.workflow.getHandle(id);
        const by = values.by ? { by: values.by } : {};
        if (name === 'cancel') await handle.cancel();
        else await handle.signal(name === 'pause' ? msg.pauseSignal : msg.resumeSignal, by);
        io.stdout(
          values.output === 'json'
            ? JSON.stringify({ workflowId: id, requested: name, ...by }, null, 2) + '\n'
            : `${id}: ${name} requested${name === 'cancel' ? ' (completed steps are compensated; a failover past its point of no return keeps what it recovered: `drover rollback` undoes it)' : ''}\n`,
        );
        return EXIT.ok;
      } catch (e) {
        if ((e as Error).name === 'WorkflowNotFoundError') throw notFound(id, e as Error);
        throw e;
      } finally {
        await connection.close();
      }
    },
  });
}

/** `drover commit` and `drover rollback`: end a failover's commit window; rollback then follows the undo. */
function windowCommand(name: 'commit' | 'rollback', summaryText: string): Command {
  return command({
    name,
    summary: summaryText,
    operands: '<workflow-id>',
    details: `${
      name === 'commit'
        ? 'Keeps what a planned-migration, disaster-recovery or failback run recovered and ends it (the run must be\nawaiting commit).'
        : 'Undoes a planned-migration, disaster-recovery or failback run in reverse dependency order: the recovered\nworkloads are powered off and removed, replicas demoted, the protected side unfenced and powered on where\nit still can be. Works in the commit window, and while the run is running or paused.'
    }
Sent as a Temporal Update (refused at once when it does not apply); also a signal: temporal workflow signal --name ${name} --input '{"by":"<name>"}'`,
    options: {
      by: { value: 'name', required: true, help: 'who decides (recorded in the history and the report)' },
      comment: { value: 'text', help: 'why (recorded with the decision)' },
      follow: { negatable: true, help: 'show the steps until the run ends (default; --no-follow returns at once)' },
    },
    uses: { output: TEXT_OR_JSON, temporal: true },
    async run({ values, positionals }, io) {
      const id = positionals[0]!;
      const json = values.output === 'json';
      const { client, connection, msg } = await temporal(io);
      try {
        const input = { by: values.by!, ...(values.comment ? { comment: values.comment } : {}) };
        const answer = await client.workflow
          .getHandle(id)
          .executeUpdate(name === 'commit' ? msg.commitUpdate : msg.rollbackUpdate, { args: [input] })
          .catch((e: Error & { cause?: Error }) => {
            if (e.name === 'WorkflowNotFoundError') throw notFound(id, e);
            if (e.name === 'WorkflowUpdateFailedError')
              throw new UserError(`refused: ${e.cause?.message ?? e.message}`);
            throw e;
          });
        (json ? io.stderr : io.stdout)(`${id}: ${answer}\n`);
        if (values.follow === false) {
          if (json)
            io.stdout(JSON.stringify({ workflowId: id, decision: name, by: values.by, answer }, null, 2) + '\n');
          return EXIT.ok;
        }
        const record = await follow(client, id, json ? { ...io, stdout: io.stderr } : io);
        return finish(record, io, json, ['succeeded', 'rolled-back']);
      } finally {
        await connection.close();
      }
    },
  });
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

function notFound(id: string, e: Error): UserError {
  return new UserError(
    `no run with workflow id ${id}: ${e.message.split('\n')[0]}`,
    'list runs with `temporal workflow list`',
  );
}
