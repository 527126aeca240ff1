/**
 * `drover schedule`: recurring `test` runs and drills as Temporal Schedules, so DR testing happens without
 * anyone remembering to do it ("unannounced": with jitter, nobody knows the minute). Create, list, delete.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import { formatDiagnostic, parseDuration } from '../compiler';
import { compileDrill } from '../compiler/scenario';
import { command, seedOption, TEXT_OR_JSON } from './commands';
import type { Values } from './commands';
import { compileFile, printDiagnostics } from './compile-file';
import { EXIT, UsageError, UserError, useColor } from './io';
import type { CliIO } from './io';
import { connectClient } from './temporal';
import * as msg from '../workflows/messages';

const SCHEDULED_BY = 'drover.dev/scheduled';

const SCHEDULED_MODES = ['test', 'readiness', 'tabletop'] as const;

const CREATE_OPTIONS = {
  mode: { short: 'm', value: 'mode', choices: SCHEDULED_MODES, help: 'test, readiness or tabletop' },
  scenario: { short: 's', value: 'name', help: 'a drill with this fault scenario (instead of --mode)' },
  seed: { value: 'n', help: "the drill's seed" },
  cron: { value: 'expression', help: 'when, as a cron expression (UTC)' },
  every: { value: 'duration', help: 'when, as an interval: 12h, 1d' },
  jitter: { value: 'duration', help: 'start each run up to this much later, at random' },
  id: { value: 'schedule-id', help: 'the schedule id (default drover-<plan>-<mode or drill-scenario>)' },
} as const;

const createCommand = command({
  name: 'create',
  summary: 'a Temporal Schedule that starts a test, readiness check, tabletop or drill on its own',
  operands: '<file>',
  details: `A non-disruptive test (--mode test), pre-flight checks (--mode readiness), a tabletop, or a simulated
drill (--scenario). --cron takes a cron expression ("0 3 * * 1" is Mondays at 03:00 UTC); --every a
duration (e.g. 1d, 12h). --jitter delays each start by a random amount up to the duration, so the run is
unannounced. A run still going when the next is due is not started twice. The runbook is checked first:
nothing is created when it has errors. Schedule id default: drover-<plan>-<mode or drill-scenario>.`,
  options: CREATE_OPTIONS,
  uses: { output: TEXT_OR_JSON, temporal: true },
  run: ({ values, positionals }, io) => create(values, positionals[0]!, io),
});

export const scheduleCommand = command({
  name: 'schedule',
  summary: 'create, list and delete Temporal Schedules for recurring tests and drills',
  options: {},
  subcommands: [
    createCommand,
    command({
      name: 'list',
      summary: 'every Drover schedule, when it next runs, and the runs it started last',
      options: {},
      uses: { output: TEXT_OR_JSON, temporal: true },
      run: ({ values }, io) => list(io, values.output === 'json'),
    }),
    command({
      name: 'delete',
      summary: 'remove a schedule (the runs it started are kept)',
      operands: '<schedule-id>',
      options: {},
      uses: { output: TEXT_OR_JSON, temporal: true },
      run: ({ values, positionals }, io) => remove(positionals[0]!, io, values.output === 'json'),
    }),
  ],
});

async function create(values: Values<typeof CREATE_OPTIONS>, file: string, io: CliIO): Promise<number> {
  const scenario = values.scenario;
  const modeValue = values.mode;
  if (scenario && modeValue)
    throw new UsageError("give --mode or --scenario, not both (a drill runs in its scenario's mode)");
  if (!scenario && !modeValue)
    throw new UsageError(
      'schedule a non-disruptive run: --mode test, readiness or tabletop; or a drill: --scenario <name>',
    );
  const cron = values.cron;
  const every = values.every;
  if (!cron === !every) throw new UsageError('say when: --cron "<expression>" or --every <duration>');
  const ms = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = parseDuration(v);
    if (n === undefined || n <= 0)
      throw new UsageError(`--${flag} must be a duration such as 30s, 15m, 12h or 1d, not ${v}`);
    return n;
  };
  const everyMs = ms('every', every);
  const jitterMs = ms('jitter', values.jitter);
  const seed = seedOption(values.seed);
  const json = values.output === 'json';
  const color = useColor(io, 'stderr', values.color);

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
  const scheduleId = values.id ?? `drover-${name}-${what}`;
  const input = { runbook: file, mode, ...(scenario ? { scenario } : {}), ...(seed !== undefined ? { seed } : {}) };
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
    if (json) {
      io.stdout(
        JSON.stringify(
          { scheduleId, runbook: file, mode, ...(scenario ? { scenario } : {}), cron, every, jitter: values.jitter },
          null,
          2,
        ) + '\n',
      );
      return EXIT.ok;
    }
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

async function list(io: CliIO, json: boolean): Promise<number> {
  const { client, connection } = await connectClient(io.env);
  try {
    let n = 0;
    const rows: object[] = [];
    for await (const summary of client.schedule.list()) {
      if (!summary.memo?.[SCHEDULED_BY]) continue;
      n++;
      const d = await client.schedule.getHandle(summary.scheduleId).describe();
      const spec = String(summary.memo.when ?? 'on a calendar');
      const next = d.info.nextActionTimes[0];
      const recent = d.info.recentActions.slice(-3);
      if (json) {
        rows.push({
          scheduleId: summary.scheduleId,
          what: summary.memo.what,
          runbook: summary.memo.runbook,
          when: spec,
          paused: d.state.paused,
          ...(next ? { next: next.toISOString() } : {}),
          recent: recent.map((a) => ({ workflowId: a.action.workflow.workflowId, at: a.takenAt.toISOString() })),
        });
        continue;
      }
      io.stdout(
        `${summary.scheduleId}: ${String(summary.memo.what)} of ${String(summary.memo.runbook)}, ${spec}${d.state.paused ? ' (paused)' : ''}${next ? `; next ${next.toISOString()}` : ''}\n`,
      );
      for (const a of recent) io.stdout(`  started ${a.action.workflow.workflowId} at ${a.takenAt.toISOString()}\n`);
    }
    if (json) io.stdout(JSON.stringify(rows, null, 2) + '\n');
    else if (n === 0)
      io.stdout('no Drover schedules; create one with: drover schedule create <file> --scenario <name> --every 1d\n');
    return EXIT.ok;
  } finally {
    await connection.close();
  }
}

async function remove(id: string, io: CliIO, json: boolean): Promise<number> {
  const { client, connection } = await connectClient(io.env);
  try {
    await client.schedule.getHandle(id).delete();
    io.stdout(
      json
        ? JSON.stringify({ scheduleId: id, deleted: true }, null, 2) + '\n'
        : `schedule ${id} deleted (the runs it started are kept)\n`,
    );
    return EXIT.ok;
  } catch (e) {
    if (e instanceof ScheduleNotFoundError)
      throw new UserError(`no schedule ${id}`, 'see them with: drover schedule list');
    throw e;
  } finally {
    await connection.close();
  }
}
