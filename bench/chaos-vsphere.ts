/**
 * The vSphere phase of `npm run chaos`: a runbook of `vms` VMs (default 12) through `test` and `cleanup`
 * against two real vCenter API peers (govmomi's vcsim, installed by scripts/install-vcsim.sh), on a dev
 * server of its own, with the real `drover worker` process. In each run the recovery vCenter is made
 * unreachable for `freezeMs` (SIGSTOP: it keeps its port and its in-memory inventory and answers nothing,
 * a hung vCenter; then SIGCONT), and the worker is SIGKILLed and restarted at seeded moments.
 *
 * Counted from vCenter itself, never from Drover's records:
 * - duplicate effects: each test clone powered on more than once (its `VmPoweredOnEvent`s), any other VM
 *   powered on at all, a clone made twice (`VmClonedEvent`s by name), more than one clone, test snapshot
 *   or test port group of one name in the inventory, a port group created twice (`DVPortgroupCreatedEvent`);
 * - orphans after cleanup: both inventories compared property by property with what they were before the
 *   test (test/vsphere/fixture.ts `inventoryOf`: VMs, power, extraConfig, snapshots, NICs, networks).
 *
 * Played in the open, as in the tests (test/vsphere/fixture.ts): VMware Tools (vcsim runs no guest) and the
 * replication engine's sync hook. The guests' validation ports are real TCP listeners on loopback.
 */
import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { compile } from '../compiler';
import type { RunRecord } from '../contracts/record';
import type { Mode } from '../compiler';
import { list, text } from '../providers/vsphere/soap';
import type { MoRef, Parsed } from '../providers/vsphere/soap';
import {
  GuestAgent,
  inventoryOf,
  POINT_KEY,
  prepareReplica,
  ReplicationEngine,
  startVcsim as startFixtureVcsim,
  VCSIM_BIN,
} from '../test/vsphere/fixture';
import type { Vcsim } from '../test/vsphere/fixture';
import {
  chaosRun,
  chaosRunbookHead,
  emptyFigures,
  ensureInstalled,
  freePort,
  holdUntilMet,
  metOutage,
  sleep,
  startServerAndWorker,
  tallyRun,
} from './chaos-processes';
import type { PeerFigures } from './chaos-processes';
import { Rng } from './mutate';

export const VCSIM = VCSIM_BIN;
const NETWORK = 'chaos-bubble';

export interface VsphereChaosOptions {
  /** VMs in the runbook (each a production VM at east and its replica at west). */
  vms: number;
  /** Worker SIGKILLs over the phase (spread over test and cleanup). */
  kills: number;
  seed: number;
  /** How long the recovery vCenter is frozen, once per run. */
  freezeMs: number;
  log?: (line: string) => void;
}

/** One vcsim on a free loopback port with `-vm perPool` VMs per host and resource pool (2 × perPool in all). */
export function startVcsim(perPool: number, log: NodeJS.WritableStream): Promise<Vcsim> {
  return startFixtureVcsim(['-vm', String(perPool)], log);
}

const vmName = (i: number) => `chaos-vm-${String(i + 1).padStart(2, '0')}`;
const replicaName = (i: number) => `${vmName(i)}-replica`;
const cloneName = (i: number) => `${replicaName(i)}-${NETWORK}`;
/** Loopback guest IPs: production 127.0.2.N, test 127.0.3.N (validations connect to the test ones). */
const testIp = (i: number) => `127.0.3.${i + 1}`;

/** The first `n` of vcsim's VMs, by name (they are all powered on at start). */
async function firstVms(v: Vcsim, n: number): Promise<MoRef[]> {
  const vms = await v.client.listObjects('VirtualMachine', ['name']);
  vms.sort((a, b) => String(text(a.props.name)).localeCompare(String(text(b.props.name))));
  if (vms.length < n) throw new Error(`vcsim has ${vms.length} VMs, ${n} wanted`);
  return vms.slice(0, n).map((x) => x.ref);
}

/**
 * The estate as a DR team has it (as test/vsphere/fixture.ts `prepareEstate`, for any number of VMs): at
 * east the production VMs run; at west their replicas are off, NICs not connected at power-on, stamped by
 * the engine with their recovery point.
 */
export async function prepareEstate(east: Vcsim, west: Vcsim, n: number): Promise<void> {
  const [prod, reps] = await Promise.all([firstVms(east, n), firstVms(west, n)]);
  for (let i = 0; i < n; i++) {
    await east.client.task('Rename_Task', prod[i]!, { newName: vmName(i) }, {});
    const rep = reps[i]!;
    await west.client.task('Rename_Task', rep, { newName: replicaName(i) }, {});
    await prepareReplica(west, rep);
  }
}

