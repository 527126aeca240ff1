/**
 * `drover schedule`: recurring `test` runs and drills as Temporal Schedules, so DR testing happens without
 * anyone remembering to do it ("unannounced": with jitter, nobody knows the minute). Create, list, delete.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { formatDiagnostic, parseDuration } from '../compiler';
import type { Command } from './commands';
import { seedOption } from './commands';
import { compileFile, printDiagnostics } from './compile-file';
import { EXIT, UsageError, UserError, useColor } from './io';
import type { CliIO } from './io';

const SCHEDULED_BY = 'drover.dev/scheduled';

export const scheduleCommand: Command = {
  name: 'schedule',
  summary: 'create, list and delete Temporal Schedules for recurring tests and drills',
  usage: `drover schedule create <file> (--mode test|readiness|tabletop | --scenario <name> [--seed <n>]) (--cron "<expr>" | --every <duration>) [--jitter <duration>] [--id <schedule id>]
drover schedule list
drover schedule delete <schedule id>

create: a Temporal Schedule that starts a run of the runbook on its own: a non-disruptive test
  (--mode test), pre-flight checks (--mode readiness), a tabletop, or a simulated drill (--scenario). --cron takes a cron expression
  ("0 3 * * 1" is Mondays at 03:00 UTC); --every a duration (e.g. 1d, 12h). --jitter delays each
  start by a random amount up to the duration, so the run is unannounced. A run still going
  when the next is due is not started twice. The runbook is checked first: nothing is created
  when it has errors. Schedule id default: drover-<plan>-<mode or drill-scenario>.
list: every Drover schedule, when it next runs, and the runs it started last.
delete: removes a schedule (runs it started are kept).`,
  options: {
    mode: { type: 'string', short: 'm' },
    scenario: { type: 'string', short: 's' },
    seed: { type: 'string' },
    cron: { type: 'string' },
    every: { type: 'string' },
    jitter: { type: 'string' },
    id: { type: 'string' },
    color: { type: 'boolean' },
  },
  allowPositionals: true,
  async run({ values, positionals }, io) {
    const [sub, ...rest] = positionals;
    if (sub === 'create') return create(values, rest, io);
    if (sub === 'list') return list(io);
    if (sub === 'delete') {
      if (rest.length !== 1) throw new UsageError('name the schedule to delete: drover schedule delete <id>');
      return remove(rest[0]!, io);
    }
    throw new UsageError('say create, list or delete');
  },
};

async function create(values: Record<string, unknown>, rest: string[], io: CliIO): Promise<number> {
  if (rest.length !== 1) throw new UsageError('name exactly one runbook file');
  const file = rest[0]!;
  const scenario = values.scenario as string | undefined;
  const modeValue = values.mode as string | undefined;
  if (scenario && modeValue)
    throw new UsageError("give --mode or --scenario, not both (a drill runs in its scenario's mode)");
  if (!scenario && !['test', 'tabletop', 'readiness'].includes(modeValue ?? ''))
    throw new UsageError(
      'schedule a non-disruptive run: --mode test, readiness or tabletop; or a drill: --scenario <name>',
    );
  const cron = values.cron as string | undefined;
  const every = values.every as string | undefined;
  if (!cron === !every) throw new UsageError('say when: --cron "<expression>" or --every <duration>');
  const ms = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = parseDuration(v);
    if (n === undefined || n <= 0)
      throw new UsageError(`--${flag} must be a duration such as 30s, 15m, 12h or 1d, not ${v}`);
    return n;
  };
  const everyMs = ms('every', every);
  const jitterMs = ms('jitter', values.jitter as string | undefined);
  const seed = seedOption(values.seed);
  const color = useColor(io, 'stderr', values.color as boolean | undefined);

  // Check the runbook (and scenario) now: a schedule that fails every time helps nobody.
  let name: string;
  let mode: string;
  if (scenario) {
    const scenarioFile = join(dirname(file), 'scenarios', `${scenario}.yaml`);
    const read = (p: string) => {
      try {
        return readFileSync(resolve(io.cwd, p), 'utf8');
      } catch {
        throw new UserError(`cannot read ${p}`, 'check the runbook path and the scenario name');
      }
    };
    const runbookText = read(file);
    const scenarioText = read(scenarioFile);
    const { compileDrill } = await import('../compiler/scenario');
    const r = compileDrill(runbookText, file, scenarioText, scenarioFile);
    for (const d of r.diagnostics)
      io.stderr(formatDiagnostic(d, d.file === scenarioFile ? scenarioText : runbookText, { color }) + '\n');
    if (!r.plan) return EXIT.failed;
    name = r.plan.name;
    mode = r.plan.mode;
  } else {
    const compiled = compileFile(file, io.cwd, modeValue as 'test');
    printDiagnostics(compiled, io.stderr, color);
    if (!compiled.plan) return EXIT.failed;
    name = compiled.plan.name;
    mode = compiled.plan.mode;
  }
  const what = scenario ? `drill-${scenario}` : mode;
  const scheduleId = (values.id as string | undefined) ?? `drover-${name}-${what}`;
  const input = { runbook: file, mode, ...(scenario ? { scenario } : {}), ...(seed !== undefined ? { seed } : {}) };
  const { connectClient } = await import('./temporal');
  const msg = await import('../workflows/messages');
  const { ScheduleAlreadyRunning, ScheduleOverlapPolicy } = await import('@temporalio/client');
  const { client, connection } = await connectClient(io.env);
  try {
    await client.schedule.create({
      scheduleId,
      spec: {
        ...(cron ? { cronExpressions: [cron] } : { intervals: [{ every: everyMs! }] }),
        ...(jitterMs ? { jitter: jitterMs } : {}),
      },
      action: {
        type: 'startWorkflow',
        workflowType: msg.WORKFLOW_TYPE,
        taskQueue: msg.ORCHESTRATION_QUEUE,
        // Temporal adds the start time to the id, so every run has its own.
        workflowId: `drover-${name}-${what}`,
        args: [input],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
      memo: { [SCHEDULED_BY]: true, runbook: file, what, when: cron ? `cron "${cron}"` : `every ${every}` },
    });
    io.stdout(
      `schedule ${scheduleId} created: ${scenario ? `drill ${scenario}` : `${mode} run`} of ${file} ${cron ? `on cron "${cron}"` : `every ${every}`}${jitterMs ? ` with up to ${String(values.jitter)} of jitter` : ''}\n` +
        `list: drover schedule list · remove: drover schedule delete ${scheduleId}\n`,
    );
    return EXIT.ok;
  } catch (e) {
    if (e instanceof ScheduleAlreadyRunning)
      throw new UserError(
        `a schedule with id ${scheduleId} already exists`,
        `remove it first (drover schedule delete ${scheduleId}) or give --id`,
      );
    throw e;
  } finally {
    await connection.close();
  }
}

async function list(io: CliIO): Promise<number> {
  const { connectClient } = await import('./temporal');
  const { client, connection } = await connectClient(io.env);
  try {
    let n = 0;
    for await (const summary of client.schedule.list()) {
      if (!summary.memo?.[SCHEDULED_BY]) continue;
      n++;
      const d = await client.schedule.getHandle(summary.scheduleId).describe();
      const spec = String(summary.memo.when ?? 'on a calendar');
      const next = d.info.nextActionTimes[0];
      io.stdout(
        `${summary.scheduleId}: ${String(summary.memo.what)} of ${String(summary.memo.runbook)}, ${spec}${d.state.paused ? ' (paused)' : ''}${next ? `; next ${next.toISOString()}` : ''}\n`,
      );
      for (const a of d.info.recentActions.slice(-3))
        io.stdout(`  started ${a.action.workflow.workflowId} at ${a.takenAt.toISOString()}\n`);
    }
    if (n === 0)
      io.stdout('no Drover schedules; create one with: drover schedule create <file> --scenario <name> --every 1d\n');
    return EXIT.ok;
  } finally {
    await connection.close();
  }
}

async function remove(id: string, io: CliIO): Promise<number> {
  const { connectClient } = await import('./temporal');
  const { ScheduleNotFoundError } = await import('@temporalio/client');
  const { client, connection } = await connectClient(io.env);
  try {
    await client.schedule.getHandle(id).delete();
    io.stdout(`schedule ${id} deleted (the runs it started are kept)\n`);
    return EXIT.ok;
  } catch (e) {
    if (e instanceof ScheduleNotFoundError)
      throw new UserError(`no schedule ${id}`, 'see them with: drover schedule list');
    throw e;
  } finally {
    await connection.close();
  }
}
