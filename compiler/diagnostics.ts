/**
 * Diagnostics: every problem the compiler finds is a value, collected, never thrown.
 * Each has a stable code (documented in README.md), a place, a message and a hint.
 */

export const DIAGNOSTIC_CODES = {
  'file/unreadable': 'the runbook file could not be read',
  'file/more-problems': 'the file has more problems than are shown (the first 100 are): fix those and run again',
  'yaml/syntax': 'the file is not valid YAML (indentation, quoting, duplicate keys, ...)',
  'yaml/alias':
    'an alias (`*name`) repeats nothing: its anchor (`&name`) comes later or is missing, it is inside its own anchor, or aliases repeat too much (alias bomb)',
  'schema/unknown-key': 'a key the runbook language does not have (often a typo)',
  'schema/required': 'a required key is missing',
  'schema/type': 'a value has the wrong type',
  'schema/enum': 'a value is not one of the allowed ones',
  'schema/invalid': 'a value breaks another rule of the schema (range, pattern, size)',
  'schema/format':
    'a value is not of its format: an IP address, an address with its prefix length (CIDR), a host name or a URL',
  'duration/invalid': 'a duration that does not parse',
  'secret/inline': 'a secret written in the runbook instead of referenced (`env:NAME`, `file:path`)',
  'name/duplicate': 'two workloads, groups or steps share a name',
  'ref/unknown': 'a `dependsOn` (or similar) names nothing that exists',
  'graph/cycle': 'dependencies form a cycle, so no order can satisfy them',
  'objective/invalid': 'objectives are zero or contradict the plan objectives',
  'step/action': 'a custom step, validation or replication hook does not give exactly one action',
  'step/anchor': 'a custom step is anchored to an action its workload does not have',
  'retry/invalid': 'a retry policy Temporal cannot run as written (maxInterval below initialInterval, a zero interval)',
  'retry/unknown-error': 'a `nonRetryableErrors` entry names an error type nothing in Drover raises (often a typo)',
  'approval/signing':
    "an approver's public key is not an Ed25519 PEM key, or an approval that requires signatures names an approver without one",
  'approval/quorum': 'an approval requires more approvers than it names',
  'compensation/missing': 'a step that changes things has no compensation, so an abort cannot undo it',
  'provider/unsupported':
    "a step the mode needs is not supported by the provider that recovers the workload (its `provider`, else its site's)",
  'provider/settings':
    "a workload lacks, or has extra, settings for its provider (its `provider`, else its site's), or lacks what a mode needs of them",
  'validation/sql': 'a `sql` validation on a workload the postgres provider does not recover',
  'postgres/path': 'a path in a `postgres:` block (`dataDir`, `binDir`, `archive`, `baseBackup`) is not absolute',
  'postgres/test-copy':
    "a PostgreSQL test copy would land on a node: its `dataDir` is, is inside, or contains a node's, or its `port` is a node's on the same host",
  'vsphere/tls':
    'a vSphere site does not say how to verify the vCenter certificate (`thumbprint`, `caFile` or `insecure: true`), or says it more than one way',
  'vsphere/insecure':
    'warning: a vSphere site does not verify TLS (`insecure: true`) or does not use it (`http://`), so the credentials can be read on the way',
  'vsphere/placement': 'a vSphere site gives both `cluster` and `resourcePool` for the VMs Drover creates',
  'vsphere/address':
    "a vSphere NIC address has prefix length 0, which no subnet has (the address's form is the schema's: `schema/format`)",
  'step/redact': "a command's `redact` pattern is not a regular expression JavaScript can compile",
  'path/outside':
    "a path Drover uses on the worker (a simulator site's `stateDir`, a command's `cwd`) is absolute or climbs out with `..`",
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

/** Diagnostics reported per file; the rest are counted in one more (`file/more-problems`). */
export const MAX_DIAGNOSTICS = 100;

/**
 * The first MAX_DIAGNOSTICS of sorted diagnostics, then one that says how many more there are: beyond a
 * hundred, more lines help nobody (a file of 40,000 unknown keys is one mistake, not 40,000).
 */
export function capDiagnostics(sorted: Diagnostic[]): Diagnostic[] {
  if (sorted.length <= MAX_DIAGNOSTICS) return sorted;
  const shown = sorted.slice(0, MAX_DIAGNOSTICS);
  const rest = sorted.slice(MAX_DIAGNOSTICS);
  const next = rest[0]!;
  const errors = rest.filter((d) => d.severity === 'error').length;
  return [
    ...shown,
    {
      code: 'file/more-problems',
      severity: errors > 0 ? 'error' : 'warning',
      file: next.file,
      line: next.line,
      column: next.column,
      path: next.path,
      message: `and ${rest.length.toLocaleString('en-US')} more problems (${errors.toLocaleString('en-US')} errors) from here on, not shown`,
      hint: `only the first ${MAX_DIAGNOSTICS} problems of a file are shown: fix them and run again`,
    },
  ];
}

export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  // Sorted (stable), then each repeat dropped: a repeat sorts into the run of diagnostics with its
  // file, line, column and code, so only that run is searched for its message.
  const sorted = [...diagnostics].sort(
    (a, b) => order(a.file, b.file) || a.line - b.line || a.column - b.column || order(a.code, b.code),
  );
  const out: Diagnostic[] = [];
  let run: Set<string> | undefined; // the messages of the current run, once it has two or more
  for (const d of sorted) {
    const prev = out[out.length - 1];
    if (!prev || prev.file !== d.file || prev.line !== d.line || prev.column !== d.column || prev.code !== d.code) {
      run = undefined;
    } else {
      run ??= new Set([prev.message]);
      if (run.has(d.message)) continue;
      run.add(d.message);
    }
    out.push(d);
  }
  return out;
}

