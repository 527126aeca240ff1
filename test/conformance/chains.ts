/**
 * The calls the suite makes, with params built as compiler/expand.ts `builtinParams` builds them, in the
 * order compiler/modes.ts chains them: test, cleanup, and a planned migration (the failover chain).
 */
import { MODE_CHAINS } from '../../compiler/modes';
import type { InfraKind, JsonObject, PlanSite, StepKind } from '../../contracts/plan';
import { PROVIDER_CAPABILITIES } from '../../compiler/providers';
import type { Fixture, OperationCall, WorkloadUnderTest } from './adapter';

/**
 * What calling twice must give:
 * - `once`: the first call changes the target (one effect), the second finds it done (`changed: false`, none).
 * - `observe` (waitReady, validate): no effect either time, the second call `changed: false`.
 * - `refresh` (a sync while the source still takes writes): each call ships what was written since, so a
 *   second call may do work again; it must succeed, not move the recovery point back, and change no object.
 */
export type Idempotence = 'once' | 'observe' | 'refresh';

export interface Step extends OperationCall {
  /** For messages: `restore app-1 on drover-test at west`. */
  label: string;
  idempotence: Idempotence;
}

const OBSERVE: readonly InfraKind[] = ['waitReady', 'validate', 'preCheck'];

function step(fx: Fixture, kind: InfraKind, site: PlanSite, params: JsonObject, chain?: 'test' | 'failover'): Step {
  const what = typeof params.workload === 'string' ? `${params.workload} on ${String(params.network)}` : '';
  const inPlace = kind === 'restore' && params.network === 'production' && fx.recoversInPlace === true;
  const name = kind === 'syncReplication' && params.proveCaughtUp === true ? 'syncReplication (final)' : kind;
  const observed = chain !== undefined && fx.observes?.[`${chain}:${name}`] !== undefined;
  const idempotence: Idempotence =
    OBSERVE.includes(kind) || inPlace || observed
      ? 'observe'
      : kind === 'syncReplication' && params.proveCaughtUp !== true
        ? 'refresh'
        : 'once';
  return { kind, site, params, label: `${name} ${what ? `${what} ` : ''}at ${site.name}`, idempotence };
}

/** The params of a workload's step, as builtinParams makes them (`isolated`: test and cleanup copies). */
function workloadStep(
  fx: Fixture,
  w: WorkloadUnderTest,
  kind: InfraKind,
  role: 'source' | 'target',
  mode: 'test' | 'planned-migration',
  extra: JsonObject = {},
): Step {
  const isolated = mode === 'test';
  const site = role === 'source' ? fx.sites.protected : fx.sites.recovery;
  const params: JsonObject = { workload: w.name, type: w.type ?? 'vm' };
  if (w.settings) params.settings = w.settings;
  params.network = role === 'target' && isolated ? fx.sites.recovery.testNetwork : 'production';
  switch (kind) {
    case 'syncReplication':
      params.to = fx.sites.recovery.name;
      break;
    case 'promote':
      params.recoveryPoint = 'final-sync';
      break;
    case 'snapshot':
      params.quiesce = w.quiesce ?? false;
      break;
    case 'restore':
      params.recoveryPoint = isolated ? 'snapshot' : 'final-sync';
      break;
    case 'customizeNetwork':
      params.networkMapping = w.network ?? {};
      break;
    case 'waitReady':
      params.readiness = { type: 'heartbeat', ...(w.readiness ?? {}) };
      break;
    case 'validate':
      params.checks = w.validations ?? [];
      break;
  }
  return step(fx, kind, site, { ...params, ...extra }, mode === 'test' ? 'test' : 'failover');
}

const customizes = (w: WorkloadUnderTest) => w.customizesNetwork ?? w.network !== undefined;

/** Keeps the steps of kinds the compiler plans for this provider (compiler/providers.ts). */
function supported(fx: Fixture, steps: Step[]): Step[] {
  const can = PROVIDER_CAPABILITIES[fx.provider.name];
  return steps.filter((s) => can.has(s.kind));
}

export function testNetworkStep(fx: Fixture, kind: 'createTestNetwork' | 'removeTestNetwork'): Step {
  return step(fx, kind, fx.sites.recovery, { network: fx.sites.recovery.testNetwork });
}

