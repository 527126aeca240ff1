/**
 * Retry policies as Temporal will run them. A policy is resolved level by level (plan defaults, group
 * defaults, workload defaults, then an action override, a custom step or its compensation; each key
 * overrides the one above it), so a block is checked against what it inherits, and a problem is reported
 * once, at the key of the block that introduces it. The schema already bounds `maxAttempts` (>= 1; 0
 * would mean "unlimited" to Temporal) and `backoffCoefficient` (>= 1); these are the rules it cannot state.
 * Reads unvalidated input: every value is checked before use.
 */
import { didYouMean } from './diagnostics';
import type { Diagnostic } from './diagnostics';
import { formatDuration, parseDuration } from './durations';
import { KNOWN_ERROR_TYPES } from './errors-known';
import { DEFAULT_RETRY } from './modes';
import { isRecord, list } from './runbook';
import type { PathSegment, RunbookSource } from './source';

/** The intervals in effect at one level, and where each was set (undefined: the built-in default). */
interface Intervals {
  initialMs: number;
  initialAt?: PathSegment[];
  maxMs: number;
  maxAt?: PathSegment[];
}

export function checkRetries(source: RunbookSource, data: unknown, out: Diagnostic[]): void {
  const rb = isRecord(data) ? data : {};
  const base: Intervals = { initialMs: DEFAULT_RETRY.initialIntervalMs, maxMs: DEFAULT_RETRY.maximumIntervalMs };
  const known = new Set(KNOWN_ERROR_TYPES);

  const level = (parent: Intervals, owner: unknown, path: PathSegment[]): Intervals => {
    const retry = isRecord(owner) ? owner.retry : undefined;
    if (!isRecord(retry)) return parent;
    const at = [...path, 'retry'];
    list<unknown>(retry.nonRetryableErrors).forEach((type, i) => {
      if (typeof type !== 'string' || type === '' || known.has(type)) return;
      const guess = didYouMean(type, KNOWN_ERROR_TYPES);
      out.push(
        source.diagnostic(
          'retry/unknown-error',
          [...at, 'nonRetryableErrors', i],
          `nonRetryableErrors names "${type}", an error type nothing in Drover raises`,
          guess
            ? `did you mean "${guess}"?`
            : `known types: ${KNOWN_ERROR_TYPES.join(', ')}; if a command or provider of your own raises "${type}", keep it`,
          { severity: 'warning' },
        ),
      );
    });
    const initial = durationMs(retry.initialInterval);
    const max = durationMs(retry.maxInterval);
    for (const [key, value] of [
      ['initialInterval', initial],
      ['maxInterval', max],
    ] as const) {
      if (value !== 0) continue;
      out.push(
        source.diagnostic(
          'retry/invalid',
          [...at, key],
          `retry ${key} is zero: Temporal reads 0 as "use the default", so the step would not retry as written`,
          'give a wait longer than zero, e.g. `1s` (or `100ms` to retry almost at once)',
          { key: true },
        ),
      );
    }
    const here: Intervals = { ...parent };
    if (initial) Object.assign(here, { initialMs: initial, initialAt: [...at, 'initialInterval'] });
    if (max) Object.assign(here, { maxMs: max, maxAt: [...at, 'maxInterval'] });
    if (here.maxMs >= here.initialMs || (!initial && !max)) return here;
    const initialText = formatDuration(here.initialMs);
    const maxText = formatDuration(here.maxMs);
    if (max) {
      const from = initial
        ? ''
        : here.initialAt
          ? `, set at line ${source.locate(here.initialAt).line}`
          : ' (the built-in default)';
      out.push(
        source.diagnostic(
          'retry/invalid',
          [...at, 'maxInterval'],
          `retry maxInterval ${maxText} is shorter than initialInterval ${initialText}${from}: no wait between attempts can satisfy both`,
          `make maxInterval at least ${initialText}, or lower initialInterval: Temporal waits initialInterval before the first retry, then multiplies the wait by backoffCoefficient up to maxInterval`,
          { key: true },
        ),
      );
    } else {
      const from = here.maxAt
        ? `the maxInterval ${maxText} set at line ${source.locate(here.maxAt).line}`
        : `the built-in maxInterval ${maxText}`;
      out.push(
        source.diagnostic(
          'retry/invalid',
          [...at, 'initialInterval'],
          `retry initialInterval ${initialText} is longer than ${from}: no wait between attempts can satisfy both`,
          `add \`maxInterval: ${initialText}\` (or longer) to this retry block, or lower initialInterval to at most ${maxText}`,
          { key: true },
        ),
      );
    }
    return here;
  };

  const step = (parent: Intervals, s: unknown, path: PathSegment[]) => {
    if (!isRecord(s)) return;
    level(parent, s, path);
    // A compensation inherits the levels above its step, not the step's own retry (compiler/expand.ts).
    level(parent, s.compensation, [...path, 'compensation']);
  };
  const steps = (parent: Intervals, owner: Record<string, unknown>, path: PathSegment[]) =>
    list<unknown>(owner.steps).forEach((s, i) => step(parent, s, [...path, 'steps', i]));

  const plan = level(base, rb.defaults, ['defaults']);
  steps(plan, rb, []);
  list<unknown>(rb.groups).forEach((g, gi) => {
    if (!isRecord(g)) return;
    const gPath: PathSegment[] = ['groups', gi];
    const group = level(plan, g.defaults, [...gPath, 'defaults']);
    steps(group, g, gPath);
    list<unknown>(g.workloads).forEach((w, wi) => {
      if (!isRecord(w)) return;
      const wPath: PathSegment[] = [...gPath, 'workloads', wi];
      const workload = level(group, w.defaults, [...wPath, 'defaults']);
      if (isRecord(w.actions)) {
        for (const [action, override] of Object.entries(w.actions))
          level(workload, override, [...wPath, 'actions', action]);
      }
      steps(workload, w, wPath);
    });
  });
}

/** Milliseconds of a duration as written, or undefined when it is absent or not a duration. */
function durationMs(value: unknown): number | undefined {
  return typeof value === 'string' ? parseDuration(value) : undefined;
}
