/**
 * Two vCenter sites for the vSphere tests: two govmomi vcsim processes (installed by
 * scripts/install-vcsim.sh) on free loopback ports, each a real implementation of the vSphere API.
 *
 * Two things vcsim has no counterpart for are played here, in the open:
 * - the guest OS: vcsim runs no guest, so `GuestAgent` does what VMware Tools would report (tools running,
 *   heartbeat green) for powered-on VMs, through vcsim's documented `SET.guest.*` extraConfig keys. The
 *   guest IP is not set here: it comes from Drover's own guest customization, applied by vcsim at power-on.
 * - the customer's replication engine: `ReplicationEngine` is a loopback HTTP hook that, asked to sync,
 *   stamps the replica with the time its data is current (the `pointKey` the runbook names).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { VimClient } from '../../providers/vsphere/client';
import type { Props } from '../../providers/vsphere/client';
import { list, peerCertificate, ref, text, typed, VimFault } from '../../providers/vsphere/soap';
import type { MoRef, Parsed } from '../../providers/vsphere/soap';

/** The project's folder, from test/vsphere or from its build in dist/test/vsphere (npm run chaos). */
const PROJECT = existsSync(join(__dirname, '..', '..', 'package.json'))
  ? join(__dirname, '..', '..')
  : join(__dirname, '..', '..', '..');
export const VCSIM_BIN = join(PROJECT, '.tools', 'bin', 'vcsim');
export const POINT_KEY = 'replication.pointInTime';

export interface Vcsim {
  url: string;
  thumbprint: string;
  pid: number;
  client: VimClient;
  /** SIGSTOP: the process keeps its port but answers nothing (vcsim keeps no state across a restart). */
  freeze(): void;
  thaw(): void;
  stop(): Promise<void>;
}

/**
 * Starts one vcsim on a free loopback port; `args` adds flags (e.g. `-method-delay`), `log` also gets its
 * stderr (npm run chaos keeps it with the other processes' logs).
 */
