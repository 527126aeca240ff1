/**
 * The vSphere provider against two real vCenter API peers (vcsim), operation by operation, without
 * Temporal (test/integration/vsphere.test.ts runs whole plans on a Temporal server).
 */
import type { JsonObject, PlanSite } from '../../contracts/plan';
import { ProviderError } from '../../providers/errors';
import type { OperationContext, Provider } from '../../providers/types';
import { createVsphere } from '../../providers/vsphere';
import { closeSessions, siteOf } from '../../providers/vsphere/site';
import { GuestAgent, inventoryOf, POINT_KEY, prepareEstate, ReplicationEngine, startVcsim, vm } from './fixture';
import type { Vcsim } from './fixture';
import { text } from '../../providers/vsphere/soap';

jest.setTimeout(60_000);

let east: Vcsim;
let west: Vcsim;
let engine: ReplicationEngine;
let agent: GuestAgent;
let provider: Provider;
let sites: { east: PlanSite; west: PlanSite };
const env: NodeJS.ProcessEnv = { ...process.env, VS_PASSWORD: 'pw' };

const settings = {
  vm: 'web-01',
  replica: 'web-01-replica',
  nics: [{ network: 'DC0_DVPG0', ip: { address: '127.0.0.21/8' }, test: { ip: { address: '127.0.0.31/8' } } }],
};

function siteFor(name: string, role: PlanSite['role'], v: Vcsim, engineUrl: string): PlanSite {
  return {
    name,
    role,
    provider: 'vsphere',
    taskQueue: `q-${name}`,
    testNetwork: 'drover-bubble',
    maxParallel: 10,
    connection: {
      url: v.url,
      username: 'drover',
      password: 'env:VS_PASSWORD',
      thumbprint: v.thumbprint,
      datacenter: 'DC0',
      dvSwitch: 'DVS0',
      replication: {
        sync: { http: { method: 'POST', url: `${engineUrl}/sync` } },
        reverse: { http: { method: 'POST', url: `${engineUrl}/reverse` } },
        pointKey: POINT_KEY,
      },
    },
  };
}

beforeAll(async () => {
  [east, west] = await Promise.all([startVcsim(), startVcsim()]);
  await prepareEstate(east, west, [settings]);
  engine = new ReplicationEngine({ east, west });
  const engineUrl = await engine.start();
  sites = { east: siteFor('east', 'protected', east, engineUrl), west: siteFor('west', 'recovery', west, engineUrl) };
  agent = new GuestAgent([east, west]);
  agent.start();
  provider = createVsphere({ env });
});

afterAll(async () => {
  await agent?.stop();
  await closeSessions();
  await engine?.stop();
  await Promise.all([east?.stop(), west?.stop()]);
});

function ctx(site: PlanSite, attempt = 1, signal = new AbortController().signal): OperationContext {
  const peer = site === sites.east ? sites.west : sites.east;
  return { runId: 'r1', site, peer, attempt, heartbeat: () => undefined, signal };
}

function op(kind: string, site: PlanSite, params: JsonObject) {
  return provider.operations[kind as keyof Provider['operations']]!(
    { workload: 'web', type: 'vm', settings, ...params } as JsonObject,
    ctx(site),
  );
}

test('test then cleanup leaves both inventories identical, property by property', async () => {
  const before = [await inventoryOf(east), await inventoryOf(west)];
  const bubble = { network: 'drover-bubble' };
  expect((await op('createTestNetwork', sites.west, bubble)).changed).toBe(true);
  await op('syncReplication', sites.east, { network: 'production' });
  expect((await op('snapshot', sites.west, bubble)).changed).toBe(true);
  expect((await op('restore', sites.west, bubble)).changed).toBe(true);
  expect((await op('customizeNetwork', sites.west, bubble)).changed).toBe(true);
  expect((await op('powerOn', sites.west, bubble)).changed).toBe(true);
  expect((await op('powerOn', sites.west, bubble)).changed).toBe(false);
  await op('waitReady', sites.west, { ...bubble, readiness: { type: 'heartbeat' } });
  const clone = await vm(west.client, 'web-01-replica-drover-bubble');
  const guest = await west.client.props(clone, ['guest.ipAddress']);
  expect(text(guest['guest.ipAddress'])).toBe('127.0.0.31');
  expect(await inventoryOf(west)).not.toEqual(before[1]);
  for (const kind of ['powerOff', 'deleteCopy', 'removeSnapshot', 'removeTestNetwork'])
    expect((await op(kind, sites.west, bubble)).changed).toBe(true);
  expect([await inventoryOf(east), await inventoryOf(west)]).toEqual(before);
});

test('a wrong thumbprint is refused before anything is sent', async () => {
  const wrong = { ...sites.west, connection: { ...sites.west.connection, thumbprint: '00'.repeat(32) } };
  const err = await provider.operations.preCheck!({ workload: 'web', settings } as JsonObject, ctx(wrong)).catch(
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  expect((err as ProviderError).type).toBe('CertificateRejected');
  expect((err as ProviderError).retryable).toBe(false);
  expect((err as Error).message).toContain(west.thumbprint);
});

test('an expired session is logged in again, once, and the operation goes on', async () => {
  const site = await siteOf(sites.west, env);
  await op('preCheck', sites.west, {});
  const logins = site.client.calls.get('Login') ?? 0;
  // The server forgets the session (as vCenter does after its idle timeout); the client still holds the cookie.
  const sc = await site.client.serviceContent();
  await site.client.call('Logout', sc.sessionManager);
  const r = await op('preCheck', sites.west, {});
  expect(r.message).toContain('web-01-replica');
  expect(site.client.calls.get('Login')).toBe(logins + 1);
});

test('a site that cannot be reached is a retryable SiteUnreachable naming the vCenter', async () => {
  const gone = { ...sites.west, connection: { ...sites.west.connection, url: 'https://127.0.0.1:1/sdk' } };
  const err = (await provider.operations.preCheck!({ workload: 'web', settings } as JsonObject, ctx(gone)).catch(
    (e: unknown) => e,
  )) as ProviderError;
  expect(err.type).toBe('SiteUnreachable');
  expect(err.retryable).toBe(true);
  expect(err.message).toContain('127.0.0.1:1');
});
