/**
 * A `command` step on the worker: its argv run without a shell, in a minimal environment, its output's tail
 * kept, and its exit status as the result. Cancelling the activity kills the command and what it started.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { CommandSpec } from '../compiler/runbook';
import { resolveAll } from './secrets';

/**
 * The worker's environment variables a command inherits, each only when the worker has it: where programs
 * are (PATH), the home folder (HOME), language and character set (LANG, LC_ALL), time zone (TZ) and the
 * temporary folder (TMPDIR). Nothing else: the worker's own secrets (TEMPORAL_API_KEY, cloud credentials,
 * whatever `env:` references read) reach a command only when its step declares them in `env`, where a value
 * may be `env:NAME` or `file:path` (activities/secrets.ts). Declared variables override inherited ones.
 * README.md, "Custom steps", says the same: keep them in step.
 */
export const INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'] as const;

/** The environment a command runs with: see INHERITED_ENV. Throws MissingSecret for an unresolvable reference. */
export function commandEnv(declared: Record<string, unknown> | undefined, workerEnv: NodeJS.ProcessEnv) {
  const out: Record<string, string> = {};
  for (const name of INHERITED_ENV) {
    const value = workerEnv[name];
    if (value !== undefined) out[name] = value;
  }
  return { ...out, ...resolveAll(declared, workerEnv) };
}

/**
 * What output keeps of a secret: the values the step's `env` resolved from `env:`/`file:` references are
 * masked (`***`), then each `redact` pattern's matches are `[redacted]`. Patterns were checked by the
 * compiler (`step/redact`); one that still does not compile masks everything rather than leak.
 */
export function redactor(spec: CommandSpec, env: Record<string, string>): (text: string) => string {
  const secrets = Object.entries(spec.env ?? {})
    .filter(([, v]) => typeof v === 'string' && /^(env|file):/.test(v))
    .map(([k]) => env[k])
    .filter((v): v is string => typeof v === 'string' && v.length >= 3)
    .sort((a, b) => b.length - a.length);
  const patterns = (spec.redact ?? []).map((p) => {
    try {
      return new RegExp(p, 'g');
    } catch {
      return /[\s\S]+/g;
    }
  });
  return (text) => {
    let out = text;
    for (const s of secrets) out = out.split(s).join('***');
    for (const re of patterns) out = out.replace(re, '[redacted]');
    return out;
  };
}

/** How much of the end of stdout and of stderr is kept, each (the rest is read and dropped). */
export const TAIL_BYTES = 16 * 1024;
/** The output kept in the step's outcome (and so in history and reports), and in a failure's message. */
const OUTPUT_CHARS = 4000;
const MESSAGE_CHARS = 500;
/** After SIGTERM on cancel, how long the command has to exit before SIGKILL. */
const KILL_GRACE_MS = 5000;
/** After the command exited, how long a process it left behind may hold its output open. */
const CLOSE_GRACE_MS = 2000;

/** The last `limit` bytes written to a stream, in memory bounded by `limit` plus one chunk. */
export class Tail {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private dropped = false;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    while (this.chunks.length > 1 && this.bytes - this.chunks[0]!.length >= this.limit) {
      this.bytes -= this.chunks.shift()!.length;
      this.dropped = true;
    }
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    const kept = all.length > this.limit ? all.subarray(all.length - this.limit) : all;
    const text = kept.toString('utf8');
    // A cut through a multi-byte character decodes as U+FFFD: drop it.
    return this.dropped || kept.length < all.length ? text.replace(/^\uFFFD{1,3}/, '') : text;
  }
}

export interface CommandOptions {
  /** Relative `cwd` of the step is from here. */
  cwd: string;
  /** The worker's environment: INHERITED_ENV and `env:` references are read from it. */
  workerEnv: NodeJS.ProcessEnv;
  signal: AbortSignal;
}

export interface CommandOutcome {
  changed: boolean;
  message: string;
  output: string;
}

/**
 * Runs a command step. Succeeds when it exits with `expectExitCode` (default 0), whatever it printed, and
 * however much; fails with CommandFailed otherwise (retryable), or non-retryable when it cannot start
 * (no such program, not executable, no such working folder). On cancel, rejects with the signal's reason
 * once the command is gone.
 */
