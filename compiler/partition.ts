/**
 * Splitting a large plan across workflow executions.
 *
 * One Temporal execution should hold at most a few thousand history events and a few hundred pending
 * activities, and one payload at most 2 MB; a 2,000-workload plan has about 10,000 activity steps. So a plan
 * with more activity steps than `shardSize` is split:
 *
 * - The **root** (the run's own workflow) keeps the plan-level steps: priority barriers, `plan/...` steps.
 * - Each **shard** (a child workflow) runs whole protection groups: their workloads' steps and the groups'
 *   own steps. A group larger than half a shard is split by workloads (its own steps stay with its first part).
 * - Groups are dealt to the least-loaded shard in plan order. Groups come in priority order, so every shard
 *   gets some of every priority, and all shards are busy at the same time: that is what lets the plan's
 *   `maxParallel` be shared out once, in proportion to each shard's steps, instead of through a lock.
 * - An edge between executions is an export/import: the owner reports the step done to the root, which
 *   passes it on to every execution importing it (and the reverse, for compensation).
 *
 * Pure: used by the compile activity (to hand out skeleton and slices) and by the workflow (for `{plan}` input).
 */
import type { Budget, Partition, Plan, PlanStep, ShardSpec, StepKind } from '../contracts/plan';
import { MAX_PENDING_PER_EXECUTION } from '../contracts/plan';
import { pathsFromStart, pathsToEnd } from './graph';

/** Activity steps per shard aimed at: with about six history events per step, well under 10,240. */
export const DEFAULT_SHARD_SIZE = 600;
export const ROOT = -1;

/** Steps that run in the workflow itself and take no activity slot. */
export const IN_WORKFLOW_KINDS: ReadonlySet<StepKind> = new Set(['barrier', 'approval', 'prompt', 'confirm', 'wait']);
const PEOPLE_KINDS: ReadonlySet<StepKind> = new Set(['approval', 'prompt', 'confirm']);

export function isActivityStep(step: { kind: StepKind }): boolean {
  return !IN_WORKFLOW_KINDS.has(step.kind);
}

/** The budget of a plan run as one execution: its `maxParallel`s, capped at what one execution may hold. */
export function wholeBudget(plan: Plan): Budget {
  const cap = (n: number) => Math.max(1, Math.min(n, MAX_PENDING_PER_EXECUTION));
  const sites: Record<string, number> = {};
  for (const s of Object.values(plan.sites)) sites[s.name] = cap(s.maxParallel);
  return { plan: cap(plan.maxParallel), sites };
}

/** How to split the plan, or undefined when it fits in one execution. */
export function partitionPlan(plan: Plan, shardSize = DEFAULT_SHARD_SIZE): Partition | undefined {
  const size = Math.max(1, Math.floor(shardSize));
  const groupOfWorkload = new Map(plan.workloads.map((w) => [w.name, w.group]));
  const groupNames = new Set(plan.workloads.map((w) => w.group));
  const groupOf = (s: PlanStep): string | undefined => {
    if (s.workload) return groupOfWorkload.get(s.workload);
    if (s.group) return s.group;
    const prefix = s.id.slice(0, s.id.indexOf('/'));
    return groupNames.has(prefix) ? prefix : undefined;
  };

  // Units: a group's workloads (in chunks when the group is large), each with its activity-step count.
  const activityByWorkload = new Map<string, number>();
  const activityByGroupOwn = new Map<string, number>();
  let rootActivity = 0;
  for (const s of plan.steps) {
    const act = isActivityStep(s) ? 1 : 0;
    if (s.workload) activityByWorkload.set(s.workload, (activityByWorkload.get(s.workload) ?? 0) + act);
    else {
      const g = groupOf(s);
      if (g) activityByGroupOwn.set(g, (activityByGroupOwn.get(g) ?? 0) + act);
      else rootActivity += act;
    }
  }
  const total = [...activityByWorkload.values(), ...activityByGroupOwn.values()].reduce((a, b) => a + b, 0);
  // Every execution needs at least one slot of each limit, so there are never more shards than slots.
  const slots = Math.min(plan.maxParallel, ...Object.values(plan.sites).map((s) => s.maxParallel));
  const count = Math.min(Math.ceil(total / size), slots - (rootActivity > 0 ? 1 : 0));
  if (count <= 1) return undefined;

  const groups: { name: string; workloads: string[] }[] = [];
  for (const w of plan.workloads) {
    const last = groups[groups.length - 1];
    if (last && last.name === w.group) last.workloads.push(w.name);
    else groups.push({ name: w.group, workloads: [w.name] });
  }
  const load = Array.from({ length: count }, () => 0);
  const workloadShard: Record<string, number> = {};
  const groupShard: Record<string, number> = {};
  const leastLoaded = () => load.indexOf(Math.min(...load));
  for (const g of groups) {
    let chunk: string[] = [];
    let chunkLoad = activityByGroupOwn.get(g.name) ?? 0;
    const place = () => {
      const k = leastLoaded();
      load[k]! += chunkLoad;
      if (groupShard[g.name] === undefined) groupShard[g.name] = k;
      for (const w of chunk) workloadShard[w] = k;
      chunk = [];
      chunkLoad = 0;
    };
    for (const w of g.workloads) {
      const n = activityByWorkload.get(w) ?? 0;
      if (chunk.length > 0 && chunkLoad + n > size / 2) place();
      chunk.push(w);
      chunkLoad += n;
    }
    place();
  }

  const ownerById = new Map(plan.steps.map((s) => [s.id, ownerOf({ workloadShard, groupShard }, s)]));
  const shards: ShardSpec[] = Array.from({ length: count }, (_, index) => ({
    index,
    groups: [],
    workloads: 0,
    steps: 0,
    activitySteps: 0,
    imports: [],
    exports: [],
    budget: { plan: 0, sites: {} },
  }));
  const root = {
    steps: 0,
    activitySteps: 0,
    imports: [] as string[],
    exports: [] as string[],
    budget: shards[0]!.budget,
  };
  const spec = (k: number) => (k === ROOT ? root : shards[k]!);
  for (const [g, k] of Object.entries(groupShard)) shards[k]!.groups.push(g);
  for (const k of Object.values(workloadShard)) shards[k]!.workloads++;

  const importers: Record<string, number[]> = {};
  const perSite = new Map<string, number[]>(Object.keys(plan.sites).map((name) => [name, Array(count + 1).fill(0)]));
  const people: Partition['people'] = [];
  for (const s of plan.steps) {
    const k = ownerById.get(s.id)!;
    const sp = spec(k);
    sp.steps++;
    if (isActivityStep(s)) {
      sp.activitySteps++;
      perSite.get(s.site)![k + 1]!++;
    }
    if (k !== ROOT && PEOPLE_KINDS.has(s.kind)) {
      const p: Partition['people'][number] = { id: s.id, kind: s.kind, shard: k };
      if (Array.isArray(s.params.approvers)) p.approvers = s.params.approvers as string[];
      people.push(p);
    }
    for (const d of s.dependsOn) {
      const from = ownerById.get(d)!;
      if (from === k) continue;
      const list = (importers[d] ??= []);
      if (list.includes(k)) continue;
      if (list.length === 0) spec(from).exports.push(d);
      list.push(k);
      sp.imports.push(d);
    }
  }

  // Share each limit out in proportion to the activity steps each execution runs against it.
  const holders = count + 1;
  const activity = [root.activitySteps, ...shards.map((s) => s.activitySteps)];
  const planShare = apportion(Math.min(plan.maxParallel, MAX_PENDING_PER_EXECUTION * holders), activity);
  const budgets: Budget[] = planShare.map((n) => ({ plan: Math.min(n, MAX_PENDING_PER_EXECUTION), sites: {} }));
  for (const [name, counts] of perSite) {
    const share = apportion(plan.sites[name]!.maxParallel, counts);
    share.forEach((n, i) => (budgets[i]!.sites[name] = Math.min(n, MAX_PENDING_PER_EXECUTION)));
  }
  root.budget = budgets[0]!;
  shards.forEach((s, i) => (s.budget = budgets[i + 1]!));
  const toEnd = pathsToEnd(plan.steps, (s) => s.estimateMs);
  const fromStart = pathsFromStart(plan.steps, (s) => s.estimateMs);
  for (const s of shards)
    s.paths = {
      exportsToEndMs: Object.fromEntries(s.exports.map((id) => [id, toEnd.get(id)!])),
      importsFromStartMs: Object.fromEntries(s.imports.map((id) => [id, fromStart.get(id)!])),
    };
  return { shardSize: size, root, shards, importers, workloadShard, groupShard, people };
}