/** Until every powered-on VM at the site shows VMware Tools running (the played guest has settled). */
async function settled(v: Vcsim): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const vms = await v.client.listObjects('VirtualMachine', ['runtime.powerState', 'guest.toolsRunningStatus']);
    const waiting = vms.filter(
      (x) =>
        (text(x.props['runtime.powerState']) === 'poweredOn') !==
        (text(x.props['guest.toolsRunningStatus']) === 'guestToolsRunning'),
    );
    if (waiting.length === 0) return;
    await sleep(200);
  }
  throw new Error('the played VMware Tools did not settle within 20 s');
}

function runbook(n: number, east: Vcsim, west: Vcsim, engine: string, port: number): string {
  const connection = (v: Vcsim) => ({
    url: v.url,
    username: 'drover',
    password: 'env:CHAOS_VC_PASSWORD',
    thumbprint: v.thumbprint,
    datacenter: 'DC0',
    dvSwitch: 'DVS0',
    // A hung vCenter is noticed in 2 s (SiteUnreachable, retried), not the default 30 s.
    requestTimeout: '2s',
    replication: { sync: { http: { method: 'POST', url: `${engine}/sync` } }, pointKey: POINT_KEY },
  });
  const workload = (i: number) => ({
    name: `vm-${String(i + 1).padStart(2, '0')}`,
    vsphere: {
      vm: vmName(i),
      replica: replicaName(i),
      nics: [
        {
          network: 'DC0_DVPG0',
          ip: { address: `127.0.2.${i + 1}/8` },
          test: { ip: { address: `${testIp(i)}/8` } },
        },
      ],
    },
    validations: [{ name: 'service', tcp: { port } }],
  });
  const half = Math.ceil(n / 2);
  return stringify({
    ...chaosRunbookHead('chaos-vsphere', 'npm run chaos: VMs on two vcsim vCenters', { rpo: '15m', rto: '1h' }),
    sites: {
      protected: { name: 'vc-east', provider: 'vsphere', connection: connection(east) },
      recovery: {
        name: 'vc-west',
        provider: 'vsphere',
        testNetwork: NETWORK,
        connection: { ...connection(west), datastore: 'LocalDS_0' },
      },
    },
    groups: [
      { name: 'first', priority: 1, workloads: Array.from({ length: half }, (_, i) => workload(i)) },
      { name: 'second', priority: 2, workloads: Array.from({ length: n - half }, (_, i) => workload(half + i)) },
    ].filter((g) => g.workloads.length > 0),
  });
}

interface SiteEvent {
  key: number;
  vm: string | undefined;
  net: string | undefined;
}

const str = (x: unknown) => (typeof x === 'number' ? String(x) : text(x));

/** vCenter's events of one type (the newest 1,000 it keeps), by key and the VM or network they name. */
async function siteEvents(v: Vcsim, type: string): Promise<SiteEvent[]> {
  const sc = await v.client.serviceContent();
  const r = await v.client.call('QueryEvents', sc.eventManager!, { filter: { eventTypeId: [type], maxCount: 1000 } });
  return list<Parsed>(r).map((e) => ({
    key: Number(str(e.key)),
    vm: str((e.vm as Parsed | undefined)?.name),
    net: str((e.net as Parsed | undefined)?.name),
  }));
}

/** The key of the newest event vCenter has posted (vcsim keeps the newest ~1,000: counts need it below). */
export async function latestKey(v: Vcsim): Promise<number> {
  const sc = await v.client.serviceContent();
  // The latest page of an unfiltered query, one event long: the newest.
  const [newest] = list<Parsed>(await v.client.call('QueryEvents', sc.eventManager!, { filter: { maxCount: 1 } }));
  const key = Number(str(newest?.key));
  if (!Number.isInteger(key)) throw new Error(`vCenter at ${v.url} returned no event key`);
  return key;
}

