/**
 * Failover with the protected site down: a planned migration stops (both sites must be up to migrate
 * without loss); a disaster recovery goes on, recovers from the newest replica and records its RPO.
 * The DNS switch is a real HTTP request to a server this test runs on 127.0.0.1.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Document } from 'yaml';
import { failedRecord, Scenario, startHarness, step, waitForRecord } from './harness';
import type { Harness } from './harness';
import type { RunRecord } from '../../contracts/record';

let h: Harness;
let dns: Server;
const dnsCalls: { method?: string; auth?: string; body: string }[] = [];

beforeAll(async () => {
  h = await startHarness();
  dns = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      dnsCalls.push({ method: req.method, auth: req.headers.authorization, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => dns.listen(0, '127.0.0.1', r));
  process.env.DNS_API_TOKEN = 'Bearer test-token';
}, 120_000);
afterAll(async () => {
  dns?.close();
  await h?.teardown();
});

const protectedSiteDown = (doc: Document) => {
  const url = `http://127.0.0.1:${(dns.address() as AddressInfo).port}/records/www`;
  doc.setIn(['steps', 1, 'http', 'url'], url);
  doc.setIn(['steps', 1, 'compensation', 'http', 'url'], url);
  doc.setIn(['simulation', 'faults'], [{ effect: 'site-down', site: 'protected' }]);
};

async function approveBoth(s: Scenario, mode: 'planned-migration' | 'disaster-recovery') {
  const handle = await s.start(mode);
  for (const by of ['alice', 'carol']) await handle.signal('approve', { step: 'plan/approve-failover', by });
  return handle;
}

test('planned migration with the protected site down stops with a clear error', async () => {
  const s = Scenario.webshop(h, protectedSiteDown);
  await s.startWorkers();
  try {
    const { record, message } = await failedRecord(await approveBoth(s, 'planned-migration'));
    expect(record.status).toBe('failed');
    expect(record.failedStep).toMatch(/\/sync$/);
    expect(message).toMatch(/site dc-east is unreachable/);
    // Nothing was recovered at the recovery site.
    expect(record.steps.filter((x) => x.kind === 'restore' && x.status === 'succeeded')).toEqual([]);
  } finally {
    await s.stopWorkers();
  }
});

test('disaster recovery proceeds past the lost site and records the RPO it achieved', async () => {
  const s = Scenario.webshop(h, protectedSiteDown);
  await s.seed(); // the estate exists, replicas 4 minutes behind, before the disaster
  await s.startWorkers();
  try {
    dnsCalls.length = 0;
    const handle = await approveBoth(s, 'disaster-recovery');
    await waitForRecord(handle, 'the commit window', (r) => r.status === 'awaiting-commit');
    await handle.executeUpdate('commit', { args: [{ by: 'alice' }] });
    const record = (await handle.result()) as RunRecord;
    expect(record.status).toBe('succeeded');
    expect(record.commitWindow?.decision).toMatchObject({ decision: 'commit', by: 'alice' });
    // Fencing the lost site was tried, and recorded as failed, best effort.
    expect(step(record, 'orders-db/fence')).toMatchObject({ status: 'failed', error: { type: 'SiteUnreachable' } });
    expect(step(record, 'orders-db/shutdown')).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { type: 'SiteUnreachable' },
    });
    expect(step(record, 'orders-db/validate').status).toBe('succeeded');
    // The runbook's simulated replica is 4 minutes old: that is the data lost.
    expect(record.achieved.rpoMs).toBeGreaterThanOrEqual(240_000);
    expect(record.achieved.rpoMs).toBeLessThan(250_000);
    expect(record.achieved.rtoMs).toBeGreaterThan(0);
    expect(dnsCalls).toEqual([
      { method: 'POST', auth: 'Bearer test-token', body: '{"target":"www.dc-west.shop.example.com"}' },
    ]);
  } finally {
    await s.stopWorkers();
  }
});
