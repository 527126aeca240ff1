/**
 * Properties of the compiler on generated input (fast-check): whatever the text, `compile` returns (it
 * never throws), every diagnostic has a place and a message, and every plan it returns is deterministic
 * and a valid step graph (unique ids, each step after the steps it depends on, so no cycle).
 *
 * The runs are seeded, so a failure reproduces: fast-check prints the seed and the counterexample path;
 * rerun with `FC_SEED=<seed> FC_PATH=<path> npx jest test/compiler/property`. `FC_RUNS` scales the
 * number of runs (e.g. `FC_RUNS=5000` for a longer search).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { isCollection, isPair, parseDocument, visit } from 'yaml';
import { compile, MODES } from '../../compiler';
import type { Mode } from '../../compiler';
import { RunbookSource } from '../../compiler/source';
import { apply, TOKENS } from '../../bench/mutate';
import type { Edit } from '../../bench/mutate';

const ROOT = join(__dirname, '..', '..');
const EXAMPLES = ['runbooks/webshop.yaml', 'runbooks/orders-db.yaml'].map((file) => ({
  file,
  text: readFileSync(join(ROOT, file), 'utf8'),
}));

const SEED = Number(process.env.FC_SEED ?? 20_261_122);
const SCALE = Number(process.env.FC_RUNS ?? 1);
const params = (numRuns: number): fc.Parameters<unknown> => ({
  seed: SEED,
  numRuns: Math.max(1, Math.round(numRuns * SCALE)),
  ...(process.env.FC_PATH ? { path: process.env.FC_PATH } : {}),
});

const token = fc.constantFrom(...TOKENS);

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constantFrom('flip' as const, 'insert' as const), at: fc.nat(), token }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({
    kind: fc.constantFrom(
      'delete-line' as const,
      'duplicate-line' as const,
      'indent-line' as const,
      'dedent-line' as const,
    ),
    line: fc.nat(),
  }),
  fc.record({ kind: fc.constant('replace-value' as const), line: fc.nat(), token }),
);

const mutant = fc
  .record({ example: fc.constantFrom(...EXAMPLES), edits: fc.array(edit, { minLength: 1, maxLength: 4 }) })
  .map(({ example, edits }) => ({ file: example.file, text: edits.reduce(apply, example.text) }));

/** Checks every property for one text, in validation and in every mode. */
function holds(file: string, text: string): void {
  for (const mode of [undefined, ...MODES] as (Mode | undefined)[]) {
    const options = mode ? { file, mode } : { file };
    const { plan, diagnostics } = compile(text, options);
    for (const d of diagnostics) {
      expect(d.code).not.toBe('compiler/internal');
      expect(d.file).toBe(file);
      expect(d.line).toBeGreaterThanOrEqual(1);
      expect(d.column).toBeGreaterThanOrEqual(1);
      expect(typeof d.message).toBe('string');
      expect(d.message.length).toBeGreaterThan(0);
    }
    if (!plan) continue;
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(compile(text, options).plan?.planHash).toBe(plan.planHash);
    const position = new Map<string, number>();
    plan.steps.forEach((s, i) => {
      expect(position.has(s.id)).toBe(false);
      position.set(s.id, i);
    });
    plan.steps.forEach((s, i) => {
      for (const dep of s.dependsOn) expect(position.get(dep)).toBeLessThan(i);
    });
  }
}

/**
 * RunbookSource reads the YAML tree itself (compiler/source.ts): where the text is valid YAML it must read
 * the data `toJS` reads. Except where it reads plain JSON data on purpose: a key that is a collection is
 * named as written (toJS prints it again), and binary, timestamp, set and ordered-map tags are read as
 * text, mapping and list (toJS makes a Buffer, Date, Set or Map).
 */
function readsLikeToJS(text: string): void {
  const source = new RunbookSource('f.yaml', text);
  if (source.syntaxDiagnostics().length > 0) return;
  const doc = parseDocument(text, { uniqueKeys: false });
  let differs = false;
  visit(doc, {
    Pair: (_, pair) => void (differs ||= isPair(pair) && isCollection(pair.key)),
    Node: (_, node) => void (differs ||= /:(binary|timestamp|set|omap|pairs)$/.test(node.tag ?? '')),
  });
  if (doc.errors.length > 0 || differs) return;
  expect(JSON.stringify(source.data)).toBe(JSON.stringify(doc.toJS({ maxAliasCount: -1 })));
}

describe('compile, on any text', () => {
  test('arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => holds('any.yaml', text)),
      params(300),
    );
  });

  test('strings of YAML tokens and runbook words', () => {
    fc.assert(
      fc.property(
        fc.array(token, { maxLength: 60 }).map((t) => t.join('')),
        (text) => {
          holds('tokens.yaml', text);
          readsLikeToJS(text);
        },
      ),
      params(400),
    );
  });

  test('the example runbooks with bytes flipped, deleted or inserted and lines moved', () => {
    fc.assert(
      fc.property(mutant, ({ file, text }) => {
        holds(file, text);
        readsLikeToJS(text);
      }),
      params(250),
    );
  });

  test('the example runbooks themselves', () => {
    for (const { file, text } of EXAMPLES) holds(file, text);
  });
});
