/**
 * The vSphere provider under the conformance suite: two real vCenter API peers (vcsim) per check, reached
 * through a loopback relay the adapter can break (test/vsphere/link.ts). Effects are counted from what
 * vCenter itself records: its events (power, clones, removals, port groups, reconfigurations with the
 * keys they set), the snapshots that exist, and the replication engine's calls.
 */
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import type { PlanSite } from '../../contracts/plan';
import { createVsphere } from '../../providers/vsphere';
import { closeSessions } from '../../providers/vsphere/site';
import { list, ref, text } from '../../providers/vsphere/soap';
import type { Parsed } from '../../providers/vsphere/soap';
import { GuestAgent, inventoryOf, POINT_KEY, prepareEstate, ReplicationEngine, startVcsim } from '../vsphere/fixture';
import type { Vcsim } from '../vsphere/fixture';
import { Link } from '../vsphere/link';
import type { ConformanceAdapter, Fixture, WorkloadUnderTest } from './adapter';

interface VsphereFixture extends Fixture {
  east: Vcsim;
  west: Vcsim;
  links: Record<string, Link>;
  engine: ReplicationEngine;
  agent: GuestAgent;
}

const GUEST = '127.0.0.41';
const PORT = 18091;
const WORKLOAD: WorkloadUnderTest = {
  name: 'web',
  settings: {
    vm: 'web-01',
    replica: 'web-01-replica',
    nics: [{ network: 'DC0_DVPG0', ip: { address: `${GUEST}/8` } }],
  },
  customizesNetwork: true,
  validations: [{ name: 'port', tcp: { port: PORT } }],
};

function site(name: string, role: PlanSite['role'], v: Vcsim, link: Link, engine: string): PlanSite {
  return {
    name,
    role,
    provider: 'vsphere',
    taskQueue: `conformance-${name}`,
    testNetwork: 'drover-conformance',
    maxParallel: 10,
    connection: {
      url: `https://127.0.0.1:${link.port}/sdk`,
      username: 'drover',
      password: 'env:CONFORMANCE_VC_PASSWORD',
      thumbprint: v.thumbprint,
      datacenter: 'DC0',
      dvSwitch: 'DVS0',
      requestTimeout: '2s',
      replication: { sync: { http: { method: 'POST', url: `${engine}/sync` } }, pointKey: POINT_KEY },
    },
  };
}

let listener: Server | undefined;

/** vCenter's events of these types on one VM (or, without a VM, anywhere at the site). */
async function events(v: Vcsim, types: string[], vmName?: string): Promise<Parsed[]> {
  const sc = await v.client.serviceContent();
  const target = vmName ? await v.client.find(`DC0/vm/${vmName}`) : undefined;
  if (vmName && !target) return [];
  const r = await v.client.call('QueryEvents', sc.eventManager!, {
    filter: {
      ...(target ? { entity: { entity: ref(target.type, target.value), recursion: 'self' } } : {}),
      eventTypeId: types,
    },
  });
  return list<Parsed>(r);
}

/** Reconfigurations of a VM that set `key` (to a value, or with `cleared` to ''). */
async function reconfigs(v: Vcsim, vmName: string, key: string, cleared: boolean): Promise<number> {
  let n = 0;
  for (const e of await events(v, ['VmReconfiguredEvent'], vmName)) {
    const spec = e.configSpec as Parsed | undefined;
    for (const o of list<Parsed>(spec?.extraConfig))
      if (String(o.key) === key && ((text(o.value) ?? '') === '') === cleared) n++;
  }
  return n;
}

