/**
 * Checks against a recovered workload's guest, for the providers that recover real machines (vSphere,
 * PostgreSQL): its `validations` (tcp, http and command here; sql through the provider that speaks it) and
 * the readiness wait of `readiness.type: port`. The simulator judges validations against its records instead.
 *
 * An `http` validation is sent as an `http` step is (activities/http.ts), with `{guest}` in its URL replaced
 * by the guest's address; a `command` validation runs as a `command` step does (activities/command.ts: argv,
 * no shell, a minimal environment) with DROVER_GUEST_IP and DROVER_WORKLOAD added to its environment.
 */
import { connect, isIPv6 } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import { runCommandStep } from '../activities/command';
import { performHttp } from '../activities/http';
import { formatDuration, parseDuration } from '../compiler/durations';
import type { CommandSpec, HttpSpec, Validation } from '../compiler/runbook';
import { ProviderError } from './errors';

/** How long a tcp or http validation may take when it gives no `timeout`. */
export const DEFAULT_CHECK_TIMEOUT_MS = 10_000;
/** How long a command validation may take when it gives no `timeout`: a script may do more than one request. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;
/** waitForPort: the longest one connection attempt may take (a firewall that drops packets never refuses). */
export const PORT_TRY_TIMEOUT_MS = 5_000;

/** The recovered workload: its name and its guest's address (IPv4 or IPv6, no brackets). */
export interface CheckTarget {
  host: string;
  workload: string;
}

export type SqlValidation = NonNullable<Validation['sql']>;

/** What came back from one check: `ok`, and what that was (`connected`, `→ 200`, `answered 503, …`). */
export interface CheckAnswer {
  ok: boolean;
  detail: string;
}

/**
 * Runs a `sql` validation (the PostgreSQL provider passes one). Resolves with the answer, failed or not;
 * a rejection is a failed check too, unless it is non-retryable (ProviderError or ApplicationFailure): then the
 * validations stop with it, as a check that cannot be run.
 */
export type SqlCheck = (sql: SqlValidation, ctx: { target: CheckTarget; signal: AbortSignal }) => Promise<CheckAnswer>;

export interface CheckOptions {
  /** Aborted when the activity is cancelled or times out: the checks stop at once. */
  signal: AbortSignal;
  /** A command validation's relative `cwd` is from here. */
  cwd: string;
  /** The worker's environment: `env:` references and the variables a command inherits are read from it. */
  env: NodeJS.ProcessEnv;
  heartbeat(): void;
  /** Runs `sql` validations; without it they are rejected (InvalidInput) before any check runs. */
  sql?: SqlCheck;
}

export interface CheckResult {
  /** The validation's `name`, or what it tries (`tcp 5432`, `http GET http://10.0.0.5/health`). */
  name: string;
  ok: boolean;
  /** What was tried and what came back: `tcp 5432 connected`, `http GET … : answered 503, body "down"`. */
  detail: string;
  ms: number;
}

export interface ValidationReport {
  message: string;
  results: CheckResult[];
}

/** One validation, checked and ready to run. */
interface PlannedCheck {
  name: string;
  tried: string;
  timeoutMs: number;
  run(signal: AbortSignal): Promise<CheckAnswer>;
}

/**
 * Runs every validation against the guest, in order, each within its `timeout`. Resolves with a summary when
 * all pass; throws ValidationFailed (retryable) naming each failed one, what it tried and what came back.
 * A validation that cannot be run (none or several of tcp/http/command/sql, sql without `opts.sql`, a bad
 * timeout) is InvalidInput before anything runs; one whose secret or program is missing on the worker stops
 * the run with its own non-retryable failure (MissingSecret, CommandFailed). On abort, rejects with the
 * signal's reason at once.
 */
export async function runValidations(
  checks: Validation[],
  target: CheckTarget,
  opts: CheckOptions,
): Promise<ValidationReport> {
  if (!target.host) throw new ProviderError('InvalidInput', `${target.workload}: no guest address to validate`);
  const planned = checks.map((check, i) => planCheck(check, i, target, opts));
  const results: CheckResult[] = [];
  for (const check of planned) {
    if (opts.signal.aborted) throw reasonOf(opts.signal);
    opts.heartbeat();
    results.push(await attempt(check, target, opts.signal));
  }
  opts.heartbeat();
  const failed = results.filter((r) => !r.ok);
  const count = `${results.length} check${results.length === 1 ? '' : 's'}`;
  if (failed.length > 0) {
    const passed = results.filter((r) => r.ok).map((r) => r.name);
    throw new ProviderError(
      'ValidationFailed',
      `${target.workload}: ${failed.length} of ${count} failed against ${target.host}: ` +
        failed.map((r) => `${label(r)} (after ${r.ms} ms)`).join('; ') +
        (passed.length > 0 ? `; passed: ${passed.join(', ')}` : ''),
    );
  }
  const message =
    results.length === 0
      ? `${target.workload}: no validations to run against ${target.host}`
      : `${target.workload}: ${count} passed against ${target.host} (${results.map((r) => `${label(r)} in ${r.ms} ms`).join(', ')})`;
  return { message, results };
}

