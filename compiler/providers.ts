/**
 * What each provider can do, as data: the compiler checks a mode's steps against it before anything
 * runs. The provider implementations (providers/) are tested against this table.
 */
import { INFRASTRUCTURE_KINDS } from '../contracts/plan';
import type { InfraKind, ProviderName, StepKind } from '../contracts/plan';
import type { Site, Workload } from './runbook';

const INFRASTRUCTURE: readonly StepKind[] = INFRASTRUCTURE_KINDS;

export const PROVIDER_CAPABILITIES: Record<ProviderName, ReadonlySet<StepKind>> = {
  /** The simulated site does everything, so every mode can be drilled. */
  simulator: new Set(INFRASTRUCTURE),
  /** Streaming replication: promote, rewind, base backups; a database has no networks to map. */
  postgres: new Set(
    INFRASTRUCTURE_KINDS.filter(
      (k: InfraKind) => !['customizeNetwork', 'createTestNetwork', 'removeTestNetwork'].includes(k),
    ),
  ),
  /**
   * vCenter: snapshots, clones, power, port groups, guest customization. Replication is the customer's
   * engine's: a sync or reverse step calls its hook (`connection.replication`, optional for an engine that
   * replicates on its own), then reads or swaps the replicas through vCenter.
   */
  vsphere: new Set(INFRASTRUCTURE),
};

/** Steps that only coordinate (people, waits, commands, HTTP) run on any site. */
export function supports(provider: ProviderName, kind: StepKind): boolean {
  return !INFRASTRUCTURE.includes(kind) || PROVIDER_CAPABILITIES[provider].has(kind);
}

/**
 * The provider that recovers a workload at a site: its own `provider` when it says one (a PostgreSQL pair
 * in a vSphere plan), else the site's. Its steps still run on the site's task queue.
 */
export function providerOf(w: Pick<Workload, 'provider'>, site: Pick<Site, 'provider'>): ProviderName {
  return w.provider ?? site.provider;
}

/** Providers whose test copies can be restored to a point in time (`drover run --mode test --recovery-point`). */
export const POINT_IN_TIME_TEST_COPIES: ReadonlySet<ProviderName> = new Set(['postgres']);
