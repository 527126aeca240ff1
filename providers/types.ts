/**
 * The provider contract: one adapter per kind of infrastructure, one function per capability.
 * Activities find the step's provider and call the function named by the step's kind.
 */
import type { InfraKind, JsonObject, PlanSite, ProviderName, Simulation } from '../contracts/plan';

export type { InfraKind } from '../contracts/plan';

export interface OperationContext {
  /** The run (workflow id): injected faults count per run. */
  runId: string;
  /** The site the step runs at. */
  site: PlanSite;
  /** The other site of the plan (replication's other end). */
  peer: PlanSite;
  attempt: number;
  simulation?: Simulation;
  /** Records progress; lets Temporal notice a dead worker and deliver cancellation. */
  heartbeat(details?: unknown): void;
  /** Aborted when the activity is cancelled or times out. */
  signal: AbortSignal;
}

export interface OperationResult {
  /** False when the target was already in the wanted state: a retried power-on of a running VM. */
  changed: boolean;
  message: string;
  /** For restores: when the recovery point used was taken (epoch ms), from which RPO is measured. */
  recoveryPointAt?: number;
  data?: JsonObject;
}

export type Operation = (params: JsonObject, ctx: OperationContext) => Promise<OperationResult>;

export interface Provider {
  readonly name: ProviderName;
  readonly operations: Partial<Record<InfraKind, Operation>>;
}
