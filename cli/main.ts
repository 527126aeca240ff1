/**
 * The `drover` command as a plain, testable function: arguments and streams in, exit code out.
 * Only bin.ts touches the process.
 */
import { tabletopCommand } from './tabletop';
import { drillCommand } from './drill';
import { scheduleCommand } from './schedule';
import { historyCommand, listCommand } from './history';
import { planCommand, validateCommand } from './commands';
import { peopleCommands, reportCommand, runCommand, statusCommand } from './runs';
import { codecServerCommand } from './codec';
import { completionCommand, explainCommand, initCommand, versionCommand } from './meta';
import { serverCommand, workerCommand } from './server';
import type { Command } from './commands';
import { commanderExit, parseAndRun } from './program';
import { EXIT, UsageError, UserError } from './io';
import type { CliIO } from './io';

export const COMMANDS: Command[] = [
  initCommand,
  validateCommand,
  explainCommand,
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
  listCommand,
  completionCommand,
  versionCommand,
];

/** Runs `drover <argv>`: the exit code (EXIT) is returned, never thrown. */
export async function run(argv: string[], io: CliIO): Promise<number> {
  // Nothing to do: the overview, on stderr (stdout may be a pipe expecting output), as a usage error.
  if (argv.length === 0) {
    await parseAndRun(COMMANDS, ['--help'], { ...io, stdout: io.stderr }, () => undefined).catch(() => undefined);
    return EXIT.usage;
  }
  let current = 'drover';
  try {
    return await parseAndRun(COMMANDS, argv, io, (path) => (current = `drover ${path}`));
  } catch (e) {
    return commanderExit(e) ?? reportError(e, current, io);
  }
}

function reportError(e: unknown, command: string, io: CliIO): number {
  const err = e as Error & { hint?: string };
  if (e instanceof UsageError) {
    io.stderr(`${command}: ${err.message}\n(run '${command} --help' for its usage)\n`);
    return EXIT.usage;
  }
  if (e instanceof UserError) {
    io.stderr(`${command}: ${err.message}\n${err.hint ? `  = hint: ${err.hint}\n` : ''}`);
    return e.exitCode;
  }
  // Anything else is a bug in Drover: say so, and show the stack only when asked.
  io.stderr(`${command}: internal error: ${err.message ?? String(e)}\n`);
  io.stderr(
    io.env.DROVER_DEBUG ? `${err.stack}\n` : 'This is a bug in Drover; set DROVER_DEBUG=1 for details and report it.\n',
  );
  return EXIT.bug;
}
