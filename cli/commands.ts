/** `drover validate` and `drover plan`: the compiler from the command line. */
import { MODES } from '../compiler';
import type { Mode } from '../compiler';
import { compileFile, countBySeverity, printDiagnostics } from './compile-file';
import { findRunbooks } from './files';
import { EXIT, UsageError, UserError, useColor } from './io';
import type { CliIO } from './io';
import { renderDot, renderMermaid, renderText } from './render';
import { didYouMean } from './suggest';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * One option of a command. The definition is the single source of the parser (commander), the help and
 * the shell completion, so they cannot drift apart.
 */
export interface OptionDef {
  /** One letter: `-m`. */
  short?: string;
  /** The value's name in the help (`mode` shows `--mode <mode>`): the option takes a value. Without it, a switch. */
  value?: string;
  /** May be given more than once (`--site a --site b`): the values in order. */
  multiple?: boolean;
  /** A switch that also has `--no-<name>`; unset when neither is given. */
  negatable?: boolean;
  help: string;
  /** The values it accepts: checked, suggested on a typo ("did you mean"), and completed by the shell. */
  choices?: readonly string[];
  /** The command refuses to run without it. */
  required?: boolean;
  /** What the shell completes the value with, when not `choices`. */
  complete?: 'file' | 'directory';
}

type ValueOf<D extends OptionDef> = D extends { value: string }
  ? D extends { multiple: true }
    ? string[]
    : string
  : boolean;

/** The parsed options, by long name, typed from their definitions; the shared ones (program.ts) too. */
export type Values<O extends Record<string, OptionDef>> = { [K in keyof O]?: ValueOf<O[K]> } & SharedValues;

/** Options many commands share; which ones a command has is its `uses`. */
export interface SharedValues {
  /** `-o, --output`: text or json (plan: also a file to save the plan in). */
  output?: string;
  /** `--color` / `--no-color` (every command). */
  color?: boolean;
  /** `--yes`: no confirmation asked. */
  yes?: boolean;
}

export interface Command<O extends Record<string, OptionDef> = Record<string, OptionDef>> {
  name: string;
  summary: string;
  /** The operands, in commander's syntax: `<file>`, `[plan]`, `<paths...>`. */
  operands?: string;
  /** What the command does, in prose, printed by --help after the options. */
  details?: string;
  options: O;
  /**
   * Shared options: `output` adds `-o, --output` with these formats (the first is the default);
   * `temporal` adds `--address`, `--namespace` and `--profile` (over TEMPORAL_* and the profiles).
   */
  uses?: { output?: readonly string[]; temporal?: boolean };
  /** Commands under this one (`schedule create`); a command has subcommands or a `run`. */
  subcommands?: Command[];
  run?(args: { values: Values<O>; positionals: string[] }, io: CliIO): Promise<number> | number;
}

/** A command definition, with its options' types kept for `run`. */
export function command<const O extends Record<string, OptionDef>>(c: Command<O>): Command<O> {
  return c;
}

/** The `uses.output` of commands that print text or JSON. */
export const TEXT_OR_JSON = ['text', 'json'] as const;

/** `-m, --mode`: checked by the parser against the modes (with a suggestion on a typo). */
export const MODE_OPTION = {
  short: 'm',
  value: 'mode',
  choices: MODES,
  help: `the mode: ${MODES.join(', ')}`,
} as const;

export const validateCommand = command({
  name: 'validate',
  summary: 'check runbooks against the schema and the semantic rules, in every mode',
  operands: '<paths...>',
  details: `Checks every .yaml/.yml runbook under the given files and folders (folders recursively,
runbooks/scenarios/ excepted) and prints every problem with file:line:column.
Exit status: 0 all valid, 1 any error, 2 usage error.`,
  options: {},
  uses: { output: TEXT_OR_JSON },
  run({ values, positionals }, io) {
    const files = findRunbooks(positionals, io.cwd);
    if (files.length === 0) throw new UsageError(`no .yaml or .yml files under ${positionals.join(', ')}`);
    const results = files.map((f) => compileFile(f, io.cwd));
    const failed = results.filter((r) => r.diagnostics.some((d) => d.severity === 'error'));
    if (values.output === 'json') {
      const out = results.map((r) => ({ file: r.file, valid: !failed.includes(r), diagnostics: r.diagnostics }));
      io.stdout(JSON.stringify(out, null, 2) + '\n');
    } else {
      const color = useColor(io, 'stderr', values.color);
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
});

const PLAN_FORMATS = ['text', 'json', 'mermaid', 'dot'] as const;

export const planCommand = command({
  name: 'plan',
  summary: 'compile a runbook for one mode and show its step graph and critical path',
  operands: '<file>',
  details: `Modes: ${MODES.join(', ')}.
-o text (default) shows the steps by group and workload, what each waits for, and the critical path
against the RTO; json prints the Plan that a run executes; mermaid and dot draw the graph.
-o <file>.json saves the plan for review and shows it as text; \`drover run --plan <file>.json\` then runs
exactly that plan, and refuses it if the runbook no longer compiles to it (terraform plan -out, apply).`,
  options: {
    mode: MODE_OPTION,
    output: {
      short: 'o',
      value: 'format|file',
      help: `output: ${PLAN_FORMATS.join(', ')} (default text), or a .json file to save the plan in for drover run --plan`,
      complete: 'file',
    },
  },
  run({ values, positionals }, io) {
    const mode = modeOption(values.mode);
    const output = values.output ?? 'text';
    const saveTo = (PLAN_FORMATS as readonly string[]).includes(output) ? undefined : output;
    if (saveTo !== undefined && !saveTo.endsWith('.json'))
      throw new UsageError(
        `-o ${saveTo}: use one of ${PLAN_FORMATS.join(', ')}${didYouMean(saveTo, PLAN_FORMATS)}, or a file name ending in .json to save the plan in`,
      );
    const result = compileFile(positionals[0]!, io.cwd, mode);
    printDiagnostics(result, io.stderr, useColor(io, 'stderr', values.color));
    if (!result.plan) return EXIT.failed;
    const plan = result.plan;
    if (saveTo !== undefined) {
      writeFileOrSay(resolve(io.cwd, saveTo), JSON.stringify(plan, null, 2) + '\n', 'the plan');
      io.stdout(renderText(plan, useColor(io, 'stdout', values.color)));
      io.stdout(
        `\nsaved the plan (${plan.planHash.slice(0, 12)}) to ${saveTo}; run exactly it with: drover run --plan ${saveTo}\n`,
      );
    } else if (output === 'json') io.stdout(JSON.stringify(plan, null, 2) + '\n');
    else if (output === 'mermaid') io.stdout(renderMermaid(plan));
    else if (output === 'dot') io.stdout(renderDot(plan));
    else io.stdout(renderText(plan, useColor(io, 'stdout', values.color)));
    return EXIT.ok;
  },
});

/** A file the user named with an option: written as given; a folder missing or not theirs is a clear error. */
export function writeFileOrSay(path: string, text: string, what: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'an error';
    throw new UserError(
      `cannot write ${what} to ${path} (${code})`,
      'give a file in a folder that exists and that you may write to',
    );
  }
}

/** The mode given; it is required. */
export function modeOption(value: string | undefined): Mode {
  if (value === undefined) throw new UsageError(`--mode is required: one of ${MODES.join(', ')}`);
  return value as Mode;
}

/** `--seed`: a whole number, or undefined when not given. */
export function seedOption(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const seed = Number(value);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a whole number, not ${String(value)}`);
  return seed;
}
