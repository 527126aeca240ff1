#!/usr/bin/env node
import { run } from './main';

/**
 * A reader that went away (`drover status <id> | head`) is not an error: on EPIPE from stdout or stderr the
 * process ends at once and quietly, with the command's exit code when it has one, 0 otherwise. Any other
 * write error (a full disk under a redirect) is said in one line on stderr, if stderr still works, and
 * ends the process with 1.
 */
function endQuietlyOnBrokenPipe(stream: NodeJS.WriteStream, name: 'stdout' | 'stderr'): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    if (name === 'stdout') {
      try {
        process.stderr.write(`drover: cannot write to stdout: ${e.message}\n`);
      } catch {
        // stderr is gone too.
      }
    }
    process.exit(1);
  });
}

endQuietlyOnBrokenPipe(process.stdout, 'stdout');
endQuietlyOnBrokenPipe(process.stderr, 'stderr');

run(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
  cwd: process.cwd(),
  // Colors are decided per stream: `drover plan > plan.txt` in a terminal writes no escape codes.
  stdoutIsTTY: process.stdout.isTTY === true,
  stderrIsTTY: process.stderr.isTTY === true,
  stdin: process.stdin,
  // Ctrl-C while following a run: the run goes on (it is Temporal's, not this process's); say so and how to reach it.
  onInterrupt: (message) => {
    process.removeAllListeners('SIGINT');
    process.once('SIGINT', () => {
      process.stderr.write(message);
      process.exit(130);
    });
  },
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`drover: internal error: ${(e as Error).message}\n`);
    process.exitCode = 4;
  },
);
