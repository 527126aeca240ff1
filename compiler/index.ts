/**
 * The runbook compiler: text in, `{ plan, diagnostics }` out. Pure: no Temporal, no process exit, no
 * console, no file system. The CLI, the worker and the tests all call `compile`.
 *
 * @example
 * const { plan, diagnostics } = compile(text, { file: 'runbooks/webshop.yaml', mode: 'test' });
 */
import { createHash } from 'node:crypto';
import { checkRunbook } from './check';
import { capDiagnostics, hasErrors, sortDiagnostics } from './diagnostics';
import type { Diagnostic } from './diagnostics';
import { formatDuration, parseDuration } from './durations';
import { expand } from './expand';
import { MODES, NOTIFY_EVENTS, PLAN_VERSION } from '../contracts/plan';
import type { Mode, Plan, PlanNotifyTarget } from '../contracts/plan';
import type { NotifyTarget, Runbook } from './runbook';
import { schemaDiagnostics } from './schema';
import { fromPointer, RunbookSource } from './source';

export * from '../contracts/plan';
export type { Diagnostic, DiagnosticCode, Severity } from './diagnostics';
export { DIAGNOSTIC_CODES, formatDiagnostic, hasErrors } from './diagnostics';
export { formatDuration, parseDuration } from './durations';

export interface CompileOptions {
  /** Shown in diagnostics and recorded in the plan; relative paths keep plans identical across machines. */
  file: string;
  /** The mode to plan. Without it the runbook is only validated (every mode is tried, problems are warnings). */
  mode?: Mode;
  /** The last git commit of the file, recorded in the plan for the audit trail (not part of `planHash`). */
  gitCommit?: string;
  /**
   * Test mode only: the time (ISO 8601) test copies are restored to, where the provider can go back in
   * time (PostgreSQL: point-in-time recovery from the WAL archive): their restore steps'
   * `params.recoveryPoint`. Other copies are restored from the test snapshot, as without it.
   */
  recoveryPoint?: string;
}

export interface CompileResult {
  /** Present when a mode was given and there is no error. */
  plan?: Plan;
  diagnostics: Diagnostic[];
}

/** Modes where the RTO objective applies: something is recovered. */
const RECOVERY_MODES: readonly Mode[] = ['test', 'planned-migration', 'disaster-recovery', 'failback'];

export function compile(text: string, options: CompileOptions): CompileResult {
  try {
    const result = compileText(text, options);
    return { ...result, diagnostics: capDiagnostics(result.diagnostics) };
  } catch (e) {
    // Never reached on any input we know of (test/compiler/property.test.ts looks for it): every problem
    // with a runbook is a diagnostic made where it is found. This keeps a compiler bug from taking the
    // CLI or the worker down with a stack trace, and says whose bug it is.
    const reason = e instanceof Error ? e.message : String(e);
    return {
      diagnostics: [
        {
          code: 'compiler/internal',
          severity: 'error',
          file: options.file,
          line: 1,
          column: 1,
          path: '',
          message: `the compiler failed on this file: ${reason.split('\n')[0]}`,
          hint: 'this is a bug in Drover, not necessarily in the runbook: please report it with the file',
        },
      ],
    };
  }
}

