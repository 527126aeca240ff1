/**
 * What the provider conformance suite (suite.ts) needs from a provider: one adapter per provider.
 *
 * To add a provider: write `<provider>.adapter.ts` exporting a `ConformanceAdapter`, and a two-line
 * `<provider>.test.ts` that calls `describeConformance(adapter)` (see simulator.test.ts). Hooks an adapter
 * leaves out turn their checks into skipped tests, named in jest's output; every other check must pass.
 */
import type { InfraKind, JsonObject, PlanSite, ProviderName, Simulation } from '../../contracts/plan';
import type { OperationContext, Provider } from '../../providers/types';

/** One workload the suite recovers, as the runbook describes it (the suite builds params as compiler/expand.ts does). */
export interface WorkloadUnderTest {
  /** `params.workload`. */
  name: string;
  /** `params.type`; default `vm`. */
  type?: 'vm' | 'database' | 'application';
  /** `params.settings`: the workload's block for this provider (`simulator:`, `vsphere:`, `postgres:`). */
  settings?: JsonObject;
  /** The runbook's generic `network:` block: `params.networkMapping` of customizeNetwork. */
  network?: JsonObject;
  /** Whether the chain has customizeNetwork (compiler/modes.ts `remapsNetwork`); default: `network` is given. */
  customizesNetwork?: boolean;
  /** `params.quiesce` of snapshot. */
  quiesce?: boolean;
  /** The runbook's `readiness:` block (waitReady's `params.readiness`, after `type: heartbeat`). */
  readiness?: JsonObject;
  /** The runbook's `validations:` (validate's `params.checks`). */
  validations?: JsonObject[];
}

/** One estate, fresh for one check: the provider and what it acts on. */
export interface Fixture {
  provider: Provider;
  /** Workloads run at `protected` and are replicated to `recovery` (whose `testNetwork` the test chain uses). */
  sites: { protected: PlanSite; recovery: PlanSite };
  /** At least one. */
  workloads: WorkloadUnderTest[];
  /** The `ctx.simulation` every call carries (the simulator's seed and latencies); none for real providers. */
  simulation?: Simulation;
  /**
   * The provider recovers the replica itself in a failover (vSphere: the promoted replica VM; PostgreSQL:
   * the promoted standby): `restore` in production finds it there (no effect) and its `deleteCopy` never
   * deletes it, so that pair has nothing to undo. The simulator copies, so it leaves this unset.
   */
  recoversInPlace?: boolean;
  /**
   * Steps the provider does by looking only, each with the reason, keyed `<chain>:<step>` (`test:snapshot`,
   * `failover:syncReplication (final)`, `failover:powerOn`): the suite holds them to `observe` (no effect,
   * `changed: false` when called again) and skips undoing them, naming the reason.
   */
  observes?: Record<string, string>;
}

/** One provider call the suite makes: `provider.operations[kind](params, ctx)` at `site`. */
export interface OperationCall {
  kind: InfraKind;
  site: PlanSite;
  params: JsonObject;
}

/**
 * What a hook changed in the operation's context rather than in the world (the simulator's faults and
 * latencies travel in `ctx.simulation`). It applies to the calls the suite makes while the hook's condition
 * holds: for `injectTransientFault`, the failing call and its retry (as a plan's simulation block applies to
 * every attempt); for `slowOperation`, the call to cancel; for `makeUnreachable`, until `makeReachable`.
 * Hooks that act on the world (stop a process, drop a connection) return nothing.
 */
export interface ContextPatch {
  simulation?: Simulation;
}

export type CheckId =
  | 'test-chain-idempotent'
  | 'failover-idempotent'
  | 'transient-fault-retried'
  | 'cancelled-cleanly'
  | 'compensations-undo'
  | 'test-cleanup-no-residue'
  | 'site-unreachable';

export interface ConformanceAdapter<F extends Fixture = Fixture> {
  /** See Fixture.recoversInPlace: the adapter's fixtures say the same. */
  recoversInPlace?: boolean;
  /** See Fixture.observes: the adapter's fixtures say the same. */
  observes?: Record<string, string>;
  /**
   * Steps whose compensation cannot give back the inventory before them, by the nature of the system, keyed
   * `<chain>:<kind>` with the reason (PostgreSQL cannot un-promote: a promote starts a new timeline). Their
   * compensation case is skipped, naming the reason; a README must say what the operator does instead.
   */
  undoesInexactly?: Record<string, string>;
  /** Shown in the suite's name: `provider conformance: <name>`. */
  name: string;
  /** Which provider this is: the chains hold only kinds compiler/providers.ts says it supports. */
  provider: ProviderName;
  /** Jest timeout of each hook and check (ms); default 60 s. */
  timeoutMs?: number;

  /** Once before every check of the file (start servers); `stop` once after. */
  start?(): Promise<void>;
  stop?(): Promise<void>;
  /**
   * Before each check: the estate as the runbook describes it before any run (each workload running at
   * the protected site, its replica at the recovery site, no test network, copies or snapshots).
   */
  setup(): Promise<F>;
  /** After each check, even a failed one: remove what `setup` made (temporary folders, processes). */
  teardown(fixture: F): Promise<void>;

  /**
   * Everything that exists at both sites, JSON-comparable: objects, their power and configuration. Without
   * times, counters and guest-reported status (a guest reports ready on its own after a power-on), so that
   * doing and undoing something gives back an equal value.
   */
  inventory(fixture: F): Promise<unknown>;
  /**
   * How many times the real side effect of `call.kind` happened so far to the call's target (the
   * workload at that site, or the site itself for test networks; for a sync, the replica it writes): the
   * suite compares counts before and after, to prove "twice, one effect". 0 for kinds with no side effect
   * (waitReady, validate, preCheck).
   */
  effects(fixture: F, call: OperationCall): Promise<number>;

  /** The next call of `call` fails once with a retryable ProviderError, before or after its effect; later calls succeed. */
  injectTransientFault?(fixture: F, call: OperationCall): Promise<ContextPatch | void>;
  /** The next call of `call` runs for seconds (≥ 5 s), so the suite can abort its `ctx.signal` mid-way. */
  slowOperation?(fixture: F, call: OperationCall): Promise<ContextPatch | void>;
  /**
   * Makes a site unreachable (its API answers nothing), then reachable again. The suite asks for neither
   * `inventory` nor `effects` in between, and always calls `makeReachable`, even when the check fails.
   */
  reachability?: {
    makeUnreachable(fixture: F, site: PlanSite): Promise<ContextPatch | void>;
    makeReachable(fixture: F, site: PlanSite): Promise<void>;
  };
}

/** The context of one call, as an activity builds it. */
export function contextFor(
  fixture: Fixture,
  site: PlanSite,
  options: { runId: string; attempt?: number; signal?: AbortSignal; patch?: ContextPatch | void },
): OperationContext {
  const { protected: east, recovery: west } = fixture.sites;
  const simulation = options.patch?.simulation ?? fixture.simulation;
  return {
    runId: options.runId,
    site,
    peer: site.name === east.name ? west : east,
    attempt: options.attempt ?? 1,
    heartbeat: () => undefined,
    signal: options.signal ?? new AbortController().signal,
    ...(simulation ? { simulation } : {}),
  };
}
