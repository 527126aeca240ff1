/**
 * What the phases of expansion (expand.ts) share: the `Expander`, one mode's expansion in progress (the
 * runbook, the mode and its sites, the steps and diagnostics so far), and how one step is made from the
 * runbook: a built-in action of a workload (its policy and params), or a custom step (`steps:`).
 */
import type { Diagnostic } from './diagnostics';
import { parseDuration } from './durations';
import { FAILOVER_MODES } from '../contracts/plan';
import type { JsonObject, Mode, PlanStep } from '../contracts/plan';
import { POINT_IN_TIME_TEST_COPIES, providerOf } from './providers';
import {
  DEFAULT_APPROVAL_TIMEOUT_MS,
  DEFAULT_CUSTOM_ESTIMATES,
  DEFAULT_CUSTOM_MODES,
  DEFAULT_ESTIMATES,
  DEFAULT_RETRY,
  TABLETOP_OF,
} from './modes';
import type { ActionTemplate } from './modes';
import type { ActionName, CustomStep, Defaults, Group, Runbook, Site, StepPolicy, Workload } from './runbook';
import type { PathSegment, RunbookSource } from './source';
import { compensationOf, resolvePolicy } from './steps';

export const ms = (d: string | undefined): number | undefined => (d === undefined ? undefined : parseDuration(d));

export interface ExpandOptions {
  /** Test mode: the time test copies that can go back in time (POINT_IN_TIME_TEST_COPIES) are restored to. */
  recoveryPoint?: string;
}

/** One mode's expansion in progress: what every phase reads, and the steps and diagnostics it adds to. */
export interface Expander {
  readonly source: RunbookSource;
  readonly rb: Runbook;
  readonly mode: Mode;
  /** The mode whose action chains are used: tabletop rehearses TABLETOP_OF. */
  readonly chainMode: Exclude<Mode, 'tabletop'>;
  /** Whether the chains are a failover's (they then pass the point of no return). */
  readonly failover: boolean;
  /** Failback: from the recovery site back to the protected one. */
  readonly swap: boolean;
  readonly fromSite: Site;
  readonly toSite: Site;
  readonly options: ExpandOptions;
  readonly diagnostics: Diagnostic[];
  /** Every step, in the order added: the topological order keeps it where dependencies allow. */
  readonly steps: PlanStep[];
  readonly byId: Map<string, PlanStep>;
  /** Steps whose onFailure the runbook sets at some level: past the point of no return the others pause. */
  readonly explicitOnFailure: Set<string>;
  add(step: PlanStep): PlanStep;
  /** Makes `stepId` wait for `depId`, once (never for itself). */
  dependOn(stepId: string, depId: string): void;
  /** A step that does nothing, where edges meet (plan start and end, groups, priorities). */
  barrier(id: string, path: PathSegment[]): PlanStep;
}

export function newExpander(source: RunbookSource, rb: Runbook, mode: Mode, options: ExpandOptions): Expander {
  const chainMode = mode === 'tabletop' ? TABLETOP_OF : mode;
  const swap = mode === 'failback';
  const toSite = swap ? rb.sites.protected : rb.sites.recovery;
  const steps: PlanStep[] = [];
  const byId = new Map<string, PlanStep>();
  const add = (step: PlanStep): PlanStep => {
    steps.push(step);
    byId.set(step.id, step);
    return step;
  };
  return {
    source,
    rb,
    mode,
    chainMode,
    failover: FAILOVER_MODES.includes(chainMode),
    swap,
    fromSite: swap ? rb.sites.recovery : rb.sites.protected,
    toSite,
    options,
    diagnostics: [],
    steps,
    byId,
    explicitOnFailure: new Set<string>(),
    add,
    dependOn: (stepId, depId) => {
      const step = byId.get(stepId)!;
      if (stepId !== depId && !step.dependsOn.includes(depId)) step.dependsOn.push(depId);
    },
    barrier: (id, path) =>
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
      }),
  };
}

/** Whether a custom step runs in this mode (tabletop rehearses the steps of TABLETOP_OF). */
export function runsIn(x: Expander, s: CustomStep): boolean {
  const modes = s.modes ?? DEFAULT_CUSTOM_MODES;
  return modes.includes(x.mode) || (x.mode === 'tabletop' && modes.includes(TABLETOP_OF));
}

