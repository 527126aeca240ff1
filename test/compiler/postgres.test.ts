/**
 * The runbook language of PostgreSQL workloads: the `postgres:` block (nodes per site role, the test copy),
 * `sql` validations, and a workload recovered by another provider than its sites' (`provider: postgres` in
 * a simulator plan): its steps carry `params.provider` and its block, its capabilities are postgres's.
 */
import { compileText, mustPlan, waitsFor } from '../helpers';
import { compile } from '../../compiler';
import { compileDrill } from '../../compiler/scenario';
import type { Diagnostic, Plan, PlanStep } from '../../compiler';

/** Simulator sites; `orders-db` is a real PostgreSQL pair, `app-1` a simulated VM. Line numbers refer to this. */
const MIXED = `apiVersion: drover.dev/v1
kind: RecoveryPlan
metadata:
  name: mixed
objectives:
  rpo: 15m
  rto: 4h
sites:
  protected: { name: east, provider: simulator }
  recovery: { name: west, provider: simulator }
groups:
  - name: db
    priority: 1
    workloads:
      - name: orders-db
        type: database
        provider: postgres
        postgres:
          database: shop
          password: env:PG_PASSWORD
          archive: /srv/pg/archive
          nodes:
            protected: { host: 127.0.0.1, port: 5433, dataDir: /srv/pg/a }
            recovery: { host: 127.0.0.1, port: 5434, dataDir: /srv/pg/b }
          test:
            port: 5440
            dataDir: /srv/pg/drover-test
            baseBackup: /srv/pg/base
        validations:
          - name: orders
            sql: { query: SELECT count(*) > 0 FROM orders, expect: true }
  - name: app
    priority: 2
    workloads:
      - name: app-1
        dependsOn: [orders-db]
        network: { map: { prod: dr } }
`;

const errors = (text: string, mode?: Parameters<typeof compileText>[1]): Diagnostic[] =>
  compileText(text, mode).diagnostics.filter((d) => d.severity === 'error');
