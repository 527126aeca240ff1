/**
 * The compiler never throws: whatever the text, `compile` returns diagnostics with a place, a message
 * and a hint. These are the inputs that used to throw (found by fuzzing the example runbooks), kept as
 * regressions; test/compiler/property.test.ts checks the property itself on generated inputs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { compile, MODES } from '../../compiler';
import * as check from '../../compiler/check';
import { RunbookSource } from '../../compiler/source';
import type { CompileResult, Diagnostic, Mode } from '../../compiler';
import { BASE } from '../helpers';

const WEBSHOP = readFileSync(join(__dirname, '..', '..', 'runbooks', 'webshop.yaml'), 'utf8');

/** Every mode and validation: none may throw, every diagnostic is placed. */
function compileAll(text: string): CompileResult[] {
  return [undefined, ...MODES].map((mode?: Mode) => {
    const r = compile(text, mode ? { file: 'f.yaml', mode } : { file: 'f.yaml' });
    for (const d of r.diagnostics) {
      expect(d.line).toBeGreaterThanOrEqual(1);
      expect(d.column).toBeGreaterThanOrEqual(1);
      expect(d.message).toBeTruthy();
      expect(d.hint).toBeTruthy();
    }
    return r;
  });
}

function only(text: string, code: Diagnostic['code']): Diagnostic {
  const all = compileAll(text);
  for (const r of all) expect(r.plan).toBeUndefined();
  const found = all[0]!.diagnostics.filter((d) => d.code === code);
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** 1-based line and column of `needle` in `text`. */
function at(text: string, needle: string): { line: number; column: number } {
  const i = text.indexOf(needle);
  if (i < 0) throw new Error(`${needle} not in text`);
  const before = text.slice(0, i).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

describe('aliases', () => {
  test('an alias before its anchor is a diagnostic at the alias, naming where the anchor is', () => {
    const text = BASE.replace('  rpo: 15m\n  rto: 1h', '  rpo: *win\n  rto: &win 1h');
    const d = only(text, 'yaml/alias');
    expect(d).toMatchObject({ severity: 'error', ...at(text, '*win') });
    expect(d.message).toContain('*win');
    expect(d.message).toContain(`line ${at(text, '&win').line}`);
    // The alias has no value, so "rpo must be a duration" would only echo it: syntax-level errors stand alone.
    expect(compileAll(text)[0]!.diagnostics.map((x) => x.code)).toEqual(['yaml/alias']);
  });

  test('an alias to an anchor that does not exist suggests the closest anchor', () => {
    const text = BASE.replace('  rpo: 15m', '  rpo: &fifteen 15m').replace('  rto: 1h', '  rto: *fiften');
    const d = only(text, 'yaml/alias');
    expect(d).toMatchObject(at(text, '*fiften'));
    expect(d.hint).toContain('&fifteen');
  });

  test('an alias bomb (billion laughs) is capped with a diagnostic naming the limit, quickly', () => {
    const levels = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
    for (let i = 1; i < 12; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    const text = levels.join('\n') + '\n';
    const started = Date.now();
    const d = only(text, 'yaml/alias');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(d.message).toMatch(/100,000/);
    expect(d.line).toBeGreaterThan(1);
  });

  test('an anchor used many times is fine: aliases are not a problem in themselves', () => {
    const workloads = Array.from({ length: 300 }, (_, i) => `      - name: w-${i}\n        defaults: *d\n`).join('');
    const text = BASE.replace('groups:\n', 'groups:\n  - name: many\n    workloads:\n' + workloads).replace(
      'objectives:\n',
      'defaults: &d { timeout: 5m }\nobjectives:\n',
    );
    const r = compile(text, { file: 'f.yaml', mode: 'test' });
    expect(r.diagnostics.filter((x) => x.severity === 'error')).toEqual([]);
    expect(r.plan?.steps.length).toBeGreaterThan(300);
  });

  test('an alias inside the value it refers to (a structure without end) is a diagnostic', () => {
    const text = BASE.replace('  name: t\n', '  name: t\n  labels: &l\n    self: *l\n');
    expect(only(text, 'yaml/alias')).toMatchObject({ ...at(text, '*l'), message: expect.stringContaining('itself') });
  });

  test('a self-referencing alias where any value is allowed (an http body) does not reach the plan', () => {
    const text = WEBSHOP.replace(
      '      body:\n        target: www.dc-west.shop.example.com',
      '      body: &b\n        target: www.dc-west.shop.example.com\n        again: *b',
    );
    expect(only(text, 'yaml/alias')).toMatchObject(at(text, '*b'));
  });

  test('an alias used as a mapping key', () => {
    compileAll(BASE.replace('  name: t\n', '  name: &n t\n  labels: { *n : x }\n'));
    compileAll(BASE.replace('  name: t\n', '  name: t\n  labels: &l { *l : x }\n'));
  });
});

describe('values of the wrong shape where checks read them', () => {
  test('an object whose keys shadow toString or valueOf', () => {
    compileAll(
      WEBSHOP.replace(
        '      method: POST\n      url: https://dns',
        '      method: {toString: 1}\n      url: https://dns',
      ),
    );
    compileAll(
      BASE.replace(
        '      - name: app-1\n',
        '      - name: app-1\n        steps:\n          - name: { toString: 1, valueOf: 2 }\n            command: { argv: [x] }\n',
      ),
    );
    compileAll(BASE.replace('      - name: db-1\n', '      - name: { toString: 1 }\n        postgres: {}\n'));
  });

  test('lists where maps are expected, scalars where lists are, nulls everywhere', () => {
    for (const [from, to] of [
      ['groups:\n', 'groups: 3\nx:\n'],
      ['    workloads:\n      - name: db-1\n', '    workloads: { name: db-1 }\n'],
      ['  - name: db\n', '  - [name, db]\n  - name: db0\n'],
      ['dependsOn: [db-1]', 'dependsOn: db-1'],
      ['dependsOn: [db-1]', 'dependsOn: [[db-1]]'],
      ['dependsOn: [db-1]', 'dependsOn: ~'],
      ['  rpo: 15m', '  rpo: [15m]'],
      ['sites:\n', 'sites: ~\nx:\n'],
      ['  protected: { name: east, provider: simulator }', '  protected: [east]'],
      ['metadata:\n  name: t\n', 'metadata: ~\n'],
    ]) {
      compileAll(BASE.replace(from!, to!));
    }
  });

  test('whole files that are not runbooks', () => {
    for (const text of [
      '',
      '# only a comment\n',
      '---\n---\n',
      '[',
      '"',
      'hello',
      '- a\n- b\n',
      '42',
      '~',
      '\t',
      '{',
      '&a',
      '*a',
      '? ? ?',
      '- &a [*a]',
      '!!binary x',
      '%YAML 1.1\n---\na: 1',
      '\ufeffa: 1',
      'a: !!set {x}',
    ]) {
      compileAll(text);
    }
  });
});

describe('step names that collide with the steps Drover generates', () => {
  const cases: [string, string][] = [
    [
      'a group step named "start"',
      BASE.replace(
        '  - name: app\n',
        '  - name: app\n    steps:\n      - name: start\n        wait: { duration: 1m }\n',
      ),
    ],
    [
      'a group step named "done"',
      BASE.replace(
        '  - name: app\n',
        '  - name: app\n    steps:\n      - name: done\n        at: after\n        wait: { duration: 1m }\n',
      ),
    ],
    ['a plan step named "start"', BASE + 'steps:\n  - name: start\n    wait: { duration: 1m }\n'],
    ['a plan step named "test-network"', BASE + 'steps:\n  - name: test-network\n    wait: { duration: 1m }\n'],
    [
      'a workload step named "restore"',
      BASE.replace(
        '      - name: app-1\n',
        '      - name: app-1\n        steps:\n          - name: restore\n            wait: { duration: 1m }\n',
      ),
    ],
  ];
  for (const [what, text] of cases) {
    test(`${what} is an error at its name`, () => {
      const found = compileAll(text)[0]!.diagnostics.filter((d) => d.code === 'name/duplicate');
      expect(found).toHaveLength(1);
      expect(found[0]!.message).toContain('reserved');
      for (const r of compileAll(text)) expect(r.plan).toBeUndefined();
    });
  }
});

describe('after a YAML syntax error', () => {
  const broken = BASE.replace('    priority: 2', '    priority: 2\n     x: [') // the syntax error, line 18
    .replace('      - name: db-1\n', '      - name: db-1\n        powrOn: true\n') // line 16: before it
    .replace('dependsOn: [db-1]', 'dependsOn: [nope]'); // after it

  test('problems before it are reported, those after it (possibly its echoes) are not', () => {
    const codes = compileAll(broken)[0]!.diagnostics.map((d) => `${d.line}:${d.code}`);
    expect(codes).toContain('16:schema/unknown-key');
    expect(codes.some((c) => c.endsWith('yaml/syntax'))).toBe(true);
    expect(codes.some((c) => c.endsWith('ref/unknown'))).toBe(false);
  });

  test('nor a missing key of a mapping the error cut short', () => {
    const text = BASE.replace('  rpo: 15m\n  rto: 1h\n', '  rpo: 15m\n  rto: "1h\n');
    const codes = compileAll(text)[0]!.diagnostics.map((d) => d.code);
    expect(codes).toContain('yaml/syntax');
    expect(codes).not.toContain('schema/required');
  });
});

test('a fault inside the compiler is a diagnostic, not a crash', () => {
  const spy = jest.spyOn(check, 'checkRunbook').mockImplementation(() => {
    throw new TypeError('boom');
  });
  try {
    const r = compile(BASE, { file: 'f.yaml', mode: 'test' });
    expect(r.plan).toBeUndefined();
    expect(r.diagnostics).toEqual([
      expect.objectContaining({
        code: 'compiler/internal',
        file: 'f.yaml',
        line: 1,
        column: 1,
        message: expect.stringContaining('boom'),
      }),
    ]);
  } finally {
    spy.mockRestore();
  }
});

describe('the data is what YAML says, aliases included', () => {
  // RunbookSource converts the syntax tree itself (see its header); on valid YAML it must agree with `toJS`.
  const texts = [
    readFileSync(join(__dirname, '..', '..', 'runbooks', 'webshop.yaml'), 'utf8'),
    readFileSync(join(__dirname, '..', '..', 'runbooks', 'orders-db.yaml'), 'utf8'),
    'a: &x 1\nb: *x\nc: &m { k: [1, 2, *x] }\nd: *m\ne: [*m, *x]\n',
    'a: &x one\na2: &x two\nb: *x\n', // an anchor may be redefined: the alias takes the last one before it
    '~: 3\n1: 4\ntrue: 5\n"1.0": 6\n',
    'l: [a: 1, b]\nq: "quoted: \\u00e9"\nf: 1.5e3\nn: .nan\nh: 0x1f\no: 0o17\nbig: 12345678901234567890\n',
    '__proto__: { polluted: true }\ntoString: 1\nconstructor: { prototype: 1 }\n',
    'block: |\n  line 1\n  line 2\nfolded: >\n  a\n  b\n',
  ];
  for (const text of texts) {
    test(JSON.stringify(text.slice(0, 40)), () => {
      const expected = parseDocument(text).toJS({ maxAliasCount: -1 }) as unknown;
      const source = new RunbookSource('f.yaml', text);
      expect(source.syntaxDiagnostics()).toEqual([]);
      expect(JSON.stringify(source.data)).toBe(JSON.stringify(expected));
      expect(Object.getPrototypeOf(source.data)).toBe(Object.prototype);
    });
  }
});

test('a collection as a key is named as written (toJS would re-print it)', () => {
  const source = new RunbookSource('f.yaml', '? [a,  b]\n: 1\n');
  expect(source.data).toEqual({ '[a,  b]': 1 });
  const text = BASE + '? [a,  b]\n: 1\n';
  expect(compile(text, { file: 'f.yaml' }).diagnostics).toEqual([
    expect.objectContaining({ code: 'schema/unknown-key', line: 21, message: 'unknown key "[a,  b]" in the runbook' }),
  ]);
});

test('binary and timestamp values are read as the text written: a plan holds JSON data only', () => {
  const source = new RunbookSource('f.yaml', 'a: !!binary aGVsbG8=\nt: !!timestamp 2001-12-14\ns: !!set { x }\n');
  expect(source.data).toEqual({ a: 'aGVsbG8=', t: '2001-12-14', s: { x: null } });
});
