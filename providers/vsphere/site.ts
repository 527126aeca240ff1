/**
 * One vCenter site as the runbook describes it: its session (one per URL and user, shared by the
 * worker's activities), and the inventory lookups every operation needs.
 */
import type { JsonObject, PlanSite } from '../../contracts/plan';
import type { VsphereWorkload } from '../../compiler/runbook';
import { resolveSecret } from '../../activities/secrets';
import { parseDuration } from '../../compiler/durations';
import { ProviderError } from '../errors';
import type { OperationContext } from '../types';
import { VimClient } from './client';
import type { Props } from './client';
import type { MoRef, Parsed, Trust, XmlObject } from './soap';
import { list, moRef, ref, text, typed } from './soap';

/** The `vsphere` block of a workload, as the runbook language types it. */
export type VsphereSettings = VsphereWorkload;
export type { IpSpec, VsphereNic as NicSettings } from '../../compiler/runbook';

export interface Site {
  name: string;
  role: PlanSite['role'];
  client: VimClient;
  datacenter: string;
  connection: JsonObject;
}

const clients = new Map<string, VimClient>();
/** vCenter answers API calls in well under this; tasks run on and are followed with WaitForUpdatesEx. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** The site's session; the same VimClient for every step that reaches the same vCenter as the same user. */
export async function siteOf(site: PlanSite, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<Site> {
  const c = site.connection;
  const str = (k: string) => (typeof c[k] === 'string' ? resolveSecret(c[k], env) : undefined);
  const url = str('url');
  if (!url) throw new ProviderError('InvalidInput', `site ${site.name} has no connection.url`);
  const trust = trustOf(site, c, url, env);
  const username = str('username') ?? '';
  const key = JSON.stringify([url, username, trust, c.requestTimeout]);
  let client = clients.get(key);
  if (!client) {
    // How long one API call may go unanswered before the site counts as unreachable (retryable).
    const timeout = typeof c.requestTimeout === 'string' ? parseDuration(c.requestTimeout) : undefined;
    client = new VimClient({
      url,
      username,
      password: str('password') ?? '',
      tls: trust,
      requestTimeoutMs: timeout ?? DEFAULT_REQUEST_TIMEOUT_MS,
    });
    clients.set(key, client);
  }
  const datacenter = typeof c.datacenter === 'string' ? c.datacenter : await onlyDatacenter(client, signal);
  return { name: site.name, role: site.role, client, datacenter, connection: c };
}

/** How the site's certificate is trusted, as the runbook says (the compiler allows exactly one way). */
function trustOf(site: PlanSite, c: JsonObject, url: string, env: NodeJS.ProcessEnv): Trust {
  if (c.insecure === true) return { insecure: true };
  if (typeof c.caFile === 'string') return { caFile: c.caFile };
  if (typeof c.thumbprint === 'string') return { thumbprint: resolveSecret(c.thumbprint, env) };
  if (url.startsWith('http://')) return undefined;
  throw new ProviderError(
    'InvalidInput',
    `site ${site.name}: give connection.thumbprint (SHA-256 of the vCenter certificate) or caFile, or insecure: true`,
  );
}

/** Closes every session (worker shutdown, tests). */
export async function closeSessions(): Promise<void> {
  const all = [...clients.values()];
  clients.clear();
  await Promise.all(all.map((c) => c.close()));
}

async function onlyDatacenter(client: VimClient, signal?: AbortSignal): Promise<string> {
  const sc = await client.serviceContent(signal);
  const children = list<Parsed>((await client.props(sc.rootFolder, ['childEntity'], signal)).childEntity)
    .flatMap((x) => list<Parsed>((x as Parsed).ManagedObjectReference ?? x))
    .map(moRef)
    .filter((r) => r.type === 'Datacenter');
  if (children.length !== 1)
    throw new ProviderError(
      'InvalidInput',
      `vCenter at ${client.url.host} has ${children.length} datacenters: name one with connection.datacenter`,
    );
  return text((await client.props(children[0]!, ['name'], signal)).name) ?? '';
}

export function settingsOf(p: JsonObject): VsphereSettings {
  const s = p.settings as unknown as VsphereSettings | undefined;
  if (!s?.vm || !s.replica)
    throw new ProviderError('InvalidInput', `${String(p.workload)} has no vsphere: { vm, replica } settings`);
  return s;
}

/** The workload's VM at this site: the production VM at the protected site, the replica at the recovery site. */
export const vmNameAt = (site: Site, s: VsphereSettings) => (site.role === 'protected' ? s.vm : s.replica);

/** The copy a test recovers into its isolated network: a clone of the replica named after the network. */
export const cloneName = (s: VsphereSettings, network: string) => `${s.replica}-${network}`;

export function inventoryPath(site: Site, kind: 'vm' | 'network' | 'datastore' | 'host', name: string): string {
  return name.includes('/') ? name.replace(/^\//, '') : `${site.datacenter}/${kind}/${name}`;
}

/** A VM by name or inventory path; undefined when it does not exist. */
export function findVm(site: Site, name: string, signal?: AbortSignal): Promise<MoRef | undefined> {
  return site.client.find(inventoryPath(site, 'vm', name), signal);
}

export async function mustFindVm(site: Site, name: string, signal?: AbortSignal): Promise<MoRef> {
  const vm = await findVm(site, name, signal);
  if (!vm)
    throw new ProviderError(
      'InvalidState',
      `no VM ${inventoryPath(site, 'vm', name)} in vCenter ${site.client.url.host} (site ${site.name})`,
    );
  return vm;
}

/** A port group (standard or distributed) by name, with what a NIC backing needs to join it. */
export async function findNetwork(
  site: Site,
  name: string,
  signal?: AbortSignal,
): Promise<{ ref: MoRef; switchUuid?: string; portgroupKey?: string } | undefined> {
  const net = await site.client.find(inventoryPath(site, 'network', name), signal);
  if (!net) return undefined;
  if (net.type !== 'DistributedVirtualPortgroup') return { ref: net };
  const p = await site.client.props(net, ['key', 'config.distributedVirtualSwitch'], signal);
  const dvs = moRef(p['config.distributedVirtualSwitch']);
  const uuid = text((await site.client.props(dvs, ['uuid'], signal)).uuid);
  return { ref: net, portgroupKey: text(p.key)!, ...(uuid ? { switchUuid: uuid } : {}) };
}

/** `config.extraConfig` as a map. */
export function extraConfigOf(props: Props): Record<string, string> {
  const out: Record<string, string> = {};
  const holder = props['config.extraConfig'] as Parsed | undefined;
  for (const o of list<Parsed>(holder?.OptionValue)) out[String(o.key)] = text(o.value) ?? '';
  return out;
}

/** Sets (or, with '', removes) extraConfig keys of a VM. */
export async function setExtraConfig(
  site: Site,
  vm: MoRef,
  values: Record<string, string>,
  ctx: Pick<OperationContext, 'signal' | 'heartbeat'>,
): Promise<void> {
  const extraConfig = Object.entries(values).map(([key, value]) =>
    typed('OptionValue', { key, value: typed('xsd:string', { '#text': value }) }),
  );
  await site.client.task('ReconfigVM_Task', vm, { spec: { extraConfig } }, ctx);
}

/** The VM's NICs, in device order, with their keys and current backing. */
export function nicsOf(props: Props): Parsed[] {
  const devices = list<Parsed>((props['config.hardware.device'] as Parsed | undefined)?.VirtualDevice);
  return devices.filter((d) => d.macAddress !== undefined && d.backing !== undefined);
}

/** A device-change entry that moves NIC `nic` to `net` and sets whether it connects at power-on. */
export function nicEdit(
  nic: Parsed,
  net: { ref: MoRef; switchUuid?: string; portgroupKey?: string },
  name: string,
  connected: boolean,
): XmlObject {
  const backing = net.portgroupKey
    ? typed('VirtualEthernetCardDistributedVirtualPortBackingInfo', {
        port: { switchUuid: net.switchUuid ?? '', portgroupKey: net.portgroupKey },
      })
    : typed('VirtualEthernetCardNetworkBackingInfo', { deviceName: name, network: ref(net.ref.type, net.ref.value) });
  return {
    operation: 'edit',
    device: typed(String(nic['@_xsi:type']), {
      key: String(nic.key),
      backing,
      connectable: { startConnected: connected, allowGuestControl: true, connected },
      controllerKey: nic.controllerKey === undefined ? undefined : String(nic.controllerKey),
      unitNumber: nic.unitNumber === undefined ? undefined : String(nic.unitNumber),
      addressType: nic.addressType === undefined ? undefined : String(nic.addressType),
      macAddress: String(nic.macAddress),
    }),
  };
}

/** Which port group a NIC's backing joins (the portgroup key, or the network name). */
export function nicNetworkKey(nic: Parsed): string {
  const b = nic.backing as Parsed;
  const port = b.port as Parsed | undefined;
  return port ? String(port.portgroupKey) : String(b.deviceName ?? '');
}