export const vsphereAdapter: ConformanceAdapter<VsphereFixture> = {
  name: 'vsphere',
  provider: 'vsphere',
  recoversInPlace: true,
  timeoutMs: 90_000,

  async start() {
    process.env.CONFORMANCE_VC_PASSWORD = 'pw';
    listener = createServer((s) => s.end());
    await new Promise<void>((r) => listener!.listen(PORT, GUEST, r));
  },
  async stop() {
    await new Promise((r) => listener?.close(r));
  },

  async setup() {
    const [east, west] = await Promise.all([startVcsim(), startVcsim()]);
    const w = WORKLOAD.settings as { vm: string; replica: string };
    await prepareEstate(east, west, [w]);
    const links = {
      east: new Link({ host: '127.0.0.1', port: Number(new URL(east.url).port) }),
      west: new Link({ host: '127.0.0.1', port: Number(new URL(west.url).port) }),
    };
    await Promise.all([links.east.start(), links.west.start()]);
    const engine = new ReplicationEngine({ east, west });
    const engineUrl = await engine.start();
    const agent = new GuestAgent([east, west]);
    agent.start();
    return {
      provider: createVsphere({ env: process.env }),
      sites: {
        protected: site('east', 'protected', east, links.east, engineUrl),
        recovery: site('west', 'recovery', west, links.west, engineUrl),
      },
      workloads: [WORKLOAD],
      recoversInPlace: true,
      east,
      west,
      links,
      engine,
      agent,
    };
  },

  async teardown(fx) {
    await fx.agent.stop();
    await closeSessions();
    await fx.engine.stop();
    await Promise.all(Object.values(fx.links).map((l) => l.stop()));
    await Promise.all([fx.east.stop(), fx.west.stop()]);
  },

  async inventory(fx) {
    return { east: await inventoryOf(fx.east), west: await inventoryOf(fx.west) };
  },

  async effects(fx, call) {
    const v = call.site.name === 'east' ? fx.east : fx.west;
    const s = WORKLOAD.settings as { vm: string; replica: string };
    const network = String(call.params.network ?? 'production');
    const name =
      network === 'production' ? (call.site.role === 'protected' ? s.vm : s.replica) : `${s.replica}-${network}`;
    switch (call.kind) {
      case 'powerOn':
        return (await events(v, ['VmPoweredOnEvent'], name)).length;
      case 'powerOff':
      case 'shutdown':
        return (await events(v, ['VmPoweredOffEvent'], name)).length;
      case 'fence':
        return reconfigs(v, name, 'drover.fenced', false);
      case 'unfence':
        return reconfigs(v, name, 'drover.fenced', true);
      case 'promote':
        return reconfigs(v, name, 'drover.role', false);
      case 'demote':
        return reconfigs(v, name, 'drover.role', true);
      case 'restore':
        return network === 'production' ? 0 : (await events(v, ['VmClonedEvent'])).length;
      case 'deleteCopy':
        return (await events(v, ['VmRemovedEvent'])).length;
      case 'createTestNetwork':
        return (await events(v, ['DVPortgroupCreatedEvent'])).length;
      case 'removeTestNetwork':
        return (await events(v, ['DVPortgroupDestroyedEvent'])).length;
      case 'syncReplication':
        return fx.engine.calls.filter((c) => c.action === 'sync').length;
      case 'snapshot':
        return tasksDone(v, 'VirtualMachine.createSnapshot');
      case 'removeSnapshot':
        return tasksDone(v, 'VirtualMachineSnapshot.remove');
      case 'customizeNetwork':
        return tasksDone(v, 'VirtualMachine.customizeVm');
      default:
        return 0;
    }
  },

  // Both cut the open connections; the pause lets the worker's connection pool see them closed, so the
  // next call opens the connection the link fails or slows.
  async injectTransientFault(fx, call) {
    fx.links[call.site.name]!.failNextConnection();
    await new Promise((r) => setTimeout(r, 100));
  },

  async slowOperation(fx, call) {
    fx.links[call.site.name]!.holdNextConnection(6000);
    await new Promise((r) => setTimeout(r, 100));
  },

  reachability: {
    async makeUnreachable(fx, at) {
      fx.links[at.name]!.goDown();
    },
    async makeReachable(fx, at) {
      fx.links[at.name]!.up();
    },
  },
};

/** Tasks vCenter completed successfully, by what they did (`VirtualMachine.createSnapshot`). */
async function tasksDone(v: Vcsim, descriptionId: string): Promise<number> {
  const manager = { type: 'TaskManager', value: 'TaskManager' };
  const recent = list<Parsed>(
    ((await v.client.props(manager, ['recentTask'])).recentTask as Parsed | undefined)?.ManagedObjectReference,
  );
  let n = 0;
  for (const t of recent) {
    const info = await v.client.props({ type: 'Task', value: text(t)! }, ['info.descriptionId', 'info.state']);
    if (text(info['info.descriptionId']) === descriptionId && text(info['info.state']) === 'success') n++;
  }
  return n;
}
