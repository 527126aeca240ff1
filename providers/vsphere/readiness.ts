/**
 * Read-only checks against vCenter (readiness mode and a failover's pre-check) and the validations of a
 * recovered VM, run for real against its guest IP.
 */
import type { JsonObject } from '../../contracts/plan';
import type { Validation } from '../../compiler/runbook';
import { runValidations } from '../checks';
import { approversCheck } from '../readiness';
import { ProviderError } from '../errors';
import type { OperationContext, OperationResult } from '../types';
import type { SiteOperation } from './index';
import { describe } from './index';
import { targetVm } from './power';
import { replicaPoint } from './replica';
import { list, text } from './soap';
import type { Parsed } from './soap';
import { findNetwork, findVm, inventoryPath, settingsOf, vmNameAt } from './site';
import type { Site, VsphereSettings } from './site';

const minutes = (ms: number) => `${Math.round(ms / 60_000)}m`;
const gb = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GB`;

function fail(message: string): never {
  throw new ProviderError('ValidationFailed', message);
}

/** readiness `site`: vCenter answers and takes the credentials. */
async function siteCheck(site: Site, ctx: OperationContext): Promise<OperationResult> {
  const sc = await site.client.serviceContent(ctx.signal);
  await site.client.props(sc.rootFolder, ['name'], ctx.signal);
  return {
    changed: false,
    message: `${site.name}: vCenter ${site.client.url.host} (${sc.about.fullName}) reachable, credentials accepted, datacenter ${site.datacenter}`,
  };
}

/** readiness `capacity`: the datastore clones and recovered VMs land on has room for the replicas' disks. */
async function capacityCheck(p: JsonObject, ctx: OperationContext, site: Site): Promise<OperationResult> {
  const settings = (p.settings ?? {}) as unknown as Record<string, VsphereSettings>;
  const name = site.connection.datastore as string | undefined;
  if (!name) return { changed: false, message: `${site.name}: no connection.datastore named: capacity not checked` };
  const ds = await site.client.find(inventoryPath(site, 'datastore', name), ctx.signal);
  if (!ds) fail(`${site.name}: no datastore ${name} in vCenter ${site.client.url.host}`);
  const free = Number(text((await site.client.props(ds, ['summary.freeSpace'], ctx.signal))['summary.freeSpace']));
  let need = 0;
  for (const s of Object.values(settings)) {
    const vm = await findVm(site, vmNameAt(site, s), ctx.signal);
    if (!vm) continue;
    // A test copy is a full clone: it needs room for every disk of the replica.
    const devices = (await site.client.props(vm, ['config.hardware.device'], ctx.signal))['config.hardware.device'];
    for (const d of list<Parsed>((devices as Parsed | undefined)?.VirtualDevice))
      if (d['@_xsi:type'] === 'VirtualDisk') need += Number(text(d.capacityInKB) ?? 0) * 1024;
  }
  if (need > free)
    fail(`${site.name}: datastore ${name} has ${gb(free)} free, test copies of the replicas' disks need ${gb(need)}`);
  return {
    changed: false,
    message: `${site.name}: datastore ${name} has ${gb(free)} free, the replicas' disks need ${gb(need)}`,
  };
}

/** readiness `test-network`: the switch test port groups go on exists (the group itself is created by tests). */
async function testNetworkCheck(p: JsonObject, ctx: OperationContext, site: Site): Promise<OperationResult> {
  const dvs = site.connection.dvSwitch as string | undefined;
  if (!dvs) fail(`${site.name}: no connection.dvSwitch: test mode cannot create its isolated port group`);
  if (!(await site.client.find(inventoryPath(site, 'network', dvs), ctx.signal)))
    fail(`${site.name}: no distributed switch ${dvs} in vCenter ${site.client.url.host}`);
  const there = await findNetwork(site, String(p.network), ctx.signal);
  return {
    changed: false,
    message: there
      ? `${site.name}: test port group ${String(p.network)} is present on ${dvs}`
      : `${site.name}: test port group ${String(p.network)} is not there yet; Drover creates it on ${dvs} in test mode`,
  };
}