export async function runCommandStep(spec: CommandSpec, opts: CommandOptions): Promise<CommandOutcome> {
  const argv = spec.argv ?? [];
  const [file, ...args] = argv;
  if (!file) throw failure('a command step needs a non-empty argv', true);
  const env = commandEnv(spec.env, opts.workerEnv);
  const scrub = redactor(spec, env);
  const cwd = resolve(opts.cwd, spec.cwd ?? '.');
  if (!isFolder(cwd))
    throw failure(`cannot run ${file}: its working folder ${spec.cwd ?? cwd} does not exist on this worker`, true);
  const { signal } = opts;
  if (signal.aborted) throw cancelled(signal);
  const expected = spec.expectExitCode ?? 0;
  const shown = show(argv);
  // Its own process group (not on Windows), so a cancel reaches what it started too.
  const group = process.platform !== 'win32';

  return new Promise<CommandOutcome>((resolveRun, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: group, windowsHide: true });
    } catch (e) {
      reject(startFailure(file, e as NodeJS.ErrnoException, env.PATH));
      return;
    }
    const stdout = new Tail(TAIL_BYTES);
    const stderr = new Tail(TAIL_BYTES);
    child.stdout!.on('data', (b: Buffer) => stdout.push(b));
    child.stderr!.on('data', (b: Buffer) => stderr.push(b));
    let started = false;
    let settled = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let closeTimer: NodeJS.Timeout | undefined;

    const kill = (sig: NodeJS.Signals) => {
      try {
        if (group && child.pid !== undefined) process.kill(-child.pid, sig);
        else child.kill(sig);
      } catch {
        // Already gone.
      }
    };
    const onAbort = () => {
      kill('SIGTERM');
      setTimeout(() => kill('SIGKILL'), KILL_GRACE_MS).unref();
    };
    signal.addEventListener('abort', onAbort, { once: true });

    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(closeTimer);
      signal.removeEventListener('abort', onAbort);
      fn();
    };
    const done = () =>
      settle(() => {
        if (signal.aborted) return reject(cancelled(signal));
        const output = scrub(`${stdout.text()}${stderr.text()}`).slice(-OUTPUT_CHARS);
        const tail = output.trim().slice(-MESSAGE_CHARS);
        const code = exit?.code ?? null;
        if (code === expected) return resolveRun({ changed: true, message: `${file} exited ${code}`, output });
        const how =
          code === null
            ? `was killed by ${exit?.signal ?? 'a signal'}`
            : `exited ${code}${expected !== 0 ? ` (expected ${expected})` : ''}`;
        reject(failure(scrub(`${shown} ${how}${tail ? `: ${tail}` : ' with no output'}`), false));
      });

    child.on('spawn', () => {
      started = true;
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      // Before 'spawn': it could not start. After: a kill that failed, nothing to report.
      if (!started) settle(() => reject(startFailure(file, e, env.PATH)));
    });
    child.on('exit', (code, sig) => {
      exit = { code, signal: sig };
      // A process it started in the background may keep its output open: do not wait for it forever.
      closeTimer = setTimeout(() => {
        child.stdout!.destroy();
        child.stderr!.destroy();
        done();
      }, CLOSE_GRACE_MS);
    });
    child.on('close', (code, sig) => {
      if (started) {
        exit ??= { code, signal: sig };
        done();
      }
    });
  });
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The argv as shown in a message: in full unless very long. */
function show(argv: readonly string[]): string {
  const text = argv.join(' ');
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function failure(message: string, nonRetryable: boolean): ApplicationFailure {
  return ApplicationFailure.create({ type: 'CommandFailed', message, nonRetryable });
}

function startFailure(file: string, e: NodeJS.ErrnoException, path: string | undefined): ApplicationFailure {
  if (e.code === 'ENOENT') {
    const where = file.includes('/') ? '' : ` on the PATH it runs with (${path ?? 'no PATH'})`;
    return failure(`cannot start ${file}: not found${where} (ENOENT)`, true);
  }
  if (e.code === 'EACCES') return failure(`cannot start ${file}: not executable (EACCES)`, true);
  if (e.code === 'ERR_INVALID_ARG_VALUE' || e.code === 'ERR_INVALID_ARG_TYPE')
    return failure(`cannot start ${file}: ${e.message}`, true);
  // Out of processes or file descriptors, and the like: another attempt may work.
  return failure(`cannot start ${file}: ${e.message}`, false);
}

function cancelled(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('the command was cancelled');
}
