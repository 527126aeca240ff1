/**
 * The short version of `npm run bench`'s compiler part: each timed command runs once, as a new user's
 * `drover` process would (`npm test` builds dist/ first), and the figures are printed. Asserts that it
 * runs and says what it measured, never how fast.
 */
import { compilerBench } from '../bench';

test('the compiler benchmark runs drover validate and drover plan and prints its figures', () => {
  const lines: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
  try {
    compilerBench(1);
  } finally {
    log.mockRestore();
  }
  const text = lines.join('\n');
  expect(text).toMatch(/compiler: runbooks\/large-estate\.yaml \(600 workloads\)/);
  expect(text).toMatch(/drover validate \(all \d+ modes\), wall, median of 1: \d+ ms/);
  expect(text).toMatch(/drover plan --mode planned-migration, wall, median of 1: \d+ ms/);
  expect(text).toMatch(/compile\(\) of a generated 2,000-workload estate: \d+ ms for \d+ steps/);
});