/** One workload's test chain: sync, snapshot, restore, network, powerOn, waitReady, validate. */
export function testSteps(fx: Fixture, w: WorkloadUnderTest): Step[] {
  const t = (kind: InfraKind, role: 'source' | 'target' = 'target') => workloadStep(fx, w, kind, role, 'test');
  return supported(fx, [
    t('syncReplication', 'source'),
    t('snapshot'),
    t('restore'),
    ...(customizes(w) ? [t('customizeNetwork')] : []),
    t('powerOn'),
    t('waitReady'),
    t('validate'),
  ]);
}

/** The whole test chain: the test network, then each workload's steps. */
export function testChain(fx: Fixture): Step[] {
  return [
    ...supported(fx, [testNetworkStep(fx, 'createTestNetwork')]),
    ...fx.workloads.flatMap((w) => testSteps(fx, w)),
  ];
}

/** The cleanup chain: each test copy powered off and deleted, its snapshot removed, then the test network. */
export function cleanupChain(fx: Fixture): Step[] {
  const t = (w: WorkloadUnderTest, kind: InfraKind) => workloadStep(fx, w, kind, 'target', 'test');
  return supported(fx, [
    ...[...fx.workloads].reverse().flatMap((w) => [t(w, 'powerOff'), t(w, 'deleteCopy'), t(w, 'removeSnapshot')]),
    testNetworkStep(fx, 'removeTestNetwork'),
  ]);
}

/** A planned migration of one workload: sync, shutdown, fence, final sync, promote, restore, powerOn. */
export function failoverSteps(fx: Fixture, w: WorkloadUnderTest): Step[] {
  const m = (kind: InfraKind, role: 'source' | 'target', extra?: JsonObject) =>
    workloadStep(fx, w, kind, role, 'planned-migration', extra);
  return supported(fx, [
    m('syncReplication', 'source'),
    m('shutdown', 'source'),
    m('fence', 'source'),
    m('syncReplication', 'source', { proveCaughtUp: true }),
    m('promote', 'target'),
    m('restore', 'target'),
    m('powerOn', 'target'),
  ]);
}

/** The same step with another kind (a compensation acts on what its step acted on, with the same params). */
export function undoStep(fx: Fixture, s: Step, kind: InfraKind): Step {
  return step(fx, kind, s.site, s.params);
}

export interface CompensationCase {
  /** `snapshot/removeSnapshot`. */
  pair: string;
  /** Which chain, and which step of it (by kind; `restore` twice in a chain does not occur). */
  chain: 'test' | 'failover';
  kind: InfraKind;
  compensation: InfraKind;
}

/** Every compensation of compiler/modes.ts, plus the test network's (compiler/expand.ts). */
export const COMPENSATION_CASES: CompensationCase[] = [
  { chain: 'test', kind: 'createTestNetwork', compensation: 'removeTestNetwork' },
  { chain: 'test', kind: 'snapshot', compensation: 'removeSnapshot' },
  { chain: 'test', kind: 'restore', compensation: 'deleteCopy' },
  { chain: 'test', kind: 'powerOn', compensation: 'powerOff' },
  { chain: 'failover', kind: 'shutdown', compensation: 'powerOn' },
  { chain: 'failover', kind: 'fence', compensation: 'unfence' },
  { chain: 'failover', kind: 'promote', compensation: 'demote' },
  { chain: 'failover', kind: 'restore', compensation: 'deleteCopy' },
  { chain: 'failover', kind: 'powerOn', compensation: 'powerOff' },
].map((c) => ({ ...c, pair: `${c.kind}/${c.compensation}` }) as CompensationCase);

/** The `kind/compensation` pairs compiler/modes.ts declares: the cases above must cover each. */
export function declaredCompensations(): string[] {
  const pairs = new Set<string>(['createTestNetwork/removeTestNetwork']);
  for (const chain of Object.values(MODE_CHAINS))
    for (const t of chain) if (t.compensation) pairs.add(`${t.kind}/${t.compensation as StepKind}`);
  return [...pairs].sort();
}
