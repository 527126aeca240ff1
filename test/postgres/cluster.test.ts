/**
 * The test pair itself (test/postgres/cluster.ts), before anything relies on it: the standby really
 * streams from the primary, a committed row is replayed on it, the Writer acknowledges rows and counts
 * (not throws) the errors of a killed primary, and remove() leaves no process, no folder, no open port.
 */
import { existsSync } from 'node:fs';
import { createPair, Writer } from './cluster';
import type { PgPair } from './cluster';

jest.setTimeout(60_000);

let pair: PgPair | undefined;

afterAll(async () => {
  // Only reached with a pair still up when a test failed half-way: never leave servers running.
  await pair?.remove();
});

test('a primary and a streaming standby on loopback ports; a committed row is replayed; remove() leaves nothing', async () => {
  const t0 = Date.now();
  pair = await createPair();
  const created = Date.now() - t0;
  const { primary, standby } = pair;
  expect(primary.host).toBe('127.0.0.1');
  expect(primary.port).not.toBe(standby.port);
  expect(pair.processes()).toBeGreaterThan(4);

  const senders = await pair.query(
    primary,
    'SELECT application_name, state, host(client_addr) AS addr FROM pg_stat_replication',
  );
  expect(senders).toEqual([{ application_name: standby.name, state: 'streaming', addr: '127.0.0.1' }]);
  const [rx] = await pair.query(standby, 'SELECT status, sender_port FROM pg_stat_wal_receiver');
  expect(rx).toEqual({ status: 'streaming', sender_port: primary.port });
  const [recovery] = await pair.query(standby, 'SELECT pg_is_in_recovery() AS r');
  expect(recovery?.r).toBe(true);
  const [settings] = await pair.query(
    primary,
    "SELECT current_setting('data_checksums') AS checksums, current_setting('wal_log_hints') AS hints, current_setting('archive_mode') AS archive",
  );
  expect(settings).toEqual({ checksums: 'on', hints: 'on', archive: 'on' });

  // A row committed on the primary is replayed on the standby.
  await pair.query(primary, 'INSERT INTO drover_load(id) VALUES (1)');
  await waitFor(async () => (await pair!.query(standby, 'SELECT id FROM drover_load WHERE id = 1')).length === 1);

  // The Writer acknowledges rows, all present on the primary; killed, the primary's errors are counted.
  const writer = new Writer(pair, primary);
  writer.start();
  await waitFor(async () => writer.acknowledged.length >= 50);
  const [{ n } = {}] = await pair.query(primary, 'SELECT count(*)::int AS n FROM drover_load WHERE id > 1');
  expect(n).toBeGreaterThanOrEqual(50);
  pair.kill(primary, 'SIGKILL');
  const acknowledgedAtKill = writer.acknowledged.length;
  await waitFor(async () => writer.errors > 0);
  await writer.stop();
  // Only the COMMIT in flight at the kill may still have been answered.
  expect(writer.acknowledged.length - acknowledgedAtKill).toBeLessThanOrEqual(1);
  expect(new Set(writer.acknowledged).size).toBe(writer.acknowledged.length);
  const t2 = Date.now();
  await pair.waitGone(primary);
  const gone = Date.now() - t2;
  expect(await pair.accepts(primary.port)).toBe(false);
  expect(await pair.accepts(standby.port)).toBe(true);

  const t1 = Date.now();
  const { root } = pair;
  await pair.remove();
  const removed = Date.now() - t1;
  expect(pair.processes()).toBe(0);
  expect(existsSync(root)).toBe(false);
  expect(await pair.accepts(primary.port)).toBe(false);
  expect(await pair.accepts(standby.port)).toBe(false);
  pair = undefined;
  console.log(
    `createPair ${created} ms, remove ${removed} ms, killed primary reaped after ${gone} ms; writer: ${writer.acknowledged.length} acknowledged, ${writer.errors} errors`,
  );
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
