/**
 * The vSphere example (runbooks/vsphere-shop.yaml) on a real Temporal dev server against two real vCenter
 * API peers (vcsim): test then cleanup leaves both inventories identical; planned migration, reprotect and
 * failback end with the VMs running on the right side; validations reach the guests' loopback IPs.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { toHtml } from '../../reports/html';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import type { Document } from 'yaml';
import type { RunRecord } from '../../contracts/record';
import { closeSessions } from '../../providers/vsphere/site';
import { text } from '../../providers/vsphere/soap';
import {
  GuestAgent,
  inventoryOf,
  powerOnEvents,
  prepareEstate,
  ReplicationEngine,
  startVcsim,
  vm,
} from '../vsphere/fixture';
import type { Vcsim } from '../vsphere/fixture';
import { extraConfigOf } from '../../providers/vsphere/site';
import { failedRecord, ROOT, Scenario, step, useHarness, waitForRecord } from './harness';

jest.setTimeout(180_000);
const harness = useHarness();

const WORKLOADS = [
  { vm: 'shop-db-01', replica: 'shop-db-01-replica' },
  { vm: 'shop-web-01', replica: 'shop-web-01-replica' },
];
/** The guests' services: where the validations connect (the IPs Drover's customization gives them). */
const GUEST_IPS = ['127.0.0.21', '127.0.0.22', '127.0.0.31', '127.0.0.32'];

interface Sites {
  east: Vcsim;
  west: Vcsim;
  engine: ReplicationEngine;
  agent: GuestAgent;
  stop(): Promise<void>;
}

async function startSites(westArgs: string[] = []): Promise<Sites> {
  const [east, west] = await Promise.all([startVcsim(), startVcsim(westArgs)]);
  await prepareEstate(east, west, WORKLOADS);
  const engine = new ReplicationEngine({ 'vc-east': east, 'vc-west': west });
  const url = await engine.start();
  const agent = new GuestAgent([east, west]);
  agent.start();
  Object.assign(process.env, {
    VCENTER_EAST_URL: east.url,
    VCENTER_EAST_THUMBPRINT: east.thumbprint,
    VCENTER_WEST_URL: west.url,
    VCENTER_WEST_THUMBPRINT: west.thumbprint,
    VCENTER_USER: 'drover',
    VCENTER_PASSWORD: 'not-a-real-password',
    REPLICATION_SYNC_URL: `${url}/sync`,
    REPLICATION_REVERSE_URL: `${url}/reverse`,
  });
  return {
    east,
    west,
    engine,
    agent,
    stop: async () => {
      await agent.stop();
      await closeSessions();
      await engine.stop();
      await Promise.all([east.stop(), west.stop()]);
    },
  };
}

let services: Server[] = [];
beforeAll(async () => {
  for (const host of GUEST_IPS) {
    const web = createHttpServer((_req, res) => res.end('ok'));
    const db = createTcpServer((s) => s.end());
    await new Promise<void>((r) => web.listen(18080, host, r));
    await new Promise<void>((r) => db.listen(15432, host, r));
    services.push(web as unknown as Server, db);
  }
});
afterAll(async () => {
  await Promise.all(services.map((s) => new Promise((r) => s.close(r))));
  services = [];
});

function scenario(edit: (doc: Document) => void = () => undefined): Scenario {
  const doc = parseDocument(readFileSync(join(ROOT, 'runbooks', 'vsphere-shop.yaml'), 'utf8'));
  const id = `v${process.pid}-${Date.now() % 100000}`;
  doc.setIn(['sites', 'protected', 'taskQueue'], `${id}-east`);
  doc.setIn(['sites', 'recovery', 'taskQueue'], `${id}-west`);
  doc.setIn(['defaults', 'retry', 'initialInterval'], '200ms');
  doc.setIn(['defaults', 'retry', 'maxInterval'], '1s');
  edit(doc);
  return new Scenario(harness.h, doc.toString());
}

async function failover(s: Scenario, mode: 'planned-migration' | 'failback'): Promise<RunRecord> {
  const handle = await s.start(mode, `${s.id}-${mode}`);
  await waitForRecord(handle, 'the commit window', (r) => r.status === 'awaiting-commit', 120_000);
  await handle.executeUpdate('commit', { args: [{ by: 'alice', comment: 'shop checked' }] });
  return (await handle.result()) as RunRecord;
}

async function powerOf(site: Vcsim, name: string): Promise<string | undefined> {
  return text((await site.client.props(await vm(site.client, name), ['runtime.powerState']))['runtime.powerState']);
}