/**
 * `total` slots shared in proportion to `weights` (largest remainder; ties to the first): every positive
 * weight gets at least one slot, a zero weight none. The caller makes sure `total` covers the minimums.
 */
export function apportion(total: number, weights: readonly number[]): number[] {
  const positive = weights.filter((w) => w > 0).length;
  const out = weights.map((w) => (w > 0 ? 1 : 0));
  const sum = weights.reduce((a, b) => a + b, 0);
  const left = total - positive;
  if (sum === 0 || left <= 0) return out;
  const exact = weights.map((w) => (left * w) / sum);
  let given = 0;
  exact.forEach((x, i) => {
    out[i]! += Math.floor(x);
    given += Math.floor(x);
  });
  const order = exact
    .map((x, i) => ({ frac: x - Math.floor(x), i }))
    .filter(({ i }) => weights[i]! > 0)
    .sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (let j = 0; j < left - given; j++) out[order[j % order.length]!.i]!++;
  return out;
}

type Owners = Pick<Partition, 'workloadShard' | 'groupShard'>;

/** The execution that runs a step: its workload's shard, else its group's, else the root. */
export function ownerOf(owners: Owners, step: Pick<PlanStep, 'id' | 'workload' | 'group'>): number {
  if (step.workload !== undefined) return owners.workloadShard[step.workload] ?? ROOT;
  const group = step.group ?? step.id.slice(0, step.id.indexOf('/'));
  return owners.groupShard[group] ?? ROOT;
}

/** The execution to send a decision about `stepId` to, from the id alone (`<workload>/...`, `<group>/...`). */
export function ownerOfStepId(owners: Owners, stepId: string): number {
  const prefix = stepId.slice(0, stepId.indexOf('/'));
  return owners.workloadShard[prefix] ?? owners.groupShard[prefix] ?? ROOT;
}

/** The steps one execution runs, in plan (topological) order. */
export function sliceSteps(plan: Plan, partition: Partition, index: number): PlanStep[] {
  return plan.steps.filter((s) => ownerOf(partition, s) === index);
}

/** The plan the root holds: its own steps and the partition; `planHash` stays the whole plan's. */
export function skeletonOf(plan: Plan, partition: Partition): Plan {
  return { ...plan, steps: sliceSteps(plan, partition, ROOT), partition };
}

/** One shard's plan: the shard's steps and workloads only, no partition; `planHash` stays the whole plan's. */
export function shardPlanOf(plan: Plan, partition: Partition, index: number): Plan {
  const steps = sliceSteps(plan, partition, index);
  // Its own workloads only: all of a 2,000-workload plan's would be a quarter of every shard's payload.
  const own = new Set(steps.map((s) => s.workload));
  return { ...plan, steps, workloads: plan.workloads.filter((w) => own.has(w.name)) };
}
