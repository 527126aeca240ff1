/**
 * Expansion: one mode of a checked runbook → the Plan's steps.
 *
 * Each workload becomes a chain of built-in actions (modes.ts) with its own custom steps inserted at
 * their anchors. The ordering graph (ordering.ts) then becomes step dependencies: a workload's start
 * phase waits for what it depends on, its stop phase (shutdown, power-off) goes in reverse order, and
 * groups and priorities become barrier steps, so n workloads need O(n) edges.
 */
import type { Diagnostic } from './diagnostics';
import {
  compensationOf,
  findLastIndex,
  planSite,
  planWorkload,
  pruneBarriers,
  resolvePolicy,
  simulation,
  toReadiness,
  toTabletop,
} from './steps';
import { parseDuration } from './durations';
import { topologicalOrder, longestPath, findCycles } from './graph';
import type { Ordering, UnitId } from './ordering';
import { FAILOVER_MODES, POINT_OF_NO_RETURN } from './plan';
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
} from './plan';
import { postgresModeProblems } from './postgres';
import { POINT_IN_TIME_TEST_COPIES, providerOf, supports } from './providers';
import {
  DEFAULT_APPROVAL_TIMEOUT_MS,
  DEFAULT_CUSTOM_ESTIMATES,
  DEFAULT_CUSTOM_MODES,
  DEFAULT_ESTIMATES,
  DEFAULT_RETRY,
  MODE_CHAINS,
  TABLETOP_OF,
} from './modes';
import type { ActionTemplate, Phase } from './modes';
import type { ActionName, CustomStep, Defaults, Group, Runbook, Site, StepPolicy, Workload } from './runbook';
import type { PathSegment, RunbookSource } from './source';

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

const ms = (d: string | undefined): number | undefined => (d === undefined ? undefined : parseDuration(d));

export interface ExpandOptions {
  /** Test mode: the time test copies that can go back in time (POINT_IN_TIME_TEST_COPIES) are restored to. */
  recoveryPoint?: string;
}

/** Where each unit of the ordering enters and leaves the step graph. */
interface UnitSteps {
  first: string;
  /** Absent when the mode starts nothing (cleanup, reprotect): then nothing waits for dependencies. */
  gate?: string;
  last: string;
  stop?: string;
}

