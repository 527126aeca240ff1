/**
 * The runbook as written, generated from schemas/runbook.schema.json by `npm run generate:types`
 * (tools/generate-types.ts): do not edit. compiler/runbook.ts re-exports these types under the names the
 * code uses, with what the schema cannot say.
 */

/**
 * A name: lower-case letters, digits and dashes (like a DNS label), at most 63 characters.
 *
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "name".
 */
export type Name = string;
/**
 * A duration: days, hours, minutes, seconds, milliseconds, largest first, e.g. `90s`, `15m`, `1h30m`, `2d`.
 *
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "duration".
 */
export type Duration = string;
/**
 * What the run does when the step has failed every attempt: `abort` stops and compensates (undoes) what was done, in reverse; `continue` records the failure and goes on; `pause` waits for a person to retry or skip the step.
 *
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "onFailure".
 */
export type OnFailure = 'abort' | 'continue' | 'pause';
/**
 * One of the two sites: the infrastructure its provider drives, and the worker that reaches it.
 *
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "site".
 */
export type Site = {
  name: Name;
  /**
   * Which kind of infrastructure runs this site.
   */
  provider: 'simulator' | 'postgres' | 'vsphere';
  /**
   * How the worker reaches the site; the keys depend on the provider. Secrets by reference only.
   */
  connection?: {
    [k: string]: unknown;
  };
  /**
   * Task queue of the worker that can reach this site. Default `drover-<site name>`.
   */
  taskQueue?: string;
  /**
   * Isolated network that test mode recovers into. Default `drover-test`.
   */
  testNetwork?: string;
  /**
   * Most steps running at once on this site.
   */
  maxParallel?: number;
};
/**
 * Names of workloads or groups that must be recovered first. Any priority, any group: together they form one graph.
 *
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "dependsOn".
 */
export type DependsOn = Name[];
/**
 * An http:// or https:// URL, or an `env:NAME` / `file:path` reference to one, read on the worker. In a validation, `{guest}` as the host stands for the recovered VM's address.
 *
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "httpUrl".
 */
export type HttpUrl = string;
/**
 * A host: a DNS name (`db1.example.com`, `localhost`), an IPv4 address (`127.0.0.1`) or an IPv6 address (`::1`), without brackets.
 *
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "host".
 */
export type Host = string;
/**
 * A secret, by reference only: `env:NAME` reads an environment variable of the worker, `file:path` reads a file on the worker. Never the secret itself.
 *
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "secret".
 */
export type Secret = string;
/**
 * A value read on the worker: `env:NAME` from an environment variable, `file:path` from a file.
 *
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "reference".
 */
export type Reference = string;
/**
 * A value read on the worker from an environment variable: `env:NAME`.
 *
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "envReference".
 */
export type EnvReference = string;

/**
 * A disaster-recovery runbook: sites, protection groups, workloads, their recovery order and custom steps.
 */
