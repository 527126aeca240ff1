/**
 * The PostgreSQL provider against real PostgreSQL 15 servers (test/postgres/cluster.ts), operation by
 * operation in the order the plans run them, with a writer committing rows throughout: a switchover loses
 * nothing, reprotect rewinds the old primary into a streaming standby, failback loses nothing again, a
 * failover after SIGKILL reports what it lost, and a point-in-time test copy restores and is removed.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject, PlanSite } from '../../contracts/plan';
import { ProviderError } from '../../providers/errors';
import { createPostgres } from '../../providers/postgres';
import type { OperationContext, OperationResult } from '../../providers/types';
import { crashUnderLoad, createPair, settingsOf, Writer } from './cluster';
import type { PgPair } from './cluster';

jest.setTimeout(120_000);

const provider = createPostgres({ env: process.env });
const site = (name: string, role: PlanSite['role']): PlanSite => ({
  name,
  role,
  provider: 'postgres',
  taskQueue: name,
  testNetwork: 'drover-test',
  maxParallel: 10,
  connection: {},
});
const east = site('east', 'protected');
const west = site('west', 'recovery');

async function op(kind: string, at: PlanSite, settings: JsonObject, params: JsonObject = {}): Promise<OperationResult> {
  const ctx: OperationContext = {
    runId: 'r',
    site: at,
    peer: at === east ? west : east,
    attempt: 1,
    heartbeat: () => undefined,
    signal: new AbortController().signal,
  };
  return provider.operations[kind as 'promote']!(
    { workload: 'orders', type: 'database', network: 'production', settings, ...params },
    ctx,
  );
}

/** The planned-migration chain from `from` to `to`, as the plan runs it (compiler/modes.ts MIGRATE). */
async function switchover(from: PlanSite, to: PlanSite, settings: JsonObject): Promise<OperationResult[]> {
  const out = [];
  out.push(await op('preCheck', to, settings));
  out.push(await op('syncReplication', from, settings));
  out.push(await op('shutdown', from, settings));
  out.push(await op('fence', from, settings));
  out.push(await op('syncReplication', from, settings, { proveCaughtUp: true }));
  out.push(await op('promote', to, settings, { recoveryPoint: 'final-sync' }));
  out.push(await op('restore', to, settings));
  out.push(await op('powerOn', to, settings));
  out.push(await op('waitReady', to, settings));
  return out;
}

async function lost(pair: PgPair, node: PgPair['primary'], writer: Writer): Promise<number> {
  const rows = await pair.query(node, 'SELECT id FROM drover_load');
  const present = new Set(rows.map((r) => Number(r.id)));
  return writer.acknowledged.filter((id) => !present.has(id)).length;
}

test('switchover under write load loses no committed row; reprotect rewinds the old primary; failback loses none either', async () => {
  const pair = await createPair();
  try {
    const settings = settingsOf(pair);
    const writer = new Writer(pair, pair.primary);
    writer.start();
    await new Promise((r) => setTimeout(r, 500));
    const steps = await switchover(east, west, settings);
    await writer.stop();
    expect(writer.acknowledged.length).toBeGreaterThan(20);
    expect(steps[4]!.message).toMatch(/past .* shutdown checkpoint .*: caught up, zero loss/);
    expect(await lost(pair, pair.standby, writer)).toBe(0);
    // The retried promote of a primary is "already done".
    expect((await op('promote', west, settings, { recoveryPoint: 'final-sync' })).changed).toBe(false);

    const reprotect = await op('reverseReplication', west, settings);
    expect(reprotect.message).toMatch(/rewound \(pg_rewind\)|re-cloned/);
    const [rx] = await pair.query(pair.primary, 'SELECT status FROM pg_stat_wal_receiver');
    expect(rx?.status).toBe('streaming');
    expect((await op('reverseReplication', west, settings)).changed).toBe(false);

    const back = new Writer(pair, pair.standby);
    back.start();
    await new Promise((r) => setTimeout(r, 500));
    await switchover(west, east, settings);
    await back.stop();
    expect(back.acknowledged.length).toBeGreaterThan(20);
    expect(await lost(pair, pair.primary, back)).toBe(0);
    expect(await lost(pair, pair.primary, writer)).toBe(0);
  } finally {
    await pair.remove();
  }
});

/**
 * A failover's chain at a killed primary, as disaster-recovery runs it: shutdown and fence (best effort),
 * the final sync reading the old primary's WAL, the promote comparing. Returns the promote's result.
 */
