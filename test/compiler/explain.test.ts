/**
 * `drover explain`: every diagnostic code has an explanation, and its examples are honest. Each `wrong`
 * fragment, spliced into a full runbook, must make the compiler report that code (and nothing else); each
 * `right` fragment, spliced into the same runbook, must compile without that code and without any error.
 */
import { compile, DIAGNOSTIC_CODES } from '../../compiler';
import type { Diagnostic, DiagnosticCode, Mode, Severity } from '../../compiler';
import { EXPLANATIONS, explain } from '../../compiler/explain';

/** Simulator sites, a database tier and a web tier (priorities 1 and 2, no dependsOn). */
const SIM = `apiVersion: drover.dev/v1
kind: RecoveryPlan
metadata:
  name: shop
objectives:
  rpo: 15m
  rto: 1h
sites:
  protected:
    name: dc-east
    provider: simulator
  recovery:
    name: dc-west
    provider: simulator
groups:
  - name: database
    priority: 1
    workloads:
      - name: orders-db
        validations:
          - tcp: { port: 5432 }
  - name: app
    priority: 2
    workloads:
      - name: web
        validations:
          - tcp: { port: 443 }
`;

/** PostgreSQL sites and one PostgreSQL pair, `orders`, with a test copy from the standby. */
const PG = `apiVersion: drover.dev/v1
kind: RecoveryPlan
metadata:
  name: orders
objectives:
  rpo: 1m
  rto: 1h
sites:
  protected:
    name: db-east
    provider: postgres
  recovery:
    name: db-west
    provider: postgres
groups:
  - name: database
    workloads:
      - name: orders
        postgres:
          archive: /srv/pg/archive
          nodes:
            protected: { host: 127.0.0.1, port: 5432, dataDir: /srv/pg/east }
            recovery: { host: 127.0.0.1, port: 5433, dataDir: /srv/pg/west }
          test:
            port: 5440
            dataDir: /srv/pg/drover-test
            from: standby
        validations:
          - sql: { query: SELECT 1 }
`;

/** vSphere sites, each verifying its vCenter by thumbprint, and a VM per tier. */
const VSPHERE = `apiVersion: drover.dev/v1
kind: RecoveryPlan
metadata:
  name: shop
objectives:
  rpo: 15m
  rto: 1h
sites:
  protected:
    name: vc-east
    provider: vsphere
    connection:
      url: https://vc-east.example.com/sdk
      username: drover@vsphere.local
      password: env:VC_EAST_PASSWORD
      thumbprint: env:VC_EAST_THUMBPRINT
  recovery:
    name: vc-west
    provider: vsphere
    connection:
      url: https://vc-west.example.com/sdk
      username: drover@vsphere.local
      password: env:VC_WEST_PASSWORD
      thumbprint: env:VC_WEST_THUMBPRINT
groups:
  - name: database
    priority: 1
    workloads:
      - name: orders-db
        vsphere: { vm: shop-db-01, replica: shop-db-01-replica }
  - name: app
    priority: 2
    workloads:
      - name: web
        vsphere: { vm: shop-web-01, replica: shop-web-01-replica }
`;

/** VSPHERE with the protected site saying nothing of TLS: the examples of vsphere/tls and vsphere/insecure add it. */
const VSPHERE_NO_TLS = VSPHERE.replace('      thumbprint: env:VC_EAST_THUMBPRINT\n', '');

/** Context lines: where a fragment that starts at a workload (`- name: ...`) goes. */
const IN_DATABASE = ['groups:', '  - name: database', '    workloads:'];
const IN_APP = ['groups:', '  - name: app', '    workloads:'];
/** Where a fragment that starts at the `postgres:` block of PG's workload goes. */
const IN_ORDERS = [...IN_DATABASE, '      - name: orders'];

interface Case {
  base: string;
  /** Lines of `base` the fragment goes under (indented two more than the last); default: the top level. */
  under?: string[];
  /** Default: validation only (no mode), as `drover validate`. */
  mode?: Mode;
  /** Of the wrong fragment's diagnostic; default error. */
  severity?: Severity;
}

/**
 * How each code's example is checked, or why it has none that a runbook could show. A complete record:
 * a new code needs a decision here.
 */
