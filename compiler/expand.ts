/**
 * Expansion: one mode of a checked runbook → the Plan's steps.
 *
 * Each workload becomes a chain of built-in actions (modes.ts) with its own custom steps inserted at
 * their anchors. The ordering graph (ordering.ts) then becomes step dependencies: a workload's start
 * phase waits for what it depends on, its stop phase (shutdown, power-off) goes in reverse order, and
 * groups and priorities become barrier steps, so n workloads need O(n) edges.
 *
 * `expand` runs the phases below in order; each adds steps or edges to the `Expander` (expand-steps.ts,
 * which also makes each step). The order matters: steps keep the order they were added in wherever the
 * dependencies allow, and each step's `dependsOn` the order its edges were added in.
 */
import type { Diagnostic } from './diagnostics';
import { builtinPolicy, builtinStep, customStep, ms, newExpander, runsIn } from './expand-steps';
import type { ExpandOptions, Expander } from './expand-steps';
import { topologicalOrder, longestPath, findCycles } from './graph';
import type { Ordering, UnitId } from './ordering';
import { FAILOVER_MODES, POINT_OF_NO_RETURN } from '../contracts/plan';
import type {
  JsonObject,
  Mode,
  Plan,
  PlanSite,
  PlanStep,
  PlanWorkload,
  ProviderName,
  Simulation,
  StepKind,
} from '../contracts/plan';
import { postgresModeProblems } from './postgres';
import { providerOf, supports } from './providers';
import { MODE_CHAINS } from './modes';
import type { Phase } from './modes';
import type { ActionName, CustomStep, Group, Runbook, Site, Workload } from './runbook';
import type { PathSegment, RunbookSource } from './source';
import {
  compensationOf,
  findLastIndex,
  planSite,
  planWorkload,
  pruneBarriers,
  simulation,
  toReadiness,
  toTabletop,
} from './steps';

export { approvalSigning } from './expand-steps';
export type { ExpandOptions } from './expand-steps';

export interface Expansion {
  from: string;
  to: string;
  maxParallel: number;
  sites: Record<string, PlanSite>;
  workloads: PlanWorkload[];
  steps: PlanStep[];
  criticalPath: { stepIds: string[]; estimateMs: number; rtoMs: number; exceedsRto: boolean };
  simulation?: Simulation;
  commit?: Plan['commit'];
}

/** Where each unit of the ordering enters and leaves the step graph. */
interface UnitSteps {
  first: string;
  /** Absent when the mode starts nothing (cleanup, reprotect): then nothing waits for dependencies. */
  gate?: string;
  last: string;
  stop?: string;
}

type Units = Map<UnitId, UnitSteps>;

const single = (id: string): UnitSteps => ({ first: id, gate: id, last: id });

/** A workload's chain so far: its steps in order, the phase of each, and the action of built-in ones. */
interface Link {
  id: string;
  phase: Phase;
  action?: ActionName;
}

/** What the workload chains leave for later phases. */
interface WorkloadChains {
  /** Restore steps of copies that go into the test network: they wait for the network. */
  restores: string[];
  /** Each workload's last step: cleanup removes the test network after them. */
  lasts: string[];
  /** [custom step, workload or group it names in `dependsOn`]: resolved once every unit exists. */
  lateDeps: [string, string][];
}

/** The steps of `mode` (or the diagnostics that stop it), phase by phase. */
export function expand(
  source: RunbookSource,
  rb: Runbook,
  ordering: Ordering,
  mode: Mode,
  options: ExpandOptions = {},
): { expansion?: Expansion; diagnostics: Diagnostic[] } {
  const x = newExpander(source, rb, mode, options);
  const units: Units = new Map();
  // The plan's start, and in a failover the point of no return (guardPromote).
  units.set('ps', single(x.barrier('plan/start', ['steps']).id));
  if (x.failover) x.barrier(POINT_OF_NO_RETURN, ['groups']);
  addCustomUnits(x, ordering, units);
  const chains = addGroups(x, units);
  // Each priority's done barrier (the ordering's edges reach them), and the plan's end.
  for (const p of ordering.priorities) units.set(`p:${p}`, single(x.barrier(`priority-${p}/done`, []).id));
  units.set('pe', single(x.barrier('plan/end', ['groups']).id));
  addOrderingEdges(x, ordering, units);
  addCustomDependencies(x, ordering, units, chains.lateDeps);
  addStopOrder(x, ordering, units);
  addTestNetwork(x, chains);
  if (mode === 'readiness') addReadinessChecks(x);
  return finish(x);
}