test('test then cleanup of the example leaves both vCenter inventories identical; a switchover, reprotect and failback end on the right side', async () => {
  const sites = await startSites();
  const s = scenario();
  try {
    await s.startWorkers();
    const before = [await inventoryOf(sites.east), await inventoryOf(sites.west)];

    const test = await s.runToEnd('test');
    expect(test.status).toBe('succeeded');
    expect(step(test, 'web/validate').message).toContain('127.0.0.31');
    expect(step(test, 'db/restore').message).toContain('from snapshot drover-shop-bubble');
    expect(await inventoryOf(sites.west)).not.toEqual(before[1]);
    // The report is audit evidence: it names the real vCenter operations, the objects and how long each took.
    const html = toHtml(test);
    for (const op of ['AddDVPortgroup_Task', 'CloneVM_Task', 'CustomizeVM_Task', 'PowerOnVM_Task'])
      expect(html).toContain(op);
    expect(html).toMatch(/shop-web-01-replica-shop-bubble \(vm-\d+\) in vCenter 127\.0\.0\.1:\d+/);
    expect(html).toMatch(/<td>\d+(ms|s)<\/td>/);
    mkdirSync(join(ROOT, 'test', 'artifacts'), { recursive: true });
    writeFileSync(join(ROOT, 'test', 'artifacts', 'report-vsphere-test.html'), html);
    expect((await s.runToEnd('cleanup')).status).toBe('succeeded');
    expect([await inventoryOf(sites.east), await inventoryOf(sites.west)]).toEqual(before);

    const pm = await failover(s, 'planned-migration');
    expect(pm.status).toBe('succeeded');
    expect(step(pm, 'db/finalSync').message).toContain('caught up');
    expect(step(pm, 'web/validate').message).toContain('127.0.0.21');
    for (const w of WORKLOADS) {
      expect(await powerOf(sites.east, w.vm)).toBe('poweredOff');
      expect(await powerOf(sites.west, w.replica)).toBe('poweredOn');
    }

    expect((await s.runToEnd('reprotect')).status).toBe('succeeded');
    expect(sites.engine.calls.filter((c) => c.action === 'reverse')).toHaveLength(2);
    const old = await sites.east.client.props(await vm(sites.east.client, 'shop-db-01'), ['config.extraConfig']);
    expect(extraConfigOf(old)).toMatchObject({ 'drover.role': 'replica' });

    const back = await failover(s, 'failback');
    expect(back.status).toBe('succeeded');
    for (const w of WORKLOADS) {
      expect(await powerOf(sites.east, w.vm)).toBe('poweredOn');
      expect(await powerOf(sites.west, w.replica)).toBe('poweredOff');
    }
    expect(step(back, 'web/validate').message).toContain('127.0.0.21');
  } finally {
    await s.stopWorkers();
    await sites.stop();
  }
});

test('a switchover whose replica stays behind the stopped source promotes nothing and restarts the sources', async () => {
  const sites = await startSites();
  sites.engine.lagMs = 30_000;
  const s = scenario((doc) => doc.setIn(['defaults', 'retry', 'maxAttempts'], 2));
  try {
    await s.startWorkers();
    const { record, message } = await failedRecord(await s.start('planned-migration'));
    expect(record.status).toBe('failed');
    expect(record.failedStep).toMatch(/\/finalSync$/);
    expect(step(record, record.failedStep!).error?.type).toBe('ReplicaBehind');
    expect(message).toMatch(/holds data as of \S+Z, but shop-\w+-01 at vc-east stopped at \S+Z/);
    expect(record.steps.filter((x) => x.kind === 'promote' && x.status !== 'not-run')).toEqual([]);
    for (const w of WORKLOADS) {
      const replica = await sites.west.client.props(await vm(sites.west.client, w.replica), ['config.extraConfig']);
      expect(extraConfigOf(replica)['drover.role']).toBeUndefined();
      expect(await powerOf(sites.east, w.vm)).toBe('poweredOn');
      const source = await sites.east.client.props(await vm(sites.east.client, w.vm), ['config.extraConfig']);
      expect(extraConfigOf(source)['drover.fenced']).toBeUndefined();
    }
  } finally {
    await s.stopWorkers();
    await sites.stop();
  }
});