/** What vCenter shows of a run's effects, from the events posted after `since` and the inventory now. */
export async function effectsAt(v: Vcsim, since: number) {
  const tally = async (type: string, by: (e: SiteEvent) => string | undefined) => {
    const m = new Map<string, number>();
    for (const e of (await siteEvents(v, type)).filter((x) => x.key > since))
      m.set(by(e) ?? '?', (m.get(by(e) ?? '?') ?? 0) + 1);
    return m;
  };
  const vms = await v.client.listObjects('VirtualMachine', ['name', 'snapshot']);
  const names = new Map<string, number>();
  const snapshots = new Map<string, number>();
  for (const x of vms) {
    const name = text(x.props.name) ?? '?';
    names.set(name, (names.get(name) ?? 0) + 1);
    let count = 0;
    const walk = (nodes: unknown) => {
      for (const s of list<Parsed>(nodes)) {
        if (text(s.name) === `drover-${NETWORK}`) count++;
        walk(s.childSnapshotList);
      }
    };
    walk((x.props.snapshot as Parsed | undefined)?.rootSnapshotList);
    if (count) snapshots.set(name, count);
  }
  const nets = (await v.client.listObjects('Network', ['name'])).filter((x) => text(x.props.name) === NETWORK).length;
  return {
    powerOns: await tally('VmPoweredOnEvent', (e) => e.vm),
    clones: await tally('VmClonedEvent', (e) => e.vm),
    portGroups: (await tally('DVPortgroupCreatedEvent', (e) => e.net)).get(NETWORK) ?? 0,
    names,
    snapshots,
    networks: nets,
    /** Events may have been dropped from vCenter's history since `since`: the counts would be short. */
    overflowed: (await latestKey(v)) - since > 900,
  };
}

/** The differences between two inventories (test/vsphere/fixture.ts `inventoryOf`), as orphans. */
export function orphansOf(site: string, before: unknown, after: unknown): string[] {
  type Inv = { vms: { name?: string }[]; networks: string[] };
  const b = before as Inv;
  const a = after as Inv;
  const out: string[] = [];
  for (const net of a.networks.filter((x) => !b.networks.includes(x))) out.push(`${site}: network ${net}`);
  const was = new Map(b.vms.map((v) => [v.name, JSON.stringify(v)]));
  const seen = new Set<string | undefined>();
  for (const v of a.vms) {
    if (seen.has(v.name)) out.push(`${site}: a second VM named ${v.name}`);
    seen.add(v.name);
    if (!was.has(v.name)) out.push(`${site}: VM ${v.name}`);
    else if (was.get(v.name) !== JSON.stringify(v))
      out.push(`${site}: VM ${v.name} differs (${diffKeys(was.get(v.name)!, v)})`);
  }
  return out;
}

function diffKeys(before: string, after: Record<string, unknown>): string {
  const b = JSON.parse(before) as Record<string, unknown>;
  return Object.keys(after)
    .filter((k) => JSON.stringify(b[k]) !== JSON.stringify(after[k]))
    .join(', ');
}