/** localeCompare, without its cost for the equal strings most pairs have (one file, few codes). */
function order(a: string, b: string): number {
  return a === b ? 0 : a.localeCompare(b);
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
  const lineText = d.line > 0 && sourceText !== undefined ? linesOf(sourceText)[d.line - 1] : undefined;
  if (lineText !== undefined) {
    const gutter = String(d.line);
    out.push(`${' '.repeat(gutter.length)} |`);
    out.push(`${gutter} | ${lineText}`);
    out.push(`${' '.repeat(gutter.length)} | ${' '.repeat(Math.max(0, d.column - 1))}${paint('1;31', '^')}`);
  }
  if (d.hint) out.push(`  = hint: ${d.hint}`);
  return out.join('\n');
}

/** The lines of the last text printed: a file's diagnostics are printed one after another. */
let lastText: string | undefined;
let lastLines: string[] = [];
function linesOf(text: string): string[] {
  if (text !== lastText) {
    lastText = text;
    lastLines = text.split(/\r?\n/);
  }
  return lastLines;
}

/** The closest candidate to `word` by edit distance, if it is close enough to be a likely typo. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(2, Math.floor(word.length / 3));
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    // The distance is at least the difference in length: most candidates are ruled out without computing it.
    const lc = c.toLowerCase();
    if (Math.abs(lc.length - w.length) >= bestDistance) continue;
    const d = editDistance(w, lc, bestDistance - 1);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** Two rows of the Levenshtein table, reused: called for every unknown key of a file, this stays cheap. */
let rowA = new Uint32Array(64);
let rowB = new Uint32Array(64);

/** Edit distance of `a` and `b`, or `max + 1` as soon as it is known to exceed `max`. */
function editDistance(a: string, b: string, max: number): number {
  if (rowA.length <= b.length) {
    rowA = new Uint32Array(b.length + 1);
    rowB = new Uint32Array(b.length + 1);
  }
  let prev = rowA;
  let cur = rowB;
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      // Plain comparisons, not Math.min: this is the compiler's innermost loop.
      let v = prev[j - 1]! + (ca === b.charCodeAt(j - 1) ? 0 : 1);
      if (prev[j]! + 1 < v) v = prev[j]! + 1;
      if (cur[j - 1]! + 1 < v) v = cur[j - 1]! + 1;
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    // Every later row is at least this row's minimum.
    if (rowMin > max) return max + 1;
    const t = prev;
    prev = cur;
    cur = t;
  }
  return prev[b.length]!;
}
