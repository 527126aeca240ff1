/** What a CLI command may touch: its streams and environment. Tests pass their own. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Whether stderr is a terminal (colors are only for terminals). */
  isTTY: boolean;
  /** Answers typed by a person (`drover tabletop`); absent when there is nobody to ask. */
  stdin?: NodeJS.ReadableStream;
}

/** Exit codes: 0 success, 1 the input has errors (or the run failed), 2 the command line is wrong. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

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
  ) {
    super(message);
  }
}

export function useColor(io: CliIO, flag?: boolean): boolean {
  if (flag === false) return false;
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  return io.isTTY;
}