export async function startVcsim(args: string[] = [], log?: NodeJS.WritableStream): Promise<Vcsim> {
  if (!existsSync(VCSIM_BIN)) throw new Error('vcsim is missing: run `npm run setup:vcsim`');
  const dir = mkdtempSync(join(tmpdir(), 'drover-vcsim-'));
  const fifo = join(dir, 'env');
  execFileSync('mkfifo', [fifo]);
  const child: ChildProcess = spawn(VCSIM_BIN, ['-l', '127.0.0.1:0', '-E', fifo, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  if (log) child.stderr!.pipe(log, { end: false });
  const line = await new Promise<string>((resolveLine, reject) => {
    const timer = setTimeout(() => reject(new Error(`vcsim did not start: ${stderr}`)), 20_000);
    child.once('exit', (code) => reject(new Error(`vcsim exited ${code}: ${stderr}`)));
    // Opening the fifo blocks until vcsim writes it: read it in a child of our own, off the event loop.
    const cat = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    cat.stdout.on('data', (d: Buffer) => (out += d.toString()));
    cat.on('close', () => {
      clearTimeout(timer);
      resolveLine(out);
    });
  });
  rmSync(dir, { recursive: true, force: true });
  const m = /GOVC_URL=https:\/\/[^@]*@([^/\s]+)\/sdk/.exec(line);
  if (!m) throw new Error(`vcsim printed no URL: ${line}`);
  const url = `https://${m[1]}/sdk`;
  const thumbprint = (await peerCertificate(new URL(url))).fingerprint256;
  const client = new VimClient({
    url,
    username: 'drover',
    password: 'pw',
    tls: { thumbprint },
    requestTimeoutMs: 3000,
  });
  return {
    url,
    thumbprint,
    pid: child.pid!,
    client,
    freeze: () => child.kill('SIGSTOP'),
    thaw: () => child.kill('SIGCONT'),
    stop: async () => {
      await client.close().catch(() => undefined);
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    },
  };
}

export async function vm(client: VimClient, name: string): Promise<MoRef> {
  const r = await client.find(`DC0/vm/${name}`);
  if (!r) throw new Error(`no VM ${name}`);
  return r;
}

/** How many times vCenter powered the VM on (its VmPoweredOnEvent events): the effect, not the calls. */
export async function powerOnEvents(site: Vcsim, name: string): Promise<number> {
  const sc = await site.client.serviceContent();
  const target = await vm(site.client, name);
  const events = await site.client.call('QueryEvents', sc.eventManager!, {
    filter: {
      entity: { entity: ref(target.type, target.value), recursion: 'self' },
      eventTypeId: ['VmPoweredOnEvent'],
    },
  });
  return list(events).length;
}

export async function setExtra(client: VimClient, target: MoRef, values: Record<string, string>): Promise<void> {
  const extraConfig = Object.entries(values).map(([key, value]) =>
    typed('OptionValue', { key, value: typed('xsd:string', { '#text': value }) }),
  );
  await client.task('ReconfigVM_Task', target, { spec: { extraConfig } }, {});
}

/**
 * The estate as a DR team would have it: at east the production VMs (renamed from vcsim's defaults) run;
 * at west their replicas are off, NICs not connected at power-on, stamped by the engine.
 */
export async function prepareEstate(east: Vcsim, west: Vcsim, workloads: { vm: string; replica: string }[]) {
  const defaults = ['DC0_H0_VM0', 'DC0_H0_VM1', 'DC0_C0_RP0_VM0', 'DC0_C0_RP0_VM1'];
  for (const [i, w] of workloads.entries()) {
    const src = await vm(east.client, defaults[i]!);
    await east.client.task('Rename_Task', src, { newName: w.vm }, {});
    const rep = await vm(west.client, defaults[i]!);
    await west.client.task('Rename_Task', rep, { newName: w.replica }, {});
    await prepareReplica(west, rep);
  }
}

/**
 * A replica as the replication engine leaves it: powered off, its NIC not connected at power-on, stamped
 * with its recovery point (a minute ago).
 */
export async function prepareReplica(west: Vcsim, rep: MoRef): Promise<void> {
  await west.client.task('PowerOffVM_Task', rep, {}, {}).catch((e: unknown) => {
    if (!(e instanceof VimFault && e.faultType === 'InvalidPowerState')) throw e;
  });
  const props = await west.client.props(rep, ['config.hardware.device']);
  const nic = list<Parsed>((props['config.hardware.device'] as Parsed).VirtualDevice).find((d) => d.macAddress);
  if (nic) {
    const edit = {
      operation: 'edit',
      device: typed(String(nic['@_xsi:type']), {
        key: String(nic.key),
        backing: nic.backing as never,
        connectable: { startConnected: false, allowGuestControl: true, connected: false },
      }),
    };
    await west.client.task('ReconfigVM_Task', rep, { spec: { deviceChange: [edit] } }, {});
  }
  await setExtra(west.client, rep, { [POINT_KEY]: new Date(Date.now() - 60_000).toISOString() });
}

/** Plays VMware Tools: a powered-on VM soon reports tools running and a green heartbeat. */
export class GuestAgent {
  private timer: NodeJS.Timeout | undefined;
  /** One pass per site at a time, each site on its own: a frozen vCenter does not hold up the other. */
  private readonly busy = new Set<Vcsim>();
  constructor(private readonly sites: Vcsim[]) {}
  start(): void {
    this.timer = setInterval(() => {
      for (const site of this.sites) if (!this.busy.has(site)) void this.tick(site);
    }, 200);
  }
  async stop(): Promise<void> {
    clearInterval(this.timer);
    while (this.busy.size) await new Promise((r) => setTimeout(r, 50));
  }
  private async tick(site: Vcsim): Promise<void> {
    this.busy.add(site);
    try {
      const vms = await site.client.listObjects('VirtualMachine', ['runtime.powerState', 'guest.toolsRunningStatus']);
      for (const v of vms) {
        const on = text(v.props['runtime.powerState']) === 'poweredOn';
        const running = text(v.props['guest.toolsRunningStatus']) === 'guestToolsRunning';
        if (on && !running)
          await setExtra(site.client, v.ref, {
            'SET.guest.toolsRunningStatus': 'guestToolsRunning',
            'SET.summary.quickStats.guestHeartbeatStatus': 'green',
          });
        else if (!on && running)
          await setExtra(site.client, v.ref, {
            'SET.guest.toolsRunningStatus': 'guestToolsNotRunning',
            'SET.summary.quickStats.guestHeartbeatStatus': 'gray',
          });
      }
    } catch {
      // A frozen or stopped site: the next tick tries again.
    } finally {
      this.busy.delete(site);
    }
  }
}

/** The customer's replication engine, as a hook on loopback: sync stamps the replica "current as of now - lag". */
export class ReplicationEngine {
  private server: Server | undefined;
  lagMs = 0;
  readonly calls: { action: string; workload: string; targetVm: string }[] = [];
  constructor(private readonly sites: Record<string, Vcsim>) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        void this.handle(JSON.parse(body || '{}') as Record<string, string>).then(
          () => res.writeHead(204).end(),
          (e: Error) => res.writeHead(500).end(e.message),
        );
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async handle(b: Record<string, string>): Promise<void> {
    this.calls.push({ action: b.action!, workload: b.workload!, targetVm: b.targetVm! });
    if (b.action !== 'sync') return;
    const site = this.sites[b.targetSite!];
    if (!site) throw new Error(`unknown site ${b.targetSite}`);
    await setExtra(site.client, await vm(site.client, b.targetVm!), {
      [POINT_KEY]: new Date(Date.now() - this.lagMs).toISOString(),
    });
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}

/**
 * Everything that tells what exists at a site, property by property: every VM's name, power state,
 * folder, pool, datastores, extraConfig, snapshots, NICs (port group, connected at power-on), and every
 * network. Volatile values (times, counters, guest status the agent plays) are left out.
 */
export async function inventoryOf(site: Vcsim): Promise<unknown> {
  const vms = await site.client.listObjects('VirtualMachine', [
    'name',
    'runtime.powerState',
    'parent',
    'resourcePool',
    'datastore',
    'config.extraConfig',
    'snapshot',
    'config.hardware.device',
    'config.uuid',
  ]);
  const nets = await site.client.listObjects('Network', ['name']);
  const describeVm = (p: Props) => {
    const devices = list<Parsed>((p['config.hardware.device'] as Parsed | undefined)?.VirtualDevice);
    const extra = list<Parsed>((p['config.extraConfig'] as Parsed | undefined)?.OptionValue)
      .map((o) => [String(o.key), text(o.value) ?? ''])
      // The engine's recovery-point stamp moves whenever it replicates: the engine's doing, not Drover's.
      .filter(([k]) => !k!.startsWith('guest.') && !k!.startsWith('summary.') && k !== POINT_KEY);
    return {
      name: text(p.name),
      power: text(p['runtime.powerState']),
      uuid: text(p['config.uuid']),
      parent: text(p.parent),
      pool: text(p.resourcePool),
      datastores: list<Parsed>((p.datastore as Parsed | undefined)?.ManagedObjectReference).map((d) => text(d)),
      extraConfig: Object.fromEntries(extra),
      snapshots: JSON.stringify((p.snapshot as Parsed | undefined)?.rootSnapshotList ?? null),
      nics: devices
        .filter((d) => d.macAddress)
        .map((d) => ({
          key: String(d.key),
          backing: JSON.stringify(d.backing),
          startConnected: (d.connectable as Parsed).startConnected,
        })),
    };
  };
  return {
    vms: vms.map((v) => describeVm(v.props)).sort((a, b) => String(a.name).localeCompare(String(b.name))),
    networks: nets.map((n) => text(n.props.name)).sort(),
  };
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}
