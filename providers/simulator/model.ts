/** The simulated datacenter's records, as stored on disk. */

/** A running or stopped copy of a workload, on one network of one site. */
export interface Instance {
  power: 'on' | 'off';
  /** Guest heartbeat seen since the last power-on. */
  ready: boolean;
  /** When the data it was recovered from was current (epoch ms); null for the original. */
  recoveryPointAt: number | null;
  ip?: string;
  /** Fenced: it can take no writes, and will not power on until unfenced. */
  fenced?: boolean;
  /** When it last stopped taking writes (clean shutdown, power-off or fence): its last position. */
  stoppedAt?: number;
}

/** The replica a site holds, kept current by the (simulated) replication engine. */
export interface Replica {
  from: string;
  /** The source position it has reached: when the data it holds was current (epoch ms). */
  lastSyncAt: number;
  /** Older recovery points it keeps (Zerto's checkpoints), newest first; `lastSyncAt` is the latest. */
  checkpoints?: number[];
  /** Promoted to the writable primary: replication from `from` has ended. */
  promotedAt?: number;
  /** The recovery point it was promoted from. */
  pointAt?: number;
}

/** One workload as one site sees it. */
export interface WorkloadRecord {
  workload: string;
  site: string;
  vm: string;
  disksGb: number;
  /** By network: `production`, or a test network's name. */
  instances: Record<string, Instance>;
  /** The replica this site holds of the workload, from the other site. */
  replica?: Replica;
  snapshots: Record<string, { recoveryPointAt: number; quiesced: boolean }>;
  /** Side effects actually performed, by operation: a retry that finds the work done adds nothing. */
  effects: Record<string, number>;
  /** Injected faults already fired, by `run|fault|operation`. */
  faultHits: Record<string, number>;
}

export interface SiteRecord {
  site: string;
  networks: string[];
  effects: Record<string, number>;
  faultHits: Record<string, number>;
}

/** Everything that tells what exists at a site, without timestamps or counters: cleanup restores this. */
export interface Inventory {
  sites: Record<
    string,
    {
      networks: string[];
      workloads: Record<
        string,
        Omit<WorkloadRecord, 'effects' | 'faultHits' | 'replica'> & { replicaFrom?: string; replicaPromoted?: true }
      >;
    }
  >;
}