export interface Runbook {
  apiVersion: 'drover.dev/v1';
  kind: 'RecoveryPlan';
  metadata: {
    name: Name;
    description?: string;
    owner?: string;
    labels?: {
      [k: string]: string;
    };
  };
  objectives: Objectives;
  defaults?: Defaults;
  /**
   * People who may sign their approvals: name → Ed25519 public key. An approval step whose approvers all have a key requires signed decisions (`drover approve --key`) unless it says `signatures: optional`.
   */
  approvers?: {
    [k: string]: {
      /**
       * The approver's Ed25519 public key, PEM (`openssl pkey -in alice.pem -pubout`). Public: it belongs in git.
       */
      publicKey: string;
    };
  };
  /**
   * Most steps running at once in the whole run. Default 100.
   */
  maxParallel?: number;
  sites: {
    protected: Site;
    recovery: Site;
  };
  /**
   * Plan-level custom steps.
   */
  steps?: CustomStep[];
  /**
   * @minItems 1
   */
  groups: Group[];
  /**
   * Failover modes (planned-migration, disaster-recovery, failback) end in a commit window, as Zerto does: the recovered workloads run while people check them, then `drover commit` or `drover rollback`. Without this block the window waits for a person; with it, the run commits or rolls back by itself after `timeout`.
   */
  commit?: {
    timeout: Duration;
    /**
     * What happens when nobody decided within the timeout. Default `commit`: a recovery is never undone unless someone asks.
     */
    onTimeout?: 'commit' | 'rollback';
  };
  /**
   * Who hears how a run goes while it runs: webhooks that receive the run's start, each wait for a person (with the command that answers it), a step that failed or paused, the RTO at risk (elapsed time plus the rest of the critical path passes the objective), and the end. Sent from activities with retries; a notification that cannot be delivered never holds up the recovery.
   *
   * @minItems 1
   */
  notify?: NotifyTarget[];
  /**
   * How the simulated site behaves in a drill: latency per operation and injected faults, reproducible from a seed.
   */
  simulation?: {
    seed?: number;
    latency?: {
      default?: Duration;
      preCheck?: Duration;
      sync?: Duration;
      shutdown?: Duration;
      finalSync?: Duration;
      fence?: Duration;
      promote?: Duration;
      snapshot?: Duration;
      restore?: Duration;
      network?: Duration;
      powerOn?: Duration;
      waitReady?: Duration;
      validate?: Duration;
      powerOff?: Duration;
      deleteCopy?: Duration;
      removeSnapshot?: Duration;
      reverseReplication?: Duration;
      testNetwork?: Duration;
    };
    recoveryPointAge?: Duration;
    faults?: {
      name?: string;
      operation?:
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
        | 'testNetwork'
        | 'any';
      workload?: string;
      site?: 'protected' | 'recovery';
      effect: 'fail' | 'fail-always' | 'hang' | 'site-down' | 'replication-lag' | 'storage-full';
      /**
       * With `fail`: how many attempts fail before one succeeds.
       */
      times?: number;
      lag?: Duration;
      message?: string;
    }[];
  };
}
/**
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "objectives".
 */
export interface Objectives {
  rpo: Duration;
  rto: Duration;
}
/**
 * Defaults for every step below this level; a lower level overrides them.
 *
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "defaults".
 */
export interface Defaults {
  timeout?: Duration;
  retry?: Retry;
  onFailure?: OnFailure;
  /**
   * Expected duration of each built-in action, for the critical-path estimate.
   */
  estimates?: {
    preCheck?: Duration;
    sync?: Duration;
    shutdown?: Duration;
    finalSync?: Duration;
    fence?: Duration;
    promote?: Duration;
    snapshot?: Duration;
    restore?: Duration;
    network?: Duration;
    powerOn?: Duration;
    waitReady?: Duration;
    validate?: Duration;
    powerOff?: Duration;
    deleteCopy?: Duration;
    removeSnapshot?: Duration;
    reverseReplication?: Duration;
    testNetwork?: Duration;
  };
}
/**
 * How a failed step is retried (a Temporal retry policy).
 *
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "retry".
 */
export interface Retry {
  /**
   * Attempts in all, the first included. 1 means no retry.
   */
  maxAttempts?: number;
  initialInterval?: Duration;
  /**
   * Each wait is the previous one times this.
   */
  backoffCoefficient?: number;
  maxInterval?: Duration;
  /**
   * Error types that fail the step at once, without retry (e.g. `StorageFull`).
   */
  nonRetryableErrors?: string[];
}
/**
 * A custom step (SRM's callout). Give exactly one action: `command`, `http`, `prompt`, `approval` or `wait`.
 *
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "customStep".
 */