// ---- units: plan- and group-level custom steps, groups, workload chains ----

/** Custom steps at plan and group level: a step when it runs in this mode, else a pass-through barrier. */
function addCustomUnits(x: Expander, ordering: Ordering, units: Units): void {
  for (const [unit, c] of ordering.custom) {
    const id = `${c.owner}/${c.step.name}`;
    const levels = [x.rb.defaults, c.group ? x.rb.groups.find((g) => g.name === c.group)?.defaults : undefined];
    if (runsIn(x, c.step)) x.add(customStep(x, id, c.step, c.path, levels, c.group));
    else x.barrier(id, c.path);
    units.set(unit, single(id));
  }
}

/** Each group's start and done barriers, and the chain of each of its workloads. */
function addGroups(x: Expander, units: Units): WorkloadChains {
  const out: WorkloadChains = { restores: [], lasts: [], lateDeps: [] };
  x.rb.groups.forEach((g, gi) => {
    units.set(`gs:${g.name}`, single(x.barrier(`${g.name}/start`, ['groups', gi]).id));
    units.set(`gd:${g.name}`, single(x.barrier(`${g.name}/done`, ['groups', gi]).id));
    g.workloads.forEach((w, wi) => addWorkload(x, w, g, ['groups', gi, 'workloads', wi], units, out));
  });
  return out;
}

/**
 * One workload: its built-in actions and custom steps as one chain, each step waiting for the one before,
 * and the unit `w:<name>` (where the chain starts, where its start phase begins, where it ends and stops).
 */
function addWorkload(
  x: Expander,
  w: Workload,
  g: Group,
  wPath: PathSegment[],
  units: Units,
  out: WorkloadChains,
): void {
  const chain = builtinChain(x, w, g, wPath);
  insertCustomSteps(x, w, g, wPath, chain, out.lateDeps);
  guardPromote(x, chain);
  if (chain.length === 0) return;
  for (let i = 1; i < chain.length; i++) x.dependOn(chain[i]!.id, chain[i - 1]!.id);
  const ids = chain.map((c) => c.id);
  const us: UnitSteps = { first: ids[0]!, last: ids[ids.length - 1]! };
  const gate = chain.find((c) => c.phase === 'start')?.id;
  if (gate) us.gate = gate;
  const stop = chain.find((c) => c.phase === 'stop');
  if (stop) us.stop = stop.id;
  units.set(`w:${w.name}`, us);
  out.lasts.push(us.last);
  // A copy restored into the test network waits for it; one whose provider has no networks does not.
  if (supports(providerOf(w, x.toSite), 'createTestNetwork'))
    for (const c of chain) if (x.byId.get(c.id)!.kind === 'restore') out.restores.push(c.id);
}

/** The mode's built-in actions for a workload, each a step; those its provider cannot do are diagnostics. */
function builtinChain(x: Expander, w: Workload, g: Group, wPath: PathSegment[]): Link[] {
  const templates = MODE_CHAINS[x.chainMode].filter((t) => !t.when || t.when(w));
  const chain: Link[] = [];
  if (providerOf(w, x.toSite) === 'postgres')
    for (const p of postgresModeProblems(w, x.chainMode))
      x.diagnostics.push(
        x.source.diagnostic('provider/settings', [...wPath, ...p.path], p.message, p.hint, { key: true }),
      );
  for (const t of templates) {
    const site = t.role === 'source' ? x.fromSite : x.toSite;
    const provider = providerOf(w, site);
    if (!supports(provider, t.kind)) {
      // Test mode's "replicate recent changes first" is optional, as in SRM; everywhere else it is needed.
      if (!(x.chainMode === 'test' && t.action === 'sync'))
        unsupported(x, site, provider, t.kind, wPath, `workload ${w.name}`);
      continue;
    }
    const step = x.add(builtinStep(x, w, g, t, site, wPath));
    chain.push({ id: step.id, phase: t.phase, action: t.action });
  }
  return chain;
}

