/** What a CLI command may touch: its streams and environment. Tests pass their own. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Whether stdout is a terminal: colors in what goes to stdout are only for a terminal. */
  stdoutIsTTY: boolean;
  /** Whether stderr is a terminal: the same for diagnostics and messages on stderr. */
  stderrIsTTY: boolean;
  /** Answers typed by a person (`drover tabletop`, a confirmation); absent when there is nobody to ask. */
  stdin?: NodeJS.ReadableStream;
  /** What to say if the person presses Ctrl-C from now on (the process then ends); absent in tests. */
  onInterrupt?: (message: string) => void;
}

/**
 * Exit codes CI can tell apart: 0 success; 1 the run, drill or readiness check failed, or the input has
 * errors; 2 the command line is wrong; 3 Temporal or a site cannot be reached; 4 a bug in Drover.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3, bug: 4 } as const;

/** A mistake in the command line: printed with the usage hint, never with a stack trace. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A problem the user can fix (a missing file, an unreachable server): printed as one clear message. */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    message: string,
    readonly hint?: string,
    /** EXIT.failed, or EXIT.unreachable when what is missing is Temporal or a site. */
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
  }
}

/**
 * Whether text written to `stream` gets colors. In order: `--color` / `--no-color` (`flag`); NO_COLOR
 * (non-empty: no colors, https://no-color.org); FORCE_COLOR (`0`: no colors; any other non-empty value:
 * colors even into a pipe or file); otherwise colors only when that stream is a terminal.
 */
export function useColor(io: CliIO, stream: 'stdout' | 'stderr', flag?: boolean): boolean {
  if (flag !== undefined) return flag;
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  const force = io.env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0';
  return stream === 'stdout' ? io.stdoutIsTTY : io.stderrIsTTY;
}
