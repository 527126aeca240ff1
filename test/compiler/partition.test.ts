/**
 * How a large plan is split (compiler/partition.ts): every step in exactly one execution, shards near
 * their size, the concurrency limits shared out without exceeding them, and edges between executions
 * listed on both ends.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateEstate } from '../../bench/estate';
import { compile } from '../../compiler';
import type { Plan } from '../../compiler';
import {
  apportion,
  isActivityStep,
  ownerOf,
  partitionPlan,
  ROOT,
  shardPlanOf,
  skeletonOf,
  sliceSteps,
} from '../../compiler/partition';
import { MAX_PENDING_PER_EXECUTION } from '../../contracts/plan';

const planOf = (text: string, mode: Plan['mode'] = 'test') => compile(text, { file: 'x.yaml', mode }).plan!;
const estate = planOf(generateEstate({ workloads: 2000 }));

test('a plan that fits one execution is not split', () => {
  const webshop = planOf(readFileSync(join(__dirname, '..', '..', 'runbooks', 'webshop.yaml'), 'utf8'));
  expect(partitionPlan(webshop)).toBeUndefined();
  expect(partitionPlan(planOf(generateEstate({ workloads: 100 })))).toBeUndefined();
});

test('every step of the 2,000-workload estate runs in exactly one execution, in plan order', () => {
  const p = partitionPlan(estate)!;
  expect(p.shards.length).toBeGreaterThan(10);
  const slices = [ROOT, ...p.shards.map((s) => s.index)].map((k) => sliceSteps(estate, p, k));
  const ids = slices.flat().map((s) => s.id);
  expect(ids.length).toBe(estate.steps.length);
  expect(new Set(ids).size).toBe(estate.steps.length);
  const position = new Map(estate.steps.map((s, i) => [s.id, i]));
  for (const slice of slices) {
    const order = slice.map((s) => position.get(s.id)!);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  }
  // The root keeps only plan-level steps: priorities and `plan/...`.
  expect(slices[0]!.every((s) => /^(plan|priority-\d)\//.test(s.id))).toBe(true);
});

test('shards stay near their size and share out maxParallel without exceeding it', () => {
  const p = partitionPlan(estate)!;
  for (const s of p.shards) expect(s.activitySteps).toBeLessThanOrEqual(p.shardSize * 1.5);
  const budgets = [p.root.budget, ...p.shards.map((s) => s.budget)];
  expect(budgets.reduce((n, b) => n + b.plan, 0)).toBeLessThanOrEqual(estate.maxParallel);
  for (const site of Object.values(estate.sites)) {
    expect(budgets.reduce((n, b) => n + (b.sites[site.name] ?? 0), 0)).toBeLessThanOrEqual(site.maxParallel);
  }
  for (const b of budgets) expect(b.plan).toBeLessThanOrEqual(MAX_PENDING_PER_EXECUTION);
  // Every shard gets some of every priority, so all are busy at once and a fixed share is fair.
  const priorities = (k: number) =>
    new Set(sliceSteps(estate, p, k).map((s) => estate.workloads.find((w) => w.name === s.workload)?.priority));
  for (const s of p.shards) expect(priorities(s.index).size).toBeGreaterThanOrEqual(4);
});

test('each edge between executions is an export of its owner and an import of each importer', () => {
  const p = partitionPlan(estate)!;
  const spec = (k: number) => (k === ROOT ? p.root : p.shards[k]!);
  let edges = 0;
  for (const s of estate.steps) {
    const k = ownerOf(p, s);
    for (const d of s.dependsOn) {
      const from = ownerOf(p, estate.steps.find((x) => x.id === d) ?? { id: d });
      if (from === k) continue;
      edges++;
      expect(spec(from).exports).toContain(d);
      expect(spec(k).imports).toContain(d);
      expect(p.importers[d]).toContain(k);
    }
  }
  expect(edges).toBeGreaterThan(p.shards.length);
});

test('skeleton and shard plans keep the whole plan hash and are far below one payload', () => {
  const p = partitionPlan(estate)!;
  const skeleton = skeletonOf(estate, p);
  expect(skeleton.planHash).toBe(estate.planHash);
  expect(JSON.stringify(skeleton).length).toBeLessThan(1_000_000);
  const shard = shardPlanOf(estate, p, 3);
  expect(shard.planHash).toBe(estate.planHash);
  expect(shard.steps.filter(isActivityStep).length).toBe(p.shards[3]!.activitySteps);
  expect(JSON.stringify(shard).length).toBeLessThan(1_000_000);
  // A shard carries its own workloads only, and stays under Temporal's 512 KB payload warning.
  const own = new Set(shard.steps.map((s) => s.workload).filter(Boolean));
  expect(shard.workloads.map((w) => w.name).sort()).toEqual([...own].sort());
  for (const s of p.shards) expect(JSON.stringify(shardPlanOf(estate, p, s.index)).length).toBeLessThan(512 * 1024);
});

test('apportion: in proportion, at least one for each positive weight, never more than the total', () => {
  expect(apportion(10, [1, 1])).toEqual([5, 5]);
  expect(apportion(10, [0, 3, 1])).toEqual([0, 7, 3]);
  expect(apportion(3, [5, 5, 5])).toEqual([1, 1, 1]);
  expect(apportion(7, [1, 100])).toEqual([1, 6]);
  expect(apportion(5, [0, 0])).toEqual([0, 0]);
});
