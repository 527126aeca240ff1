/**
 * The runbook as written (after YAML parsing), typed after `schemas/runbook.schema.json`.
 * Semantic checks also run on runbooks that failed the schema, so they must not trust these types
 * blindly: they read through `list()` and check `typeof` before use.
 */
import type { Mode } from './plan';

export type Duration = string;
export type ActionName =
  | 'preCheck'
  | 'sync'
  | 'shutdown'
  | 'finalSync'
  | 'fence'
  | 'promote'
  | 'snapshot'
  | 'restore'
  | 'network'
  | 'powerOn'
  | 'waitReady'
  | 'validate'
  | 'powerOff'
  | 'deleteCopy'
  | 'removeSnapshot'
  | 'reverseReplication'
  | 'testNetwork';

export interface RetrySpec {
  maxAttempts?: number;
  initialInterval?: Duration;
  backoffCoefficient?: number;
  maxInterval?: Duration;
  nonRetryableErrors?: string[];
}

export interface StepPolicy {
  timeout?: Duration;
  retry?: RetrySpec;
  onFailure?: 'abort' | 'continue' | 'pause';
  estimate?: Duration;
}

export interface Defaults {
  timeout?: Duration;
  retry?: RetrySpec;
  onFailure?: 'abort' | 'continue' | 'pause';
  estimates?: Partial<Record<ActionName, Duration>>;
}

export interface HttpSpec {
  method?: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  expectStatus?: number[];
  expectBody?: string;
}

export interface CommandSpec {
  argv: string[];
  cwd?: string;
  env?: Record<string, string>;
  expectExitCode?: number;
}

export interface ApprovalSpec {
  approvers: string[];
  required?: number;
  timeout?: Duration;
  onTimeout?: 'reject' | 'approve';
  message?: string;
}

export interface CustomStep extends StepPolicy {
  name: string;
  description?: string;
  at?: string;
  modes?: Mode[];
  site?: 'protected' | 'recovery';
  dependsOn?: string[];
  command?: CommandSpec;
  http?: HttpSpec;
  prompt?: { message: string; timeout?: Duration };
  approval?: ApprovalSpec;
  wait?: { duration: Duration };
  compensation?: 'none' | { command?: CommandSpec; http?: HttpSpec; timeout?: Duration; retry?: RetrySpec };
}

export interface Validation {
  name?: string;
  tcp?: { host?: string; port: number };
  http?: HttpSpec;
  command?: CommandSpec;
  sql?: { query: string; expectRows?: number };
  timeout?: Duration;
}

export interface Objectives {
  rpo: Duration;
  rto: Duration;
}

export interface Workload {
  name: string;
  type?: 'vm' | 'database' | 'application';
  description?: string;
  dependsOn?: string[];
  objectives?: Objectives;
  powerOn?: boolean;
  quiesce?: boolean;
  readiness?: { type?: 'heartbeat' | 'tools' | 'port' | 'none'; port?: number; timeout?: Duration };
  network?: {
    map?: Record<string, string>;
    ip?: { address: string; gateway?: string; dns?: string[] };
  };
  validations?: Validation[];
  steps?: CustomStep[];
  defaults?: Defaults;
  actions?: Partial<Record<ActionName, StepPolicy>>;
  simulator?: Record<string, unknown>;
  postgres?: Record<string, unknown>;
  vsphere?: Record<string, unknown>;
}

export interface Group {
  name: string;
  description?: string;
  priority?: number;
  dependsOn?: string[];
  defaults?: Defaults;
  steps?: CustomStep[];
  workloads: Workload[];
}

export interface Site {
  name: string;
  provider: 'simulator' | 'postgres' | 'vsphere';
  connection?: Record<string, unknown>;
  taskQueue?: string;
  testNetwork?: string;
  maxParallel?: number;
}

export interface Fault {
  name?: string;
  operation?: ActionName | 'any';
  workload?: string;
  site?: 'protected' | 'recovery';
  effect: 'fail' | 'fail-always' | 'hang' | 'site-down' | 'replication-lag' | 'storage-full';
  times?: number;
  lag?: Duration;
  message?: string;
}

export interface Runbook {
  apiVersion: string;
  kind: string;
  metadata: { name: string; description?: string; owner?: string; labels?: Record<string, string> };
  objectives: Objectives;
  defaults?: Defaults;
  maxParallel?: number;
  sites: { protected: Site; recovery: Site };
  steps?: CustomStep[];
  groups: Group[];
  commit?: { timeout: Duration; onTimeout?: 'commit' | 'rollback' };
  simulation?: {
    seed?: number;
    latency?: Partial<Record<ActionName | 'default', Duration>>;
    recoveryPointAge?: Duration;
    faults?: Fault[];
  };
}

/** `value` if it is an array, else an empty one: semantic checks run on unvalidated input too. */
export function list<T>(value: T[] | undefined | unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