export interface WaitOptions {
  signal: AbortSignal;
  heartbeat(): void;
  /** Give up after this long (InvalidState, retryable); without it, try until the signal aborts. */
  timeoutMs?: number;
  /** The pause between attempts (default 1 s). */
  intervalMs?: number;
}

/**
 * Waits until `host:port` accepts a TCP connection (readiness `type: port`): one attempt (of at most
 * PORT_TRY_TIMEOUT_MS) and a heartbeat, then a pause of `intervalMs`, until one connects. Resolves with the
 * number of attempts and the time taken; rejects with the signal's reason at once on abort, or with
 * InvalidState (retryable) naming the last error after `timeoutMs`.
 */
export async function waitForPort(
  host: string,
  port: number,
  opts: WaitOptions,
): Promise<{ tries: number; ms: number }> {
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new ProviderError('InvalidInput', `cannot wait for port ${port} of ${host || 'no host'}`);
  const started = Date.now();
  const interval = Math.max(10, opts.intervalMs ?? 1000);
  const deadline = opts.timeoutMs === undefined ? Infinity : started + opts.timeoutMs;
  let last = '';
  for (let tries = 1; ; tries++) {
    opts.heartbeat();
    const tryMs = Math.max(1, Math.min(PORT_TRY_TIMEOUT_MS, deadline - Date.now()));
    try {
      await withDeadline(opts.signal, tryMs, (signal) => connectTcp(host, port, signal));
      return { tries, ms: Date.now() - started };
    } catch (e) {
      if (opts.signal.aborted) throw reasonOf(opts.signal);
      last = describe(e);
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new ProviderError(
        'InvalidState',
        `${hostPort(host, port)} accepted no connection within ${formatDuration(opts.timeoutMs!)} (${tries} attempt${tries === 1 ? '' : 's'}; last: ${last})`,
        true,
      );
    }
    await pause(Math.min(interval, left), opts.signal);
  }
}

/** Checks one validation's shape and makes it runnable; throws InvalidInput when it cannot be run. */
function planCheck(check: Validation, index: number, target: CheckTarget, opts: CheckOptions): PlannedCheck {
  const kinds = (['tcp', 'http', 'command', 'sql'] as const).filter((k) => check[k] !== undefined);
  const which = check.name ?? `validation ${index + 1}`;
  const invalid = (why: string) => new ProviderError('InvalidInput', `${target.workload}: ${which}: ${why}`);
  if (kinds.length !== 1) throw invalid(`give exactly one of tcp, http, command, sql (it has ${kinds.length})`);
  let timeoutMs = check.command ? DEFAULT_COMMAND_TIMEOUT_MS : DEFAULT_CHECK_TIMEOUT_MS;
  if (check.timeout !== undefined) {
    const ms = parseDuration(check.timeout);
    if (ms === undefined || ms === 0) throw invalid(`timeout ${JSON.stringify(check.timeout)} is not a duration`);
    timeoutMs = ms;
  }
  const planned = (tried: string, run: PlannedCheck['run']): PlannedCheck => ({
    name: check.name ?? tried,
    tried,
    timeoutMs,
    run,
  });
  if (check.tcp) {
    const host = check.tcp.host ?? target.host;
    const { port } = check.tcp;
    return planned(host === target.host ? `tcp ${port}` : `tcp ${hostPort(host, port)}`, async (signal) => {
      await connectTcp(host, port, signal);
      return { ok: true, detail: 'connected' };
    });
  }
  if (check.http) {
    const spec: HttpSpec = { ...check.http, url: check.http.url.replaceAll('{guest}', urlHost(target.host)) };
    return planned(`http ${spec.method ?? 'GET'} ${spec.url}`, (signal) => httpCheck(spec, opts.env, signal));
  }
  if (check.command) {
    const spec: CommandSpec = {
      ...check.command,
      env: { ...check.command.env, DROVER_GUEST_IP: target.host, DROVER_WORKLOAD: target.workload },
    };
    return planned(`command ${shorten(spec.argv.join(' '), 200)}`, (signal) => commandCheck(spec, opts, signal));
  }
  const sql = check.sql!;
  const handler = opts.sql;
  if (!handler) throw invalid('sql validations need the postgres provider');
  return planned(`sql ${shorten(sql.query.replace(/\s+/g, ' ').trim(), 100)}`, (signal) =>
    handler(sql, { target, signal }),
  );
}

/** Runs one planned check within its timeout, and says what was tried and what came back. */
async function attempt(check: PlannedCheck, target: CheckTarget, signal: AbortSignal): Promise<CheckResult> {
  const started = Date.now();
  let answer: CheckAnswer;
  try {
    answer = await withDeadline(signal, check.timeoutMs, check.run);
  } catch (e) {
    if (signal.aborted) throw reasonOf(signal);
    if (e instanceof DeadlineExceeded) answer = { ok: false, detail: e.message };
    else if (isPermanent(e)) throw inContext(e, `${target.workload}: ${check.name}: `);
    else answer = { ok: false, detail: describe(e) };
  }
  const detail = `${check.tried}${answer.ok ? ' ' : ': '}${answer.detail}`;
  return { name: check.name, ok: answer.ok, detail, ms: Date.now() - started };
}