async function failover(settings: JsonObject, failoverAt: number, rpoMs = 60_000): Promise<OperationResult> {
  await op('shutdown', east, settings);
  expect((await op('fence', east, settings)).changed).toBe(true);
  const sync = await op('syncReplication', east, settings);
  expect(sync.message).toMatch(/is not running \(in production\); its WAL on timeline 1 ends at/);
  return op('promote', west, settings, { recoveryPoint: 'latest', rpoMs, failoverAt, source: sync.data! });
}

test('failover after the primary is SIGKILLed under load: the loss it reports is the commits the standby never got', async () => {
  const pair = await createPair();
  try {
    const settings = settingsOf(pair);
    // A link that cannot keep up: the primary's walsender is held, the primary goes on committing.
    const writer = await crashUnderLoad(pair, { loadMs: 500, holdMs: 400 });
    const failoverAt = Date.now();
    const promoted = await failover(settings, failoverAt);
    const missing = await lost(pair, pair.standby, writer);
    const data = promoted.data as { lostCommits: number; dataLossMs: number; lossKnown: boolean };
    console.log(
      `failover after SIGKILL with the WAL held back: the promote reports "${promoted.message}"; ${missing} of ${writer.acknowledged.length} acknowledged rows are missing`,
    );
    expect(data.lossKnown).toBe(true);
    expect(missing).toBeGreaterThan(10);
    // Every missing row was a commit the standby never got; beyond them only the writer's one unacknowledged
    // commit and the server's own (autovacuum) can be lost.
    expect(data.lostCommits).toBeGreaterThanOrEqual(missing);
    expect(data.lostCommits).toBeLessThanOrEqual(missing + 3);
    expect(promoted.message).toMatch(
      new RegExp(`: ${data.lostCommits} commit\\(s\\), \\d+ bytes of WAL, about .* of writes lost`),
    );
    // The time it reports lost spans the missing rows' commits (their `at` is their transaction's start).
    const [span] = await pair.query(
      pair.standby,
      'SELECT extract(epoch FROM max(at)) * 1000 AS newest FROM drover_load',
    );
    expect(promoted.recoveryPointAt).toBeGreaterThanOrEqual(Math.floor(Number(span!.newest)));
    expect(data.dataLossMs).toBeGreaterThan(200);
    // The fenced old primary cannot be started as a primary by Drover.
    await expect(op('powerOn', east, settings)).rejects.toMatchObject({ type: 'InvalidState' });
  } finally {
    await pair.remove();
  }
});

test('failover after SIGKILL with nothing held back loses nothing, and says so; over the RPO it promotes nothing without acceptDataLoss', async () => {
  const pair = await createPair();
  try {
    const settings = settingsOf(pair);
    const writer = await crashUnderLoad(pair, { loadMs: 500 });
    const promoted = await failover(settings, Date.now());
    expect(await lost(pair, pair.standby, writer)).toBe(0);
    expect(promoted.message).toMatch(/nothing committed is lost/);
    expect(promoted.data).toMatchObject({ lossKnown: true, lostCommits: 0, dataLossMs: 0 });
  } finally {
    await pair.remove();
  }

  const held = await createPair();
  try {
    const settings = settingsOf(held);
    await crashUnderLoad(held, { loadMs: 300, holdMs: 600 });
    const err = (await failover(settings, Date.now(), 100).catch((e: unknown) => e)) as ProviderError;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.type).toBe('DataLossNotAccepted');
    expect(err.message).toMatch(/commit\(s\), .* of writes lost, over the RPO of 0\.1s/);
    const [r] = await held.query(held.standby, 'SELECT pg_is_in_recovery() AS recovery');
    expect(r?.recovery).toBe(true); // nothing promoted
  } finally {
    await held.remove();
  }
});

test('a switchover refuses to promote while the primary still runs, and names both positions when the standby is behind', async () => {
  const pair = await createPair();
  try {
    const settings = settingsOf(pair);
    const err = (await op('syncReplication', east, settings, { proveCaughtUp: true }).catch(
      (e: unknown) => e,
    )) as ProviderError;
    expect(err.type).toBe('InvalidState');
    expect(err.message).toMatch(/still takes writes/);
  } finally {
    await pair.remove();
  }
});

