/**
 * The runbook as written (after YAML parsing), typed after `schemas/runbook.schema.json`.
 * Semantic checks also run on runbooks that failed the schema, so they must not trust these types
 * blindly: they read through `list()` and check `typeof` before use.
 */
import type { Mode, NotifyEvent, ProviderName } from './plan';

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
  /** Patterns whose matches are `[redacted]` in the kept output and failure messages. */
  redact?: string[];
}

export interface ApprovalSpec {
  approvers: string[];
  required?: number;
  timeout?: Duration;
  onTimeout?: 'reject' | 'approve';
  message?: string;
  signatures?: 'required' | 'optional';
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
  sql?: SqlValidation;
  timeout?: Duration;
}

/**
 * A query run on the recovered database (the node, or the test copy in test mode), as the workload's
 * `postgres.user`, in `postgres.database`. Without `expect` and `expectRows` it must only succeed.
 */
export interface SqlValidation {
  query: string;
  /** The first column of the first row, compared as text (`null`: it must be SQL NULL). */
  expect?: string | number | boolean | null;
  /** The number of rows the query returns. */
  expectRows?: number;
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
  /**
   * The provider that recovers this workload, when not its sites' (a PostgreSQL pair in a vSphere plan).
   * Its steps still run on the site's task queue; their params carry `provider`.
   */
  provider?: ProviderName;
  simulator?: Record<string, unknown>;
  postgres?: PostgresWorkload;
  vsphere?: VsphereWorkload;
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
  provider: ProviderName;
  /**
   * The keys depend on the provider: a `VsphereConnection` for `vsphere` (required there); none for
   * `postgres` (its nodes are per workload, `PostgresWorkload.nodes`).
   */
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
  /** People who sign their approvals: name → Ed25519 public key (PEM). */
  approvers?: Record<string, { publicKey: string }>;
  commit?: { timeout: Duration; onTimeout?: 'commit' | 'rollback' };
  notify?: NotifyTarget[];
  simulation?: {
    seed?: number;
    latency?: Partial<Record<ActionName | 'default', Duration>>;
    recoveryPointAge?: Duration;
    faults?: Fault[];
  };
}

/** A webhook told how a run goes (schema: notifyTarget). `url` and header values may be `env:`/`file:` references. */
export interface NotifyTarget {
  name: string;
  url: string;
  format?: 'json' | 'slack';
  events?: NotifyEvent[];
  headers?: Record<string, string>;
}

/**
 * A vSphere site's `connection` (the plan's `PlanSite.connection`). `url`, `username`, `password` and
 * `thumbprint` may be `env:NAME` / `file:path` references, resolved on the worker (`url` only `env:`).
 * TLS: exactly one of `thumbprint`, `caFile`, `insecure: true` (checked by the compiler, code `vsphere/tls`).
 */
export interface VsphereConnection {
  /** `https://host[:port]/sdk`, or `env:NAME`. */
  url: string;
  username?: string;
  /** A reference only: `env:NAME` or `file:path`. */
  password?: string;
  /** SHA-256 of the vCenter certificate: 64 hex digits, optionally `:`-separated pairs, any case; or a reference. */
  thumbprint?: string;
  /** Path on the worker of a PEM file with the CA that signed the vCenter certificate. */
  caFile?: string;
  /** `true`: the certificate is not verified (labs, vcsim); the compiler warns (`vsphere/insecure`). */
  insecure?: boolean;
  /** Datacenter that names and inventory paths are looked up in. Default: the only one. */
  datacenter?: string;
  /** Where created VMs run: a cluster's root resource pool, or (`resourcePool`) a pool's inventory path; not both. */
  cluster?: string;
  resourcePool?: string;
  /** Datastore for created VMs (overridden by `VsphereWorkload.datastore`). */
  datastore?: string;
  /** VM folder for created VMs, e.g. test clones (overridden by `VsphereWorkload.folder`). */
  folder?: string;
  /** Distributed switch on which the test network's port group is created. */
  dvSwitch?: string;
  /** Longest one vCenter API call may go unanswered before the site counts as unreachable. Default 30s. */
  requestTimeout?: Duration;
  /** How long a clean guest shutdown may take before the VM is powered off (default 5m). */
  shutdownTimeout?: Duration;
  replication?: VsphereReplication;
}

