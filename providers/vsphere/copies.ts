/**
 * Test copies and their network: the isolated port group, the snapshot of the replica, the clone taken
 * from it, its guest customization, and their removal. Cleanup leaves the inventory as it was.
 */
import type { JsonObject } from '../../contracts/plan';
import { ProviderError } from '../errors';
import type { OperationContext } from '../types';
import type { SiteOperation } from './index';
import { describe } from './index';
import { powerStateOf, targetVm } from './power';
import { recoveryPointOf, restoreInPlace, snapshotsOf } from './replica';
import type { MoRef, Parsed, XmlObject } from './soap';
import { moRef, ref, text, typed } from './soap';
import {
  cloneName,
  findNetwork,
  findVm,
  inventoryPath,
  mustFindVm,
  nicEdit,
  nicsOf,
  settingsOf,
  vmNameAt,
} from './site';
import type { IpSpec, NicSettings, Site } from './site';

const networkOf = (p: JsonObject) => (typeof p.network === 'string' ? p.network : 'production');
const snapshotName = (p: JsonObject) => `drover-${networkOf(p)}`;
const POINT_PREFIX = 'drover: recovery point ';

async function replicaOf(p: JsonObject, ctx: OperationContext, site: Site) {
  const name = vmNameAt(site, settingsOf(p));
  return { name, vm: await mustFindVm(site, name, ctx.signal) };
}

/** snapshot: of the replica, named after the test network; its description keeps the recovery point. */
const snapshot: SiteOperation = async (p, ctx, site) => {
  const { name, vm } = await replicaOf(p, ctx, site);
  const props = await site.client.props(vm, ['snapshot', 'config.extraConfig'], ctx.signal);
  const existing = snapshotsOf(props).find((s) => s.name === snapshotName(p));
  if (existing)
    return {
      changed: false,
      message: `snapshot ${existing.name} of ${describe(site, name, vm)} already exists`,
      recoveryPointAt: Date.parse(existing.description.slice(POINT_PREFIX.length)) || existing.createdAt,
    };
  const pointKey = (site.connection.replication as { pointKey?: string } | undefined)?.pointKey;
  const point = recoveryPointOf(props, pointKey) ?? Date.now();
  await site.client.task(
    'CreateSnapshot_Task',
    vm,
    {
      name: snapshotName(p),
      description: `${POINT_PREFIX}${new Date(point).toISOString()}`,
      memory: false,
      quiesce: p.quiesce === true,
    },
    ctx,
  );
  return {
    changed: true,
    message: `snapshot ${snapshotName(p)} of ${describe(site, name, vm)} (recovery point ${new Date(point).toISOString()})`,
    recoveryPointAt: point,
  };
};

const removeSnapshot: SiteOperation = async (p, ctx, site) => {
  const { name, vm } = await replicaOf(p, ctx, site);
  const snap = snapshotsOf(await site.client.props(vm, ['snapshot'], ctx.signal)).find(
    (s) => s.name === snapshotName(p),
  );
  if (!snap) return { changed: false, message: `${describe(site, name, vm)} has no snapshot ${snapshotName(p)}` };
  await site.client.task('RemoveSnapshot_Task', snap.ref, { removeChildren: false }, ctx);
  return { changed: true, message: `snapshot ${snap.name} of ${describe(site, name, vm)} removed` };
};

/**
 * restore: in production the promoted replica is the VM (nothing to copy); on a test network, a clone of
 * the replica from the test snapshot, its NICs moved to the isolated port group and left disconnected
 * from anything else. The clone goes to the site's folder (default: the replica's) and resource pool.
 */