test('test mode restores a point-in-time copy from the archive, validates it with SQL, and cleanup leaves nothing behind', async () => {
  const pair = await createPair();
  try {
    const base = join(pair.root, 'base');
    await pair.baseBackup(base);
    await pair.query(pair.primary, 'INSERT INTO drover_load(id, at) SELECT g, now() FROM generate_series(1, 100) g');
    await new Promise((r) => setTimeout(r, 1100));
    const target = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 1100));
    await pair.query(pair.primary, 'INSERT INTO drover_load(id, at) SELECT g, now() FROM generate_series(101, 150) g');
    const copyDir = join(pair.root, 'copy');
    const port = await pair.freePort();
    const settings = settingsOf(pair, { test: { port, dataDir: copyDir, from: 'archive', baseBackup: base } });
    const t = { network: 'drover-test' };
    await op('syncReplication', east, settings);
    await op('snapshot', west, settings, t);
    expect((await op('restore', west, settings, { ...t, recoveryPoint: target })).changed).toBe(true);
    expect((await op('restore', west, settings, { ...t, recoveryPoint: target })).changed).toBe(false);
    const started = await op('powerOn', west, settings, t);
    expect(started.message).toMatch(/recovery stopping before/);
    await op('waitReady', west, settings, t);
    const v = await op('validate', west, settings, {
      ...t,
      checks: [{ name: 'rows at the target', sql: { query: 'SELECT count(*) FROM drover_load', expect: 100 } }],
    });
    expect(v.message).toMatch(/1 check passed/);
    // Production was not touched: the primary still has every row.
    const [all] = await pair.query(pair.primary, 'SELECT count(*)::int AS n FROM drover_load');
    expect(all?.n).toBe(150);
    for (const kind of ['powerOff', 'deleteCopy', 'removeSnapshot']) await op(kind, west, settings, t);
    expect(existsSync(copyDir)).toBe(false);
    expect(await pair.accepts(port)).toBe(false);

    // A target after the newest archived WAL cannot be reached: a clear error, not a silent copy.
    const future = new Date(Date.now() + 3600_000).toISOString();
    await op('restore', west, settings, { ...t, recoveryPoint: future });
    const err = (await op('powerOn', west, settings, t).catch((e: unknown) => e)) as ProviderError;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.message).toMatch(/archive (ends before|does not cover)/);
    await op('powerOff', west, settings, t);
    await op('deleteCopy', west, settings, t);
    expect(existsSync(copyDir)).toBe(false);
  } finally {
    await pair.remove();
  }
});

test('a test copy restore is whole or not at all: the partial copy of an attempt that died is redone by the retry and removed by cleanup', async () => {
  const pair = await createPair();
  try {
    const copyDir = join(pair.root, 'copy');
    // Written with a trailing slash, as people do: the staging folder is beside the copy, not inside it.
    const settings = settingsOf(pair, {
      test: { port: await pair.freePort(), dataDir: `${copyDir}/`, from: 'standby' },
    });
    const t = { network: 'drover-test' };
    // A standby that answers and refuses (a role that does not exist) is not an outage: no retry can help.
    const wrongUser = { ...settings, user: 'no_such_role' };
    const refusedBackup = (await op('restore', west, wrongUser, t).catch((e: unknown) => e)) as ProviderError;
    expect(refusedBackup).toMatchObject({ type: 'InvalidState', retryable: false });
    expect(existsSync(`${copyDir}.drover-partial`)).toBe(false);
    // What a worker SIGKILLed mid pg_basebackup leaves: a half-written staging folder, no copy.
    const partial = `${copyDir}.drover-partial`;
    mkdirSync(partial, { mode: 0o700 });
    writeFileSync(join(partial, 'PG_VERSION'), '15\n');
    expect((await op('restore', west, settings, t)).changed).toBe(true);
    expect(existsSync(partial)).toBe(false);
    expect(existsSync(join(copyDir, 'drover.restore'))).toBe(true);
    await op('powerOn', west, settings, t);
    await op('powerOff', west, settings, t);
    expect((await op('deleteCopy', west, settings, t)).changed).toBe(true);
    expect(existsSync(copyDir)).toBe(false);

    // A restore that never finished, then cleanup: the partial copy is removed, nothing is left behind.
    mkdirSync(partial, { mode: 0o700 });
    writeFileSync(join(partial, 'PG_VERSION'), '15\n');
    const gone = await op('deleteCopy', west, settings, t);
    expect(gone).toMatchObject({
      changed: true,
      message: expect.stringMatching(/partial copy of an unfinished restore/),
    });
    expect(existsSync(partial)).toBe(false);

    // A dataDir with files Drover did not put there is refused, and left as it was.
    mkdirSync(copyDir);
    writeFileSync(join(copyDir, 'theirs.txt'), 'keep');
    const refused = (await op('restore', west, settings, t).catch((e: unknown) => e)) as ProviderError;
    expect(refused).toMatchObject({ type: 'InvalidState', retryable: false });
    expect(readFileSync(join(copyDir, 'theirs.txt'), 'utf8')).toBe('keep');
  } finally {
    await pair.remove();
  }
});