export async function runVsphereChaos(opts: VsphereChaosOptions): Promise<PeerFigures> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'drover-chaos-vsphere-'));
  const title = `${opts.vms} VMs, test + cleanup on two vcsim vCenters, west frozen ${opts.freezeMs / 1000} s per run`;
  const figures = emptyFigures('vsphere', title, dir);
  const missing = ensureInstalled('vcsim', VCSIM, 'scripts/install-vcsim.sh', log);
  if (missing) return { ...figures, skipped: missing };
  const rng = new Rng(opts.seed);
  const logs = createWriteStream(join(dir, 'processes.log'));
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    const perPool = Math.max(2, Math.ceil(opts.vms / 2));
    const east = await startVcsim(perPool, logs);
    cleanups.push(() => east.stop());
    const west = await startVcsim(perPool, logs);
    cleanups.push(() => west.stop());
    await prepareEstate(east, west, opts.vms);
    const engine = new ReplicationEngine({ 'vc-east': east, 'vc-west': west });
    const engineUrl = await engine.start();
    cleanups.push(() => engine.stop());
    const agent = new GuestAgent([east, west]);
    agent.start();
    cleanups.push(() => agent.stop());
    // The guests' services the validations reach, on the test IPs the customization gives the clones.
    const port = await freePort();
    const services: Server[] = [];
    cleanups.push(() => Promise.all(services.map((s) => new Promise((r) => s.close(r)))));
    for (let i = 0; i < opts.vms; i++) {
      const s = createServer((c) => c.end());
      await new Promise<void>((r) => s.listen(port, testIp(i), r));
      services.push(s);
    }
    const yaml = runbook(opts.vms, east, west, engineUrl, port);
    const compiled = compile(yaml, { file: 'chaos-vsphere.yaml', mode: 'test' });
    if (!compiled.plan) throw new Error(`the chaos runbook does not compile: ${JSON.stringify(compiled.diagnostics)}`);
    writeFileSync(join(dir, 'chaos-vsphere.yaml'), yaml);
    await Promise.all([settled(east), settled(west)]);
    const before = { east: await inventoryOf(east), west: await inventoryOf(west) };

    const { worker, client } = await startServerAndWorker(dir, logs, cleanups, {
      CHAOS_VC_PASSWORD: 'not-a-real-password',
    });

    const modes: Mode[] = ['test', 'cleanup'];
    for (const [i, mode] of modes.entries()) {
      const since = { east: await latestKey(east), west: await latestKey(west) };
      const delay = rng.int(100);
      let frozen = false;
      const outage = { workflowId: `chaos-vsphere-${mode}`, site: 'vc-west', since: 0 };
      const run = await chaosRun({
        client,
        worker,
        workflowId: `chaos-vsphere-${mode}`,
        input: { runbook: 'chaos-vsphere.yaml', mode },
        kills: Math.ceil((opts.kills - figures.kills) / (modes.length - i)),
        rng,
        // Frozen while the run acts on vc-west: once a step there runs, or a sync is done (a test's steps at
        // vc-west come next), after a seeded delay under 0.1 s; for freezeMs and until a step of the run has
        // failed on it (holdUntilMet). vcsim answers at once: a test's steps at vc-west, a chain per VM
        // (docs/scale.md), take well under a second in all, too short a window to wait for one to be seen.
        outage: async (watch) => {
          // A workload's step, not the plan's test network (made before any sync: frozen then, the syncs
          // fail through the engine's hook and nothing calls vc-west itself until the freeze ends).
          const acting = (r: RunRecord) =>
            r.steps.some(
              (x) =>
                (x.site === 'vc-west' && x.status === 'running' && !x.id.startsWith('plan/')) ||
                (x.kind === 'syncReplication' && x.status === 'succeeded'),
            );
          if (!(await watch.until(acting, 300_000))) return;
          await sleep(delay);
          const t = (outage.since = Date.now());
          west.freeze();
          frozen = true;
          log(`  vsphere ${mode}: vCenter west frozen (SIGSTOP)`);
          await holdUntilMet(join(dir, 'processes.log'), outage, opts.freezeMs, 60_000);
          west.thaw();
          figures.outages.push(`${mode}: vc-west frozen ${((Date.now() - t) / 1000).toFixed(1)} s`);
        },
        log,
        label: `vsphere ${mode}`,
      });
      const { dup } = tallyRun(figures, mode, run, log);
      if (!frozen) figures.problems.push(`${mode} ended before vCenter west was frozen`);
      else if (!(await metOutage(join(dir, 'processes.log'), outage)))
        figures.problems.push(`${mode} never met the frozen vCenter (no step failed SiteUnreachable)`);
      // Duplicate effects, from vCenter: the events this run posted and what the inventory holds now (dup).
      for (const [site, v, since0] of [
        ['east', east, since.east],
        ['west', west, since.west],
      ] as const) {
        const fx = await effectsAt(v, since0);
        if (fx.overflowed) figures.problems.push(`${site}: vCenter's event history overflowed during ${mode}`);
        for (const [vm, n] of fx.powerOns) {
          const expected = mode === 'test' && site === 'west' && /-chaos-bubble$/.test(vm) ? 1 : 0;
          dup(n - expected, `${site}: ${vm} powered on ${n}×`);
        }
        for (const [vm, n] of fx.clones) dup(n - 1, `${site}: ${vm} cloned ${n}×`);
        dup(fx.portGroups - 1, `${site}: port group ${NETWORK} created ${fx.portGroups}×`);
        for (const [name, n] of fx.names)
          if (name.endsWith(`-${NETWORK}`)) dup(n - 1, `${site}: ${n} VMs named ${name}`);
        for (const [name, n] of fx.snapshots) dup(n - 1, `${site}: ${n} snapshots drover-${NETWORK} of ${name}`);
        dup(fx.networks - 1, `${site}: ${fx.networks} port groups named ${NETWORK}`);
        if (mode === 'test' && site === 'west' && figures.completed === figures.attempted) {
          // The test must have made what it claims, or "0 duplicates" means nothing.
          const made = Array.from({ length: opts.vms }, (_, k) => cloneName(k)).filter(
            (c) => fx.powerOns.get(c) !== undefined,
          ).length;
          if (made !== opts.vms) figures.problems.push(`test powered on ${made} of ${opts.vms} clones`);
        }
      }
    }
    const after = { east: await inventoryOf(east), west: await inventoryOf(west) };
    const orphans = [...orphansOf('east', before.east, after.east), ...orphansOf('west', before.west, after.west)];
    figures.orphans = orphans.length;
    figures.orphanExamples = orphans;
    if (worker.unexpectedExits) log(`  vsphere: the worker exited on its own ${worker.unexpectedExits} time(s)`);
    if (figures.kills === 0) figures.problems.push('no worker kill landed during a run');
  } catch (e) {
    figures.problems.push(`the phase broke: ${(e as Error).message}`);
  } finally {
    for (const stop of cleanups.reverse()) await stop().catch(() => undefined);
    logs.end();
  }
  figures.seconds = (Date.now() - started) / 1000;
  return figures;
}
