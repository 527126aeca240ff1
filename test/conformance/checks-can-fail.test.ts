/**
 * The suite's own test: each check fails against a provider that breaks the contract it checks (the
 * simulator with one operation made to misbehave), and the compensation cases follow compiler/modes.ts.
 */
import type { CheckId } from './adapter';
import { COMPENSATION_CASES, declaredCompensations } from './chains';
import { checksFor, runCheck } from './checks';
import { simulatorAdapter } from './simulator.adapter';
import type { SimulatorFixture } from './simulator.adapter';
import type { ConformanceAdapter } from './adapter';
import type { Operation, Provider } from '../../providers/types';
import { ProviderError } from '../../providers/errors';

type Operations = Provider['operations'];

/** The simulator with some operations replaced; `settled()` waits for calls still running. */
function mutant(change: (ops: Required<Operations>) => Operations) {
  const running = new Set<Promise<unknown>>();
  const adapter: ConformanceAdapter<SimulatorFixture> = {
    ...simulatorAdapter,
    async setup() {
      const fx = await simulatorAdapter.setup();
      const inner = fx.provider.operations as Required<Operations>;
      const changed = change(inner);
      const operations: Operations = { ...inner };
      for (const [kind, op] of Object.entries(changed) as [keyof Operations, Operation][])
        operations[kind] = (params, ctx) => {
          const call = op(params, ctx);
          running.add(call);
          void call.catch(() => undefined).finally(() => running.delete(call));
          return call;
        };
      return { ...fx, provider: { name: fx.provider.name, operations } };
    },
  };
  return { adapter, settled: () => Promise.allSettled([...running]) };
}

const MUTANTS: { check: CheckId; title?: string; breaks: string; ops: Parameters<typeof mutant>[0]; error: RegExp }[] =
  [
    {
      check: 'test-chain-idempotent',
      breaks: 'powers a running copy off and on again',
      ops: (o) => ({
        powerOn: async (p, ctx) => {
          const r = await o.powerOn(p, ctx);
          if (r.changed) return r;
          await o.powerOff(p, ctx);
          return o.powerOn(p, ctx);
        },
      }),
      error: /powerOn .* called again, it must find the work done/,
    },
    {
      check: 'failover-idempotent',
      breaks: 'says a repeated promote changed something',
      ops: (o) => ({ promote: async (p, ctx) => ({ ...(await o.promote(p, ctx)), changed: true }) }),
      error: /promote .* called again, it must find the work done/,
    },
    {
      check: 'transient-fault-retried',
      breaks: 'reports a transient fault as not retryable',
      ops: (o) => ({
        snapshot: (p, ctx) =>
          o.snapshot(p, ctx).catch((e: ProviderError) => {
            throw new ProviderError(e.type, e.message, false);
          }),
      }),
      error: /snapshot .* must fail with a retryable ProviderError/,
    },
    {
      check: 'cancelled-cleanly',
      breaks: 'notices a cancel only 3 s late',
      ops: (o) => ({
        restore: (p, ctx) => {
          const late = new AbortController();
          ctx.signal.addEventListener('abort', () => setTimeout(() => late.abort(ctx.signal.reason), 3_000));
          return o.restore(p, { ...ctx, signal: late.signal });
        },
      }),
      error: /restore .* still running 2000 ms after its signal was aborted/,
    },
    {
      check: 'compensations-undo',
      title: 'snapshot (test chain)',
      breaks: 'says it removed a snapshot it kept',
      ops: () => ({ removeSnapshot: async () => ({ changed: true, message: 'removed (not really)' }) }),
      error: /removeSnapshot .* did not undo snapshot/,
    },
    {
      check: 'test-cleanup-no-residue',
      breaks: 'leaves the test network behind',
      ops: () => ({ removeTestNetwork: async () => ({ changed: true, message: 'removed (not really)' }) }),
      error: /test then cleanup left a residue/,
    },
    {
      check: 'site-unreachable',
      breaks: 'reports an unreachable site as a fault no retry can help',
      ops: (o) => ({
        createTestNetwork: (p, ctx) =>
          o.createTestNetwork(p, ctx).catch((e: ProviderError) => {
            throw new ProviderError('InvalidState', e.message);
          }),
      }),
      error: /must fail with a retryable ProviderError SiteUnreachable; it threw ProviderError: .* \(type InvalidState/,
    },
  ];

test.each(MUTANTS)('$check fails against a provider that $breaks', async ({ check, title, ops, error }) => {
  const { adapter, settled } = mutant(ops);
  const c = checksFor(adapter).find((x) => x.id === check && (title === undefined || x.title.includes(title)));
  expect(c).toBeDefined();
  await expect(runCheck(adapter, c!)).rejects.toThrow(error);
  await settled();
});

test('the compensation cases cover every compensation compiler/modes.ts declares', () => {
  expect([...new Set(COMPENSATION_CASES.map((c) => c.pair))].sort()).toEqual(declaredCompensations());
});