function compileText(text: string, options: CompileOptions): CompileResult {
  const source = new RunbookSource(options.file, text);
  const syntax = source.syntaxDiagnostics();
  const checked = checkRunbook(source);
  let diagnostics = [...schemaDiagnostics(source), ...checked.diagnostics];
  const damage = source.damageStart();
  if (damage !== undefined) {
    // After a YAML syntax (or alias) error, what YAML recovered may be misread, so a schema or semantic
    // error there may be only an echo of it. Rule: report the syntax errors, and the other errors only
    // about values that end before the damaged part (the entry in which, or just after which, YAML found
    // the first problem; see RunbookSource.damageStart). So a key missing from a mapping the error cut
    // short is not reported, a mistake in the lines above it is. Not caught: a reference from above to
    // a name only the damaged part defines; fixing the syntax error and running again shows the rest.
    diagnostics = diagnostics.filter((d) => source.endOf(fromPointer(d.path)) <= damage);
  }
  diagnostics.unshift(...syntax);
  if (hasErrors(diagnostics)) return { diagnostics: sortDiagnostics(diagnostics) };
  const { ordering } = checked;

  const rb = source.data as Runbook;
  if (options.mode === undefined) {
    // Validation: try every mode, so a mode a provider cannot run is known before anyone needs it.
    for (const mode of MODES) {
      const { expansion, diagnostics: modeDiagnostics } = expand(source, rb, ordering, mode);
      for (const d of modeDiagnostics)
        diagnostics.push({ ...d, severity: 'warning', message: `${d.message} (${mode} mode)` });
      if (mode === 'disaster-recovery' && expansion) rtoWarning(expansion.criticalPath, mode);
    }
    return { diagnostics: sortDiagnostics(diagnostics) };
  }

  const { expansion, diagnostics: modeDiagnostics } = expand(
    source,
    rb,
    ordering,
    options.mode,
    options.recoveryPoint !== undefined ? { recoveryPoint: options.recoveryPoint } : {},
  );
  diagnostics.push(...modeDiagnostics);
  if (!expansion || hasErrors(diagnostics)) return { diagnostics: sortDiagnostics(diagnostics) };
  if (RECOVERY_MODES.includes(options.mode)) rtoWarning(expansion.criticalPath, options.mode);

  const body: Omit<Plan, 'planHash'> = {
    planVersion: PLAN_VERSION,
    name: rb.metadata.name,
    mode: options.mode,
    ...(rb.metadata.description ? { description: rb.metadata.description } : {}),
    ...(rb.metadata.owner ? { owner: rb.metadata.owner } : {}),
    labels: rb.metadata.labels ?? {},
    source: {
      file: options.file,
      sha256: sha256(text),
      ...(options.gitCommit ? { gitCommit: options.gitCommit } : {}),
    },
    // Validated by the schema and the checks, so both parse.
    objectives: { rpoMs: parseDuration(rb.objectives.rpo) ?? 0, rtoMs: parseDuration(rb.objectives.rto) ?? 0 },
    ...expansion,
    ...(rb.notify ? { notify: rb.notify.map(notifyTarget) } : {}),
  };
  const plan: Plan = { ...body, planHash: planHashOf(body) };
  return { plan, diagnostics: sortDiagnostics(diagnostics) };

  function rtoWarning(cp: Plan['criticalPath'], mode: Mode) {
    if (!cp.exceedsRto) return;
    diagnostics.push(
      source.diagnostic(
        'plan/rto-estimate',
        ['objectives', 'rto'],
        `in ${mode} mode the critical path is estimated at ${formatDuration(cp.estimateMs)}, over the RTO of ${formatDuration(cp.rtoMs)}`,
        'shorten the critical path (`drover plan --mode ' +
          mode +
          '` shows it): fewer dependencies, faster steps, or a realistic RTO',
        { severity: 'warning' },
      ),
    );
  }
}

/** A runbook's notify target with its defaults filled in. */
function notifyTarget(t: NotifyTarget): PlanNotifyTarget {
  return {
    name: t.name,
    url: t.url,
    format: t.format ?? 'json',
    events: t.events ?? [...NOTIFY_EVENTS],
    headers: t.headers ?? {},
  };
}

/**
 * The plan's hash: sha256 of its canonical JSON without `planHash` and without `source.gitCommit`.
 * The hash says what the plan does; the commit says where the text came from and is recorded beside it,
 * so a commit elsewhere in the repository (or none, outside git) leaves the hash alone.
 */
export function planHashOf(body: Omit<Plan, 'planHash'> & { planHash?: string }): string {
  const { planHash: _hash, ...rest } = body;
  const { gitCommit: _commit, ...source } = rest.source;
  return sha256(canonicalJson({ ...rest, source }));
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with object keys sorted, so equal values always print the same bytes. */
export function canonicalJson(value: unknown): string {
  // The native JSON.stringify with a replacer that sorts keys is several times faster than a walk of our
  // own (the plan's hash was half the compile time of a large estate). It cannot print integer-like keys
  // ("10") in string order, nor an array's holes as the walk does; a value with either takes the walk.
  let exotic = false;
  const sorted = JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) {
      if (v.includes(undefined)) exotic = true;
      return v;
    }
    const keys = Object.keys(v).sort();
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      if (INTEGER_LIKE.test(k)) exotic = true;
      out[k] = (v as Record<string, unknown>)[k];
    }
    return out;
  }) as string | undefined;
  return exotic || sorted === undefined ? walkCanonical(value) : sorted;
}

const INTEGER_LIKE = /^(0|[1-9][0-9]*)$/;

function walkCanonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(walkCanonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${walkCanonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
