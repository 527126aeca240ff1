/**
 * The runbook language of the vSphere provider: site connections (TLS, placement, replication hooks),
 * workload `vsphere:` blocks (VMs, NICs, addresses, DNS), and what the compiler plans from them.
 */
import { compileText, mustPlan } from '../helpers';
import type { Diagnostic } from '../../compiler';

const THUMBPRINT = 'AB'.repeat(32);

/** Two vCenters, each trusted a different way; a database with addresses and an app without. */
const V = `apiVersion: drover.dev/v1
kind: RecoveryPlan
metadata:
  name: vs
objectives:
  rpo: 15m
  rto: 4h
sites:
  protected:
    name: east
    provider: vsphere
    connection:
      url: https://vc-east.example.com/sdk
      username: drover@vsphere.local
      password: env:VC_EAST_PASSWORD
      thumbprint: ${THUMBPRINT}
      datacenter: dc-east
      cluster: prod
      replication:
        sync:
          http:
            method: POST
            url: https://repl-east.example.com/api/sync
            headers: { Authorization: env:REPL_TOKEN }
  recovery:
    name: west
    provider: vsphere
    testNetwork: dr-bubble
    connection:
      url: https://vc-west.example.com:8443/sdk
      username: env:VC_WEST_USER
      password: file:/run/secrets/vc-west
      caFile: /etc/drover/vc-west-ca.pem
      datacenter: dc-west
      resourcePool: /dc-west/host/dr/Resources/drover
      datastore: dr-ssd
      folder: /dc-west/vm/drover
      dvSwitch: dvs-dr
      replication:
        sync: { command: { argv: [repl, sync, --to, east] } }
        reverse: { command: { argv: [repl, reverse, --to, east] } }
        pointKey: guestinfo.repl.point
groups:
  - name: core
    priority: 1
    workloads:
      - name: db
        vsphere:
          vm: /dc-east/vm/prod/db-01
          replica: db-01-replica
          datastore: dr-nvme
          nics:
            - network: prod-db
              ip: { address: 10.20.0.15/24, gateway: 10.20.0.1 }
              ipv6: { address: "fd00:20::15/64", gateway: "fd00:20::1" }
              test: { network: bubble-db, ip: { address: 192.168.50.15/24 } }
          dns: { servers: [10.20.0.2, "fd00:20::2"], suffixes: [corp.example.com] }
        validations:
          - tcp: { port: 5432 }
  - name: web
    priority: 2
    workloads:
      - name: app
        vsphere: { vm: app-01, replica: app-01-replica, nics: [{ network: prod-app }] }
        validations:
          - http: { url: "http://{guest}:8080/health" }
`;

