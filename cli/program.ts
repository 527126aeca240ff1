/**
 * The command line as commander parses it, built from the command definitions (commands.ts): the same
 * definitions give the help, the checks of each option and the shell completion (completion.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command as Commander, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { Command, OptionDef, Values } from './commands';
import { EXIT } from './io';
import type { CliIO } from './io';
import { didYouMean } from './suggest';

/** Drover's version, from its package.json. */
export const VERSION = packageVersion();

function packageVersion(): string {
  // From cli/ (ts-jest) or dist/cli/ (built): the nearest package.json up the tree is Drover's.
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return 'unknown';
}

/** The options every command, or every command of a kind, has (`uses`). */
export const SHARED = {
  color: { negatable: true, help: 'colors (default: when the output is a terminal; NO_COLOR, FORCE_COLOR)' },
  output: (formats: readonly string[]) =>
    ({
      short: 'o',
      value: 'format',
      choices: formats,
      help: `output format: ${formats.join(', ')} (default ${formats[0]}); json goes to stdout, messages to stderr`,
    }) satisfies OptionDef,
  temporal: {
    address: {
      value: 'host:port',
      help: 'the Temporal frontend (default TEMPORAL_ADDRESS, a profile, or 127.0.0.1:7233)',
    },
    namespace: { value: 'name', help: 'the Temporal namespace (default TEMPORAL_NAMESPACE, a profile, or default)' },
    profile: { value: 'name', help: 'the profile of the Temporal configuration file to use (TEMPORAL_PROFILE)' },
  } satisfies Record<string, OptionDef>,
};

/** Every option of a command: its own, then the shared ones it uses. */
export function optionsOf(def: Command): [string, OptionDef][] {
  return [
    ...Object.entries(def.options),
    ...(def.uses?.output ? [['output', SHARED.output(def.uses.output)] as [string, OptionDef]] : []),
    ...(def.uses?.temporal ? Object.entries(SHARED.temporal) : []),
    ['color', SHARED.color],
  ];
}

/** Parses `argv` and runs the command it names. Errors of the command's own are thrown to the caller. */
export async function parseAndRun(
  commands: readonly Command[],
  argv: string[],
  io: CliIO,
  onCommand: (path: string) => void,
): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Commander('drover')
    .description('disaster-recovery runbooks as code, run as durable Temporal workflows')
    .version(VERSION, '-v, --version', 'print the version')
    .helpCommand('help [command]', 'show the help of a command')
    .addHelpText(
      'after',
      `
Run 'drover <command> --help' for a command's options.
Environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_PROFILE (and the Temporal CLI's profiles),
DROVER_ENCRYPTION_KEYS, NO_COLOR, FORCE_COLOR, DROVER_DEBUG.
Exit codes: 0 success; 1 the run, drill, readiness check or input failed; 2 usage; 3 Temporal or a
site unreachable; 4 a bug in Drover.`,
    );
  configure(program, io);
  for (const def of commands) add(program, def, io, [], onCommand, (c) => (code = c));
  await program.parseAsync(argv, { from: 'user' });
  return code;
}

function configure(cmd: Commander, io: CliIO): void {
  cmd
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showSuggestionAfterError(true)
    .configureHelp({ sortSubcommands: false, showGlobalOptions: false });
}

function add(
  parent: Commander,
  def: Command,
  io: CliIO,
  path: string[],
  onCommand: (path: string) => void,
  setCode: (code: number) => void,
): void {
  const names = [...path, def.name];
  const cmd = parent.command(def.name).summary(def.summary).description(def.summary);
  configure(cmd, io);
  if (def.operands) cmd.arguments(def.operands);
  for (const [name, d] of optionsOf(def)) for (const o of toOptions(name, d)) cmd.addOption(o);
  // Scripts written for the older `--format` of validate, plan, history...: say what replaced it.
  if (!('format' in def.options) && ('output' in def.options || def.uses?.output))
    cmd.addOption(
      new Option('--format <format>').hideHelp().argParser((value: string) => {
        throw new InvalidArgumentError(
          `--format is now -o/--output for this command: drover ${names.join(' ')} -o ${value} (--format stays for drover report)`,
        );
      }),
    );
  if (def.details) cmd.addHelpText('after', `\n${def.details}`);
  cmd.showHelpAfterError(`(run 'drover ${names.join(' ')} --help' for its usage)`);
  for (const sub of def.subcommands ?? []) add(cmd, sub, io, names, onCommand, setCode);
  if (!def.run) return;
  const run = def.run.bind(def);
  cmd.action(async (...args: unknown[]) => {
    const self = args[args.length - 1] as Commander;
    const values: Record<string, unknown> = {};
    for (const [name] of optionsOf(def)) {
      const v: unknown = self.getOptionValue(camel(name));
      if (v !== undefined) values[name] = v;
    }
    onCommand(names.join(' '));
    setCode(
      await run(
        { values: values as Values<Record<string, OptionDef>>, positionals: self.args },
        withTemporalFlags(io, values),
      ),
    );
  });
}

/** The commander options of one definition: `--x` and, if negatable, `--no-x`. */
function toOptions(name: string, d: OptionDef): Option[] {
  const flags = `${d.short ? `-${d.short}, ` : ''}--${name}${d.value ? ` <${d.value}>` : ''}`;
  const o = new Option(flags, d.help);
  if (d.choices || d.multiple) {
    const choices = d.choices;
    o.argParser((value: string, previous: unknown) => {
      if (choices && !choices.includes(value))
        throw new InvalidArgumentError(`use one of ${choices.join(', ')}${didYouMean(value, choices)}`);
      return d.multiple ? [...((previous as string[] | undefined) ?? []), value] : value;
    });
  }
  if (d.required) o.makeOptionMandatory();
  if (!d.negatable) return [o];
  return [o, new Option(`--no-${name}`, `no ${name}`)];
}

const camel = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** `--address`, `--namespace` and `--profile` win over TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and TEMPORAL_PROFILE. */
function withTemporalFlags(io: CliIO, values: Record<string, unknown>): CliIO {
  const env = { ...io.env };
  if (typeof values.address === 'string') env.TEMPORAL_ADDRESS = values.address;
  if (typeof values.namespace === 'string') env.TEMPORAL_NAMESPACE = values.namespace;
  if (typeof values.profile === 'string') env.TEMPORAL_PROFILE = values.profile;
  return { ...io, env };
}

/** The exit code of commander's own ending: help or version shown (0), or a usage error (2). */
export function commanderExit(e: unknown): number | undefined {
  if (!(e instanceof CommanderError)) return undefined;
  return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
}
