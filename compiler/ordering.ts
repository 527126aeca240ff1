/**
 * The recovery order of a runbook, independent of mode: which unit must be done before which.
 *
 * Units are workloads, groups (their start and their end), priority levels, plan and group custom
 * steps, and the plan's start and end. Priorities, group membership and `dependsOn` all become edges of
 * this one graph, so "priority 1 before priority 2" and "web-1 after orders-db" are the same kind of
 * fact. The graph is checked for cycles once; each mode then turns units into steps.
 */
import { list } from './runbook';
import type { CustomStep, Runbook } from './runbook';
import type { PathSegment } from './source';

/** `w:<workload>`, `gs:<group>` (group start), `gd:<group>` (group done), `p:<n>`, `c:<owner>/<step>`, `ps`, `pe`. */
export type UnitId = string;

export interface OrderingEdge {
  /** The unit that waits. */
  from: UnitId;
  /** The unit it waits for. */
  to: UnitId;
  /**
   * For a workload that waits: `gate` holds back its start phase (power-on) only, so storage work can run
   * early; `first` holds back its very first step (plan and group `before` steps: approvals, drains).
   */
  target: 'first' | 'gate';
  /** What in the runbook made this edge, to point at in a cycle diagnostic. */
  origin: PathSegment[];
  /** Ordering between workloads (priority, dependsOn, membership): reversed for shutdown/power-off. */
  ordering: boolean;
}

export interface CustomUnit {
  id: UnitId;
  owner: 'plan' | string;
  step: CustomStep;
  path: PathSegment[];
  group?: string;
}

export interface Ordering {
  units: UnitId[];
  edges: OrderingEdge[];
  custom: Map<UnitId, CustomUnit>;
  /** Name → unit that stands for "this is recovered", for `dependsOn`. */
  doneUnit: Map<string, UnitId>;
  priorities: number[];
}