export interface CustomStep {
  name: Name;
  description?: string;
  /**
   * When the step runs: `before` or `after` its level (plan, group or workload); at workload level also before or after one action, e.g. `before-powerOn`, `after-validate`. Default `before`.
   */
  at?: string;
  /**
   * Modes the step runs in. Default: test, planned-migration, disaster-recovery, failback.
   *
   * @minItems 1
   */
  modes?: (
    'test' | 'cleanup' | 'planned-migration' | 'disaster-recovery' | 'reprotect' | 'failback' | 'tabletop' | 'readiness'
  )[];
  /**
   * Which site's worker runs it. Default: recovery.
   */
  site?: 'protected' | 'recovery';
  dependsOn?: DependsOn;
  command?: CommandSpec;
  http?: HttpSpec;
  prompt?: {
    message: string;
    timeout?: Duration;
  };
  approval?: {
    /**
     * People (or identities) allowed to approve.
     *
     * @minItems 1
     */
    approvers: string[];
    /**
     * How many distinct approvers must approve (N of M).
     */
    required?: number;
    timeout?: Duration;
    /**
     * What a timeout means: `reject` fails the step, `approve` lets the run go on (recorded as such).
     */
    onTimeout?: 'reject' | 'approve';
    message?: string;
    /**
     * `required` (the default when every approver has a key in `approvers`): a decision counts only with a valid signature. `optional`: unsigned decisions count too; a signature given is still verified.
     */
    signatures?: 'required' | 'optional';
  };
  wait?: {
    duration: Duration;
  };
  /**
   * How to undo this step when a later step fails or the run is cancelled: a `command` or `http` action, or `none` when there is nothing to undo.
   */
  compensation?:
    | 'none'
    | {
        command?: CommandSpec;
        http?: HttpSpec;
        timeout?: Duration;
        retry?: Retry;
      };
  timeout?: Duration;
  retry?: Retry;
  onFailure?: OnFailure;
  estimate?: Duration;
}
/**
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "commandSpec".
 */
export interface CommandSpec {
  /**
   * Program and arguments, run directly without a shell: `[pg_isready, -h, db1]`.
   *
   * @minItems 1
   */
  argv: string[];
  cwd?: string;
  /**
   * Extra environment. Values may be `env:NAME` or `file:path` references.
   */
  env?: {
    [k: string]: string;
  };
  expectExitCode?: number;
  /**
   * Regular expressions (JavaScript syntax) whose matches are replaced by `[redacted]` in the output kept in history and reports, and in a failure's message. Values of `env:`/`file:` references in `env` are always masked.
   */
  redact?: string[];
}
/**
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "httpSpec".
 */
export interface HttpSpec {
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: HttpUrl;
  /**
   * Request headers. A value `env:NAME` or `file:path` is read on the worker; credentials (Authorization, tokens) must be given that way.
   */
  headers?: {
    [k: string]: string;
  };
  /**
   * Request body: a string, or an object sent as JSON.
   */
  body?: unknown;
  /**
   * Accepted status codes. Default: any 2xx.
   *
   * @minItems 1
   */
  expectStatus?: number[];
  /**
   * A substring the response body must contain.
   */
  expectBody?: string;
}
/**
 * A protection group: workloads replicated and recovered together.
 *
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "group".
 */
export interface Group {
  name: Name;
  description?: string;
  /**
   * SRM priority group, 1 first. Every workload of priority N is up before any of priority N+1 powers on. Optional: without it only `dependsOn` orders the group.
   */
  priority?: number;
  dependsOn?: DependsOn;
  defaults?: Defaults;
  steps?: CustomStep[];
  /**
   * @minItems 1
   */
  workloads: Workload[];
}
/**
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "workload".
 */
