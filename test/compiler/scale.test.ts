/**
 * Compile time grows linearly with the input, even when most of it is wrong: a file with tens of thousands
 * of unknown keys, aliases or syntax errors compiles in about the time of a valid file of its size, and
 * reports a bounded number of diagnostics. The bounds are loose (a shared CI machine); the measured times
 * are in the commit that made this linear.
 */
import { compile, formatDiagnostic } from '../../compiler';
import { MAX_DIAGNOSTICS } from '../../compiler/diagnostics';
import { BASE } from '../helpers';

const pad = (n: number, line: (i: number) => string) => BASE + Array.from({ length: n }, (_, i) => line(i)).join('');

function timed(text: string): { ms: number; diagnostics: ReturnType<typeof compile>['diagnostics'] } {
  const started = process.hrtime.bigint();
  const { diagnostics } = compile(text, { file: 'big.yaml' });
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, diagnostics };
}

test('40,000 unknown keys in one workload: seconds, not minutes, and at most the cap of diagnostics', () => {
  const text = pad(40_000, (i) => `        unknownKey${i}: value-${i}\n`);
  expect(text.length).toBeGreaterThan(1_000_000);
  const { ms, diagnostics } = timed(text);
  expect(ms).toBeLessThan(15_000); // was over 60 s
  expect(diagnostics.length).toBe(MAX_DIAGNOSTICS + 1);
  const last = diagnostics[diagnostics.length - 1]!;
  expect(last.message).toMatch(/and 3\d,\d{3} more problems/);
  expect(diagnostics.slice(0, -1).every((d) => d.code === 'schema/unknown-key')).toBe(true);
});

test('40,000 aliases of one anchor resolve in linear time', () => {
  // yaml's toJS looked each alias up by scanning every anchor and alias before it: quadratic.
  const labels = Array.from({ length: 40_000 }, (_, i) => `    l${i}: *v\n`).join('');
  const text = BASE.replace('  name: t\n', `  name: t\n  labels:\n    first: &v gold\n${labels}`);
  const { ms, diagnostics } = timed(text);
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  expect(ms).toBeLessThan(15_000);
});

test('the alias cap grows with the file: 60,000 aliases of a small mapping are not an alias bomb', () => {
  const labels = Array.from({ length: 60_000 }, (_, i) => `    l${i}: *m\n`).join('');
  const text = BASE + `simulation:\n  latency: &m { default: 1s, restore: 2s }\nx:\n${labels}`;
  const { diagnostics } = timed(text);
  expect(diagnostics.filter((d) => d.code === 'yaml/alias')).toEqual([]);
});

test('a duplicate key is still a syntax error, at the second key, naming the first', () => {
  const text = BASE.replace('    priority: 2\n', '    priority: 2\n    priority: 3\n');
  const { diagnostics } = compile(text, { file: 'f.yaml' });
  expect(diagnostics).toEqual([
    expect.objectContaining({ code: 'yaml/syntax', line: 18, column: 5, message: expect.stringContaining('line 17') }),
  ]);
});

test('printing many diagnostics of one large file does not split the file once per diagnostic', () => {
  const text = pad(40_000, (i) => `        k${i}: v\n`);
  const d = compile(text, { file: 'big.yaml' }).diagnostics[0]!;
  const started = Date.now();
  for (let i = 0; i < 2000; i++) formatDiagnostic(d, text, { color: false });
  expect(Date.now() - started).toBeLessThan(2000);
});