/** Builds the ordering graph; references that do not resolve are skipped here (check.ts reports them). */
export function buildOrdering(rb: Runbook): Ordering {
  const units: UnitId[] = ['ps', 'pe'];
  const edges: OrderingEdge[] = [];
  const custom = new Map<UnitId, CustomUnit>();
  const doneUnit = new Map<string, UnitId>();
  const groups = list<Runbook['groups'][number]>(rb.groups);

  groups.forEach((g) => {
    if (typeof g?.name === 'string') doneUnit.set(g.name, `gd:${g.name}`);
    for (const w of list<{ name?: unknown }>(g?.workloads)) {
      if (typeof w?.name === 'string') doneUnit.set(w.name, `w:${w.name}`);
    }
  });
  const edge = (from: UnitId, to: UnitId, origin: PathSegment[], target: 'first' | 'gate', ordering = false) =>
    edges.push({ from, to, origin, target, ordering });
  const resolve = (name: unknown) => (typeof name === 'string' ? doneUnit.get(name) : undefined);

  /** Custom steps of one owner and one side (`before`/`after`) run in the order written. */
  const addCustomChain = (
    owner: string,
    steps: CustomStep[],
    basePath: PathSegment[],
    side: 'before' | 'after',
    group?: string,
  ): UnitId[] => {
    const chain: UnitId[] = [];
    steps.forEach((step, i) => {
      if (typeof step?.name !== 'string' || (step.at ?? 'before') !== side) return;
      const id = `c:${owner}/${step.name}`;
      const path = [...basePath, i];
      const unit: CustomUnit = { id, owner, step, path };
      if (group !== undefined) unit.group = group;
      custom.set(id, unit);
      units.push(id);
      const prev = chain[chain.length - 1];
      if (prev) edge(id, prev, path, 'first');
      list<string>(step.dependsOn).forEach((name, j) => {
        const to = resolve(name);
        if (to) edge(id, to, [...path, 'dependsOn', j], 'first');
      });
      chain.push(id);
    });
    return chain;
  };

  // Plan-level custom steps: `before` ones gate every workload's first step, `after` ones follow the end.
  const planSteps = list<CustomStep>(rb.steps);
  const planBefore = addCustomChain('plan', planSteps, ['steps'], 'before');
  const planAfter = addCustomChain('plan', planSteps, ['steps'], 'after');
  if (planBefore.length) edge('ps', planBefore[planBefore.length - 1]!, ['steps'], 'first');
  if (planAfter.length) edge(planAfter[0]!, 'pe', ['steps'], 'first');

  const priorities = [
    ...new Set(groups.map((g) => g?.priority).filter((p): p is number => typeof p === 'number')),
  ].sort((a, b) => a - b);
  priorities.forEach((p, i) => {
    units.push(`p:${p}`);
    if (i > 0) edge(`p:${p}`, `p:${priorities[i - 1]}`, [], 'gate', true);
  });

  groups.forEach((g, gi) => {
    if (typeof g?.name !== 'string') return;
    const gPath: PathSegment[] = ['groups', gi];
    const gs = `gs:${g.name}`;
    const gd = `gd:${g.name}`;
    units.push(gs, gd);
    edge('pe', gd, gPath, 'first');
    if (typeof g.priority === 'number') {
      edge(`p:${g.priority}`, gd, [...gPath, 'priority'], 'gate', true);
      const lower = priorities.filter((p) => p < g.priority!).pop();
      if (lower !== undefined) edge(gs, `p:${lower}`, [...gPath, 'priority'], 'gate', true);
    }
    list<string>(g.dependsOn).forEach((name, j) => {
      const to = resolve(name);
      if (to) edge(gs, to, [...gPath, 'dependsOn', j], 'gate', true);
    });
    const gSteps = list<CustomStep>(g.steps);
    const before = addCustomChain(g.name, gSteps, [...gPath, 'steps'], 'before', g.name);
    const after = addCustomChain(g.name, gSteps, [...gPath, 'steps'], 'after', g.name);
    for (const c of [...before, ...after]) edge(c, 'ps', gPath, 'first');

    list<Runbook['groups'][number]['workloads'][number]>(g.workloads).forEach((w, wi) => {
      if (typeof w?.name !== 'string') return;
      const wPath: PathSegment[] = [...gPath, 'workloads', wi];
      const wu = `w:${w.name}`;
      units.push(wu);
      edge(wu, 'ps', wPath, 'first');
      edge(wu, gs, wPath, 'gate', true);
      if (before.length) edge(wu, before[before.length - 1]!, wPath, 'first');
      if (after.length) edge(after[0]!, wu, wPath, 'first');
      edge(gd, wu, wPath, 'gate', true);
      list<string>(w.dependsOn).forEach((name, j) => {
        const to = resolve(name);
        if (to) edge(wu, to, [...wPath, 'dependsOn', j], 'gate', true);
      });
      // A workload-level custom step that waits for another workload holds back this workload.
      list<CustomStep>(w.steps).forEach((s, si) =>
        list<string>(s?.dependsOn).forEach((name, j) => {
          const to = resolve(name);
          if (to) edge(wu, to, [...wPath, 'steps', si, 'dependsOn', j], 'gate');
        }),
      );
    });
    if (after.length) edge(gd, after[after.length - 1]!, gPath, 'first');
  });
  return { units, edges, custom, doneUnit, priorities };
}

/** A unit's name as a person reads it in a cycle path. */
export function describeUnit(unit: UnitId): string {
  if (unit === 'ps') return 'the start of the plan';
  if (unit === 'pe') return 'the end of the plan';
  const [kind, name] = [unit.slice(0, unit.indexOf(':')), unit.slice(unit.indexOf(':') + 1)];
  switch (kind) {
    case 'w':
      return name;
    case 'gs':
      return `group ${name}`;
    case 'gd':
      return `group ${name}`;
    case 'p':
      return `priority ${name}`;
    default:
      return `step ${name}`;
  }
}