export interface Workload {
  name: Name;
  type?: 'vm' | 'database' | 'application';
  description?: string;
  dependsOn?: DependsOn;
  objectives?: Objectives;
  /**
   * Power the workload on after recovery.
   */
  powerOn?: boolean;
  /**
   * Application-consistent snapshot (quiesce the guest first).
   */
  quiesce?: boolean;
  readiness?: {
    type?: 'heartbeat' | 'tools' | 'port' | 'none';
    port?: number;
    timeout?: Duration;
  };
  network?: {
    /**
     * Protected network name → recovery network name.
     */
    map?: {
      [k: string]: string;
    };
    /**
     * The recovered workload's address: `address` (IPv4 or IPv6, with or without a prefix length), `gateway` and `dns` servers of the same network.
     */
    ip?: {
      /**
       * IPv4 or IPv6 address, with or without a prefix length: `10.20.1.11/24`, `10.20.1.11`, `fd00:20::11/64`.
       */
      address: string;
      /**
       * Default gateway: an IPv4 or IPv6 address, without prefix length.
       */
      gateway?: string;
      /**
       * DNS servers: IPv4 or IPv6 addresses.
       */
      dns?: string[];
    };
  };
  validations?: Validation[];
  steps?: CustomStep[];
  defaults?: Defaults;
  /**
   * Per-action overrides of timeout, retry, onFailure and estimate.
   */
  actions?: {
    preCheck?: StepPolicy;
    sync?: StepPolicy;
    shutdown?: StepPolicy;
    finalSync?: StepPolicy;
    fence?: StepPolicy;
    promote?: StepPolicy;
    snapshot?: StepPolicy;
    restore?: StepPolicy;
    network?: StepPolicy;
    powerOn?: StepPolicy;
    waitReady?: StepPolicy;
    validate?: StepPolicy;
    powerOff?: StepPolicy;
    deleteCopy?: StepPolicy;
    removeSnapshot?: StepPolicy;
    reverseReplication?: StepPolicy;
    testNetwork?: StepPolicy;
  };
  /**
   * The provider that recovers this workload, when it is not its sites' (e.g. `postgres` for a real PostgreSQL pair in a vSphere or simulator plan). Its steps still run on the site's task queue, so the worker serving each site must reach (for server-side operations: be on the host of) the workload's node there. Default: the site's provider.
   */
  provider?: 'simulator' | 'postgres' | 'vsphere';
  simulator?: {
    vm?: string;
    disksGb?: number;
  };
  postgres?: PostgresWorkload;
  vsphere?: VsphereWorkload;
}
/**
 * One check that the recovered workload works. Give exactly one of `tcp`, `http`, `command`, `sql`.
 *
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "validation".
 */
export interface Validation {
  name?: Name;
  tcp?: {
    host?: Host;
    port: number;
  };
  http?: HttpSpec;
  command?: CommandSpec;
  /**
   * A query run on the recovered database (the node, or the test copy in test mode) as `postgres.user`, in `postgres.database`; only for workloads the postgres provider recovers. `expect` compares the first column of the first row, as text (`null`: SQL NULL); `expectRows` the number of rows; give either, both, or neither (then the query must only succeed).
   */
  sql?: {
    /**
     * The SQL to run, e.g. `SELECT count(*) FROM orders WHERE created_at > now() - interval '1 day'`.
     */
    query: string;
    /**
     * What the first column of the first row must be, compared as text (`true`, `42`, `ok`), or `null` for SQL NULL.
     */
    expect?: string | number | boolean | null;
    /**
     * How many rows the query must return.
     */
    expectRows?: number;
  };
  timeout?: Duration;
}
/**
 * Timeout, retry, onFailure and estimate of one built-in action.
 *
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "stepPolicy".
 */
export interface StepPolicy {
  timeout?: Duration;
  retry?: Retry;
  onFailure?: OnFailure;
  estimate?: Duration;
}
/**
 * The workload's PostgreSQL pair: a primary and its streaming standby, one node per site role. Server operations (pg_ctl, pg_basebackup, pg_rewind) run on the worker serving the step's site, which must be on that node's host.
 *
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "postgresWorkload".
 */
