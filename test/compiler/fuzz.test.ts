/**
 * The short version of `npm run fuzz` (bench/fuzz.ts): hostile mutants of the example runbooks (alias
 * bombs, deep nesting, huge numbers and strings, binary junk, truncations, token edits), each kind at
 * least a few times. Whatever the input, compile returns, with no internal error and every diagnostic
 * positioned. (Hangs are the long campaign's to count: here jest's timeout would fail the test.)
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { judge } from '../../bench/fuzz-judge';
import { HOSTILE_KINDS, mutate, Rng } from '../../bench/mutate';

const ROOT = join(__dirname, '..', '..');
const sources = readdirSync(join(ROOT, 'runbooks'))
  .filter((f) => f.endsWith('.yaml') && f !== 'large-estate.yaml')
  .map((f) => ({ file: `runbooks/${f}`, text: readFileSync(join(ROOT, 'runbooks', f), 'utf8') }));

test('200 hostile mutants of the examples: no crash, every diagnostic positioned', () => {
  const rng = new Rng(Number(process.env.FUZZ_SEED ?? 7));
  const seen = new Set<string>();
  const failures: string[] = [];
  for (let i = 0; i < 200; i++) {
    const source = rng.pick(sources);
    const m = mutate(source.text, rng);
    seen.add(m.kind);
    const v = judge({ file: source.file, text: m.text });
    if (v.crash || v.unpositioned > 0)
      failures.push(`${m.kind} of ${source.file}: ${v.crash ?? v.unpositionedExample}`);
  }
  expect(failures).toEqual([]);
  expect([...seen].sort()).toEqual([...HOSTILE_KINDS, 'token-edits'].sort());
}, 120_000);

test('the judge can fail: a compile that throws is a crash; the diagnostics of a bad runbook are counted and positioned', () => {
  // Not a string: compile cannot read it and throws (or reports an internal error); either is a crash.
  expect(judge({ file: 'x.yaml', text: undefined as unknown as string }).crash).toMatch(/threw|internal/);
  const v = judge({ file: 'x.yaml', text: 'apiVersion: 3\n' });
  expect(v.diagnostics).toBeGreaterThan(0);
  expect(v.unpositioned).toBe(0);
});
