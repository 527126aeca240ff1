/**
 * `drover tabletop <file>`: a tabletop exercise, driven from the terminal. The exercise is a durable run
 * (mode `tabletop`): each step is presented when the plan reaches it, and the facilitator records what the
 * participants answered. Anyone else may answer the same steps with `temporal workflow update execute
 * --name answer` (or `drover answer`); closing this terminal loses nothing: run the command again to
 * pick the exercise up where it is.
 */
import { createInterface } from 'node:readline';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { formatDuration } from '../compiler';
import { command } from './commands';
import { compileFile, printDiagnostics } from './compile-file';
import { EXIT, UsageError, UserError, useColor } from './io';
import type { CliIO } from './io';
import type { RunRecord, StepRecord } from '../contracts/record';
import * as msg from '../workflows/messages';
import { withShards } from '../reports/collect';
import { findingsMarkdown, tabletopFindings } from '../reports/gaps';
import { runDetails, writeReports } from './runs';
import { connectClient } from './temporal';

const HELP =
  'd = done, s = skipped, b <reason> = blocked; add " # <note>" to record a note; q = leave (the exercise keeps its place)';

export const tabletopCommand = command({
  name: 'tabletop',
  summary: 'walk a runbook as a tabletop exercise: nothing is touched, every answer is recorded',
  operands: '<file>',
  details: `Starts a tabletop exercise of the runbook (or joins the one already running) and presents each step
as the plan reaches it. For each, type what the participants found:
  ${HELP}
Answers are recorded with the name given by --by (default: $USER), the time, and the note. Steps are
timed from when they are presented. At the end the gaps found are printed (blocked steps, steps slower
than the runbook expects, approvals no listed approver could give) with the estimated RTO, and the
report is written to .drover/reports/<id>.md and .json.
From another terminal, the same steps can be answered with:
  temporal workflow update execute --workflow-id <id> --name answer \\
    --input '{"step": "<step id>", "by": "<name>", "outcome": "done"}'`,
  options: {
    by: { value: 'name', help: 'who answers (default $USER)' },
    id: { value: 'workflow-id', help: 'the workflow id (default drover-<plan>-tabletop)' },
  },
  uses: { temporal: true },
  async run({ values, positionals }, io) {
    const by = values.by ?? io.env.USER ?? io.env.USERNAME;
    if (!by) throw new UsageError('say who is answering: --by <name>');
    const compiled = compileFile(positionals[0]!, io.cwd, 'tabletop');
    printDiagnostics(compiled, io.stderr, useColor(io, 'stderr', values.color));
    if (!compiled.plan) return EXIT.failed;
    const plan = compiled.plan;
    const workflowId = values.id ?? `drover-${plan.name}-tabletop`;
    const { client, connection } = await connectClient(io.env);
    const lines = io.stdin ? createInterface({ input: io.stdin, terminal: false })[Symbol.asyncIterator]() : undefined;
    try {
      try {
        await client.workflow.start(msg.WORKFLOW_TYPE, {
          taskQueue: msg.ORCHESTRATION_QUEUE,
          workflowId,
          args: [{ runbook: positionals[0]!, mode: 'tabletop' }],
          staticSummary: `${plan.name} · tabletop`,
          staticDetails: runDetails(plan),
        });
        io.stdout(
          `tabletop exercise ${workflowId} started: ${plan.steps.filter((s) => s.kind === 'confirm').length} steps to walk, answering as ${by}\n`,
        );
      } catch (e) {
        if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
        io.stdout(`joining the tabletop exercise ${workflowId}, already running, as ${by}\n`);
      }
      io.stdout(`answers: ${HELP}\n`);
      const handle = client.workflow.getHandle(workflowId);
      const estimates = new Map(plan.steps.map((s) => [s.id, s]));
      for (;;) {
        const desc = await handle.describe();
        if (desc.status.name !== 'RUNNING') break;
        const record = await handle.query(msg.progressQuery).catch(() => undefined);
        const next = record?.steps.find((s) => s.kind === 'confirm' && s.status === 'waiting');
        if (!next) {
          await new Promise((r) => setTimeout(r, 300));
          continue;
        }
        present(next, estimates.get(next.id)?.params as Record<string, unknown> | undefined, io);
        for (;;) {
          io.stdout('> ');
          const line = lines ? await lines.next() : { done: true as const, value: undefined };
          if (line.done || line.value.trim() === 'q') {
            io.stdout(
              `\nleft the exercise; it keeps its place. Continue with: drover tabletop ${positionals[0]} --id ${workflowId}\n`,
            );
            return EXIT.ok;
          }
          const answer = parseAnswer(line.value);
          if (!answer) {
            io.stdout(`  ${HELP}\n`);
            continue;
          }
          try {
            await handle.executeUpdate(msg.answerUpdate, { args: [{ step: next.id, by, ...answer }] });
            break;
          } catch (e) {
            const why = (e as { cause?: { message?: string } }).cause?.message ?? (e as Error).message;
            // Someone else answered it meanwhile: move on to the next step.
            if (/already answered/.test(why)) {
              io.stdout(`  ${why}\n`);
              break;
            }
            io.stdout(`  not recorded: ${why}\n`);
          }
        }
      }
      const desc = await handle.describe();
      const root =
        desc.status.name === 'COMPLETED'
          ? ((await handle.result()) as RunRecord)
          : await handle.query(msg.progressQuery).catch(() => undefined);
      if (!root)
        throw new UserError(
          `the exercise ${workflowId} ended ${desc.status.name}`,
          'see `drover status ' + workflowId + '`',
        );
      const record = await withShards(client, root);
      io.stdout(
        `\nexercise ${workflowId} ${record.status}\n${findingsMarkdown(tabletopFindings(record)).join('\n')}\n`,
      );
      io.stdout(writeReports(record, io));
      return EXIT.ok;
    } finally {
      await connection.close();
    }
  },
});

function present(step: StepRecord, params: Record<string, unknown> | undefined, io: CliIO): void {
  const what = [
    `\n▶ ${step.id}: ${String(params?.action ?? step.kind)}${step.workload ? ` of ${step.workload}` : ''} at ${step.site}`,
    params?.description ? `  ${String(params.description)}` : '',
    params?.message ? `  ${String(params.message)}` : '',
    step.approvers
      ? `  approvers: ${step.approvers.join(', ')}${params?.required ? ` (${String(params.required)} needed)` : ''}`
      : '',
    step.estimateMs ? `  the runbook expects ${formatDuration(step.estimateMs)}` : '',
  ];
  io.stdout(what.filter(Boolean).join('\n') + '\n');
}

/** "d", "s", "b <reason>", each with an optional " # <note>". */
export function parseAnswer(line: string): { outcome: 'done' | 'blocked' | 'skipped'; comment?: string } | undefined {
  const [head, ...noteParts] = line.split('#');
  const note = noteParts.join('#').trim();
  const m = /^\s*(d|done|s|skip|skipped|b|blocked)\b\s*(.*)$/i.exec(head ?? '');
  if (!m) return undefined;
  const word = m[1]!.toLowerCase();
  const rest = m[2]!.trim();
  if (word.startsWith('b')) {
    if (!rest) return undefined;
    return { outcome: 'blocked', comment: note ? `${rest} (${note})` : rest };
  }
  const outcome = word.startsWith('d') ? 'done' : 'skipped';
  return note ? { outcome, comment: note } : { outcome };
}
