import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile } from '../../compiler';
import { generateEstate } from '../../bench/estate';

const RUNBOOKS = join(__dirname, '..', '..', 'runbooks');
const files = readdirSync(RUNBOOKS).filter((f) => /\.ya?ml$/.test(f));

describe('example runbooks', () => {
  test('there are examples', () => expect(files.length).toBeGreaterThanOrEqual(3));

  for (const f of files) {
    test(`${f} is valid and starts with the editor schema comment`, () => {
      const text = readFileSync(join(RUNBOOKS, f), 'utf8');
      expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../schemas/runbook.schema.json');
      expect(compile(text, { file: f }).diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    });
  }

  test('large-estate.yaml is what the generator makes, with at least 500 workloads', () => {
    const text = readFileSync(join(RUNBOOKS, 'large-estate.yaml'), 'utf8');
    expect(text).toBe(generateEstate({ workloads: 600 }));
    expect(text.match(/^ {6}- name: vm-/gm)?.length).toBeGreaterThanOrEqual(500);
  });
});