/**
 * The customer's replication engine, as seen from one site; Drover does not replicate VMs itself. All
 * optional (an engine that replicates on its own needs no hook); a step uses its own site's hooks and
 * key, else the other site's.
 */
export interface VsphereReplication {
  /** Called by each sync step (at the site replicated from) before the replica's recovery point is read. */
  sync?: ReplicationHook;
  /** Called by each reverse-replication step (reprotect) before the two VMs swap roles. */
  reverse?: ReplicationHook;
  /**
   * extraConfig key the engine stamps on a replica VM with its recovery point (ISO 8601 time). Without
   * it the recovery point is the time of the replica's newest snapshot.
   */
  pointKey?: string;
}

/**
 * One call into the replication engine: exactly one of the two, written as in a custom step (checked by
 * the compiler, code `step/action`).
 */
export type ReplicationHook = { http: HttpSpec; command?: never } | { command: CommandSpec; http?: never };

/** A workload's `vsphere:` block. */
export interface VsphereWorkload {
  /** The production VM at the protected site: name or inventory path. */
  vm: string;
  /** The replica (placeholder) VM at the recovery site, kept current by the replication engine. */
  replica: string;
  /** Overrides of the site's `datastore`, `folder` and `cluster` / `resourcePool`. */
  datastore?: string;
  folder?: string;
  resourcePool?: string;
  /** The VM's network adapters, in NIC order. */
  nics?: VsphereNic[];
  /** Guest DNS, applied with the network customization. */
  dns?: { servers?: string[]; suffixes?: string[] };
}

export interface VsphereNic {
  /** Port group the NIC joins on recovery (not test mode). */
  network: string;
  /** Static IPv4 address after recovery; without `ip` and `ipv6` the guest keeps its own settings. */
  ip?: IpSpec;
  /** Static IPv6 address after recovery. */
  ipv6?: IpSpec;
  /** Test mode: `network` defaults to the recovery site's `testNetwork`, `ip` / `ipv6` to the ones above. */
  test?: { network?: string; ip?: IpSpec; ipv6?: IpSpec };
}

/** A static address: `address` in CIDR form (`10.20.0.15/24`, `fd00:20::15/64`), `gateway` of the same family. */
export interface IpSpec {
  address: string;
  gateway?: string;
}

/**
 * A workload's `postgres:` block: a primary and its streaming standby, one node per site role. Server
 * operations (pg_ctl, pg_basebackup, pg_rewind) run on the worker that serves the step's site, so that
 * worker must be on the database host of its node.
 */
export interface PostgresWorkload {
  /** Database that SQL validations connect to. Default `postgres`. */
  database?: string;
  /** Role Drover connects as: a name, or an `env:` / `file:` reference. Default `postgres`. */
  user?: string;
  /** A reference only: `env:NAME` or `file:path`. */
  password?: string;
  /** Folder of the server binaries on the worker (absolute). Default `/usr/lib/postgresql/15/bin`. */
  binDir?: string;
  /** OS user that owns the data directories; server commands run as it. Default `postgres`. */
  osUser?: string;
  /** WAL archive folder (absolute): a test copy's `restore_command` reads it, readiness checks its newest file. */
  archive?: string;
  /** The node at each site, by the site's role in the runbook. */
  nodes: { protected: PostgresNode; recovery: PostgresNode };
  /** The scratch copy test mode restores (its own port on loopback, its own folder); required in test mode. */
  test?: PostgresTestCopy;
}

export interface PostgresNode {
  /** Hostname or IP address. */
  host: string;
  port: number;
  /** The node's data directory on its host: an absolute path. */
  dataDir: string;
}

export interface PostgresTestCopy {
  /** Port the copy listens on (loopback only); not a node's. */
  port: number;
  /** Absolute folder for the copy, removed by cleanup: never a node's data directory, nor inside or around one. */
  dataDir: string;
  /** `archive`: a base backup plus the WAL archive, to a point in time (default); `standby`: a base backup of the standby. */
  from?: 'archive' | 'standby';
  /** `from: archive`: the base backup (absolute folder, as pg_basebackup wrote it) that the WAL is replayed onto. */
  baseBackup?: string;
}

/** `value` if it is an array, else an empty one: semantic checks run on unvalidated input too. */
export function list<T>(value: T[] | undefined | unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