export function expand(
  source: RunbookSource,
  rb: Runbook,
  ordering: Ordering,
  mode: Mode,
  options: ExpandOptions = {},
): { expansion?: Expansion; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const chainMode = mode === 'tabletop' ? TABLETOP_OF : mode;
  const failover = FAILOVER_MODES.includes(chainMode);
  /** Steps whose onFailure the runbook sets at some level: past the point of no return the others pause. */
  const explicitOnFailure = new Set<string>();
  const swap = mode === 'failback';
  const fromSite = swap ? rb.sites.recovery : rb.sites.protected;
  const toSite = swap ? rb.sites.protected : rb.sites.recovery;
  const maxParallel = rb.maxParallel ?? 100;
  const sites: Record<string, PlanSite> = {};
  for (const role of ['protected', 'recovery'] as const)
    sites[rb.sites[role].name] = planSite(rb.sites[role], role, maxParallel);
  const siteOf = (role: 'source' | 'target'): Site => (role === 'source' ? fromSite : toSite);
  const customRoleSite = (s: CustomStep): Site => (s.site === 'protected' ? fromSite : toSite);

  const steps: PlanStep[] = [];
  const byId = new Map<string, PlanStep>();
  const add = (step: PlanStep): PlanStep => {
    steps.push(step);
    byId.set(step.id, step);
    return step;
  };
  const dependOn = (stepId: string, depId: string) => {
    const step = byId.get(stepId)!;
    if (stepId !== depId && !step.dependsOn.includes(depId)) step.dependsOn.push(depId);
  };
  const barrier = (id: string, path: PathSegment[]) =>
    add({
      id,
      kind: 'barrier',
      site: toSite.name,
      dependsOn: [],
      params: {},
      timeoutMs: 0,
      retry: { ...DEFAULT_RETRY, maximumAttempts: 1 },
      onFailure: 'abort',
      estimateMs: 0,
      source: source.locate(path),
    });
  const runsIn = (s: CustomStep) => {
    const modes = s.modes ?? DEFAULT_CUSTOM_MODES;
    return modes.includes(mode) || (mode === 'tabletop' && modes.includes(TABLETOP_OF));
  };
  const unsupported = (site: Site, provider: ProviderName, kind: StepKind, path: PathSegment[], what: string) =>
    diagnostics.push(
      source.diagnostic(
        'provider/unsupported',
        path,
        `${mode} needs "${kind}" for ${what} on site ${site.name}, but the ${provider} provider cannot do it`,
        provider === site.provider
          ? `run this plan in another mode, or use a provider that supports ${kind} for site ${site.name}`
          : `the workload says \`provider: ${provider}\`: run this plan in another mode, or leave out what needs ${kind}`,
      ),
    );

  const unitSteps = new Map<UnitId, UnitSteps>();
  const single = (id: string): UnitSteps => ({ first: id, gate: id, last: id });

  unitSteps.set('ps', single(barrier('plan/start', ['steps']).id));
  if (failover) barrier(POINT_OF_NO_RETURN, ['groups']);
  const restores: string[] = [];
  /** A workload's custom step may wait for a workload expanded after it: resolved once all exist. */
  const lateDeps: [string, string][] = [];
  const lasts: string[] = [];

  // Custom steps at plan and group level: a step when it runs in this mode, else a pass-through barrier.
  for (const [unit, c] of ordering.custom) {
    const id = `${c.owner}/${c.step.name}`;
    const levels = [rb.defaults, c.group ? rb.groups.find((g) => g.name === c.group)?.defaults : undefined];
    if (runsIn(c.step)) add(customStep(id, c.step, c.path, levels, customRoleSite(c.step).name, c.group));
    else barrier(id, c.path);
    unitSteps.set(unit, single(id));
  }

  rb.groups.forEach((g, gi) => {
    unitSteps.set(`gs:${g.name}`, single(barrier(`${g.name}/start`, ['groups', gi]).id));
    unitSteps.set(`gd:${g.name}`, single(barrier(`${g.name}/done`, ['groups', gi]).id));
    g.workloads.forEach((w, wi) => {
      const wPath: PathSegment[] = ['groups', gi, 'workloads', wi];
      const chain = workloadChain(w, g, wPath);
      if (chain.length === 0) return;
      for (let i = 1; i < chain.length; i++) dependOn(chain[i]!.id, chain[i - 1]!.id);
      const ids = chain.map((c) => c.id);
      const us: UnitSteps = { first: ids[0]!, last: ids[ids.length - 1]! };
      const gate = chain.find((c) => c.phase === 'start')?.id;
      if (gate) us.gate = gate;
      const stop = chain.find((c) => c.phase === 'stop');
      if (stop) us.stop = stop.id;
      unitSteps.set(`w:${w.name}`, us);
      lasts.push(us.last);
      // A copy restored into the test network waits for it; one whose provider has no networks does not.
      if (supports(providerOf(w, toSite), 'createTestNetwork'))
        for (const c of chain) if (byId.get(c.id)!.kind === 'restore') restores.push(c.id);
    });
  });
  for (const p of ordering.priorities) unitSteps.set(`p:${p}`, single(barrier(`priority-${p}/done`, []).id));
  unitSteps.set('pe', single(barrier('plan/end', ['groups']).id));

  // Forward order: every edge of the ordering graph becomes a step dependency.
  for (const e of ordering.edges) {
    const from = unitSteps.get(e.from);
    const to = unitSteps.get(e.to);
    const waiter = e.target === 'first' ? from?.first : from?.gate;
    if (waiter && to) dependOn(waiter, to.last);
  }

  for (const [stepId, name] of lateDeps) {
    const to = unitSteps.get(ordering.doneUnit.get(name) ?? '');
    if (to) dependOn(stepId, to.last);
  }

  // Stop order: shutdowns and power-offs go in reverse, dependents first (web, then app, then database).
  if ([...unitSteps.values()].some((u) => u.stop)) {
    const reverse = new Map<UnitId, string>();
    const stopOf = (u: UnitId): string | undefined => {
      if (u.startsWith('w:')) return unitSteps.get(u)?.stop;
      if (!/^(gs|gd|p):/.test(u)) return undefined;
      if (!reverse.has(u)) {
        const name = u.slice(u.indexOf(':') + 1);
        const id = u.startsWith('p:')
          ? `priority-${name}/stop-begin`
          : u.startsWith('gs:')
            ? `${name}/stopped`
            : `${name}/stop-begin`;
        reverse.set(u, barrier(id, []).id);
      }
      return reverse.get(u);
    };
    for (const e of ordering.edges) {
      if (!e.ordering) continue;
      const waiter = stopOf(e.to);
      const waited = stopOf(e.from);
      if (waiter && waited) dependOn(waiter, waited);
    }
  }

  // The isolated test network exists before any test copy is restored into it, and goes last in cleanup.
  const testNetKind =
    chainMode === 'test' ? 'createTestNetwork' : chainMode === 'cleanup' ? 'removeTestNetwork' : undefined;
  // A test whose copies all live outside networks (PostgreSQL) makes none; cleanup removes it whatever the
  // runbook says now, so a network left by an earlier version of it goes too.
  const testNetNeeded = testNetKind === 'removeTestNetwork' || restores.length > 0;
  if (testNetKind && testNetNeeded && supports(toSite.provider, testNetKind)) {
    const net = add({
      ...builtinPolicy('testNetwork', [rb.defaults]),
      id: 'plan/test-network',
      kind: testNetKind,
      site: toSite.name,
      dependsOn: [],
      params: { network: toSite.testNetwork ?? 'drover-test' },
      source: source.locate(['sites', swap ? 'protected' : 'recovery']),
    });
    if (testNetKind === 'createTestNetwork') {
      net.compensation = compensationOf(net, 'removeTestNetwork');
      dependOn(net.id, 'plan/start');
      for (const r of restores) dependOn(r, net.id);
    } else {
      for (const l of lasts) dependOn(net.id, l);
      dependOn('plan/end', net.id);
    }
  }

  // Readiness: the plan-level checks, beside each workload's replication check.
  if (mode === 'readiness') {
    const check = (id: string, site: Site, params: JsonObject, path: PathSegment[]) => {
      const step = add({
        ...builtinPolicy('preCheck', [rb.defaults]),
        id,
        kind: 'preCheck',
        site: site.name,
        dependsOn: [],
        params,
        source: source.locate(path),
      });
      dependOn(step.id, 'plan/start');
      dependOn('plan/end', step.id);
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
      .map((c, i) => ({ c, i }))
      .filter(({ c }) => c.approval)
      .map(({ c }) => ({
        step: `plan/${c.name}`,
        approvers: c.approval!.approvers,
        required: c.approval!.required ?? 1,
      }));
    check('plan/approvers', toSite, { check: 'approvers', approvals }, ['steps']);
    for (const st of steps) {
      if (st.kind === 'preCheck' && st.workload) {
        const w = workloads.find((x) => x.name === st.workload)!;
        st.params = { ...st.params, check: 'replication', rpoMs: ms(w.objectives?.rpo) ?? ms(rb.objectives.rpo) ?? 0 };
      }
    }
  }

  const pruned = pruneBarriers(steps);
  const ordered = topologicalOrder(pruned);
  if (!ordered) {
    const deps = new Map(pruned.map((s) => [s.id, s.dependsOn]));
    for (const cycle of findCycles(
      pruned.map((s) => s.id),
      (id) => deps.get(id) ?? [],
      1,
    )) {
      const first = byId.get(cycle[0]!)!;
      diagnostics.push({
        ...source.diagnostic(
          'graph/cycle',
          [],
          `in ${mode} mode the steps form a cycle: ${cycle.join(' → ')}`,
          'a custom step anchored inside a workload waits for something that waits for that workload: change its `at` or `dependsOn`',
        ),
        line: first.source.line,
        column: first.source.column,
      });
    }
    return { diagnostics };
  }
  if (FAILOVER_MODES.includes(mode)) markRecovery(ordered);
  const final =
    mode === 'tabletop' ? ordered.map(toTabletop) : mode === 'readiness' ? ordered.map(toReadiness) : ordered;
  const cp = longestPath(final, (s) => s.estimateMs);
  const rtoMs = ms(rb.objectives.rto) ?? 0;
  const expansion: Expansion = {
    from: fromSite.name,
    to: toSite.name,
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

  /**
   * Past the point of no return (every step that waits for it): kept when the run stops, undone only by
   * `drover rollback`; a failure there pauses for a person unless the runbook says what to do.
   */
  function markRecovery(ordered: PlanStep[]): void {
    const past = new Set<string>([POINT_OF_NO_RETURN]);
    for (const st of ordered) {
      if (!st.dependsOn.some((d) => past.has(d))) continue;
      past.add(st.id);
      if (st.kind === 'barrier') continue;
      st.recovery = true;
      if (!explicitOnFailure.has(st.id)) st.onFailure = 'pause';
    }
  }

  // ---- helpers that close over the runbook and mode ----

  function workloadChain(w: Workload, g: Group, wPath: PathSegment[]): { id: string; phase: Phase }[] {
    const templates = MODE_CHAINS[chainMode].filter((t) => !t.when || t.when(w));
    const chain: { id: string; phase: Phase; action?: ActionName }[] = [];
    if (providerOf(w, toSite) === 'postgres')
      for (const p of postgresModeProblems(w, chainMode))
        diagnostics.push(
          source.diagnostic('provider/settings', [...wPath, ...p.path], p.message, p.hint, { key: true }),
        );
    for (const t of templates) {
      const site = siteOf(t.role);
      const provider = providerOf(w, site);
      if (!supports(provider, t.kind)) {
        // Test mode's "replicate recent changes first" is optional, as in SRM; everywhere else it is needed.
        if (!(chainMode === 'test' && t.action === 'sync'))
          unsupported(site, provider, t.kind, wPath, `workload ${w.name}`);
        continue;
      }
      const step = add(builtinStep(w, g, t, site, wPath));
      chain.push({ id: step.id, phase: t.phase, action: t.action });
    }
    // Workload custom steps, at their anchors, in the order written.
    const custom = (w.steps ?? [])
      .map((s, i) => ({ s, path: [...wPath, 'steps', i] as PathSegment[] }))
      .filter(({ s }) => runsIn(s));
    for (const { s, path } of custom) {
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
          diagnostics.push(
            source.diagnostic(
              'step/anchor',
              [...path, 'at'],
              `step "${s.name}" runs ${at}, but workload ${w.name} has no ${action} action in ${mode} mode`,
              `anchor it to an action of this mode (${
                chain
                  .filter((c) => c.action)
                  .map((c) => c.action)
                  .join(', ') || 'none'
              }), or limit its \`modes\``,
            ),
          );
          continue;
        }
        index = side === 'before' ? anchor : anchor + 1;
      }
      const neighbour = chain[side === 'before' ? index : index - 1];
      const step = add(
        customStep(
          `${w.name}/${s.name}`,
          s,
          path,
          [rb.defaults, g.defaults, w.defaults],
          customRoleSite(s).name,
          g.name,
          w.name,
        ),
      );
      chain.splice(index, 0, { id: step.id, phase: neighbour?.phase ?? 'prepare' });
      for (const name of s.dependsOn ?? []) lateDeps.push([step.id, name]);
    }
    // No workload is promoted until every source is stopped, fenced and synced for the last time.
    const promote = chain.findIndex((c) => c.action === 'promote');
    if (failover && promote >= 0) {
      dependOn(chain[promote]!.id, POINT_OF_NO_RETURN);
      if (promote > 0) dependOn(POINT_OF_NO_RETURN, chain[promote - 1]!.id);
    }
    return chain;
  }

  function builtinStep(w: Workload, g: Group, t: ActionTemplate, site: Site, wPath: PathSegment[]): PlanStep {
    const override = w.actions?.[t.action];
    const levels = [rb.defaults, g.defaults, w.defaults];
    const policy = builtinPolicy(t.action, levels, override);
    if ([...levels, override].some((l) => l?.onFailure !== undefined)) explicitOnFailure.add(`${w.name}/${t.action}`);
    if (mode === 'cleanup' && policy.onFailure === 'abort') policy.onFailure = 'continue';
    if (chainMode === 'disaster-recovery' && t.role === 'source') {
      // Best effort at a site that may be gone: one short attempt, then go on.
      policy.onFailure = 'continue';
      policy.retry = { ...policy.retry, maximumAttempts: 1 };
    }
    const step: PlanStep = {
      id: `${w.name}/${t.action}`,
      kind: t.kind,
      site: site.name,
      workload: w.name,
      group: g.name,
      dependsOn: [],
      params: builtinParams(w, t, site),
      ...policy,
      source: source.locate(override ? [...wPath, 'actions', t.action] : wPath),
    };
    if (t.compensation && mode !== 'tabletop') step.compensation = compensationOf(step, t.compensation);
    return step;
  }

  function builtinPolicy(action: ActionName, levels: (Defaults | undefined)[], override?: StepPolicy) {
    const p = resolvePolicy([...levels, override]);
    let estimateMs = DEFAULT_ESTIMATES[action];
    for (const l of levels) estimateMs = ms(l?.estimates?.[action]) ?? estimateMs;
    estimateMs = ms(override?.estimate) ?? estimateMs;
    return { ...p, estimateMs };
  }

  function builtinParams(w: Workload, t: ActionTemplate, site: Site): JsonObject {
    const params: Record<string, unknown> = { workload: w.name, type: w.type ?? 'vm' };
    // A workload recovered by another provider than its site's: the activity picks it by `params.provider`.
    const provider = providerOf(w, site);
    if (provider !== site.provider) params.provider = provider;
    const settings = w[provider];
    if (settings) params.settings = settings;
    // The copy a step acts on: test and cleanup work on the copy in the isolated test network.
    const testNetwork = toSite.testNetwork ?? 'drover-test';
    const isolated = chainMode === 'test' || chainMode === 'cleanup';
    params.network = t.role === 'target' && isolated ? testNetwork : 'production';
    switch (t.kind) {
      case 'syncReplication':
        params.to = toSite.name;
        // A switchover loses nothing: the last sync must prove the replica reached the source's last position.
        if (t.action === 'finalSync' && chainMode !== 'disaster-recovery') params.proveCaughtUp = true;
        break;
      case 'promote':
        if (chainMode === 'disaster-recovery') {
          // A failover states what it loses: an older point than the RPO needs a person's approval.
          params.recoveryPoint = 'latest';
          params.rpoMs = ms(w.objectives?.rpo) ?? ms(rb.objectives.rpo) ?? 0;
        } else params.recoveryPoint = 'final-sync';
        break;
      case 'snapshot':
        params.quiesce = w.quiesce ?? false;
        break;
      case 'restore':
        params.recoveryPoint = isolated ? 'snapshot' : chainMode === 'disaster-recovery' ? 'latest' : 'final-sync';
        // A test copy that can go back in time goes to the one asked for (`--recovery-point`).
        if (chainMode === 'test' && options.recoveryPoint && POINT_IN_TIME_TEST_COPIES.has(provider))
          params.recoveryPoint = options.recoveryPoint;
        break;
      case 'customizeNetwork':
        params.networkMapping = w.network ?? {};
        break;
      case 'waitReady':
        params.readiness = { type: 'heartbeat', ...(w.readiness ?? {}) };
        break;
      case 'validate':
        params.checks = w.validations ?? [];
        break;
      case 'reverseReplication':
        params.to = fromSite.name;
        break;
    }
    return params as JsonObject;
  }

  function customStep(
    id: string,
    s: CustomStep,
    path: PathSegment[],
    levels: (Defaults | undefined)[],
    site: string,
    group?: string,
    workload?: string,
  ): PlanStep {
    const kind = (['command', 'http', 'prompt', 'approval', 'wait'] as const).find((k) => s[k] !== undefined)!;
    const policy = resolvePolicy([...levels, s]);
    if ([...levels, s].some((l) => l?.onFailure !== undefined)) explicitOnFailure.add(id);
    const params = {
      name: s.name,
      ...(s.description ? { description: s.description } : {}),
      ...(s[kind] as object),
    } as Record<string, unknown>;
    let estimateMs = ms(s.estimate) ?? DEFAULT_CUSTOM_ESTIMATES[kind] ?? 0;
    if (kind === 'wait') estimateMs = ms(s.wait!.duration) ?? 0;
    if (kind === 'approval') {
      params.required = s.approval!.required ?? 1;
      params.onTimeout = s.approval!.onTimeout ?? 'reject';
      Object.assign(params, approvalSigning(s.approval!, rb.approvers));
      policy.timeoutMs = ms(s.approval!.timeout) ?? DEFAULT_APPROVAL_TIMEOUT_MS;
      delete params.timeout;
    }
    if (kind === 'prompt') {
      policy.timeoutMs = ms(s.prompt!.timeout) ?? 0;
      delete params.timeout;
    }
    if (kind === 'wait') params.durationMs = ms(s.wait!.duration) ?? 0;
    if (mode === 'cleanup' && policy.onFailure === 'abort') policy.onFailure = 'continue';
    const step: PlanStep = {
      id,
      kind,
      site,
      dependsOn: [],
      params: params as JsonObject,
      ...policy,
      estimateMs,
      source: source.locate(path),
    };
    if (group) step.group = group;
    if (workload) step.workload = workload;
    const comp = s.compensation;
    if (comp && comp !== 'none' && mode !== 'tabletop') {
      const ck = comp.command ? 'command' : 'http';
      const cp = resolvePolicy([...levels, { timeout: comp.timeout, retry: comp.retry } as StepPolicy]);
      step.compensation = {
        kind: ck,
        params: { name: `undo ${s.name}`, ...(comp[ck] as object) } as JsonObject,
        timeoutMs: cp.timeoutMs,
        retry: cp.retry,
      };
    }
    return step;
  }
}

/**
 * Who must sign an approval: the public keys of its approvers who declared one (`approvers:` of the
 * runbook), and whether a decision counts without a signature (`signatures`, default `required` when
 * every approver has a key). The engine reads both (workflows/engine.ts `decisionProblem`).
 */
export function approvalSigning(
  a: { approvers: string[]; signatures?: 'required' | 'optional' },
  declared: Record<string, { publicKey: string }> | undefined,
): { signatures?: 'required' | 'optional'; keys?: Record<string, string> } {
  const keys: Record<string, string> = {};
  for (const name of a.approvers) {
    const key = declared?.[name]?.publicKey;
    if (typeof key === 'string') keys[name] = key;
  }
  // Without keys or a word on it, nothing is said: the decision counts unsigned, as it always has.
  if (Object.keys(keys).length === 0 && !a.signatures) return {};
  const all = a.approvers.length > 0 && a.approvers.every((n) => keys[n] !== undefined);
  return { signatures: a.signatures ?? (all ? 'required' : 'optional'), keys };
}