/** Where `needle` first occurs (after `after`, if given), as the compiler reports positions. */
function at(text: string, needle: string, after = ''): { line: number; column: number } {
  const from = text.indexOf(after);
  const i = text.indexOf(needle, from < 0 ? 0 : from);
  if (from < 0 || i < 0) throw new Error(`"${needle}" is not in the text`);
  const before = text.slice(0, i).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

function only(diagnostics: Diagnostic[], code: string): Diagnostic {
  const found = diagnostics.filter((d) => d.code === code);
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe('vSphere runbooks', () => {
  test('a complete runbook is valid in every mode', () => {
    expect(compileText(V).diagnostics).toEqual([]);
  });

  test('the plan carries the connection and the workload block as written', () => {
    const plan = mustPlan(V, 'planned-migration');
    expect(plan.sites.west!.connection).toMatchObject({
      url: 'https://vc-west.example.com:8443/sdk',
      caFile: '/etc/drover/vc-west-ca.pem',
      dvSwitch: 'dvs-dr',
      replication: { pointKey: 'guestinfo.repl.point' },
    });
    expect(plan.sites.east!.connection).toMatchObject({ thumbprint: THUMBPRINT, cluster: 'prod' });
    const network = plan.steps.find((s) => s.id === 'db/network')!;
    expect(network).toMatchObject({ kind: 'customizeNetwork', site: 'west' });
    expect(network.params.network).toBe('production');
    expect(network.params.settings).toMatchObject({
      vm: '/dc-east/vm/prod/db-01',
      replica: 'db-01-replica',
      nics: [{ network: 'prod-db', ip: { address: '10.20.0.15/24' }, test: { network: 'bubble-db' } }],
      dns: { servers: ['10.20.0.2', 'fd00:20::2'], suffixes: ['corp.example.com'] },
    });
    // Syncs run at the site replicated from; the app, without addresses, is not customized.
    expect(plan.steps.filter((s) => s.kind === 'syncReplication').map((s) => `${s.id}@${s.site}`)).toEqual(
      expect.arrayContaining(['db/sync@east', 'db/finalSync@east', 'app/sync@east']),
    );
    expect(plan.steps.some((s) => s.id === 'app/network')).toBe(false);
  });

  test('test mode creates the test network first and customizes the copy on it', () => {
    const plan = mustPlan(V, 'test');
    const net = plan.steps.find((s) => s.id === 'plan/test-network')!;
    expect(net).toMatchObject({ kind: 'createTestNetwork', site: 'west', params: { network: 'dr-bubble' } });
    expect(plan.steps.find((s) => s.id === 'db/restore')!.dependsOn).toContain('plan/test-network');
    expect(plan.steps.find((s) => s.id === 'db/network')!.params.network).toBe('dr-bubble');
    expect(plan.steps.find((s) => s.id === 'app/validate')!.params.checks).toEqual([
      { http: { url: 'http://{guest}:8080/health' } },
    ]);
  });

  test('the network action comes with an address or DNS in the vsphere block, and only then', () => {
    const has = (text: string) => mustPlan(text, 'test').steps.some((s) => s.id === 'db/network');
    const noDns = V.replace(/^ {10}dns: .*\n/m, '');
    const bare = noDns.replace(/^ {14}(ip|ipv6|test): .*\n/gm, '');
    expect(has(bare)).toBe(false);
    expect(has(noDns.replace(/^ {14}(ip|ipv6): .*\n/gm, ''))).toBe(true); // test.ip alone
    expect(
      has(bare.replace('- network: prod-db', `- network: prod-db\n              ipv6: { address: "fd00::5/64" }`)),
    ).toBe(true);
    expect(has(V.replace(/^ {14}(ip|ipv6|test): .*\n/gm, ''))).toBe(true); // dns alone
  });

  test('a site that does not say how to verify the certificate is an error at its connection', () => {
    const text = V.replace('      caFile: /etc/drover/vc-west-ca.pem\n', '');
    const d = only(compileText(text).diagnostics, 'vsphere/tls');
    expect(d).toMatchObject({ severity: 'error', ...at(text, 'connection:', 'name: west') });
    expect(d.message).toBe('site west does not say how to verify the vCenter certificate');
    expect(d.hint).toContain('thumbprint: <SHA-256>');
    expect(d.hint).toContain('openssl x509 -noout -fingerprint -sha256');
    expect(d.hint).toContain('insecure: true');
    // The URL from the environment may be https too: it needs one as well.
    const fromEnv = text.replace('https://vc-west.example.com:8443/sdk', 'env:VC_WEST_URL');
    expect(compileText(fromEnv).diagnostics.map((x) => x.code)).toEqual(['vsphere/tls']);
  });

  test('two ways of trusting the certificate is an error at the second', () => {
    const text = V.replace('      caFile: /etc/drover/vc-west-ca.pem\n', `$&      thumbprint: ${THUMBPRINT}\n`);
    const d = only(compileText(text).diagnostics, 'vsphere/tls');
    expect(d).toMatchObject({ severity: 'error', ...at(text, 'thumbprint', 'name: west') });
    expect(d.message).toContain('gives 2 ways to trust the vCenter certificate (caFile, thumbprint)');
  });

  test('insecure: true plans, with a warning at the key', () => {
    const text = V.replace('caFile: /etc/drover/vc-west-ca.pem', 'insecure: true');
    const { plan, diagnostics } = compileText(text, 'test');
    expect(plan).toBeDefined();
    const d = only(diagnostics, 'vsphere/insecure');
    expect(d).toMatchObject({ severity: 'warning', ...at(text, 'insecure') });
    expect(d.message).toBe('TLS is not verified for site west: anyone on the path can read the credentials');
    // With another option as well it is both: two options, and still not verified.
    const both = V.replace('caFile: /etc/drover/vc-west-ca.pem', '$&\n      insecure: true');
    expect(
      compileText(both)
        .diagnostics.map((x) => `${x.severity}:${x.code}`)
        .sort(),
    ).toEqual(['error:vsphere/tls', 'warning:vsphere/insecure']);
  });

  test('a plain http URL needs no certificate but warns', () => {
    const text = V.replace('https://vc-west.example.com:8443/sdk', 'http://vc-west.example.com/sdk').replace(
      '      caFile: /etc/drover/vc-west-ca.pem\n',
      '',
    );
    const d = only(compileText(text).diagnostics, 'vsphere/insecure');
    expect(d).toMatchObject({ severity: 'warning', ...at(text, 'http://vc-west') });
    expect(d.message).toBe('TLS is not used for site west: anyone on the path can read the credentials');
  });

  test('url may be an env reference (vcsim on a free port), not a bare host', () => {
    const text = V.replace('https://vc-west.example.com:8443/sdk', 'env:VCSIM_URL');
    expect(compileText(text).diagnostics).toEqual([]);
    expect(mustPlan(text, 'test').sites.west!.connection.url).toBe('env:VCSIM_URL');
    const bare = V.replace('https://vc-west.example.com:8443/sdk', 'vc-west.example.com');
    expect(only(compileText(bare).diagnostics, 'schema/format')).toMatchObject({
      ...at(bare, 'vc-west.example.com'),
      message:
        'sites.recovery.connection.url is "vc-west.example.com", which is neither an http:// or https:// URL nor an `env:NAME` reference (format `http-url`)',
      hint: 'write the whole URL, starting with `https://` or `http://`, e.g. `https://hooks.example.com/drover`; or `env:NAME`',
    });
    // A file: reference is refused here (the URL is only read from the environment).
    const file = V.replace('https://vc-west.example.com:8443/sdk', 'file:/run/vc-url');
    expect(only(compileText(file).diagnostics, 'schema/format').path).toBe('/sites/recovery/connection/url');
  });

  test('thumbprints: SHA-256 hex, colons and any case, or a reference; not SHA-1', () => {
    const colons = Array.from({ length: 32 }, () => 'ab').join(':');
    for (const t of [colons, THUMBPRINT.toLowerCase(), 'env:VC_EAST_THUMBPRINT', 'file:/etc/drover/east.sha256'])
      expect(compileText(V.replace(THUMBPRINT, t)).diagnostics).toEqual([]);
    const sha1 = V.replace(THUMBPRINT, 'AB:'.repeat(19) + 'AB');
    const d = only(compileText(sha1).diagnostics, 'schema/invalid');
    expect(d.path).toBe('/sites/protected/connection/thumbprint');
    expect(d.hint).toContain('not vCenter');
  });

  test('an inline password is rejected as a secret', () => {
    const text = V.replace('env:VC_EAST_PASSWORD', 'hunter2');
    const d = only(compileText(text).diagnostics, 'secret/inline');
    expect(d).toMatchObject({ severity: 'error', ...at(text, 'hunter2') });
  });

  test('a bad IPv4 address is a format error at it, naming it', () => {
    const text = V.replace('10.20.0.15/24', '10.20.0.256/24');
    const d = only(compileText(text).diagnostics, 'schema/format');
    expect(d).toMatchObject({ severity: 'error', ...at(text, '10.20.0.256/24') });
    expect(d.message).toBe(
      'groups[0].workloads[0].vsphere.nics[0].ip.address is "10.20.0.256/24", which is not an IPv4 address with its prefix length (format `cidr4`)',
    );
    expect(d.hint).toBe('`10.20.0.256` is not an IPv4 address: four numbers from 0 to 255, e.g. `10.20.0.15/24`');
    const hints = {
      '10.20.0.15': 'add the prefix length (0 to 32) after a `/`, e.g. `10.20.0.15/24`',
      '10.20.0.15/33': 'the prefix length is a number from 0 to 32, e.g. `10.20.0.15/24`',
      '10.20.0.15/024': 'the prefix length is a number from 0 to 32, e.g. `10.20.0.15/24`',
      '10.20.0.15/24/8': 'write the address and its prefix length (0 to 32), e.g. `10.20.0.15/24`',
      'db.example.com/24': 'write the address and its prefix length (0 to 32), e.g. `10.20.0.15/24`',
    };
    for (const [bad, hint] of Object.entries(hints)) {
      const found = only(compileText(V.replace('10.20.0.15/24', bad)).diagnostics, 'schema/format');
      expect(found.message).toContain(`"${bad}"`);
      expect(found.hint).toBe(hint);
    }
  });

  test('prefix length 0 is valid CIDR but no NIC subnet: the compiler says so', () => {
    const text = V.replace('10.20.0.15/24', '10.20.0.15/0');
    const d = only(compileText(text).diagnostics, 'vsphere/address');
    expect(d).toMatchObject({ severity: 'error', ...at(text, '10.20.0.15/0') });
    expect(d.message).toBe('"10.20.0.15/0" has prefix length 0: every address would be on the NIC\'s link');
    const v6 = V.replace('fd00:20::15/64', 'fd00:20::15/0');
    expect(only(compileText(v6).diagnostics, 'vsphere/address').hint).toContain('`fd00:20::15/64`');
    // In the other family's key it is the schema's to say, once.
    const swapped = V.replace('fd00:20::15/64', '10.20.0.16/0');
    expect(compileText(swapped).diagnostics.map((d) => d.code)).toEqual(['schema/format']);
  });

  test('a bad IPv6 address is a format error at it, naming it; each family in its own key', () => {
    const text = V.replace('fd00:20::15/64', 'fd00:20::g5/64');
    const d = only(compileText(text).diagnostics, 'schema/format');
    expect(d).toMatchObject({ severity: 'error', ...at(text, '"fd00:20::g5/64"') });
    expect(d.message).toBe(
      'groups[0].workloads[0].vsphere.nics[0].ipv6.address is "fd00:20::g5/64", which is not an IPv6 address with its prefix length (format `cidr6`)',
    );
    const swapped = V.replace('fd00:20::15/64', '10.20.0.16/24');
    expect(only(compileText(swapped).diagnostics, 'schema/format').hint).toBe('an IPv4 address goes in `ip:`');
    const inIp = V.replace('192.168.50.15/24', 'fd00:50::15/64');
    expect(only(compileText(inIp).diagnostics, 'schema/format')).toMatchObject({
      path: '/groups/0/workloads/0/vsphere/nics/0/test/ip/address',
      hint: 'an IPv6 address goes in `ipv6:`',
    });
  });

  test('IPv6 in any written form where IPv6 is allowed: compressed, loopback, full prefix', () => {
    for (const address of ['fd00::10/64', '::1/128', 'fd00:0:0:0:0:0:0:10/64']) {
      const text = V.replace('fd00:20::15/64', address).replace(
        '{ network: bubble-db, ip: { address: 192.168.50.15/24 } }',
        '{ network: bubble-db, ipv6: { address: "::1/128", gateway: "::1" } }',
      );
      expect(compileText(text).diagnostics).toEqual([]);
      expect(JSON.stringify(mustPlan(text, 'disaster-recovery'))).toContain(`"${address}"`);
    }
  });

  test('gateways and DNS servers are addresses of their family', () => {
    const gw = V.replace('gateway: "fd00:20::1"', 'gateway: "fd00:20::1/64"');
    const d = only(compileText(gw).diagnostics, 'schema/format');
    expect(d).toMatchObject(at(gw, '"fd00:20::1/64"'));
    expect(d.message).toBe(
      'groups[0].workloads[0].vsphere.nics[0].ipv6.gateway is "fd00:20::1/64", which is not an IPv6 address (format `ipv6`)',
    );
    expect(d.hint).toBe('the gateway is a plain IPv6 address, without `/length`');
    const v4gw = V.replace('gateway: 10.20.0.1 }', 'gateway: "fd00:20::1" }');
    expect(only(compileText(v4gw).diagnostics, 'schema/format').hint).toBe('an IPv6 address goes in `ipv6:`');
    const dns = V.replace('servers: [10.20.0.2', 'servers: [ns1.corp.example.com');
    expect(only(compileText(dns).diagnostics, 'schema/format')).toMatchObject({
      ...at(dns, 'ns1.corp'),
      message:
        'groups[0].workloads[0].vsphere.dns.servers[0] is "ns1.corp.example.com", which is not an IP address (IPv4 or IPv6) (format `ip`)',
      hint: 'write an address, not a name, e.g. `10.20.0.2` or `fd00:20::2`',
    });
    const suffix = V.replace('suffixes: [corp.example.com]', 'suffixes: [corp_example.com]');
    expect(only(compileText(suffix).diagnostics, 'schema/format')).toMatchObject({
      ...at(suffix, 'corp_example'),
      message: expect.stringContaining('which is not a DNS name (format `hostname`)'),
    });
  });

  test('the workload block needs the production VM and the replica', () => {
    const noReplica = V.replace('          replica: db-01-replica\n', '');
    expect(only(compileText(noReplica).diagnostics, 'schema/required').message).toContain('"replica"');
    const noBlock = V.replace(/ {8}vsphere: \{ vm: app-01.*\n/, '');
    const d = only(compileText(noBlock).diagnostics, 'provider/settings');
    expect(d.hint).toBe('add `vsphere: { vm: <production VM>, replica: <replica VM> }` (names or inventory paths)');
    const typo = V.replace('nics: [{ network: prod-app }]', 'nics: [{ netwrok: prod-app }]');
    expect(
      compileText(typo)
        .diagnostics.map((x) => x.code)
        .sort(),
    ).toEqual(['schema/required', 'schema/unknown-key']);
  });

  test('a vsphere site needs a connection, and a cluster or a resource pool, not both', () => {
    const noConnection = V.replace(/ {4}connection:\n( {6}.*\n)+/, '');
    expect(only(compileText(noConnection).diagnostics, 'schema/required').message).toContain('"connection"');
    const both = V.replace(
      '      cluster: prod\n',
      '      cluster: prod\n      resourcePool: /dc-east/host/prod/Resources\n',
    );
    expect(only(compileText(both).diagnostics, 'vsphere/placement')).toMatchObject(at(both, 'resourcePool'));
  });

  test('replication: sync and reverse steps on vSphere sites, with or without hooks', () => {
    const noHooks = V.replace(/^ {6}replication:\n( {8}.*\n)+/gm, '');
    expect(noHooks).not.toContain('replication:');
    expect(compileText(noHooks).diagnostics).toEqual([]);
    for (const text of [V, noHooks]) {
      expect(mustPlan(text, 'test').steps.find((s) => s.id === 'db/sync')).toMatchObject({
        kind: 'syncReplication',
        site: 'east',
        params: { to: 'west' },
      });
      expect(mustPlan(text, 'reprotect').steps.find((s) => s.kind === 'reverseReplication')).toMatchObject({
        id: 'db/reverseReplication',
        site: 'west',
        params: { to: 'east' },
      });
      expect(mustPlan(text, 'failback').steps.find((s) => s.id === 'db/finalSync')).toMatchObject({
        site: 'west',
        params: { proveCaughtUp: true },
      });
    }
  });

  test('a hook gives exactly one action, and no inline credential', () => {
    const two = V.replace('argv: [repl, sync, --to, east] }', '$&, http: { url: "https://r/sync" }');
    expect(only(compileText(two).diagnostics, 'step/action').message).toBe(
      'a replication hook gives 2 actions (http, command)',
    );
    const none = V.replace('sync: { command: { argv: [repl, sync, --to, east] } }', 'sync: {}');
    expect(only(compileText(none).diagnostics, 'step/action').message).toBe('a replication hook gives no action');
    const token = V.replace('Authorization: env:REPL_TOKEN', 'Authorization: Bearer abc');
    expect(only(compileText(token).diagnostics, 'secret/inline')).toMatchObject(at(token, 'Bearer abc'));
    const extra = V.replace('pointKey: guestinfo.repl.point', 'pointkey: guestinfo.repl.point');
    expect(only(compileText(extra).diagnostics, 'schema/unknown-key').hint).toBe('did you mean "pointKey"?');
  });
});