/** readiness `replication`: the replica exists, its recovery point is within the RPO, its port groups exist. */
async function replicationCheck(p: JsonObject, ctx: OperationContext, site: Site): Promise<OperationResult> {
  const s = settingsOf(p);
  const pointKey = (site.connection.replication as { pointKey?: string } | undefined)?.pointKey;
  const name = vmNameAt(site, s);
  if (!(await findVm(site, name, ctx.signal))) fail(`${String(p.workload)}: no replica VM ${name} at ${site.name}`);
  const { point } = await replicaPoint(p, ctx, site, pointKey);
  if (point === undefined) fail(`${String(p.workload)}: replica ${name} at ${site.name} shows no recovery point`);
  const missing = [];
  for (const nic of s.nics ?? []) if (!(await findNetwork(site, nic.network, ctx.signal))) missing.push(nic.network);
  if (missing.length) fail(`${String(p.workload)}: port group(s) ${missing.join(', ')} missing at ${site.name}`);
  const lag = Date.now() - point;
  const rpo = Number(p.rpoMs ?? 0);
  if (rpo > 0 && lag > rpo)
    fail(`${String(p.workload)}: replica ${name} is ${minutes(lag)} behind, over its RPO of ${minutes(rpo)}`);
  return {
    changed: false,
    message: `${String(p.workload)}: replica ${name} at ${site.name} holds data as of ${new Date(point).toISOString()} (${minutes(lag)} behind, RPO ${minutes(rpo)})`,
  };
}

/** preCheck: a readiness check, or before a failover: the replica is there to recover. */
const preCheck: SiteOperation = async (p, ctx, site) => {
  switch (p.check) {
    case 'site':
      return siteCheck(site, ctx);
    case 'capacity':
      return capacityCheck(p, ctx, site);
    case 'test-network':
      return testNetworkCheck(p, ctx, site);
    case 'approvers':
      return approversCheck(p);
    case 'replication':
      return replicationCheck(p, ctx, site);
    case undefined: {
      const name = vmNameAt(site, settingsOf(p));
      const vm = await findVm(site, name, ctx.signal);
      if (!vm)
        throw new ProviderError('InvalidState', `${String(p.workload)}: no VM ${name} at ${site.name} to recover`);
      return { changed: false, message: `${describe(site, name, vm)} is present` };
    }
    default:
      return fail(`unknown readiness check ${String(p.check)}`);
  }
};

/** validate: the workload's checks (TCP, HTTP, command) against the recovered VM's guest IP. */
export function validateOperation(deps: { env: NodeJS.ProcessEnv; cwd: string }): SiteOperation {
  return async (p, ctx, site) => {
    const { vm, name } = await targetVm(p, ctx, site);
    const guest = await site.client.props(vm, ['guest.ipAddress', 'runtime.powerState'], ctx.signal);
    if (text(guest['runtime.powerState']) !== 'poweredOn')
      throw new ProviderError('ValidationFailed', `${describe(site, name, vm)} is not powered on: validations fail`);
    const host = text(guest['guest.ipAddress']);
    if (!host) throw new ProviderError('ValidationFailed', `${describe(site, name, vm)} reports no guest IP yet`);
    const report = await runValidations(
      (p.checks ?? []) as unknown as Validation[],
      { host, workload: String(p.workload) },
      {
        signal: ctx.signal,
        cwd: deps.cwd,
        env: deps.env,
        heartbeat: () => ctx.heartbeat(),
      },
    );
    return {
      changed: false,
      message: `${report.message} (${name}, guest IP from VMware Tools)`,
      data: { checks: report.results.map((r) => ({ ...r })) },
    };
  };
}

export const readinessOperations = { preCheck };