/** A built-in action of a workload, at `site`, with its policy from every level of the runbook. */
export function builtinStep(
  x: Expander,
  w: Workload,
  g: Group,
  t: ActionTemplate,
  site: Site,
  wPath: PathSegment[],
): PlanStep {
  const override = w.actions?.[t.action];
  const levels = [x.rb.defaults, g.defaults, w.defaults];
  const policy = builtinPolicy(t.action, levels, override);
  if ([...levels, override].some((l) => l?.onFailure !== undefined)) x.explicitOnFailure.add(`${w.name}/${t.action}`);
  if (x.mode === 'cleanup' && policy.onFailure === 'abort') policy.onFailure = 'continue';
  if (x.chainMode === 'disaster-recovery' && t.role === 'source') {
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
    params: builtinParams(x, w, t, site),
    ...policy,
    source: x.source.locate(override ? [...wPath, 'actions', t.action] : wPath),
  };
  if (t.compensation && x.mode !== 'tabletop') step.compensation = compensationOf(step, t.compensation);
  return step;
}

/** Timeout, retry and onFailure from the levels (and the action's override), and the action's estimate. */
export function builtinPolicy(action: ActionName, levels: (Defaults | undefined)[], override?: StepPolicy) {
  const p = resolvePolicy([...levels, override]);
  let estimateMs = DEFAULT_ESTIMATES[action];
  for (const l of levels) estimateMs = ms(l?.estimates?.[action]) ?? estimateMs;
  estimateMs = ms(override?.estimate) ?? estimateMs;
  return { ...p, estimateMs };
}

/** What a built-in action's activity needs to know, by step kind. */
function builtinParams(x: Expander, w: Workload, t: ActionTemplate, site: Site): JsonObject {
  const { chainMode, toSite } = x;
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
        params.rpoMs = ms(w.objectives?.rpo) ?? ms(x.rb.objectives.rpo) ?? 0;
      } else params.recoveryPoint = 'final-sync';
      break;
    case 'snapshot':
      params.quiesce = w.quiesce ?? false;
      break;
    case 'restore':
      params.recoveryPoint = isolated ? 'snapshot' : chainMode === 'disaster-recovery' ? 'latest' : 'final-sync';
      // A test copy that can go back in time goes to the one asked for (`--recovery-point`).
      if (chainMode === 'test' && x.options.recoveryPoint && POINT_IN_TIME_TEST_COPIES.has(provider))
        params.recoveryPoint = x.options.recoveryPoint;
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
      params.to = x.fromSite.name;
      break;
  }
  return params as JsonObject;
}

/**
 * A custom step (`command`, `http`, `prompt`, `approval` or `wait`) at the site its `site` names, with its
 * policy from `levels` and itself, and its compensation; `group` and `workload` when it belongs to one.
 */
export function customStep(
  x: Expander,
  id: string,
  s: CustomStep,
  path: PathSegment[],
  levels: (Defaults | undefined)[],
  group?: string,
  workload?: string,
): PlanStep {
  const kind = (['command', 'http', 'prompt', 'approval', 'wait'] as const).find((k) => s[k] !== undefined)!;
  const policy = resolvePolicy([...levels, s]);
  if ([...levels, s].some((l) => l?.onFailure !== undefined)) x.explicitOnFailure.add(id);
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
    Object.assign(params, approvalSigning(s.approval!, x.rb.approvers));
    policy.timeoutMs = ms(s.approval!.timeout) ?? DEFAULT_APPROVAL_TIMEOUT_MS;
    delete params.timeout;
  }
  if (kind === 'prompt') {
    policy.timeoutMs = ms(s.prompt!.timeout) ?? 0;
    delete params.timeout;
  }
  if (kind === 'wait') params.durationMs = ms(s.wait!.duration) ?? 0;
  if (x.mode === 'cleanup' && policy.onFailure === 'abort') policy.onFailure = 'continue';
  const step: PlanStep = {
    id,
    kind,
    site: (s.site === 'protected' ? x.fromSite : x.toSite).name,
    dependsOn: [],
    params: params as JsonObject,
    ...policy,
    estimateMs,
    source: x.source.locate(path),
  };
  if (group) step.group = group;
  if (workload) step.workload = workload;
  const comp = s.compensation;
  if (comp && comp !== 'none' && x.mode !== 'tabletop') {
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
