/**
 * Step chains (workflows/chains.ts): which steps run in one activity, and how a chain that stopped short
 * hands its step back to Temporal's retries with the attempts and back-off the step would have had alone.
 * The chains running on a real server: test/integration/chains.test.ts.
 */
import { ActivityFailure, ApplicationFailure, CancelledFailure, TimeoutFailure } from '@temporalio/common';
import type { ChainProgress } from '../../contracts/activities';
import type { PlanStep, RetryPolicy } from '../../contracts/plan';
import {
  MAX_CHAIN,
  afterFirstTry,
  chainFrom,
  chainSummary,
  mayHaveRun,
  progressOf,
  retriedAfterChain,
  unregistered,
} from '../../workflows/chains';

/** Steps `id@site:kind` with their dependencies, in topological order. */
function graph(spec: [string, string[]][], exports: string[] = []) {
  const steps = spec.map(([key, dependsOn]) => {
    const [id, rest] = key.split('@') as [string, string];
    const [site, kind] = rest.split(':') as [string, string];
    return { id, site, kind, dependsOn, workload: id.split('/')[0] } as unknown as PlanStep;
  });
  const dependents = new Map<string, string[]>();
  for (const s of steps) for (const d of s.dependsOn) dependents.set(d, [...(dependents.get(d) ?? []), s.id]);
  const byId = new Map(steps.map((s) => [s.id, s]));
  const from = (id: string) =>
    chainFrom(byId.get(id)!, { byId, dependents, exports: new Set(exports) }).map((s) => s.id);
  return { from, steps };
}

const RETRY: RetryPolicy = {
  maximumAttempts: 3,
  initialIntervalMs: 2_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 60_000,
  nonRetryableErrorTypes: ['InvalidState'],
};

test("a chain follows a workload's steps at one site while each is the only dependent of the one before", () => {
  const { from } = graph([
    ['vm/sync@east:syncReplication', []],
    ['vm/restore@west:restore', ['vm/sync']],
    ['vm/powerOn@west:powerOn', ['vm/restore']],
    ['vm/waitReady@west:waitReady', ['vm/powerOn']],
    ['vm/validate@west:validate', ['vm/waitReady']],
  ]);
  // The sync runs at the other site: a chain of its own (alone).
  expect(from('vm/sync')).toEqual(['vm/sync']);
  expect(from('vm/restore')).toEqual(['vm/restore', 'vm/powerOn', 'vm/waitReady', 'vm/validate']);
});

test('a chain ends before a step with two dependencies, a fork, an export, a person, a promote', () => {
  const { from } = graph(
    [
      ['a/restore@west:restore', []],
      ['gate@west:barrier', []],
      ['a/powerOn@west:powerOn', ['a/restore', 'gate']],
      ['a/waitReady@west:waitReady', ['a/powerOn']],
      ['a/validate@west:validate', ['a/waitReady']],
      ['a/check@west:command', ['a/waitReady']],
      ['b/restore@west:restore', []],
      ['b/powerOn@west:powerOn', ['b/restore']],
      ['b/waitReady@west:waitReady', ['b/powerOn']],
      ['c/restore@west:restore', []],
      ['c/ok@west:approval', ['c/restore']],
      ['d/stop@west:command', []],
      ['d/promote@west:promote', ['d/stop']],
      ['d/powerOn@west:powerOn', ['d/promote']],
    ],
    ['b/powerOn'],
  );
  // a/restore has one dependent, but a/powerOn also waits for the gate.
  expect(from('a/restore')).toEqual(['a/restore']);
  // a/waitReady has two dependents: the chain ends with it.
  expect(from('a/powerOn')).toEqual(['a/powerOn', 'a/waitReady']);
  // Another execution waits for b/powerOn: it ends the chain, so its end is reported as it happens.
  expect(from('b/restore')).toEqual(['b/restore', 'b/powerOn']);
  expect(from('c/restore')).toEqual(['c/restore']);
  // A promote reads the failover's choices when it starts: it never joins a chain, nor continues one.
  expect(from('d/stop')).toEqual(['d/stop']);
  expect(from('d/promote')).toEqual(['d/promote']);
});

test(`a chain holds at most ${MAX_CHAIN} steps; the Web UI's summary names them`, () => {
  const spec: [string, string[]][] = Array.from({ length: 12 }, (_, i) => [
    `vm/c${i}@west:command`,
    i ? [`vm/c${i - 1}`] : [],
  ]);
  const { from, steps } = graph(spec);
  expect(from('vm/c0')).toHaveLength(MAX_CHAIN);
  expect(from('vm/c8')).toEqual(['vm/c8', 'vm/c9', 'vm/c10', 'vm/c11']);
  expect(chainSummary('shop', steps.slice(0, 3), 'west')).toBe('shop · vm/c0 → c1 → c2 @ west');
});