const stepsOf = (plan: Plan, workload: string): PlanStep[] => plan.steps.filter((s) => s.workload === workload);
const step = (plan: Plan, id: string): PlanStep => {
  const s = plan.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id} in ${plan.steps.map((x) => x.id).join(', ')}`);
  return s;
};

describe('a provider: postgres workload on simulator sites', () => {
  test('compiles in every mode, with nothing to warn about', () => {
    expect(compileText(MIXED).diagnostics).toEqual([]);
  });

  test('its built-in steps carry params.provider and its postgres block; the others carry neither', () => {
    for (const mode of [
      'test',
      'cleanup',
      'planned-migration',
      'disaster-recovery',
      'reprotect',
      'readiness',
    ] as const) {
      const plan = mustPlan(MIXED, mode);
      const pg = stepsOf(plan, 'orders-db');
      expect(pg.length).toBeGreaterThan(0);
      for (const s of pg) {
        expect(s.params).toMatchObject({
          provider: 'postgres',
          settings: { database: 'shop', archive: '/srv/pg/archive' },
        });
        expect((s.params.settings as { nodes: unknown }).nodes).toEqual({
          protected: { host: '127.0.0.1', port: 5433, dataDir: '/srv/pg/a' },
          recovery: { host: '127.0.0.1', port: 5434, dataDir: '/srv/pg/b' },
        });
        // Its steps still run on the site (the site's task queue).
        expect(['east', 'west']).toContain(s.site);
        if (s.compensation) expect(s.compensation.params).toMatchObject({ provider: 'postgres' });
      }
      for (const s of stepsOf(plan, 'app-1')) {
        expect(s.params.provider).toBeUndefined();
        expect(s.params.settings).toBeUndefined();
      }
    }
  });

  test('test mode: no customizeNetwork for it; the test network is still made for the others, and its restore does not wait for it', () => {
    const plan = mustPlan(MIXED, 'test');
    expect(stepsOf(plan, 'orders-db').map((s) => s.kind)).toEqual([
      'syncReplication',
      'snapshot',
      'restore',
      'powerOn',
      'waitReady',
      'validate',
    ]);
    expect(step(plan, 'app-1/network').kind).toBe('customizeNetwork');
    expect(step(plan, 'plan/test-network').kind).toBe('createTestNetwork');
    expect(step(plan, 'app-1/restore').dependsOn).toContain('plan/test-network');
    expect(waitsFor(plan, 'orders-db/restore', 'plan/test-network')).toBe(false);
    expect(step(plan, 'orders-db/restore').params).toMatchObject({ recoveryPoint: 'snapshot', network: 'drover-test' });
    const cleanup = mustPlan(MIXED, 'cleanup');
    expect(step(cleanup, 'plan/test-network').kind).toBe('removeTestNetwork');
  });

  test('a test whose workloads are all PostgreSQL makes no test network (cleanup still removes one)', () => {
    const alone = MIXED.replace(/ {2}- name: app\n(?:.*\n)+/, '');
    expect(mustPlan(alone, 'test').steps.map((s) => s.id)).not.toContain('plan/test-network');
    expect(step(mustPlan(alone, 'cleanup'), 'plan/test-network').kind).toBe('removeTestNetwork');
  });

  test('readiness: the plan-level checks stay on the site; capacity counts the workloads the site recovers', () => {
    const plan = mustPlan(MIXED, 'readiness');
    const capacity = step(plan, 'plan/capacity');
    expect(capacity.params).toMatchObject({ check: 'capacity', workloads: ['app-1'] });
    expect(capacity.params.provider).toBeUndefined();
    expect(step(plan, 'plan/test-network').params.provider).toBeUndefined();
    expect(step(plan, 'orders-db/preCheck').params).toMatchObject({ check: 'replication', provider: 'postgres' });
  });

  test("a capability its provider lacks is an error naming the workload's provider", () => {
    const text = MIXED.replace(
      '        type: database\n',
      '        type: database\n        network: { map: { prod: dr } }\n',
    );
    const found = errors(text, 'test').filter((d) => d.code === 'provider/unsupported');
    expect(found).toEqual([
      expect.objectContaining({
        line: 15,
        column: 9,
        message:
          'test needs "customizeNetwork" for workload orders-db on site west, but the postgres provider cannot do it',
        hint: expect.stringContaining('`provider: postgres`'),
      }),
    ]);
    // app-1 has the same network block: the simulator can do it.
    expect(compileText(MIXED, 'test').diagnostics).toEqual([]);
  });

  test('a workload that says provider: postgres needs a postgres: block', () => {
    const text = MIXED.replace(/ {8}postgres:\n(?: {10}.*\n)+/, '');
    expect(errors(text)).toEqual([
      expect.objectContaining({
        code: 'provider/settings',
        line: 15,
        message:
          'workload "orders-db" is recovered by the postgres provider (`provider: postgres`) but has no `postgres:` block',
      }),
    ]);
  });

  test('a postgres block on a simulator-site workload is a warning without provider: postgres, fine with it', () => {
    const text = MIXED.replace('        provider: postgres\n', '').replace(/ {8}validations:\n(?: {10}.*\n)+/, '');
    expect(compileText(text).diagnostics).toEqual([
      expect.objectContaining({
        code: 'provider/settings',
        severity: 'warning',
        line: 17,
        message: 'workload "orders-db" has postgres settings, but neither site uses the postgres provider',
      }),
    ]);
    const withSimulator = MIXED.replace(
      '        type: database\n',
      '        type: database\n        simulator: { disksGb: 10 }\n',
    );
    expect(compileText(withSimulator).diagnostics).toEqual([
      expect.objectContaining({
        code: 'provider/settings',
        severity: 'warning',
        message:
          'workload "orders-db" has simulator settings, but it is recovered by the postgres provider (`provider: postgres`)',
      }),
    ]);
  });

  test('provider: vsphere cannot be lent to a workload on simulator sites (vCenter is reached through the site)', () => {
    const text = MIXED.replace(
      '        network: { map: { prod: dr } }\n',
      '        provider: vsphere\n        vsphere: { vm: a, replica: b }\n',
    );
    expect(errors(text)).toEqual([
      expect.objectContaining({
        code: 'provider/settings',
        line: 37,
        column: 9,
        message: expect.stringContaining('its sites are simulator and simulator'),
      }),
    ]);
  });

  test('the provider is one of the names', () => {
    expect(errors(MIXED.replace('provider: postgres', 'provider: mysql'))).toEqual([
      expect.objectContaining({ code: 'schema/enum', line: 17 }),
    ]);
  });
});

describe('the postgres block', () => {
  test('a relative dataDir is an error at the value', () => {
    const text = MIXED.replace('dataDir: /srv/pg/b }', 'dataDir: srv/pg/b }');
    expect(errors(text)).toEqual([
      expect.objectContaining({
        code: 'postgres/path',
        line: 24,
        column: 63,
        message: 'the recovery node\'s dataDir "srv/pg/b" of orders-db is not an absolute path',
      }),
    ]);
  });

  test('binDir, archive, the test copy and its base backup are absolute paths too', () => {
    const text = MIXED.replace('archive: /srv/pg/archive', 'archive: ./archive\n          binDir: bin')
      .replace('dataDir: /srv/pg/drover-test', 'dataDir: drover-test')
      .replace('baseBackup: /srv/pg/base', 'baseBackup: base');
    expect(errors(text).map((d) => `${d.code} ${d.line}:${d.column}`)).toEqual([
      'postgres/path 21:20',
      'postgres/path 22:19',
      'postgres/path 28:22',
      'postgres/path 29:25',
    ]);
  });

  test("the test copy's dataDir may not be a node's, nor inside or around one", () => {
    const same = errors(MIXED.replace('dataDir: /srv/pg/drover-test', 'dataDir: /srv/pg/a/'));
    expect(same).toEqual([
      expect.objectContaining({
        code: 'postgres/test-copy',
        line: 27,
        column: 22,
        message: "the test copy's dataDir is the protected node's data directory (/srv/pg/a) of orders-db",
      }),
    ]);
    expect(errors(MIXED.replace('dataDir: /srv/pg/drover-test', 'dataDir: /srv/pg/b/test'))[0]?.message).toContain(
      "is inside the recovery node's data directory",
    );
    expect(errors(MIXED.replace('dataDir: /srv/pg/drover-test', 'dataDir: /srv'))).toHaveLength(2);
    expect(errors(MIXED.replace('dataDir: /srv/pg/drover-test', 'dataDir: /srv/pg/ab'))).toEqual([]);
  });

  test("the test copy's port may not be a node's on the same host", () => {
    expect(errors(MIXED.replace('port: 5440', 'port: 5434'))).toEqual([
      expect.objectContaining({
        code: 'postgres/test-copy',
        line: 26,
        column: 19,
        message: expect.stringContaining("port 5434, the recovery node's"),
      }),
    ]);
    const remote = MIXED.replace('protected: { host: 127.0.0.1', 'protected: { host: db-east.example.com');
    expect(errors(remote.replace('port: 5440', 'port: 5433'))).toEqual([]);
  });

  test('an inline password is a secret/inline error', () => {
    expect(errors(MIXED.replace('password: env:PG_PASSWORD', 'password: hunter2'))).toEqual([
      expect.objectContaining({ code: 'secret/inline', line: 20, column: 21 }),
    ]);
    expect(errors(MIXED.replace('password: env:PG_PASSWORD', 'password: file:/etc/drover/pg.pass'))).toEqual([]);
  });

  test('nodes: both roles, each host, port and dataDir; no unknown keys', () => {
    const codes = (text: string) => errors(text).map((d) => `${d.code} ${d.line}`);
    expect(codes(MIXED.replace(/ {12}recovery: .*\n/, ''))).toEqual(['schema/required 22']);
    expect(codes(MIXED.replace('port: 5433, ', ''))).toEqual(['schema/required 23']);
    expect(codes(MIXED.replace('port: 5433', 'port: 70000'))).toEqual(['schema/invalid 23']);
    expect(codes(MIXED.replace('database: shop', 'primary: shop'))).toEqual(['schema/unknown-key 19']);
    expect(codes(MIXED.replace('            baseBackup: /srv/pg/base\n', '            from: replica\n'))).toEqual([
      'schema/enum 28',
    ]);
  });

  test('test mode needs the test block, and from: archive its archive and base backup; cleanup the block', () => {
    const noTest = MIXED.replace(/ {10}test:\n(?: {12}.*\n)+/, '');
    expect(errors(noTest, 'test')).toEqual([
      expect.objectContaining({
        code: 'provider/settings',
        line: 18,
        column: 9,
        message: expect.stringContaining('has no `test:`'),
      }),
    ]);
    expect(errors(noTest, 'cleanup').map((d) => d.code)).toEqual(['provider/settings']);
    expect(errors(noTest, 'disaster-recovery')).toEqual([]);
    // validate: a warning naming the mode
    const modes = compileText(noTest).diagnostics.map((d) => `${d.severity} ${/\((\w+) mode\)$/.exec(d.message)?.[1]}`);
    expect(modes.sort()).toEqual(['warning cleanup', 'warning test']);
    const noBase = MIXED.replace('            baseBackup: /srv/pg/base\n', '');
    expect(errors(noBase, 'test')).toEqual([
      expect.objectContaining({
        code: 'provider/settings',
        line: 25,
        column: 11,
        message: expect.stringContaining('needs postgres.test.baseBackup'),
      }),
    ]);
    expect(
      errors(noBase.replace('            port: 5440\n', '            port: 5440\n            from: standby\n'), 'test'),
    ).toEqual([]);
    expect(errors(noBase, 'cleanup')).toEqual([]);
  });

  test('a workload on postgres sites needs its block too, and recovers with it as params.settings, no params.provider', () => {
    const sites = MIXED.replace('{ name: east, provider: simulator }', '{ name: east, provider: postgres }')
      .replace('{ name: west, provider: simulator }', '{ name: west, provider: postgres, connection: {} }')
      .replace('        provider: postgres\n', '');
    const app = errors(sites);
    expect(app).toEqual([
      expect.objectContaining({
        code: 'provider/settings',
        line: 34,
        column: 9,
        message: 'workload "app-1" runs on a postgres site but has no `postgres:` block',
      }),
    ]);
    const fixed = sites
      .replace(/ {8}network: .*\n/, '')
      .replace(
        '        dependsOn: [orders-db]\n',
        '        dependsOn: [orders-db]\n        postgres: { nodes: { protected: { host: a, port: 1, dataDir: /a }, recovery: { host: b, port: 1, dataDir: /b } }, test: { port: 2, dataDir: /t, from: standby } }\n',
      );
    const plan = mustPlan(fixed, 'test');
    for (const s of stepsOf(plan, 'orders-db')) {
      expect(s.params.provider).toBeUndefined();
      expect(s.params.settings).toMatchObject({ database: 'shop' });
    }
    expect(plan.steps.find((s) => s.id === 'plan/test-network')).toBeUndefined();
    expect(errors(sites.replace('connection: {}', 'connection: { host: db-west }'))).toContainEqual(
      expect.objectContaining({ code: 'schema/unknown-key', line: 10 }),
    );
  });
});

describe('sql validations', () => {
  test('on a workload the postgres provider does not recover: an error', () => {
    const text = MIXED.replace(
      '        network: { map: { prod: dr } }\n',
      '        validations:\n          - sql: { query: SELECT 1, expectRows: 1 }\n',
    );
    expect(errors(text)).toEqual([
      expect.objectContaining({
        code: 'validation/sql',
        line: 38,
        column: 13,
        message:
          'sql validations need the postgres provider, but workload "app-1" is recovered by the simulator provider',
      }),
    ]);
  });

  test('expect is a scalar or null, expectRows a count; both, either or neither', () => {
    const sql = (body: string) => MIXED.replace('{ query: SELECT count(*) > 0 FROM orders, expect: true }', body);
    for (const ok of [
      '{ query: SELECT 1 }',
      "{ query: SELECT 'ok', expect: ok }",
      '{ query: SELECT 42, expect: 42 }',
      '{ query: SELECT NULL, expect: null }',
      '{ query: SELECT 1, expect: 1, expectRows: 1 }',
      '{ query: SELECT 1 WHERE false, expectRows: 0 }',
    ])
      expect(errors(sql(ok))).toEqual([]);
    expect(errors(sql('{ query: SELECT 1, expect: [1] }')).map((d) => d.code)).not.toEqual([]);
    expect(errors(sql('{ query: SELECT 1, expectRows: -1 }')).map((d) => d.code)).toEqual(['schema/invalid']);
    expect(errors(sql('{ query: SELECT 1, rows: 1 }')).map((d) => d.code)).toEqual(['schema/unknown-key']);
    const plan = mustPlan(sql("{ query: SELECT 'ok', expect: ok, expectRows: 1 }"), 'test');
    expect(step(plan, 'orders-db/validate').params.checks).toEqual([
      { name: 'orders', sql: { query: "SELECT 'ok'", expect: 'ok', expectRows: 1 } },
    ]);
  });
});

describe('--recovery-point in test mode', () => {
  const at = '2026-11-22T10:15:00.000Z';
  test("reaches the restore of a copy that can go back in time, not the others'", () => {
    const plan = compile(MIXED, { file: 'test.yaml', mode: 'test', recoveryPoint: at }).plan!;
    expect(step(plan, 'orders-db/restore').params.recoveryPoint).toBe(at);
    expect(step(plan, 'app-1/restore').params.recoveryPoint).toBe('snapshot');
    expect(plan.planHash).not.toBe(mustPlan(MIXED, 'test').planHash);
  });

  test('changes nothing in the other modes', () => {
    for (const mode of ['cleanup', 'disaster-recovery', 'planned-migration'] as const)
      expect(compile(MIXED, { file: 'test.yaml', mode, recoveryPoint: at }).plan).toEqual(mustPlan(MIXED, mode));
  });
});

describe('drills', () => {
  test('a drill of a simulator plan simulates the PostgreSQL workload too: no params.provider, so no real server is touched', () => {
    const scenario =
      'name: lost\ndescription: the east site is lost\nmode: disaster-recovery\nsimulation:\n  faults:\n    - { effect: site-down, site: protected }\n';
    const { plan, diagnostics } = compileDrill(MIXED, 'mixed.yaml', scenario, 'lost.yaml', {
      simulationDir: '.drover/drills/x',
    });
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const pg = stepsOf(plan!, 'orders-db');
    expect(pg.length).toBeGreaterThan(0);
    for (const s of pg) {
      expect(s.params.provider).toBeUndefined();
      if (s.compensation) expect(s.compensation.params.provider).toBeUndefined();
    }
    expect(stepsOf(mustPlan(MIXED, 'disaster-recovery'), 'orders-db')[0]!.params.provider).toBe('postgres');
  });
});
