/** `drover validate` and `drover plan`: the compiler from the command line. */
import { MODES } from '../compiler';
import type { Mode } from '../compiler';
import { compileFile, countBySeverity, printDiagnostics } from './compile-file';
import { findRunbooks } from './files';
import { EXIT, UsageError, useColor } from './io';
import type { CliIO } from './io';
import { renderDot, renderMermaid, renderText } from './render';

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;
  allowPositionals: boolean;
  run(args: { values: Record<string, unknown>; positionals: string[] }, io: CliIO): Promise<number> | number;
}

export const validateCommand: Command = {
  name: 'validate',
  summary: 'check runbooks against the schema and the semantic rules, in every mode',
  usage: `drover validate <file or folder>... [--format text|json] [--no-color]

Checks every .yaml/.yml runbook under the given files and folders (folders recursively,
runbooks/scenarios/ excepted) and prints every problem with file:line:column.
Exit status: 0 all valid, 1 any error, 2 usage error.`,
  options: { format: { type: 'string' }, color: { type: 'boolean' } },
  allowPositionals: true,
  run({ values, positionals }, io) {
    if (positionals.length === 0) throw new UsageError('name at least one runbook file or folder');
    const format = formatOption(values.format, ['text', 'json']);
    const files = findRunbooks(positionals, io.cwd);
    if (files.length === 0) throw new UsageError(`no .yaml or .yml files under ${positionals.join(', ')}`);
    const results = files.map((f) => compileFile(f, io.cwd));
    const failed = results.filter((r) => r.diagnostics.some((d) => d.severity === 'error'));
    if (format === 'json') {
      const out = results.map((r) => ({ file: r.file, valid: !failed.includes(r), diagnostics: r.diagnostics }));
      io.stdout(JSON.stringify(out, null, 2) + '\n');
    } else {
      const color = useColor(io, 'stderr', values.color as boolean | undefined);
      for (const r of results) {
        printDiagnostics(r, io.stderr, color);
        const summary = countBySeverity(r.diagnostics);
        io.stdout(`${failed.includes(r) ? '✗' : '✓'} ${r.file}${summary ? ` (${summary})` : ''}\n`);
      }
      io.stdout(
        failed.length === 0
          ? `${files.length} runbook${files.length === 1 ? '' : 's'} valid\n`
          : `${failed.length} of ${files.length} runbook${files.length === 1 ? '' : 's'} invalid\n`,
      );
    }
    return failed.length ? EXIT.failed : EXIT.ok;
  },
};

export const planCommand: Command = {
  name: 'plan',
  summary: 'compile a runbook for one mode and show its step graph and critical path',
  usage: `drover plan <file> --mode <mode> [--format text|json|mermaid|dot] [--no-color]

Modes: ${MODES.join(', ')}.
text (default) shows the steps by group and workload, what each waits for, and the critical path
against the RTO; json prints the Plan that a run executes; mermaid and dot draw the graph.`,
  options: { mode: { type: 'string', short: 'm' }, format: { type: 'string' }, color: { type: 'boolean' } },
  allowPositionals: true,
  run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new UsageError('name exactly one runbook file');
    const mode = modeOption(values.mode);
    const format = formatOption(values.format, ['text', 'json', 'mermaid', 'dot']);
    const result = compileFile(positionals[0]!, io.cwd, mode);
    printDiagnostics(result, io.stderr, useColor(io, 'stderr', values.color as boolean | undefined));
    if (!result.plan) return EXIT.failed;
    const plan = result.plan;
    if (format === 'json') io.stdout(JSON.stringify(plan, null, 2) + '\n');
    else if (format === 'mermaid') io.stdout(renderMermaid(plan));
    else if (format === 'dot') io.stdout(renderDot(plan));
    else io.stdout(renderText(plan, useColor(io, 'stdout', values.color as boolean | undefined)));
    return EXIT.ok;
  },
};

export function modeOption(value: unknown): Mode {
  if (value === undefined) throw new UsageError(`--mode is required: one of ${MODES.join(', ')}`);
  if (!MODES.includes(value as Mode))
    throw new UsageError(`unknown mode "${String(value)}": use one of ${MODES.join(', ')}`);
  return value as Mode;
}

function formatOption<T extends string>(value: unknown, allowed: readonly T[]): T {
  if (value === undefined) return allowed[0]!;
  if (!allowed.includes(value as T))
    throw new UsageError(`unknown format "${String(value)}": use one of ${allowed.join(', ')}`);
  return value as T;
}

/** `--seed`: a whole number, or undefined when not given. */
export function seedOption(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const seed = Number(value);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a whole number, not ${String(value)}`);
  return seed;
}
