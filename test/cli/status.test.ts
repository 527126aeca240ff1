/** `drover status` of a large run stays readable: a summary and what needs a look; --step and --failed filter. */
import { statusLines } from '../../cli/runs';
import type { RunRecord, StepRecord } from '../../contracts/record';

function run(workloads: number): RunRecord {
  const steps: StepRecord[] = [];
  for (let i = 0; i < workloads; i++) {
    const w = `vm-${String(i).padStart(4, '0')}`;
    for (const kind of ['restore', 'powerOn', 'waitReady'] as const)
      steps.push({ id: `${w}/${kind}`, kind, site: 'west', workload: w, status: 'succeeded', attempts: 1 });
  }
  steps.push({ id: 'priority-1/done', kind: 'barrier', site: 'west', status: 'succeeded', attempts: 1 });
  return {
    workflowId: 'drover-estate-test',
    plan: { name: 'estate', mode: 'test', planHash: 'h', sourceFile: 'f', sourceSha256: 's', from: 'east', to: 'west' },
    status: 'running',
    startedAt: 0,
    objectives: { rpoMs: 1, rtoMs: 1 },
    achieved: {},
    steps,
    events: [],
  } as unknown as RunRecord;
}

test('a small run lists every step but barriers', () => {
  const lines = statusLines(run(10), {});
  expect(lines).toHaveLength(30);
  expect(lines.join('\n')).not.toContain('priority-1/done');
});

test('a large run shows steps by kind and status, and the steps that need a look', () => {
  const record = run(2000);
  const failed = record.steps.find((s) => s.id === 'vm-0042/powerOn')!;
  failed.status = 'failed';
  failed.attempts = 3;
  failed.error = { type: 'SiteUnreachable', message: 'west did not answer' };
  for (const s of record.steps.filter((x) => x.workload === 'vm-1999')) s.status = 'running';
  const lines = statusLines(record, {});
  expect(lines.length).toBeLessThan(20);
  const text = lines.join('\n');
  expect(text).toContain('6000 steps');
  expect(text).toMatch(/powerOn\s+1998\s+1\s+1\n/); // succeeded, failed, running (statuses in order of first use)
  expect(text).toContain('needing a look (failed, waiting, running, compensation failed): 4');
  expect(text).toContain('failed    vm-0042/powerOn');
  expect(text).toContain('SiteUnreachable: west did not answer');
  expect(text).toContain('running   vm-1999/restore');
});

test('--step takes a workload or a pattern; --failed the failed steps; --all everything', () => {
  const record = run(2000);
  record.steps.find((s) => s.id === 'vm-0007/restore')!.status = 'failed';
  expect(statusLines(record, { step: 'vm-0042' }).map((l) => l.trim().split(/\s+/)[1])).toEqual([
    'vm-0042/restore',
    'vm-0042/powerOn',
    'vm-0042/waitReady',
  ]);
  expect(statusLines(record, { step: 'vm-000*/restore' })).toHaveLength(10);
  expect(statusLines(record, { step: 'vm-004' })).toEqual(['  no step matching vm-004']);
  expect(statusLines(record, { failed: true }).map((l) => l.trim().split(/\s+/)[1])).toEqual(['vm-0007/restore']);
  expect(statusLines(record, { step: 'vm-0042', failed: true })).toEqual(['  no step matching vm-0042, failed']);
  expect(statusLines(record, { all: true })).toHaveLength(6000);
});
