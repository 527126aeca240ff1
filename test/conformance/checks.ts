/**
 * The provider contract, check by check. Each check runs on a fresh fixture and throws, saying what broke,
 * when the provider does not keep the contract (checks-can-fail.test.ts proves each can fail).
 */
import { ProviderError } from '../../providers/errors';
import { PROVIDER_CAPABILITIES } from '../../compiler/providers';
import type { PlanSite } from '../../contracts/plan';
import type { CheckId, ConformanceAdapter, Fixture, WorkloadUnderTest } from './adapter';
import { cleanupChain, COMPENSATION_CASES, failoverSteps, testChain, testSteps, undoStep } from './chains';
import type { CompensationCase, Step } from './chains';
import { describeError, ensure, expectSameInventory, sameInventory, Session, sleep, within } from './session';

export interface Check {
  id: CheckId;
  title: string;
  /** Why the adapter cannot run it (a hook it lacks, a kind its provider does not support). */
  skip?: string;
  run(session: Session): Promise<void>;
}

/** A cancelled call must reject within this (ms) of its signal's abort. */
export const PROMPT_MS = 2_000;
/** How long a slowed call runs before the suite aborts it (ms). */
export const ABORT_AFTER_MS = 200;

/** The effects a step and its retries make in all (`refresh`: any number, a sync ships what is new each time). */
const wantedEffects = (step: Step) =>
  step.idempotence === 'once' ? 1 : step.idempotence === 'observe' ? 0 : undefined;

/** Calls `step` twice (the second as a retry) and checks what twice must give (chains.ts `Idempotence`). */
async function twice(s: Session, step: Step): Promise<void> {
  const e0 = await s.effects(step);
  const r1 = await s.must(step, 'the first call', { attempt: 1 });
  const [e1, inv1] = [await s.effects(step), await s.inventory()];
  const r2 = await s.must(step, 'the second call', { attempt: 2 });
  const [e2, inv2] = [await s.effects(step), await s.inventory()];
  const l = step.label;
  if (step.idempotence === 'once') {
    ensure(r1.changed, `${l}: the first call must change its target (changed: true); it said "${r1.message}"`);
    ensure(e1 - e0 === 1, `${l}: the first call must have exactly one effect; it had ${e1 - e0}`);
    ensure(!r2.changed, `${l}: called again, it must find the work done (changed: false); it said "${r2.message}"`);
    ensure(e2 - e1 === 0, `${l}: called again, it must do nothing; it had ${e2 - e1} more effect(s)`);
  } else if (step.idempotence === 'observe') {
    ensure(e2 - e0 === 0, `${l}: it only observes, yet had ${e2 - e0} effect(s)`);
    ensure(!r2.changed, `${l}: called again, it must report changed: false; it said "${r2.message}"`);
  } else if (r1.recoveryPointAt !== undefined && r2.recoveryPointAt !== undefined) {
    ensure(
      r2.recoveryPointAt >= r1.recoveryPointAt,
      `${l}: called again, the recovery point went back from ${r1.recoveryPointAt} to ${r2.recoveryPointAt}`,
    );
  }
  expectSameInventory(inv2, inv1, `${l}: called again, it changed the inventory`);
}

async function testChainIdempotent(s: Session): Promise<void> {
  for (const step of testChain(s.fx)) await twice(s, step);
}

async function failoverIdempotent(s: Session): Promise<void> {
  for (const w of s.fx.workloads) for (const step of failoverSteps(s.fx, w)) await twice(s, step);
}

/** Each step of the test chain: a transient fault fails the first attempt retryably; the retry does it, once. */
async function transientFaultRetried(s: Session): Promise<void> {
  for (const step of testChain(s.fx)) {
    const l = step.label;
    const e0 = await s.effects(step);
    const patch = await s.adapter.injectTransientFault!(s.fx, step);
    const first = await s.call(step, { attempt: 1, patch }).then(
      (r) => `succeeded ("${r.message}")`,
      (e: unknown) => e,
    );
    ensure(
      first instanceof ProviderError && first.retryable,
      `${l}: with a transient fault injected, the first attempt must fail with a retryable ProviderError; it ${first instanceof Error ? `threw ${describeError(first)}` : String(first)}`,
    );
    await s.must(step, 'the retry after a transient fault', { attempt: 2, patch });
    const [effects, wanted] = [(await s.effects(step)) - e0, wantedEffects(step)];
    if (wanted !== undefined)
      ensure(
        effects === wanted,
        `${l}: the failed attempt and its retry must make ${wanted} effect(s); made ${effects}`,
      );
  }
}

