/**
 * The short versions of the real-peer phases of `npm run chaos` (bench/chaos-vsphere.ts,
 * bench/chaos-postgres.ts), each on a dev server of its own with the real `drover worker` SIGKILLed and
 * restarted:
 * - vSphere: 4 VMs through test and cleanup on two vcsim vCenters, the recovery vCenter frozen (SIGSTOP)
 *   mid-run in each. Every clone powered on exactly once (vCenter's own events), no clone, snapshot or
 *   port group twice, both inventories as they were after cleanup.
 * - PostgreSQL: a real primary/standby pair through test, cleanup and a switchover under writes, the standby
 *   stopped and started with pg_ctl mid-run. One base backup and one start of the test copy, nothing left
 *   after cleanup, one promote (the timeline went 1 → 2 once), no acknowledged row missing.
 * A phase also fails when it could not see the effect it counts (no clone powered on, no promote), so
 * "0 duplicates" cannot come from a counter that reads nothing; the last test shows the vSphere counters
 * seeing a second power-on and a port group left behind.
 */
import { PassThrough } from 'node:stream';
import { peerHeld } from '../bench/chaos-processes';
import type { PeerFigures } from '../bench/chaos-processes';
import { runPostgresChaos } from '../bench/chaos-postgres';
import { effectsAt, latestKey, orphansOf, runVsphereChaos, startVcsim } from '../bench/chaos-vsphere';
import { inventoryOf, VCSIM_BIN } from './vsphere/fixture';

function expectHeld(f: PeerFigures, lines: string[]): void {
  if (!peerHeld(f)) console.log(JSON.stringify({ ...f, lines }, null, 2));
  expect(f.skipped).toBeUndefined();
  expect(f.problems).toEqual([]);
  expect(f.kills).toBeGreaterThanOrEqual(1);
  expect({
    completed: f.completed,
    duplicates: f.duplicates,
    orphans: f.orphans,
    lostRows: f.lostRows ?? 0,
    taskFailures: f.taskFailures,
  }).toEqual({ completed: f.attempted, duplicates: 0, orphans: 0, lostRows: 0, taskFailures: 0 });
  expect(peerHeld(f)).toBe(true);
}

test('chaos, vSphere, short: a frozen vCenter and worker kills power nothing on twice and leave nothing', async () => {
  const lines: string[] = [];
  const f = await runVsphereChaos({ vms: 4, kills: 2, seed: 7, freezeMs: 3000, log: (l) => lines.push(l) });
  expectHeld(f, lines);
  expect(f.attempted).toBe(2);
  expect(f.outages).toHaveLength(2);
}, 600_000);

test('chaos, PostgreSQL, short: a stopped standby and worker kills promote once, lose no committed row, leave nothing', async () => {
  const lines: string[] = [];
  const f = await runPostgresChaos({ kills: 3, seed: 7, outageMs: 3000, log: (l) => lines.push(l) });
  expectHeld(f, lines);
  expect(f.attempted).toBe(3);
  expect(f.outages).toHaveLength(2);
  expect(f.committedRows).toBeGreaterThan(0);
}, 600_000);

test('the vSphere counters read vCenter: a second power-on and a port group left behind are seen', async () => {
  const log = new PassThrough();
  log.resume();
  const v = await startVcsim(2, log);
  try {
    const before = await inventoryOf(v);
    const since = await latestKey(v);
    const [vm] = await v.client.listObjects('VirtualMachine', ['name']);
    for (let i = 0; i < 2; i++) {
      await v.client.task('PowerOffVM_Task', vm!.ref, {}, {});
      await v.client.task('PowerOnVM_Task', vm!.ref, {}, {});
    }
    const dvs = await v.client.find('DC0/network/DVS0', undefined);
    await v.client.task('AddDVPortgroup_Task', dvs!, { spec: [{ name: 'chaos-bubble', type: 'earlyBinding' }] }, {});
    const fx = await effectsAt(v, since);
    expect([...fx.powerOns.values()]).toEqual([2]);
    expect(fx.portGroups).toBe(1);
    expect(fx.networks).toBe(1);
    expect(orphansOf('east', before, await inventoryOf(v))).toEqual(['east: network chaos-bubble']);
  } finally {
    await v.stop();
  }
}, 60_000);

test('the built campaign (npm run chaos runs dist/) finds the vcsim the project installed', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the build of the fixture, as dist/bench loads it
  const built = require('../dist/test/vsphere/fixture') as { VCSIM_BIN: string };
  expect(built.VCSIM_BIN).toBe(VCSIM_BIN);
});