const cases: Record<DiagnosticCode, Case | string> = {
  'file/unreadable': 'the file cannot be read, so there is no runbook text to show (test/cli/cli.test.ts)',
  'file/more-problems': 'needs over 100 problems in one file; a short fragment cannot show it (diagnostics.test.ts)',
  'compiler/internal': 'a bug in Drover, not a mistake in a runbook; no input is known to cause it (robust.test.ts)',
  'yaml/syntax': { base: SIM },
  'yaml/alias': { base: SIM },
  'schema/unknown-key': { base: SIM, under: IN_APP },
  'schema/required': { base: SIM },
  'schema/type': { base: SIM, under: IN_APP },
  'schema/enum': { base: SIM },
  'schema/invalid': { base: SIM },
  'schema/format': { base: SIM, under: IN_APP },
  'duration/invalid': { base: SIM },
  'secret/inline': { base: SIM },
  'name/duplicate': { base: SIM },
  'ref/unknown': { base: SIM, under: IN_APP },
  'graph/cycle': { base: SIM, under: IN_APP },
  'objective/invalid': { base: SIM },
  'step/action': { base: SIM, under: IN_DATABASE },
  // Whether a workload has an action depends on the mode: `drover validate` warns per mode, `plan` errs.
  'step/anchor': { base: SIM, under: IN_APP, mode: 'test' },
  'retry/invalid': { base: SIM },
  'retry/unknown-error': { base: SIM, severity: 'warning' },
  'approval/signing': { base: SIM },
  'approval/quorum': { base: SIM },
  'compensation/missing': { base: SIM },
  // Unsupported in one mode: a warning in validation, an error when that mode is planned.
  'provider/unsupported': { base: SIM, under: IN_DATABASE, mode: 'test' },
  'provider/settings': { base: SIM, under: IN_DATABASE },
  'validation/sql': { base: SIM, under: IN_DATABASE },
  'postgres/path': { base: PG, under: IN_ORDERS },
  'postgres/test-copy': { base: PG, under: IN_ORDERS },
  'vsphere/tls': { base: VSPHERE_NO_TLS },
  'vsphere/insecure': { base: VSPHERE_NO_TLS, severity: 'warning' },
  'vsphere/placement': { base: VSPHERE },
  'vsphere/address': { base: VSPHERE, under: IN_APP },
  'step/redact': { base: SIM },
  'path/outside': { base: SIM },
  // Planned in a recovery mode; `drover validate` checks it for disaster-recovery only.
  'plan/rto-estimate': { base: SIM, mode: 'test', severity: 'warning' },
};