function unsupported(
  x: Expander,
  site: Site,
  provider: ProviderName,
  kind: StepKind,
  path: PathSegment[],
  what: string,
) {
  x.diagnostics.push(
    x.source.diagnostic(
      'provider/unsupported',
      path,
      `${x.mode} needs "${kind}" for ${what} on site ${site.name}, but the ${provider} provider cannot do it`,
      provider === site.provider
        ? `run this plan in another mode, or use a provider that supports ${kind} for site ${site.name}`
        : `the workload says \`provider: ${provider}\`: run this plan in another mode, or leave out what needs ${kind}`,
    ),
  );
}

/** A workload's custom steps that run in this mode, into its chain at their anchors, in the order written. */
function insertCustomSteps(
  x: Expander,
  w: Workload,
  g: Group,
  wPath: PathSegment[],
  chain: Link[],
  lateDeps: [string, string][],
): void {
  const custom = (w.steps ?? [])
    .map((s, i) => ({ s, path: [...wPath, 'steps', i] as PathSegment[] }))
    .filter(({ s }) => runsIn(x, s));
  for (const { s, path } of custom) {
    const place = placeInChain(x, w, s, path, chain);
    if (!place) continue;
    const levels = [x.rb.defaults, g.defaults, w.defaults];
    const step = x.add(customStep(x, `${w.name}/${s.name}`, s, path, levels, g.name, w.name));
    chain.splice(place.index, 0, { id: step.id, phase: place.neighbour?.phase ?? 'prepare' });
    for (const name of s.dependsOn ?? []) lateDeps.push([step.id, name]);
  }
}

/**
 * Where a custom step goes in the chain by its `at` (before or after the whole chain, or an action of it),
 * and the link beside it, whose phase it takes; undefined, with a diagnostic, when the chain has no such action.
 */
function placeInChain(
  x: Expander,
  w: Workload,
  s: CustomStep,
  path: PathSegment[],
  chain: Link[],
): { index: number; neighbour: Link | undefined } | undefined {
  const at = s.at ?? 'before';
  const [side, action] = at.split(/-(.*)/s) as ['before' | 'after', string | undefined];
  let index: number;
  if (action === undefined) {
    index = side === 'before' ? chain.findIndex((c) => c.action !== undefined) : chain.length;
    if (index < 0) index = 0;
  } else {
    const anchor =
      side === 'before'
        ? chain.findIndex((c) => c.action === action)
        : findLastIndex(chain, (c) => c.action === action);
    if (anchor < 0) {
      const actions = chain.filter((c) => c.action).map((c) => c.action);
      x.diagnostics.push(
        x.source.diagnostic(
          'step/anchor',
          [...path, 'at'],
          `step "${s.name}" runs ${at}, but workload ${w.name} has no ${action} action in ${x.mode} mode`,
          `anchor it to an action of this mode (${actions.join(', ') || 'none'}), or limit its \`modes\``,
        ),
      );
      return undefined;
    }
    index = side === 'before' ? anchor : anchor + 1;
  }
  return { index, neighbour: chain[side === 'before' ? index : index - 1] };
}

// ---- edges between units ----

/** Forward order: every edge of the ordering graph becomes a step dependency. */
function addOrderingEdges(x: Expander, ordering: Ordering, units: Units): void {
  for (const e of ordering.edges) {
    const from = units.get(e.from);
    const to = units.get(e.to);
    const waiter = e.target === 'first' ? from?.first : from?.gate;
    if (waiter && to) x.dependOn(waiter, to.last);
  }
}

/** A workload's custom step waits for what its own `dependsOn` names (a workload expanded after it, too). */
function addCustomDependencies(x: Expander, ordering: Ordering, units: Units, lateDeps: [string, string][]): void {
  for (const [stepId, name] of lateDeps) {
    const to = units.get(ordering.doneUnit.get(name) ?? '');
    if (to) x.dependOn(stepId, to.last);
  }
}

/**
 * Stop order: shutdowns and power-offs go in reverse, dependents first (web, then app, then database).
 * Groups and priorities get barriers of their own for it, made when an edge first needs one.
 */
