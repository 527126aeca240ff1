/**
 * `drover drill <file> --scenario <name>`: a simulated drill. The plan runs for real on Temporal, against
 * a simulated site of its own (seeded fresh for the drill) with the scenario's faults, and is scored:
 * achieved RTO and RPO against the objectives per workload, retries, compensations, pass or fail.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { formatDiagnostic } from '../compiler';
import { compileDrill } from '../compiler/scenario';
import { isPlainName, outsideOf } from '../compiler/paths';
import { command, seedOption, TEXT_OR_JSON } from './commands';
import { gitCommitOf } from '../activities/git';
import { EXIT, UsageError, UserError, useColor } from './io';
import { follow, runDetails, writeReports } from './runs';
import { connectClient } from './temporal';
import * as msg from '../workflows/messages';
import { scoreDrill, scoreMarkdown } from '../reports/score';

export const drillCommand = command({
  name: 'drill',
  summary: 'run a simulated drill with a fault scenario, and score it against the objectives',
  operands: '<file>',
  details: `Runs the runbook as a drill: on Temporal, for real, against a simulated site of its own (seeded fresh
under .drover/drills/<id>/) with the faults of runbooks/scenarios/<name>.yaml (next to the runbook).
Custom commands and HTTP calls do not run in a drill: they are recorded as what would have run.
The same seed gives the same faults. The score (RTO and RPO per workload against the objectives,
retries, compensations, PASS or FAIL with the reasons) is printed and written with the report.
Exit 0 when the drill passes, 1 when it fails. With -o json the steps go to stderr, the record to stdout.
The workflow input, for the Temporal CLI or a schedule:
  {"runbook": "<file>", "mode": "<the scenario's mode>", "scenario": "<name>", "seed": <n>}`,
  options: {
    scenario: {
      short: 's',
      value: 'name',
      help: 'the fault scenario: runbooks/scenarios/<name>.yaml next to the runbook',
    },
    seed: { value: 'n', help: 'the seed of the faults (the same seed, the same faults)' },
    id: { value: 'workflow-id', help: 'the workflow id (default drover-<plan>-drill-<scenario>)' },
    follow: { negatable: true, help: 'show the steps live and the score (default; --no-follow returns at once)' },
  },
  uses: { output: TEXT_OR_JSON, temporal: true },
  async run({ values, positionals }, io) {
    const file = positionals[0]!;
    const name = values.scenario;
    const dir = join(dirname(file), 'scenarios');
    const available = () => {
      try {
        return readdirSync(resolve(io.cwd, dir))
          .filter((f) => f.endsWith('.yaml'))
          .map((f) => f.slice(0, -5));
      } catch {
        return [];
      }
    };
    if (!name) throw new UsageError(`name a scenario with --scenario (in ${dir}: ${available().join(', ') || 'none'})`);
    if (!isPlainName(name))
      throw new UsageError(
        `--scenario ${name}: a scenario is a file name in ${dir} (letters, digits, . _ -), not a path; scenarios there: ${available().join(', ') || 'none'}`,
      );
    const id = values.id;
    if (id !== undefined && outsideOf('.drover/drills', `.drover/drills/${id}`))
      throw new UsageError(`--id ${id}: a drill's id names its folder under .drover/drills/: use one without \`..\``);
    const seed = seedOption(values.seed);
    const color = useColor(io, 'stderr', values.color);
    const read = (path: string, what: string) => {
      try {
        return readFileSync(resolve(io.cwd, path), 'utf8');
      } catch {
        throw new UserError(
          `cannot read ${what} ${path}`,
          what === 'scenario' ? `scenarios in ${dir}: ${available().join(', ') || 'none'}` : 'check the path',
        );
      }
    };
    const runbookText = read(file, 'runbook');
    const scenarioFile = join(dir, `${name}.yaml`);
    const scenarioText = read(scenarioFile, 'scenario');
    const commit = gitCommitOf(file, io.cwd);
    const compiled = compileDrill(runbookText, file, scenarioText, scenarioFile, {
      ...(commit ? { gitCommit: commit } : {}),
      ...(seed !== undefined ? { seed } : {}),
    });
    for (const d of compiled.diagnostics)
      io.stderr(formatDiagnostic(d, d.file === scenarioFile ? scenarioText : runbookText, { color }) + '\n');
    if (!compiled.plan || !compiled.scenario) return EXIT.failed;
    const plan = compiled.plan;
    const workflowId = (values.id as string | undefined) ?? `drover-${plan.name}-drill-${name}`;
    const { client, connection } = await connectClient(io.env);
    try {
      try {
        await client.workflow.start(msg.WORKFLOW_TYPE, {
          taskQueue: msg.ORCHESTRATION_QUEUE,
          workflowId,
          args: [{ runbook: file, mode: plan.mode, scenario: name, ...(seed !== undefined ? { seed } : {}) }],
          staticSummary: `${plan.name} · drill ${name} (${plan.mode})`,
          staticDetails: `${runDetails(plan)}\n- drill: scenario ${name}, seed ${plan.simulation!.seed}; ${compiled.scenario.description}`,
        });
      } catch (e) {
        if (e instanceof WorkflowExecutionAlreadyStartedError)
          throw new UserError(
            `a drill with id ${workflowId} is already running`,
            `follow it: drover status ${workflowId} --follow`,
          );
        throw e;
      }
      const json = values.output === 'json';
      const out = json ? { ...io, stdout: io.stderr } : io;
      out.stdout(
        `drill ${workflowId} started: scenario ${name} (seed ${plan.simulation!.seed}), ${plan.mode} mode against a simulated site of its own\n  ${compiled.scenario.description}\n`,
      );
      if (values.follow === false) return EXIT.ok;
      const record = await follow(client, workflowId, out);
      if (!record) return EXIT.failed;
      const score = scoreDrill(record)!;
      out.stdout(`\n${scoreMarkdown(score).join('\n')}\n${writeReports(record, io)}`);
      if (json) io.stdout(JSON.stringify({ ...record, score }, null, 2) + '\n');
      return score.passed ? EXIT.ok : EXIT.failed;
    } finally {
      await connection.close();
    }
  },
});
