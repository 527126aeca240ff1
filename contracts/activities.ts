/** What the workflow sends to a step's activity and gets back. Pure types: workflows import them. */
import type { JsonObject, Mode, PlanSite, Simulation, StepKind } from './plan';

export interface StepInput {
  /** The run's workflow id: injected faults count per run. */
  runId: string;
  stepId: string;
  kind: StepKind;
  params: JsonObject;
  site: PlanSite;
  /** The plan's other site, for replication. */
  peer: PlanSite;
  simulation?: Simulation;
  /** Tries of this step already made elsewhere (a chain's first try, workflows/chains.ts): attempts count on. */
  attemptsBefore?: number;
}

/**
 * A chain: consecutive steps of one workload at one site, each the only dependent of the one before, run as
 * one activity (`runSteps`) in order, each within its own timeout (0: none). Saves a round trip per step.
 */
export interface StepsInput {
  runId: string;
  site: PlanSite;
  peer: PlanSite;
  simulation?: Simulation;
  steps: { stepId: string; kind: StepKind; params: JsonObject; timeoutMs: number }[];
}

/** A chained step's outcome, with when it ran by the worker's clock. */
export interface ChainedOutcome extends StepOutcome {
  stepId: string;
  kind: StepKind;
  startedAt: number;
  endedAt: number;
}

/**
 * How far a chain got: the outcomes of the steps it finished, in order. In the heartbeat details while it
 * runs, and in the details of the failure that ends it (`failed`: the index of the step that failed).
 */
export interface ChainProgress {
  done: ChainedOutcome[];
  /** The step under way, and since when (heartbeats only): `drover status` shows it while the chain runs. */
  running?: { stepId: string; kind: StepKind; site: string; startedAt: number };
  failed?: number;
  /** The failing step's own attempt number (always 1: a chain is one try). */
  attempt?: number;
}

export interface StepOutcome {
  /** Which attempt succeeded (1 = first try). */
  attempt: number;
  changed: boolean;
  message: string;
  recoveryPointAt?: number;
  /** Captured output of a command, or an HTTP response's status and the start of its body. */
  output?: string;
  /** What the provider measured (positions, losses): a failover's promote reads its final sync's. */
  data?: JsonObject;
}

export interface CompileInput {
  runbook: string;
  mode: Mode;
  /** Activity steps per shard; a plan with more is split (compiler/partition.ts). */
  shardSize?: number;
  /** A drill: the scenario (`scenarios/<name>.yaml` next to the runbook), its seed, its private site. */
  scenario?: string;
  seed?: number;
  simulationDir?: string;
  /** Return this shard's slice of the plan, which must still have this hash. */
  shard?: number;
  planHash?: string;
}

/** What a drill is, as `prepareDrill` found it: recorded in the run record. */
export interface DrillSetup {
  planHash: string;
  scenario: string;
  description: string;
  file: string;
  seed: number;
  /** Scripted participants' answers, given as the drill starts. */
  answers: { step: string; by: string; decision: 'approve' | 'reject' | 'dismiss' }[];
}

/** Error types the activities raise (`ApplicationFailure.type`); runbooks may list them as non-retryable. */
export const ACTIVITY_ERRORS = {
  InvalidRunbook: 'the runbook does not compile; the failure carries its diagnostics',
  MissingSecret: 'an `env:` or `file:` secret reference cannot be resolved on the worker',
  CommandFailed: 'a command exited with an unexpected status',
  HttpFailed: 'an HTTP request failed or returned an unexpected status or body',
  UnknownProvider: 'no provider of that name is registered on this worker',
  PlanTooLarge: 'the compiled plan is too large for one run even split into shards (see docs/scale.md)',
  PlanChanged: 'the runbook changed on the worker while a shard of its run was starting',
} as const;
