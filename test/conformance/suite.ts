/**
 * The provider conformance suite: `describeConformance(adapter)` registers one jest test per check of the
 * provider contract (checks.ts), each on a fresh fixture from the adapter. Checks the adapter cannot run
 * (a hook it lacks) are registered as skipped, so jest's output names them.
 */
import type { ConformanceAdapter, Fixture } from './adapter';
import { checksFor, runCheck } from './checks';

export type { ConformanceAdapter, Fixture } from './adapter';

export function describeConformance<F extends Fixture>(adapter: ConformanceAdapter<F>): void {
  const timeout = adapter.timeoutMs ?? 60_000;
  describe(`provider conformance: ${adapter.name}`, () => {
    if (adapter.start) beforeAll(() => adapter.start!(), timeout);
    if (adapter.stop) afterAll(() => adapter.stop!(), timeout);
    for (const check of checksFor(adapter)) {
      if (check.skip) test.skip(`${check.title} [cannot run: ${check.skip}]`, () => undefined);
      else test(check.title, () => runCheck(adapter, check), timeout);
    }
  });
}