test('a power-on slower than its timeout is retried and powers the VM on once', async () => {
  // vcsim answers PowerOnVM_Task at west only after 4 s: the 2 s attempt times out, vCenter still powers on.
  const sites = await startSites(['-method-delay', 'PowerOnVM_Task:4000']);
  const s = scenario((doc) => {
    doc.setIn(['groups', 0, 'workloads', 0, 'actions'], { powerOn: { timeout: '2s' } });
    doc.setIn(['defaults', 'retry', 'maxAttempts'], 6);
  });
  try {
    await s.startWorkers();
    const before = await powerOnEvents(sites.west, 'shop-db-01-replica-shop-bubble').catch(() => 0);
    expect(before).toBe(0);
    const test = await s.runToEnd('test');
    expect(test.status).toBe('succeeded');
    const powerOn = step(test, 'db/powerOn');
    expect(powerOn.attempts).toBeGreaterThan(1);
    expect(powerOn.changed).toBe(false);
    expect(powerOn.message).toContain('already powered on');
    expect(await powerOnEvents(sites.west, 'shop-db-01-replica-shop-bubble')).toBe(1);
  } finally {
    await s.stopWorkers();
    await sites.stop();
  }
});

test('a vCenter that stops answering mid-run (SIGSTOP) gives retryable SiteUnreachable failures, and the run completes once it answers again', async () => {
  const sites = await startSites();
  const s = scenario((doc) => {
    doc.setIn(['sites', 'recovery', 'connection', 'requestTimeout'], '1s');
    doc.setIn(['defaults', 'retry', 'maxAttempts'], 10);
  });
  try {
    await s.startWorkers();
    const handle = await s.start('test');
    await waitForRecord(
      handle,
      'the first snapshot',
      (r) => r.steps.some((x) => x.kind === 'snapshot' && x.status === 'succeeded'),
      60_000,
    );
    sites.west.freeze();
    await new Promise((r) => setTimeout(r, 4000));
    sites.west.thaw();
    const record = (await handle.result()) as RunRecord;
    expect(record.status).toBe('succeeded');
    const retried = record.steps.filter((x) => x.site === 'vc-west' && x.attempts > 1);
    expect(retried.length).toBeGreaterThan(0);
    // Temporal keeps each retried activity's last failure in its started event.
    const history = JSON.stringify(await handle.fetchHistory());
    expect(history).toContain('SiteUnreachable');
    expect(history).toMatch(/vCenter at 127\.0\.0\.1:\d+ cannot be reached/);
  } finally {
    sites.west.thaw();
    await s.stopWorkers();
    await sites.stop();
  }
});

test('disaster recovery with the protected vCenter gone: fencing is best effort, the replicas come up from their newest point', async () => {
  const sites = await startSites();
  const s = scenario((doc) => doc.setIn(['sites', 'protected', 'connection', 'requestTimeout'], '1s'));
  try {
    await s.startWorkers();
    sites.east.freeze();
    const handle = await s.start('disaster-recovery');
    await waitForRecord(handle, 'the commit window', (r) => r.status === 'awaiting-commit', 120_000);
    await handle.executeUpdate('commit', { args: [{ by: 'alice' }] });
    const record = (await handle.result()) as RunRecord;
    expect(record.status).toBe('succeeded');
    // The source's steps could not reach east: they failed once and the recovery went on.
    expect(step(record, 'db/fence').status).toBe('failed');
    expect(step(record, 'db/fence').error?.type).toBe('SiteUnreachable');
    expect(step(record, 'db/promote').message).toMatch(/promoted from the recovery point of \S+Z/);
    expect(step(record, 'web/validate').message).toContain('127.0.0.21');
    for (const w of WORKLOADS) expect(await powerOf(sites.west, w.replica)).toBe('poweredOn');
  } finally {
    sites.east.thaw();
    await s.stopWorkers();
    await sites.stop();
  }
});

test('readiness reads vCenter: credentials, datastore room, test switch, each replica within its RPO', async () => {
  const sites = await startSites();
  const s = scenario();
  try {
    await s.startWorkers();
    const record = await s.runToEnd('readiness');
    expect(record.status).toBe('succeeded');
    expect(step(record, 'plan/reach-vc-west').message).toMatch(/vCenter 127\.0\.0\.1:\d+ \(VMware vCenter Server/);
    expect(step(record, 'plan/capacity').message).toMatch(
      /datastore LocalDS_0 has [\d.]+ GB free, the replicas' disks need [\d.]+ GB/,
    );
    expect(step(record, 'plan/capacity').message).not.toMatch(/need 0.0 GB/);
    expect(step(record, 'db/preCheck').message).toMatch(/replica shop-db-01-replica at vc-west holds data as of/);
  } finally {
    await s.stopWorkers();
    await sites.stop();
  }
});