function addStopOrder(x: Expander, ordering: Ordering, units: Units): void {
  if (![...units.values()].some((u) => u.stop)) return;
  const reverse = new Map<UnitId, string>();
  const stopOf = (u: UnitId): string | undefined => {
    if (u.startsWith('w:')) return units.get(u)?.stop;
    if (!/^(gs|gd|p):/.test(u)) return undefined;
    if (!reverse.has(u)) {
      const name = u.slice(u.indexOf(':') + 1);
      const id = u.startsWith('p:')
        ? `priority-${name}/stop-begin`
        : u.startsWith('gs:')
          ? `${name}/stopped`
          : `${name}/stop-begin`;
      reverse.set(u, x.barrier(id, []).id);
    }
    return reverse.get(u);
  };
  for (const e of ordering.edges) {
    if (!e.ordering) continue;
    const waiter = stopOf(e.to);
    const waited = stopOf(e.from);
    if (waiter && waited) x.dependOn(waiter, waited);
  }
}

// ---- plan-level steps of some modes ----

/**
 * Test and cleanup: the isolated test network exists before any test copy is restored into it, and goes
 * last in cleanup.
 */
function addTestNetwork(x: Expander, chains: WorkloadChains): void {
  const { chainMode, toSite } = x;
  const kind = chainMode === 'test' ? 'createTestNetwork' : chainMode === 'cleanup' ? 'removeTestNetwork' : undefined;
  // A test whose copies all live outside networks (PostgreSQL) makes none; cleanup removes it whatever the
  // runbook says now, so a network left by an earlier version of it goes too.
  const needed = kind === 'removeTestNetwork' || chains.restores.length > 0;
  if (!kind || !needed || !supports(toSite.provider, kind)) return;
  const net = x.add({
    ...builtinPolicy('testNetwork', [x.rb.defaults]),
    id: 'plan/test-network',
    kind,
    site: toSite.name,
    dependsOn: [],
    params: { network: toSite.testNetwork ?? 'drover-test' },
    source: x.source.locate(['sites', x.swap ? 'protected' : 'recovery']),
  });
  if (kind === 'createTestNetwork') {
    net.compensation = compensationOf(net, 'removeTestNetwork');
    x.dependOn(net.id, 'plan/start');
    for (const r of chains.restores) x.dependOn(r, net.id);
  } else {
    for (const l of chains.lasts) x.dependOn(net.id, l);
    x.dependOn('plan/end', net.id);
  }
}

/** Readiness: the plan-level checks (sites, capacity, test network, approvers), beside each workload's replication check. */
function addReadinessChecks(x: Expander): void {
  const { rb, toSite } = x;
  const check = (id: string, site: Site, params: JsonObject, path: PathSegment[]) => {
    const step = x.add({
      ...builtinPolicy('preCheck', [rb.defaults]),
      id,
      kind: 'preCheck',
      site: site.name,
      dependsOn: [],
      params,
      source: x.source.locate(path),
    });
    x.dependOn(step.id, 'plan/start');
    x.dependOn('plan/end', step.id);
  };
  for (const role of ['protected', 'recovery'] as const)
    check(`plan/reach-${rb.sites[role].name}`, rb.sites[role], { check: 'site' }, ['sites', role]);
  const workloads = rb.groups.flatMap((g) => g.workloads);
  // The workloads the recovery site's provider recovers (not those with a `provider` of their own), and
  // their settings for it: what it recovers (vSphere: which replica VMs).
  const ownWorkloads = workloads.filter((w) => providerOf(w, toSite) === toSite.provider);
  const settings = Object.fromEntries(
    ownWorkloads.filter((w) => w[toSite.provider]).map((w) => [w.name, w[toSite.provider] as JsonObject]),
  );
  const capacity: JsonObject = { check: 'capacity', workloads: ownWorkloads.map((w) => w.name) };
  if (Object.keys(settings).length) capacity.settings = settings;
  check('plan/capacity', toSite, capacity, ['sites', 'recovery']);
  check('plan/test-network', toSite, { check: 'test-network', network: toSite.testNetwork ?? 'drover-test' }, [
    'sites',
    'recovery',
  ]);
  const approvals = (rb.steps ?? [])
    .filter((c) => c.approval)
    .map((c) => ({ step: `plan/${c.name}`, approvers: c.approval!.approvers, required: c.approval!.required ?? 1 }));
  check('plan/approvers', toSite, { check: 'approvers', approvals }, ['steps']);
  for (const st of x.steps) {
    if (st.kind === 'preCheck' && st.workload) {
      const w = workloads.find((wl) => wl.name === st.workload)!;
      st.params = { ...st.params, check: 'replication', rpoMs: ms(w.objectives?.rpo) ?? ms(rb.objectives.rpo) ?? 0 };
    }
  }
}