export interface PostgresWorkload {
  /**
   * Database that SQL validations connect to.
   */
  database?: string;
  /**
   * Role Drover connects as: a name, or `env:NAME` / `file:path` read on the worker.
   */
  user?: string;
  password?: Secret;
  /**
   * Folder of the server binaries on the worker (absolute).
   */
  binDir?: string;
  /**
   * OS user that owns the data directories; server commands run as it.
   */
  osUser?: string;
  /**
   * WAL archive folder (absolute): a test copy's `restore_command` reads it, readiness checks its newest file against the RPO.
   */
  archive?: string;
  /**
   * The node at each site, by the site's role in the runbook.
   */
  nodes: {
    protected: PostgresNode;
    recovery: PostgresNode;
  };
  /**
   * The scratch copy test mode restores on the recovery site's worker: its own port on loopback and its own folder, no link to production. Required when the plan runs in test mode.
   */
  test?: {
    /**
     * Port the copy listens on (loopback only): not a node's.
     */
    port: number;
    /**
     * Absolute folder of the copy, deleted by cleanup: never a node's data directory, nor inside or around one.
     */
    dataDir: string;
    /**
     * `archive`: `baseBackup` plus the WAL archive, replayed to a point in time (`drover run --mode test --recovery-point <time>`, else as far as the archive goes); `standby`: a base backup of the standby, as it is now.
     */
    from?: 'archive' | 'standby';
    /**
     * `from: archive`: the base backup the WAL archive is replayed onto (an absolute folder, as pg_basebackup wrote it), e.g. one the customer's backups keep.
     */
    baseBackup?: string;
  };
}
/**
 * One PostgreSQL server of the pair.
 *
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "postgresNode".
 */
export interface PostgresNode {
  host: Host;
  port: number;
  /**
   * The server's data directory on its host: an absolute path.
   */
  dataDir: string;
}
/**
 * The workload's VM on vSphere sites.
 *
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "vsphereWorkload".
 */
export interface VsphereWorkload {
  /**
   * The production VM, at the protected site: its name or inventory path (`/dc1/vm/prod/orders-db`).
   */
  vm: string;
  /**
   * The replica (placeholder) VM at the recovery site, kept current by the replication engine: its name or inventory path.
   */
  replica: string;
  /**
   * Overrides the site's `datastore` for this workload.
   */
  datastore?: string;
  /**
   * Overrides the site's `folder` for this workload.
   */
  folder?: string;
  /**
   * Inventory path of a resource pool; overrides the site's `cluster` or `resourcePool` for this workload.
   */
  resourcePool?: string;
  /**
   * The VM's network adapters, in the VM's NIC order. With an address on any of them (or `dns`), recovery customizes the guest's network (the `network` action).
   *
   * @minItems 1
   */
  nics?: VsphereNic[];
  /**
   * The guest's DNS settings, applied with the network customization.
   */
  dns?: {
    /**
     * DNS servers, in order of preference.
     *
     * @minItems 1
     *
     * Items: An IPv4 or IPv6 address, not a name: the guest needs it to resolve names.
     */
    servers?: string[];
    /**
     * DNS search suffixes.
     *
     * @minItems 1
     *
     * Items: A DNS domain, e.g. `corp.example.com`.
     */
    suffixes?: string[];
  };
}
/**
 * One network adapter of the VM.
 *
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "vsphereNic".
 */
export interface VsphereNic {
  /**
   * Port group the NIC joins when the VM is recovered (planned migration, disaster recovery, failback).
   */
  network: string;
  ip?: Ipv4Spec;
  ipv6?: Ipv6Spec;
  /**
   * What differs in test mode.
   */
  test?: {
    /**
     * Port group in test mode. Default: the recovery site's `testNetwork`.
     */
    network?: string;
    ip?: Ipv4Spec;
    ipv6?: Ipv6Spec;
  };
}
/**
 * A static IPv4 address.
 *
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "ipv4Spec".
 */
export interface Ipv4Spec {
  /**
   * Address and prefix length (CIDR), e.g. `10.20.0.15/24`.
   */
  address: string;
  /**
   * Default gateway: an IPv4 address, without prefix length.
   */
  gateway?: string;
}
/**
 * A static IPv6 address.
 *
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "ipv6Spec".
 */
export interface Ipv6Spec {
  /**
   * Address and prefix length (CIDR), e.g. `fd00:20::15/64`.
   */
  address: string;
  /**
   * Default gateway: an IPv6 address, without prefix length.
   */
  gateway?: string;
}
/**
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "notifyTarget".
 */
