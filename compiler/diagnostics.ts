/**
 * Diagnostics: every problem the compiler finds is a value, collected, never thrown.
 * Each has a stable code (documented in README.md), a place, a message and a hint.
 */

export const DIAGNOSTIC_CODES = {
  'file/unreadable': 'the runbook file could not be read',
  'yaml/syntax': 'the file is not valid YAML (indentation, quoting, duplicate keys, ...)',
  'yaml/alias':
    'an alias (`*name`) repeats nothing: its anchor (`&name`) comes later or is missing, it is inside its own anchor, or aliases repeat too much (alias bomb)',
  'schema/unknown-key': 'a key the runbook language does not have (often a typo)',
  'schema/required': 'a required key is missing',
  'schema/type': 'a value has the wrong type',
  'schema/enum': 'a value is not one of the allowed ones',
  'schema/invalid': 'a value breaks another rule of the schema (range, pattern, size)',
  'duration/invalid': 'a duration that does not parse',
  'secret/inline': 'a secret written in the runbook instead of referenced (`env:NAME`, `file:path`)',
  'name/duplicate': 'two workloads, groups or steps share a name',
  'ref/unknown': 'a `dependsOn` (or similar) names nothing that exists',
  'graph/cycle': 'dependencies form a cycle, so no order can satisfy them',
  'objective/invalid': 'objectives are zero or contradict the plan objectives',
  'step/action': 'a custom step or validation does not give exactly one action',
  'step/anchor': 'a custom step is anchored to an action its workload does not have',
  'retry/invalid': 'a retry policy Temporal cannot run as written (maxInterval below initialInterval, a zero interval)',
  'retry/unknown-error': 'a `nonRetryableErrors` entry names an error type nothing in Drover raises (often a typo)',
  'approval/quorum': 'an approval requires more approvers than it names',
  'compensation/missing': 'a step that changes things has no compensation, so an abort cannot undo it',
  'provider/unsupported': "a step the mode needs is not supported by the site's provider",
  'provider/settings': "a workload lacks, or has extra, settings for its site's provider",
  'plan/rto-estimate': "the critical path's estimate exceeds the RTO objective",
  'compiler/internal': 'the compiler failed on this input: a bug in Drover, reported instead of a crash',
} as const;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;
export type Severity = 'error' | 'warning';

export interface Diagnostic {
  code: DiagnosticCode;
  severity: Severity;
  file: string;
  /** 1-based; 0 when the problem is with the whole file. */
  line: number;
  column: number;
  /** JSON pointer into the runbook, e.g. `/groups/0/workloads/2/dependsOn/0`. */
  path: string;
  message: string;
  hint?: string;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics
    .filter((d) => {
      const key = `${d.file}:${d.line}:${d.column}:${d.code}:${d.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort(
      (a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.code.localeCompare(b.code),
    );
}

export interface FormatOptions {
  color: boolean;
}

/**
 * Prints a diagnostic like a compiler: `file:line:col: error[code]: message`, the source line with a
 * caret under the fault, and the hint.
 */
export function formatDiagnostic(d: Diagnostic, sourceText: string | undefined, opts: FormatOptions): string {
  const paint = (code: string, s: string) => (opts.color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const sev = d.severity === 'error' ? paint('1;31', 'error') : paint('1;33', 'warning');
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.column}` : d.file;
  const out = [`${paint('1', where)}: ${sev}[${d.code}]: ${d.message}`];
  const lineText = d.line > 0 ? sourceText?.split(/\r?\n/)[d.line - 1] : undefined;
  if (lineText !== undefined) {
    const gutter = String(d.line);
    out.push(`${' '.repeat(gutter.length)} |`);
    out.push(`${gutter} | ${lineText}`);
    out.push(`${' '.repeat(gutter.length)} | ${' '.repeat(Math.max(0, d.column - 1))}${paint('1;31', '^')}`);
  }
  if (d.hint) out.push(`  = hint: ${d.hint}`);
  return out.join('\n');
}

/** The closest candidate to `word` by edit distance, if it is close enough to be a likely typo. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
