/**
 * The worker process is killed with SIGKILL in the middle of a run and started again: the run
 * completes, and every VM was powered on exactly once (activities are idempotent, and Temporal resumes
 * from the last completed step). The worker is the real `drover worker` (dist/, built by pretest).
 *
 * With RECORD_HISTORY=<name> it also saves this run's history as test/histories/<name>.pb for the replay
 * test (test/replay.test.ts), which replays every history there.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { ROOT, Scenario, useHarness, waitForRecord } from './harness';
import type { RunRecord } from '../../contracts/record';

const t = useHarness();

function droverWorker(s: Scenario): ChildProcess {
  return spawn(process.execPath, [join(ROOT, 'dist', 'cli', 'bin.js'), 'worker', '--runbooks', '.'], {
    cwd: s.dir,
    env: { ...process.env, TEMPORAL_ADDRESS: t.h.address, TEMPORAL_NAMESPACE: 'default', DROVER_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

test('SIGKILL of the worker mid-run: the run completes and every VM is powered on exactly once', async () => {
  const s = Scenario.webshop(t.h, (doc) =>
    doc.setIn(['simulation', 'latency'], { default: '100ms', powerOn: '1500ms' }),
  );
  let worker = droverWorker(s);
  let stderr = '';
  worker.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    // The CLI worker serves the orchestration queue "drover".
    const handle = await s.start('test', `${s.id}-crash`, 'drover');
    // Kill it while power-ons are in flight: the database is on, the app servers are powering on.
    await waitForRecord(
      handle,
      'app power-ons to start',
      (r) => r.steps.some((x) => x.id === 'app-1/powerOn' && x.status === 'running'),
      60_000,
    );
    worker.kill('SIGKILL');
    await new Promise((r) => worker.once('exit', r));
    const atKill = await s.effects('dc-west');
    worker = droverWorker(s);
    const record = (await handle.result()) as RunRecord;
    expect(record.status).toBe('succeeded');
    expect(atKill['app-1']?.powerOn ?? 0).toBeLessThanOrEqual(1);
    const effects = await s.effects('dc-west');
    for (const vm of ['orders-db', 'app-1', 'app-2', 'payments', 'web-1', 'web-2'])
      expect(effects[vm]!.powerOn).toBe(1);
    if (process.env.RECORD_HISTORY) {
      // Binary protobuf: JSON history decoding is broken in SDK 1.24.0 (protobufjs 7 and 8 mixed).
      const history = await handle.fetchHistory();
      writeFileSync(
        join(ROOT, 'test', 'histories', `${process.env.RECORD_HISTORY}.pb`),
        temporal.api.history.v1.History.encode(history).finish(),
      );
    }
  } catch (e) {
    throw new Error(`${(e as Error).message}\nworker stderr:\n${stderr.slice(-3000)}`);
  } finally {
    worker.kill('SIGTERM');
  }
});
