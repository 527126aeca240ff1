/**
 * The `drover` command as a plain, testable function: arguments and streams in, exit code out.
 * Only bin.ts touches the process.
 */
import { tabletopCommand } from './tabletop';
import { drillCommand } from './drill';
import { scheduleCommand } from './schedule';
import { historyCommand } from './history';
import { parseArgs } from 'node:util';
import { planCommand, validateCommand } from './commands';
import { peopleCommands, reportCommand, runCommand, statusCommand } from './runs';
import { codecServerCommand } from './codec';
import { serverCommand, workerCommand } from './server';
import type { Command } from './commands';
import { EXIT, UsageError, UserError } from './io';
import type { CliIO } from './io';

export const COMMANDS: Command[] = [
  validateCommand,
  planCommand,
  serverCommand,
  workerCommand,
  codecServerCommand,
  runCommand,
  tabletopCommand,
  drillCommand,
  scheduleCommand,
  historyCommand,
  statusCommand,
  ...peopleCommands,
  reportCommand,
];

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `drover: disaster-recovery runbooks as code, run as durable Temporal workflows

Usage: drover <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run 'drover <command> --help' for a command's options.
Environment: NO_COLOR disables colors.
`;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout)(mainHelp());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr(`drover: unknown command "${name}"\n\n${mainHelp()}`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(`${command.usage}\n`);
    return EXIT.ok;
  }
  try {
    const args = parseArgs({
      args: rest,
      options: command.options,
      allowPositionals: command.allowPositionals,
      allowNegative: true,
      strict: true,
    });
    return await command.run(args as { values: Record<string, unknown>; positionals: string[] }, io);
  } catch (e) {
    return reportError(e, command, io);
  }
}

function reportError(e: unknown, command: Command, io: CliIO): number {
  const err = e as Error & { code?: string; hint?: string };
  if (e instanceof UsageError || err.code?.startsWith('ERR_PARSE_ARGS')) {
    io.stderr(`drover ${command.name}: ${err.message}\nUsage: ${command.usage.split('\n')[0]}\n`);
    return EXIT.usage;
  }
  if (e instanceof UserError) {
    io.stderr(`drover ${command.name}: ${err.message}\n${err.hint ? `  = hint: ${err.hint}\n` : ''}`);
    return EXIT.failed;
  }
  // Anything else is a bug in Drover: say so, and show the stack only when asked.
  io.stderr(`drover ${command.name}: internal error: ${err.message ?? String(e)}\n`);
  io.stderr(
    io.env.DROVER_DEBUG ? `${err.stack}\n` : 'This is a bug in Drover; set DROVER_DEBUG=1 for details and report it.\n',
  );
  return EXIT.failed;
}
