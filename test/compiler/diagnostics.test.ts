/**
 * One case per diagnostic code: a runbook snippet in, the code and its line/column out.
 * `cases` is typed as a complete record, so a new code cannot be added without a test.
 */
import { compileText, BASE } from '../helpers';
import type { Diagnostic, DiagnosticCode, Mode } from '../../compiler';
import { sortDiagnostics } from '../../compiler/diagnostics';

interface Case {
  text: string;
  mode?: Mode;
  line: number;
  column: number;
  severity?: 'error' | 'warning';
  /** A fragment the message must contain. */
  message: string;
}

const workload = (extra: string) => BASE.replace('      - name: app-1\n', `      - name: app-1\n${extra}`);

/** BASE on two vSphere sites: `east` and `west` complete each site's connection, `app` app-1's vsphere block. */
const vsphere = (east = 'caFile: /etc/ca.pem', west = 'caFile: /etc/ca.pem', app = '') =>
  BASE.replace(
    '{ name: east, provider: simulator }',
    `{ name: east, provider: vsphere, connection: { url: "https://vc-east/sdk", ${east} } }`,
  )
    .replace(
      '{ name: west, provider: simulator }',
      `{ name: west, provider: vsphere, connection: { url: "https://vc-west/sdk", ${west} } }`,
    )
    .replace('      - name: db-1\n', '      - name: db-1\n        vsphere: { vm: db, replica: db-r }\n')
    .replace(
      '        dependsOn: [db-1]\n',
      `        dependsOn: [db-1]\n        vsphere: { vm: app, replica: app-r${app} }\n`,
    );

/** A workload's postgres block: two nodes and a test copy from the standby. */
const PG = `        postgres:
          nodes:
            protected: { host: 127.0.0.1, port: 5432, dataDir: /srv/a }
            recovery: { host: 127.0.0.1, port: 5433, dataDir: /srv/b }
          test: { port: 5440, dataDir: /srv/t, from: standby }
`;