const restore: SiteOperation = async (p, ctx, site) => {
  if (networkOf(p) === 'production') return restoreInPlace(p, ctx, site);
  const s = settingsOf(p);
  const { name, vm } = await replicaOf(p, ctx, site);
  const clone = cloneName(s, networkOf(p));
  const props = await site.client.props(vm, ['snapshot', 'parent', 'resourcePool', 'datastore'], ctx.signal);
  const snap = snapshotsOf(props).find((x) => x.name === snapshotName(p));
  const point = snap ? Date.parse(snap.description.slice(POINT_PREFIX.length)) || snap.createdAt : undefined;
  const existing = await findVm(site, inventoryPath(site, 'vm', clone), ctx.signal);
  if (existing) {
    await joinTestNetwork(site, existing, p, ctx);
    return {
      changed: false,
      message: `${describe(site, clone, existing)} already restored on ${networkOf(p)}`,
      ...(point !== undefined ? { recoveryPointAt: point } : {}),
    };
  }
  if (!snap)
    throw new ProviderError('InvalidState', `${describe(site, name, vm)} has no snapshot ${snapshotName(p)} to clone`);
  const net = await findNetwork(site, networkOf(p), ctx.signal);
  if (!net) throw new ProviderError('InvalidState', `test network ${networkOf(p)} does not exist at ${site.name}`);
  const folder = await folderFor(site, s.folder, props.parent, ctx.signal);
  const pool = await poolFor(site, s.resourcePool, props.resourcePool, ctx.signal);
  const datastore = await datastoreFor(site, s.datastore, ctx.signal);
  const created = await site.client.task(
    'CloneVM_Task',
    vm,
    {
      folder: ref(folder.type, folder.value),
      name: clone,
      spec: {
        location: {
          datastore: datastore ? ref(datastore.type, datastore.value) : undefined,
          pool: ref(pool.type, pool.value),
        },
        template: false,
        snapshot: ref(snap.ref.type, snap.ref.value),
        powerOn: false,
      },
    },
    ctx,
  );
  await joinTestNetwork(site, moRef(created), p, ctx);
  return {
    changed: true,
    message: `${describe(site, clone, moRef(created))} cloned (CloneVM_Task) from snapshot ${snap.name} of ${name} onto isolated port group ${networkOf(p)}${point !== undefined ? ` (recovery point ${new Date(point).toISOString()})` : ''}`,
    ...(point !== undefined ? { recoveryPointAt: point } : {}),
  };
};

/** Every NIC of the test copy on the isolated port group (the workload's `test.network` if it names one). */
async function joinTestNetwork(site: Site, vm: MoRef, p: JsonObject, ctx: OperationContext): Promise<void> {
  const s = settingsOf(p);
  const nics = nicsOf(await site.client.props(vm, ['config.hardware.device'], ctx.signal));
  const changes: XmlObject[] = [];
  for (const [i, nic] of nics.entries()) {
    const want = s.nics?.[i]?.test?.network ?? networkOf(p);
    const net = await findNetwork(site, want, ctx.signal);
    if (!net) throw new ProviderError('InvalidState', `test network ${want} does not exist at ${site.name}`);
    const port = (nic.backing as Parsed).port as Parsed | undefined;
    const on = port ? String(port.portgroupKey) : String((nic.backing as Parsed).deviceName);
    if (on !== (net.portgroupKey ?? want)) changes.push(nicEdit(nic, net, want, true));
  }
  if (changes.length) await site.client.task('ReconfigVM_Task', vm, { spec: { deviceChange: changes } }, ctx);
}

async function folderFor(site: Site, name: string | undefined, parent: unknown, signal: AbortSignal) {
  const wanted = name ?? (site.connection.folder as string | undefined);
  if (!wanted) return moRef(parent);
  const f = await site.client.find(inventoryPath(site, 'vm', wanted), signal);
  if (!f) throw new ProviderError('InvalidInput', `no VM folder ${wanted} at ${site.name}`);
  return f;
}

async function poolFor(site: Site, name: string | undefined, current: unknown, signal: AbortSignal) {
  const wanted = name ?? (site.connection.resourcePool as string | undefined);
  const cluster = site.connection.cluster as string | undefined;
  const path = wanted ?? (cluster ? `${cluster}/Resources` : undefined);
  if (!path) return moRef(current);
  const pool = await site.client.find(inventoryPath(site, 'host', path), signal);
  if (!pool) throw new ProviderError('InvalidInput', `no resource pool ${path} at ${site.name}`);
  return pool;
}

