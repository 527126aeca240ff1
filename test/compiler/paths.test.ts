/** Paths from a runbook or the CLI stay inside the places Drover documents (compiler/paths.ts). */
import { escapes, fileNameOf, forEachCommand, isPlainName, outsideOf } from '../../compiler/paths';
import { BASE, compileText } from '../helpers';

test('a relative path that stays inside passes; absolute, climbing out or NUL does not', () => {
  for (const ok of ['.drover/sim', 'scripts', 'a/../b', './x', 'a/b/../../c']) expect(escapes(ok)).toBeUndefined();
  expect(escapes('/etc')).toBe('is absolute');
  expect(escapes('C:\\Windows')).toBe('is absolute');
  expect(escapes('..')).toMatch(/climbs out/);
  expect(escapes('a/../../b')).toMatch(/climbs out/);
  expect(escapes('..\\..\\x')).toMatch(/climbs out/);
  expect(escapes('a\0b')).toMatch(/NUL/);
});

test("a drill's folder stays under .drover/drills; its scenario is a plain name; a run's report file is one name", () => {
  expect(outsideOf('.drover/drills', '.drover/drills/drover-shop-drill-x')).toBeUndefined();
  expect(outsideOf('.drover/drills', '.drover/drills/../sim')).toBe('is not inside .drover/drills');
  expect(outsideOf('.drover/drills', '.drover/drills/../../../etc')).toMatch(/climbs out/);
  expect(isPlainName('site-down')).toBe(true);
  for (const bad of ['../x', 'a/b', '.', '..', '', ' x']) expect(isPlainName(bad)).toBe(false);
  expect(fileNameOf('../../etc/passwd')).toBe('__.._etc_passwd');
  expect(fileNameOf('drover-shop-test')).toBe('drover-shop-test');
  expect(fileNameOf('..')).toBe('_');
});

test("a simulator site's stateDir and a command's cwd outside the worker's folder are positioned errors", () => {
  const text =
    BASE.replace(
      '{ name: east, provider: simulator }',
      '{ name: east, provider: simulator, connection: { stateDir: /var/lib/x } }',
    ) +
    'steps:\n  - name: notify\n    command: { argv: [echo, hi], cwd: /tmp }\n    compensation: { command: { argv: [echo], cwd: ../.. } }\n';
  const found = compileText(text).diagnostics.filter((d) => d.code === 'path/outside');
  expect(found.map((d) => [d.path, d.line > 0 && d.column > 0])).toEqual([
    ['/sites/protected/connection/stateDir', true],
    ['/steps/0/command/cwd', true],
    ['/steps/0/compensation/command/cwd', true],
  ]);
});

test('forEachCommand finds every command spec with its path, in lists and nested objects', () => {
  const data = {
    groups: [
      { workloads: [{ steps: [{ command: { run: 'a' } }, { http: { url: 'u' } }] }] },
      { workloads: [{ validations: [{ command: { run: 'b', cwd: 'c' } }] }] },
    ],
    command: 'not a spec',
    hooks: { after: { command: { run: 'c' } } },
  };
  const found: string[] = [];
  forEachCommand(data, (c, at) => found.push(`${at.join('.')}=${String(c.run)}`));
  expect(found).toEqual([
    'groups.0.workloads.0.steps.0.command=a',
    'groups.1.workloads.0.validations.0.command=b',
    'hooks.after.command=c',
  ]);
});
