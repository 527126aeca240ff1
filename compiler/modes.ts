/**
 * What each mode does to one workload: its chain of built-in actions, in order (SRM's semantics).
 * `source` is where the workload runs now, `target` where it comes back (failback swaps the sites).
 */
import type { Mode, StepKind } from '../contracts/plan';
import type { ActionName, IpSpec, Workload } from './runbook';

export type Phase = 'prepare' | 'stop' | 'start';

export interface ActionTemplate {
  action: ActionName;
  kind: StepKind;
  role: 'source' | 'target';
  /** `start` steps wait for the workload's dependencies; `stop` steps go in reverse dependency order. */
  phase: Phase;
  /** The step that undoes this one on abort or cancel. */
  compensation?: StepKind;
  /** Part of the chain only when the workload needs it. */
  when?: (w: Workload) => boolean;
}

const powersOn = (w: Workload) => w.powerOn !== false;
const waitsReady = (w: Workload) => powersOn(w) && (w.readiness?.type ?? 'heartbeat') !== 'none';
const validates = (w: Workload) => (w.validations?.length ?? 0) > 0;
/**
 * The `network` action (customizeNetwork): the generic `network:` block, or a `vsphere:` block that sets a
 * NIC address (production or test) or guest DNS. The provider finds them in `params.settings`, and in
 * `params.network` whether the copy is the test one.
 */
const remapsNetwork = (w: Workload) => w.network !== undefined || setsVsphereGuestNetwork(w);
const setsVsphereGuestNetwork = (w: Workload) => {
  const v = w.vsphere;
  const given = (ip: IpSpec | undefined) => ip !== undefined;
  const nicSetsAddress = (v?.nics ?? []).some(
    (n) => given(n.ip) || given(n.ipv6) || given(n.test?.ip) || given(n.test?.ipv6),
  );
  return nicSetsAddress || (v?.dns?.servers?.length ?? 0) > 0 || (v?.dns?.suffixes?.length ?? 0) > 0;
};

const RECOVER_AT_TARGET: ActionTemplate[] = [
  { action: 'restore', kind: 'restore', role: 'target', phase: 'prepare', compensation: 'deleteCopy' },
  { action: 'network', kind: 'customizeNetwork', role: 'target', phase: 'prepare', when: remapsNetwork },
  { action: 'powerOn', kind: 'powerOn', role: 'target', phase: 'start', compensation: 'powerOff', when: powersOn },
  { action: 'waitReady', kind: 'waitReady', role: 'target', phase: 'start', when: waitsReady },
  { action: 'validate', kind: 'validate', role: 'target', phase: 'start', when: validates },
];

/**
 * A switchover (planned migration, failback) and a failover (disaster recovery): stop the source cleanly,
 * fence it, replicate what is left (a switchover proves the replica caught up), then, once every workload
 * has reached that point (POINT_OF_NO_RETURN), promote the replica and recover from it.
 */
const MIGRATE: ActionTemplate[] = [
  { action: 'preCheck', kind: 'preCheck', role: 'target', phase: 'prepare' },
  { action: 'sync', kind: 'syncReplication', role: 'source', phase: 'prepare' },
  { action: 'shutdown', kind: 'shutdown', role: 'source', phase: 'stop', compensation: 'powerOn' },
  { action: 'fence', kind: 'fence', role: 'source', phase: 'prepare', compensation: 'unfence' },
  { action: 'finalSync', kind: 'syncReplication', role: 'source', phase: 'prepare' },
  { action: 'promote', kind: 'promote', role: 'target', phase: 'prepare', compensation: 'demote' },
  ...RECOVER_AT_TARGET,
];

export const MODE_CHAINS: Record<Exclude<Mode, 'tabletop'>, ActionTemplate[]> = {
  /** Recover a snapshot of the replica into the isolated test network; production is untouched. */
  test: [
    { action: 'sync', kind: 'syncReplication', role: 'source', phase: 'prepare' },
    { action: 'snapshot', kind: 'snapshot', role: 'target', phase: 'prepare', compensation: 'removeSnapshot' },
    ...RECOVER_AT_TARGET,
  ],
  /** Undo a test: power off the test copies (dependents first), delete them and their snapshots. */
  cleanup: [
    { action: 'powerOff', kind: 'powerOff', role: 'target', phase: 'stop' },
    { action: 'deleteCopy', kind: 'deleteCopy', role: 'target', phase: 'prepare' },
    { action: 'removeSnapshot', kind: 'removeSnapshot', role: 'target', phase: 'prepare' },
  ],
  'planned-migration': MIGRATE,
  /** The protected site may be gone: its steps are best effort, recovery uses the latest recovery point. */
  'disaster-recovery': MIGRATE.filter((t) => t.action !== 'preCheck'),
  /** Reverse replication, so the recovery site is now the protected one. */
  reprotect: [{ action: 'reverseReplication', kind: 'reverseReplication', role: 'target', phase: 'prepare' }],
  /** A planned migration back to the original site, after reprotect. */
  failback: MIGRATE,
  /** Pre-flight only, nothing recovered: each workload's replica is there and within its RPO. */
  readiness: [{ action: 'preCheck', kind: 'preCheck', role: 'target', phase: 'prepare' }],
};

/** Tabletop walks the disaster-recovery plan, the one people most need to rehearse. */
export const TABLETOP_OF: Exclude<Mode, 'tabletop'> = 'disaster-recovery';

/** Modes a custom step runs in when it does not say. */
export const DEFAULT_CUSTOM_MODES: readonly Mode[] = ['test', 'planned-migration', 'disaster-recovery', 'failback'];

export const DEFAULT_ESTIMATES: Record<ActionName, number> = {
  preCheck: 15_000,
  sync: 120_000,
  finalSync: 60_000,
  fence: 30_000,
  promote: 60_000,
  shutdown: 60_000,
  snapshot: 30_000,
  restore: 300_000,
  network: 30_000,
  powerOn: 60_000,
  waitReady: 120_000,
  validate: 30_000,
  powerOff: 30_000,
  deleteCopy: 60_000,
  removeSnapshot: 30_000,
  reverseReplication: 300_000,
  testNetwork: 30_000,
};

export const DEFAULT_CUSTOM_ESTIMATES: Partial<Record<StepKind, number>> = {
  command: 30_000,
  http: 5_000,
  prompt: 300_000,
  approval: 900_000,
};

export const DEFAULT_TIMEOUT_MS = 600_000;
export const DEFAULT_APPROVAL_TIMEOUT_MS = 3_600_000;
export const DEFAULT_RETRY = {
  maximumAttempts: 3,
  initialIntervalMs: 2_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 60_000,
  nonRetryableErrorTypes: [] as string[],
};