const indentOf = (line: string) => line.length - line.trimStart().length;
const isBlank = (line: string) => line.trim() === '' || line.trim().startsWith('#');
/** A line without its trailing comment (the fragments hold no ` #` inside values). */
const bare = (line: string) => line.replace(/\s+#.*$/, '').trimEnd();
/** The key a `key: value` line sets; none for a list item (`- name: x`) or a block scalar's text. */
const keyOf = (line: string) => /^\s*([A-Za-z][\w.-]*):(\s|$)/.exec(line)?.[1];

/** The index after the last line of the block that `lines[i]` opens (its more indented lines). */
function blockEnd(lines: string[], i: number): number {
  if (i < 0) return lines.length;
  let end = i + 1;
  for (let j = i + 1; j < lines.length; j++) {
    if (isBlank(lines[j]!)) continue;
    if (indentOf(lines[j]!) <= indentOf(lines[i]!)) break;
    end = j + 1;
  }
  return end;
}

/**
 * `fragment` (at the top level, or under the `under` lines of `base`) merged into `base`, line by line,
 * in order: a line `base` has at that place is context and is kept; a `key:` line whose block already
 * sets that key replaces it (and what is under it); any other line is added at the end of its block.
 * Comment-only lines of the fragment are left out; every other line is in the result as written.
 */
function splice(base: string, fragment: string, under: string[] = []): string {
  const depth = under.length ? indentOf(under[under.length - 1]!) + 2 : 0;
  const incoming = [...under, ...fragment.split('\n').map((l) => ' '.repeat(depth) + l)].filter((l) => !isBlank(l));
  const lines = base.replace(/\n$/, '').split('\n');
  let last = -1;
  for (const line of incoming) {
    const depthOf = indentOf(line);
    // Context: the same line further on, before its block ends.
    let match: number | undefined;
    for (let q = last + 1; q < lines.length; q++) {
      if (isBlank(lines[q]!)) continue;
      if (bare(lines[q]!) === bare(line)) {
        match = q;
        break;
      }
      if (indentOf(lines[q]!) < depthOf) break;
    }
    if (match !== undefined) {
      last = match;
      continue;
    }
    // The block this line belongs to: the nearest line above, at or before the last one placed, less indented.
    let parent = last;
    while (parent >= 0 && (isBlank(lines[parent]!) || indentOf(lines[parent]!) >= depthOf)) parent--;
    const end = blockEnd(lines, parent);
    const key = keyOf(line);
    const same =
      key === undefined
        ? -1
        : lines.findIndex((l, i) => i > parent && i < end && indentOf(l) === depthOf && keyOf(l) === key);
    if (same >= 0) {
      lines.splice(same, blockEnd(lines, same) - same, line);
      last = same;
    } else {
      lines.splice(end, 0, line);
      last = end;
    }
  }
  return lines.join('\n') + '\n';
}

/** The case's base with `fragment` spliced in; every line of the fragment is in it, as written. */
function spliced(c: Case, fragment: string): string {
  const text = splice(c.base, fragment, c.under);
  const depth = c.under ? indentOf(c.under[c.under.length - 1]!) + 2 : 0;
  const result = text.split('\n').map(bare);
  for (const line of fragment.split('\n').filter((l) => !isBlank(l)))
    expect(result).toContain(bare(' '.repeat(depth) + line));
  return text;
}

function run(text: string, mode: Mode | undefined): Diagnostic[] {
  return compile(text, mode ? { file: 'x.yaml', mode } : { file: 'x.yaml' }).diagnostics;
}

const show = (ds: Diagnostic[]) => ds.map((d) => `${d.line}:${d.column} ${d.severity}[${d.code}] ${d.message}`);

describe('every diagnostic code has an explanation', () => {
  const codes = Object.keys(DIAGNOSTIC_CODES) as DiagnosticCode[];

  test('one entry per code, no entry for a code that does not exist', () => {
    expect(Object.keys(EXPLANATIONS).sort()).toEqual([...codes].sort());
    for (const code of codes) expect(EXPLANATIONS[code].text.length).toBeGreaterThan(150);
  });

  test('examples come in pairs, and every code without one says why', () => {
    for (const code of codes) {
      const e = EXPLANATIONS[code];
      expect([code, e.wrong === undefined]).toEqual([code, e.right === undefined]);
      expect([code, typeof cases[code] === 'string']).toEqual([code, e.wrong === undefined]);
    }
  });

  test('explain renders the title, the text wrapped at 100 columns, then Wrong: and Right: indented', () => {
    const text = explain('graph/cycle')!;
    const lines = text.split('\n');
    expect(lines[0]).toBe(`graph/cycle: ${DIAGNOSTIC_CODES['graph/cycle']}`);
    expect(lines[1]).toBe('');
    const wrong = lines.indexOf('Wrong:');
    const right = lines.indexOf('Right:');
    expect(wrong).toBeGreaterThan(2);
    expect(right).toBeGreaterThan(wrong);
    for (const line of lines.slice(2, wrong - 1)) expect(line.length).toBeLessThanOrEqual(100);
    expect(lines.slice(wrong + 1, right - 1).join('\n')).toBe(
      EXPLANATIONS['graph/cycle']
        .wrong!.split('\n')
        .map((l) => `    ${l}`)
        .join('\n'),
    );
    expect(lines.slice(right + 1).join('\n')).toBe(
      EXPLANATIONS['graph/cycle']
        .right!.split('\n')
        .map((l) => `    ${l}`)
        .join('\n') + '\n',
    );
    for (const code of codes) {
      const one = explain(code)!;
      expect(one.startsWith(`${code}: `)).toBe(true);
      expect(one.includes('Wrong:')).toBe(EXPLANATIONS[code].wrong !== undefined);
    }
    expect(explain('compiler/internal')).not.toContain('Wrong:');
  });

  test('an unknown code has no explanation', () => {
    expect(explain('graph/cycles')).toBeUndefined();
    expect(explain('toString')).toBeUndefined();
    expect(explain('')).toBeUndefined();
  });
});

describe('the bases the examples are spliced into', () => {
  test.each([
    ['SIM', SIM],
    ['PG', PG],
    ['VSPHERE', VSPHERE],
  ])('%s compiles without any diagnostic, in validation and in test mode', (_name, base) => {
    expect(show(run(base, undefined))).toEqual([]);
    expect(show(run(base, 'test'))).toEqual([]);
  });

  test('splice keeps context, replaces a key, adds new lines at the end of their block', () => {
    const text = splice(SIM, '- name: web\n  dependsOn: [orders-db] # comment\n  powerOn: false', IN_APP);
    expect(text).toBe(
      SIM.replace(
        '      - name: web\n        validations:\n          - tcp: { port: 443 }\n',
        '      - name: web\n        validations:\n          - tcp: { port: 443 }\n        dependsOn: [orders-db] # comment\n        powerOn: false\n',
      ),
    );
    expect(splice(SIM, 'objectives:\n  rpo: 15m\n  rto: 2h')).toBe(SIM.replace('rto: 1h', 'rto: 2h'));
  });
});

describe('the examples of each code, compiled in a full runbook', () => {
  for (const [code, c] of Object.entries(cases) as [DiagnosticCode, Case | string][]) {
    if (typeof c === 'string') continue;
    const e = EXPLANATIONS[code];

    test(`${code}: the wrong example reports it, and only it`, () => {
      const text = spliced(c, e.wrong!);
      const ds = run(text, c.mode);
      expect(show(ds.filter((d) => d.code === code && d.severity === (c.severity ?? 'error')))).not.toEqual([]);
      expect(show(ds.filter((d) => d.code !== code))).toEqual([]);
    });

    test(`${code}: the right example does not, and has no error`, () => {
      const text = spliced(c, e.right!);
      const ds = run(text, c.mode);
      expect(show(ds.filter((d) => d.code === code || d.severity === 'error'))).toEqual([]);
      // Validation too, which tries every mode (a mode's problems are warnings there).
      if (c.mode) expect(show(run(text, undefined).filter((d) => d.code === code))).toEqual([]);
    });
  }
});