/** Each step of the test chain, slowed, aborted mid-way: it rejects promptly, leaves nothing half-done, a retry does it once. */
async function cancelledCleanly(s: Session): Promise<void> {
  for (const step of testChain(s.fx)) {
    const l = step.label;
    const [before, e0] = [await s.inventory(), await s.effects(step)];
    const patch = await s.adapter.slowOperation!(s.fx, step);
    const controller = new AbortController();
    let state: 'running' | 'resolved' | 'rejected' = 'running';
    const call = s.call(step, { attempt: 1, signal: controller.signal, patch }).then(
      () => void (state = 'resolved'),
      () => void (state = 'rejected'),
    );
    await sleep(ABORT_AFTER_MS);
    ensure(state === 'running', `${l}: slowed, it must still run ${ABORT_AFTER_MS} ms later; it had ${state}`);
    controller.abort(new Error('cancelled by the conformance suite'));
    const abortedAt = Date.now();
    await within(call, PROMPT_MS);
    ensure(state !== 'running', `${l}: still running ${PROMPT_MS} ms after its signal was aborted`);
    ensure(state === 'rejected', `${l}: cancelled, it must reject; it resolved ${Date.now() - abortedAt} ms later`);
    const mid = await s.inventory();
    await s.must(step, 'the retry after a cancel', { attempt: 2 });
    const [after, effects, wanted] = [await s.inventory(), (await s.effects(step)) - e0, wantedEffects(step)];
    ensure(
      sameInventory(mid, before) || sameInventory(mid, after),
      `${l}: cancelled, it left the estate half-done: neither as before nor as the retry left it\n` +
        `before: ${JSON.stringify(before)}\ncancelled: ${JSON.stringify(mid)}\nretried: ${JSON.stringify(after)}`,
    );
    if (wanted !== undefined)
      ensure(
        effects === wanted,
        `${l}: the cancelled call and its retry must make ${wanted} effect(s); made ${effects}`,
      );
  }
}

/** The step of `c`, the steps before it in its chain, and its compensation, for workload `w`. */
function compensationSteps(fx: Fixture, c: CompensationCase, w: WorkloadUnderTest) {
  const chain =
    c.chain === 'test'
      ? [...testChain(fx).filter((s) => s.kind === 'createTestNetwork'), ...testSteps(fx, w)]
      : failoverSteps(fx, w);
  const at = chain.findIndex((s) => s.kind === c.kind);
  ensure(at >= 0, `${c.kind} is not in the ${c.chain} chain of ${w.name}`);
  const step = chain[at]!;
  return { prereqs: chain.slice(0, at), step, undo: undoStep(fx, step, c.compensation) };
}

async function compensationUndoes(s: Session, c: CompensationCase): Promise<void> {
  // The test network is the site's: one case, not one per workload.
  const workloads = c.kind === 'createTestNetwork' ? s.fx.workloads.slice(0, 1) : s.fx.workloads;
  for (const w of workloads) {
    const { prereqs, step, undo } = compensationSteps(s.fx, c, w);
    await s.run(prereqs);
    const before = await s.inventory();
    const done = await s.must(step, 'the step to undo');
    ensure(done.changed, `${step.label} must change something to be undone; it said "${done.message}"`);
    ensure(!sameInventory(await s.inventory(), before), `${step.label} changed nothing in the inventory`);
    const undone = await s.must(undo, 'the compensation');
    ensure(undone.changed, `${undo.label} must undo ${step.label} (changed: true); it said "${undone.message}"`);
    expectSameInventory(await s.inventory(), before, `${undo.label} did not undo ${step.label} exactly`);
  }
}

async function testCleanupNoResidue(s: Session): Promise<void> {
  const before = await s.inventory();
  await s.run(testChain(s.fx));
  ensure(!sameInventory(await s.inventory(), before), 'the test chain changed nothing in the inventory');
  await s.run(cleanupChain(s.fx));
  expectSameInventory(await s.inventory(), before, 'test then cleanup left a residue');
}