async function httpCheck(spec: HttpSpec, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<CheckAnswer> {
  try {
    const answer = await performHttp(spec, env, signal);
    if (!answer.problem) return { ok: true, detail: `→ ${answer.status}` };
    const text = answer.text.trim();
    const body = text ? `body ${JSON.stringify(shorten(text, 200))}` : 'empty body';
    return { ok: false, detail: `${answer.problem}, ${body}` };
  } catch (e) {
    // A timeout or a cancel is the caller's to report; a request without an answer is a failed check.
    if (signal.aborted || !(e instanceof ApplicationFailure) || e.type !== 'HttpFailed') throw e;
    const prefix = `${spec.method ?? 'GET'} ${spec.url}: `;
    return {
      ok: false,
      detail: `no answer (${e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message})`,
    };
  }
}

async function commandCheck(spec: CommandSpec, opts: CheckOptions, signal: AbortSignal): Promise<CheckAnswer> {
  try {
    await runCommandStep(spec, { cwd: opts.cwd, workerEnv: opts.env, signal });
    return { ok: true, detail: `exited ${spec.expectExitCode ?? 0}` };
  } catch (e) {
    // Cannot start (no such program or folder: non-retryable), a timeout, a cancel: the caller's to report.
    if (signal.aborted || !(e instanceof ApplicationFailure) || e.nonRetryable) throw e;
    // CommandFailed: "<argv> exited 1: <output's tail>".
    const prefix = `${shorten(spec.argv.join(' '), 200)} `;
    return { ok: false, detail: e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message };
  }
}

/** Connects to host:port and closes the connection at once; rejects with the socket's error or the abort reason. */
function connectTcp(host: string, port: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(reasonOf(signal));
    const socket = connect({ host, port });
    const finish = (error?: unknown) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = () => finish(reasonOf(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish());
    socket.once('error', (e) => finish(e));
  });
}

/** A check's own timeout ran out (not the activity's: that aborts the caller's signal). */
class DeadlineExceeded extends Error {}

/**
 * Runs `fn` with a signal aborted after `ms` (it then rejects with DeadlineExceeded) or when `outer` aborts
 * (it then rejects with outer's reason at once, whether `fn` has finished cleaning up or not).
 */
function withDeadline<T>(outer: AbortSignal, ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  if (outer.aborted) return Promise.reject(reasonOf(outer));
  const inner = new AbortController();
  return new Promise<T>((resolve, reject) => {
    // setTimeout fires at once for more than 2^31-1 ms (about 24.8 days).
    const timer = setTimeout(
      () => inner.abort(new DeadlineExceeded(`no answer within ${formatDuration(ms)}`)),
      Math.min(ms, 2 ** 31 - 1),
    );
    const onAbort = () => {
      inner.abort(outer.reason);
      reject(reasonOf(outer));
    };
    outer.addEventListener('abort', onAbort, { once: true });
    void fn(inner.signal)
      .then(resolve, (e: unknown) => reject(inner.signal.reason instanceof DeadlineExceeded ? inner.signal.reason : e))
      .finally(() => {
        clearTimeout(timer);
        outer.removeEventListener('abort', onAbort);
      });
  });
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    throw reasonOf(signal);
  }
}

function reasonOf(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('cancelled');
}

/** A failure no retry can mend: the validation cannot be run as written on this worker. */
function isPermanent(e: unknown): boolean {
  if (e instanceof ProviderError) return !e.retryable;
  return e instanceof ApplicationFailure && e.nonRetryable === true;
}

/** The same failure (type, retryability), its message prefixed with which validation it is. */
function inContext(e: unknown, prefix: string): unknown {
  if (e instanceof ProviderError) return new ProviderError(e.type, prefix + e.message, e.retryable);
  if (e instanceof ApplicationFailure)
    return ApplicationFailure.create({
      type: e.type ?? 'Error',
      message: prefix + e.message,
      nonRetryable: e.nonRetryable === true,
    });
  return e;
}

const NET_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
};

function describe(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code && NET_ERRORS[code]) return `${NET_ERRORS[code]} (${code})`;
  return e instanceof Error ? e.message : String(e);
}

/** `10.0.0.5:5432`, `[fd00::5]:5432`. */
function hostPort(host: string, port: number): string {
  return `${isIPv6(host) ? `[${host}]` : host}:${port}`;
}

/** The guest's address as a URL's host: an IPv6 address in brackets, its zone (`%eth0`) escaped. */
function urlHost(host: string): string {
  return isIPv6(host) ? `[${host.replace('%', '%25')}]` : host;
}

/** A result in a message: the validation's name, then what it tried and got (the name alone when it is that). */
function label(r: CheckResult): string {
  return r.detail.startsWith(r.name) ? r.detail : `${r.name}: ${r.detail}`;
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
