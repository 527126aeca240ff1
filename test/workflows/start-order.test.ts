/**
 * The order an engine starts ready steps in when slots are short (workflows/start-order.ts): the step on
 * the plan's longest chain of estimates first, with what a shard cannot see of that chain given by the
 * partition; and the paths it is computed from (compiler/graph.ts).
 */
import { generateEstate } from '../../bench/estate';
import { compile } from '../../compiler';
import { pathsFromStart, pathsToEnd } from '../../compiler/graph';
import { partitionPlan, sliceSteps } from '../../compiler/partition';
import type { PlanStep } from '../../contracts/plan';
import { criticalPathFirst, planOrder } from '../../workflows/start-order';

/** Steps `id:estimate` with their dependencies, in topological order. */
function steps(spec: [string, number, string[]][]): PlanStep[] {
  return spec.map(([id, estimateMs, dependsOn]) => ({ id, estimateMs, dependsOn }) as unknown as PlanStep);
}
const startOrder = (list: PlanStep[], order = criticalPathFirst(list)) => order.position.map((i) => list[i]!.id);

// Two waves, as SRM priorities make them: wave b's power-on waits for wave a's whole chain (the gate).
const waves = steps([
  ['b/sync', 3, []],
  ['a/sync', 3, []],
  ['a/restore', 2, ['a/sync']],
  ['a/powerOn', 1, ['a/restore']],
  ['gate', 0, ['a/powerOn']],
  ['b/restore', 2, ['b/sync']],
  ['b/powerOn', 1, ['b/restore', 'gate']],
]);

test('paths from the start and to the end, with what lies outside the steps given', () => {
  const toEnd = pathsToEnd(waves, (s) => s.estimateMs);
  expect(Object.fromEntries(toEnd)).toEqual({
    'b/sync': 6,
    'a/sync': 7,
    'a/restore': 4,
    'a/powerOn': 2,
    gate: 1,
    'b/restore': 3,
    'b/powerOn': 1,
  });
  const finish = pathsFromStart(waves, (s) => s.estimateMs);
  expect(finish.get('b/powerOn')).toBe(7);
  expect(finish.get('b/restore')).toBe(5);
  // A chain elsewhere: 10 more after b/powerOn; a/sync's own dependency ends at 4 in another execution.
  expect(pathsToEnd(waves, (s) => s.estimateMs, { 'b/powerOn': 11 }).get('a/sync')).toBe(17);
  const shifted = steps([
    ['x', 1, ['elsewhere']],
    ['y', 2, ['x']],
  ]);
  expect(pathsFromStart(shifted, (s) => s.estimateMs, { elsewhere: 4 }).get('y')).toBe(7);
});

test("the first wave's chain starts before the second wave's first steps, which have slack", () => {
  // Plan order would start b/sync first; its wave waits for the gate anyway.
  expect(startOrder(waves, planOrder(waves))[0]).toBe('b/sync');
  const order = startOrder(waves);
  expect(order.indexOf('a/sync')).toBeLessThan(order.indexOf('b/sync'));
  expect(order.indexOf('a/restore')).toBeLessThan(order.indexOf('b/sync'));
  expect(order.indexOf('a/powerOn')).toBeLessThan(order.indexOf('b/restore'));
  const place = criticalPathFirst(waves).place;
  waves.forEach((_, i) => expect(criticalPathFirst(waves).position[place[i]!]).toBe(i));
});

test('a shard starts first the step whose export leads the longest chain through other executions', () => {
  const local = steps([
    ['long', 5, []],
    ['short', 1, []],
    ['gate-export', 0, ['short']],
  ]);
  expect(startOrder(local)[0]).toBe('long');
  const order = startOrder(
    local,
    criticalPathFirst(local, { exportsToEndMs: { 'gate-export': 20 }, importsFromStartMs: {} }),
  );
  expect(order[0]).toBe('short');
});

test("every shard of a large estate is given the whole plan's paths through its exports and imports", () => {
  const plan = compile(generateEstate({ workloads: 2000, latency: '1s', estimates: '1s' }), {
    file: 'x.yaml',
    mode: 'test',
  }).plan!;
  const p = partitionPlan(plan)!;
  const toEnd = pathsToEnd(plan.steps, (s) => s.estimateMs);
  const finish = pathsFromStart(plan.steps, (s) => s.estimateMs);
  for (const shard of p.shards) {
    expect(Object.keys(shard.paths!.exportsToEndMs).sort()).toEqual([...shard.exports].sort());
    expect(Object.keys(shard.paths!.importsFromStartMs).sort()).toEqual([...shard.imports].sort());
    for (const id of shard.exports) expect(shard.paths!.exportsToEndMs[id]).toBe(toEnd.get(id));
    for (const id of shard.imports) expect(shard.paths!.importsFromStartMs[id]).toBe(finish.get(id));
    // With them, a shard ranks its steps as it would within the whole plan.
    const slice = sliceSteps(plan, p, shard.index);
    const local = pathsToEnd(slice, (s) => s.estimateMs, shard.paths!.exportsToEndMs);
    for (const s of slice) expect(local.get(s.id)).toBe(toEnd.get(s.id));
  }
});