/** At each site, its first step that changes something: fails as SiteUnreachable while down, succeeds once back. */
async function siteUnreachable(s: Session): Promise<void> {
  const reach = s.adapter.reachability!;
  const chains: [PlanSite, Step[]][] = [
    [s.fx.sites.recovery, testChain(s.fx)],
    [s.fx.sites.protected, failoverSteps(s.fx, s.fx.workloads[0]!)],
  ];
  for (const [site, chain] of chains) {
    const at = chain.findIndex((x) => x.site.name === site.name && x.idempotence === 'once');
    ensure(at >= 0, `no step of the chain changes anything at ${site.name}`);
    const step = chain[at]!;
    await s.run(chain.slice(0, at));
    const e0 = await s.effects(step);
    const patch = await reach.makeUnreachable(s.fx, site);
    const down = await s.call(step, { attempt: 1, patch }).then(
      (r) => `succeeded ("${r.message}")`,
      (e: unknown) => e,
    );
    // Reachable again before judging, so that a failed check leaves no frozen site behind.
    await reach.makeReachable(s.fx, site);
    ensure(
      down instanceof ProviderError && down.type === 'SiteUnreachable' && down.retryable,
      `${step.label} with ${site.name} unreachable must fail with a retryable ProviderError SiteUnreachable; it ${down instanceof Error ? `threw ${describeError(down)}` : String(down)}`,
    );
    await s.must(step, `the retry with ${site.name} back`, { attempt: 2 });
    const effects = (await s.effects(step)) - e0;
    ensure(effects === 1, `${step.label}: the unreachable attempt and the retry must make one effect; made ${effects}`);
  }
}

/** The checks of one adapter, in order; those it cannot run carry `skip`. */
/** Why a compensation case cannot run against `adapter`, if it cannot (each reason is shown by jest). */
function compensationSkip(
  adapter: ConformanceAdapter,
  can: ReadonlySet<string>,
  c: CompensationCase,
): { skip?: string } {
  const key = `${c.chain}:${c.kind}`;
  if (!(can.has(c.kind) && can.has(c.compensation)))
    return { skip: `compiler/providers.ts: ${adapter.provider} has no ${c.kind} or ${c.compensation}` };
  if (c.chain === 'failover' && c.kind === 'restore' && adapter.recoversInPlace)
    return {
      skip: `${adapter.name} recovers in place: a failover's restore finds the promoted replica, which nothing deletes`,
    };
  if (adapter.observes?.[key] !== undefined)
    return { skip: `${adapter.name} only observes ${c.kind} in the ${c.chain} chain: ${adapter.observes[key]}` };
  if (adapter.undoesInexactly?.[key] !== undefined)
    return { skip: `${adapter.name} cannot undo ${c.kind} exactly: ${adapter.undoesInexactly[key]}` };
  return {};
}

export function checksFor(adapter: ConformanceAdapter): Check[] {
  const can = PROVIDER_CAPABILITIES[adapter.provider];
  const lacks = (hook: string, present: unknown) => (present ? {} : { skip: `the adapter has no ${hook}` });
  return [
    {
      id: 'test-chain-idempotent',
      title: 'every operation of the test chain is idempotent: twice, one effect, the second changed: false',
      run: testChainIdempotent,
    },
    {
      id: 'failover-idempotent',
      title: 'failover operations (shutdown, fence, final sync, promote, restore, powerOn) are idempotent',
      run: failoverIdempotent,
    },
    {
      id: 'transient-fault-retried',
      title: 'retried after a transient fault: a retryable ProviderError, then the retry succeeds with one effect',
      ...lacks('injectTransientFault', adapter.injectTransientFault),
      run: transientFaultRetried,
    },
    {
      id: 'cancelled-cleanly',
      title: `cancelled cleanly: an aborted operation rejects within ${PROMPT_MS} ms, and a retry completes it with one effect`,
      ...lacks('slowOperation', adapter.slowOperation),
      run: cancelledCleanly,
    },
    ...COMPENSATION_CASES.map((c): Check => ({
      id: 'compensations-undo',
      title: `compensations undo exactly: ${c.kind} (${c.chain} chain) then ${c.compensation} leaves the inventory as before`,
      ...compensationSkip(adapter, can, c),
      run: (s) => compensationUndoes(s, c),
    })),
    {
      id: 'test-cleanup-no-residue',
      title: 'test then cleanup leaves no residue: the inventory is deep-equal to before',
      run: testCleanupNoResidue,
    },
    {
      id: 'site-unreachable',
      title: 'an unreachable site fails as SiteUnreachable, retryable; once it is back the operation succeeds',
      ...lacks('reachability', adapter.reachability),
      run: siteUnreachable,
    },
  ];
}

/** One check on a fresh fixture, torn down whatever happens. */
export async function runCheck<F extends Fixture>(adapter: ConformanceAdapter<F>, check: Check): Promise<void> {
  const fx = await adapter.setup();
  try {
    await check.run(new Session<Fixture>(adapter, fx, `conformance-${check.id}`));
  } finally {
    await adapter.teardown(fx);
  }
}