export interface NotifyTarget {
  name: Name;
  url: HttpUrl;
  /**
   * `json`: Drover's event as a JSON object (event, run, plan, mode, text, and what the event is about). `slack`: a Slack-compatible message (`{"text": ...}`), which Slack, Mattermost, Rocket.Chat and Teams' Slack-compatible hooks accept.
   */
  format?: 'json' | 'slack';
  /**
   * Which events this target receives. Default: all of them.
   *
   * @minItems 1
   */
  events?: ('started' | 'waiting' | 'failed' | 'rto-at-risk' | 'finished')[];
  /**
   * Request headers. A value `env:NAME` or `file:path` is read on the worker; credentials must be given that way.
   */
  headers?: {
    [k: string]: string;
  };
}
/**
 * How the worker reaches a vCenter. Verify its certificate with exactly one of `thumbprint`, `caFile` or `insecure: true`.
 *
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "vsphereConnection".
 */
export interface VsphereConnection {
  /**
   * The vCenter SDK endpoint, e.g. `https://vcenter.example.com/sdk` (a port may follow the host), or `env:NAME`: the URL is read from an environment variable of the worker.
   */
  url: string;
  /**
   * The vCenter user, e.g. `drover@vsphere.local`: written here, or `env:NAME` / `file:path`, read on the worker.
   */
  username?: string;
  password?: Secret;
  /**
   * SHA-256 fingerprint of the vCenter certificate: 64 hex digits, colons between pairs allowed, any case (`openssl s_client -connect vcenter:443 </dev/null | openssl x509 -noout -fingerprint -sha256` prints it; not vCenter's SHA-1 thumbprint). Or `env:NAME` / `file:path`, read on the worker. Nothing is sent unless the certificate matches.
   */
  thumbprint?: string;
  /**
   * Path, on the worker, of a PEM file with the CA certificate(s) that signed the vCenter certificate.
   */
  caFile?: string;
  /**
   * `true`: the vCenter certificate is not verified (a lab, vcsim). Anyone on the path can then read the credentials: `drover validate` warns.
   */
  insecure?: boolean;
  /**
   * Datacenter in which names and inventory paths are looked up. Default: the only one.
   */
  datacenter?: string;
  /**
   * Cluster whose root resource pool the VMs Drover creates go into. Give this or `resourcePool`, not both.
   */
  cluster?: string;
  /**
   * Inventory path of the resource pool the VMs Drover creates go into, e.g. `/dc1/host/cluster1/Resources/dr`. Give this or `cluster`, not both.
   */
  resourcePool?: string;
  /**
   * Datastore for the VMs Drover creates; a workload's `vsphere.datastore` overrides it.
   */
  datastore?: string;
  /**
   * VM folder for the VMs Drover creates (test clones); a workload's `vsphere.folder` overrides it.
   */
  folder?: string;
  /**
   * Distributed switch on which the test network (`testNetwork`) port group is created.
   */
  dvSwitch?: string;
  requestTimeout?: Duration;
  shutdownTimeout?: Duration;
  /**
   * Hooks into the replication engine that keeps the replica VMs current; Drover does not replicate VMs itself. All optional: an engine that replicates on its own needs no hook. A step uses the hooks and key of the site it runs on, else the other site's.
   */
  replication?: {
    sync?: ReplicationHook;
    reverse?: ReplicationHook;
    /**
     * extraConfig key the engine stamps on a replica VM with its recovery point (an ISO 8601 time). Without it, the recovery point is the time of the replica's newest snapshot.
     */
    pointKey?: string;
  };
}
/**
 * One call into the replication engine: exactly one of `http` or `command`, written as in a custom step. An `http` hook without `body` sends `{ action, workload, sourceSite, sourceVm, targetSite, targetVm }` as JSON; a `command` gets them as `DROVER_HOOK_ACTION`, `DROVER_WORKLOAD`, `DROVER_SOURCE_SITE`, `DROVER_SOURCE_VM`, `DROVER_TARGET_SITE`, `DROVER_TARGET_VM`. It succeeds when the request gets an expected status, or the command exits with the expected code.
 *
 * This interface was referenced by `Runbook`'s JSON-Schema
 * via the `definition` "replicationHook".
 */
export interface ReplicationHook {
  http?: HttpSpec;
  command?: CommandSpec;
}
