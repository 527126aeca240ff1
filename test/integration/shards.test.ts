/**
 * A plan split into shards (README, Scale): the root runs the plan-level steps, one child workflow per
 * shard runs its groups, and the root relays the edges between them. The three-tier example is split
 * into five shards here (`shardSize: 8`), so every cross-execution path runs on a real server: exported
 * steps releasing other shards, an abort in one shard compensating every shard in reverse dependency order,
 * cancellation, and decisions sent to the root for a step a shard owns.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import type { Document } from 'yaml';
import type { Plan } from '../../contracts/plan';
import { withShards } from '../../reports/collect';
import { follow } from '../../cli/runs';
import { progressQuery, progressSinceQuery } from '../../workflows/messages';
import type { RunRecord } from '../../contracts/record';
import type { WorkflowHandle } from '@temporalio/client';
import { failedRecord, ROOT, Scenario, step, useHarness } from './harness';

const t = useHarness();

/** Polls the run's merged record (root and shards) until `check` holds. */
async function waitForMerged(handle: WorkflowHandle, what: string, check: (r: RunRecord) => boolean): Promise<void> {
  const end = Date.now() + 30_000;
  while (Date.now() < end) {
    const record = await withShards(t.h.env.client, await handle.query(progressQuery));
    if (check(record)) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function sharded(edit?: (doc: Document) => void): Scenario {
  const s = Scenario.webshop(t.h, edit);
  s.runInput = { shardSize: 8 };
  return s;
}

/** Every step that ran started after each of its dependencies ended, whichever execution ran them. */
function expectGraphOrder(record: RunRecord, plan: Plan): void {
  const recs = new Map(record.steps.map((r) => [r.id, r]));
  let checked = 0;
  for (const s of plan.steps) {
    const r = recs.get(s.id)!;
    if (r.startedAt === undefined) continue;
    for (const d of s.dependsOn) {
      expect(recs.get(d)!.endedAt).toBeLessThanOrEqual(r.startedAt);
      checked++;
    }
  }
  expect(checked).toBeGreaterThan(40);
}

/** Every compensation ended before the compensation of anything it (transitively) depends on started. */
function expectReverseOrder(record: RunRecord, plan: Plan): number {
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const recs = new Map(record.steps.map((r) => [r.id, r]));
  let pairs = 0;
  for (const s of plan.steps) {
    const undo = recs.get(s.id)!.compensation;
    if (!undo) continue;
    const seen = new Set<string>();
    const stack = [...s.dependsOn];
    while (stack.length) {
      const d = stack.pop()!;
      if (seen.has(d)) continue;
      seen.add(d);
      const theirs = recs.get(d)!.compensation;
      if (theirs) {
        expect(undo.endedAt).toBeLessThanOrEqual(theirs.startedAt);
        pairs++;
      }
      stack.push(...byId.get(d)!.dependsOn);
    }
  }
  return pairs;
}

test('a split plan runs test then cleanup across shards, in graph order, and leaves the site as before', async () => {
  const s = sharded();
  await s.seed();
  const before = await s.inventory();
  await s.startWorkers();
  try {
    const root = await s.runToEnd('test');
    expect(root.status).toBe('succeeded');
    expect(root.shards).toHaveLength(5);
    expect(root.shards!.every((x) => x.status === 'succeeded')).toBe(true);
    // The root ran only the plan-level steps; the rest ran in the children.
    expect(root.steps.map((x) => x.id).sort()).toEqual(['plan/approve-test', 'plan/test-network', 'priority-2/done']);
    const record = await withShards(t.h.env.client, root);
    const plan = s.plan('test');
    expect(record.steps.map((x) => x.id).sort()).toEqual(plan.steps.map((x) => x.id).sort());
    expect(record.steps.every((x) => x.status === 'succeeded')).toBe(true);
    expectGraphOrder(record, plan);
    expect(root.achieved.rtoMs).toBeGreaterThan(0);
    for (const shard of root.shards!) {
      const desc = await t.h.env.client.workflow.getHandle(shard.workflowId).describe();
      expect(desc.parentExecution?.workflowId).toBe(root.workflowId);
    }
    // The commit goes out three shards at a time, each turn once the one before has closed (workflows/root.ts).
    const history = await t.h.env.client.workflow.getHandle(root.workflowId).fetchHistory();
    const closedOrder = (history.events ?? [])
      .map((e) => e.childWorkflowExecutionCompletedEventAttributes?.workflowExecution?.workflowId)
      .filter((id): id is string => id !== undefined && id !== null)
      .map((id) => Number(id.slice(id.lastIndexOf('-') + 1)));
    expect(closedOrder).toHaveLength(5);
    expect(closedOrder.slice(0, 3).sort()).toEqual([0, 1, 2]);
    expect(closedOrder.slice(3).sort()).toEqual([3, 4]);
    if (process.env.RECORD_HISTORY) {
      // For the replay test (test/replay.test.ts): the root (commit in turns) and one of its shards.
      const shard = await t.h.env.client.workflow.getHandle(root.shards![0]!.workflowId).fetchHistory();
      for (const [part, h] of [
        ['root', history],
        ['shard', shard],
      ] as const)
        writeFileSync(
          join(ROOT, 'test', 'histories', `${process.env.RECORD_HISTORY}-${part}.pb`),
          temporal.api.history.v1.History.encode(h).finish(),
        );
    }

    const cleanup = await s.runToEnd('cleanup');
    expect(cleanup.status).toBe('succeeded');
    expect(await s.inventory()).toEqual(before);
  } finally {
    await s.stopWorkers();
  }
});

test('following a split run prints every step of every shard once, from changes only, and returns the merged record', async () => {
  const s = sharded();
  await s.seed();
  await s.startWorkers();
  try {
    const handle = await s.start('test');
    const out: string[] = [];
    const io = {
      stdout: (x: string) => out.push(x),
      stderr: () => undefined,
      env: {},
      cwd: s.dir,
      stdoutIsTTY: false,
      stderrIsTTY: false,
    };
    const record = (await follow(t.h.env.client, handle.workflowId, io))!;
    expect(record.status).toBe('succeeded');
    const plan = s.plan('test');
    const activitySteps = plan.steps.filter((x) => x.kind !== 'barrier');
    expect(record.steps.map((x) => x.id).sort()).toEqual(plan.steps.map((x) => x.id).sort());
    // One ✓ line per step, whichever execution ran it, and none twice.
    const done = out.filter((l) => / ✓ /.test(l)).map((l) => l.split(' ')[2]!);
    expect(done.sort()).toEqual(activitySteps.map((x) => x.id).sort());
    expect(out.filter((l) => l.includes('run of ') && l.includes(' started'))).toHaveLength(1);
    // The changes of a finished shard are small: its waiting and recently changed steps only.
    const shard = record.shards![0]!.workflowId;
    const delta = await t.h.env.client.workflow
      .getHandle(shard)
      .query(progressSinceQuery, { since: Date.now() + 60_000, from: 0 });
    expect(delta.steps).toEqual([]);
    expect(delta.eventCount).toBeGreaterThan(0);
  } finally {
    await s.stopWorkers();
  }
});

test('a permanent fault in one shard stops every shard and compensates all of them in reverse dependency order', async () => {
  const s = sharded((doc) =>
    doc.setIn(['simulation', 'faults'], [{ operation: 'validate', workload: 'web-1', effect: 'fail-always' }]),
  );
  await s.seed();
  const before = await s.inventory();
  await s.startWorkers();
  try {
    const handle = await s.start('test');
    const failed = await failedRecord(handle);
    expect(failed.type).toBe('RunFailed');
    expect(failed.message).toContain('web-1/validate');
    expect(failed.record.failedStep).toBe('web-1/validate');
    const record = await withShards(t.h.env.client, failed.record);
    expect(step(record, 'web-1/validate')).toMatchObject({ status: 'failed', attempts: 3 });
    const undone = record.steps.filter((x) => x.compensation);
    // Work in at least three executions was undone, every undo succeeded, in reverse dependency order.
    const executions = new Set(undone.map((x) => (x.workload ? x.workload : 'root')));
    expect(executions.size).toBeGreaterThanOrEqual(3);
    expect(undone.every((x) => x.compensation!.status === 'succeeded')).toBe(true);
    expect(expectReverseOrder(record, s.plan('test'))).toBeGreaterThan(10);
    expect(await s.inventory()).toEqual(before);
  } finally {
    await s.stopWorkers();
  }
});

test('cancelling a split run stops its shards and compensates what they did', async () => {
  const s = sharded((doc) => doc.setIn(['simulation', 'latency'], { default: '50ms', waitReady: '5s' }));
  await s.seed();
  const before = await s.inventory();
  await s.startWorkers();
  try {
    const handle = await s.start('test');
    await waitForMerged(handle, 'the database to power on', (r) =>
      r.steps.some((x) => x.id === 'orders-db/powerOn' && x.status === 'succeeded'),
    );
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();
    const root = await handle.query(progressQuery);
    expect(root.status).toBe('cancelled');
    expect(root.shards!.every((x) => x.status === 'cancelled')).toBe(true);
    const record = await withShards(t.h.env.client, root);
    expect(step(record, 'orders-db/powerOn').compensation?.status).toBe('succeeded');
    expect(await s.inventory()).toEqual(before);
  } finally {
    await s.stopWorkers();
  }
});

test("a decision sent to the root for a shard's step reaches it; a wrong one is refused by the root", async () => {
  const s = sharded((doc) =>
    doc.setIn(
      ['groups', 2, 'steps'],
      [{ name: 'web-owner-ok', at: 'before', approval: { approvers: ['dave'], required: 1, timeout: '10m' } }],
    ),
  );
  await s.startWorkers();
  try {
    const handle = await s.start('test');
    await waitForMerged(handle, 'the plan to be compiled', (r) => r.plan.planHash !== '');
    const refused = (await handle
      .executeUpdate('approve', { args: [{ step: 'web/web-owner-ok', by: 'mallory' }] })
      .catch((e: unknown) => e)) as { cause?: { message?: string } };
    expect(refused.cause?.message).toMatch(/mallory is not an approver of web\/web-owner-ok \(approvers: dave\)/);
    const answer = await handle.executeUpdate('approve', { args: [{ step: 'web/web-owner-ok', by: 'dave' }] });
    expect(answer).toMatch(/approved web\/web-owner-ok \(passed to .*shard-\d\)/);
    const root = (await handle.result()) as RunRecord;
    const record = await withShards(t.h.env.client, root);
    expect(step(record, 'web/web-owner-ok')).toMatchObject({ status: 'succeeded' });
    expect(step(record, 'web/web-owner-ok').decisions).toEqual([
      expect.objectContaining({ by: 'dave', decision: 'approved' }),
    ]);
  } finally {
    await s.stopWorkers();
  }
});