/** `cli`: tested in test/cli/cli.test.ts; `robust`: in test/compiler/robust.test.ts (it needs a compiler fault). */
const cases: Record<DiagnosticCode, Case | 'cli' | 'robust'> = {
  'file/unreadable': 'cli', // reading files is the CLI's job: test/cli/cli.test.ts
  'file/more-problems': {
    text: BASE + Array.from({ length: 120 }, (_, i) => `x${i}: 1\n`).join(''),
    line: 121,
    column: 1,
    message: 'and 20 more problems (20 errors)',
  },
  'yaml/syntax': { text: BASE.replace('  rto: 1h', '   rto: 1h'), line: 7, column: 4, message: 'mappings' },
  'yaml/alias': {
    text: BASE.replace('  rpo: 15m\n  rto: 1h', '  rpo: *r\n  rto: &r 1h'),
    line: 6,
    column: 8,
    message: 'comes before its anchor &r (line 7)',
  },
  'schema/unknown-key': {
    text: BASE.replace('    priority: 2', '    priorty: 2'),
    line: 17,
    column: 5,
    message: 'unknown key "priorty"',
  },
  'schema/required': {
    text: BASE.replace('  rpo: 15m\n', ''),
    line: 5,
    column: 1,
    message: 'missing the required key "rpo"',
  },
  'schema/type': {
    text: BASE.replace('    priority: 2', '    priority: high'),
    line: 17,
    column: 15,
    message: 'must be an integer',
  },
  'schema/enum': {
    text: BASE.replace('provider: simulator }\ngroups', 'provider: simulater }\ngroups'),
    line: 10,
    column: 37,
    message: 'not one of',
  },
  'schema/invalid': {
    text: BASE.replace('    priority: 2', '    priority: 9'),
    line: 17,
    column: 15,
    message: 'must be <= 5',
  },
  'schema/format': {
    text: workload('        network: { ip: { address: 999.999.999.999/99 } }\n'),
    line: 20,
    column: 35,
    message:
      'is "999.999.999.999/99", which is not an IP address, with or without its prefix length (format `ip-or-cidr`)',
  },
  'duration/invalid': { text: BASE.replace('rto: 1h', 'rto: 1 hour'), line: 7, column: 8, message: 'not a duration' },
  'secret/inline': {
    text: workload(
      `        steps:\n          - name: hook\n            http:\n              url: https://x.example\n              headers: { Authorization: "Bearer abc" }\n`,
    ),
    line: 24,
    column: 41,
    message: 'credential',
  },
  'name/duplicate': {
    text: BASE.replace('      - name: app-1', '      - name: db-1'),
    line: 19,
    column: 15,
    message: 'already used at line 15',
  },
  'ref/unknown': {
    text: BASE.replace('dependsOn: [db-1]', 'dependsOn: [db-01]'),
    line: 20,
    column: 21,
    message: 'no workload or group has that name',
  },
  'graph/cycle': {
    text: BASE.replace('      - name: db-1\n', '      - name: db-1\n        dependsOn: [app-1]\n'),
    line: 16,
    column: 21,
    message: 'db-1 → app-1 → db-1',
  },
  'objective/invalid': {
    text: workload('        objectives: { rpo: 1h, rto: 30m }\n'),
    line: 20,
    column: 28,
    message: 'looser than',
  },
  'step/action': {
    text: workload(
      '        steps:\n          - name: hook\n            wait: { duration: 1m }\n            prompt: { message: hi }\n',
    ),
    line: 22,
    column: 13,
    message: 'gives 2 actions',
  },
  'step/anchor': {
    text: workload(
      '        powerOn: false\n        steps:\n          - name: hook\n            at: after-powerOn\n            wait: { duration: 1m }\n',
    ),
    mode: 'test',
    line: 23,
    column: 17,
    message: 'no powerOn action',
  },
  'retry/invalid': {
    text: BASE + 'defaults:\n  retry: { initialInterval: 30s, maxInterval: 10s }\n',
    line: 22,
    column: 34,
    message: 'maxInterval 10s is shorter than initialInterval 30s',
  },
  'retry/unknown-error': {
    text: BASE + 'defaults:\n  retry: { nonRetryableErrors: [StorageFul] }\n',
    line: 22,
    column: 33,
    severity: 'warning',
    message: 'nonRetryableErrors names "StorageFul"',
  },
  'approval/quorum': {
    text: BASE + 'steps:\n  - name: gate\n    approval: { approvers: [alice], required: 2 }\n',
    line: 23,
    column: 47,
    message: 'requires 2 approvers but names only 1',
  },
  'compensation/missing': {
    text: BASE + 'steps:\n  - name: notify\n    command: { argv: [echo, hi] }\n',
    line: 22,
    column: 11,
    message: 'says nothing of how to undo',
  },
  'approval/signing': {
    text:
      BASE +
      'steps:\n  - name: go\n    approval: { approvers: [alice, bob], signatures: required }\napprovers:\n  alice: { publicKey: "-----BEGIN PUBLIC KEY-----\\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\\n-----END PUBLIC KEY-----\\n" }\n',
    line: 23,
    column: 36,
    message: 'bob must sign approvals of go (signatures: required) but has no public key in `approvers`',
  },
  'step/redact': {
    text:
      BASE +
      'steps:\n  - name: notify\n    command: { argv: [echo, hi], redact: ["token=(\\\\S+"] }\n    compensation: none\n',
    line: 23,
    column: 43,
    message: 'the redact pattern "token=(\\\\S+" is not a regular expression',
  },
  'path/outside': {
    text:
      BASE + 'steps:\n  - name: notify\n    command: { argv: [echo, hi], cwd: ../../etc }\n    compensation: none\n',
    line: 23,
    column: 39,
    message: 'the command\'s working folder "../../etc" climbs out of its folder with `..`',
  },
  'provider/unsupported': {
    text: workload(`        network: { map: { prod: dr } }\n        provider: postgres\n${PG}`),
    mode: 'test',
    line: 19,
    column: 9,
    message: 'test needs "customizeNetwork" for workload app-1 on site west, but the postgres provider cannot do it',
  },
  'provider/settings': {
    text: workload(PG),
    line: 20,
    column: 9,
    severity: 'warning',
    message: 'neither site uses',
  },
  'validation/sql': {
    text: workload('        validations:\n          - sql: { query: SELECT 1 }\n'),
    line: 21,
    column: 13,
    message: 'sql validations need the postgres provider',
  },
  'postgres/path': {
    text: workload(`        provider: postgres\n${PG.replace('dataDir: /srv/b', 'dataDir: srv/b')}`),
    line: 24,
    column: 63,
    message: 'the recovery node\'s dataDir "srv/b" of app-1 is not an absolute path',
  },
  'postgres/test-copy': {
    text: workload(`        provider: postgres\n${PG.replace('dataDir: /srv/t', 'dataDir: /srv/a')}`),
    line: 25,
    column: 40,
    message: "the test copy's dataDir is the protected node's data directory (/srv/a) of app-1",
  },
  'vsphere/tls': {
    text: vsphere('caFile: /etc/ca.pem', 'username: dr'),
    line: 10,
    column: 46,
    message: 'site west does not say how to verify the vCenter certificate',
  },
  'vsphere/insecure': {
    text: vsphere('insecure: true'),
    line: 9,
    column: 89,
    severity: 'warning',
    message: 'TLS is not verified for site east: anyone on the path can read the credentials',
  },
  'vsphere/placement': {
    text: vsphere('caFile: /etc/ca.pem, cluster: prod, resourcePool: /dc/host/prod/Resources/dr'),
    line: 9,
    column: 125,
    message: 'site east gives both a cluster and a resource pool',
  },
  'vsphere/address': {
    text: vsphere(undefined, undefined, ', nics: [{ network: prod, ip: { address: 10.0.0.30/0 } }]'),
    line: 22,
    column: 84,
    message: '"10.0.0.30/0" has prefix length 0',
  },
  'compiler/internal': 'robust',
  'plan/rto-estimate': {
    text: BASE.replace('rto: 1h', 'rto: 5m'),
    mode: 'test',
    line: 7,
    column: 8,
    severity: 'warning',
    message: 'over the RTO of 5m',
  },
};