test("the tries left after a chain's first: one fewer, the back-off one step on; what is not retried", () => {
  // Alone: 2 s, then 4 s. After the chain's try, the workflow sleeps 2 s and the rest back off from 4 s.
  expect(afterFirstTry(RETRY)).toEqual({ ...RETRY, maximumAttempts: 2, initialIntervalMs: 4_000 });
  expect(afterFirstTry({ ...RETRY, maximumAttempts: 0 }).maximumAttempts).toBe(0);
  expect(afterFirstTry({ ...RETRY, maximumIntervalMs: 3_000 }).initialIntervalMs).toBe(3_000);

  const failed = (cause: Error) =>
    new ActivityFailure('failed', 'runSteps', '1', 'NON_RETRYABLE_FAILURE', undefined, cause);
  expect(retriedAfterChain(failed(ApplicationFailure.create({ type: 'SimulatedFault' })), RETRY)).toBe(true);
  expect(
    retriedAfterChain(failed(ApplicationFailure.create({ type: 'SimulatedFault' })), { ...RETRY, maximumAttempts: 1 }),
  ).toBe(false);
  expect(retriedAfterChain(failed(ApplicationFailure.create({ type: 'InvalidState' })), RETRY)).toBe(false);
  expect(retriedAfterChain(failed(ApplicationFailure.create({ type: 'X', nonRetryable: true })), RETRY)).toBe(false);
  expect(retriedAfterChain(failed(new TimeoutFailure(undefined, undefined, 'HEARTBEAT')), RETRY)).toBe(true);
  // Nobody picked the chain up: not retried, it fails as SiteUnserved.
  expect(retriedAfterChain(failed(new TimeoutFailure(undefined, undefined, 'SCHEDULE_TO_START')), RETRY)).toBe(false);
});

test("a chain's progress is read from its failure, its cancellation or its last heartbeat", () => {
  const done = [
    {
      stepId: 'vm/restore',
      kind: 'restore' as const,
      attempt: 1,
      changed: true,
      message: 'restored',
      startedAt: 1,
      endedAt: 2,
    },
  ];
  const progress: ChainProgress = { done, failed: 1, attempt: 1 };
  const failed = (cause: Error) =>
    new ActivityFailure('failed', 'runSteps', '1', 'NON_RETRYABLE_FAILURE', undefined, cause);
  expect(progressOf(failed(ApplicationFailure.create({ type: 'X', details: [progress] })))).toEqual(progress);
  expect(progressOf(failed(new CancelledFailure('cancelled', [{ done }])))).toEqual({ done });
  expect(progressOf(failed(new TimeoutFailure(undefined, { done }, 'HEARTBEAT')))).toEqual({ done });
  // A chain that never started (or a worker that never heartbeat): nothing is known done.
  expect(progressOf(failed(new TimeoutFailure(undefined, undefined, 'SCHEDULE_TO_START')))).toBeUndefined();
  expect(progressOf(failed(ApplicationFailure.create({ type: 'X', details: [{ attempt: 1 }] })))).toBeUndefined();
});

test('what a chain that ended early may have run past what it reported, and a worker without chains', () => {
  const failed = (cause: Error) =>
    new ActivityFailure('failed', 'runSteps', '1', 'NON_RETRYABLE_FAILURE', undefined, cause);
  // A step's own failure is reported with the steps before it: nothing else ran.
  expect(mayHaveRun(failed(ApplicationFailure.create({ type: 'SimulatedFault' })), 3)).toBe(0);
  // Its worker stopped it mid-step: that step may have run.
  expect(mayHaveRun(failed(ApplicationFailure.create({ type: 'ChainInterrupted' })), 3)).toBe(1);
  // Gone silent: its last heartbeat may be stale, any step left may have run.
  expect(mayHaveRun(failed(new TimeoutFailure(undefined, undefined, 'HEARTBEAT')), 3)).toBe(3);
  expect(mayHaveRun(failed(new TimeoutFailure(undefined, undefined, 'SCHEDULE_TO_START')), 3)).toBe(0);
  expect(unregistered(failed(ApplicationFailure.create({ type: 'NotFoundError' })))).toBe(true);
  expect(unregistered(failed(ApplicationFailure.create({ type: 'SimulatedFault' })))).toBe(false);
});
