/**
 * The simulated site: a stand-in for a datacenter that drills and tests run against. It is NOT real
 * infrastructure: VMs, disks, snapshots, replication and networks are records in `.drover/sim/`.
 * What is real is everything around it: Temporal, the workflow, retries, timeouts, compensation.
 *
 * Operations take the time the runbook's `simulation.latency` says, are idempotent (a retried power-on
 * of a running VM changes nothing and counts nothing), and fail as `simulation.faults` say,
 * deterministically: "fail 2 times" fails the first two attempts of each matching operation in a run.
 *
 * The parts: records.ts (the state and where it is kept), faults.ts (fault injection and latency),
 * the operations by what they act on (checks.ts, replication.ts, failover.ts, copies.ts, guest.ts),
 * estate.ts (seeding a site, and what exists for tests to compare).
 */
import type { InfraKind, Operation, Provider } from '../types';
import { preCheck } from './checks';
import { deleteCopy, powerOff, powerOn, removeSnapshot, restore, shutdown, snapshot } from './copies';
import { demote, fence, promote, unfence } from './failover';
import { simulated } from './faults';
import { createTestNetwork, customizeNetwork, removeTestNetwork, validate, waitReady } from './guest';
import type { SimOperation } from './records';
import { reverseReplication, syncReplication } from './replication';

export type { Inventory, WorkloadRecord } from './model';
export { effects, inventory, seedSite } from './estate';
export { pause, simulatedLatencyMs } from './faults';
export { storeFor } from './records';

export function createSimulator(cwd = process.cwd()): Provider {
  const op = (kind: InfraKind, fn: SimOperation) => simulated(cwd, kind, fn);
  const operations: Record<InfraKind, Operation> = {
    preCheck: op('preCheck', preCheck),
    syncReplication: op('syncReplication', syncReplication),
    fence: op('fence', fence),
    unfence: op('unfence', unfence),
    promote: op('promote', promote),
    demote: op('demote', demote),
    shutdown: op('shutdown', shutdown),
    powerOff: op('powerOff', powerOff),
    powerOn: op('powerOn', powerOn),
    snapshot: op('snapshot', snapshot),
    restore: op('restore', restore),
    customizeNetwork: op('customizeNetwork', customizeNetwork),
    waitReady: op('waitReady', waitReady),
    validate: op('validate', validate),
    deleteCopy: op('deleteCopy', deleteCopy),
    removeSnapshot: op('removeSnapshot', removeSnapshot),
    reverseReplication: op('reverseReplication', reverseReplication),
    createTestNetwork: op('createTestNetwork', createTestNetwork),
    removeTestNetwork: op('removeTestNetwork', removeTestNetwork),
  };
  return { name: 'simulator', operations };
}
