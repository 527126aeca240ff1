/**
 * Retry policies are checked at compile time: a policy Temporal cannot run as written (a maximum
 * interval below the initial one, a zero interval) is an error at the key that makes it so, wherever a
 * retry block appears; an error type no part of Drover raises is a warning with a suggestion.
 */
import { BASE, compileText } from '../helpers';
import type { Diagnostic } from '../../compiler';
import { KNOWN_ERROR_TYPES } from '../../compiler/errors-known';

/** 1-based line and column of the `nth` occurrence of `needle` in `text`. */
function at(text: string, needle: string, nth = 0): { line: number; column: number } {
  let i = -1;
  for (let n = 0; n <= nth; n++) i = text.indexOf(needle, i + 1);
  if (i < 0) throw new Error(`${needle} not in text`);
  const before = text.slice(0, i).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

const retryErrors = (text: string): Diagnostic[] =>
  compileText(text).diagnostics.filter((d) => d.code === 'retry/invalid');

const BAD = 'retry: { initialInterval: 30s, maxInterval: 10s }';
const workload = (extra: string) => BASE.replace('      - name: app-1\n', `      - name: app-1\n${extra}`);
const group = (extra: string) => BASE.replace('  - name: app\n', `  - name: app\n${extra}`);

describe('maxInterval below initialInterval is an error at the maxInterval key', () => {
  const places: Record<string, string> = {
    'plan defaults': BASE + `defaults:\n  ${BAD}\n`,
    'group defaults': group(`    defaults:\n      ${BAD}\n`),
    'workload defaults': workload(`        defaults:\n          ${BAD}\n`),
    'an action override': workload(`        actions:\n          restore:\n            ${BAD}\n`),
    'a plan custom step': BASE + `steps:\n  - name: pause\n    wait: { duration: 1m }\n    ${BAD}\n`,
    'a group custom step': group(`    steps:\n      - name: pause\n        wait: { duration: 1m }\n        ${BAD}\n`),
    'a workload custom step': workload(
      `        steps:\n          - name: pause\n            wait: { duration: 1m }\n            ${BAD}\n`,
    ),
    'a compensation': workload(
      `        steps:\n          - name: hook\n            command: { argv: [echo, on] }\n            compensation:\n              command: { argv: [echo, off] }\n              ${BAD}\n`,
    ),
  };
  for (const [where, text] of Object.entries(places)) {
    test(where, () => {
      const found = retryErrors(text);
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({
        severity: 'error',
        ...at(text, 'maxInterval: 10s'),
        message: expect.stringContaining('maxInterval 10s is shorter than initialInterval 30s'),
      });
      expect(found[0]!.hint).toContain('at least 30s');
    });
  }
});

test('a block that raises initialInterval above the maxInterval it inherits is reported at initialInterval', () => {
  const text =
    BASE.replace('  - name: app\n', '  - name: app\n    defaults:\n      retry: { initialInterval: 2m }\n') +
    'defaults:\n  retry: { maxInterval: 1m }\n';
  const found = retryErrors(text);
  expect(found).toHaveLength(1);
  expect(found[0]).toMatchObject({
    ...at(text, 'initialInterval: 2m'),
    message: expect.stringContaining('initialInterval 2m is longer than the maxInterval 1m'),
  });
  expect(found[0]!.message).toContain(`line ${at(text, 'maxInterval: 1m').line}`);
});

test('the built-in default maxInterval counts too', () => {
  const text = workload('        defaults:\n          retry: { initialInterval: 5m }\n');
  const found = retryErrors(text);
  expect(found).toHaveLength(1);
  expect(found[0]!.message).toContain('the built-in maxInterval 1m');
});

test('a lower level that sets both, consistently, is fine even when a higher level sets one', () => {
  const text =
    workload('        defaults:\n          retry: { initialInterval: 5m, maxInterval: 10m }\n') +
    'defaults:\n  retry: { maxInterval: 1m }\n';
  expect(retryErrors(text)).toEqual([]);
  expect(compileText(text, 'test').plan).toBeDefined();
});

test('equal intervals are fine', () => {
  expect(retryErrors(BASE + 'defaults:\n  retry: { initialInterval: 10s, maxInterval: 10s }\n')).toEqual([]);
});

test('a zero interval is an error (Temporal would use its own default instead)', () => {
  const text = BASE + 'defaults:\n  retry: { initialInterval: 0s, maxInterval: 0ms }\n';
  const found = retryErrors(text);
  expect(found.map((d) => [d.line, d.column])).toEqual([
    [at(text, 'initialInterval').line, at(text, 'initialInterval').column],
    [at(text, 'maxInterval').line, at(text, 'maxInterval').column],
  ]);
  for (const d of found) expect(d.message).toContain('is zero');
});

test('maxAttempts 0 (unlimited in Temporal) and backoffCoefficient below 1 are rejected, not clamped', () => {
  const text = BASE + 'defaults:\n  retry: { maxAttempts: 0, backoffCoefficient: 0.5 }\n';
  const { diagnostics, plan } = compileText(text, 'test');
  expect(plan).toBeUndefined();
  expect(diagnostics).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ ...at(text, '0,'), severity: 'error' }),
      expect.objectContaining({ ...at(text, '0.5'), severity: 'error' }),
    ]),
  );
});

describe('nonRetryableErrors', () => {
  test('an unknown error type is a warning with a suggestion, at the entry', () => {
    const text = BASE + 'defaults:\n  retry: { nonRetryableErrors: [StorageFull, StorageFul, NoSuchThing] }\n';
    const { diagnostics, plan } = compileText(text, 'test');
    expect(plan).toBeDefined();
    const found = diagnostics.filter((d) => d.code === 'retry/unknown-error');
    expect(found).toHaveLength(2);
    expect(found[0]).toMatchObject({
      severity: 'warning',
      ...at(text, 'StorageFul,'),
      message: expect.stringContaining('"StorageFul"'),
      hint: expect.stringContaining('did you mean "StorageFull"?'),
    });
    expect(found[1]).toMatchObject({ severity: 'warning', ...at(text, 'NoSuchThing') });
  });

  test('every error type the example runbooks name is known', () => {
    for (const t of ['StorageFull', 'InvalidConfiguration', 'SiteUnreachable', 'CommandFailed', 'ReplicaBehind'])
      expect(KNOWN_ERROR_TYPES).toContain(t);
  });
});