async function datastoreFor(site: Site, name: string | undefined, signal: AbortSignal) {
  const wanted = name ?? (site.connection.datastore as string | undefined);
  if (!wanted) return undefined;
  const ds = await site.client.find(inventoryPath(site, 'datastore', wanted), signal);
  if (!ds) throw new ProviderError('InvalidInput', `no datastore ${wanted} at ${site.name}`);
  return ds;
}

/** deleteCopy: destroys a test clone (powered off first by cleanup); never a production or replica VM. */
const deleteCopy: SiteOperation = async (p, ctx, site) => {
  if (networkOf(p) === 'production')
    return {
      changed: false,
      message: `${String(p.workload)}: the recovered VM at ${site.name} is the replica itself; Drover never deletes it`,
    };
  const clone = cloneName(settingsOf(p), networkOf(p));
  const vm = await findVm(site, clone, ctx.signal);
  if (!vm) return { changed: false, message: `no test copy ${clone} at ${site.name}` };
  if ((await powerStateOf(site, vm, ctx.signal)) === 'poweredOn')
    throw new ProviderError(
      'InvalidState',
      `${describe(site, clone, vm)} is powered on: power it off before deleting it`,
      true,
    );
  await site.client.task('Destroy_Task', vm, {}, ctx);
  return { changed: true, message: `${describe(site, clone, vm)} destroyed (Destroy_Task)` };
};

/**
 * customizeNetwork: a guest customization (CustomizeVM_Task) with each NIC's IPv4/IPv6 address and the DNS
 * settings; the test IPs on a test network. Applied by VMware Tools at the next power-on.
 */
const customizeNetwork: SiteOperation = async (p, ctx, site) => {
  const s = settingsOf(p);
  const test = networkOf(p) !== 'production';
  const { vm, name } = await targetVm(p, ctx, site);
  const props = await site.client.props(
    vm,
    ['runtime.powerState', 'config.tools.pendingCustomization', 'guest.ipAddress', 'guest.net'],
    ctx.signal,
  );
  const nics = (s.nics ?? []).map((n) => ({
    v4: test ? (n.test?.ip ?? n.ip) : n.ip,
    v6: test ? (n.test?.ipv6 ?? n.ipv6) : n.ipv6,
  }));
  const first = nics.find((n) => n.v4 ?? n.v6);
  const wanted = (first?.v4 ?? first?.v6)?.address.split('/')[0];
  if (text(props['guest.ipAddress']) === wanted && wanted)
    return { changed: false, message: `${describe(site, name, vm)} already has ${wanted}` };
  if (text(props['config.tools.pendingCustomization']))
    return { changed: false, message: `${describe(site, name, vm)}: customization pending, applied at power-on` };
  if (text(props['runtime.powerState']) === 'poweredOn')
    throw new ProviderError(
      'InvalidState',
      `${describe(site, name, vm)} is powered on: guest customization needs it off`,
    );
  const guestNics = Math.max(
    1,
    ([] as unknown[]).concat((props['guest.net'] as Parsed | undefined)?.GuestNicInfo ?? []).length,
  );
  await site.client.task('CustomizeVM_Task', vm, { spec: customizationSpec(s, nics, guestNics) }, ctx);
  return {
    changed: true,
    message: `${describe(site, name, vm)} customized (CustomizeVM_Task): ${nics.map((n, i) => `NIC ${i + 1} ${[n.v4?.address, n.v6?.address].filter(Boolean).join(' ') || 'DHCP'}`).join(', ')}${s.dns?.servers?.length ? `, DNS ${s.dns.servers.join(' ')}` : ''}`,
  };
};

type NicIps = { v4: IpSpec | undefined; v6: IpSpec | undefined };