// ---- the point of no return ----

/** No workload is promoted until every source is stopped, fenced and synced for the last time. */
function guardPromote(x: Expander, chain: Link[]): void {
  const promote = chain.findIndex((c) => c.action === 'promote');
  if (x.failover && promote >= 0) {
    x.dependOn(chain[promote]!.id, POINT_OF_NO_RETURN);
    if (promote > 0) x.dependOn(POINT_OF_NO_RETURN, chain[promote - 1]!.id);
  }
}

/**
 * Past the point of no return (every step that waits for it): kept when the run stops, undone only by
 * `drover rollback`; a failure there pauses for a person unless the runbook says what to do.
 */
function markRecovery(x: Expander, ordered: PlanStep[]): void {
  const past = new Set<string>([POINT_OF_NO_RETURN]);
  for (const st of ordered) {
    if (!st.dependsOn.some((d) => past.has(d))) continue;
    past.add(st.id);
    if (st.kind === 'barrier') continue;
    st.recovery = true;
    if (!x.explicitOnFailure.has(st.id)) st.onFailure = 'pause';
  }
}

// ---- the result ----

/**
 * The steps without needless barriers, in topological order (or the cycles they form, as diagnostics),
 * in the mode's final form, with the critical path and what the plan says besides its steps.
 */
function finish(x: Expander): { expansion?: Expansion; diagnostics: Diagnostic[] } {
  const { rb, mode, diagnostics } = x;
  const pruned = pruneBarriers(x.steps);
  const ordered = topologicalOrder(pruned);
  if (!ordered) {
    diagnostics.push(...cycleDiagnostics(x, pruned));
    return { diagnostics };
  }
  if (FAILOVER_MODES.includes(mode)) markRecovery(x, ordered);
  const final =
    mode === 'tabletop' ? ordered.map(toTabletop) : mode === 'readiness' ? ordered.map(toReadiness) : ordered;
  const cp = longestPath(final, (s) => s.estimateMs);
  const rtoMs = ms(rb.objectives.rto) ?? 0;
  const maxParallel = rb.maxParallel ?? 100;
  const sites: Record<string, PlanSite> = {};
  for (const role of ['protected', 'recovery'] as const)
    sites[rb.sites[role].name] = planSite(rb.sites[role], role, maxParallel);
  const expansion: Expansion = {
    from: x.fromSite.name,
    to: x.toSite.name,
    maxParallel,
    sites,
    workloads: rb.groups.flatMap((g) => g.workloads.map((w) => planWorkload(w, g))),
    steps: final,
    criticalPath: { stepIds: cp.path, estimateMs: cp.total, rtoMs, exceedsRto: cp.total > rtoMs },
  };
  if (rb.simulation) expansion.simulation = simulation(rb);
  if (FAILOVER_MODES.includes(mode))
    expansion.commit = { timeoutMs: ms(rb.commit?.timeout) ?? 0, onTimeout: rb.commit?.onTimeout ?? 'commit' };
  return { expansion, diagnostics };
}

/** A cycle of steps (one is enough to fix first), at its first step. */
function cycleDiagnostics(x: Expander, pruned: PlanStep[]): Diagnostic[] {
  const deps = new Map(pruned.map((s) => [s.id, s.dependsOn]));
  const cycles = findCycles(
    pruned.map((s) => s.id),
    (id) => deps.get(id) ?? [],
    1,
  );
  return cycles.map((cycle) => {
    const first = x.byId.get(cycle[0]!)!;
    return {
      ...x.source.diagnostic(
        'graph/cycle',
        [],
        `in ${x.mode} mode the steps form a cycle: ${cycle.join(' → ')}`,
        'a custom step anchored inside a workload waits for something that waits for that workload: change its `at` or `dependsOn`',
      ),
      line: first.source.line,
      column: first.source.column,
    };
  });
}
