/**
 * String formats in the runbook schema (compiler/formats.ts, through ajv-formats): IP addresses with and
 * without prefix length, hosts, URLs, and the `env:` / `file:` references that stand for a URL. Addresses
 * here are written into runbooks only (nothing connects to them): loopback, or fd00::/8 (ULA).
 */
import { compileText, BASE } from '../helpers';
import type { Diagnostic } from '../../compiler';
import { CUSTOM_FORMATS, parseCidr } from '../../compiler/formats';

const workload = (extra: string) => BASE.replace('      - name: app-1\n', `      - name: app-1\n${extra}`);
const schemaErrors = (text: string) => compileText(text).diagnostics.filter((d) => d.code.startsWith('schema/'));

/** The only diagnostic of `text`, which must be a `schema/format` one. */
function formatError(text: string): Diagnostic {
  const ds = compileText(text).diagnostics;
  expect(ds.map((d) => d.code)).toEqual(['schema/format']);
  return ds[0]!;
}

/** 1-based line and column of the first `needle` in `text`. */
function at(text: string, needle: string): { line: number; column: number } {
  const before = text.slice(0, text.indexOf(needle)).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

/** PostgreSQL sites and one pair whose protected node is on `host`. */
const pg = (host: string) => `apiVersion: drover.dev/v1
kind: RecoveryPlan
metadata:
  name: orders
objectives:
  rpo: 1m
  rto: 1h
sites:
  protected: { name: db-east, provider: postgres }
  recovery: { name: db-west, provider: postgres }
groups:
  - name: database
    workloads:
      - name: orders
        postgres:
          nodes:
            protected: { host: ${JSON.stringify(host)}, port: 5432, dataDir: /srv/pg/east }
            recovery: { host: 127.0.0.1, port: 5433, dataDir: /srv/pg/west }
`;

describe('the formats themselves', () => {
  const { cidr4, cidr6, host } = CUSTOM_FORMATS;

  test('cidr4: an IPv4 address and a prefix length 0 to 32, no leading zeros', () => {
    for (const ok of ['127.0.0.1/8', '10.20.0.15/24', '0.0.0.0/0', '127.0.0.1/32']) expect(cidr4!(ok)).toBe(true);
    for (const bad of ['999.999.999.999/99', '127.0.0.1', '127.0.0.1/33', '127.0.0.1/08', '127.0.0.1/', '::1/64'])
      expect(cidr4!(bad)).toBe(false);
  });

  test('cidr6: an IPv6 address and a prefix length 0 to 128', () => {
    for (const ok of ['::1/128', 'fd00::10/64', 'fd00:0:0:0:0:0:0:10/64', '::/0']) expect(cidr6!(ok)).toBe(true);
    for (const bad of ['::1', '::1/129', 'fd00::g/64', '127.0.0.1/8', 'fd00::10/64/1']) expect(cidr6!(bad)).toBe(false);
    expect(parseCidr('fd00::10/64')).toEqual({ family: 6, address: 'fd00::10', length: 64 });
  });

  test('host: a DNS name or an address; a name cannot end in a numeric label', () => {
    for (const ok of ['localhost', 'db-east.example.com', '127.0.0.1', '::1', 'fd00::10', 'db1'])
      expect(host!(ok)).toBe(true);
    for (const bad of ['999.999.999.999', '127.0.0', 'db_east.example.com', '-db.example.com', '[::1]', 'db1:5432', ''])
      expect(host!(bad)).toBe(false);
  });
});

describe('addresses', () => {
  test('999.999.999.999/99 is refused at the value, naming the format and giving an example', () => {
    const text = workload('        network: { ip: { address: 999.999.999.999/99, gateway: 127.0.0.1 } }\n');
    expect(formatError(text)).toMatchObject({
      ...at(text, '999.999'),
      path: '/groups/1/workloads/0/network/ip/address',
      message:
        'groups[1].workloads[0].network.ip.address is "999.999.999.999/99", which is not an IP address, with or without its prefix length (format `ip-or-cidr`)',
      hint: '`999.999.999.999` is not an IPv4 address: four numbers from 0 to 255, e.g. `10.20.1.11/24`, `10.20.1.11` or `fd00:20::11/64`',
    });
  });

  test('IPv6 can be written where an address of either family is allowed', () => {
    const v6 = workload(
      '        network: { ip: { address: "fd00::10/64", gateway: "::1", dns: ["::1", 127.0.0.53] } }\n',
    );
    expect(compileText(v6).diagnostics).toEqual([]);
    for (const address of ['127.0.0.10', '127.0.0.10/8', '::1'])
      expect(compileText(workload(`        network: { ip: { address: "${address}" } }\n`)).diagnostics).toEqual([]);
  });

  test('a gateway with a prefix length, and a DNS server by name, are refused', () => {
    const gw = workload('        network: { ip: { address: 127.0.0.10/8, gateway: 127.0.0.1/8 } }\n');
    expect(formatError(gw)).toMatchObject({
      ...at(gw, '127.0.0.1/8'),
      message: expect.stringContaining('(format `ip`)'),
    });
    const dns = workload('        network: { ip: { address: 127.0.0.10/8, dns: [resolver.example.com] } }\n');
    expect(formatError(dns)).toMatchObject({
      ...at(dns, 'resolver'),
      hint: 'write an address, not a name, e.g. `10.20.0.2` or `fd00:20::2`',
    });
  });
});

describe('hosts', () => {
  test('a PostgreSQL node is a DNS name or an address of either family', () => {
    for (const host of ['127.0.0.1', '::1', 'localhost', 'db-east.example.com'])
      expect(schemaErrors(pg(host))).toEqual([]);
  });

  test('a bad host name is refused at it, with what is wrong', () => {
    const underscore = pg('db_east.example.com');
    expect(formatError(underscore)).toMatchObject({
      ...at(underscore, '"db_east'),
      path: '/groups/0/workloads/0/postgres/nodes/protected/host',
      message:
        'groups[0].workloads[0].postgres.nodes.protected.host is "db_east.example.com", which is not a host name or an IP address (format `host`)',
      hint: 'a name is letters, digits and dashes in labels separated by dots, e.g. `db1.example.com`; or write an IP address',
    });
    expect(formatError(pg('999.999.999.999')).hint).toBe(
      '`999.999.999.999` is not an IPv4 address: four numbers from 0 to 255, e.g. `127.0.0.1`',
    );
    expect(formatError(pg('[::1]')).hint).toBe('write an IPv6 address without brackets, e.g. `::1`');
    expect(formatError(pg('localhost:5432')).hint).toBe('give the port in its own key (`port:`), not after the host');
  });

  test("a tcp validation's host too", () => {
    const ok = workload('        validations:\n          - tcp: { host: "::1", port: 5432 }\n');
    expect(compileText(ok).diagnostics).toEqual([]);
    const bad = workload('        validations:\n          - tcp: { host: "db east", port: 5432 }\n');
    expect(formatError(bad)).toMatchObject({
      ...at(bad, '"db east'),
      path: '/groups/1/workloads/0/validations/0/tcp/host',
    });
  });
});

describe('URLs and the references that stand for them', () => {
  const step = (url: string) =>
    BASE.replace(
      'groups:\n',
      `steps:\n  - name: hook\n    http: { method: POST, url: ${JSON.stringify(url)} }\n    compensation: none\ngroups:\n`,
    );

  test('an http(s) URL, or a reference to one, is accepted', () => {
    for (const url of [
      'http://127.0.0.1:8080/hook',
      'https://hooks.example.com/drover?token=env',
      'http://[::1]:8080/hook',
      'env:HOOK_URL',
      'file:/run/secrets/hook-url',
    ])
      expect(schemaErrors(step(url))).toEqual([]);
  });

  test('anything else is one diagnostic that names both forms', () => {
    const text = step('ftp://127.0.0.1/hook');
    expect(formatError(text)).toMatchObject({
      ...at(text, '"ftp://'),
      path: '/steps/0/http/url',
      message:
        'steps[0].http.url is "ftp://127.0.0.1/hook", which is neither an http:// or https:// URL nor an `env:NAME` / `file:path` reference (format `http-url`)',
      hint: 'write the whole URL, starting with `https://` or `http://`, e.g. `https://hooks.example.com/drover`; or `env:NAME` or `file:path`',
    });
    for (const bad of ['https://', 'http://exa mple.com/', '127.0.0.1:8080/hook', 'env:', 'secret:HOOK_URL'])
      expect(formatError(step(bad)).path).toBe('/steps/0/http/url');
  });

  test('a URL that is not a string is a type error, said once', () => {
    const text = BASE.replace(
      'groups:\n',
      'steps:\n  - name: hook\n    http: { url: 8080 }\n    compensation: none\ngroups:\n',
    );
    expect(compileText(text).diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([
      'schema/type steps[0].http.url must be a string, not number 8080',
    ]);
  });

  test('{guest} stands for the recovered VM in a validation URL', () => {
    const text = workload('        validations:\n          - http: { url: "http://{guest}:8080/health" }\n');
    expect(compileText(text).diagnostics).toEqual([]);
    const broken = workload('        validations:\n          - http: { url: "http://{guest:8080/health" }\n');
    expect(formatError(broken).path).toBe('/groups/1/workloads/0/validations/0/http/url');
  });

  test('a notify target: a URL or a reference; a bare host is refused', () => {
    const notify = (url: string) => `${BASE}notify:\n  - name: on-call\n    url: ${url}\n`;
    expect(compileText(notify('env:ONCALL_WEBHOOK')).diagnostics).toEqual([]);
    expect(compileText(notify('http://127.0.0.1:9000/drover')).diagnostics).toEqual([]);
    expect(formatError(notify('hooks.example.com/drover'))).toMatchObject({
      path: '/notify/0/url',
      message: expect.stringContaining('neither an http:// or https:// URL nor an `env:NAME` / `file:path` reference'),
    });
  });

  test('several types in an anyOf are said once, as a type error', () => {
    const text = workload('        validations:\n          - sql: { query: SELECT 1, expect: { rows: 1 } }\n');
    const types = compileText(text).diagnostics.filter((d) => d.code === 'schema/type');
    expect(types.map((d) => d.message)).toEqual([
      'groups[1].workloads[0].validations[0].sql.expect must be a string, a number, a boolean or null, not a mapping',
    ]);
  });
});