function customizationSpec(
  s: { dns?: { servers?: string[]; suffixes?: string[] }; nics?: NicSettings[] },
  nics: NicIps[],
  count: number,
): XmlObject {
  const adapters = Array.from({ length: count }, (_, i) => nics[i] ?? { v4: undefined, v6: undefined });
  return {
    identity: typed('CustomizationLinuxPrep', {
      hostName: typed('CustomizationVirtualMachineName', {}),
      domain: s.dns?.suffixes?.[0] ?? 'localdomain',
    }),
    globalIPSettings: { dnsSuffixList: s.dns?.suffixes ?? [], dnsServerList: s.dns?.servers ?? [] },
    nicSettingMap: adapters.map((n) => ({ adapter: adapterSpec(n, s.dns?.servers ?? []) })),
  };
}

function adapterSpec(n: NicIps, dns: string[]): XmlObject {
  const [v4, len4] = (n.v4?.address ?? '').split('/');
  const [v6, len6] = (n.v6?.address ?? '').split('/');
  return {
    ip: v4 ? typed('CustomizationFixedIp', { ipAddress: v4 }) : typed('CustomizationDhcpIpGenerator', {}),
    subnetMask: v4 ? maskOf(Number(len4 ?? 24)) : undefined,
    gateway: n.v4?.gateway ? [n.v4.gateway] : undefined,
    ipV6Spec: v6
      ? {
          ip: [typed('CustomizationFixedIpV6', { ipAddress: v6, subnetMask: Number(len6 ?? 64) })],
          gateway: n.v6?.gateway ? [n.v6.gateway] : undefined,
        }
      : undefined,
    dnsServerList: dns.length ? dns : undefined,
  };
}

const maskOf = (len: number) =>
  [0, 1, 2, 3]
    .map((i) => Math.max(0, Math.min(8, len - 8 * i)))
    .map((b) => 256 - 2 ** (8 - b))
    .join('.');

/** createTestNetwork: an isolated distributed port group (no uplinks: nothing leaves the bubble). */
const createTestNetwork: SiteOperation = async (p, ctx, site) => {
  const name = String(p.network);
  if (await findNetwork(site, name, ctx.signal))
    return { changed: false, message: `test port group ${name} already exists at ${site.name}` };
  const dvs = await dvSwitchOf(site, ctx.signal);
  await site.client.task(
    'AddDVPortgroup_Task',
    dvs.ref,
    {
      spec: [
        { name, type: 'earlyBinding', numPorts: 16, description: 'Drover test bubble: isolated, removed by cleanup' },
      ],
    },
    ctx,
  );
  return {
    changed: true,
    message: `isolated port group ${name} created on ${dvs.name} (AddDVPortgroup_Task) at ${site.name} (vCenter ${site.client.url.host})`,
  };
};

const removeTestNetwork: SiteOperation = async (p, ctx, site) => {
  const name = String(p.network);
  const net = await findNetwork(site, name, ctx.signal);
  if (!net) return { changed: false, message: `test port group ${name} does not exist at ${site.name}` };
  await site.client.task('Destroy_Task', net.ref, {}, ctx);
  return {
    changed: true,
    message: `test port group ${name} removed from ${site.name} (vCenter ${site.client.url.host})`,
  };
};

async function dvSwitchOf(site: Site, signal: AbortSignal): Promise<{ ref: MoRef; name: string }> {
  const name = site.connection.dvSwitch as string | undefined;
  if (!name)
    throw new ProviderError(
      'InvalidInput',
      `site ${site.name}: name the distributed switch for test port groups (connection.dvSwitch)`,
    );
  const dvs = await site.client.find(inventoryPath(site, 'network', name), signal);
  if (!dvs) throw new ProviderError('InvalidInput', `no distributed switch ${name} at ${site.name}`);
  return { ref: dvs, name };
}

export const copyOperations = {
  snapshot,
  removeSnapshot,
  restore,
  deleteCopy,
  customizeNetwork,
  createTestNetwork,
  removeTestNetwork,
};
