/**
 * The Plan: the contract between the compiler and the workflow that interprets it.
 *
 * Plain JSON only (no classes, no functions), so it travels as a Temporal payload and is recorded in
 * history. This module is pure and type-level, so workflow code may import it.
 * Durations are whole milliseconds.
 */

/** Bumped when the shape changes; the interpreter keeps replaying older versions (`patched()`). */
export const PLAN_VERSION = 1;

export const MODES = [
  'test',
  'cleanup',
  'planned-migration',
  'disaster-recovery',
  'reprotect',
  'failback',
  'tabletop',
  'readiness',
] as const;
export type Mode = (typeof MODES)[number];

/**
 * Modes that move production (SRM's recoveries): past their point of no return nothing is undone
 * automatically; they end in a commit window where a person commits or rolls back.
 */
export const FAILOVER_MODES: readonly Mode[] = ['planned-migration', 'disaster-recovery', 'failback'];

/** The barrier every promote waits for: every source stopped, fenced and (in a switchover) proved caught up. */
export const POINT_OF_NO_RETURN = 'plan/point-of-no-return';

export type ProviderName = 'simulator' | 'postgres' | 'vsphere';

/** Steps that act on infrastructure: each provider implements some of them (compiler/providers.ts). */
export const INFRASTRUCTURE_KINDS = [
  'preCheck',
  'syncReplication',
  'shutdown',
  'snapshot',
  'restore',
  'customizeNetwork',
  'powerOn',
  'waitReady',
  'validate',
  'powerOff',
  'deleteCopy',
  'removeSnapshot',
  'reverseReplication',
  'createTestNetwork',
  'removeTestNetwork',
  /** Make the old source unable to take writes (power off, stop, demote); `unfence` undoes it on rollback. */
  'fence',
  'unfence',
  /** Make the replica the writable primary; `demote` turns it back into a replica on rollback. */
  'promote',
  'demote',
] as const;
export type InfraKind = (typeof INFRASTRUCTURE_KINDS)[number];

/** What a step does. Built-in infrastructure actions, custom actions, and plan structure. */
export type StepKind =
  | InfraKind
  | 'command'
  | 'http'
  | 'prompt'
  | 'approval'
  | 'wait'
  /** Does nothing; joins many dependencies into one, so a priority or group needs O(n) edges, not O(n²). */
  | 'barrier'
  /** Tabletop: a person confirms the step they would have done (`params.action`). */
  | 'confirm';

export type OnFailure = 'abort' | 'continue' | 'pause';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface RetryPolicy {
  maximumAttempts: number;
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  nonRetryableErrorTypes: string[];
}

export interface Compensation {
  kind: StepKind;
  params: JsonObject;
  timeoutMs: number;
  retry: RetryPolicy;
}

export interface PlanStep {
  /** Stable id: `<workload>/<action>`, `<group>/<custom step>`, `plan/<custom step>`, `priority-1/done`. */
  id: string;
  kind: StepKind;
  /** Name of the site (in `Plan.sites`) whose worker runs the step. */
  site: string;
  workload?: string;
  group?: string;
  dependsOn: string[];
  params: JsonObject;
  timeoutMs: number;
  retry: RetryPolicy;
  onFailure: OnFailure;
  /** Expected duration, for the critical-path estimate. */
  estimateMs: number;
  compensation?: Compensation;
  /**
   * Past the point of no return (failover modes): the step depends on a promote. When the run stops it
   * is kept as it is, never compensated automatically; only `drover rollback` undoes it.
   */
  recovery?: true;
  /** Where in the runbook the step comes from (1-based). */
  source: { line: number; column: number };
}

export interface PlanSite {
  name: string;
  /** The site's role in the runbook; in failback the recovery site is where workloads run now. */
  role: 'protected' | 'recovery';
  provider: ProviderName;
  taskQueue: string;
  testNetwork: string;
  maxParallel: number;
  connection: JsonObject;
}

export interface PlanWorkload {
  name: string;
  group: string;
  type: 'vm' | 'database' | 'application';
  priority?: number;
  objectives?: { rpoMs: number; rtoMs: number };
}

export interface SimulatedFault {
  name?: string;
  operation: StepKind | 'any';
  workload?: string;
  site?: string;
  effect: 'fail' | 'fail-always' | 'hang' | 'site-down' | 'replication-lag' | 'storage-full';
  times?: number;
  lagMs?: number;
  message?: string;
}

