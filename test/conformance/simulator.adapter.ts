/**
 * The simulated provider under the conformance suite: its state in a temporary folder per check, faults,
 * latency and site outages through `ctx.simulation` (as a runbook's `simulation:` block gives them).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlanSite, SimulatedFault, Simulation } from '../../contracts/plan';
import { createSimulator, effects, inventory } from '../../providers/simulator';
import type { Inventory } from '../../providers/simulator';
import type { ConformanceAdapter, Fixture, OperationCall, WorkloadUnderTest } from './adapter';
import { contextFor } from './adapter';

export interface SimulatorFixture extends Fixture {
  /** The state folder of both sites (`connection.stateDir`). */
  dir: string;
}

const SIMULATION: Simulation = { seed: 1, latencyMs: { default: 0 }, recoveryPointAgeMs: 60_000, faults: [] };

/** A database with quiesced snapshots, and an app server whose network is remapped (customizeNetwork). */
const WORKLOADS: WorkloadUnderTest[] = [
  {
    name: 'orders-db',
    type: 'database',
    settings: { vm: 'orders-db-01', disksGb: 200 },
    quiesce: true,
    readiness: { type: 'port', port: 5432 },
    validations: [{ name: 'postgres-port', tcp: { port: 5432 } }],
  },
  {
    name: 'app-1',
    settings: { vm: 'shop-app-01', disksGb: 40 },
    network: { map: { 'east-app': 'west-app' }, ip: { address: '10.20.1.11/24', gateway: '10.20.1.1' } },
    validations: [{ name: 'health', http: { url: 'http://10.20.1.11:8080/healthz', expectStatus: [200] } }],
  },
];

function site(name: string, role: PlanSite['role'], dir: string): PlanSite {
  return {
    name,
    role,
    provider: 'simulator',
    taskQueue: `conformance-${name}`,
    testNetwork: 'drover-conformance-test',
    maxParallel: 10,
    connection: { stateDir: dir },
  };
}

const withSimulation = (fx: SimulatorFixture, change: (sim: Simulation) => Simulation) => ({
  simulation: change(fx.simulation ?? SIMULATION),
});
const withFault = (fx: SimulatorFixture, fault: SimulatedFault) =>
  withSimulation(fx, (sim) => ({ ...sim, faults: [...sim.faults, fault] }));
const workloadOf = (call: OperationCall) =>
  typeof call.params.workload === 'string' ? { workload: call.params.workload } : {};

export const simulatorAdapter: ConformanceAdapter<SimulatorFixture> = {
  name: 'simulator',
  provider: 'simulator',

  async setup() {
    const dir = await mkdtemp(join(tmpdir(), 'drover-conformance-'));
    const fx: SimulatorFixture = {
      dir,
      provider: createSimulator(dir),
      sites: { protected: site('east', 'protected', dir), recovery: site('west', 'recovery', dir) },
      workloads: WORKLOADS,
      simulation: SIMULATION,
    };
    // The estate before any run: each workload running at east, replicated to west. The simulator writes
    // a record on first touch; preCheck touches without changing anything.
    for (const w of WORKLOADS)
      for (const at of [fx.sites.protected, fx.sites.recovery])
        await fx.provider.operations.preCheck!(
          { workload: w.name, type: w.type ?? 'vm', ...(w.settings ? { settings: w.settings } : {}) },
          contextFor(fx, at, { runId: 'seed' }),
        );
    return fx;
  },

  async teardown(fx) {
    await rm(fx.dir, { recursive: true, force: true });
  },

  async inventory(fx) {
    const inv: Inventory = await inventory([fx.sites.protected, fx.sites.recovery], fx.dir);
    // `ready` is the guest's heartbeat as last seen (waitReady): guest-reported status, not an object.
    for (const s of Object.values(inv.sites))
      for (const w of Object.values(s.workloads))
        for (const [net, { ready: _ready, ...instance }] of Object.entries(w.instances))
          w.instances[net] = instance as (typeof w.instances)[string];
    return inv;
  },

  async effects(fx, call) {
    // A sync's effect lands on the replica, at the other site.
    const peer = call.site.name === fx.sites.protected.name ? fx.sites.recovery : fx.sites.protected;
    const where = call.kind === 'syncReplication' || call.kind === 'reverseReplication' ? peer : call.site;
    const counts = await effects(where, fx.dir);
    const key = typeof call.params.workload === 'string' ? call.params.workload : '_site';
    return counts[key]?.[call.kind] ?? 0;
  },

  async injectTransientFault(fx, call) {
    return withFault(fx, {
      name: 'conformance-transient',
      operation: call.kind,
      site: call.site.name,
      ...workloadOf(call),
      effect: 'fail',
      times: 1,
    });
  },

  async slowOperation(fx, call) {
    return withSimulation(fx, (sim) => ({ ...sim, latencyMs: { ...sim.latencyMs, [call.kind]: 30_000 } }));
  },

  reachability: {
    async makeUnreachable(fx, at) {
      return withFault(fx, { name: 'conformance-outage', operation: 'any', site: at.name, effect: 'site-down' });
    },
    // The outage lives in the context the suite stops passing: nothing to undo.
    async makeReachable() {},
  },
};