describe('diagnostics', () => {
  for (const [code, c] of Object.entries(cases)) {
    if (c === 'cli' || c === 'robust') continue;
    test(code, () => {
      const { diagnostics } = compileText(c.text, c.mode);
      const found = diagnostics.filter((d) => d.code === code);
      expect(found).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            code,
            severity: c.severity ?? 'error',
            line: c.line,
            column: c.column,
            file: 'test.yaml',
            message: expect.stringContaining(c.message),
          }),
        ]),
      );
      expect(found[0]!.hint).toBeTruthy();
    });
  }

  test('diagnostics sort by file, line, column and code; a repeat is dropped, the same place with another message kept', () => {
    const d = (file: string, line: number, column: number, code: string, message: string): Diagnostic =>
      ({ code, severity: 'error', file, line, column, path: '', message, hint: 'h' }) as Diagnostic;
    const input = [
      d('b.yaml', 1, 1, 'schema/type', 'm'),
      d('a.yaml', 9, 1, 'yaml/syntax', 'x'),
      d('a.yaml', 2, 5, 'schema/type', 'first'),
      d('a.yaml', 2, 5, 'ref/unknown', 'r'),
      d('a.yaml', 2, 5, 'schema/type', 'second'),
      d('a.yaml', 2, 5, 'schema/type', 'first'),
      d('a.yaml', 2, 3, 'schema/type', 'first'),
      d('a.yaml', 9, 1, 'yaml/syntax', 'x'),
    ];
    expect(sortDiagnostics(input).map((x) => `${x.file}:${x.line}:${x.column} ${x.code} ${x.message}`)).toEqual([
      'a.yaml:2:3 schema/type first',
      'a.yaml:2:5 ref/unknown r',
      'a.yaml:2:5 schema/type first',
      'a.yaml:2:5 schema/type second',
      'a.yaml:9:1 yaml/syntax x',
      'b.yaml:1:1 schema/type m',
    ]);
  });

  test('the base runbook is valid, so each case fails only for its own reason', () => {
    expect(compileText(BASE).diagnostics).toEqual([]);
    expect(compileText(vsphere(), 'test').diagnostics).toEqual([]);
  });

  test('one run reports an unknown key, a dangling dependsOn, a cycle and a syntax error below them', () => {
    const text = BASE.replace('    priority: 2', '    priorty: 2')
      .replace('dependsOn: [db-1]', 'dependsOn: [db-1, nope]')
      .replace('      - name: db-1\n', '      - name: db-1\n        dependsOn: [app-1]\n')
      .concat('        validations:\n          - tcp:\n              port: 443\n             host: x\n');
    const codes = compileText(text).diagnostics.map((d) => d.code);
    expect(codes).toEqual(expect.arrayContaining(['yaml/syntax', 'schema/unknown-key', 'ref/unknown', 'graph/cycle']));
  });

  test('what follows a syntax error is not reported: it may be an echo of it', () => {
    // Line 7 is over-indented, so YAML reads `rto` as part of `rpo`; the rest of the file is not trusted.
    const text = BASE.replace('  rto: 1h', '   rto: 1h').replace('    priority: 2', '    priorty: 2');
    expect(compileText(text).diagnostics.map((d) => `${d.line}:${d.code}`)).toEqual(['7:yaml/syntax']);
  });

  test('a workload cannot wait for one of a later priority: the cycle runs through the priorities', () => {
    const text = BASE.replace('      - name: db-1\n', '      - name: db-1\n        dependsOn: [app-2]\n').replace(
      '        dependsOn: [db-1]\n',
      '        dependsOn: [db-1]\n      - name: app-2\n',
    );
    const cycle = compileText(text).diagnostics.find((d) => d.code === 'graph/cycle');
    expect(cycle).toMatchObject({ line: 16, column: 21 });
    expect(cycle?.message).toBe('dependency cycle: db-1 → app-2 → group app → priority 1 → group db → db-1');
  });

  test('validate downgrades what only one mode cannot do to a warning naming the mode', () => {
    const c = cases['provider/unsupported'] as Case;
    const { diagnostics } = compileText(c.text);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(diagnostics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          code: 'provider/unsupported',
          severity: 'warning',
          message: expect.stringContaining('(test mode)'),
        }),
      ]),
    );
  });
});