export interface Simulation {
  seed: number;
  latencyMs: { default: number } & Partial<Record<StepKind, number>>;
  recoveryPointAgeMs: number;
  faults: SimulatedFault[];
}

export interface Plan {
  planVersion: typeof PLAN_VERSION;
  name: string;
  mode: Mode;
  description?: string;
  owner?: string;
  labels: Record<string, string>;
  source: { file: string; sha256: string; gitCommit?: string };
  objectives: { rpoMs: number; rtoMs: number };
  maxParallel: number;
  /** Where workloads run now and where they come back, for this mode (failback swaps them). */
  from: string;
  to: string;
  sites: Record<string, PlanSite>;
  workloads: PlanWorkload[];
  /** Topologically ordered: every step comes after the steps it depends on. */
  steps: PlanStep[];
  criticalPath: { stepIds: string[]; estimateMs: number; rtoMs: number; exceedsRto: boolean };
  simulation?: Simulation;
  /** Failover modes: the commit window the run ends in (Zerto's). `timeoutMs` 0 waits for a person. */
  commit?: { timeoutMs: number; onTimeout: 'commit' | 'rollback' };
  /** Webhooks told how the run goes; every field filled in (`events`: the ones this target receives). */
  notify?: PlanNotifyTarget[];
  /** sha256 of this plan's canonical JSON without `planHash` and `source.gitCommit`: the content only. */
  planHash: string;
  /**
   * Only on a large plan's skeleton (compiler/partition.ts): `steps` then holds the root's steps only, and
   * each shard's steps run in a child workflow that compiles its own slice. `planHash` is the whole plan's.
   */
  partition?: Partition;
}

/** Events a `notify` target can receive (schema: notifyTarget.events). */
export type NotifyEvent = 'started' | 'waiting' | 'failed' | 'rto-at-risk' | 'finished';

export interface PlanNotifyTarget {
  name: string;
  /** As the runbook gives it: a URL, or an `env:`/`file:` reference resolved by the activity that sends. */
  url: string;
  format: 'json' | 'slack';
  events: NotifyEvent[];
  headers: Record<string, string>;
}

/** Every event a notify target can receive, in the order a run has them. */
export const NOTIFY_EVENTS: readonly NotifyEvent[] = ['started', 'waiting', 'failed', 'rto-at-risk', 'finished'];

/** At most this many activities are running or scheduled at once in one workflow execution. */
export const MAX_PENDING_PER_EXECUTION = 500;

/** Concurrency slots one execution may use: of the plan's `maxParallel`, and of each site's. */
export interface Budget {
  plan: number;
  sites: Record<string, number>;
}

/** One child workflow's part of a large plan. */
export interface ShardSpec {
  index: number;
  /** Groups whose group-level steps it runs (its workloads may come from more groups when one is split). */
  groups: string[];
  workloads: number;
  steps: number;
  activitySteps: number;
  /** Steps it depends on that another execution runs. */
  imports: string[];
  /** Its steps that another execution depends on. */
  exports: string[];
  /**
   * What the shard cannot see of the plan's longest paths, to start its ready steps by (workflows/engine.ts),
   * over the whole plan by estimates: for each export, the longest chain from its start to the plan's end;
   * for each import, the longest chain from the plan's start to its end.
   */
  paths?: ShardPaths;
  budget: Budget;
}

export interface ShardPaths {
  exportsToEndMs: Record<string, number>;
  importsFromStartMs: Record<string, number>;
}

/** How a large plan is split across one root execution and child executions (compiler/partition.ts). */
export interface Partition {
  /** Activity steps per shard aimed at. */
  shardSize: number;
  root: { steps: number; activitySteps: number; imports: string[]; exports: string[]; budget: Budget };
  shards: ShardSpec[];
  /** For each exported step, the executions that import it: shard indexes, -1 for the root. */
  importers: Record<string, number[]>;
  /** Which shard runs each workload's steps, and each group's own steps. */
  workloadShard: Record<string, number>;
  groupShard: Record<string, number>;
  /** People-facing steps (approval, prompt, confirm) run by shards, so the root can check and route decisions. */
  people: { id: string; kind: StepKind; shard: number; approvers?: string[] }[];
}
